//! Key-quality audit of the public keys cards produce (sans-IO): the ROCA fingerprint (Nemec
//! et al., CCS 2017), shared primes across the set by batch GCD (Bernstein 2004, Heninger et
//! al. 2012), small factors, Fermat-close primes, exponent and size policy, duplicates, EC
//! point and curve validity (SEC 1, RFC 5480), and MSB statistics of a generation run.
//!
//! Big integers come from `num-bigint`: batch GCD is dominated by multiplying numbers of
//! millions of bits, so large products go through our number-theoretic transform ([`ntt`])
//! instead of `num-bigint`'s Karatsuba/Toom-3, the remainder tree is Bernstein's scaled one
//! (no division), and the one reciprocal is Newton's ([`fastdiv`]). `crypto-bigint` is fixed-width and constant-time, right for secrets and wrong for
//! a product tree of public moduli.
//!
//! Readers for PEM/DER SubjectPublicKeyInfo, PKCS#1, PKCS#10, X.509 and CSV are in [`read`].

pub mod audit;
pub mod batchgcd;
pub mod ec;
pub mod fastdiv;
pub mod fermat;
pub mod finding;
pub mod key;
pub mod msb;
pub mod ntt;
pub mod primes;
pub mod read;
pub mod roca;
pub mod smallfactors;

pub use audit::{audit, Options, Report};
pub use finding::{Check, Finding, Severity};
pub use key::{Curve, KeyKind, PublicKey};
pub use num_bigint::BigUint;
