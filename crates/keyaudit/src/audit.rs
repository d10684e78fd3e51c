//! The audit of a key set: every check on every key, batch GCD across the set, and the MSB
//! statistics of a generation run.

use crate::batchgcd::batch_gcd;
use crate::finding::{Check, Finding, Severity};
use crate::key::{Curve, KeyKind, PublicKey};
use crate::msb::{self, MsbReport};
use crate::smallfactors::SmallPrimes;
use crate::{ec, fermat, roca};
use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::One;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Audit settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Trial-division bound (primes below it).
    pub small_bound: u32,
    /// Fermat steps per modulus.
    pub fermat_steps: u32,
    /// Smallest acceptable RSA modulus, bits.
    pub min_rsa_bits: u64,
    /// Smallest acceptable public exponent.
    pub min_exponent: u64,
    /// Run the MSB statistics (for a run of generations from one generator).
    pub msb: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            small_bound: crate::smallfactors::DEFAULT_BOUND,
            fermat_steps: fermat::DEFAULT_STEPS,
            min_rsa_bits: 2048,
            min_exponent: 65537,
            msb: false,
        }
    }
}

/// The result of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Keys audited.
    pub keys: usize,
    /// RSA keys among them.
    pub rsa: usize,
    /// EC keys among them.
    pub ec: usize,
    /// Everything found, in key order.
    pub findings: Vec<Finding>,
    /// MSB statistics, when requested and there were enough moduli.
    pub msb: Option<MsbReport>,
}

impl Report {
    /// True when any finding is weak (the CLI exits 1).
    pub fn weak(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Weak)
    }

    /// The distinct labels with a weak finding.
    pub fn weak_keys(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Weak)
            .map(|f| f.key.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn short_hex(x: &BigUint) -> String {
    let h = x.to_str_radix(16);
    if h.len() > 24 {
        format!("0x{}…({} bits)", &h[..16], x.bits())
    } else {
        format!("0x{h}")
    }
}

fn list(names: &[&str]) -> String {
    const MAX: usize = 5;
    let mut s = names
        .iter()
        .take(MAX)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX {
        s.push_str(&format!(" and {} more", names.len() - MAX));
    }
    s
}

/// Audit `keys`.
pub fn audit(keys: &[PublicKey], opts: &Options) -> Report {
    let mut findings = Vec::new();
    let weak = |key: &str, check, evidence: String| Finding {
        key: key.to_string(),
        check,
        severity: Severity::Weak,
        evidence,
    };

    // Duplicates: identical key material under different labels.
    let mut groups: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        let id = match &k.kind {
            KeyKind::Rsa { n, .. } => [b"rsa:".as_slice(), &n.to_bytes_be()].concat(),
            KeyKind::Ec { curve, point } => {
                let c = match curve {
                    Curve::Named(o) => o.as_str(),
                    Curve::Explicit => "explicit",
                    Curve::Implicit => "implicit",
                };
                [b"ec:", c.as_bytes(), b":", point.as_slice()].concat()
            }
            KeyKind::Other { .. } => continue,
        };
        groups.entry(id).or_default().push(i);
    }
    let mut first_of: Vec<bool> = vec![true; keys.len()];
    for idx in groups.values().filter(|g| g.len() > 1) {
        for &i in idx {
            let others: Vec<&str> = idx
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| keys[j].label.as_str())
                .collect();
            findings.push(weak(
                &keys[i].label,
                Check::Duplicate,
                format!("same key as {}", list(&others)),
            ));
        }
        for &i in &idx[1..] {
            first_of[i] = false;
        }
    }

    static DEFAULT_SMALL: OnceLock<SmallPrimes> = OnceLock::new();
    let owned;
    let small: &SmallPrimes = if opts.small_bound == crate::smallfactors::DEFAULT_BOUND {
        DEFAULT_SMALL.get_or_init(|| SmallPrimes::new(opts.small_bound))
    } else {
        owned = SmallPrimes::new(opts.small_bound);
        &owned
    };
    let mut moduli: Vec<(usize, &BigUint)> = Vec::new();
    let (mut rsa, mut ecn) = (0, 0);
    for (i, k) in keys.iter().enumerate() {
        let label = k.label.as_str();
        match &k.kind {
            KeyKind::Rsa { n, e } => {
                rsa += 1;
                if n.bits() < 2 || e.bits() == 0 {
                    findings.push(weak(
                        label,
                        Check::KeySize,
                        format!("invalid RSA key: n = {n}, e = {e}"),
                    ));
                    continue;
                }
                if n.bits() < opts.min_rsa_bits {
                    findings.push(weak(
                        label,
                        Check::KeySize,
                        format!("RSA-{}, below {} bits", n.bits(), opts.min_rsa_bits),
                    ));
                }
                if e.is_one() {
                    findings.push(weak(label, Check::Exponent, "e = 1".into()));
                } else if e.is_even() {
                    findings.push(weak(label, Check::Exponent, format!("even e = {e}")));
                } else if *e < BigUint::from(opts.min_exponent) {
                    findings.push(weak(
                        label,
                        Check::Exponent,
                        format!("e = {e}, below {}", opts.min_exponent),
                    ));
                }
                if !first_of[i] {
                    continue; // a duplicate: its first occurrence carries the other findings
                }
                let f = small.factors(n);
                if !f.is_empty() {
                    let shown: Vec<String> = f.iter().take(8).map(u32::to_string).collect();
                    findings.push(weak(
                        label,
                        Check::SmallFactor,
                        format!(
                            "divisible by {} (trial division by the {} primes below {})",
                            shown.join(", "),
                            small.count(),
                            opts.small_bound
                        ),
                    ));
                }
                if let Some((p, q)) = fermat::fermat(n, opts.fermat_steps) {
                    findings.push(weak(
                        label,
                        Check::Fermat,
                        format!(
                            "p = {}, q = {}: |p - q| = {} found within {} Fermat steps",
                            short_hex(&p),
                            short_hex(&q),
                            short_hex(&(&q - &p)),
                            opts.fermat_steps
                        ),
                    ));
                }
                if roca::test(n) == roca::Verdict::Fingerprinted {
                    findings.push(weak(label, Check::Roca, roca::evidence()));
                }
                moduli.push((i, n));
            }
            KeyKind::Ec { curve, point } => {
                ecn += 1;
                if first_of[i] {
                    findings.extend(ec::audit(label, curve, point));
                }
            }
            KeyKind::Other { algorithm } => findings.push(Finding {
                key: label.into(),
                check: Check::NotAudited,
                severity: Severity::Info,
                evidence: format!("algorithm {algorithm} is not audited"),
            }),
        }
    }

    findings.extend(shared_primes(keys, &moduli));

    let msb = if opts.msb { msb_run(&moduli) } else { None };
    if let Some(m) = msb.as_ref().filter(|m| m.biased) {
        let best = m
            .fits
            .iter()
            .min_by(|a, b| a.chi2.total_cmp(&b.chi2))
            .map(|f| {
                format!(
                    "{} chi2 {:.1} > {:.1} (df {})",
                    f.model, f.chi2, f.critical, f.df
                )
            })
            .unwrap_or_default();
        findings.push(weak(
            "*",
            Check::MsbBias,
            format!(
                "top bits of {} RSA-{} moduli fit no benign generator (alpha 0.001); closest: {best}; observed {:?}",
                m.samples, m.bits, m.observed
            ),
        ));
    }
    Report {
        keys: keys.len(),
        rsa,
        ec: ecn,
        findings,
        msb,
    }
}

/// The most common modulus size among `moduli`, analysed.
fn msb_run(moduli: &[(usize, &BigUint)]) -> Option<MsbReport> {
    let mut by_size: HashMap<u64, Vec<&BigUint>> = HashMap::new();
    for (_, n) in moduli {
        by_size.entry(n.bits()).or_default().push(n);
    }
    let (bits, run) = by_size
        .into_iter()
        .max_by_key(|(bits, v)| (v.len(), *bits))?;
    msb::analyse(bits, &run)
}

/// Batch GCD over the distinct moduli, then the partners of each flagged key.
fn shared_primes(keys: &[PublicKey], moduli: &[(usize, &BigUint)]) -> Vec<Finding> {
    let ns: Vec<BigUint> = moduli.iter().map(|(_, n)| (*n).clone()).collect();
    let g = batch_gcd(&ns);
    let flagged: Vec<usize> = (0..ns.len()).filter(|&i| !g[i].is_one()).collect();
    // Partners: pairwise GCD among the flagged keys only (few in any sane set).
    const PAIRWISE_MAX: usize = 2000;
    let mut out = Vec::new();
    for &i in &flagged {
        let label = &keys[moduli[i].0].label;
        let mut by_factor: Vec<(BigUint, Vec<&str>)> = Vec::new();
        if flagged.len() <= PAIRWISE_MAX {
            for &j in flagged.iter().filter(|&&j| j != i) {
                let f = ns[i].gcd(&ns[j]);
                if f.is_one() {
                    continue;
                }
                let other = keys[moduli[j].0].label.as_str();
                match by_factor.iter_mut().find(|(p, _)| *p == f) {
                    Some((_, v)) => v.push(other),
                    None => by_factor.push((f, vec![other])),
                }
            }
        }
        let evidence = if by_factor.is_empty() {
            format!(
                "gcd with the product of the other moduli is {}",
                short_hex(&g[i])
            )
        } else {
            by_factor
                .iter()
                .map(|(p, with)| format!("shares {} with {}", short_hex(p), list(with)))
                .collect::<Vec<_>>()
                .join("; ")
        };
        out.push(Finding {
            key: label.clone(),
            check: Check::SharedPrime,
            severity: Severity::Weak,
            evidence,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_moduli_are_findings_not_panics() {
        let keys = crate::read::parse("d.csv", b"0\n1\n0f,0\n").unwrap();
        let r = audit(&keys, &Options::default());
        for k in ["d.csv:1", "d.csv:2", "d.csv:3"] {
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.key == k && f.evidence.starts_with("invalid RSA key")),
                "{k}: {:?}",
                r.findings
            );
        }
    }
}
