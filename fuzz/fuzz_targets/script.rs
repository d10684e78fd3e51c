//! the .apdu and apdutool .scr script parsers.
//! The body is `fuzz::targets::script` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::script(data);
});
