//! The block-cipher building blocks GlobalPlatform uses, all from RustCrypto crates: 3DES and
//! AES in ECB/CBC, the SCP02 "retail" MAC (GPCS v2.3 B.1.2.2), the full 3DES MAC (B.1.2.1),
//! AES-CMAC (NIST SP 800-38B), the SCP03 KDF in counter mode (NIST SP 800-108, Amendment D
//! §6.2.1), ISO/IEC 9797-1 method 2 padding (`80 00…`, GPCS B.2.3) and key check values.

use aes::{Aes128, Aes192, Aes256};
use cipher::block_padding::NoPadding;
use cipher::{BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt};
use cipher::{KeyInit, KeyIvInit};
use cmac::{Cmac, Mac};
use des::{Des, TdesEde2, TdesEde3};

use crate::error::GpError;

/// Append `80` and zeros up to a multiple of `block` (ISO/IEC 9797-1 method 2, GPCS B.2.3).
pub fn pad80(data: &[u8], block: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + block);
    v.extend_from_slice(data);
    v.push(0x80);
    while v.len() % block != 0 {
        v.push(0);
    }
    v
}

/// Strip `80 00…` padding (GPCS B.2.3); `None` when the padding is absent or malformed.
pub fn unpad80(data: &[u8]) -> Option<&[u8]> {
    let end = data.iter().rposition(|&b| b != 0)?;
    if data[end] == 0x80 {
        Some(&data[..end])
    } else {
        None
    }
}

fn check_blocks(data: &[u8], block: usize, field: &'static str) -> Result<(), GpError> {
    if data.is_empty() || !data.len().is_multiple_of(block) {
        return Err(GpError::BadLength {
            field,
            len: data.len(),
            expected: "a non-zero multiple of the cipher block",
        });
    }
    Ok(())
}

fn bad_key(field: &'static str, len: usize) -> GpError {
    GpError::BadLength {
        field,
        len,
        expected: "16 or 24 bytes (3DES) / 16, 24 or 32 bytes (AES)",
    }
}

/// 3DES (two- or three-key) CBC encryption without padding.
pub fn des3_cbc_encrypt(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 8, "3DES CBC input")?;
    let mut buf = data.to_vec();
    let n = buf.len();
    match key.len() {
        16 => cbc::Encryptor::<TdesEde2>::new_from_slices(key, iv)
            .map_err(|_| bad_key("3DES key", key.len()))?
            .encrypt_padded::<NoPadding>(&mut buf, n)
            .map(|_| ())
            .map_err(|_| bad_key("3DES key", key.len()))?,
        24 => cbc::Encryptor::<TdesEde3>::new_from_slices(key, iv)
            .map_err(|_| bad_key("3DES key", key.len()))?
            .encrypt_padded::<NoPadding>(&mut buf, n)
            .map(|_| ())
            .map_err(|_| bad_key("3DES key", key.len()))?,
        l => return Err(bad_key("3DES key", l)),
    }
    Ok(buf)
}

/// 3DES (two- or three-key) CBC decryption without padding.
pub fn des3_cbc_decrypt(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 8, "3DES CBC input")?;
    let mut buf = data.to_vec();
    match key.len() {
        16 => {
            cbc::Decryptor::<TdesEde2>::new_from_slices(key, iv)
                .map_err(|_| bad_key("3DES key", key.len()))?
                .decrypt_padded::<NoPadding>(&mut buf)
                .map_err(|_| bad_key("3DES key", key.len()))?;
        }
        24 => {
            cbc::Decryptor::<TdesEde3>::new_from_slices(key, iv)
                .map_err(|_| bad_key("3DES key", key.len()))?
                .decrypt_padded::<NoPadding>(&mut buf)
                .map_err(|_| bad_key("3DES key", key.len()))?;
        }
        l => return Err(bad_key("3DES key", l)),
    }
    Ok(buf)
}

/// 3DES ECB encryption without padding (each 8-byte block independently).
pub fn des3_ecb_encrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 8, "3DES ECB input")?;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(8) {
        let mut iv = [0u8; 8];
        iv.copy_from_slice(chunk);
        // ECB on one block is CBC with a zero IV over that block.
        out.extend(des3_cbc_encrypt(key, &[0; 8], &iv)?);
    }
    Ok(out)
}

/// 3DES ECB decryption without padding.
pub fn des3_ecb_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 8, "3DES ECB input")?;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(8) {
        out.extend(des3_cbc_decrypt(key, &[0; 8], chunk)?);
    }
    Ok(out)
}

/// Single-DES ECB encryption of one block with the first 8 bytes of `key` (SCP02 ICV
/// encryption, GPCS E.4.4).
pub fn des_ecb_block(key: &[u8], block: &[u8; 8]) -> Result<[u8; 8], GpError> {
    let k = key.get(..8).ok_or(bad_key("DES key", key.len()))?;
    let c = Des::new_from_slice(k).map_err(|_| bad_key("DES key", key.len()))?;
    let mut b = cipher::Array::from(*block);
    c.encrypt_block(&mut b);
    Ok(b.into())
}

/// Full 3DES CBC MAC (GPCS B.1.2.1): `80`-pad `data`, 3DES-CBC with `iv`, last block.
pub fn mac_3des(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<[u8; 8], GpError> {
    let enc = des3_cbc_encrypt(key, iv, &pad80(data, 8))?;
    let mut out = [0u8; 8];
    out.copy_from_slice(&enc[enc.len() - 8..]);
    Ok(out)
}

/// The SCP02 C-MAC / R-MAC algorithm (GPCS B.1.2.2, ISO 9797-1 MAC algorithm 3): `80`-pad,
/// single-DES CBC with the left key half and `iv`, then decrypt with the right half and
/// encrypt with the left half on the last block.
pub fn mac_retail(key: &[u8], iv: &[u8; 8], data: &[u8]) -> Result<[u8; 8], GpError> {
    if key.len() != 16 {
        return Err(bad_key("SCP02 MAC key", key.len()));
    }
    let padded = pad80(data, 8);
    let n = padded.len();
    let mut buf = padded;
    cbc::Encryptor::<Des>::new_from_slices(&key[..8], iv)
        .map_err(|_| bad_key("DES key", 8))?
        .encrypt_padded::<NoPadding>(&mut buf, n)
        .map_err(|_| bad_key("DES key", 8))?;
    let mut last = cipher::Array::<u8, cipher::consts::U8>::default();
    last.copy_from_slice(&buf[n - 8..]);
    let k1 = Des::new_from_slice(&key[..8]).map_err(|_| bad_key("DES key", 8))?;
    let k2 = Des::new_from_slice(&key[8..]).map_err(|_| bad_key("DES key", 8))?;
    k2.decrypt_block(&mut last);
    k1.encrypt_block(&mut last);
    Ok(last.into())
}

macro_rules! with_aes {
    ($key:expr, $field:expr, |$c:ident : $t:ident| $body:expr) => {
        match $key.len() {
            16 => {
                type $t = Aes128;
                $body
            }
            24 => {
                type $t = Aes192;
                $body
            }
            32 => {
                type $t = Aes256;
                $body
            }
            l => Err(bad_key($field, l)),
        }
    };
}

/// AES CBC encryption without padding (key of 16, 24 or 32 bytes).
pub fn aes_cbc_encrypt(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 16, "AES CBC input")?;
    let mut buf = data.to_vec();
    let n = buf.len();
    with_aes!(key, "AES key", |c: A| {
        cbc::Encryptor::<A>::new_from_slices(key, iv)
            .map_err(|_| bad_key("AES key", key.len()))?
            .encrypt_padded::<NoPadding>(&mut buf, n)
            .map_err(|_| bad_key("AES key", key.len()))?;
        Ok(())
    })?;
    Ok(buf)
}

/// AES CBC decryption without padding.
pub fn aes_cbc_decrypt(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, GpError> {
    check_blocks(data, 16, "AES CBC input")?;
    let mut buf = data.to_vec();
    with_aes!(key, "AES key", |c: A| {
        cbc::Decryptor::<A>::new_from_slices(key, iv)
            .map_err(|_| bad_key("AES key", key.len()))?
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| bad_key("AES key", key.len()))?;
        Ok(())
    })?;
    Ok(buf)
}

/// AES-CMAC (NIST SP 800-38B), full 16 bytes.
pub fn aes_cmac(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 16], GpError> {
    with_aes!(key, "AES key", |c: A| {
        let mut m =
            <Cmac<A> as KeyInit>::new_from_slice(key).map_err(|_| bad_key("AES key", key.len()))?;
        for p in parts {
            m.update(p);
        }
        let out: [u8; 16] = m.finalize().into_bytes().into();
        Ok(out)
    })
}

/// The SCP03 data derivation (Amendment D §6.2.1): KDF in counter mode (NIST SP 800-108)
/// with AES-CMAC as PRF; the fixed input is an 11-byte zero label, the derivation `constant`,
/// a zero separator, the output length `L` in bits (2 bytes), the counter `i` (1 byte) and the
/// `context`.
pub fn scp03_kdf(
    key: &[u8],
    constant: u8,
    context: &[u8],
    out_len: usize,
) -> Result<Vec<u8>, GpError> {
    let bits = (out_len * 8) as u16;
    let mut prefix = [0u8; 16];
    prefix[11] = constant;
    prefix[13..15].copy_from_slice(&bits.to_be_bytes());
    let mut out = Vec::with_capacity(out_len + 16);
    let mut i: u8 = 1;
    while out.len() < out_len {
        prefix[15] = i;
        out.extend_from_slice(&aes_cmac(key, &[&prefix, context])?);
        i = i.wrapping_add(1);
    }
    out.truncate(out_len);
    Ok(out)
}

/// Generic KDF in counter mode (NIST SP 800-108) with AES-CMAC, an 8-bit counter placed
/// between the fixed input `a` and `b`: the form GlobalPlatformPro's "KDF3" diversification
/// uses with an empty `a`.
pub fn kdf_counter(key: &[u8], a: &[u8], b: &[u8], out_len: usize) -> Result<Vec<u8>, GpError> {
    let mut out = Vec::with_capacity(out_len + 16);
    let mut i: u8 = 1;
    while out.len() < out_len {
        out.extend_from_slice(&aes_cmac(key, &[a, &[i], b])?);
        i = i.wrapping_add(1);
    }
    out.truncate(out_len);
    Ok(out)
}

/// Key check value of a 3DES key: first 3 bytes of 3DES-ECB(key, 8 × `00`) (GPCS §11.8.2.3).
pub fn kcv_des3(key: &[u8]) -> Result<[u8; 3], GpError> {
    let e = des3_ecb_encrypt(key, &[0u8; 8])?;
    Ok([e[0], e[1], e[2]])
}

/// Key check value of an AES key: first 3 bytes of AES(key, 16 × `01`) (Amendment D §7.2.2.3).
pub fn kcv_aes(key: &[u8]) -> Result<[u8; 3], GpError> {
    let e = aes_cbc_encrypt(key, &[0u8; 16], &[1u8; 16])?;
    Ok([e[0], e[1], e[2]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_and_unpad() {
        assert_eq!(pad80(&[], 8), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(pad80(&[1; 8], 8).len(), 16);
        assert_eq!(unpad80(&pad80(&[1, 2, 0], 16)), Some(&[1, 2, 0][..]));
        assert_eq!(unpad80(&[1, 2, 0]), None);
        assert_eq!(unpad80(&[0, 0]), None);
    }

    #[test]
    fn bad_lengths_are_errors() {
        assert!(des3_cbc_encrypt(&[0; 15], &[0; 8], &[0; 8]).is_err());
        assert!(des3_cbc_encrypt(&[0; 16], &[0; 8], &[0; 7]).is_err());
        assert!(aes_cbc_encrypt(&[0; 20], &[0; 16], &[0; 16]).is_err());
        assert!(aes_cmac(&[0; 8], &[]).is_err());
        assert!(mac_retail(&[0; 24], &[0; 8], &[]).is_err());
    }

    #[test]
    fn cmac_rfc4493_example() {
        // RFC 4493 §4, Example 2 (16-byte message).
        let k = apdu::hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let m = apdu::hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        assert_eq!(
            apdu::hex::encode(&aes_cmac(&k, &[&m]).unwrap()),
            "070A16B46B4D4144F79BDD9DD04A287C"
        );
    }
}
