//! Most-significant-bit statistics of a run of generated moduli (Svenda et al., "The Million-Key
//! Question", USENIX Security 2016: the top bits of N revealed RSALib and other biased
//! generators).
//!
//! With `p, q` uniform in `[a*2^h, 2^h)` the normalised modulus `z = N / 2^(2h)` has the
//! distribution of a product of two uniforms on `[a, 1)`; its CDF is closed-form. Three benign
//! generators are modelled: FIPS 186-4 B.3.1 (`a = 1/sqrt 2`), "top two bits set" (`a = 3/4`,
//! OpenSSL's legacy path, the RustCrypto `rsa` crate, many cards) and "top bit set, N of full
//! length" (`a = 1/2` conditioned on `z >= 1/2`). The observed histogram of the bits after the
//! leading one is tested against each with Pearson's chi-square at alpha = 0.001; a run that
//! fits none gets a weak verdict.

use num_bigint::BigUint;
use serde::Serialize;

/// A benign prime-generation model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Model {
    /// Short name.
    pub name: &'static str,
    /// Lower bound of `p / 2^h`.
    pub a: f64,
}

/// The models a healthy generator may follow.
pub const MODELS: [Model; 3] = [
    Model {
        name: "fips186-sqrt2",
        a: std::f64::consts::FRAC_1_SQRT_2,
    },
    Model {
        name: "two-top-bits",
        a: 0.75,
    },
    Model {
        name: "one-top-bit",
        a: 0.5,
    },
];

/// Chi-square critical values at alpha = 0.001 for 1..=15 degrees of freedom.
const CRITICAL: [f64; 15] = [
    10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264, 32.909,
    34.528, 36.123, 37.697,
];

/// Fewest moduli for a verdict.
pub const MIN_SAMPLES: usize = 30;

/// `P(xy <= t)` for `x, y` uniform on `[a, 1)`.
fn product_cdf(a: f64, t: f64) -> f64 {
    let l = 1.0 - a;
    if t <= a * a {
        return 0.0;
    }
    if t >= 1.0 {
        return 1.0;
    }
    let mut s = 0.0;
    if t > a {
        s += l * (t - a);
    }
    let lo = a.max(t);
    let hi = (t / a).min(1.0);
    if hi > lo {
        s += t * (hi / lo).ln() - a * (hi - lo);
    }
    s / (l * l)
}

impl Model {
    /// CDF of `z = N / 2^k` on `[1/2, 1)` under this model.
    pub fn cdf(&self, t: f64) -> f64 {
        let g0 = product_cdf(self.a, 0.5);
        (product_cdf(self.a, t) - g0) / (1.0 - g0)
    }

    /// Bin probabilities for `bins` equal bins over `[1/2, 1)`.
    pub fn bins(&self, bins: usize) -> Vec<f64> {
        (0..bins)
            .map(|i| {
                let lo = 0.5 + 0.5 * i as f64 / bins as f64;
                let hi = 0.5 + 0.5 * (i + 1) as f64 / bins as f64;
                self.cdf(hi) - self.cdf(lo)
            })
            .collect()
    }
}

/// The test of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The model's name.
    pub model: &'static str,
    /// Pearson's statistic (infinite when a bin the model rules out is occupied).
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// The critical value at alpha = 0.001.
    pub critical: f64,
    /// `chi2 <= critical`.
    pub fits: bool,
}

/// The statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MsbReport {
    /// Modulus size of the run, bits.
    pub bits: u64,
    /// Moduli counted.
    pub samples: usize,
    /// Observed count per bin (bits after the leading one).
    pub observed: Vec<u64>,
    /// One fit per model.
    pub fits: Vec<Fit>,
    /// True when no benign model fits.
    pub biased: bool,
}

/// Histogram the top bits of `moduli` (all `bits` long) and test them; `None` below
/// [`MIN_SAMPLES`].
pub fn analyse(bits: u64, moduli: &[&BigUint]) -> Option<MsbReport> {
    let n = moduli.len();
    if n < MIN_SAMPLES || bits < 16 {
        return None;
    }
    let bins: usize = if n >= 400 {
        16
    } else if n >= 100 {
        8
    } else {
        4
    };
    let shift = bits - 1 - bins.trailing_zeros() as u64;
    let mut observed = vec![0u64; bins];
    for m in moduli {
        let top = (*m >> shift).iter_u64_digits().next().unwrap_or(0) as usize;
        if let Some(o) = observed.get_mut(top.wrapping_sub(bins)) {
            *o += 1;
        }
    }
    let fits: Vec<Fit> = MODELS
        .iter()
        .map(|model| {
            let mut chi2 = 0.0;
            let mut used = 0usize;
            for (o, p) in observed.iter().zip(model.bins(bins)) {
                let e = p * n as f64;
                if e <= 1e-9 {
                    if *o > 0 {
                        chi2 = f64::INFINITY;
                    }
                    continue;
                }
                used += 1;
                chi2 += (*o as f64 - e).powi(2) / e;
            }
            let df = used.saturating_sub(1).max(1);
            let critical = CRITICAL[df.min(CRITICAL.len()) - 1];
            Fit {
                model: model.name,
                chi2,
                df,
                critical,
                fits: chi2 <= critical,
            }
        })
        .collect();
    let biased = !fits.iter().any(|f| f.fits);
    Some(MsbReport {
        bits,
        samples: n,
        observed,
        fits,
        biased,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    /// Pseudo-moduli N = x*y with x, y uniform k/2-bit integers in [a 2^h, 2^h) (primality does
    /// not matter for the statistics), kept when N has full length.
    fn run(a: f64, count: usize, seed: u64) -> Vec<BigUint> {
        let mut rng = StdRng::seed_from_u64(seed);
        let h = 64u32;
        let mut out = Vec::new();
        while out.len() < count {
            let lo = (a * 2f64.powi(h as i32)) as u64;
            let x = BigUint::from(rng.gen_range(lo..=u64::MAX));
            let y = BigUint::from(rng.gen_range(lo..=u64::MAX));
            let n = x * y;
            if n.bits() == 128 {
                out.push(n);
            }
        }
        out
    }

    #[test]
    fn cdf_is_a_distribution() {
        for m in MODELS {
            assert!(m.cdf(0.5).abs() < 1e-12);
            assert!((m.cdf(1.0) - 1.0).abs() < 1e-12);
            let b = m.bins(16);
            assert!(b.iter().all(|p| *p >= 0.0));
            assert!((b.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        // a = 3/4: z >= 9/16, so the first bin of 8 ([1/2, 9/16)) is empty.
        assert_eq!(MODELS[1].bins(8)[0], 0.0);
    }

    #[test]
    fn benign_runs_fit_their_model() {
        for (i, m) in MODELS.iter().enumerate() {
            let v = run(m.a, 1000, i as u64);
            let refs: Vec<&BigUint> = v.iter().collect();
            let r = analyse(128, &refs).unwrap();
            assert!(!r.biased, "{r:?}");
            assert!(r.fits[i].fits, "{r:?}");
        }
    }

    #[test]
    fn biased_run_is_flagged() {
        // A generator forcing p, q into the top eighth of the range: fits no model.
        let v = run(0.875, 500, 9);
        let refs: Vec<&BigUint> = v.iter().collect();
        let r = analyse(128, &refs).unwrap();
        assert!(r.biased, "{r:?}");
        assert!(analyse(128, &refs[..10]).is_none());
    }
}
