//! FCP/FCI templates as decoded for SELECT/STATUS answers (TS 102 221 §11.1.1.3).
//! The body is `fuzz::targets::fcp` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::fcp(data);
});
