//! The Java Card API packages implemented in Rust (natives).

pub mod crypto;
