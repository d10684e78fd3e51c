//! BER-TLV parse → emit → parse, and the named tree.
//! The body is `fuzz::targets::ber_tlv` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::ber_tlv(data);
});
