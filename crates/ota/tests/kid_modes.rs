//! The KID nibble read per mode (ETSI TS 102 225 §5.1.3; issue 12 item 8): every vector of
//! `test-vectors/scp80-kid-modes.json`, generated independently of this crate by
//! `tools/gen-scp80-kid-vectors.py` (Python + PyCryptodome, cross-checked with pySim where
//! pySim can build the same packet). Keysets × command RC/CC/none × PoR RC/CC/none ×
//! ciphering: a 3DES-MAC keyset doing CRC32 for an RC, a CRC32 keyset with a 3DES key doing
//! a CC, a CC one way and an RC the other, and the combinations that must be refused (a
//! nibble that codes no RC, a CC without a key).

use apdu::hex;
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, IntegrityMode, Keyset,
    ResponsePacket, ResponseStatus, Spi, Tar,
};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = format!(
        "{}/../../test-vectors/scp80-kid-modes.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn keyset(v: &Value) -> Keyset {
    let k = &v["keyset"];
    let mut ks = Keyset::new();
    if let Some(a) = k["kic_alg"].as_str() {
        let a: CipherAlgorithm = a.parse().unwrap();
        ks = ks
            .with_kic(a, &h(&k["kic"]), k["kic_index"].as_u64().unwrap() as u8)
            .unwrap();
    }
    // The KIc byte carries the index even when the keyset has no ciphering algorithm.
    ks.kic_index = k["kic_index"].as_u64().unwrap() as u8;
    let a: ChecksumAlgorithm = k["kid_alg"].as_str().unwrap().parse().unwrap();
    ks.with_kid(a, &h(&k["kid"]), k["kid_index"].as_u64().unwrap() as u8)
        .unwrap_or_else(|e| panic!("{}: {e}", v["id"]))
}

fn mode(v: &Value) -> IntegrityMode {
    match v["mode"].as_str().unwrap() {
        "none" => IntegrityMode::None,
        "rc" => IntegrityMode::Rc,
        "cc" => IntegrityMode::Cc,
        m => panic!("mode {m}"),
    }
}

#[test]
fn every_kid_mode_vector_builds_and_parses() {
    let all = vectors();
    assert_eq!(all.len(), 369, "the generated set");
    let (mut built, mut refused, mut mixed) = (0, 0, 0);
    let mut failures = Vec::new();
    for v in &all {
        let id = v["id"].as_str().unwrap();
        let keys = keyset(v);
        let b = h(&v["spi"]);
        let spi = Spi::from_bytes([b[0], b[1]]);
        let tar = Tar::from_slice(&h(&v["tar"])).unwrap();
        let c = h(&v["cntr"]);
        let counter = Counter::from_bytes([c[0], c[1], c[2], c[3], c[4]]);
        let data = h(&v["data"]);
        let (cmd, por) = (&v["command"], &v["por"]);
        assert_eq!(spi.integrity, mode(cmd), "{id}");
        assert_eq!(spi.por_integrity, mode(por), "{id}");
        if mode(cmd) != IntegrityMode::None
            && mode(por) != IntegrityMode::None
            && mode(cmd) != mode(por)
        {
            mixed += 1;
        }

        // Command: build, then open what the independent generator built.
        let pkt = CommandPacket::new(spi, &keys, tar, counter, data.clone());
        match (pkt.seal(&keys), cmd.get("expected")) {
            (Ok(got), Some(want)) => {
                if hex::encode(&got) != hex::encode(&h(want)) {
                    failures.push(format!("{id}: command {} != {}", hex::encode(&got), want));
                    continue;
                }
                match CommandPacket::open(&got, &keys) {
                    Ok(p) if p.data == data && p.counter == counter => built += 1,
                    Ok(p) => failures.push(format!("{id}: command opened to {p:?}")),
                    Err(e) => failures.push(format!("{id}: command open: {e}")),
                }
                // A flipped RC/CC byte (unciphered packets, where it sits in clear at
                // offset 16) must be caught.
                if mode(cmd) != IntegrityMode::None && !spi.ciphering {
                    let mut bad = got.clone();
                    bad[16] ^= 0x01;
                    if CommandPacket::open(&bad, &keys).is_ok() {
                        failures.push(format!("{id}: tampered command accepted"));
                    }
                }
            }
            (Err(_), None) => refused += 1,
            (Ok(got), None) => failures.push(format!(
                "{id}: command built {} but must be refused ({})",
                hex::encode(&got),
                cmd["error"]
            )),
            (Err(e), Some(_)) => failures.push(format!("{id}: command refused: {e}")),
        }

        // PoR: build, then open.
        let rdata = por.get("data").map(h).unwrap_or_default();
        let rp = ResponsePacket::new(tar, counter, ResponseStatus::from_byte(0)).with_data(rdata);
        let sec = spi.por_security();
        match (rp.seal(sec, &keys), por.get("expected")) {
            (Ok(got), Some(want)) => {
                if hex::encode(&got) != hex::encode(&h(want)) {
                    failures.push(format!("{id}: PoR {} != {}", hex::encode(&got), want));
                    continue;
                }
                match ResponsePacket::open(&got, sec, &keys) {
                    Ok(p) if p == rp => built += 1,
                    Ok(p) => failures.push(format!("{id}: PoR opened to {p:?}")),
                    Err(e) => failures.push(format!("{id}: PoR open: {e}")),
                }
                if mode(por) != IntegrityMode::None && !sec.ciphering {
                    let mut bad = got.clone();
                    bad[16] ^= 0x01;
                    if ResponsePacket::open(&bad, sec, &keys).is_ok() {
                        failures.push(format!("{id}: tampered PoR accepted"));
                    }
                }
            }
            (Err(_), None) => refused += 1,
            (Ok(got), None) => failures.push(format!(
                "{id}: PoR built {} but must be refused ({})",
                hex::encode(&got),
                por["error"]
            )),
            (Err(e), Some(_)) => failures.push(format!("{id}: PoR refused: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!((built, refused), (612, 126));
    assert!(mixed >= 40, "{mixed} vectors mix CC and RC");
}

#[test]
fn a_3des_mac_keyset_does_crc32_for_an_rc_and_a_crc32_keyset_with_a_key_does_a_cc() {
    let mac = Keyset::new()
        .with_kid(ChecksumAlgorithm::TripleDes2Mac, &[0x22; 16], 1)
        .unwrap();
    assert_eq!(
        mac.kid_alg_for(IntegrityMode::Rc).unwrap(),
        ChecksumAlgorithm::Crc32
    );
    let crc = Keyset::new()
        .with_kid(ChecksumAlgorithm::Crc32, &[0x22; 16], 1)
        .unwrap();
    assert_eq!(
        crc.kid_alg_for(IntegrityMode::Cc).unwrap(),
        ChecksumAlgorithm::TripleDes2Mac
    );
    // Same nibble, same key: the same packet either way.
    let parts: [&[u8]; 1] = [b"0123456789"];
    for m in [IntegrityMode::Rc, IntegrityMode::Cc] {
        let n = if m == IntegrityMode::Rc { 4 } else { 8 };
        assert_eq!(
            mac.checksum_for(m, &parts, n).unwrap(),
            crc.checksum_for(m, &parts, n).unwrap()
        );
    }
    let aes = Keyset::new()
        .with_kid(ChecksumAlgorithm::AesCmac, &[0x22; 16], 1)
        .unwrap();
    let e = aes.kid_alg_for(IntegrityMode::Rc).unwrap_err().to_string();
    assert!(e.contains("nibble 2") && e.contains("CRC32"), "{e}");
    let keyless = Keyset::new()
        .with_kid(ChecksumAlgorithm::Crc32, &[], 1)
        .unwrap();
    let e = keyless
        .kid_alg_for(IntegrityMode::Cc)
        .unwrap_err()
        .to_string();
    assert!(e.contains("16-byte 3DES"), "{e}");
}
