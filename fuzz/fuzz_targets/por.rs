//! SCP80 PoRs: parse, decipher, verify, the terminal's PoR decoding.
//! The body is `fuzz::targets::por` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::por(data);
});
