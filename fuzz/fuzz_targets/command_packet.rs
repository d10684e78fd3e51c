//! SCP80 command packets: header, decipher, RC/CC (TS 102 225 / TS 31.115).
//! The body is `fuzz::targets::command_packet` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::command_packet(data);
});
