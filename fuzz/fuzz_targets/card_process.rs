//! Feeds random APDU sequences to `Card::process` (default profile, in-memory store).
//!
//! Input format: a sequence of records `len ‖ bytes[len]`; a record of length 0 is a cold
//! reset, length 1 with value `k` arms the tearing hook after `k` writes (then resets on the
//! next reset record). Every answer must be empty (power cut) or end with a status word.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use uicc::{Card, Profile};

static PROFILE: OnceLock<Profile> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let profile = PROFILE.get_or_init(Profile::default_profile).clone();
    let Ok(mut card) = Card::new(profile) else { return };
    let mut rest = data;
    let mut n = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let len = len as usize;
        let take = len.min(tail.len());
        let (apdu, tail) = tail.split_at(take);
        rest = tail;
        n += 1;
        if n > 64 {
            break;
        }
        match apdu.len() {
            0 => {
                let atr = card.reset();
                assert!(!atr.is_empty());
            }
            1 => card.tear_after_writes(u64::from(apdu[0] & 0x0F)),
            _ => {
                let r = card.process(apdu);
                assert!(r.len() >= 2 || (r.is_empty() && card.power_lost()), "no status word");
            }
        }
    }
});
