//! Writes the seed corpora of the coverage fuzz targets into `fuzz/corpus/<target>/`:
//! byte strings from `test-vectors/*.json` (by field name), the scripts of `apdu-scripts/`,
//! answers of the emulated card (ATR, FCPs), and well-formed inputs built with the OTA
//! fuzzer's own generator. Run from the workspace root: `tools/fuzz-seed`.

use fuzz::case::{Canary, Context, Gen};
use fuzz::class::Class;
use ota::{Counter, Keyset};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

type Corpus = BTreeMap<&'static str, Vec<Vec<u8>>>;

fn add(c: &mut Corpus, target: &'static str, b: Vec<u8>) {
    if b.is_empty() || b.len() > 16384 {
        return;
    }
    let v = c.entry(target).or_default();
    if !v.contains(&b) {
        v.push(b);
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if t.len() < 4 || !t.len().is_multiple_of(2) || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    apdu::hex::decode(&t).ok()
}

fn walk(c: &mut Corpus, key: &str, v: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                walk(c, k, x);
            }
        }
        Value::Array(a) => {
            for x in a {
                walk(c, key, x);
            }
        }
        Value::String(s) => {
            let Some(b) = hex(s) else { return };
            match key {
                "expected_encoded_cmd" | "ts31115_conformant_packet" => add(c, "command_packet", b),
                "encoded_resp" => add(c, "por", b),
                "sms_user_data_with_udh" | "pysim_user_data_as_sent_by_smpp_ota_tool" => {
                    let sms = fuzz::build::SmsSpec::default();
                    add(c, "tpdu", sms.tpdu(&b));
                    add(c, "tpdu", b);
                }
                "apdu" => {
                    add(c, "remote_apdu", b.clone());
                    add(c, "apdu", b);
                }
                "last_response_data" | "secured_data_plain" => add(c, "remote_apdu", b),
                "hex" if matches!(b.first(), Some(0xD0..=0xDF) | Some(0x81)) => {
                    if let Some(inner) = b.get(2..) {
                        add(c, "comp_tlv", inner.to_vec());
                    }
                    add(c, "envelope", b.clone());
                    add(c, "ber_tlv", b);
                }
                "hex" | "request" | "answer" => add(c, "ber_tlv", b),
                _ => {}
            }
        }
        _ => {}
    }
}

fn aes() -> Keyset {
    fuzz::dut::default_profile_keyset(1).unwrap()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut c = Corpus::new();
    // Test vectors.
    let mut files: Vec<_> = std::fs::read_dir(root.join("test-vectors"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for p in files {
        if p.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            walk(&mut c, "", &v);
        }
    }
    // Scripts.
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("apdu-scripts"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    scripts.sort();
    for p in scripts {
        let text = std::fs::read_to_string(&p).unwrap();
        if p.extension().is_some_and(|e| e == "apdu" || e == "scr") {
            add(&mut c, "script", text.as_bytes().to_vec());
        }
        for line in text.lines() {
            let l = line.split("=>").next().unwrap_or("").trim();
            if let Some(b) = hex(l) {
                add(&mut c, "apdu", b);
            }
        }
    }
    // The emulated card: ATR and FCPs.
    let mut card = uicc::Card::new(uicc::Profile::default_profile()).unwrap();
    add(&mut c, "atr", card.atr());
    add(
        &mut c,
        "atr",
        hex("3B9F96801FC78031A073BE21136743200718000001A5").unwrap(),
    );
    add(&mut c, "atr", hex("3B02145011").unwrap());
    for sel in [
        "00A40004023F00",
        "00A40004022FE2",
        "00A40004022F00",
        "00A4040407A0000000871002",
        "00A40804047F106F3A",
    ] {
        let r = card.process(&hex(&format!("{sel}00")).unwrap());
        if r.len() > 2 {
            add(&mut c, "fcp", r[..r.len() - 2].to_vec());
            add(&mut c, "ber_tlv", r[..r.len() - 2].to_vec());
        }
    }
    // Generated OTA traffic.
    let k = aes();
    let canary = Canary {
        path: vec![0x3F00, 0x2FE2],
        content: hex("98881201000000000010").unwrap(),
    };
    let ctx = Context {
        keys: &k,
        tar: [0xB0, 0, 0],
        msl: 0,
        stored: Counter::new(5).unwrap(),
        canary: Some(&canary),
        known_tars: &[],
    };
    for (i, cl) in [
        Class::ValidCompact,
        Class::ValidExpanded,
        Class::ValidIndefinite,
        Class::ValidConcatenated,
        Class::ConcatRef16,
        Class::EnvAddress,
        Class::PayloadRandomApdus,
        Class::PayloadExpandedNested,
    ]
    .iter()
    .enumerate()
    {
        let case = Gen::new(ctx, 1, i as u64 + 1).case(*cl, false);
        for a in &case.steps[0].apdus {
            add(&mut c, "apdu", a.clone());
            let data = a[5..a.len() - 1].to_vec();
            if let Ok(e) = ota::SmsPpDownload::parse(&data) {
                add(&mut c, "tpdu", e.tpdu.clone());
                if let Ok(d) = ota::sms::SmsDeliver::parse(&e.tpdu) {
                    if let Ok((_, used)) = ota::sms::Udh::parse(&d.ud) {
                        add(&mut c, "command_packet", d.ud[used..].to_vec());
                    }
                }
            }
            add(&mut c, "envelope", data);
        }
    }
    let upd = hex("00A4080C022FE200D600000A98881201000000000011").unwrap();
    let expd = fuzz::case::expanded(
        &[
            hex("00A4080C022FE2").unwrap(),
            hex("00D600000A98881201000000000011").unwrap(),
        ],
        false,
    );
    add(&mut c, "remote_apdu", expd.clone());
    add(
        &mut c,
        "remote_apdu",
        fuzz::case::expanded(&[hex("80F2000000").unwrap()], true),
    );
    add(&mut c, "remote_apdu", hex("AB0780010123029000").unwrap());
    add(&mut c, "remote_apdu", upd.clone());
    // OTA receiver records: flags cntr len data.
    let rec = |flags: u8, cntr: u8, d: &[u8]| {
        let mut v = vec![flags, cntr, d.len() as u8];
        v.extend_from_slice(d);
        v
    };
    let mut ota_in = Vec::new();
    ota_in.extend(rec(0x00, 1, &upd));
    ota_in.extend(rec(0x00, 1, &hex("00A40004023F00").unwrap()));
    add(&mut c, "ota_receiver", ota_in);
    add(&mut c, "ota_receiver", rec(0x40, 1, &upd[..upd.len()]));
    add(
        &mut c,
        "ota_receiver",
        rec(0x02, 3, &hex("80F24000024F0000C0000000").unwrap()),
    );
    add(
        &mut c,
        "ota_receiver",
        rec(0x01, 1, &hex("00A4080C046F076F0700B0000009").unwrap()),
    );
    add(&mut c, "ota_receiver", rec(0x14, 2, &upd));
    add(&mut c, "ota_receiver", rec(0x88, 1, &upd));
    // CAP files (the smallest two, as ZIPs).
    let mut caps: Vec<_> = std::fs::read_dir(root.join("test-vectors/cap"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cap"))
        .collect();
    caps.sort_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    for p in caps.iter().take(2) {
        add(&mut c, "cap_reader", std::fs::read(p).unwrap());
    }
    // Write.
    let out = root.join("fuzz/corpus");
    for (t, items) in &c {
        let dir = out.join(t);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, b) in items.iter().take(60).enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), b).unwrap();
        }
        println!("{t}: {} seed(s)", items.len().min(60));
    }
    for (t, _) in fuzz::targets::TARGETS {
        if !c.contains_key(t) {
            println!("{t}: no seeds!");
        }
    }
}
