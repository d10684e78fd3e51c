//! The audited public keys as typed values: RSA (RFC 8017 `RSAPublicKey`) and EC (SEC 1 point
//! with the curve of RFC 5480 `ECParameters`).

use num_bigint::BigUint;

/// One public key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Names the key in findings: file, block or line, or card and key id.
    pub label: String,
    /// The key material.
    pub kind: KeyKind,
}

/// Key material by algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA modulus and public exponent (RFC 8017 A.1.1).
    Rsa {
        /// The modulus N.
        n: BigUint,
        /// The public exponent e.
        e: BigUint,
    },
    /// An EC public key (RFC 5480 2.1.1): the curve and the SEC 1 encoded point.
    Ec {
        /// The domain parameters.
        curve: Curve,
        /// The encoded point (SEC 1 2.3.3), as found.
        point: Vec<u8>,
    },
    /// Another algorithm (its OID), recorded but not audited.
    Other {
        /// The algorithm OID in dotted form.
        algorithm: String,
    },
}

/// EC domain parameters (RFC 5480 2.1.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Curve {
    /// A named curve, by its OID in dotted form.
    Named(String),
    /// Explicit parameters (`specifiedCurve`): an unnamed curve.
    Explicit,
    /// `implicitCA` (NULL): the curve is not stated.
    Implicit,
}

impl KeyKind {
    /// Short description for tables: `RSA-2048`, `EC P-256`.
    pub fn describe(&self) -> String {
        match self {
            KeyKind::Rsa { n, .. } => format!("RSA-{}", n.bits()),
            KeyKind::Ec { curve, .. } => match curve {
                Curve::Named(oid) => format!("EC {}", crate::ec::curve_name(oid).unwrap_or(oid)),
                Curve::Explicit => "EC explicit".into(),
                Curve::Implicit => "EC implicitCA".into(),
            },
            KeyKind::Other { algorithm } => format!("other {algorithm}"),
        }
    }
}
