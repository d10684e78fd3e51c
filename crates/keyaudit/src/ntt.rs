//! Multiplication of large integers by number-theoretic transform: the limbs (64-bit digits) are
//! convolved modulo three primes `c·2^k + 1` just below 2^63 and the exact coefficients
//! recovered by the Chinese remainder theorem (Pollard, "The fast Fourier transform in a finite
//! field", Math. Comp. 1971; Knuth, *TAOCP* vol. 2, 4.3.3). Coefficients of a length-`n`
//! convolution of 64-bit limbs are below `n·2^128`, far under the primes' product (≈ 2^189),
//! so the transform length is limited only by the primes' 2-adicity (2^38 limbs).
//!
//! `num-bigint` multiplies with Karatsuba and Toom-3 (`O(n^1.47)`); this is `O(n log n)` and
//! takes over above [`THRESHOLD_LIMBS`], where it is faster (measured by the `ntt_mul` bench).
//! Safe Rust over `num-bigint`'s digits; the three transforms run on their own threads for
//! large operands.

use num_bigint::BigUint;
use std::sync::{Arc, RwLock};

/// The smaller operand's size in 64-bit limbs from which [`mul`] and [`square`] use the
/// transform instead of `num-bigint` (measured: `cargo bench -p simota-keyaudit --bench
/// ntt_mul` and the `ntt_threshold` example: on the shared 2-core build machine the transform
/// is 1.2× slower at 4,096 limbs and 1.4× faster at 8,192; 2× at 65,536, 3.3× at 262,144).
pub const THRESHOLD_LIMBS: usize = 5000;

/// From this transform length the three primes' transforms run on parallel threads.
const PARALLEL_LEN: usize = 1 << 13;

/// Below this block length the transforms run stage by stage instead of recursing.
const ITERATIVE_LEN: usize = 1 << 11;

/// A prime `p < 2^63` with `p - 1` divisible by a large power of two, and the constants of
/// Montgomery multiplication modulo `p` with `R = 2^64`.
#[derive(Debug, Clone, Copy)]
struct Prime {
    p: u64,
    /// `p^-1 mod 2^64`.
    pinv: u64,
    /// `R^2 mod p`.
    r2: u64,
    /// A generator of the multiplicative group modulo `p`.
    g: u64,
}

impl Prime {
    const fn new(p: u64, g: u64) -> Prime {
        // Newton's iteration for the inverse modulo 2^64: p·p ≡ 1 (mod 8), each step doubles
        // the correct bits (3, 6, 12, 24, 48, 96).
        let mut x = p;
        let mut i = 0;
        while i < 5 {
            x = x.wrapping_mul(2u64.wrapping_sub(p.wrapping_mul(x)));
            i += 1;
        }
        let r = ((1u128 << 64) % p as u128) as u64;
        let r2 = ((r as u128 * r as u128) % p as u128) as u64;
        Prime { p, pinv: x, r2, g }
    }

    /// Montgomery reduction: `t / R mod p` for `t < p·2^64`, in `[0, p)`.
    #[inline(always)]
    fn redc(&self, t: u128) -> u64 {
        let m = (t as u64).wrapping_mul(self.pinv);
        let mp = ((m as u128 * self.p as u128) >> 64) as u64;
        let (r, borrow) = ((t >> 64) as u64).overflowing_sub(mp);
        if borrow {
            r.wrapping_add(self.p)
        } else {
            r
        }
    }

    /// `a·b / R mod p` (`a, b < p`): with `b = w·R mod p` this is `a·w mod p`.
    #[inline(always)]
    fn mul(&self, a: u64, b: u64) -> u64 {
        self.redc(a as u128 * b as u128)
    }

    #[inline(always)]
    fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.p {
            s - self.p
        } else {
            s
        }
    }

    #[inline(always)]
    fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b {
            a - b
        } else {
            a + self.p - b
        }
    }

    /// `x mod p` for any limb: `2^64 < 2p + 2^46`, so two conditional subtractions do.
    #[inline(always)]
    fn reduce_limb(&self, mut x: u64) -> u64 {
        if x >= self.p {
            x -= self.p;
        }
        if x >= self.p {
            x -= self.p;
        }
        x
    }

    /// `a·R mod p` (Montgomery form of `a < p`).
    fn mont(&self, a: u64) -> u64 {
        self.mul(a, self.r2)
    }

    /// `a^e mod p`, plain in, plain out.
    fn pow(&self, a: u64, mut e: u64) -> u64 {
        let mut base = self.mont(a % self.p);
        let mut acc = self.mont(1);
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        self.mul(acc, 1)
    }

    /// Twiddle factors in Montgomery form, level by level: entry `h + j` is `w_{2h}^j` for
    /// `h = 1, 2, 4, … n/2`, `j < h`, with `w_{2h} = g^((p−1)/2h)`. Level `h` does not depend
    /// on `n`, so the table for the longest transform serves every shorter one; the inverse
    /// transform uses `w_{2h}^−j = −w_{2h}^(h−j)`.
    fn twiddles(&self, n: usize) -> Vec<u64> {
        let mut tw = vec![0u64; n.max(2)];
        if n < 2 {
            return tw;
        }
        let h = n / 2;
        let wm = self.mont(self.pow(self.g, (self.p - 1) / n as u64));
        let mut cur = self.mont(1);
        for t in &mut tw[h..] {
            *t = cur;
            cur = self.mul(cur, wm);
        }
        let mut h2 = h / 2;
        while h2 >= 1 {
            for j in 0..h2 {
                tw[h2 + j] = tw[2 * h2 + 2 * j];
            }
            h2 /= 2;
        }
        tw
    }

    /// Forward transform (decimation in frequency): natural order in, bit-reversed out.
    /// Recursive above [`ITERATIVE_LEN`] so that blocks stay in cache.
    fn forward(&self, x: &mut [u64], tw: &[u64]) {
        let n = x.len();
        if n <= ITERATIVE_LEN {
            let mut h = n / 2;
            while h >= 1 {
                for blk in x.chunks_exact_mut(2 * h) {
                    self.dif_stage(blk, &tw[h..2 * h]);
                }
                h /= 2;
            }
            return;
        }
        self.dif_stage(x, &tw[n / 2..n]);
        let (lo, hi) = x.split_at_mut(n / 2);
        self.forward(lo, tw);
        self.forward(hi, tw);
    }

    #[inline(always)]
    fn dif_stage(&self, blk: &mut [u64], w: &[u64]) {
        let (lo, hi) = blk.split_at_mut(blk.len() / 2);
        for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(w) {
            let (u, v) = (*a, *b);
            *a = self.add(u, v);
            *b = self.mul(self.sub(u, v), *w);
        }
    }

    /// Inverse transform without the `1/n` (decimation in time): bit-reversed in, natural out.
    fn inverse(&self, x: &mut [u64], tw: &[u64]) {
        let n = x.len();
        if n <= ITERATIVE_LEN {
            let mut h = 1;
            while h < n {
                for blk in x.chunks_exact_mut(2 * h) {
                    self.dit_stage(blk, &tw[h..2 * h]);
                }
                h *= 2;
            }
            return;
        }
        {
            let (lo, hi) = x.split_at_mut(n / 2);
            self.inverse(lo, tw);
            self.inverse(hi, tw);
        }
        self.dit_stage(x, &tw[n / 2..n]);
    }

    /// Butterflies of one inverse stage, `w` the forward level (`w[0] = 1`): with
    /// `w^−j = −w^(h−j)`, `u + w^−j·v = u − w^(h−j)·v`.
    #[inline(always)]
    fn dit_stage(&self, blk: &mut [u64], w: &[u64]) {
        let (lo, hi) = blk.split_at_mut(blk.len() / 2);
        let (Some((a0, lo)), Some((b0, hi))) = (lo.split_first_mut(), hi.split_first_mut()) else {
            return;
        };
        let (u, v) = (*a0, *b0);
        *a0 = self.add(u, v);
        *b0 = self.sub(u, v);
        for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(w[1..].iter().rev()) {
            let u = *a;
            let v = self.mul(*b, *w);
            *a = self.sub(u, v);
            *b = self.add(u, v);
        }
    }

    /// `x` folded modulo `X^n - 1` and reduced modulo `p`.
    fn load(&self, x: &[u64], n: usize) -> Vec<u64> {
        let mut v = vec![0u64; n];
        for chunk in x.chunks(n) {
            for (d, &s) in v.iter_mut().zip(chunk) {
                *d = self.add(*d, self.reduce_limb(s));
            }
        }
        v
    }

    /// The cyclic convolution of `a` and `b` (`a` with itself when `b` is `None`) of length
    /// `n` (a power of two), modulo `p`.
    fn convolve(&self, a: &[u64], b: Option<&[u64]>, n: usize, tw: &[u64]) -> Vec<u64> {
        let mut fa = self.load(a, n);
        self.forward(&mut fa, tw);
        match b {
            Some(b) => {
                let mut fb = self.load(b, n);
                self.forward(&mut fb, tw);
                for (x, y) in fa.iter_mut().zip(&fb) {
                    *x = self.mul(*x, *y);
                }
            }
            None => {
                for x in fa.iter_mut() {
                    *x = self.mul(*x, *x);
                }
            }
        }
        self.inverse(&mut fa, tw);
        // The pointwise products carry a factor 1/R and the inverse transform a factor n:
        // multiply by n^-1·R^2 (plain) to get the coefficients.
        let k = self.mont(self.mont(self.pow(n as u64 % self.p, self.p - 2)));
        for x in fa.iter_mut() {
            *x = self.mul(*x, k);
        }
        fa
    }
}

const P1: Prime = Prime::new(0x7fff_ef00_0000_0001, 5); // 2^40 · 8388591 + 1
const P2: Prime = Prime::new(0x7fff_f740_0000_0001, 17); // 2^38 · 33554397 + 1
const P3: Prime = Prime::new(0x7fff_fd80_0000_0001, 3); // 2^39 · 16777211 + 1

// Garner's recombination in `combine` relies on this order.
const _: () = assert!(P1.p < P2.p && P2.p < P3.p);

/// The longest transform the primes allow (2^38 limbs, 2^44 bits).
const MAX_LEN: usize = 1 << 38;

/// Recover each coefficient from its residues modulo P1, P2, P3 (Garner's algorithm) and add
/// them up with carries: limb `k` of the result gets coefficient `k`. Returns `n + 3` limbs.
fn combine(r1: &[u64], r2: &[u64], r3: &[u64]) -> Vec<u64> {
    let inv12 = P2.mont(P2.pow(P1.p % P2.p, P2.p - 2));
    let p1_in3 = P3.mont(P1.p % P3.p);
    let p12 = P1.p as u128 * P2.p as u128;
    let inv123 = P3.mont(P3.pow((p12 % P3.p as u128) as u64, P3.p - 2));
    let (p12_lo, p12_hi) = (p12 as u64 as u128, (p12 >> 64) as u64 as u128);
    let mut out = Vec::with_capacity(r1.len() + 3);
    let (mut acc_lo, mut acc_hi) = (0u128, 0u64);
    for ((&x1, &x2), &x3) in r1.iter().zip(r2).zip(r3) {
        // P1 < P2 < P3, so residues modulo a smaller prime are already reduced modulo a larger.
        let v2 = P2.mul(P2.sub(x2, x1), inv12);
        let x13 = P3.add(x1, P3.mul(v2, p1_in3));
        let v3 = P3.mul(P3.sub(x3, x13), inv123);
        // value = x1 + P1·v2 + P1·P2·v3 < 2^189
        let t = x1 as u128 + P1.p as u128 * v2 as u128;
        let a = p12_lo * v3 as u128;
        let b = p12_hi * v3 as u128;
        let (lo, c1) = (a + t).overflowing_add((b as u64 as u128) << 64);
        let hi = (b >> 64) as u64 + c1 as u64;
        let (s, c2) = acc_lo.overflowing_add(lo);
        acc_hi += hi + c2 as u64;
        out.push(s as u64);
        acc_lo = (s >> 64) | ((acc_hi as u128) << 64);
        acc_hi = 0;
    }
    out.push(acc_lo as u64);
    out.push((acc_lo >> 64) as u64);
    out.push(acc_hi);
    out
}

/// Twiddle tables are kept for transforms up to this length (16 MB a prime); longer ones get
/// a table of their own for the call.
const CACHED_LEN: usize = 1 << 21;

/// The cached twiddle table of each prime (grown to the longest transform so far).
static TABLES: [RwLock<Option<Arc<Vec<u64>>>>; 3] =
    [RwLock::new(None), RwLock::new(None), RwLock::new(None)];

/// A twiddle table of prime `i` for transforms of length `n` or less.
fn table(i: usize, n: usize) -> Arc<Vec<u64>> {
    let pr = [P1, P2, P3][i];
    let slot = &TABLES[i];
    if let Some(t) = slot.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        if t.len() >= n {
            return t.clone();
        }
    }
    let t = Arc::new(pr.twiddles(n.max(1 << 10)));
    if n <= CACHED_LEN {
        let mut w = slot.write().unwrap_or_else(|e| e.into_inner());
        if w.as_ref().is_none_or(|old| old.len() < t.len()) {
            *w = Some(t.clone());
        }
    }
    t
}

/// The three convolutions, on three threads when long.
fn convolve3(a: &[u64], b: Option<&[u64]>, n: usize) -> Vec<u64> {
    let conv = |i: usize| [P1, P2, P3][i].convolve(a, b, n, &table(i, n));
    let [r1, r2, r3] = if n >= PARALLEL_LEN {
        std::thread::scope(|s| {
            let h2 = s.spawn(|| conv(1));
            let h3 = s.spawn(|| conv(2));
            let r1 = conv(0);
            // A panic in a worker is re-raised here (none is expected: no indexing depends on
            // the values).
            let join = |h: std::thread::ScopedJoinHandle<'_, Vec<u64>>| {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            };
            [r1, join(h2), join(h3)]
        })
    } else {
        [conv(0), conv(1), conv(2)]
    };
    combine(&r1, &r2, &r3)
}

fn trim(mut v: Vec<u64>) -> Vec<u64> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// The product of two little-endian limb vectors by transform, whatever their sizes (empty is
/// zero). Panics only beyond 2^44-bit products.
pub fn mul_limbs(a: &[u64], b: &[u64]) -> Vec<u64> {
    if a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let n = (a.len() + b.len()).next_power_of_two();
    assert!(
        n <= MAX_LEN,
        "product of {} limbs is too long",
        a.len() + b.len()
    );
    let same = std::ptr::eq(a, b);
    let mut out = convolve3(a, (!same).then_some(b), n);
    out.truncate(a.len() + b.len());
    trim(out)
}

/// `a·b mod (2^(64n) − 1)` by one cyclic transform of length `n` (a power of two, ≥ 1): limbs
/// beyond `n` wrap around to the bottom. Returns `n` limbs (`2^(64n) − 1` itself becomes 0).
///
/// This is the "wrapped" product of Bernstein's scaled remainder tree: when only the middle of
/// a product is wanted and the wrapped-around top lands below it, a transform of the larger
/// operand's length suffices.
pub fn mul_cyclic_limbs(a: &[u64], b: &[u64], n: usize) -> Vec<u64> {
    assert!(n.is_power_of_two() && n <= MAX_LEN, "cyclic length {n}");
    if a.is_empty() || b.is_empty() {
        return vec![0; n];
    }
    let same = std::ptr::eq(a, b);
    let mut out = convolve3(a, (!same).then_some(b), n);
    // End-around carry: 2^(64n) ≡ 1, so limb n + i is added at limb i mod n; repeat until
    // nothing is carried out of the top (two or three rounds).
    loop {
        let high = out.split_off(n);
        if high.iter().all(|&c| c == 0) {
            break;
        }
        for (i, &h) in high.iter().enumerate() {
            let (mut pos, mut v) = (i % n, h);
            while v != 0 {
                match out.get_mut(pos) {
                    Some(d) => {
                        let (s, c) = d.overflowing_add(v);
                        *d = s;
                        v = c as u64;
                        pos += 1;
                    }
                    None => {
                        out.push(v);
                        v = 0;
                    }
                }
            }
        }
    }
    if out.iter().all(|&d| d == u64::MAX) {
        out.iter_mut().for_each(|d| *d = 0);
    }
    out
}

/// The limbs of `x`, least significant first.
pub fn limbs(x: &BigUint) -> Vec<u64> {
    x.to_u64_digits()
}

/// The integer with these little-endian limbs.
pub fn from_limbs(l: &[u64]) -> BigUint {
    let mut d = Vec::with_capacity(2 * l.len());
    for &x in l {
        d.push(x as u32);
        d.push((x >> 32) as u32);
    }
    BigUint::new(d)
}

fn limb_len(x: &BigUint) -> usize {
    x.bits().div_ceil(64) as usize
}

/// `a·b`: `num-bigint` below [`THRESHOLD_LIMBS`], the transform above.
pub fn mul(a: &BigUint, b: &BigUint) -> BigUint {
    if limb_len(a).min(limb_len(b)) < THRESHOLD_LIMBS {
        return a * b;
    }
    from_limbs(&mul_limbs(&limbs(a), &limbs(b)))
}

/// `a²`: one forward transform instead of two above [`THRESHOLD_LIMBS`].
pub fn square(a: &BigUint) -> BigUint {
    if limb_len(a) < THRESHOLD_LIMBS {
        return a * a;
    }
    let l = limbs(a);
    from_limbs(&mul_limbs(&l, &l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::One;

    #[test]
    fn primes_have_the_claimed_roots() {
        for (pr, k) in [(P1, 40u32), (P2, 38), (P3, 39)] {
            assert_eq!((pr.p - 1) % (1u64 << k), 0);
            assert_eq!(pr.p.wrapping_mul(pr.pinv), 1);
            // g generates: g^((p-1)/2) = -1, so the 2^k-th root of unity from it is primitive.
            assert_eq!(pr.pow(pr.g, (pr.p - 1) / 2), pr.p - 1);
            let w = pr.pow(pr.g, (pr.p - 1) >> k);
            assert_eq!(pr.pow(w, 1 << (k - 1)), pr.p - 1);
        }
    }

    #[test]
    fn small_products_by_transform() {
        assert_eq!(mul_limbs(&[3], &[5]), vec![15]);
        assert_eq!(mul_limbs(&[u64::MAX], &[u64::MAX]), vec![1, u64::MAX - 1]);
        assert!(mul_limbs(&[], &[7]).is_empty());
        let x = [u64::MAX; 9];
        let want = (BigUint::one() << (64 * 9)) - 1u8;
        assert_eq!(from_limbs(&mul_limbs(&x, &x)), &want * &want);
    }

    #[test]
    fn cyclic_wraps() {
        // (2^64 + 1)·(2^64 + 3) = 2^128 + 4·2^64 + 3 ≡ 4·2^64 + 4 (mod 2^128 − 1) ...
        assert_eq!(mul_cyclic_limbs(&[1, 1], &[3, 1], 2), vec![4, 4]);
        // ... and with n = 1 it is ≡ (2)(4) mod 2^64 - 1.
        assert_eq!(mul_cyclic_limbs(&[1, 1], &[3, 1], 1), vec![8]);
        // 2^64 - 1 ≡ 0.
        assert_eq!(mul_cyclic_limbs(&[u64::MAX], &[1], 1), vec![0]);
    }
}
