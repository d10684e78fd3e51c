//! Known answers from GlobalPlatformPro's unit tests (test-vectors/gp-gppro-keys.json): EMV,
//! VISA2 and KDF3 diversification (by KCV), SCP02 and SCP03 session keys, SCP02 DEK
//! encryption, and the generic KDF in counter mode.

use apdu::hex::{decode, encode};
use gp::keys::{dek_encrypt, kcv};
use gp::scp02::Scp02SessionKeys;
use gp::scp03::Scp03SessionKeys;
use gp::{Diversification, KeyKind, StaticKeys};
use serde_json::Value;

fn v() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/gp-gppro-keys.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn hx(v: &Value) -> Vec<u8> {
    decode(v.as_str().unwrap()).unwrap()
}

#[test]
fn diversification_kcvs() {
    let all = v();
    let kdd = hx(&all["kdd"]);
    for d in all["diversification"].as_array().unwrap() {
        let kind = if d["kind"] == "aes" {
            KeyKind::Aes
        } else {
            KeyKind::Des3
        };
        let div = Diversification::from_name(d["kdf"].as_str().unwrap()).unwrap();
        let m = StaticKeys::single(0, kind, &hx(&d["master"])).unwrap();
        let k = m.diversify(div, &kdd).unwrap();
        let got: Vec<String> = [&k.enc, &k.mac, &k.dek]
            .iter()
            .map(|x| encode(&kcv(kind, x.bytes()).unwrap()))
            .collect();
        let want: Vec<String> = d["kcv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{d}");
    }
    let e = &all["kdf3_external"];
    let m = StaticKeys::single(0, KeyKind::Aes, &hx(&e["master"])).unwrap();
    let k = m.diversify(Diversification::Kdf3, &hx(&e["kdd"])).unwrap();
    assert_eq!(k.enc.bytes(), hx(&e["enc"]).as_slice());
}

#[test]
fn scp02_session_keys_and_dek_encryption() {
    let all = v();
    let s = &all["scp02_session"];
    let k = hx(&s["static"]);
    let sk = Scp02SessionKeys::derive(&k, &k, &k, s["seq"].as_u64().unwrap() as u16).unwrap();
    let c = |x: &[u8]| encode(&kcv(KeyKind::Des3, x).unwrap());
    assert_eq!(c(&sk.enc), s["kcv_enc"].as_str().unwrap());
    assert_eq!(c(&sk.cmac), s["kcv_cmac"].as_str().unwrap());
    assert_eq!(c(&sk.dek), s["kcv_dek"].as_str().unwrap());
    assert_eq!(c(&sk.rmac), s["kcv_rmac"].as_str().unwrap());
    assert_eq!(
        dek_encrypt(KeyKind::Des3, &sk.dek, &k).unwrap(),
        hx(&s["dek_encrypted_static_key"])
    );
}

#[test]
fn scp03_session_keys() {
    let all = v();
    let s = &all["scp03_session"];
    let k = hx(&s["static"]);
    let sk = Scp03SessionKeys::derive(&k, &k, &hx(&s["context"]), &[]).unwrap();
    let c = |x: &[u8]| encode(&kcv(KeyKind::Aes, x).unwrap());
    assert_eq!(c(&sk.enc), s["kcv_enc"].as_str().unwrap());
    assert_eq!(c(&sk.mac), s["kcv_mac"].as_str().unwrap());
    assert_eq!(c(&sk.rmac), s["kcv_rmac"].as_str().unwrap());
    assert_eq!(c(&k), s["kcv_dek"].as_str().unwrap());
}

#[test]
fn kdf_in_counter_mode() {
    let all = v();
    let f = &all["kdf_counter"];
    let out = gp::crypto::kdf_counter(
        &hx(&f["key"]),
        &hx(&f["a"]),
        &hx(&f["b"]),
        f["len"].as_u64().unwrap() as usize,
    )
    .unwrap();
    assert_eq!(
        encode(&kcv(KeyKind::Aes, &out).unwrap()),
        f["kcv"].as_str().unwrap()
    );
}
