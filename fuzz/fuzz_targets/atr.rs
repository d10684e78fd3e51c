//! ATR parsing and every accessor (ISO/IEC 7816-3 §8).
//! The body is `fuzz::targets::atr` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::atr(data);
});
