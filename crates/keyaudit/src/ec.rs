//! EC public keys: the curve (RFC 5480 2.1.1.1, SEC 2 and RFC 5639 OIDs) and the point
//! (SEC 1 2.3.4: on the curve, not the identity). P-256 and P-384 points are validated with
//! the RustCrypto `p256`/`p384` crates; other named curves are recognised and reported.

use crate::finding::{Check, Finding, Severity};
use crate::key::Curve;

/// Named curves: OID, name, field size in bits.
const CURVES: &[(&str, &str, u32)] = &[
    ("1.2.840.10045.3.1.7", "P-256", 256),
    ("1.3.132.0.34", "P-384", 384),
    ("1.3.132.0.35", "P-521", 521),
    ("1.3.132.0.33", "P-224", 224),
    ("1.2.840.10045.3.1.1", "P-192", 192),
    ("1.3.132.0.10", "secp256k1", 256),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", 256),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", 384),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", 512),
    ("1.3.36.3.3.2.8.1.1.3", "brainpoolP192r1", 192),
];

/// The usual name of a named curve, if known.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    CURVES.iter().find(|c| c.0 == oid).map(|c| c.1)
}

fn point_problem(point: &[u8], ok: bool, field_bytes: usize) -> Option<String> {
    if ok {
        return None;
    }
    Some(match point.first() {
        None => "empty point".into(),
        Some(0) if point.len() == 1 => "the point at infinity (identity)".into(),
        Some(4) if point.len() == 1 + 2 * field_bytes => "point is not on the curve".into(),
        Some(2 | 3) if point.len() == 1 + field_bytes => {
            "compressed x has no point on the curve".into()
        }
        Some(t) => format!(
            "malformed SEC 1 point: tag {t:#04x}, {} bytes (offset 0)",
            point.len()
        ),
    })
}

/// Audit one EC key; `label` names it in the findings.
pub fn audit(label: &str, curve: &Curve, point: &[u8]) -> Vec<Finding> {
    let f = |check, severity, evidence: String| Finding {
        key: label.to_string(),
        check,
        severity,
        evidence,
    };
    match curve {
        Curve::Explicit => vec![f(
            Check::EcCurve,
            Severity::Weak,
            "explicit curve parameters (unnamed curve; RFC 5480 forbids specifiedCurve)".into(),
        )],
        Curve::Implicit => vec![f(
            Check::EcCurve,
            Severity::Weak,
            "implicitCA: the key does not say its curve".into(),
        )],
        Curve::Named(oid) => {
            let Some(&(_, name, bits)) = CURVES.iter().find(|c| c.0 == oid) else {
                return vec![f(
                    Check::EcCurve,
                    Severity::Weak,
                    format!("unknown curve OID {oid}"),
                )];
            };
            let problem = match name {
                "P-256" => {
                    point_problem(point, p256::PublicKey::from_sec1_bytes(point).is_ok(), 32)
                }
                "P-384" => {
                    point_problem(point, p384::PublicKey::from_sec1_bytes(point).is_ok(), 48)
                }
                _ => {
                    let mut v = Vec::new();
                    if bits < 224 {
                        v.push(f(
                            Check::KeySize,
                            Severity::Weak,
                            format!("{name}: {bits}-bit curve, below 224 bits"),
                        ));
                    }
                    v.push(f(
                        Check::NotAudited,
                        Severity::Info,
                        format!("{name}: point not validated (P-256 and P-384 are)"),
                    ));
                    return v;
                }
            };
            problem
                .map(|p| vec![f(Check::EcPoint, Severity::Weak, format!("{name}: {p}"))])
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256: &str = "1.2.840.10045.3.1.7";

    fn generator() -> Vec<u8> {
        // SEC 2 2.4.2: the base point G of secp256r1, uncompressed.
        let x = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
        let y = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
        let mut v = vec![4u8];
        for h in [x, y] {
            for i in (0..h.len()).step_by(2) {
                v.push(u8::from_str_radix(&h[i..i + 2], 16).unwrap());
            }
        }
        v
    }

    #[test]
    fn p256_points() {
        let c = Curve::Named(P256.into());
        assert!(audit("k", &c, &generator()).is_empty());
        let mut off = generator();
        off[64] ^= 1;
        let v = audit("k", &c, &off);
        assert_eq!(v.len(), 1);
        assert!(v[0].evidence.contains("not on the curve"), "{v:?}");
        let v = audit("k", &c, &[0]);
        assert!(v[0].evidence.contains("identity"), "{v:?}");
        let v = audit("k", &c, &[7, 1, 2]);
        assert!(v[0].evidence.contains("malformed"), "{v:?}");
    }

    #[test]
    fn curves() {
        let v = audit("k", &Curve::Explicit, &[4]);
        assert_eq!(v[0].check, Check::EcCurve);
        let v = audit("k", &Curve::Named("1.2.3.4".into()), &[4]);
        assert!(v[0].evidence.contains("unknown curve"));
        let v = audit("k", &Curve::Named("1.2.840.10045.3.1.1".into()), &[4]);
        assert_eq!(v[0].check, Check::KeySize);
        let v = audit("k", &Curve::Named("1.3.132.0.10".into()), &[4]);
        assert_eq!(v[0].severity, Severity::Info);
    }
}
