//! Crypto applets of test-vectors/cap/ run by the VM (the javacard.security /
//! javacardx.crypto natives): SHADigest (SHA-1 of the command data), rsa-decrypt-pkcs1
//! (PKCS#1 v1.5 decryption with a CRT key set over APDUs equals OpenSSL's) and rsaapplet
//! (the same key with OAEP). Expectations from adamnoakes/javacard-simulator's test scripts.

use jcvm::jcre::{Command, MemEnv};
use jcvm::vm::Vm;
use jcvm::CapFile;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn installed(file: &str, aid: &[u8]) -> (MemEnv, Vm) {
    let b = std::fs::read(format!(
        "{}/../../test-vectors/cap/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut env = MemEnv::new();
    let mut vm = Vm::load(CapFile::from_zip(&b).unwrap(), aid, &[]).unwrap();
    let mut inst = vec![aid.len() as u8];
    inst.extend_from_slice(aid);
    inst.extend_from_slice(&[0, 0]);
    vm.install(&mut env, 0, &inst).unwrap();
    assert!(vm.select(&mut env));
    (env, vm)
}

fn cmd(env: &mut MemEnv, vm: &mut Vm, ins: u8, p1: u8, data: &[u8], ne: usize) -> (Vec<u8>, u16) {
    let c = Command {
        cla: 0x80,
        ins,
        p1,
        p2: 0,
        data,
        ne,
        channel: 0,
    };
    let r = vm.process(env, &c, false);
    (r.data, r.sw)
}

#[test]
fn sha_digest_applet_answers_sha1_of_the_data() {
    let (mut env, mut vm) = installed("jcsim-SHADigest.cap", &h("EEEEEEEEEE00"));
    assert_eq!(
        cmd(&mut env, &mut vm, 0x31, 0, b"abc", 0x14),
        (h("a9993e364706816aba3e25717850c26c9cd0d89d"), 0x9000)
    );
    let long = b"An Open Platform for the Simulation of Java Card Applets";
    assert_eq!(
        cmd(&mut env, &mut vm, 0x31, 0, long, 0x14),
        (h("14390f15410bbe76b937cb79f760353d857edb4b"), 0x9000)
    );
}

const P: &str = "e637a10ecfe89aa2b6de3b9f4dfa5d92b92791dbdd0daa1cb7266467a57d87bf";
const Q: &str = "e068b273b7e5285f70da56b9d8130624f37c13b3348d0e6e47ac328d71a06ce1";
const DP: &str = "87e5429f59bf36b8e235a10052a97ddf04890522c20434ecaa7871407581fa45";
const DQ: &str = "a564c4d180e1c685c1394ade2220b3509c9c0030fe3450447b52b0d78abd8041";
const PQ: &str = "54a99e3944c048a9973ff85c21eaa7cc37dc03ced4a04ab4d910f8cf8a9a7a8d";

fn set_key(env: &mut MemEnv, vm: &mut Vm) {
    for (p1, c) in [P, Q, DP, DQ, PQ].iter().enumerate() {
        assert_eq!(
            cmd(env, vm, 0x22, p1 as u8, &h(c), 0).1,
            0x9000,
            "set component {p1}"
        );
    }
}

#[test]
fn rsa_decrypt_pkcs1_applet_decrypts_as_openssl() {
    let (mut env, mut vm) = installed("jcsim-rsa-decrypt-pkcs1.cap", &h("CCCCCCCCCC00"));
    // Decrypting before the key is set: CryptoException UNINITIALIZED_KEY, uncaught: 6F00.
    let ct = h("752531b14a42160af94db200ba59e9dba477d280596849f4b1225ab890d56d12b37c4f7d84e026d8dec16453eff27f66b764af6479e1efe34d4d2a1ba39e4f21");
    assert_eq!(cmd(&mut env, &mut vm, 0x30, 0, &ct, 0x40).1, 0x6F00);
    set_key(&mut env, &mut vm);
    let (data, sw) = cmd(&mut env, &mut vm, 0x30, 0, &ct, 0x40);
    assert_eq!(sw, 0x9000);
    // doFinal writes the 11-byte plaintext ("hello world", what OpenSSL decrypts) over the
    // ciphertext; the applet sends 64 bytes of the buffer.
    assert_eq!(&data[..11], b"hello world");
    assert_eq!(&data[11..], &ct[11..]);
    assert_eq!(cmd(&mut env, &mut vm, 0x30, 0, &ct[..63], 0x40).1, 0x6700);
    // A ciphertext that does not decrypt to PKCS#1 padding: ILLEGAL_USE, uncaught: 6F00.
    let mut bad = ct.clone();
    bad[0] ^= 0x40;
    assert_eq!(cmd(&mut env, &mut vm, 0x30, 0, &bad, 0x40).1, 0x6F00);
}

#[test]
fn rsa_applet_decrypts_oaep() {
    let (mut env, mut vm) = installed("jcsim-rsaapplet.cap", &h("F23412345500"));
    set_key(&mut env, &mut vm);
    let ct = h("15f200ca94e6446f29caa83425c3cfda4b8ce693310e073018f0728a90fb7797c54c17a4bb3ded1a3907acc058222d1799830f882d9f0811cec78389cbfe6ae3");
    let (data, sw) = cmd(&mut env, &mut vm, 0x30, 0, &ct, 0x40);
    assert_eq!(sw, 0x9000);
    assert_eq!(&data[..12], b"Hello World!");
    assert_eq!(&data[12..], &ct[12..]);
    // The key survives a reload of the VM from NV (persistent key components).
    let nv: Vec<(String, Vec<u8>)> = env.nv.clone().into_iter().collect();
    let b = std::fs::read(format!(
        "{}/../../test-vectors/cap/jcsim-rsaapplet.cap",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut vm2 = Vm::load(CapFile::from_zip(&b).unwrap(), &h("F23412345500"), &nv).unwrap();
    assert!(vm2.select(&mut env));
    let (data, sw) = cmd(&mut env, &mut vm2, 0x30, 0, &ct, 0x40);
    assert_eq!((&data[..12], sw), (&b"Hello World!"[..], 0x9000));
}

#[test]
fn deselect_clears_transient_deselect_keys_only() {
    use jcvm::api::crypto::keys::{self, Component, KeyBuilder};
    use jcvm::api::crypto::natives::{clear_on_deselect, KIND_KEY};
    use jcvm::api::crypto::Key;
    use jcvm::heap::{Body, ClassId, Memory, Object};
    use jcvm::natives::{CryptoPeer, NativePeer};
    let object = |ty: u8| {
        let mut k = KeyBuilder::build_key(ty, 128, false).unwrap();
        k.set(Component::Key, &[0x42; 16]).unwrap();
        let (p, t) = k.to_parts();
        Object {
            owner: 1,
            global: false,
            memory: Memory::Persistent,
            body: Body::Instance {
                class: ClassId::Api(0),
                fields: Vec::new(),
                peer: Some(NativePeer::Crypto(CryptoPeer {
                    kind: KIND_KEY,
                    persistent: vec![p.to_vec()],
                    transient: vec![t.to_vec()],
                })),
            },
        }
    };
    let initialized = |o: &Object| match &o.body {
        Body::Instance {
            peer: Some(NativePeer::Crypto(c)),
            ..
        } => Key::from_parts(&c.persistent[0], c.transient.first().map_or(&[][..], |v| v))
            .unwrap()
            .is_initialized(),
        _ => unreachable!(),
    };
    for (ty, survives) in [
        (keys::TYPE_AES_TRANSIENT_DESELECT, false),
        (keys::TYPE_DES_TRANSIENT_DESELECT, false),
        (keys::TYPE_AES_TRANSIENT_RESET, true),
        (keys::TYPE_AES, true),
    ] {
        let mut o = object(ty);
        assert!(initialized(&o));
        clear_on_deselect(&mut o);
        assert_eq!(initialized(&o), survives, "key type {ty}");
    }
}
