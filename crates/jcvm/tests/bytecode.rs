//! Bytecode-level tests of the interpreter with hand-assembled methods (JCVM Spec 3.0.5 §7):
//! short arithmetic wraps, division by zero throws ArithmeticException, handler tables catch
//! by class and superclass and across frames (`finally` = catch type 0), stack limits, jumps
//! out of the method, bad constant pool indices, array bounds and null, the bytecode budget,
//! int bytecodes without the CAP's int flag, and JCSystem transactions (abort rolls back, a
//! torn write leaves the pre-transaction state).
//!
//! The package around the methods is the Wallet CAP's (its imports: 0 = javacard.framework,
//! 1 = java.lang) with the Method, ConstantPool, Descriptor and StaticField components
//! replaced.

use jcvm::asm;
use jcvm::cap::{ClassRef, CpEntry, StaticRef};
use jcvm::heap::{Slot, Value};
use jcvm::jcre::MemEnv;
use jcvm::natives::Throw;
use jcvm::vm::Vm;
use jcvm::CapFile;

/// One method: max_stack, nargs, max_locals, bytecode.
struct M(u8, u8, u8, Vec<u8>);

/// A handler: method index, try start and length (relative to the method's code), handler
/// (relative), catch type (constant pool index, 0 = any).
struct H(usize, u16, u16, u16, u16);

fn template() -> CapFile {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/jcsim-wallet.cap"
    ))
    .unwrap();
    CapFile::from_zip(&b).unwrap()
}

const ARITH: CpEntry = CpEntry::ClassRef(ClassRef::External {
    package_token: 1,
    class_token: 9,
});
const RUNTIME: CpEntry = CpEntry::ClassRef(ClassRef::External {
    package_token: 1,
    class_token: 3,
});
const NPE: CpEntry = CpEntry::ClassRef(ClassRef::External {
    package_token: 1,
    class_token: 7,
});
const BEGIN: CpEntry = CpEntry::StaticMethodRef(StaticRef::External {
    package_token: 0,
    class_token: 8,
    token: 1,
});
const ABORT: CpEntry = CpEntry::StaticMethodRef(StaticRef::External {
    package_token: 0,
    class_token: 8,
    token: 0,
});
const COMMIT: CpEntry = CpEntry::StaticMethodRef(StaticRef::External {
    package_token: 0,
    class_token: 8,
    token: 2,
});

fn build(
    methods: &[M],
    cp: impl Fn(&[u16]) -> Vec<CpEntry>,
    handlers: &[H],
    int: bool,
) -> (Vm, Vec<u16>) {
    let (cap, offs) = assemble(methods, cp, handlers, int);
    (Vm::load(cap, &[0xA0, 0, 0, 0, 1], &[]).unwrap(), offs)
}

fn assemble(
    methods: &[M],
    cp: impl Fn(&[u16]) -> Vec<CpEntry>,
    handlers: &[H],
    int: bool,
) -> (CapFile, Vec<u16>) {
    let methods: Vec<asm::Method> = methods
        .iter()
        .map(|m| asm::Method {
            max_stack: m.0,
            nargs: m.1,
            max_locals: m.2,
            code: m.3.clone(),
        })
        .collect();
    let handlers: Vec<asm::Handler> = handlers
        .iter()
        .map(|h| asm::Handler {
            method: h.0,
            start: h.1,
            length: h.2,
            handler: h.3,
            catch_type: h.4,
        })
        .collect();
    asm::package(template(), &methods, cp, &handlers, int)
}

fn run1(m: M, int: bool, args: &[Slot]) -> Result<Option<Value>, String> {
    let (mut vm, offs) = build(&[m], |_| vec![ARITH], &[], int);
    let mut env = MemEnv::new();
    let r = vm.call_static(&mut env, 0, offs[0], args);
    outcome(&vm, r)
}

/// `Ok(value)` or `Err(exception class name)`, `Err("fault XXXX")`.
fn outcome(vm: &Vm, r: Result<Option<Value>, Throw>) -> Result<Option<Value>, String> {
    match r {
        Ok(v) => Ok(v),
        Err(Throw::Object(id)) => match vm.class_of(id) {
            Some(jcvm::heap::ClassId::Api(c)) => Err(jcvm::api::class_name(c).to_string()),
            c => Err(format!("{c:?}")),
        },
        Err(Throw::Fault(sw)) => Err(format!("fault {sw:04X}")),
        Err(t) => Err(format!("{t:?}")),
    }
}

fn short(v: i16) -> Result<Option<Value>, String> {
    Ok(Some(Value::Short(v)))
}

#[test]
fn short_arithmetic_wraps() {
    // sspush 7FFF; sconst_1; sadd; sreturn
    assert_eq!(
        run1(
            M(2, 0, 0, vec![0x11, 0x7F, 0xFF, 0x04, 0x41, 0x78]),
            false,
            &[]
        ),
        short(i16::MIN)
    );
    // sspush 8000; sconst_m1; sdiv; sreturn: MIN / -1 wraps to MIN
    assert_eq!(
        run1(
            M(2, 0, 0, vec![0x11, 0x80, 0x00, 0x02, 0x47, 0x78]),
            false,
            &[]
        ),
        short(i16::MIN)
    );
    // sspush 4000; sconst_4; smul → 0 (16-bit wrap)
    assert_eq!(
        run1(
            M(2, 0, 0, vec![0x11, 0x40, 0x00, 0x07, 0x45, 0x78]),
            false,
            &[]
        ),
        short(0)
    );
    // sconst_m1; bspush 4; sushr: the short is sign-extended to int first (0x0FFFFFFF → FFFF)
    assert_eq!(
        run1(M(2, 0, 0, vec![0x02, 0x10, 0x04, 0x51, 0x78]), false, &[]),
        short(-1)
    );
    // s2b of 0x0180 → -128
    assert_eq!(
        run1(M(1, 0, 0, vec![0x11, 0x01, 0x80, 0x5B, 0x78]), false, &[]),
        short(-128)
    );
}

#[test]
fn int_arithmetic_and_the_int_flag() {
    // iipush 7FFFFFFF; iconst_1; iadd; ireturn → MIN
    let m = || {
        M(
            4,
            0,
            0,
            vec![0x14, 0x7F, 0xFF, 0xFF, 0xFF, 0x0A + 1, 0x42, 0x79],
        )
    };
    assert_eq!(run1(m(), true, &[]), Ok(Some(Value::Int(i32::MIN))));
    // Without the CAP's int flag an int bytecode is refused.
    assert_eq!(
        run1(m(), false, &[]),
        Err("java/lang/SecurityException".into())
    );
    // idiv by zero
    assert_eq!(
        run1(M(4, 0, 0, vec![0x0B, 0x0A, 0x48, 0x79]), true, &[]),
        Err("java/lang/ArithmeticException".into())
    );
}

#[test]
fn sdiv_and_srem_by_zero_throw_arithmetic_exception() {
    assert_eq!(
        run1(M(2, 0, 0, vec![0x04, 0x03, 0x47, 0x78]), false, &[]),
        Err("java/lang/ArithmeticException".into())
    );
    assert_eq!(
        run1(M(2, 0, 0, vec![0x04, 0x03, 0x49, 0x78]), false, &[]),
        Err("java/lang/ArithmeticException".into())
    );
}

#[test]
fn handlers_catch_by_class_superclass_and_finally() {
    // 0: sconst_1 sconst_0 sdiv sreturn | 4: pop bspush 42 sreturn
    let code = || vec![0x04, 0x03, 0x47, 0x78, 0x3B, 0x10, 42, 0x78];
    // cp: 0 NullPointerException, 1 ArithmeticException, 2 RuntimeException.
    let cp = |_: &[u16]| vec![NPE, ARITH, RUNTIME];
    for (catch, want) in [
        (0u16, short(42)), // finally: any
        (1, short(42)),    // the class itself
        (2, short(42)),    // a superclass
    ] {
        let (mut vm, offs) = build(&[M(2, 0, 0, code())], cp, &[H(0, 0, 4, 4, catch)], false);
        assert_eq!(call(&mut vm, offs[0]), want, "catch type {catch}");
    }
    // A handler for NullPointerException does not catch it …
    let (mut vm, offs) = build(
        &[M(2, 0, 0, code())],
        |_| vec![ARITH, NPE],
        &[H(0, 0, 4, 4, 1)],
        false,
    );
    assert_eq!(
        call(&mut vm, offs[0]),
        Err("java/lang/ArithmeticException".into())
    );
    // … the next one in the table that matches does.
    let (mut vm, offs) = build(
        &[M(2, 0, 0, code())],
        |_| vec![ARITH, NPE],
        &[H(0, 0, 4, 4, 1), H(0, 0, 4, 4, 0)],
        false,
    );
    assert_eq!(call(&mut vm, offs[0]), short(42));
    // A handler whose range does not cover the throwing instruction does not apply.
    let (mut vm, offs) = build(&[M(2, 0, 0, code())], cp, &[H(0, 0, 2, 4, 0)], false);
    assert_eq!(
        call(&mut vm, offs[0]),
        Err("java/lang/ArithmeticException".into())
    );
}

fn call(vm: &mut Vm, off: u16) -> Result<Option<Value>, String> {
    let r = vm.call_static(&mut MemEnv::new(), 0, off, &[]);
    outcome(vm, r)
}

#[test]
fn exceptions_unwind_across_frames() {
    // m0: invokestatic m1; sreturn | 4: pop bspush 7 sreturn  (handler over the call)
    // m1: sconst_1 sconst_0 sdiv sreturn
    let m0 = M(2, 0, 0, vec![0x8D, 0x00, 0x01, 0x78, 0x3B, 0x10, 7, 0x78]);
    let m1 = M(2, 0, 0, vec![0x04, 0x03, 0x47, 0x78]);
    let (mut vm, offs) = build(
        &[m0, m1],
        |o| vec![ARITH, CpEntry::StaticMethodRef(StaticRef::Internal(o[1]))],
        &[H(0, 0, 4, 4, 0)],
        false,
    );
    assert_eq!(call(&mut vm, offs[0]), short(7));
}

#[test]
fn stack_limits_jumps_and_constant_pool_indices_are_checked() {
    let sec = Err("java/lang/SecurityException".to_string());
    // Overflow: max_stack 1, two pushes.
    assert_eq!(run1(M(1, 0, 0, vec![0x03, 0x03, 0x78]), false, &[]), sec);
    // Underflow: sadd on an empty stack; pop on an empty stack.
    assert_eq!(run1(M(2, 0, 0, vec![0x41, 0x78]), false, &[]), sec);
    assert_eq!(run1(M(2, 0, 0, vec![0x3B, 0x7A]), false, &[]), sec);
    // Jumps before and after the method; running off its end.
    assert_eq!(run1(M(1, 0, 0, vec![0x70, 0xF0]), false, &[]), sec);
    assert_eq!(run1(M(1, 0, 0, vec![0x70, 0x10, 0x7A]), false, &[]), sec);
    assert_eq!(run1(M(1, 0, 0, vec![0x03]), false, &[]), sec);
    // Constant pool index 0x00FF of a 1-entry pool.
    assert_eq!(
        run1(M(1, 0, 0, vec![0x8D, 0x00, 0xFF, 0x7A]), false, &[]),
        sec
    );
    // Ill-typed: sreturn of a reference; local 3 of a 1-local frame.
    assert_eq!(run1(M(1, 0, 0, vec![0x01, 0x78]), false, &[]), sec);
    assert_eq!(run1(M(1, 0, 1, vec![0x1F, 0x78]), false, &[]), sec);
    // An undefined opcode.
    assert_eq!(run1(M(1, 0, 0, vec![0xFE]), false, &[]), sec);
}

#[test]
fn a_bad_reflocation_index_refuses_the_cap() {
    let mut cap = template();
    let l = cap.ref_location.byte2_indices[0] as usize;
    cap.method.info[l] = 0x7F;
    let e = Vm::load(cap, &[0xA0, 0, 0, 0, 1], &[]).err().unwrap();
    assert!(e.contains("RefLocation byte2_index"), "{e}");
}

#[test]
fn arrays_bounds_and_null() {
    // sconst_2 newarray byte; bspush 5; baload
    let m = |i: u8| M(3, 0, 0, vec![0x05, 0x90, 11, 0x10, i, 0x25, 0x78]);
    assert_eq!(run1(m(1), false, &[]), short(0));
    assert_eq!(
        run1(m(2), false, &[]),
        Err("java/lang/ArrayIndexOutOfBoundsException".into())
    );
    assert_eq!(
        run1(m(0xFF), false, &[]),
        Err("java/lang/ArrayIndexOutOfBoundsException".into())
    );
    // bastore out of bounds
    assert_eq!(
        run1(
            M(4, 0, 0, vec![0x05, 0x90, 11, 0x05, 0x04, 0x38, 0x7A]),
            false,
            &[]
        ),
        Err("java/lang/ArrayIndexOutOfBoundsException".into())
    );
    // aconst_null arraylength
    assert_eq!(
        run1(M(1, 0, 0, vec![0x01, 0x92, 0x78]), false, &[]),
        Err("java/lang/NullPointerException".into())
    );
    // negative size
    assert_eq!(
        run1(M(1, 0, 0, vec![0x02, 0x90, 11, 0x7A]), false, &[]),
        Err("java/lang/NegativeArraySizeException".into())
    );
}

#[test]
fn a_looping_method_is_stopped_by_the_budget() {
    let (mut vm, offs) = build(
        &[M(1, 0, 0, vec![0x00, 0x70, 0xFF])],
        |_| vec![ARITH],
        &[],
        false,
    );
    vm.budget = 10_000;
    assert_eq!(call(&mut vm, offs[0]), Err("fault 6F00".into()));
    assert!(vm.last_fault.as_deref().unwrap_or("").contains("budget"));
}

/// sconst_1 newarray byte astore_0 | invokestatic begin | aload_0 sconst_0 bspush 5 bastore |
/// invokestatic END | aload_0 sconst_0 baload sreturn
fn tx_method() -> M {
    M(
        3,
        0,
        1,
        vec![
            0x04, 0x90, 11, 0x2B, 0x8D, 0x00, 0x00, 0x18, 0x03, 0x10, 5, 0x38, 0x8D, 0x00, 0x01,
            0x18, 0x03, 0x25, 0x78,
        ],
    )
}

#[test]
fn abort_transaction_rolls_back_commit_keeps() {
    for (end, want) in [(ABORT, 0), (COMMIT, 5)] {
        let (mut vm, offs) = build(&[tx_method()], |_| vec![BEGIN, end], &[], false);
        let mut env = MemEnv::new();
        let r = vm.call_static(&mut env, 0, offs[0], &[]);
        assert_eq!(outcome(&vm, r), short(want));
        assert!(!jcvm::vm::Env::in_transaction(&env));
    }
}

#[test]
fn a_torn_write_inside_a_transaction_leaves_the_state_before_it() {
    // Tear at each write: the NV after a power cycle is either the state before the method
    // (no array) or, once committed, the array with 5.
    for k in 0..4u64 {
        let (mut vm, offs) = build(&[tx_method()], |_| vec![BEGIN, COMMIT], &[], false);
        let mut env = MemEnv::new();
        env.tear_in = Some(k);
        let r = vm.call_static(&mut env, 0, offs[0], &[]);
        env.power_cycle();
        let arrays: Vec<Vec<u8>> = env
            .nv
            .iter()
            .filter(|(k, _)| k.starts_with('o'))
            .map(|(_, v)| v.clone())
            .collect();
        match r {
            Ok(_) => assert!(arrays.iter().any(|a| a.ends_with(&[5]))),
            Err(Throw::Fault(0x6581)) => {
                // Torn: the array may exist (written before begin) but holds 0.
                assert!(
                    arrays.iter().all(|a| a.ends_with(&[0])),
                    "tear at {k}: {arrays:?}"
                );
            }
            Err(e) => panic!("tear at {k}: {e:?}"),
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

    /// Random bytecode (random opcodes and operands, random frame limits, handlers and a
    /// constant pool of every kind) never panics: it returns, throws a Java exception, or
    /// is stopped by the budget.
    #[test]
    fn random_bytecode_never_panics(
        code in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..48),
        stack in 0u8..8, nargs in 0u8..3, locals in 0u8..4,
        handler in proptest::option::of((0u16..48, 0u16..48, 0u16..48, 0u16..6)),
        int in proptest::prelude::any::<bool>(),
    ) {
        let n = code.len() as u16;
        let hs: Vec<H> = handler
            .map(|(s, l, h, c)| vec![H(0, s % n, l % (n - s % n + 1), h % n, c)])
            .unwrap_or_default();
        let (mut vm, offs) = build(
            &[M(stack, nargs, locals, code), M(2, 0, 0, vec![0x04, 0x78])],
            |o| vec![ARITH, BEGIN, ABORT, COMMIT, CpEntry::StaticMethodRef(StaticRef::Internal(o[1])), RUNTIME],
            &hs,
            int,
        );
        vm.budget = 5_000;
        let args: Vec<Slot> = (0..nargs).map(|i| if i == 0 { Slot::R(None) } else { Slot::S(i as i16) }).collect();
        let _ = vm.call_static(&mut MemEnv::new(), 0, offs[0], &args);
    }
}

#[test]
fn stableswitch_over_the_whole_short_range() {
    // Found by the jcvm_interp fuzz target: low = -32768 made `key - low` overflow a short.
    // sspush -32767; stableswitch default +11, low -32768, high -32767, targets +11, +13;
    // 14: sconst_0 sreturn; 16: sconst_1 sreturn. The key is the second entry.
    let code = vec![
        0x11, 0x80, 0x01, 0x73, 0x00, 0x0B, 0x80, 0x00, 0x80, 0x01, 0x00, 0x0B, 0x00, 0x0D, 0x03,
        0x78, 0x04, 0x78,
    ];
    assert_eq!(run1(M(1, 0, 0, code), false, &[]), short(1));
    // The fuzzer's input itself (a truncated table): an exception, never a panic.
    let code = vec![0x05, 0x73, 0x00, 0x04, 0x80, 0x00, 0x2C, 0x00];
    assert!(run1(M(4, 0, 0, code), false, &[]).is_err());
}
