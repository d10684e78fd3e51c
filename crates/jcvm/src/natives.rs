//! The native-method seam: how bytecode reaches the Rust implementation of the Java Card
//! API (JCVM Spec 3.0.5 §4.3.7 tokens, §6.8 constant pool; JC API Spec 3.0.5).
//!
//! # How to add natives (note for the `api::crypto` implementer)
//!
//! * **Lookup.** A CAP names an API method by *imported package token + class token +
//!   method token* (`CONSTANT_StaticMethodref` for static methods and constructors,
//!   `CONSTANT_VirtualMethodref`/`SuperMethodref`, or an interface method token of
//!   `invokeinterface`). The linker maps the package token to the package AID (Import
//!   component) and, with the generated token table [`crate::api::tokens`], turns the tokens
//!   into `(class name, method name, descriptor)`, e.g.
//!   `("javacard/security/MessageDigest", "getInstance", "(BZ)Ljavacard/security/MessageDigest;")`.
//!   [`lookup`] then finds the [`NativeFn`] in the tables of [`TABLES`]: one
//!   `&[Native]` per area. A crypto table is one `pub const NATIVES: &[Native]` in
//!   `api/crypto/mod.rs`, added to [`TABLES`] (the one line marked below).
//! * **Virtual and interface calls** on an object whose class is an API class `C` (an
//!   object a native created with [`crate::vm::Vm::new_native_object`]) are resolved to the
//!   name + descriptor of the token in the class or interface the constant pool names, then
//!   looked up as `(C, name, desc)`, then along `C`'s superclasses, then as
//!   `(named class or interface, name, desc)` and its superinterfaces. So a key object of
//!   class `javacard/security/RSAPrivateCrtKey` may register `getSize` under `…/Key`.
//!   Static-method natives get the arguments only; virtual ones get `this` as `args[0]`.
//! * **Arguments** are typed [`Value`]s in declaration order (`byte`, `short`, `boolean` as
//!   [`Value::Short`], `int` as [`Value::Int`], references as [`Value::Ref`]); the result is
//!   `Ok(None)` for `void`, else `Ok(Some(value))`.
//! * **Arrays.** A `byte[]` argument is a reference; read it with
//!   [`crate::vm::Vm::bytes`] (null → NullPointerException, firewall → SecurityException),
//!   bounds-check with [`crate::vm::Vm::bytes_range`] (ArrayIndexOutOfBoundsException),
//!   write with [`crate::vm::Vm::write_bytes`] (persistent arrays are written through NV,
//!   inside the applet's transaction when one is open).
//! * **Native state.** An API object carries Rust state in its [`NativePeer`]
//!   (`Body::Instance { peer, .. }` of [`crate::heap`]). Crypto objects use
//!   [`NativePeer::Crypto`] ([`CryptoPeer`]: an algorithm/kind code, persistent byte
//!   fields (key components: written to NV, zeroized on drop) and transient byte fields
//!   (cipher/digest working state: lost at reset)). Create one with
//!   [`crate::vm::Vm::new_native_object`], read it with [`crate::vm::Vm::peer`], change it
//!   with [`crate::vm::Vm::set_peer`] (one atomic NV write when persistent).
//! * **Exceptions.** A native throws with `Err(Throw::java(class, reason))`, e.g.
//!   `Err(Throw::java(CRYPTO_EXCEPTION, CryptoException::ILLEGAL_VALUE))`: the VM throws
//!   the JCRE-owned singleton of that API class with the reason, which bytecode may catch
//!   (`catch (CryptoException e)`, or any superclass). Uncaught, an `ISOException` answers
//!   its reason as the status word; every other exception answers 6F00.
//! * **Randomness, transactions** come from the card through [`crate::vm::Env`]
//!   (`env.random(&mut buf)`).

use crate::heap::Value;
use crate::vm::{Env, Vm};
use zeroize::Zeroize;

/// A native method: the VM, the card environment, the arguments (`this` first for
/// instance methods); `Ok(None)` for `void`.
pub type NativeFn = fn(&mut Vm, &mut dyn Env, &[Value]) -> Result<Option<Value>, Throw>;

/// One native: `(class, method name, descriptor, implementation)`.
pub type Native = (&'static str, &'static str, &'static str, NativeFn);

/// The native tables searched by [`lookup`], in order.
pub const TABLES: &[&[Native]] = &[
    crate::api::lang::NATIVES,
    crate::api::framework::NATIVES,
    crate::api::crypto::NATIVES,
    crate::api::toolkit::NATIVES,
    crate::api::toolkit::UICC_NATIVES,
];

/// The native implementing `class.name desc`.
pub fn lookup(class: &str, name: &str, desc: &str) -> Option<NativeFn> {
    static MAP: std::sync::OnceLock<
        std::collections::HashMap<(&'static str, &'static str, &'static str), NativeFn>,
    > = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|(c, n, d, f)| ((*c, *n, *d), *f))
            .collect()
    })
    .get(&(class, name, desc))
    .copied()
}

/// `java.lang.ArithmeticException`.
pub const ARITHMETIC_EXCEPTION: &str = "java/lang/ArithmeticException";
/// `java.lang.ArrayIndexOutOfBoundsException`.
pub const ARRAY_INDEX_EXCEPTION: &str = "java/lang/ArrayIndexOutOfBoundsException";
/// `java.lang.ArrayStoreException`.
pub const ARRAY_STORE_EXCEPTION: &str = "java/lang/ArrayStoreException";
/// `java.lang.ClassCastException`.
pub const CLASS_CAST_EXCEPTION: &str = "java/lang/ClassCastException";
/// `java.lang.NegativeArraySizeException`.
pub const NEGATIVE_ARRAY_SIZE_EXCEPTION: &str = "java/lang/NegativeArraySizeException";
/// `java.lang.NullPointerException`.
pub const NULL_POINTER_EXCEPTION: &str = "java/lang/NullPointerException";
/// `java.lang.SecurityException` (firewall violations, JCRE Spec §6.2.8; also ill-typed
/// bytecode, which a verifier would have refused).
pub const SECURITY_EXCEPTION: &str = "java/lang/SecurityException";
/// `javacard.framework.ISOException`.
pub const ISO_EXCEPTION: &str = "javacard/framework/ISOException";
/// `javacard.framework.APDUException`.
pub const APDU_EXCEPTION: &str = "javacard/framework/APDUException";
/// `javacard.framework.PINException`.
pub const PIN_EXCEPTION: &str = "javacard/framework/PINException";
/// `javacard.framework.SystemException`.
pub const SYSTEM_EXCEPTION: &str = "javacard/framework/SystemException";
/// `javacard.framework.TransactionException`.
pub const TRANSACTION_EXCEPTION: &str = "javacard/framework/TransactionException";
/// `javacard.framework.UserException`.
pub const USER_EXCEPTION: &str = "javacard/framework/UserException";
/// `javacard.security.CryptoException`.
pub const CRYPTO_EXCEPTION: &str = "javacard/security/CryptoException";

/// Why execution stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Throw {
    /// Throw the JCRE-owned instance of API exception class `class` with `reason`.
    Java {
        /// Fully qualified API class name.
        class: &'static str,
        /// Reason code (`getReason()`).
        reason: i16,
    },
    /// Throw this exception object (`athrow`).
    Object(crate::heap::ObjId),
    /// The card stops the command with this status word (NV lost (6581), bytecode budget
    /// spent (6F00), VM-internal failure); nothing of the applet can catch it.
    Fault(u16),
    /// The applet waits for the terminal (`sim.toolkit.ProactiveHandler.send`, TS 43.019
    /// §6.5): its frames are kept in the VM and the entry ends; the card resumes them with
    /// [`crate::vm::Vm::resume_toolkit`]. Nothing of the applet can catch it.
    Suspend,
}

impl Throw {
    /// Throw API exception `class` with `reason`.
    pub fn java(class: &'static str, reason: i16) -> Throw {
        Throw::Java { class, reason }
    }

    /// `NullPointerException`.
    pub fn npe() -> Throw {
        Throw::java(NULL_POINTER_EXCEPTION, 0)
    }

    /// `ArrayIndexOutOfBoundsException`.
    pub fn bounds() -> Throw {
        Throw::java(ARRAY_INDEX_EXCEPTION, 0)
    }

    /// `SecurityException`.
    pub fn security() -> Throw {
        Throw::java(SECURITY_EXCEPTION, 0)
    }
}

/// The Rust state of an API object.
#[derive(Debug, Clone, PartialEq)]
pub enum NativePeer {
    /// `Throwable` subclasses: the reason (`CardException`/`CardRuntimeException`).
    Reason(i16),
    /// `javacard.framework.AID`: its bytes.
    Aid(Vec<u8>),
    /// `javacard.framework.OwnerPIN`.
    Pin(PinPeer),
    /// A `javacard.framework.APDU` object (its state is the VM's [`crate::vm::ApduState`]).
    Apdu,
    /// A `javacard.security` / `javacardx.crypto` object.
    Crypto(CryptoPeer),
    /// A `sim.toolkit` registry or handler object ([`crate::api::toolkit::kind`]).
    Toolkit(u8),
    /// A proxy for a Shareable interface object of another applet instance
    /// ([`crate::sio`]).
    Shareable(crate::sio::RemoteObject),
    /// A placeholder for an object of another VM: nothing here may touch it
    /// ([`crate::sio::FOREIGN_CONTEXT`]).
    Foreign,
}

/// The state of an `OwnerPIN` (JC API `OwnerPIN`): try limit, maximum size, the PIN value,
/// the tries left; `validated` is transient (JCRE Spec: cleared at reset and deselect).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PinPeer {
    /// `tryLimit`.
    pub try_limit: u8,
    /// `maxPINSize`.
    pub max_size: u8,
    /// PIN value (`update`); empty until set.
    pub pin: Vec<u8>,
    /// Tries remaining.
    pub tries: u8,
    /// Validated flag (transient).
    pub validated: bool,
}

impl Drop for PinPeer {
    fn drop(&mut self) {
        self.pin.zeroize();
    }
}

/// The state of a crypto API object, owned by `api::crypto`: what it is (`kind`, e.g. an
/// algorithm or key type code of that module's choosing), byte fields that persist (key
/// components, sizes: written to NV with the object) and byte fields that do not (an
/// initialised cipher's working state: cleared at reset). All bytes are zeroized on drop.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CryptoPeer {
    /// Kind code (the crypto module's).
    pub kind: u16,
    /// Persistent fields.
    pub persistent: Vec<Vec<u8>>,
    /// Transient fields (not written to NV; empty after a reset).
    pub transient: Vec<Vec<u8>>,
}

impl Drop for CryptoPeer {
    fn drop(&mut self) {
        self.persistent.iter_mut().for_each(|v| v.zeroize());
        self.transient.iter_mut().for_each(|v| v.zeroize());
    }
}

impl NativePeer {
    /// The NV encoding (transient parts left out).
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let lv = |b: &mut Vec<u8>, v: &[u8]| {
            b.extend_from_slice(&(v.len() as u32).to_be_bytes());
            b.extend_from_slice(v);
        };
        match self {
            NativePeer::Reason(r) => {
                b.push(0);
                b.extend_from_slice(&r.to_be_bytes());
            }
            NativePeer::Aid(a) => {
                b.push(1);
                lv(&mut b, a);
            }
            NativePeer::Pin(p) => {
                b.push(2);
                b.extend_from_slice(&[p.try_limit, p.max_size, p.tries]);
                lv(&mut b, &p.pin);
            }
            NativePeer::Apdu => b.push(3),
            NativePeer::Toolkit(k) => b.extend_from_slice(&[5, *k]),
            NativePeer::Shareable(r) => {
                b.push(6);
                lv(&mut b, &r.owner);
                b.extend_from_slice(&r.obj.to_be_bytes());
                b.extend_from_slice(&(r.interfaces.len() as u32).to_be_bytes());
                for i in &r.interfaces {
                    lv(&mut b, &i.package);
                    b.push(i.token);
                }
            }
            NativePeer::Foreign => b.push(7),
            NativePeer::Crypto(c) => {
                b.push(4);
                b.extend_from_slice(&c.kind.to_be_bytes());
                b.extend_from_slice(&(c.persistent.len() as u32).to_be_bytes());
                for f in &c.persistent {
                    lv(&mut b, f);
                }
            }
        }
        b
    }

    /// Decodes [`NativePeer::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<NativePeer, String> {
        let mut c = crate::heap::Cur { b: bytes, p: 0 };
        let p = match c.u8()? {
            0 => NativePeer::Reason(c.u16()? as i16),
            1 => {
                let n = c.u32()? as usize;
                NativePeer::Aid(c.take(n)?.to_vec())
            }
            2 => {
                let h = c.take(3)?;
                let (try_limit, max_size, tries) = (h[0], h[1], h[2]);
                let n = c.u32()? as usize;
                NativePeer::Pin(PinPeer {
                    try_limit,
                    max_size,
                    tries,
                    pin: c.take(n)?.to_vec(),
                    validated: false,
                })
            }
            3 => NativePeer::Apdu,
            6 => {
                let n = c.u32()? as usize;
                let owner = c.take(n)?.to_vec();
                let obj = c.u32()?;
                let k = c.u32()? as usize;
                let mut interfaces = Vec::with_capacity(k.min(64));
                for _ in 0..k {
                    let n = c.u32()? as usize;
                    let package = c.take(n)?.to_vec();
                    interfaces.push(crate::sio::GlobalClass {
                        package,
                        token: c.u8()?,
                    });
                }
                NativePeer::Shareable(crate::sio::RemoteObject {
                    owner,
                    obj,
                    interfaces,
                })
            }
            7 => NativePeer::Foreign,
            4 => {
                let kind = c.u16()?;
                let n = c.u32()? as usize;
                let mut persistent = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    let l = c.u32()? as usize;
                    persistent.push(c.take(l)?.to_vec());
                }
                NativePeer::Crypto(CryptoPeer {
                    kind,
                    persistent,
                    transient: Vec::new(),
                })
            }
            5 => NativePeer::Toolkit(c.u8()?),
            t => return Err(format!("native peer tag {t}")),
        };
        if c.p != bytes.len() {
            return Err(format!(
                "{} trailing bytes in a native peer",
                bytes.len() - c.p
            ));
        }
        Ok(p)
    }
}
