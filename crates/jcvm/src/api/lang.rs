//! Natives of `java.lang` (JC API Spec 3.0.5: `Object`, `Throwable` and the exceptions):
//! constructors and `Object.equals`.

use crate::heap::Value;
use crate::natives::{Native, Throw};
use crate::vm::{Env, Vm};

fn nothing(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> Result<Option<Value>, Throw> {
    Ok(None)
}

/// `Object.equals(Object)`: reference equality.
fn equals(_: &mut Vm, _: &mut dyn Env, a: &[Value]) -> Result<Option<Value>, Throw> {
    Ok(Some(Value::Short((a[0].obj() == a[1].obj()) as i16)))
}

macro_rules! ctor {
    ($c:literal) => {
        ($c, "<init>", "()V", nothing as crate::natives::NativeFn)
    };
}

/// The `java.lang` natives.
pub const NATIVES: &[Native] = &[
    ctor!("java/lang/Object"),
    (
        "java/lang/Object",
        "equals",
        "(Ljava/lang/Object;)Z",
        equals,
    ),
    ctor!("java/lang/Throwable"),
    ctor!("java/lang/Exception"),
    ctor!("java/lang/RuntimeException"),
    ctor!("java/lang/ArithmeticException"),
    ctor!("java/lang/ArrayIndexOutOfBoundsException"),
    ctor!("java/lang/ArrayStoreException"),
    ctor!("java/lang/ClassCastException"),
    ctor!("java/lang/IndexOutOfBoundsException"),
    ctor!("java/lang/NegativeArraySizeException"),
    ctor!("java/lang/NullPointerException"),
    ctor!("java/lang/SecurityException"),
];
