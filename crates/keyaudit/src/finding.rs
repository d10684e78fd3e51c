//! What the audit reports: one finding per key and check, with the evidence.

use serde::Serialize;

/// The checks of the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// ROCA fingerprint (Nemec et al., CCS 2017; CVE-2017-15361).
    Roca,
    /// A prime factor shared with another key (batch GCD).
    SharedPrime,
    /// A prime factor below the trial-division bound.
    SmallFactor,
    /// Primes close enough for Fermat's method.
    Fermat,
    /// Public exponent policy (e = 1, even, below 65537).
    Exponent,
    /// Key size policy (RSA below 2048 bits, EC below 224 bits).
    KeySize,
    /// The same key occurs more than once.
    Duplicate,
    /// EC point not on the curve, the identity, or malformed.
    EcPoint,
    /// EC curve unnamed, unknown or weak.
    EcCurve,
    /// Most-significant-bit statistics of a run of generations.
    MsbBias,
    /// A key type or curve recorded but not audited.
    NotAudited,
}

impl Check {
    /// The kebab-case name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Check::Roca => "roca",
            Check::SharedPrime => "shared-prime",
            Check::SmallFactor => "small-factor",
            Check::Fermat => "fermat",
            Check::Exponent => "exponent",
            Check::KeySize => "key-size",
            Check::Duplicate => "duplicate",
            Check::EcPoint => "ec-point",
            Check::EcCurve => "ec-curve",
            Check::MsbBias => "msb-bias",
            Check::NotAudited => "not-audited",
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The key is broken or violates policy: the audit fails.
    Weak,
    /// Noted, does not fail the audit.
    Info,
}

/// One finding: which key, which check, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The key's label (see [`crate::key::PublicKey::label`]); `*` for the whole set.
    pub key: String,
    /// The check that fired.
    pub check: Check,
    /// Weak or informational.
    pub severity: Severity,
    /// The evidence, e.g. the factor found.
    pub evidence: String,
}
