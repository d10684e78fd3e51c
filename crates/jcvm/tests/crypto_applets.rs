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

mod seam {
    //! The natives called through the VM's lookup, as the interpreter calls them (typed
    //! arguments, Java arrays, objects with native peers).
    use super::*;
    use jcvm::api::crypto::{cipher, keypair, keys, signature};
    use jcvm::heap::{Body, Memory, Value};
    use jcvm::natives::{lookup, NativePeer, Throw, CRYPTO_EXCEPTION};

    fn call(
        vm: &mut Vm,
        env: &mut MemEnv,
        c: &str,
        m: &str,
        d: &str,
        a: &[Value],
    ) -> Result<Option<Value>, Throw> {
        let f = lookup(c, m, d).unwrap_or_else(|| panic!("no native {c}.{m}{d}"));
        f(vm, env, a)
    }

    fn s(v: i16) -> Value {
        Value::Short(v)
    }

    fn array(vm: &mut Vm, env: &mut MemEnv, b: &[u8]) -> Value {
        Value::Ref(Some(
            vm.alloc(env, Memory::Persistent, Body::Bytes(b.to_vec()))
                .unwrap(),
        ))
    }

    const SEC: &str = "javacard/security/";

    #[test]
    fn aes_key_and_cipher_through_the_natives() {
        let (mut env, mut vm) = installed("jcsim-SHADigest.cap", &h("EEEEEEEEEE00"));
        let (env, vm) = (&mut env, &mut vm);
        let key = call(
            vm,
            env,
            &format!("{SEC}KeyBuilder"),
            "buildKey",
            "(BSZ)Ljavacard/security/Key;",
            &[s(keys::TYPE_AES as i16), s(128), s(0)],
        )
        .unwrap()
        .unwrap();
        let init = call(
            vm,
            env,
            &format!("{SEC}Key"),
            "isInitialized",
            "()Z",
            &[key],
        )
        .unwrap();
        assert_eq!(init, Some(s(0)));
        let buf = array(vm, env, &h("00 000102030405060708090a0b0c0d0e0f 00112233445566778899aabbccddeeff 0000000000000000000000000000000000"));
        call(
            vm,
            env,
            &format!("{SEC}AESKey"),
            "setKey",
            "([BS)V",
            &[key, buf, s(1)],
        )
        .unwrap();
        assert_eq!(
            call(vm, env, &format!("{SEC}AESKey"), "getSize", "()S", &[key]).unwrap(),
            Some(s(128))
        );
        let c = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "getInstance",
            "(BZ)Ljavacardx/crypto/Cipher;",
            &[s(cipher::ALG_AES_BLOCK_128_ECB_NOPAD as i16), s(0)],
        )
        .unwrap()
        .unwrap();
        call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "init",
            "(Ljavacard/security/Key;B)V",
            &[c, key, s(cipher::MODE_ENCRYPT as i16)],
        )
        .unwrap();
        // In and out in the same array (the output overlaps nothing here: offset 33).
        let n = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "doFinal",
            "([BSS[BS)S",
            &[c, buf, s(17), s(16), buf, s(33)],
        )
        .unwrap();
        assert_eq!(n, Some(s(16)));
        assert_eq!(
            &vm.bytes(buf.obj()).unwrap()[33..49],
            &h("69c4e0d86a7b0430d8cdb78070b4c55a")[..]
        );
        // Output offset past the room: ArrayIndexOutOfBoundsException; 15 bytes: ILLEGAL_USE.
        let e = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "doFinal",
            "([BSS[BS)S",
            &[c, buf, s(17), s(16), buf, s(40)],
        );
        assert_eq!(e, Err(Throw::bounds()));
        let e = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "doFinal",
            "([BSS[BS)S",
            &[c, buf, s(17), s(15), buf, s(33)],
        );
        assert_eq!(e, Err(Throw::java(CRYPTO_EXCEPTION, 5)));
        let e = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "getInstance",
            "(BZ)Ljavacardx/crypto/Cipher;",
            &[s(99), s(0)],
        );
        assert_eq!(e, Err(Throw::java(CRYPTO_EXCEPTION, 3)));
        // clearKey, then init: UNINITIALIZED_KEY.
        call(vm, env, &format!("{SEC}Key"), "clearKey", "()V", &[key]).unwrap();
        let e = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "init",
            "(Ljavacard/security/Key;B)V",
            &[c, key, s(cipher::MODE_ENCRYPT as i16)],
        );
        assert_eq!(e, Err(Throw::java(CRYPTO_EXCEPTION, 2)));
        // A null key: NullPointerException.
        let e = call(
            vm,
            env,
            "javacardx/crypto/Cipher",
            "init",
            "(Ljavacard/security/Key;B)V",
            &[c, Value::Ref(None), s(1)],
        );
        assert_eq!(e, Err(Throw::npe()));
    }

    #[test]
    fn key_pair_and_signature_through_the_natives() {
        let (mut env, mut vm) = installed("jcsim-SHADigest.cap", &h("EEEEEEEEEE00"));
        let (env, vm) = (&mut env, &mut vm);
        for (alg, bits, sig_alg) in [
            (keypair::ALG_EC_FP, 256, signature::ALG_ECDSA_SHA_256),
            (keypair::ALG_RSA_CRT, 512, signature::ALG_RSA_SHA_PKCS1),
        ] {
            let kp = Value::Ref(Some(
                vm.new_native_object(env, &format!("{SEC}KeyPair"), NativePeer::Reason(0))
                    .unwrap(),
            ));
            call(
                vm,
                env,
                &format!("{SEC}KeyPair"),
                "<init>",
                "(BS)V",
                &[kp, s(alg as i16), s(bits)],
            )
            .unwrap();
            call(
                vm,
                env,
                &format!("{SEC}KeyPair"),
                "genKeyPair",
                "()V",
                &[kp],
            )
            .unwrap();
            let public = call(
                vm,
                env,
                &format!("{SEC}KeyPair"),
                "getPublic",
                "()Ljavacard/security/PublicKey;",
                &[kp],
            )
            .unwrap()
            .unwrap();
            let private = call(
                vm,
                env,
                &format!("{SEC}KeyPair"),
                "getPrivate",
                "()Ljavacard/security/PrivateKey;",
                &[kp],
            )
            .unwrap()
            .unwrap();
            assert_eq!(
                call(
                    vm,
                    env,
                    &format!("{SEC}PublicKey"),
                    "isInitialized",
                    "()Z",
                    &[public]
                )
                .unwrap(),
                Some(s(1))
            );
            let sig = call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "getInstance",
                "(BZ)Ljavacard/security/Signature;",
                &[s(sig_alg as i16), s(0)],
            )
            .unwrap()
            .unwrap();
            call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "init",
                "(Ljavacard/security/Key;B)V",
                &[sig, private, s(signature::MODE_SIGN as i16)],
            )
            .unwrap();
            let buf = array(vm, env, &[0x61; 200]);
            call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "update",
                "([BSS)V",
                &[sig, buf, s(0), s(10)],
            )
            .unwrap();
            let n = call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "sign",
                "([BSS[BS)S",
                &[sig, buf, s(10), s(10), buf, s(100)],
            )
            .unwrap()
            .unwrap();
            call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "init",
                "(Ljavacard/security/Key;B)V",
                &[sig, public, s(signature::MODE_VERIFY as i16)],
            )
            .unwrap();
            let ok = call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "verify",
                "([BSS[BSS)Z",
                &[sig, buf, s(0), s(20), buf, s(100), n],
            )
            .unwrap();
            assert_eq!(ok, Some(s(1)), "alg {alg}");
            let ok = call(
                vm,
                env,
                &format!("{SEC}Signature"),
                "verify",
                "([BSS[BSS)Z",
                &[sig, buf, s(0), s(19), buf, s(100), n],
            )
            .unwrap();
            assert_eq!(ok, Some(s(0)), "alg {alg}");
        }
        // RandomData fills from the card's random source.
        let rd = call(
            vm,
            env,
            &format!("{SEC}RandomData"),
            "getInstance",
            "(B)Ljavacard/security/RandomData;",
            &[s(2)],
        )
        .unwrap()
        .unwrap();
        let buf = array(vm, env, &[0; 32]);
        call(
            vm,
            env,
            &format!("{SEC}RandomData"),
            "generateData",
            "([BSS)V",
            &[rd, buf, s(8), s(16)],
        )
        .unwrap();
        let b = vm.bytes(buf.obj()).unwrap();
        assert_eq!(&b[..8], &[0; 8]);
        assert_ne!(&b[8..24], &[0; 16]);
        assert_eq!(&b[24..], &[0; 8]);
        // CryptoException.throwIt.
        let e = call(
            vm,
            env,
            &format!("{SEC}CryptoException"),
            "throwIt",
            "(S)V",
            &[s(4)],
        );
        assert_eq!(e, Err(Throw::java(CRYPTO_EXCEPTION, 4)));
    }
}

/// Runs an `.apdu` script of apdu-scripts/jcvm/ straight against the VM (the subset these
/// scripts use: `set NAME hex`, `$NAME`, `C-APDU => R-APDU` in hex, SELECT by AID answered by
/// selecting the installed applet).
fn run_script(file: &str, cap: &str, aid: &[u8]) {
    let text = std::fs::read_to_string(format!(
        "{}/../../apdu-scripts/jcvm/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    run_text(file, &text, cap, aid);
}

fn run_text(file: &str, text: &str, cap: &str, aid: &[u8]) {
    let (mut env, mut vm) = installed(cap, aid);
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut n = 0;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("set ") {
            let (name, val) = rest.split_once(' ').unwrap();
            vars.push((format!("${name}"), val.to_string()));
            continue;
        }
        let mut line = line.to_string();
        for (k, v) in &vars {
            line = line.replace(k, v);
        }
        let (c, r) = line.split_once("=>").unwrap();
        let (c, r) = (h(c), h(r));
        let lc = c.get(4).copied().unwrap_or(0) as usize;
        let (data, ne) = match c.len() {
            4 => (&c[4..], 0),
            5 => (&c[4..4], if c[4] == 0 { 256 } else { c[4] as usize }),
            l if l == 5 + lc => (&c[5..], 0),
            l if l == 6 + lc => (
                &c[5..5 + lc],
                if c[l - 1] == 0 {
                    256
                } else {
                    c[l - 1] as usize
                },
            ),
            l => panic!("{file}:{}: command of {l} bytes", ln + 1),
        };
        let got = if c[1] == 0xA4 {
            assert_eq!(data, aid, "{file}:{}", ln + 1);
            (
                Vec::new(),
                if vm.select(&mut env) { 0x9000 } else { 0x6999 },
            )
        } else {
            let cmd = Command {
                cla: c[0],
                ins: c[1],
                p1: c[2],
                p2: c[3],
                data,
                ne,
                channel: 0,
            };
            let resp = vm.process(&mut env, &cmd, false);
            (resp.data, resp.sw)
        };
        let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
        assert_eq!(got, (r[..r.len() - 2].to_vec(), sw), "{file}:{}", ln + 1);
        n += 1;
    }
    assert!(n >= 3, "{file}: {n} exchanges");
}

#[test]
fn apdu_scripts_hold_against_the_vm() {
    run_script("sha-digest.apdu", "jcsim-SHADigest.cap", &h("EEEEEEEEEE00"));
    run_script(
        "rsa-decrypt.apdu",
        "jcsim-rsa-decrypt-pkcs1.cap",
        &h("CCCCCCCCCC00"),
    );
    run_script("rsa.apdu", "jcsim-rsaapplet.cap", &h("F23412345500"));
}

/// `openssl` with `args` (None when it is not installed).
fn openssl(args: &[&str]) -> Option<Vec<u8>> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X} ")).collect::<String>()
}

/// The bytes of one field of `openssl rsa -text` (leading zeros dropped).
fn field(text: &str, name: &str) -> Vec<u8> {
    let mut hexs = String::new();
    for l in text
        .lines()
        .skip_while(|l| !l.starts_with(name))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
    {
        hexs.extend(l.trim().split(':').filter(|x| !x.is_empty()));
    }
    h(&hexs).into_iter().skip_while(|x| *x == 0).collect()
}

#[test]
fn a_fresh_openssl_key_loaded_over_apdus_decrypts_what_openssl_encrypted() {
    let dir = std::env::temp_dir().join(format!("simota-jcvm-crypto-vm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let (key, msg, ct) = (f("key.pem"), f("msg"), f("ct"));
    let gen = [
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:512",
        "-out",
        &key,
    ];
    if openssl(&gen).is_none() {
        eprintln!("openssl not installed: skipped");
        return;
    }
    let text =
        String::from_utf8(openssl(&["rsa", "-in", &key, "-text", "-noout"]).unwrap()).unwrap();
    let plain = b"simota decrypts what OpenSSL encrypts";
    std::fs::write(&msg, plain).unwrap();
    let enc = [
        "pkeyutl", "-encrypt", "-inkey", &key, "-in", &msg, "-out", &ct,
    ];
    openssl(&enc).unwrap();
    let c = std::fs::read(&ct).unwrap();
    assert_eq!(c.len(), 64);
    let mut s = String::from("00 A4 04 00 06 CC CC CC CC CC 00 => 90 00\n");
    for (p1, name) in [
        "prime1:",
        "prime2:",
        "exponent1:",
        "exponent2:",
        "coefficient:",
    ]
    .iter()
    .enumerate()
    {
        let v = field(&text, name);
        s += &format!("80 22 {p1:02X} 00 {:02X} {}=> 90 00\n", v.len(), hex(&v));
    }
    // The plaintext over the start of the 64-byte buffer, the ciphertext after it.
    let mut want = plain.to_vec();
    want.extend_from_slice(&c[plain.len()..]);
    s += &format!("80 30 00 00 40 {}40 => {}90 00\n", hex(&c), hex(&want));
    run_text(
        "fresh key",
        &s,
        "jcsim-rsa-decrypt-pkcs1.cap",
        &h("CCCCCCCCCC00"),
    );
    std::fs::remove_dir_all(&dir).ok();
}
