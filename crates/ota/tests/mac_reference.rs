//! Property tests of `ota::mac` against the RustCrypto reference crates: our AES-CMAC
//! (NIST SP 800-38B) against the `cmac` crate for AES-128/192/256, and our DES/3DES
//! CBC-MAC against the last block of `cbc` encryption of the zero-padded message, for random
//! keys, messages of 0–200 bytes and random splits of the message into slices.

use aes::{Aes128, Aes192, Aes256};
use cipher::{Array, BlockCipherEncrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use cmac::Mac;
use ota::mac::{cbc_mac, Cmac};
use proptest::prelude::*;

/// Split `msg` at the (sorted, clamped) `cuts`.
fn split<'a>(msg: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut c: Vec<usize> = cuts.iter().map(|&x| x % (msg.len() + 1)).collect();
    c.sort_unstable();
    let mut parts = Vec::new();
    let mut at = 0;
    for x in c {
        parts.push(&msg[at..x]);
        at = x;
    }
    parts.push(&msg[at..]);
    parts
}

fn ours<C: BlockCipherEncrypt + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let m = Cmac::new(C::new_from_slice(key).unwrap());
    let mut out = [0u8; 16];
    m.tag(parts, &mut out);
    out.to_vec()
}

/// The `cmac` crate's tag (its trait bounds are easier to name in a macro than generically).
macro_rules! reference {
    ($c:ty, $key:expr, $msg:expr) => {{
        let mut m = <cmac::Cmac<$c> as cmac::KeyInit>::new_from_slice($key).unwrap();
        m.update($msg);
        m.finalize().into_bytes().to_vec()
    }};
}

fn last_cbc_block<C>(key: &[u8], msg: &[u8]) -> Vec<u8>
where
    C: BlockCipherEncrypt + KeyInit,
    cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt<BlockSize = cipher::consts::U8>,
{
    let mut padded = msg.to_vec();
    padded.resize(msg.len().div_ceil(8).max(1) * 8, 0);
    let mut e = cbc::Encryptor::<C>::new_from_slices(key, &[0; 8]).unwrap();
    for blk in padded.chunks_exact_mut(8) {
        let b: &mut Array<u8, cipher::consts::U8> = blk.try_into().unwrap();
        e.encrypt_block(b);
    }
    padded[padded.len() - 8..].to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn aes_cmac_equals_the_cmac_crate(
        key in proptest::collection::vec(any::<u8>(), 32),
        msg in proptest::collection::vec(any::<u8>(), 0..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..5),
    ) {
        let parts = split(&msg, &cuts);
        prop_assert_eq!(ours::<Aes128>(&key[..16], &parts), reference!(Aes128, &key[..16], &msg));
        prop_assert_eq!(ours::<Aes192>(&key[..24], &parts), reference!(Aes192, &key[..24], &msg));
        prop_assert_eq!(ours::<Aes256>(&key, &parts), reference!(Aes256, &key, &msg));
    }

    #[test]
    fn des_cbc_mac_equals_the_last_cbc_block(
        key in proptest::collection::vec(any::<u8>(), 24),
        msg in proptest::collection::vec(any::<u8>(), 0..120),
        cuts in proptest::collection::vec(any::<usize>(), 0..5),
    ) {
        let parts = split(&msg, &cuts);
        let mut out = [0u8; 8];
        cbc_mac(&des::Des::new_from_slice(&key[..8]).unwrap(), &parts, &mut out);
        prop_assert_eq!(out.to_vec(), last_cbc_block::<des::Des>(&key[..8], &msg));
        cbc_mac(&des::TdesEde2::new_from_slice(&key[..16]).unwrap(), &parts, &mut out);
        prop_assert_eq!(out.to_vec(), last_cbc_block::<des::TdesEde2>(&key[..16], &msg));
        cbc_mac(&des::TdesEde3::new_from_slice(&key).unwrap(), &parts, &mut out);
        prop_assert_eq!(out.to_vec(), last_cbc_block::<des::TdesEde3>(&key, &msg));
    }
}
