//! The `javacard.security` / `javacardx.crypto` natives (JC API Spec 3.0.5): the glue from
//! the VM's calls (typed [`Value`] arguments, Java arrays, native peers) to this module's
//! plain-Rust objects. Each crypto object's state lives in its [`CryptoPeer`] as bytes
//! (kind codes below): keys keep their components in the persistent part (transient keys in
//! the transient part), Cipher/Signature/MessageDigest keep their working state in the
//! transient part (lost at reset: they must be initialized again, the algorithm stays).
//! A [`CryptoError`] becomes `CryptoException.throwIt(reason)` or
//! `ArrayIndexOutOfBoundsException`.

use super::cipher::Cipher;
use super::digest::MessageDigest;
use super::keys::{self, Component, Key, KeyBuilder, KeyKind, KeyMemory};
use super::random::RandomData;
use super::signature::Signature;
use super::{keypair, CryptoError};
use crate::heap::{ObjId, Value};
use crate::natives::{CryptoPeer, Native, NativeFn, NativePeer, Throw, CRYPTO_EXCEPTION};
use crate::vm::{self, Env, Vm};

type R = Result<Option<Value>, Throw>;

/// Peer kind: a key object.
pub const KIND_KEY: u16 = 1;
/// Peer kind: a `Cipher`.
pub const KIND_CIPHER: u16 = 2;
/// Peer kind: a `Signature`.
pub const KIND_SIGNATURE: u16 = 3;
/// Peer kind: a `MessageDigest`.
pub const KIND_DIGEST: u16 = 4;
/// Peer kind: a `RandomData`.
pub const KIND_RANDOM: u16 = 5;
/// Peer kind: a `KeyPair` (the object ids of its public and private key).
pub const KIND_KEYPAIR: u16 = 6;

fn thrown(e: CryptoError) -> Throw {
    match e {
        CryptoError::Crypto { reason, .. } => Throw::java(CRYPTO_EXCEPTION, reason.code() as i16),
        CryptoError::ArrayIndexOutOfBounds(_) => Throw::bounds(),
    }
}

fn short(v: i16) -> R {
    Ok(Some(Value::Short(v)))
}

fn obj(r: ObjId) -> R {
    Ok(Some(Value::Ref(Some(r))))
}

/// `len` bytes of a byte array from `off`, copied (the output may be the same array).
fn input(vm: &Vm, a: Value, off: Value, len: Value) -> Result<Vec<u8>, Throw> {
    Ok(vm.bytes_range(a.obj(), off.short(), len.short())?.to_vec())
}

/// Room in a byte array from `off` (ArrayIndexOutOfBounds when `off` is outside).
fn room(vm: &Vm, a: Value, off: Value) -> Result<Vec<u8>, Throw> {
    let b = vm.bytes(a.obj())?;
    let off = off.short();
    if off < 0 || off as usize > b.len() {
        return Err(Throw::bounds());
    }
    Ok(vec![0u8; b.len() - off as usize])
}

fn peer(vm: &Vm, r: Value, kind: u16) -> Result<&CryptoPeer, Throw> {
    match vm.peer(r.obj())? {
        NativePeer::Crypto(c) if c.kind == kind => Ok(c),
        _ => Err(Throw::java(CRYPTO_EXCEPTION, 1)),
    }
}

fn corrupt(vm: &mut Vm, what: String) -> Throw {
    vm.fault(format!("crypto object state: {what}"))
}

fn part(p: &[Vec<u8>], i: usize) -> &[u8] {
    p.get(i).map(|v| v.as_slice()).unwrap_or_default()
}

// ---- keys ------------------------------------------------------------------------------

fn load_key(vm: &mut Vm, r: Value) -> Result<Key, Throw> {
    let p = peer(vm, r, KIND_KEY)?;
    let k = Key::from_parts(part(&p.persistent, 0), part(&p.transient, 0));
    k.map_err(|e| corrupt(vm, e))
}

fn store_key(vm: &mut Vm, env: &mut dyn Env, r: Value, key: &Key) -> Result<(), Throw> {
    let (p, t) = key.to_parts();
    let peer = NativePeer::Crypto(CryptoPeer {
        kind: KIND_KEY,
        persistent: vec![p.to_vec()],
        transient: vec![t.to_vec()],
    });
    if key.memory() == KeyMemory::Persistent {
        vm.set_peer(env, r.obj(), peer)
    } else {
        *vm.peer_mut_transient(r.obj())? = peer;
        Ok(())
    }
}

/// The API class of a key object.
fn key_class(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Des => "javacard/security/DESKey",
        KeyKind::Aes => "javacard/security/AESKey",
        KeyKind::RsaPublic => "javacard/security/RSAPublicKey",
        KeyKind::RsaPrivate => "javacard/security/RSAPrivateKey",
        KeyKind::RsaCrtPrivate => "javacard/security/RSAPrivateCrtKey",
        KeyKind::EcFpPublic => "javacard/security/ECPublicKey",
        KeyKind::EcFpPrivate => "javacard/security/ECPrivateKey",
    }
}

fn new_key(vm: &mut Vm, env: &mut dyn Env, key: &Key) -> Result<ObjId, Throw> {
    let (p, t) = key.to_parts();
    let peer = NativePeer::Crypto(CryptoPeer {
        kind: KIND_KEY,
        persistent: vec![p.to_vec()],
        transient: vec![t.to_vec()],
    });
    vm.new_native_object(env, key_class(key.kind()), peer)
}

fn build_key(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = KeyBuilder::build_key(a[0].short() as u8, a[1].short() as u16, a[2].bool())
        .map_err(thrown)?;
    obj(new_key(vm, env, &k)?)
}

/// `buildKey(algorithmicKeyType, keyMemoryType, keyLength, keyEncryption)` (JC 3.0.4+).
fn build_key_mem(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (alg, mem) = (a[0].short(), a[1].short());
    // ALG_TYPE_* x JCSystem.MEMORY_TYPE_{PERSISTENT, TRANSIENT_RESET, TRANSIENT_DESELECT}.
    let ty = match (alg, mem) {
        (1, 0) => keys::TYPE_DES,
        (1, 1) => keys::TYPE_DES_TRANSIENT_RESET,
        (1, 2) => keys::TYPE_DES_TRANSIENT_DESELECT,
        (2, 0) => keys::TYPE_AES,
        (2, 1) => keys::TYPE_AES_TRANSIENT_RESET,
        (2, 2) => keys::TYPE_AES_TRANSIENT_DESELECT,
        (7, 0) => keys::TYPE_EC_FP_PUBLIC,
        (8, 0) => keys::TYPE_EC_FP_PRIVATE,
        (8, 1) => keys::TYPE_EC_FP_PRIVATE_TRANSIENT_RESET,
        (8, 2) => keys::TYPE_EC_FP_PRIVATE_TRANSIENT_DESELECT,
        (11, 0) => keys::TYPE_RSA_PUBLIC,
        (12, 0) => keys::TYPE_RSA_PRIVATE,
        (12, 1) => keys::TYPE_RSA_PRIVATE_TRANSIENT_RESET,
        (12, 2) => keys::TYPE_RSA_PRIVATE_TRANSIENT_DESELECT,
        (13, 0) => keys::TYPE_RSA_CRT_PRIVATE,
        (13, 1) => keys::TYPE_RSA_CRT_PRIVATE_TRANSIENT_RESET,
        (13, 2) => keys::TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT,
        _ => return Err(Throw::java(CRYPTO_EXCEPTION, 3)),
    };
    let k = KeyBuilder::build_key(ty, a[2].short() as u16, a[3].bool()).map_err(thrown)?;
    obj(new_key(vm, env, &k)?)
}

fn key_clear(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut k = load_key(vm, a[0])?;
    k.clear_key();
    store_key(vm, env, a[0], &k)?;
    Ok(None)
}

fn key_size(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(load_key(vm, a[0])?.size() as i16)
}

fn key_type(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(load_key(vm, a[0])?.key_type()))
}

fn key_is_init(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(load_key(vm, a[0])?.is_initialized()))
}

/// `setKey(keyData, kOff)`: the key bytes from `kOff` on.
fn key_set_key(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut k = load_key(vm, a[0])?;
    let b = vm.bytes(a[1].obj())?;
    let off = a[2].short();
    if off < 0 || off as usize > b.len() {
        return Err(Throw::bounds());
    }
    let data = b[off as usize..].to_vec();
    k.set(Component::Key, &data).map_err(thrown)?;
    store_key(vm, env, a[0], &k)?;
    Ok(None)
}

fn set_component(c: Component, vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut k = load_key(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    k.set(c, &data).map_err(thrown)?;
    store_key(vm, env, a[0], &k)?;
    Ok(None)
}

fn get_component(c: Component, vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let k = load_key(vm, a[0])?;
    let mut out = room(vm, a[1], a[2])?;
    let n = k.get(c, &mut out).map_err(thrown)?;
    vm.write_bytes(env, a[1].obj(), a[2].short(), &out[..n])?;
    short(n as i16)
}

macro_rules! component {
    ($set:ident, $get:ident, $c:expr) => {
        fn $set(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
            set_component($c, vm, env, a)
        }
        fn $get(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
            get_component($c, vm, env, a)
        }
    };
}
component!(set_modulus, get_modulus, Component::Modulus);
component!(set_exponent, get_exponent, Component::Exponent);
component!(set_p, get_p, Component::P);
component!(set_q, get_q, Component::Q);
component!(set_dp1, get_dp1, Component::Dp1);
component!(set_dq1, get_dq1, Component::Dq1);
component!(set_pq, get_pq, Component::Pq);
component!(set_field, get_field, Component::Field);
component!(set_a, get_a, Component::A);
component!(set_b, get_b, Component::B);
component!(set_g, get_g, Component::G);
component!(set_r, get_r, Component::R);
component!(set_w, get_w, Component::W);
component!(set_s, get_s, Component::S);

fn get_key(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    get_component(Component::Key, vm, env, a)
}

fn set_k(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut k = load_key(vm, a[0])?;
    k.set_k(a[1].short() as u16).map_err(thrown)?;
    store_key(vm, env, a[0], &k)?;
    Ok(None)
}

fn get_k(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(load_key(vm, a[0])?.get_k().map_err(thrown)? as i16)
}

/// Binary fields (F2M) are not implemented: ILLEGAL_VALUE.
fn set_field_f2m(_: &mut Vm, _: &mut dyn Env, _: &[Value]) -> R {
    Err(Throw::java(CRYPTO_EXCEPTION, 1))
}

// ---- KeyPair ---------------------------------------------------------------------------

fn pair_ids(vm: &mut Vm, r: Value) -> Result<(ObjId, ObjId), Throw> {
    let p = peer(vm, r, KIND_KEYPAIR)?;
    let id = |b: &[u8]| <[u8; 4]>::try_from(b).ok().map(u32::from_be_bytes);
    match (id(part(&p.persistent, 0)), id(part(&p.persistent, 1))) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(corrupt(vm, "KeyPair key ids".into())),
    }
}

fn set_pair(vm: &mut Vm, env: &mut dyn Env, this: Value, public: ObjId, private: ObjId) -> R {
    let peer = NativePeer::Crypto(CryptoPeer {
        kind: KIND_KEYPAIR,
        persistent: vec![
            public.to_be_bytes().to_vec(),
            private.to_be_bytes().to_vec(),
        ],
        transient: Vec::new(),
    });
    vm.set_peer(env, this.obj(), peer)?;
    Ok(None)
}

fn keypair_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (public, private) =
        keypair::new_pair(a[1].short() as u8, a[2].short() as u16).map_err(thrown)?;
    let pu = new_key(vm, env, &public)?;
    let pr = new_key(vm, env, &private)?;
    set_pair(vm, env, a[0], pu, pr)
}

fn keypair_init_keys(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (Some(pu), Some(pr)) = (a[1].obj(), a[2].obj()) else {
        return Err(Throw::java(CRYPTO_EXCEPTION, 1));
    };
    let public = load_key(vm, a[1])?;
    let private = load_key(vm, a[2])?;
    keypair::check_pair(&public, &private).map_err(thrown)?;
    set_pair(vm, env, a[0], pu, pr)
}

fn keypair_gen(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let (pu, pr) = pair_ids(vm, a[0])?;
    let (pu, pr) = (Value::Ref(Some(pu)), Value::Ref(Some(pr)));
    let mut public = load_key(vm, pu)?;
    let mut private = load_key(vm, pr)?;
    let mut rng = |b: &mut [u8]| env.random(b);
    keypair::gen_key_pair(&mut public, &mut private, &mut rng).map_err(thrown)?;
    store_key(vm, env, pu, &public)?;
    store_key(vm, env, pr, &private)?;
    Ok(None)
}

fn keypair_public(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    obj(pair_ids(vm, a[0])?.0)
}

fn keypair_private(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    obj(pair_ids(vm, a[0])?.1)
}

// ---- engines: MessageDigest, RandomData, Signature, Cipher -------------------------------

/// Loads an engine object's state: the transient part when there is one, else the
/// persistent part (its algorithm, uninitialized).
fn load<T>(
    vm: &mut Vm,
    r: Value,
    kind: u16,
    decode: fn(&[u8]) -> Result<T, String>,
) -> Result<T, Throw> {
    let p = peer(vm, r, kind)?;
    let t = part(&p.transient, 0);
    let b = if t.is_empty() {
        part(&p.persistent, 0)
    } else {
        t
    };
    let v = decode(b);
    v.map_err(|e| corrupt(vm, e))
}

/// Stores an engine object's working state (memory only; transient).
fn store(vm: &mut Vm, r: Value, state: &[u8]) -> Result<(), Throw> {
    match vm.peer_mut_transient(r.obj())? {
        NativePeer::Crypto(c) => {
            c.transient = vec![state.to_vec()];
            Ok(())
        }
        _ => Err(Throw::security()),
    }
}

fn new_engine(vm: &mut Vm, env: &mut dyn Env, class: &str, kind: u16, state: &[u8]) -> R {
    let peer = NativePeer::Crypto(CryptoPeer {
        kind,
        persistent: vec![state.to_vec()],
        transient: Vec::new(),
    });
    obj(vm.new_native_object(env, class, peer)?)
}

fn md_get_instance(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let m = MessageDigest::get_instance(a[0].short() as u8).map_err(thrown)?;
    new_engine(
        vm,
        env,
        "javacard/security/MessageDigest",
        KIND_DIGEST,
        &m.encode(),
    )
}

fn md_load(vm: &mut Vm, r: Value) -> Result<MessageDigest, Throw> {
    load(vm, r, KIND_DIGEST, MessageDigest::decode)
}

fn md_update(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let mut m = md_load(vm, a[0])?;
    m.update(&input(vm, a[1], a[2], a[3])?);
    store(vm, a[0], &m.encode())?;
    Ok(None)
}

fn md_do_final(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut m = md_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let mut out = room(vm, a[4], a[5])?;
    let r = m.do_final(&data, &mut out);
    store(vm, a[0], &m.encode())?;
    let n = r.map_err(thrown)?;
    vm.write_bytes(env, a[4].obj(), a[5].short(), &out[..n])?;
    short(n as i16)
}

fn md_reset(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let mut m = md_load(vm, a[0])?;
    m.reset();
    store(vm, a[0], &m.encode())?;
    Ok(None)
}

fn md_algorithm(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(md_load(vm, a[0])?.algorithm()))
}

fn md_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(md_load(vm, a[0])?.length()))
}

fn rd_get_instance(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = RandomData::get_instance(a[0].short() as u8).map_err(thrown)?;
    new_engine(
        vm,
        env,
        "javacard/security/RandomData",
        KIND_RANDOM,
        &r.encode(),
    )
}

fn rd_generate(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let r = load(vm, a[0], KIND_RANDOM, RandomData::decode)?;
    let mut buf = input(vm, a[1], a[2], a[3])?;
    let mut rng = |b: &mut [u8]| env.random(b);
    r.generate_data(&mut rng, &mut buf).map_err(thrown)?;
    vm.write_bytes(env, a[1].obj(), a[2].short(), &buf)?;
    Ok(None)
}

fn rd_set_seed(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let mut r = load(vm, a[0], KIND_RANDOM, RandomData::decode)?;
    r.set_seed(&input(vm, a[1], a[2], a[3])?).map_err(thrown)?;
    store(vm, a[0], &r.encode())?;
    Ok(None)
}

fn sig_get_instance(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let s = Signature::get_instance(a[0].short() as u8).map_err(thrown)?;
    new_engine(
        vm,
        env,
        "javacard/security/Signature",
        KIND_SIGNATURE,
        &s.encode(),
    )
}

fn sig_get_instance3(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let alg =
        super::signature::algorithm_of(a[0].short() as u8, a[1].short() as u8, a[2].short() as u8)
            .map_err(thrown)?;
    let s = Signature::get_instance(alg).map_err(thrown)?;
    new_engine(
        vm,
        env,
        "javacard/security/Signature",
        KIND_SIGNATURE,
        &s.encode(),
    )
}

fn sig_load(vm: &mut Vm, r: Value) -> Result<Signature, Throw> {
    load(vm, r, KIND_SIGNATURE, Signature::decode)
}

fn sig_init_with(vm: &mut Vm, a: &[Value], iv: &[u8]) -> R {
    let mut s = sig_load(vm, a[0])?;
    if a[1].obj().is_none() {
        return Err(Throw::npe());
    }
    let key = load_key(vm, a[1])?;
    s.init(&key, a[2].short() as u8, iv).map_err(thrown)?;
    store(vm, a[0], &s.encode())?;
    Ok(None)
}

fn sig_init(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    sig_init_with(vm, a, &[])
}

fn sig_init_iv(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let iv = input(vm, a[3], a[4], a[5])?;
    sig_init_with(vm, a, &iv)
}

fn sig_update(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let mut s = sig_load(vm, a[0])?;
    s.update(&input(vm, a[1], a[2], a[3])?).map_err(thrown)?;
    store(vm, a[0], &s.encode())?;
    Ok(None)
}

fn sig_sign(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut s = sig_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let mut out = room(vm, a[4], a[5])?;
    let r = s.sign(&data, &mut out);
    store(vm, a[0], &s.encode())?;
    let n = r.map_err(thrown)?;
    vm.write_bytes(env, a[4].obj(), a[5].short(), &out[..n])?;
    short(n as i16)
}

fn sig_sign_hash(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut s = sig_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let mut out = room(vm, a[4], a[5])?;
    let r = s.sign_precomputed_hash(&data, &mut out);
    store(vm, a[0], &s.encode())?;
    let n = r.map_err(thrown)?;
    vm.write_bytes(env, a[4].obj(), a[5].short(), &out[..n])?;
    short(n as i16)
}

fn sig_verify(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let mut s = sig_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let sig = input(vm, a[4], a[5], a[6])?;
    let r = s.verify(&data, &sig);
    store(vm, a[0], &s.encode())?;
    short(i16::from(r.map_err(thrown)?))
}

fn sig_algorithm(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(sig_load(vm, a[0])?.algorithm()))
}

fn sig_length(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(sig_load(vm, a[0])?.length().map_err(thrown)? as i16)
}

fn cipher_new(vm: &mut Vm, env: &mut dyn Env, alg: u8) -> R {
    let c = Cipher::get_instance(alg).map_err(thrown)?;
    new_engine(vm, env, "javacardx/crypto/Cipher", KIND_CIPHER, &c.encode())
}

fn cipher_get_instance(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    cipher_new(vm, env, a[0].short() as u8)
}

fn cipher_get_instance2(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let alg =
        super::cipher::algorithm_of(a[0].short() as u8, a[1].short() as u8).map_err(thrown)?;
    cipher_new(vm, env, alg)
}

fn cipher_load(vm: &mut Vm, r: Value) -> Result<Cipher, Throw> {
    load(vm, r, KIND_CIPHER, Cipher::decode)
}

fn cipher_init_with(vm: &mut Vm, a: &[Value], iv: &[u8]) -> R {
    let mut c = cipher_load(vm, a[0])?;
    if a[1].obj().is_none() {
        return Err(Throw::npe());
    }
    let key = load_key(vm, a[1])?;
    c.init(&key, a[2].short() as u8, iv).map_err(thrown)?;
    store(vm, a[0], &c.encode())?;
    Ok(None)
}

fn cipher_init(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    cipher_init_with(vm, a, &[])
}

fn cipher_init_iv(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    let iv = input(vm, a[3], a[4], a[5])?;
    cipher_init_with(vm, a, &iv)
}

fn cipher_update(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut c = cipher_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let mut out = room(vm, a[4], a[5])?;
    let n = c.update(&data, &mut out).map_err(thrown)?;
    store(vm, a[0], &c.encode())?;
    vm.write_bytes(env, a[4].obj(), a[5].short(), &out[..n])?;
    short(n as i16)
}

fn cipher_do_final(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    let mut c = cipher_load(vm, a[0])?;
    let data = input(vm, a[1], a[2], a[3])?;
    let mut out = room(vm, a[4], a[5])?;
    let r = {
        let mut rng = |b: &mut [u8]| env.random(b);
        c.do_final(&data, &mut out, &mut rng)
    };
    store(vm, a[0], &c.encode())?;
    let n = r.map_err(thrown)?;
    vm.write_bytes(env, a[4].obj(), a[5].short(), &out[..n])?;
    short(n as i16)
}

fn cipher_algorithm(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(i16::from(cipher_load(vm, a[0])?.algorithm()))
}

// ---- CryptoException -------------------------------------------------------------------

fn exc_init(vm: &mut Vm, env: &mut dyn Env, a: &[Value]) -> R {
    vm.set_peer(env, a[0].obj(), NativePeer::Reason(a[1].short()))?;
    Ok(None)
}

fn exc_get_reason(vm: &mut Vm, _: &mut dyn Env, a: &[Value]) -> R {
    short(vm::reason_of(vm, a[0].obj()))
}

macro_rules! n {
    ($c:literal, $m:literal, $d:literal, $f:expr) => {
        (concat!("javacard/security/", $c), $m, $d, $f as NativeFn)
    };
}

macro_rules! table {
    (keys: [$($k:literal),*], ec: [$($e:literal),*], rsa: [$($r:literal),*], rest: [$($x:expr),* $(,)?]) => {
        &[
            $(
                n!($k, "clearKey", "()V", key_clear),
                n!($k, "getSize", "()S", key_size),
                n!($k, "getType", "()B", key_type),
                n!($k, "isInitialized", "()Z", key_is_init),
            )*
            $(
                n!($e, "setFieldFP", "([BSS)V", set_field),
                n!($e, "setFieldF2M", "(S)V", set_field_f2m),
                n!($e, "setFieldF2M", "(SSS)V", set_field_f2m),
                n!($e, "setA", "([BSS)V", set_a),
                n!($e, "setB", "([BSS)V", set_b),
                n!($e, "setG", "([BSS)V", set_g),
                n!($e, "setR", "([BSS)V", set_r),
                n!($e, "setK", "(S)V", set_k),
                n!($e, "getField", "([BS)S", get_field),
                n!($e, "getA", "([BS)S", get_a),
                n!($e, "getB", "([BS)S", get_b),
                n!($e, "getG", "([BS)S", get_g),
                n!($e, "getR", "([BS)S", get_r),
                n!($e, "getK", "()S", get_k),
            )*
            $(
                n!($r, "setModulus", "([BSS)V", set_modulus),
                n!($r, "setExponent", "([BSS)V", set_exponent),
                n!($r, "getModulus", "([BS)S", get_modulus),
                n!($r, "getExponent", "([BS)S", get_exponent),
            )*
            $($x),*
        ]
    };
}

/// The `javacard.security` / `javacardx.crypto` natives (the key methods under every key
/// interface an applet may name).
pub const NATIVES: &[Native] = table! {
    keys: [
        "Key", "SecretKey", "PublicKey", "PrivateKey", "DESKey", "AESKey", "RSAPublicKey",
        "RSAPrivateKey", "RSAPrivateCrtKey", "ECPublicKey", "ECPrivateKey"
    ],
    ec: ["ECKey", "ECPublicKey", "ECPrivateKey"],
    rsa: ["RSAPublicKey", "RSAPrivateKey"],
    rest: [
            n!("KeyBuilder", "buildKey", "(BSZ)Ljavacard/security/Key;", build_key),
        n!("KeyBuilder", "buildKey", "(BBSZ)Ljavacard/security/Key;", build_key_mem),
        n!("DESKey", "setKey", "([BS)V", key_set_key),
        n!("DESKey", "getKey", "([BS)B", get_key),
        n!("AESKey", "setKey", "([BS)V", key_set_key),
        n!("AESKey", "getKey", "([BS)B", get_key),
        n!("RSAPrivateCrtKey", "setP", "([BSS)V", set_p),
        n!("RSAPrivateCrtKey", "setQ", "([BSS)V", set_q),
        n!("RSAPrivateCrtKey", "setDP1", "([BSS)V", set_dp1),
        n!("RSAPrivateCrtKey", "setDQ1", "([BSS)V", set_dq1),
        n!("RSAPrivateCrtKey", "setPQ", "([BSS)V", set_pq),
        n!("RSAPrivateCrtKey", "getP", "([BS)S", get_p),
        n!("RSAPrivateCrtKey", "getQ", "([BS)S", get_q),
        n!("RSAPrivateCrtKey", "getDP1", "([BS)S", get_dp1),
        n!("RSAPrivateCrtKey", "getDQ1", "([BS)S", get_dq1),
        n!("RSAPrivateCrtKey", "getPQ", "([BS)S", get_pq),
        n!("ECPublicKey", "setW", "([BSS)V", set_w),
        n!("ECPublicKey", "getW", "([BS)S", get_w),
        n!("ECPrivateKey", "setS", "([BSS)V", set_s),
        n!("ECPrivateKey", "getS", "([BS)S", get_s),
        n!("KeyPair", "<init>", "(BS)V", keypair_init),
        n!(
            "KeyPair",
            "<init>",
            "(Ljavacard/security/PublicKey;Ljavacard/security/PrivateKey;)V",
            keypair_init_keys
        ),
        n!("KeyPair", "genKeyPair", "()V", keypair_gen),
        n!("KeyPair", "getPublic", "()Ljavacard/security/PublicKey;", keypair_public),
        n!("KeyPair", "getPrivate", "()Ljavacard/security/PrivateKey;", keypair_private),
        n!(
            "MessageDigest",
            "getInstance",
            "(BZ)Ljavacard/security/MessageDigest;",
            md_get_instance
        ),
        n!("MessageDigest", "update", "([BSS)V", md_update),
        n!("MessageDigest", "doFinal", "([BSS[BS)S", md_do_final),
        n!("MessageDigest", "reset", "()V", md_reset),
        n!("MessageDigest", "getAlgorithm", "()B", md_algorithm),
        n!("MessageDigest", "getLength", "()B", md_length),
        n!(
            "RandomData",
            "getInstance",
            "(B)Ljavacard/security/RandomData;",
            rd_get_instance
        ),
        n!("RandomData", "generateData", "([BSS)V", rd_generate),
        n!("RandomData", "setSeed", "([BSS)V", rd_set_seed),
        n!(
            "Signature",
            "getInstance",
            "(BZ)Ljavacard/security/Signature;",
            sig_get_instance
        ),
        n!(
            "Signature",
            "getInstance",
            "(BBBZ)Ljavacard/security/Signature;",
            sig_get_instance3
        ),
        n!("Signature", "init", "(Ljavacard/security/Key;B)V", sig_init),
        n!("Signature", "init", "(Ljavacard/security/Key;B[BSS)V", sig_init_iv),
        n!("Signature", "update", "([BSS)V", sig_update),
        n!("Signature", "sign", "([BSS[BS)S", sig_sign),
        n!("Signature", "verify", "([BSS[BSS)Z", sig_verify),
        n!("Signature", "signPreComputedHash", "([BSS[BS)S", sig_sign_hash),
        n!("Signature", "getAlgorithm", "()B", sig_algorithm),
        n!("Signature", "getLength", "()S", sig_length),
        // `<init>` and `throwIt` are javacard.framework's (CryptoException is a
        // CardRuntimeException).
        n!("CryptoException", "getReason", "()S", exc_get_reason),
        n!("CryptoException", "setReason", "(S)V", exc_init),
        (
            "javacardx/crypto/Cipher",
            "getInstance",
            "(BZ)Ljavacardx/crypto/Cipher;",
            cipher_get_instance as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "getInstance",
            "(BBZ)Ljavacardx/crypto/Cipher;",
            cipher_get_instance2 as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "init",
            "(Ljavacard/security/Key;B)V",
            cipher_init as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "init",
            "(Ljavacard/security/Key;B[BSS)V",
            cipher_init_iv as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "update",
            "([BSS[BS)S",
            cipher_update as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "doFinal",
            "([BSS[BS)S",
            cipher_do_final as NativeFn,
        ),
        (
            "javacardx/crypto/Cipher",
            "getAlgorithm",
            "()B",
            cipher_algorithm as NativeFn,
        ),
    ]
};

/// At deselect: the contents of a `_TRANSIENT_DESELECT` key are cleared (zeroized; JC API
/// `KeyBuilder`: `CLEAR_ON_DESELECT` key data). Called by the VM for every object.
pub fn clear_on_deselect(o: &mut crate::heap::Object) {
    use zeroize::Zeroize;
    let crate::heap::Body::Instance {
        peer: Some(NativePeer::Crypto(c)),
        ..
    } = &mut o.body
    else {
        return;
    };
    if c.kind != KIND_KEY {
        return;
    }
    let ty = c.persistent.first().and_then(|p| p.first()).copied();
    let deselect = matches!(
        ty,
        Some(
            keys::TYPE_DES_TRANSIENT_DESELECT
                | keys::TYPE_AES_TRANSIENT_DESELECT
                | keys::TYPE_RSA_PRIVATE_TRANSIENT_DESELECT
                | keys::TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT
                | keys::TYPE_EC_FP_PRIVATE_TRANSIENT_DESELECT
        )
    );
    if deselect {
        c.transient.iter_mut().for_each(|v| v.zeroize());
        c.transient.clear();
    }
}
