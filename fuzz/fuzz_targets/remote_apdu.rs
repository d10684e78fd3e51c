//! remote APDU scripts and responses, compact and expanded (TS 102 226).
//! The body is `fuzz::targets::remote_apdu` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::remote_apdu(data);
});
