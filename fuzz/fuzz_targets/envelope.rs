//! SMS-PP ENVELOPE, CAT ENVELOPEs, proactive commands, TERMINAL RESPONSEs (TS 102 223).
//! The body is `fuzz::targets::envelope` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::envelope(data);
});
