//! `simota run --cap` with the crypto applets of test-vectors/cap/ (javacard.security /
//! javacardx.crypto natives): the acceptance scripts apdu-scripts/jcvm/sha-digest.apdu,
//! rsa-decrypt.apdu and rsa.apdu (SHA-1 of the data equals FIPS 180-4's, decryption equals
//! OpenSSL's), and OpenSSL encrypting for a key loaded over APDUs.

mod common;

use std::path::PathBuf;
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn simota(args: &[&str]) -> Output {
    common::simota()
        .args(args)
        .current_dir(root())
        .output()
        .expect("run simota")
}

fn check(o: &Output, expectations: usize) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("{expectations} expectation(s), 0 failed")),
        "{out}"
    );
    out
}

#[test]
fn sha_digest_script_answers_sha1_of_the_data() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-SHADigest.cap",
        "apdu-scripts/jcvm/sha-digest.apdu",
    ]);
    check(&o, 3);
}

#[test]
fn rsa_decrypt_script_decrypts_as_openssl() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-rsa-decrypt-pkcs1.cap",
        "apdu-scripts/jcvm/rsa-decrypt.apdu",
    ]);
    check(&o, 9);
}

#[test]
fn rsa_oaep_script_decrypts_hello_world() {
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-rsaapplet.cap",
        "apdu-scripts/jcvm/rsa.apdu",
    ]);
    check(&o, 10);
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
    let b: Vec<u8> = (0..hexs.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hexs[i..i + 2], 16).unwrap())
        .collect();
    b.into_iter().skip_while(|x| *x == 0).collect()
}

#[test]
fn a_fresh_openssl_key_loaded_over_apdus_decrypts_what_openssl_encrypted() {
    let dir = std::env::temp_dir().join(format!("simota-jcvm-crypto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let (key, msg, ct, script) = (f("key.pem"), f("msg"), f("ct"), f("fresh.apdu"));
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
    std::fs::write(&script, s).unwrap();
    let o = simota(&[
        "run",
        "--cap",
        "test-vectors/cap/jcsim-rsa-decrypt-pkcs1.cap",
        &script,
    ]);
    check(&o, 7);
    std::fs::remove_dir_all(&dir).ok();
}
