//! Known answers of the javacard.security / javacardx.crypto natives (test-vectors/
//! jcvm-crypto.json: FIPS 180-4, FIPS 197, SP 800-38A, RFC 6979, the javacard-simulator RSA
//! key with OpenSSL's plaintexts and signatures), and the CryptoException reasons the Java
//! Card 3.0.5 API names for misuse.

use jcvm::api::crypto::cipher::{self, Cipher};
use jcvm::api::crypto::digest::MessageDigest;
use jcvm::api::crypto::keys::{self, Component, KeyBuilder};
use jcvm::api::crypto::signature::{self, Signature};
use jcvm::api::crypto::{keypair, CryptoError, CryptoReason, Key};
use serde_json::Value;

fn vectors() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/jcvm-crypto.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hv(v: &Value, k: &str) -> Vec<u8> {
    h(v[k].as_str().unwrap_or_else(|| panic!("vector {k}")))
}

/// A deterministic random source (xorshift) for tests.
fn rng() -> impl FnMut(&mut [u8]) {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    move |buf: &mut [u8]| {
        for b in buf.iter_mut() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *b = s as u8;
        }
    }
}

fn reason<T: std::fmt::Debug>(r: Result<T, CryptoError>) -> CryptoReason {
    r.expect_err("expected a CryptoException")
        .reason()
        .expect("a CryptoException")
}

fn sym_key(ty: u8, key: &[u8]) -> Key {
    let mut k = KeyBuilder::build_key(ty, (key.len() * 8) as u16, false).unwrap();
    k.set(Component::Key, key).unwrap();
    k
}

fn crt_key(v: &Value) -> Key {
    let mut k = KeyBuilder::build_key(keys::TYPE_RSA_CRT_PRIVATE, 512, false).unwrap();
    for (c, n) in [
        (Component::P, "p"),
        (Component::Q, "q"),
        (Component::Dp1, "dp1"),
        (Component::Dq1, "dq1"),
        (Component::Pq, "pq"),
    ] {
        assert!(!k.is_initialized());
        k.set(c, &hv(v, n)).unwrap();
    }
    assert!(k.is_initialized());
    k
}

fn rsa_key(ty: u8, n: &[u8], e: &[u8]) -> Key {
    let mut k = KeyBuilder::build_key(ty, (n.len() * 8) as u16, false).unwrap();
    k.set(Component::Modulus, n).unwrap();
    k.set(Component::Exponent, e).unwrap();
    k
}

fn run_cipher(c: &mut Cipher, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; data.len() + 64];
    let mut rest = data;
    while rest.len() > chunk {
        let (a, b) = rest.split_at(chunk);
        let n = c.update(a, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
        rest = b;
    }
    let n = c.do_final(rest, &mut buf, &mut rng()).unwrap();
    out.extend_from_slice(&buf[..n]);
    out
}

#[test]
fn message_digest_fips180_vectors_in_one_go_and_in_pieces() {
    let v = vectors();
    for t in v["sha"].as_array().unwrap() {
        let alg = t["alg"].as_u64().unwrap() as u8;
        let msg = hv(t, "msg");
        let want = hv(t, "digest");
        let mut md = MessageDigest::get_instance(alg).unwrap();
        assert_eq!(usize::from(md.length()), want.len());
        let mut out = [0u8; 64];
        let n = md.do_final(&msg, &mut out).unwrap();
        assert_eq!(&out[..n], &want[..], "alg {alg}");
        // Pieces, then the object is reset and gives the same again.
        for piece in msg.chunks(7) {
            md.update(piece);
        }
        let n = md.do_final(&[], &mut out).unwrap();
        assert_eq!(&out[..n], &want[..]);
        md.update(b"garbage");
        md.reset();
        let n = md.do_final(&msg, &mut out).unwrap();
        assert_eq!(&out[..n], &want[..]);
        // Output that does not fit.
        assert!(matches!(
            md.do_final(&msg, &mut out[..n - 1]),
            Err(CryptoError::ArrayIndexOutOfBounds(_))
        ));
    }
    assert_eq!(
        reason(MessageDigest::get_instance(2)),
        CryptoReason::NoSuchAlgorithm
    );
}

#[test]
fn aes_fips197_and_sp800_38a_cbc_in_chunks() {
    let v = vectors();
    let a = &v["aes"];
    let k = sym_key(keys::TYPE_AES, &hv(a, "fips197_key"));
    let mut c = Cipher::get_instance(cipher::ALG_AES_BLOCK_128_ECB_NOPAD).unwrap();
    c.init(&k, cipher::MODE_ENCRYPT, &[]).unwrap();
    assert_eq!(
        run_cipher(&mut c, &hv(a, "fips197_pt"), 100),
        hv(a, "fips197_ct")
    );
    c.init(&k, cipher::MODE_DECRYPT, &[]).unwrap();
    assert_eq!(
        run_cipher(&mut c, &hv(a, "fips197_ct"), 100),
        hv(a, "fips197_pt")
    );

    let k = sym_key(keys::TYPE_AES_TRANSIENT_DESELECT, &hv(a, "sp800_38a_key"));
    assert_eq!(k.memory(), keys::KeyMemory::TransientDeselect);
    let iv = hv(a, "sp800_38a_iv");
    let mut c = Cipher::get_instance(cipher::ALG_AES_BLOCK_128_CBC_NOPAD).unwrap();
    c.init(&k, cipher::MODE_ENCRYPT, &iv).unwrap();
    for chunk in [5, 16, 17, 64] {
        // doFinal resets to the init IV, so every run gives the same.
        assert_eq!(
            run_cipher(&mut c, &hv(a, "sp800_38a_pt"), chunk),
            hv(a, "sp800_38a_ct")
        );
    }
    c.init(&k, cipher::MODE_DECRYPT, &iv).unwrap();
    assert_eq!(
        run_cipher(&mut c, &hv(a, "sp800_38a_ct"), 7),
        hv(a, "sp800_38a_pt")
    );

    // AES-128 CBC-MAC with the same IV is the last ciphertext block.
    let mut s = Signature::get_instance(signature::ALG_AES_MAC_128_NOPAD).unwrap();
    s.init(&k, signature::MODE_SIGN, &iv).unwrap();
    let mut mac = [0u8; 16];
    assert_eq!(s.sign(&hv(a, "sp800_38a_pt"), &mut mac).unwrap(), 16);
    assert_eq!(&mac[..], &hv(a, "sp800_38a_ct")[48..]);
    s.init(&k, signature::MODE_VERIFY, &iv).unwrap();
    s.update(&hv(a, "sp800_38a_pt")[..20]).unwrap();
    assert!(s.verify(&hv(a, "sp800_38a_pt")[20..], &mac).unwrap());
    mac[15] ^= 1;
    assert!(!s.verify(&hv(a, "sp800_38a_pt"), &mac).unwrap());
    assert!(!s.verify(&hv(a, "sp800_38a_pt"), &mac[..8]).unwrap());
}

#[test]
fn des_and_triple_des_ciphers() {
    let v = vectors();
    let d = &v["des"];
    let k = sym_key(keys::TYPE_DES, &hv(d, "key"));
    let mut c = Cipher::get_instance(cipher::ALG_DES_ECB_NOPAD).unwrap();
    c.init(&k, cipher::MODE_ENCRYPT, &[]).unwrap();
    assert_eq!(run_cipher(&mut c, &hv(d, "pt"), 8), hv(d, "ct"));

    let s = &v["sym"];
    let cases: [(u8, &str, &[u8], &str, &str); 5] = [
        (
            cipher::ALG_DES_CBC_NOPAD,
            "k24",
            &[],
            "data24",
            "des3_cbc_nopad_k24",
        ),
        (
            cipher::ALG_DES_CBC_ISO9797_M2,
            "k16",
            &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88],
            "msg13",
            "des3_cbc_m2_k16_iv",
        ),
        (
            cipher::ALG_DES_CBC_PKCS5,
            "k8",
            &[],
            "msg13",
            "des_cbc_pkcs5_k8",
        ),
        (
            cipher::ALG_AES_CBC_PKCS5,
            "k32",
            &[],
            "msg13",
            "aes256_cbc_pkcs5",
        ),
        (cipher::ALG_DES_CBC_NOPAD, "k16", &[], "data24", ""),
    ];
    for (alg, key, iv, pt, ct) in cases {
        let kb = if key == "k32" {
            (0u8..32).collect()
        } else {
            hv(s, key)
        };
        let ty = if alg == cipher::ALG_AES_CBC_PKCS5 {
            keys::TYPE_AES
        } else {
            keys::TYPE_DES
        };
        let k = sym_key(ty, &kb);
        let mut c = Cipher::get_instance(alg).unwrap();
        c.init(&k, cipher::MODE_ENCRYPT, iv).unwrap();
        let out = run_cipher(&mut c, &hv(s, pt), 3);
        if !ct.is_empty() {
            assert_eq!(out, hv(s, ct), "alg {alg}");
        }
        c.init(&k, cipher::MODE_DECRYPT, iv).unwrap();
        for chunk in [1, 8, 100] {
            assert_eq!(
                run_cipher(&mut c, &out, chunk),
                hv(s, pt),
                "alg {alg} chunk {chunk}"
            );
        }
    }
}

#[test]
fn des_macs_iso9797_1_algorithms_1_and_3() {
    let v = vectors();
    let s = &v["sym"];
    let cases = [
        (
            signature::ALG_DES_MAC8_NOPAD,
            "k8",
            "data24",
            "des_mac8_nopad_k8",
        ),
        (
            signature::ALG_DES_MAC8_NOPAD,
            "k16",
            "data24",
            "des_mac8_nopad_k16",
        ),
        (
            signature::ALG_DES_MAC8_ISO9797_M1,
            "k16",
            "msg13",
            "des_mac8_m1_k16",
        ),
        (
            signature::ALG_DES_MAC8_ISO9797_M2,
            "k16",
            "msg13",
            "des_mac8_m2_k16",
        ),
        (
            signature::ALG_DES_MAC4_ISO9797_M2,
            "k24",
            "msg13",
            "des_mac4_m2_k24",
        ),
        (
            signature::ALG_DES_MAC8_PKCS5,
            "k8",
            "msg13",
            "des_mac8_pkcs5_k8",
        ),
        (
            signature::ALG_DES_MAC8_ISO9797_1_M2_ALG3,
            "k16",
            "msg13",
            "des_mac8_m2_alg3_k16",
        ),
    ];
    for (alg, key, msg, want) in cases {
        let k = sym_key(keys::TYPE_DES_TRANSIENT_RESET, &hv(s, key));
        let want = hv(s, want);
        let mut sig = Signature::get_instance(alg).unwrap();
        assert_eq!(usize::from(sig.length().unwrap()), want.len());
        sig.init(&k, signature::MODE_SIGN, &[]).unwrap();
        let mut out = [0u8; 8];
        let n = sig.sign(&hv(s, msg), &mut out).unwrap();
        assert_eq!(&out[..n], &want[..], "alg {alg}");
        sig.init(&k, signature::MODE_VERIFY, &[]).unwrap();
        assert!(sig.verify(&hv(s, msg), &want).unwrap());
        let mut bad = want.clone();
        bad[0] ^= 0x80;
        assert!(!sig.verify(&hv(s, msg), &bad).unwrap());
    }
}

#[test]
fn rsa_crt_decrypt_equals_openssl_for_the_javacard_simulator_key() {
    let v = vectors();
    let r = &v["rsa512"];
    let k = crt_key(r);
    let mut buf = [0u8; 64];
    for (alg, ct, pt) in [
        (cipher::ALG_RSA_PKCS1, "ct_pkcs1", "pt_pkcs1"),
        (cipher::ALG_RSA_PKCS1_OAEP, "ct_oaep", "pt_oaep"),
        (cipher::ALG_RSA_NOPAD, "ct_oaep", "raw_oaep_block"),
    ] {
        let mut c = Cipher::get_instance(alg).unwrap();
        c.init(&k, cipher::MODE_DECRYPT, &[]).unwrap();
        let n = c.do_final(&hv(r, ct), &mut buf, &mut rng()).unwrap();
        assert_eq!(&buf[..n], &hv(r, pt)[..], "alg {alg}");
    }
    // The same with the non-CRT private key (modulus, private exponent).
    let kd = rsa_key(keys::TYPE_RSA_PRIVATE, &hv(r, "n"), &hv(r, "d"));
    let mut c = Cipher::get_instance(cipher::ALG_RSA_PKCS1).unwrap();
    c.init(&kd, cipher::MODE_DECRYPT, &[]).unwrap();
    let n = c
        .do_final(&hv(r, "ct_pkcs1"), &mut buf, &mut rng())
        .unwrap();
    assert_eq!(&buf[..n], &hv(r, "pt_pkcs1")[..]);
    // Encrypt with the public key, decrypt with the CRT key.
    let pk = rsa_key(keys::TYPE_RSA_PUBLIC, &hv(r, "n"), &hv(r, "e"));
    for alg in [cipher::ALG_RSA_PKCS1, cipher::ALG_RSA_PKCS1_OAEP] {
        let mut e = Cipher::get_instance(alg).unwrap();
        e.init(&pk, cipher::MODE_ENCRYPT, &[]).unwrap();
        e.update(b"Java ", &mut buf).unwrap();
        let n = e.do_final(b"Card", &mut buf, &mut rng()).unwrap();
        assert_eq!(n, 64);
        let ct = buf.to_vec();
        let mut d = Cipher::get_instance(alg).unwrap();
        d.init(&k, cipher::MODE_DECRYPT, &[]).unwrap();
        let n = d.do_final(&ct, &mut buf, &mut rng()).unwrap();
        assert_eq!(&buf[..n], b"Java Card");
    }
}

#[test]
fn rsa_pkcs1_signatures_equal_openssl_and_verify() {
    let v = vectors();
    let r = &v["rsa512"];
    let k = crt_key(r);
    let pk = rsa_key(keys::TYPE_RSA_PUBLIC, &hv(r, "n"), &hv(r, "e"));
    for (alg, want) in [
        (signature::ALG_RSA_SHA_PKCS1, "sig_sha1_pkcs1"),
        (signature::ALG_RSA_SHA_256_PKCS1, "sig_sha256_pkcs1"),
    ] {
        let mut s = Signature::get_instance(alg).unwrap();
        assert_eq!(reason(s.length()), CryptoReason::InvalidInit);
        s.init(&k, signature::MODE_SIGN, &[]).unwrap();
        assert_eq!(s.length().unwrap(), 64);
        let mut out = [0u8; 64];
        s.update(b"a").unwrap();
        let n = s.sign(b"bc", &mut out).unwrap();
        assert_eq!(&out[..n], &hv(r, want)[..], "alg {alg}");
        let mut s = Signature::get_instance(alg).unwrap();
        s.init(&pk, signature::MODE_VERIFY, &[]).unwrap();
        assert!(s.verify(&hv(r, "msg"), &out).unwrap());
        assert!(!s.verify(b"abd", &out).unwrap());
        out[63] ^= 1;
        assert!(!s.verify(&hv(r, "msg"), &out).unwrap());
        assert_eq!(reason(s.sign(b"", &mut out)), CryptoReason::InvalidInit);
    }
}

#[test]
fn ecdsa_p256_is_rfc6979_deterministic_and_der_encoded() {
    let v = vectors();
    let e = &v["ecdsa_p256_rfc6979"];
    let (mut public, mut private) = keypair::new_pair(keypair::ALG_EC_FP, 256).unwrap();
    // Domain parameters from a generated pair, then the RFC 6979 key.
    keypair::gen_key_pair(&mut public, &mut private, &mut rng()).unwrap();
    assert!(public.is_initialized() && private.is_initialized());
    private.set(Component::S, &hv(e, "x")).unwrap();
    let mut w = vec![4];
    w.extend(hv(e, "ux"));
    w.extend(hv(e, "uy"));
    public.set(Component::W, &w).unwrap();
    for (alg, r, s) in [
        (signature::ALG_ECDSA_SHA_256, "sha256_r", "sha256_s"),
        (signature::ALG_ECDSA_SHA, "sha1_r", "sha1_s"),
    ] {
        let mut sig = Signature::get_instance(alg).unwrap();
        sig.init(&private, signature::MODE_SIGN, &[]).unwrap();
        let mut out = [0u8; 72];
        let n = sig.sign(b"sample", &mut out).unwrap();
        let (r, s) = (hv(e, r), hv(e, s));
        let int = |x: &[u8]| {
            let mut v = if x[0] & 0x80 != 0 { vec![0] } else { vec![] };
            v.extend_from_slice(x);
            v
        };
        let (ri, si) = (int(&r), int(&s));
        let mut der = vec![0x30, (4 + ri.len() + si.len()) as u8, 2, ri.len() as u8];
        der.extend(&ri);
        der.extend([2, si.len() as u8]);
        der.extend(&si);
        // p256 derives k with HMAC-SHA-256 (RFC 6979 with the curve's hash), so the
        // SHA-256 signature is RFC 6979's exactly; for SHA-1 RFC 6979's own signature must
        // verify.
        if alg == signature::ALG_ECDSA_SHA_256 {
            assert_eq!(&out[..n], &der[..], "alg {alg}");
        }
        let mut ver = Signature::get_instance(alg).unwrap();
        ver.init(&public, signature::MODE_VERIFY, &[]).unwrap();
        assert!(ver.verify(b"sample", &der).unwrap(), "alg {alg}");
        assert!(ver.verify(b"sample", &out[..n]).unwrap());
        assert!(!ver.verify(b"samplf", &out[..n]).unwrap());
        assert!(!ver.verify(b"sample", &out[..n - 1]).unwrap());
    }
}

#[test]
fn generated_key_pairs_work() {
    let mut r = rng();
    for (alg, bits) in [
        (keypair::ALG_RSA_CRT, 512),
        (keypair::ALG_RSA, 1024),
        (keypair::ALG_RSA_CRT, 2048),
    ] {
        let (mut public, mut private) = keypair::new_pair(alg, bits).unwrap();
        keypair::gen_key_pair(&mut public, &mut private, &mut r).unwrap();
        let mut buf = vec![0u8; 512];
        let n = public.get(Component::Exponent, &mut buf).unwrap();
        assert_eq!(&buf[..n], &[1, 0, 1]);
        let n = public.get(Component::Modulus, &mut buf).unwrap();
        assert_eq!(n, usize::from(bits) / 8);
        let mut e = Cipher::get_instance(cipher::ALG_RSA_PKCS1).unwrap();
        e.init(&public, cipher::MODE_ENCRYPT, &[]).unwrap();
        let n = e.do_final(b"secret", &mut buf, &mut r).unwrap();
        let ct = buf[..n].to_vec();
        let mut d = Cipher::get_instance(cipher::ALG_RSA_PKCS1).unwrap();
        d.init(&private, cipher::MODE_DECRYPT, &[]).unwrap();
        let n = d.do_final(&ct, &mut buf, &mut r).unwrap();
        assert_eq!(&buf[..n], b"secret", "{bits}");
        let mut s = Signature::get_instance(signature::ALG_RSA_SHA_256_PKCS1).unwrap();
        s.init(&private, signature::MODE_SIGN, &[]).unwrap();
        let n = s.sign(b"msg", &mut buf).unwrap();
        let sig = buf[..n].to_vec();
        s.init(&public, signature::MODE_VERIFY, &[]).unwrap();
        assert!(s.verify(b"msg", &sig).unwrap());
    }
    let (mut public, mut private) = keypair::new_pair(keypair::ALG_EC_FP, 256).unwrap();
    keypair::gen_key_pair(&mut public, &mut private, &mut r).unwrap();
    let mut s = Signature::get_instance(signature::ALG_ECDSA_SHA_256).unwrap();
    s.init(&private, signature::MODE_SIGN, &[]).unwrap();
    let mut buf = [0u8; 72];
    let n = s.sign(b"msg", &mut buf).unwrap();
    s.init(&public, signature::MODE_VERIFY, &[]).unwrap();
    assert!(s.verify(b"msg", &buf[..n]).unwrap());
    assert_eq!(public.get_k().unwrap(), 1);
}

#[test]
fn misuse_gets_the_reason_the_api_names() {
    use CryptoReason::*;
    // KeyBuilder.
    assert_eq!(
        reason(KeyBuilder::build_key(keys::TYPE_DES, 100, false)),
        NoSuchAlgorithm
    );
    assert_eq!(
        reason(KeyBuilder::build_key(keys::TYPE_AES, 128, true)),
        NoSuchAlgorithm
    );
    assert_eq!(
        reason(KeyBuilder::build_key(99, 128, false)),
        NoSuchAlgorithm
    );
    assert_eq!(
        reason(KeyBuilder::build_key(keys::TYPE_EC_FP_PUBLIC, 192, false)),
        NoSuchAlgorithm
    );
    assert_eq!(
        reason(keypair::new_pair(keypair::ALG_DSA, 1024)),
        NoSuchAlgorithm
    );
    // Key components.
    let mut k = KeyBuilder::build_key(keys::TYPE_DES, 128, false).unwrap();
    assert_eq!(k.size(), 128);
    assert_eq!(k.key_type(), keys::TYPE_DES);
    let mut out = [0u8; 16];
    assert_eq!(reason(k.get(Component::Key, &mut out)), UninitializedKey);
    assert!(matches!(
        k.set(Component::Key, &[0; 15]),
        Err(CryptoError::ArrayIndexOutOfBounds(_))
    ));
    assert_eq!(reason(k.set(Component::Modulus, &[1; 8])), IllegalValue);
    k.set(Component::Key, &[0x11; 20]).unwrap();
    assert_eq!(k.get(Component::Key, &mut out).unwrap(), 16);
    assert!(matches!(
        k.get(Component::Key, &mut out[..15]),
        Err(CryptoError::ArrayIndexOutOfBounds(_))
    ));
    let mut rsa = KeyBuilder::build_key(keys::TYPE_RSA_PUBLIC, 512, false).unwrap();
    assert_eq!(
        reason(rsa.set(Component::Modulus, &[0xFF; 65])),
        IllegalValue
    );
    assert_eq!(reason(rsa.set(Component::Exponent, &[])), IllegalValue);
    // Cipher.
    let mut c = Cipher::get_instance(cipher::ALG_DES_CBC_NOPAD).unwrap();
    assert_eq!(reason(c.update(&[0; 8], &mut out)), InvalidInit);
    assert_eq!(
        reason(c.do_final(&[0; 8], &mut out, &mut rng())),
        InvalidInit
    );
    let unset = KeyBuilder::build_key(keys::TYPE_DES, 64, false).unwrap();
    assert_eq!(
        reason(c.init(&unset, cipher::MODE_ENCRYPT, &[])),
        UninitializedKey
    );
    let aes = sym_key(keys::TYPE_AES, &[7; 16]);
    assert_eq!(
        reason(c.init(&aes, cipher::MODE_ENCRYPT, &[])),
        IllegalValue
    );
    assert_eq!(reason(c.init(&k, 3, &[])), IllegalValue);
    assert_eq!(
        reason(c.init(&k, cipher::MODE_ENCRYPT, &[0; 7])),
        IllegalValue
    );
    c.init(&k, cipher::MODE_ENCRYPT, &[]).unwrap();
    assert_eq!(
        reason(c.do_final(&[0; 9], &mut out, &mut rng())),
        IllegalUse
    );
    assert_eq!(reason(c.do_final(&[], &mut out, &mut rng())), IllegalUse);
    // The failed doFinal left the object usable.
    assert_eq!(c.do_final(&[0; 8], &mut out, &mut rng()).unwrap(), 8);
    assert!(matches!(
        c.update(&[0; 16], &mut out[..8]),
        Err(CryptoError::ArrayIndexOutOfBounds(_))
    ));
    let mut ecb = Cipher::get_instance(cipher::ALG_AES_BLOCK_128_ECB_NOPAD).unwrap();
    assert_eq!(
        reason(ecb.init(&aes, cipher::MODE_ENCRYPT, &[0; 16])),
        IllegalValue
    );
    assert_eq!(reason(Cipher::get_instance(2)), NoSuchAlgorithm);
    assert_eq!(reason(Cipher::get_instance(99)), NoSuchAlgorithm);
    // Bad padding on decryption.
    let mut p = Cipher::get_instance(cipher::ALG_AES_CBC_PKCS5).unwrap();
    p.init(&aes, cipher::MODE_DECRYPT, &[]).unwrap();
    assert_eq!(
        reason(p.do_final(&[0; 16], &mut out, &mut rng())),
        IllegalUse
    );
    assert_eq!(
        reason(p.do_final(&[0; 15], &mut out, &mut rng())),
        IllegalUse
    );
    // RSA: wrong length, value not below the modulus, padding.
    let v = vectors();
    let crt = crt_key(&v["rsa512"]);
    let mut r = Cipher::get_instance(cipher::ALG_RSA_PKCS1).unwrap();
    r.init(&crt, cipher::MODE_DECRYPT, &[]).unwrap();
    let mut big = [0u8; 64];
    assert_eq!(
        reason(r.do_final(&[1; 63], &mut big, &mut rng())),
        IllegalUse
    );
    assert_eq!(
        reason(r.do_final(&[0xFF; 64], &mut big, &mut rng())),
        IllegalUse
    );
    let mut one = [0u8; 64];
    one[63] = 1;
    assert_eq!(reason(r.do_final(&one, &mut big, &mut rng())), IllegalUse);
    assert_eq!(
        reason(r.init(&crt, cipher::MODE_DECRYPT, &[0; 8])),
        IllegalValue
    );
    // Signature.
    let mut s = Signature::get_instance(signature::ALG_DES_MAC8_NOPAD).unwrap();
    assert_eq!(reason(s.update(&[0; 8])), InvalidInit);
    s.init(&k, signature::MODE_VERIFY, &[]).unwrap();
    assert_eq!(reason(s.sign(&[0; 8], &mut out)), InvalidInit);
    s.init(&k, signature::MODE_SIGN, &[]).unwrap();
    assert_eq!(reason(s.verify(&[0; 8], &[0; 8])), InvalidInit);
    assert_eq!(reason(s.sign(&[0; 7], &mut out)), IllegalUse);
    assert_eq!(
        reason(s.init(&aes, signature::MODE_SIGN, &[])),
        IllegalValue
    );
    assert_eq!(reason(s.init(&k, 0, &[])), IllegalValue);
    let mut alg3 = Signature::get_instance(signature::ALG_DES_MAC8_ISO9797_1_M2_ALG3).unwrap();
    assert_eq!(
        reason(alg3.init(&unset, signature::MODE_SIGN, &[])),
        UninitializedKey
    );
    let mut rs = Signature::get_instance(signature::ALG_RSA_SHA_PKCS1).unwrap();
    assert_eq!(
        reason(rs.init(&crt, signature::MODE_VERIFY, &[])),
        IllegalValue
    );
    assert_eq!(reason(Signature::get_instance(24)), NoSuchAlgorithm);
    // clearKey.
    k.clear_key();
    assert!(!k.is_initialized());
    assert_eq!(reason(k.get(Component::Key, &mut out)), UninitializedKey);
}

#[test]
fn state_survives_encoding_mid_message() {
    // The VM keeps each object's state as bytes between bytecodes: encode/decode after every
    // call must not change any answer.
    let v = vectors();
    let a = &v["aes"];
    let k = sym_key(keys::TYPE_AES, &hv(a, "sp800_38a_key"));
    let mut c = Cipher::get_instance(cipher::ALG_AES_BLOCK_128_CBC_NOPAD).unwrap();
    c.init(&k, cipher::MODE_ENCRYPT, &hv(a, "sp800_38a_iv"))
        .unwrap();
    let pt = hv(a, "sp800_38a_pt");
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    for piece in pt.chunks(11) {
        c = Cipher::decode(&c.encode()).unwrap();
        let n = c.update(piece, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let mut c = Cipher::decode(&c.encode()).unwrap();
    let n = c.do_final(&[], &mut buf, &mut rng()).unwrap();
    out.extend_from_slice(&buf[..n]);
    assert_eq!(out, hv(a, "sp800_38a_ct"));

    let r = &v["rsa512"];
    let crt = crt_key(r);
    let (p, t) = crt.to_parts();
    assert!(t.is_empty());
    let crt2 = Key::from_parts(&p, &t).unwrap();
    assert!(crt2.is_initialized());
    let mut s = Signature::get_instance(signature::ALG_RSA_SHA_PKCS1).unwrap();
    s.init(&crt2, signature::MODE_SIGN, &[]).unwrap();
    s.update(b"a").unwrap();
    let mut s = Signature::decode(&s.encode()).unwrap();
    let mut sig = [0u8; 64];
    s.sign(b"bc", &mut sig).unwrap();
    assert_eq!(&sig[..], &hv(r, "sig_sha1_pkcs1")[..]);

    let mut md = MessageDigest::get_instance(1).unwrap();
    md.update(b"ab");
    let mut md = MessageDigest::decode(&md.encode()).unwrap();
    let n = md.do_final(b"c", &mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        &h("a9993e364706816aba3e25717850c26c9cd0d89d")[..]
    );

    // A transient key keeps its components in the transient part: gone after a reset.
    let tk = sym_key(keys::TYPE_DES_TRANSIENT_RESET, &[1; 8]);
    let (p, t) = tk.to_parts();
    assert!(Key::from_parts(&p, &t).unwrap().is_initialized());
    assert!(!Key::from_parts(&p, &[]).unwrap().is_initialized());
    // Corrupt state is an error naming the offset, never a panic.
    let enc = c.encode();
    for cut in 0..enc.len() {
        assert!(Cipher::decode(&enc[..cut]).is_err());
    }
    let e = Key::decode(&[keys::TYPE_AES, 0, 128, 7]).unwrap_err();
    assert!(e.contains("offset"), "{e}");
}

/// `openssl` with `args`, or None when it is not installed.
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

/// The hex components of `openssl rsa -text` output.
fn rsa_text_field(text: &str, name: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(name));
    let mut hex = String::new();
    lines.next();
    for l in lines {
        if !l.starts_with(' ') {
            break;
        }
        hex.extend(l.trim().split(':').filter(|x| !x.is_empty()));
    }
    let b = h(&hex);
    b.iter().skip_while(|x| **x == 0).copied().collect()
}

#[test]
fn rsa_1024_crt_decrypt_and_sign_equal_openssl() {
    let dir = std::env::temp_dir().join(format!("simota-jcvm-rsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let Some(_) = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        &f("key.pem"),
    ]) else {
        eprintln!("openssl not installed: skipped");
        return;
    };
    let text =
        String::from_utf8(openssl(&["rsa", "-in", &f("key.pem"), "-text", "-noout"]).unwrap())
            .unwrap();
    let mut crt =
        KeyBuilder::build_key(keys::TYPE_RSA_CRT_PRIVATE_TRANSIENT_DESELECT, 1024, false).unwrap();
    for (c, n) in [
        (Component::P, "prime1:"),
        (Component::Q, "prime2:"),
        (Component::Dp1, "exponent1:"),
        (Component::Dq1, "exponent2:"),
        (Component::Pq, "coefficient:"),
    ] {
        crt.set(c, &rsa_text_field(&text, n)).unwrap();
    }
    let public = rsa_key(
        keys::TYPE_RSA_PUBLIC,
        &rsa_text_field(&text, "modulus:"),
        &[1, 0, 1],
    );
    let (key_pem, msg_f, ct_f) = (f("key.pem"), f("msg"), f("ct"));
    let msg = b"decrypt equals OpenSSL's";
    std::fs::write(f("msg"), msg).unwrap();
    let mut buf = [0u8; 128];
    for (alg, opts) in [
        (
            cipher::ALG_RSA_PKCS1,
            &["-pkeyopt", "rsa_padding_mode:pkcs1"],
        ),
        (
            cipher::ALG_RSA_PKCS1_OAEP,
            &["-pkeyopt", "rsa_padding_mode:oaep"],
        ),
    ] {
        // OpenSSL encrypts, the card decrypts.
        let mut args = vec!["pkeyutl", "-encrypt", "-inkey", &key_pem, "-in", &msg_f];
        args.extend_from_slice(opts);
        let ct = openssl(&args).unwrap();
        let mut d = Cipher::get_instance(alg).unwrap();
        d.init(&crt, cipher::MODE_DECRYPT, &[]).unwrap();
        let n = d.do_final(&ct, &mut buf, &mut rng()).unwrap();
        assert_eq!(&buf[..n], msg, "alg {alg}");
        // The card encrypts, OpenSSL decrypts.
        let mut e = Cipher::get_instance(alg).unwrap();
        e.init(&public, cipher::MODE_ENCRYPT, &[]).unwrap();
        let n = e.do_final(msg, &mut buf, &mut rng()).unwrap();
        std::fs::write(&ct_f, &buf[..n]).unwrap();
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", &key_pem, "-in", &ct_f];
        args.extend_from_slice(opts);
        assert_eq!(openssl(&args).unwrap(), msg, "alg {alg}");
    }
    for (alg, dgst) in [
        (signature::ALG_RSA_SHA_PKCS1, "-sha1"),
        (signature::ALG_RSA_SHA_256_PKCS1, "-sha256"),
        (signature::ALG_RSA_SHA_512_PKCS1, "-sha512"),
    ] {
        let want = openssl(&["dgst", dgst, "-sign", &f("key.pem"), &f("msg")]).unwrap();
        let mut s = Signature::get_instance(alg).unwrap();
        s.init(&crt, signature::MODE_SIGN, &[]).unwrap();
        let n = s.sign(msg, &mut buf).unwrap();
        assert_eq!(&buf[..n], &want[..], "alg {alg}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn running_state_stays_bounded_and_macs_stream() {
    let v = vectors();
    let s = &v["sym"];
    // A digest's state is the hash's running state: the same size after 1 byte or 10 KB.
    let mut md = MessageDigest::get_instance(4).unwrap();
    md.update(&[1]);
    let small = md.encode().len();
    md.update(&[7; 10_000]);
    assert_eq!(md.encode().len(), small);
    // A MAC streams block by block through encode/decode; ISO 9797 M1 over aligned data
    // adds no block, so it equals the NOPAD MAC.
    let k = sym_key(keys::TYPE_DES, &hv(s, "k16"));
    for alg in [
        signature::ALG_DES_MAC8_ISO9797_M1,
        signature::ALG_DES_MAC8_NOPAD,
    ] {
        let mut sig = Signature::get_instance(alg).unwrap();
        sig.init(&k, signature::MODE_SIGN, &[]).unwrap();
        let data = hv(s, "data24");
        let mut lens = Vec::new();
        for piece in data.chunks(5) {
            sig = Signature::decode(&sig.encode()).unwrap();
            sig.update(piece).unwrap();
            lens.push(sig.encode().len());
        }
        assert!(lens.iter().max().unwrap() - lens.iter().min().unwrap() < 8);
        let mut out = [0u8; 8];
        sig.sign(&[], &mut out).unwrap();
        assert_eq!(&out[..], &hv(s, "des_mac8_nopad_k16")[..], "alg {alg}");
    }
}

#[test]
fn corrupt_state_bytes_are_errors_never_panics() {
    // Every truncation and every single-byte change of every kind of encoded state decodes
    // to an error or to a valid object (whose use then fails cleanly), never a panic.
    let v = vectors();
    let crt = crt_key(&v["rsa512"]);
    let aes = sym_key(keys::TYPE_AES_TRANSIENT_RESET, &[9; 16]);
    let mut c = Cipher::get_instance(cipher::ALG_AES_CBC_PKCS5).unwrap();
    c.init(&aes, cipher::MODE_DECRYPT, &[3; 16]).unwrap();
    c.update(&[1; 20], &mut [0; 32]).unwrap();
    let mut s = Signature::get_instance(signature::ALG_DES_MAC8_ISO9797_1_M2_ALG3).unwrap();
    s.init(
        &sym_key(keys::TYPE_DES, &[5; 16]),
        signature::MODE_SIGN,
        &[],
    )
    .unwrap();
    s.update(&[2; 11]).unwrap();
    let mut r = Signature::get_instance(signature::ALG_RSA_SHA_256_PKCS1).unwrap();
    r.init(&crt, signature::MODE_SIGN, &[]).unwrap();
    let mut md = MessageDigest::get_instance(6).unwrap();
    md.update(&[4; 130]);
    let states: Vec<(&str, Vec<u8>)> = vec![
        ("key", crt.encode().to_vec()),
        ("cipher", c.encode().to_vec()),
        ("mac", s.encode().to_vec()),
        ("rsa-sig", r.encode().to_vec()),
        ("digest", md.encode().to_vec()),
    ];
    let mut out = [0u8; 128];
    let mut rnd = rng();
    for (what, enc) in &states {
        let try_all =
            |b: &[u8], out: &mut [u8], rnd: &mut dyn jcvm::api::crypto::RandomSource| match *what {
                "key" => {
                    let _ = Key::decode(b).map(|k| k.is_initialized());
                }
                "cipher" => {
                    if let Ok(mut c) = Cipher::decode(b) {
                        let _ = c.update(&[1; 5], out);
                        let _ = c.do_final(&[1; 12], out, rnd);
                    }
                }
                "mac" | "rsa-sig" => {
                    if let Ok(mut s) = Signature::decode(b) {
                        let _ = s.update(&[1; 5]);
                        let _ = s.sign(&[1; 3], out);
                    }
                }
                _ => {
                    if let Ok(mut m) = MessageDigest::decode(b) {
                        let _ = m.do_final(&[1; 3], out);
                    }
                }
            };
        for cut in 0..enc.len() {
            try_all(&enc[..cut], &mut out, &mut rnd);
        }
        for i in 0..enc.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut b = enc.clone();
                b[i] ^= x;
                try_all(&b, &mut out, &mut rnd);
            }
        }
    }
}

#[test]
fn ecdsa_p384_equals_openssl_rfc6979_and_generated_pairs_work() {
    let v = vectors();
    let e = &v["ecdsa_p384_rfc6979"];
    let (mut public, mut private) = keypair::new_pair(keypair::ALG_EC_FP, 384).unwrap();
    keypair::gen_key_pair(&mut public, &mut private, &mut rng()).unwrap();
    let mut s = Signature::get_instance(signature::ALG_ECDSA_SHA_384).unwrap();
    s.init(&private, signature::MODE_SIGN, &[]).unwrap();
    assert_eq!(s.length().unwrap(), 104);
    let mut out = [0u8; 104];
    let n = s.sign(b"generated", &mut out).unwrap();
    s.init(&public, signature::MODE_VERIFY, &[]).unwrap();
    assert!(s.verify(b"generated", &out[..n]).unwrap());
    // The RFC 6979 key: the same deterministic signature as OpenSSL's.
    private.set(Component::S, &hv(e, "x")).unwrap();
    let mut w = vec![4];
    w.extend(hv(e, "ux"));
    w.extend(hv(e, "uy"));
    public.set(Component::W, &w).unwrap();
    s.init(&private, signature::MODE_SIGN, &[]).unwrap();
    let n = s.sign(b"sample", &mut out).unwrap();
    assert_eq!(&out[..n], &hv(e, "sha384_der")[..]);
    s.init(&public, signature::MODE_VERIFY, &[]).unwrap();
    assert!(s.verify(b"sample", &hv(e, "sha384_der")).unwrap());
    // A P-256 point in a P-384 key is refused.
    let mut k = KeyBuilder::build_key(keys::TYPE_EC_FP_PUBLIC, 384, false).unwrap();
    assert_eq!(
        reason(k.set(Component::W, &[4; 65])),
        CryptoReason::IllegalValue
    );
}

#[test]
fn signature_get_instance_by_digest_cipher_and_padding() {
    use jcvm::api::crypto::signature::algorithm_of;
    assert_eq!(
        algorithm_of(4, signature::SIG_CIPHER_RSA, 7).unwrap(),
        signature::ALG_RSA_SHA_256_PKCS1
    );
    assert_eq!(
        algorithm_of(1, signature::SIG_CIPHER_ECDSA, 0).unwrap(),
        signature::ALG_ECDSA_SHA
    );
    assert_eq!(
        algorithm_of(0, signature::SIG_CIPHER_DES_MAC8, 5).unwrap(),
        signature::ALG_DES_MAC8_ISO9797_1_M2_ALG3
    );
    assert_eq!(
        algorithm_of(0, signature::SIG_CIPHER_AES_MAC128, 1).unwrap(),
        signature::ALG_AES_MAC_128_NOPAD
    );
    // PSS and HMAC are not there.
    assert_eq!(
        reason(algorithm_of(4, signature::SIG_CIPHER_RSA, 8)),
        CryptoReason::NoSuchAlgorithm
    );
    assert_eq!(reason(algorithm_of(4, 7, 0)), CryptoReason::NoSuchAlgorithm);
    assert_eq!(
        cipher::algorithm_of(cipher::CIPHER_AES_CBC, cipher::PAD_PKCS5).unwrap(),
        cipher::ALG_AES_CBC_PKCS5
    );
    assert_eq!(
        reason(cipher::algorithm_of(cipher::CIPHER_AES_CBC, 2)),
        CryptoReason::NoSuchAlgorithm
    );
}
