//! COMPREHENSION-TLV parse → emit → parse (ETSI TS 101 220 §7.1.1), and the tree.
//! The body is `fuzz::targets::comp_tlv` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::comp_tlv(data);
});
