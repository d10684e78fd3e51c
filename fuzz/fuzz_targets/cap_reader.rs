//! The CAP file reader (JCVM Spec 3.0.5 ch. 6: ZIP container and components, structural
//! verification). The body is `fuzz::targets::cap_reader` (crates/fuzz), also replayed over
//! the corpus by `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::cap_reader(data);
});
