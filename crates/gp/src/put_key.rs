//! PUT KEY for secure channel key sets (GPCS v2.3 §11.8, Tables 11-68 to 11-71; Amendment D
//! §7.2.2 for AES): the host builds the command with DEK-encrypted keys and KCVs, the card
//! parses it back into a [`StaticKeys`] and answers the new KVN and the check values.

use crate::error::GpError;
use crate::keys::{kcv, Key, KeyKind, StaticKeys};
use crate::session::Session;
use apdu::CommandApdu;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// INS of PUT KEY.
pub const INS_PUT_KEY: u8 = 0xD8;

/// Build PUT KEY for `new` (P1 = `replace` KVN, `00` adds a new key set; P2 = `81`: key id 1
/// and the following, multiple keys).
pub fn build(session: &Session, replace: u8, new: &StaticKeys) -> Result<CommandApdu, GpError> {
    let mut data = vec![new.kvn];
    for key in [&new.enc, &new.mac, &new.dek] {
        let enc = session.encrypt_key(key.bytes())?;
        data.push(new.kind.key_type());
        match new.kind {
            KeyKind::Des3 => {
                data.push(enc.len() as u8);
            }
            KeyKind::Aes => {
                data.push((enc.len() + 1) as u8);
                data.push(key.len() as u8);
            }
        }
        data.extend_from_slice(&enc);
        data.push(3);
        data.extend_from_slice(&kcv(new.kind, key.bytes())?);
    }
    Ok(CommandApdu::new(
        0x80,
        INS_PUT_KEY,
        replace,
        0x81,
        data,
        Some(256),
    ))
}

/// A PUT KEY command as the card understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutKeyRequest {
    /// P1: the KVN to replace, `00` for a new key set.
    pub replace: u8,
    /// The new key set (decrypted, KCVs checked).
    pub keys: StaticKeys,
}

impl PutKeyRequest {
    /// Parse and decrypt a PUT KEY (already unwrapped from secure messaging) of three keys
    /// (P2 = `81`). Every field is checked: key type, lengths, KCVs.
    pub fn parse(session: &Session, cmd: &CommandApdu) -> Result<Self, GpError> {
        if cmd.p2 != 0x81 {
            return Err(GpError::BadValue {
                field: "P2 (key identifier)",
                offset: 3,
                value: cmd.p2 as u32,
                reason: "only 81 (a whole key set, key ids 1..3) is supported",
            });
        }
        let d = &cmd.data;
        let new_kvn = *d.first().ok_or(GpError::Truncated {
            field: "new KVN",
            offset: 5,
            len: 5,
        })?;
        if new_kvn == 0 || new_kvn > 0x7F {
            return Err(GpError::BadValue {
                field: "new KVN",
                offset: 5,
                value: new_kvn as u32,
                reason: "must be 01..7F",
            });
        }
        let mut pos = 1;
        let mut kind = None;
        let mut vals: Vec<Key> = Vec::with_capacity(3);
        let at = |p: usize| 5 + p;
        for _ in 0..3 {
            let get = |p: usize, field: &'static str| {
                d.get(p).copied().ok_or(GpError::Truncated {
                    field,
                    offset: at(p),
                    len: at(d.len()),
                })
            };
            let t = get(pos, "key type")?;
            let k = KeyKind::from_key_type(t).ok_or(GpError::BadValue {
                field: "key type",
                offset: at(pos),
                value: t as u32,
                reason: "only 80 (3DES) and 88 (AES) are supported",
            })?;
            if *kind.get_or_insert(k) != k {
                return Err(GpError::BadValue {
                    field: "key type",
                    offset: at(pos),
                    value: t as u32,
                    reason: "all keys of a set must have the same type",
                });
            }
            if k != session.key_kind() {
                return Err(GpError::BadValue {
                    field: "key type",
                    offset: at(pos),
                    value: t as u32,
                    reason: "does not match the secure channel protocol (SCP02 3DES, SCP03 AES)",
                });
            }
            let len = get(pos + 1, "key data length")? as usize;
            pos += 2;
            let block = d.get(pos..pos + len).ok_or(GpError::Truncated {
                field: "key data",
                offset: at(pos),
                len: at(d.len()),
            })?;
            let (key_len, enc) = match k {
                KeyKind::Des3 => (len, block),
                // Amendment D §7.2.2: a key length byte before the encrypted block (what
                // GlobalPlatformPro sends); GPCS Table 11-71: a block-aligned key without it
                // (what pySim sends for 16- and 32-byte keys).
                KeyKind::Aes if len.is_multiple_of(16) => (len, block),
                KeyKind::Aes => {
                    let (l, rest) = block.split_first().ok_or(GpError::Truncated {
                        field: "key component length",
                        offset: at(pos),
                        len: at(d.len()),
                    })?;
                    (*l as usize, rest)
                }
            };
            let mut plain = session.decrypt_key(enc, key_len)?;
            let key = Key::new(k, &plain);
            plain.zeroize();
            let key = key?;
            pos += len;
            let kcv_len = get(pos, "KCV length")? as usize;
            let got = d
                .get(pos + 1..pos + 1 + kcv_len)
                .ok_or(GpError::Truncated {
                    field: "KCV",
                    offset: at(pos + 1),
                    len: at(d.len()),
                })?;
            if kcv_len != 0 {
                let want = kcv(k, key.bytes())?;
                if kcv_len != 3 || !bool::from(want.ct_eq(got)) {
                    return Err(GpError::BadValue {
                        field: "KCV",
                        offset: at(pos + 1),
                        value: kcv_len as u32,
                        reason: "does not match the decrypted key (wrong DEK?)",
                    });
                }
            }
            pos += 1 + kcv_len;
            vals.push(key);
        }
        if pos != d.len() {
            return Err(GpError::BadLength {
                field: "PUT KEY data",
                len: d.len(),
                expected: "exactly three key fields after the KVN",
            });
        }
        let kind = kind.unwrap_or(KeyKind::Aes);
        let mut it = vals.into_iter();
        let (Some(enc), Some(mac), Some(dek)) = (it.next(), it.next(), it.next()) else {
            return Err(GpError::Truncated {
                field: "key",
                offset: at(pos),
                len: at(d.len()),
            });
        };
        Ok(PutKeyRequest {
            replace: cmd.p1,
            keys: StaticKeys {
                kvn: new_kvn,
                kind,
                enc,
                mac,
                dek,
            },
        })
    }

    /// The response data: new KVN and the three KCVs (GPCS Table 11-72).
    pub fn response(&self) -> Result<Vec<u8>, GpError> {
        let mut v = vec![self.keys.kvn];
        for c in self.keys.kcvs()? {
            v.extend_from_slice(&c);
        }
        Ok(v)
    }
}
