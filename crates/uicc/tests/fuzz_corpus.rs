//! Replays the cargo-fuzz seed corpus of `card_process` (fuzz/corpus/card_process) with the
//! same input interpretation as the fuzz target, so CI exercises it without libFuzzer.

use uicc::{Card, Profile};

fn replay(data: &[u8]) {
    let mut card = Card::new(Profile::default_profile()).unwrap();
    let mut rest = data;
    let mut n = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let take = (len as usize).min(tail.len());
        let (apdu, tail) = tail.split_at(take);
        rest = tail;
        n += 1;
        if n > 64 {
            break;
        }
        match apdu.len() {
            0 => assert!(!card.reset().is_empty()),
            1 => card.tear_after_writes(u64::from(apdu[0] & 0x0F)),
            _ => {
                let r = card.process(apdu);
                assert!(
                    r.len() >= 2 || (r.is_empty() && card.power_lost()),
                    "no status word"
                );
            }
        }
    }
}

#[test]
fn replay_card_process_corpus() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/card_process"
    );
    let mut count = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        replay(&std::fs::read(&p).unwrap());
        count += 1;
    }
    assert!(count >= 5, "seed corpus missing");
}

#[test]
fn replay_profile_corpus() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/profile_toml"
    );
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        match Profile::from_toml_str(&text) {
            Ok(p) => drop(Card::new(p).unwrap()),
            Err(e) => assert!(e.position().is_some()),
        }
    }
}
