//! The two MACs of the SCP80 cryptographic checksum (ETSI TS 102 225 §5.1.3, TS 31.115 §4),
//! written over a RustCrypto block cipher (`cipher` 0.5 `BlockCipherEncrypt`):
//!
//! * [`Cmac`]: AES-CMAC, NIST SP 800-38B (= RFC 4493 for AES-128), with the subkeys K1/K2
//!   derived once per key instead of once per message;
//! * [`cbc_mac`]: DES/3DES CBC-MAC, ISO/IEC 9797-1 MAC algorithm 1 with padding method 1
//!   (zero IV, zero padding to the block size, nothing added when aligned, one zero block for
//!   empty input), the last ciphertext block.
//!
//! Both run every block of a message inside one call into the cipher backend (one CPU-feature
//! dispatch per message, not per block), over a list of byte slices so that a packet's
//! header and body need not be copied together. No `unsafe`; subkeys are zeroized on drop
//! (the cipher instances zeroize themselves with the crates' `zeroize` feature).

use cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser,
};
use zeroize::Zeroize;

/// `R_b` of SP 800-38B §5.3 for the subkey doubling: 0x87 for 128-bit blocks, 0x1B for
/// 64-bit blocks.
fn rb(block_len: usize) -> u8 {
    if block_len == 16 {
        0x87
    } else {
        0x1B
    }
}

/// Doubling in GF(2^b) (SP 800-38B §6.1 steps 2–3): shift left by one bit, XOR `R_b` into
/// the last byte when the bit shifted out was 1.
fn dbl(x: &mut [u8]) {
    let carry = x.first().map_or(0, |b| b >> 7);
    let n = x.len();
    for i in 0..n {
        let next = x.get(i + 1).map_or(0, |b| b >> 7);
        if let Some(b) = x.get_mut(i) {
            *b = (*b << 1) | next;
        }
    }
    if let Some(last) = x.last_mut() {
        // Constant time: mask instead of branching on the secret bit.
        *last ^= rb(n) & 0u8.wrapping_sub(carry);
    }
}

/// A CMAC key: the block cipher with its key schedule and the two subkeys
/// (SP 800-38B §6.1), prepared once.
#[derive(Clone)]
pub struct Cmac<C: BlockCipherEncrypt> {
    cipher: C,
    k1: Array<u8, C::BlockSize>,
    k2: Array<u8, C::BlockSize>,
}

impl<C: BlockCipherEncrypt> Drop for Cmac<C> {
    fn drop(&mut self) {
        self.k1.as_mut_slice().zeroize();
        self.k2.as_mut_slice().zeroize();
    }
}

impl<C: BlockCipherEncrypt> Cmac<C> {
    /// Derive the subkeys `K1 = dbl(E_K(0^b))`, `K2 = dbl(K1)` (SP 800-38B §6.1).
    pub fn new(cipher: C) -> Self {
        let mut l = Array::<u8, C::BlockSize>::default();
        cipher.encrypt_block(&mut l);
        dbl(&mut l);
        let k1 = l.clone();
        dbl(&mut l);
        let k2 = l.clone();
        l.as_mut_slice().zeroize();
        Cmac { cipher, k1, k2 }
    }

    /// The full-length CMAC tag of the concatenation of `parts` (SP 800-38B §6.2), written
    /// to the first block-size bytes of `out` (`out` must hold at least one block).
    pub fn tag(&self, parts: &[&[u8]], out: &mut [u8]) {
        let mut x = Array::<u8, C::BlockSize>::default();
        self.cipher.encrypt_with_backend(CmacJob::<C::BlockSize> {
            k1: &self.k1,
            k2: &self.k2,
            parts,
            x: &mut x,
        });
        if let Some(o) = out.get_mut(..x.len()) {
            o.copy_from_slice(&x);
        }
    }
}

/// The CBC-MAC (ISO/IEC 9797-1 MAC algorithm 1, padding method 1, zero IV) of the
/// concatenation of `parts`: the last ciphertext block, written to the first block-size bytes
/// of `out`.
pub fn cbc_mac<C: BlockCipherEncrypt>(cipher: &C, parts: &[&[u8]], out: &mut [u8]) {
    let mut x = Array::<u8, C::BlockSize>::default();
    cipher.encrypt_with_backend(CbcMacJob::<C::BlockSize> { parts, x: &mut x });
    if let Some(o) = out.get_mut(..x.len()) {
        o.copy_from_slice(&x);
    }
}

/// XOR as much of `p` as fits into `x[*fill..]`; returns the bytes consumed.
fn absorb(x: &mut [u8], fill: &mut usize, p: &[u8]) -> usize {
    let dst = x.get_mut(*fill..).unwrap_or_default();
    let n = dst.len().min(p.len());
    for (a, b) in dst.iter_mut().zip(p) {
        *a ^= b;
    }
    *fill += n;
    n
}

/// The CMAC chain run inside the backend: `x` holds the chaining value XOR the pending
/// (not yet encrypted) block, so the last block can get K1 or K2 before its encryption.
struct CmacJob<'a, BS: cipher::array::ArraySize> {
    k1: &'a Array<u8, BS>,
    k2: &'a Array<u8, BS>,
    parts: &'a [&'a [u8]],
    x: &'a mut Array<u8, BS>,
}

impl<BS: cipher::array::ArraySize> BlockSizeUser for CmacJob<'_, BS> {
    type BlockSize = BS;
}

impl<BS: cipher::array::ArraySize> BlockCipherEncClosure for CmacJob<'_, BS> {
    fn call<B: BlockCipherEncBackend<BlockSize = BS>>(self, backend: &B) {
        let bs = BS::USIZE;
        let x = self.x;
        let mut fill = 0usize;
        for p in self.parts {
            let mut p: &[u8] = p;
            while !p.is_empty() {
                if fill == bs {
                    // The pending block is not the last one: encrypt it now.
                    backend.encrypt_block_inplace(x);
                    fill = 0;
                }
                let n = absorb(x, &mut fill, p);
                p = p.get(n..).unwrap_or_default();
            }
        }
        let k = if fill == bs {
            self.k1
        } else {
            // 10* padding (SP 800-38B §6.2 step 3), also for the empty message.
            if let Some(b) = x.get_mut(fill) {
                *b ^= 0x80;
            }
            self.k2
        };
        for (a, b) in x.iter_mut().zip(k.iter()) {
            *a ^= b;
        }
        backend.encrypt_block_inplace(x);
    }
}

/// The CBC-MAC chain run inside the backend (zero padding is implicit: the unfilled bytes of
/// the last block are XORed with nothing).
struct CbcMacJob<'a, BS: cipher::array::ArraySize> {
    parts: &'a [&'a [u8]],
    x: &'a mut Array<u8, BS>,
}

impl<BS: cipher::array::ArraySize> BlockSizeUser for CbcMacJob<'_, BS> {
    type BlockSize = BS;
}

impl<BS: cipher::array::ArraySize> BlockCipherEncClosure for CbcMacJob<'_, BS> {
    fn call<B: BlockCipherEncBackend<BlockSize = BS>>(self, backend: &B) {
        let bs = BS::USIZE;
        let x = self.x;
        let mut fill = 0usize;
        let mut blocks = 0usize;
        for p in self.parts {
            let mut p: &[u8] = p;
            while !p.is_empty() {
                let n = absorb(x, &mut fill, p);
                p = p.get(n..).unwrap_or_default();
                if fill == bs {
                    backend.encrypt_block_inplace(x);
                    blocks += 1;
                    fill = 0;
                }
            }
        }
        if fill > 0 || blocks == 0 {
            backend.encrypt_block_inplace(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::{Aes128, Aes192, Aes256};
    use apdu::hex;
    use cipher::KeyInit;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// NIST SP 800-38B appendix D.1 / RFC 4493 §4 message (64 bytes; the examples use its
    /// first 0, 16, 40 and 64 bytes).
    const M: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                     30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

    fn tag<C: BlockCipherEncrypt>(c: C, msg: &[u8]) -> String {
        let m = Cmac::new(c);
        let mut out = [0u8; 16];
        // Split unevenly to exercise the slice handling.
        let cut = msg.len().min(7);
        m.tag(&[&msg[..cut], &[], &msg[cut..]], &mut out);
        hex::encode(&out).to_lowercase()
    }

    #[test]
    fn rfc4493_aes128_subkeys_and_tags() {
        let key = h("2b7e151628aed2a6abf7158809cf4f3c");
        let m = Cmac::new(Aes128::new_from_slice(&key).unwrap());
        assert_eq!(
            hex::encode(&m.k1).to_lowercase(),
            "fbeed618357133667c85e08f7236a8de"
        );
        assert_eq!(
            hex::encode(&m.k2).to_lowercase(),
            "f7ddac306ae266ccf90bc11ee46d513b"
        );
        let msg = h(M);
        for (len, want) in [
            (0, "bb1d6929e95937287fa37d129b756746"),
            (16, "070a16b46b4d4144f79bdd9dd04a287c"),
            (40, "dfa66747de9ae63030ca32611497c827"),
            (64, "51f0bebf7e3b9d92fc49741779363cfe"),
        ] {
            let c = Aes128::new_from_slice(&key).unwrap();
            assert_eq!(tag(c, &msg[..len]), want, "len {len}");
        }
    }

    #[test]
    fn sp800_38b_aes192_and_aes256() {
        let msg = h(M);
        let k192 = h("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b");
        let k256 = h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        for (len, w192, w256) in [
            (
                0,
                "d17ddf46adaacde531cac483de7a9367",
                "028962f61b7bf89efc6b551f4667d983",
            ),
            (
                16,
                "9e99a7bf31e710900662f65e617c5184",
                "28a7023f452e8f82bd4bf28d8c37c35c",
            ),
            (
                40,
                "8a1de5be2eb31aad089a82e6ee908b0e",
                "aaf3d8f1de5640c232f5b169b9c911e6",
            ),
            (
                64,
                "a1d5df0eed790f794d77589659f39a11",
                "e1992190549f6ed5696a2c056c315410",
            ),
        ] {
            let c = Aes192::new_from_slice(&k192).unwrap();
            assert_eq!(tag(c, &msg[..len]), w192, "AES-192 len {len}");
            let c = Aes256::new_from_slice(&k256).unwrap();
            assert_eq!(tag(c, &msg[..len]), w256, "AES-256 len {len}");
        }
    }

    #[test]
    fn sp800_38b_tdea_cmac() {
        // SP 800-38B D.2 (three-key TDEA, 64-bit blocks: R_b = 0x1B): examples 1–3.
        let key = h("8aa83bf8cbda10620bc1bf19fbb6cd58bc313d4a371ca8b5");
        let msg = h("6bc1bee22e409f96e93d7e117393172aae2d8a57");
        let m = Cmac::new(des::TdesEde3::new_from_slice(&key).unwrap());
        let mut out = [0u8; 8];
        m.tag(&[], &mut out);
        assert_eq!(hex::encode(&out).to_lowercase(), "b7a688e122ffaf95");
        m.tag(&[&msg[..8]], &mut out);
        assert_eq!(hex::encode(&out).to_lowercase(), "8e8f293136283797");
        m.tag(&[&msg[..3], &msg[3..]], &mut out);
        assert_eq!(hex::encode(&out).to_lowercase(), "743ddbe0ce2dc2ed");
    }

    #[test]
    fn cbc_mac_is_the_last_cbc_block_with_zero_padding() {
        use cipher::{BlockModeEncrypt, KeyIvInit};
        let key = [0x13u8; 16];
        let c = des::TdesEde2::new_from_slice(&key).unwrap();
        for len in [0usize, 1, 7, 8, 9, 16, 23] {
            let msg: Vec<u8> = (0..len as u8).collect();
            let mut padded = msg.clone();
            padded.resize(len.div_ceil(8).max(1) * 8, 0);
            let n = padded.len();
            let mut e = cbc::Encryptor::<des::TdesEde2>::new(&key.into(), &[0u8; 8].into());
            for blk in padded.chunks_exact_mut(8) {
                let b: &mut Array<u8, _> = blk.try_into().unwrap();
                e.encrypt_block(b);
            }
            let mut out = [0u8; 8];
            let cut = len / 2;
            cbc_mac(&c, &[&msg[..cut], &msg[cut..]], &mut out);
            assert_eq!(out[..], padded[n - 8..], "len {len}");
        }
    }

    #[test]
    fn dbl_shifts_and_reduces() {
        let mut x = [0x80u8, 0, 0, 0, 0, 0, 0, 1];
        dbl(&mut x);
        assert_eq!(x, [0, 0, 0, 0, 0, 0, 0, 0x02 ^ 0x1B]);
        let mut y = [0x40u8; 16];
        dbl(&mut y);
        assert_eq!(y, [0x80; 16]);
    }
}
