//! C-APDU / R-APDU parsing and the one-line explainer (ISO/IEC 7816-4 §5.1).
//! The body is `fuzz::targets::apdu` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::apdu(data);
});
