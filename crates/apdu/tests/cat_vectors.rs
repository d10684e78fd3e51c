//! Known-answer test against the 3GPP TS 31.124 CAT byte strings in
//! `test-vectors/cat-ts31124.json` (proactive commands, TERMINAL RESPONSEs, ENVELOPEs): every
//! one parses and re-emits byte for byte (BER-TLV template or COMPREHENSION-TLV sequence), and
//! the explanations name the command type, device identities, general result and text that the
//! vector lists.

use apdu::describe::{self, TlvNode};
use apdu::names;
use apdu::tlv::{BerTlv, CompTlv};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cat-ts31124.json"
    );
    let text = std::fs::read_to_string(path).expect("test-vectors/cat-ts31124.json");
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    v["vectors"].as_array().expect("vectors array").clone()
}

fn find(nodes: &[TlvNode], value: u8) -> Option<&TlvNode> {
    nodes
        .iter()
        .find(|n| n.tag.len() == 1 && n.tag[0] & 0x7F == value)
}

/// Characters the SMS default alphabet shares with ASCII (what the decoder prints as is).
fn plain(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || " !\"#%&'()*+,-./:;<=>?@$_".contains(c))
}

#[test]
fn ts31124_vectors_round_trip_and_explain() {
    let vs = vectors();
    assert!(
        vs.len() > 800,
        "expected the full vector set, got {}",
        vs.len()
    );
    let (mut texts, mut devices, mut results, mut types) = (0, 0, 0, 0);
    for v in &vs {
        let id = v["id"].as_str().unwrap_or("?");
        let bytes = apdu::hex::decode(v["hex"].as_str().expect("hex")).expect("hex decodes");
        let expected = &v["expected"];
        let objects: Vec<TlvNode> = match v["kind"].as_str() {
            Some("terminal_response") => {
                let t = CompTlv::parse_all(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
                let mut out = Vec::new();
                t.iter().for_each(|x| x.emit_into(&mut out));
                assert_eq!(out, bytes, "{id}: COMPREHENSION-TLV round trip");
                describe::comprehension_tree(&bytes, 0).unwrap()
            }
            Some("proactive" | "envelope") => {
                let t = BerTlv::parse_all(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
                let mut out = Vec::new();
                t.iter().for_each(|x| x.emit_into(&mut out));
                assert_eq!(out, bytes, "{id}: BER-TLV round trip");
                let tree = describe::ber_tree(&bytes, 0).unwrap();
                assert_eq!(tree.len(), 1, "{id}: one template");
                if let Some(tag) = expected["tag"].as_u64() {
                    assert_eq!(u64::from(tree[0].tag[0]), tag, "{id}: template tag");
                }
                assert!(
                    tree[0].name.is_some(),
                    "{id}: template {} named",
                    tree[0].tag_hex()
                );
                assert!(
                    !tree[0].children.is_empty() || tree[0].length == 0,
                    "{id}: template value decoded as COMPREHENSION-TLV: {:?}",
                    tree[0].meaning
                );
                if let (Some(t), Some(name)) = (
                    expected["command_type"].as_u64(),
                    expected["command_type"]
                        .as_u64()
                        .and_then(|t| names::proactive_command_name(t as u8)),
                ) {
                    if v["kind"] == "proactive" {
                        assert_eq!(tree[0].meaning.as_deref(), Some(name), "{id}: type {t:02X}");
                        types += 1;
                    }
                }
                tree.into_iter()
                    .next()
                    .map(|n| n.children)
                    .unwrap_or_default()
            }
            other => panic!("{id}: unknown kind {other:?}"),
        };
        if let (Some(s), Some(d)) = (
            expected["source"].as_u64(),
            expected["destination"].as_u64(),
        ) {
            let n =
                |x: u64| names::device_name(x as u8).unwrap_or_else(|| format!("device {x:02X}"));
            let di = find(&objects, 0x02).unwrap_or_else(|| panic!("{id}: device identities"));
            assert_eq!(
                di.meaning.as_deref(),
                Some(format!("{} → {}", n(s), n(d)).as_str()),
                "{id}"
            );
            devices += 1;
        }
        if let Some(r) = expected["general_result"].as_u64() {
            let res = find(&objects, 0x03).unwrap_or_else(|| panic!("{id}: result"));
            if let Some(name) = names::general_result_name(r as u8) {
                assert!(
                    res.meaning.as_deref().unwrap_or("").starts_with(name),
                    "{id}: {res:?}"
                );
                results += 1;
            }
        }
        if let Some(text) = expected["text"].as_str() {
            if let Some(ts) = find(&objects, 0x0D) {
                let m = ts.meaning.as_deref().unwrap_or("");
                let ucs2 = ts.value.first().is_some_and(|d| d & 0x0C == 0x08);
                if !text.is_empty() && (ucs2 || plain(text)) {
                    assert!(m.contains(text), "{id}: text {text:?} not in {m:?}");
                    texts += 1;
                }
            }
        }
    }
    eprintln!("checked: {types} command types, {devices} device identities, {results} results, {texts} texts");
    // The checks above must actually have run on a good share of the vectors.
    assert!(
        types > 500 && devices > 200 && results > 150 && texts > 80,
        "{types} {devices} {results} {texts}"
    );
}
