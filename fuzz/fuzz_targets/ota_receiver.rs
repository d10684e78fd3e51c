//! the card's OTA receiver with valid keys (packets sealed from the input, so fuzzing gets past the CC).
//! The body is `fuzz::targets::ota_receiver` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::ota_receiver(data);
});
