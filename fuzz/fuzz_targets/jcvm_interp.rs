//! The Java Card VM's interpreter (JCVM Spec 3.0.5 §7): arbitrary bytecode in a hand-assembled
//! package, and arbitrary commands to the Wallet applet. The body is
//! `fuzz::targets::jcvm_interp` (crates/fuzz), also replayed over the corpus by
//! `cargo test -p simota-fuzz --test corpus_replay`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz::targets::jcvm_interp(data);
});
