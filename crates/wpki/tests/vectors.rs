//! The PROTOCOL.md examples, read from test-vectors/wpki-protocol.json: requests and answers
//! decode and re-encode byte for byte; the protected ones decrypt under the documented keys.

use wpki::protocol::{
    derive_key, Answer, E2eKey, Envelope, DIR_ANSWER, DIR_REQUEST, LABEL_ENC, LABEL_MAC,
};

fn hex(s: &str) -> Vec<u8> {
    apdu::hex::decode(s).unwrap()
}

#[test]
fn protocol_examples_round_trip() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/wpki-protocol.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let field = |o: &serde_json::Value, k: &str| -> String {
        match &o[k] {
            serde_json::Value::String(s) => s.clone(),
            x => x.to_string(),
        }
    };
    let list = |k: &str| v[k].as_array().unwrap().clone();
    let km = E2eKey::new(hex(&field(&v, "e2e_master_key")).try_into().unwrap());
    for o in list("plain_requests") {
        let b = hex(&field(&o, "hex"));
        let env = Envelope::open(&b, None).unwrap();
        assert_eq!(env.id.to_string(), field(&o, "id"));
        assert_eq!(env.request().unwrap().encode(), b, "{}", field(&o, "name"));
    }
    for o in list("plain_answers") {
        let b = hex(&field(&o, "hex"));
        assert_eq!(
            Answer::open(&b, None).unwrap().encode(),
            b,
            "{}",
            field(&o, "name")
        );
    }
    for o in list("protected") {
        let id: u32 = field(&o, "id").parse().unwrap();
        let nonce: [u8; 8] = hex(&field(&o, "nonce")).try_into().unwrap();
        assert_eq!(
            derive_key(&km, LABEL_ENC, id, nonce, DIR_REQUEST).to_vec(),
            hex(&field(&o, "k_enc_request"))
        );
        assert_eq!(
            derive_key(&km, LABEL_MAC, id, nonce, DIR_REQUEST).to_vec(),
            hex(&field(&o, "k_mac_request"))
        );
        assert_eq!(
            derive_key(&km, LABEL_ENC, id, nonce, DIR_ANSWER).to_vec(),
            hex(&field(&o, "k_enc_answer"))
        );
        assert_eq!(
            derive_key(&km, LABEL_MAC, id, nonce, DIR_ANSWER).to_vec(),
            hex(&field(&o, "k_mac_answer"))
        );
        let req = hex(&field(&o, "request"));
        let env = Envelope::open(&req, Some(&km)).unwrap();
        assert_eq!(env.fields.to_vec(), hex(&field(&o, "request_fields")));
        assert_eq!(env.request().unwrap().encode_protected(&km, nonce), req);
        let ans = hex(&field(&o, "answer"));
        let a = Answer::open(&ans, Some((&km, nonce))).unwrap();
        assert_eq!(a.id, id);
        assert_eq!(a.encode_fields().to_vec(), hex(&field(&o, "answer_fields")));
        assert_eq!(a.encode_protected(&km, nonce), ans);
    }
}
