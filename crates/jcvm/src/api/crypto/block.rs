//! The symmetric block engines behind Cipher and the MAC signatures: DES / 2-key / 3-key
//! triple DES (des crate) and AES-128/192/256 (aes crate), in CBC (cbc crate, chaining state
//! kept between calls) or ECB mode.

use super::keys::{Component, Key, KeyKind};
use super::{illegal_value, Result};
use aes::{Aes128, Aes192, Aes256};
use cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt,
    BlockSizeUser, InnerIvInit, KeyInit,
};
use des::{Des, TdesEde2, TdesEde3};

/// A block engine: processes whole blocks in place, keeping its chaining state.
pub(crate) trait Engine: Send {
    /// Block size in bytes (8 or 16).
    fn block_size(&self) -> usize;
    /// Process `buf` (a multiple of the block size; other lengths leave the tail untouched).
    fn process(&mut self, buf: &mut [u8]);
}

struct CbcEnc<C: BlockCipherEncrypt>(cbc::Encryptor<C>);
struct CbcDec<C: BlockCipherDecrypt>(cbc::Decryptor<C>);
struct EcbEnc<C>(C);
struct EcbDec<C>(C);

fn blocks<N: cipher::array::ArraySize>(
    buf: &mut [u8],
    n: usize,
    mut f: impl FnMut(&mut Array<u8, N>),
) {
    for chunk in buf.chunks_exact_mut(n) {
        if let Ok(b) = <&mut Array<u8, N>>::try_from(chunk) {
            f(b);
        }
    }
}

impl<C: BlockCipherEncrypt + Send> Engine for CbcEnc<C> {
    fn block_size(&self) -> usize {
        C::block_size()
    }
    fn process(&mut self, buf: &mut [u8]) {
        let n = self.block_size();
        blocks(buf, n, |b| self.0.encrypt_block(b));
    }
}

impl<C: BlockCipherDecrypt + Send> Engine for CbcDec<C> {
    fn block_size(&self) -> usize {
        C::block_size()
    }
    fn process(&mut self, buf: &mut [u8]) {
        let n = self.block_size();
        blocks(buf, n, |b| self.0.decrypt_block(b));
    }
}

impl<C: BlockCipherEncrypt + Send> Engine for EcbEnc<C> {
    fn block_size(&self) -> usize {
        C::block_size()
    }
    fn process(&mut self, buf: &mut [u8]) {
        let n = self.block_size();
        blocks(buf, n, |b| self.0.encrypt_block(b));
    }
}

impl<C: BlockCipherDecrypt + Send> Engine for EcbDec<C> {
    fn block_size(&self) -> usize {
        C::block_size()
    }
    fn process(&mut self, buf: &mut [u8]) {
        let n = self.block_size();
        blocks(buf, n, |b| self.0.decrypt_block(b));
    }
}

fn make<C>(key: &[u8], cbc: bool, encrypt: bool, iv: &[u8]) -> Result<Box<dyn Engine>>
where
    C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt + Send + 'static,
{
    let Ok(c) = C::new_from_slice(key) else {
        return illegal_value(format!("{} byte key for the block cipher", key.len()));
    };
    let bs = <C as BlockSizeUser>::block_size();
    let zero = vec![0u8; bs];
    let iv = if iv.is_empty() { &zero[..] } else { iv };
    Ok(match (cbc, encrypt) {
        (true, true) => match cbc::Encryptor::<C>::inner_iv_slice_init(c, iv) {
            Ok(e) => Box::new(CbcEnc(e)),
            Err(_) => return illegal_value(format!("IV of {} bytes (needs {bs})", iv.len())),
        },
        (true, false) => match cbc::Decryptor::<C>::inner_iv_slice_init(c, iv) {
            Ok(d) => Box::new(CbcDec(d)),
            Err(_) => return illegal_value(format!("IV of {} bytes (needs {bs})", iv.len())),
        },
        (false, true) => Box::new(EcbEnc(c)),
        (false, false) => Box::new(EcbDec(c)),
    })
}

/// An engine for a DES or AES key (`cbc` chaining from `iv`, empty = zero IV).
pub(crate) fn engine(key: &Key, cbc: bool, encrypt: bool, iv: &[u8]) -> Result<Box<dyn Engine>> {
    let k = key.component(Component::Key)?;
    match (key.kind(), k.len()) {
        (KeyKind::Des, 8) => make::<Des>(k, cbc, encrypt, iv),
        (KeyKind::Des, 16) => make::<TdesEde2>(k, cbc, encrypt, iv),
        (KeyKind::Des, 24) => make::<TdesEde3>(k, cbc, encrypt, iv),
        (KeyKind::Aes, 16) => make::<Aes128>(k, cbc, encrypt, iv),
        (KeyKind::Aes, 24) => make::<Aes192>(k, cbc, encrypt, iv),
        (KeyKind::Aes, 32) => make::<Aes256>(k, cbc, encrypt, iv),
        (kind, n) => illegal_value(format!("{kind:?} key of {n} bytes for a block cipher")),
    }
}

/// A single-DES engine over 8 bytes of key material (ISO 9797-1 MAC algorithm 3).
pub(crate) fn des_engine(k: &[u8], cbc: bool, encrypt: bool, iv: &[u8]) -> Result<Box<dyn Engine>> {
    make::<Des>(k, cbc, encrypt, iv)
}

/// Padding of the block algorithms (ISO/IEC 9797-1 methods 1 and 2, PKCS#5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pad {
    /// No padding: the data must be block aligned.
    None,
    /// ISO 9797-1 method 1: zeros up to a (positive) multiple of the block size.
    M1,
    /// ISO 9797-1 method 2: 0x80, then zeros up to a multiple of the block size.
    M2,
    /// PKCS#5: n bytes of value n (1..=block size).
    Pkcs5,
}

/// Append the padding to `data`.
pub(crate) fn pad(data: &mut Vec<u8>, pad: Pad, bs: usize) {
    match pad {
        Pad::None => {}
        Pad::M1 => {
            if data.is_empty() || !data.len().is_multiple_of(bs) {
                let n = bs - data.len() % bs;
                data.resize(data.len() + n, 0);
            }
        }
        Pad::M2 => {
            data.push(0x80);
            let rem = data.len() % bs;
            if rem != 0 {
                data.resize(data.len() + bs - rem, 0);
            }
        }
        Pad::Pkcs5 => {
            let n = bs - data.len() % bs;
            data.resize(data.len() + n, n as u8);
        }
    }
}

/// The length of `data` without its padding; None when the padding is malformed.
pub(crate) fn unpad(data: &[u8], pad: Pad, bs: usize) -> Option<usize> {
    match pad {
        Pad::None | Pad::M1 => Some(data.len()),
        Pad::M2 => {
            let tail = data.len().saturating_sub(bs);
            let i = data.iter().rposition(|b| *b != 0)?;
            (i >= tail && data.get(i) == Some(&0x80)).then_some(i)
        }
        Pad::Pkcs5 => {
            let n = usize::from(*data.last()?);
            if n == 0 || n > bs || n > data.len() {
                return None;
            }
            let body = data.len() - n;
            data.get(body..)?
                .iter()
                .all(|b| usize::from(*b) == n)
                .then_some(body)
        }
    }
}
