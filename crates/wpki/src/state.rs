//! The applet's persistent (non-volatile) state: key groups with PIN/PUK counters and texts,
//! keys with their certificates, the dialogue language, the end-to-end key and the replay
//! counter. It is one value, serialised with [`WpkiState::to_bytes`] into a TLV image that the
//! card runtime stores and commits atomically (PROTOCOL.md §9 describes the image).

use crate::keys::{KeyMaterial, Secret};
use crate::protocol::{E2eKey, GroupText, KeyAlgorithm};
use crate::tlv::{self, Tlv, TlvError};
use thiserror::Error;
use zeroize::Zeroizing;

/// Most key groups (ids 0..7).
pub const MAX_GROUPS: usize = 8;
/// Most keys (ids 0..7).
pub const MAX_KEYS: usize = 8;
/// Most languages of texts per key group.
pub const MAX_LANGUAGES: usize = 4;

/// A key group: the PIN/PUK pair protecting its keys and its display texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGroup {
    /// Group id 0..7.
    pub id: u8,
    /// The PIN; `None` until activated.
    pub pin: Option<Secret>,
    /// The PUK; generated at activation.
    pub puk: Option<Secret>,
    /// Texts in up to four languages.
    pub texts: Vec<GroupText>,
}

impl KeyGroup {
    /// The group's text of `kind` in `lang`, if set.
    pub fn text(&self, lang: [u8; 2], kind: u8) -> Option<&str> {
        self.texts
            .iter()
            .find(|t| t.lang == lang && t.kind == kind)
            .map(|t| t.text.as_str())
    }
}

/// A key slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySlot {
    /// Key id 0..7.
    pub id: u8,
    /// Owning key group.
    pub group: u8,
    /// Algorithm.
    pub algorithm: KeyAlgorithm,
    /// Usage bits ([`crate::protocol::usage`]).
    pub usage: u8,
    /// Private key material (never leaves the card).
    pub material: KeyMaterial,
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// DER certificate, if stored.
    pub cert: Option<Vec<u8>>,
}

/// The whole persistent state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WpkiState {
    /// Key groups, at most [`MAX_GROUPS`].
    pub groups: Vec<KeyGroup>,
    /// Keys, at most [`MAX_KEYS`].
    pub keys: Vec<KeySlot>,
    /// Dialogue language chosen in the SIM menu.
    pub language: [u8; 2],
    /// End-to-end master key shared with the MSSP.
    pub e2e_key: Option<E2eKey>,
    /// Highest request id accepted in a protected request (replay protection).
    pub last_protected_id: u32,
}

impl Default for WpkiState {
    fn default() -> Self {
        WpkiState {
            groups: Vec::new(),
            keys: Vec::new(),
            language: *b"en",
            e2e_key: None,
            last_protected_id: 0,
        }
    }
}

/// Why a state image could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// TLV structure.
    #[error(transparent)]
    Tlv(#[from] TlvError),
    /// A field is missing or malformed.
    #[error("offset {offset}: state field {tag:02X}: {reason}")]
    Field {
        /// Tag.
        tag: u8,
        /// Offset.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

fn field_err(t: &Tlv<'_>, reason: &'static str) -> StateError {
    StateError::Field {
        tag: t.tag,
        offset: t.offset,
        reason,
    }
}

fn byte(t: &Tlv<'_>) -> Result<u8, StateError> {
    match t.value {
        [b] => Ok(*b),
        _ => Err(field_err(t, "must be 1 byte")),
    }
}

fn put_secret(o: &mut Vec<u8>, tags: [u8; 3], s: &Option<Secret>) {
    if let Some(s) = s {
        tlv::put(o, tags[0], &s.value);
        tlv::put(o, tags[1], &[s.tries_left]);
        tlv::put(o, tags[2], &[s.max_tries]);
    }
}

impl WpkiState {
    /// Serialise (the image contains secrets: it is zeroized on drop).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut o = Vec::new();
        tlv::put(&mut o, 0xC0, &self.language);
        if let Some(k) = &self.e2e_key {
            tlv::put(&mut o, 0xC1, k.bytes());
        }
        tlv::put(&mut o, 0xC2, &self.last_protected_id.to_be_bytes());
        for g in &self.groups {
            let mut i = Zeroizing::new(Vec::new());
            tlv::put(&mut i, 0x80, &[g.id]);
            put_secret(&mut i, [0x81, 0x82, 0x83], &g.pin);
            put_secret(&mut i, [0x84, 0x85, 0x86], &g.puk);
            for t in &g.texts {
                let mut v = t.lang.to_vec();
                v.push(t.kind);
                v.extend_from_slice(t.text.as_bytes());
                tlv::put(&mut i, 0x87, &v);
            }
            tlv::put(&mut o, 0xA0, &i);
        }
        for k in &self.keys {
            let mut i = Zeroizing::new(Vec::new());
            tlv::put(&mut i, 0x80, &[k.id]);
            tlv::put(&mut i, 0x81, &[k.group]);
            tlv::put(&mut i, 0x82, &[k.algorithm.into()]);
            tlv::put(&mut i, 0x83, &[k.usage]);
            match &k.material {
                KeyMaterial::Rsa(d) => tlv::put(&mut i, 0x84, d),
                KeyMaterial::P256(d) => tlv::put(&mut i, 0x85, d),
                KeyMaterial::P384(d) => tlv::put(&mut i, 0x86, d),
                KeyMaterial::SplitRsa { n, e, d_card } => {
                    tlv::put(&mut i, 0x87, n);
                    tlv::put(&mut i, 0x88, e);
                    tlv::put(&mut i, 0x89, d_card);
                }
            }
            tlv::put(&mut i, 0x8A, &k.spki);
            if let Some(c) = &k.cert {
                tlv::put(&mut i, 0x8B, c);
            }
            tlv::put(&mut o, 0xA1, &i);
        }
        Zeroizing::new(o)
    }

    /// Read an image written by [`WpkiState::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<WpkiState, StateError> {
        let mut s = WpkiState::default();
        for t in tlv::parse_all(b, 0)? {
            match t.tag {
                0xC0 => {
                    s.language = t
                        .value
                        .try_into()
                        .map_err(|_| field_err(&t, "language must be 2 bytes"))?
                }
                0xC1 => {
                    s.e2e_key = Some(E2eKey::new(
                        t.value
                            .try_into()
                            .map_err(|_| field_err(&t, "key must be 16 bytes"))?,
                    ))
                }
                0xC2 => {
                    s.last_protected_id = u32::from_be_bytes(
                        t.value
                            .try_into()
                            .map_err(|_| field_err(&t, "must be 4 bytes"))?,
                    )
                }
                0xA0 => s.groups.push(parse_group(&t)?),
                0xA1 => s.keys.push(parse_key(&t)?),
                _ => return Err(field_err(&t, "unknown tag")),
            }
        }
        if s.groups.len() > MAX_GROUPS || s.keys.len() > MAX_KEYS {
            return Err(StateError::Field {
                tag: 0xA0,
                offset: 0,
                reason: "too many groups or keys",
            });
        }
        Ok(s)
    }
}

fn parse_group(outer: &Tlv<'_>) -> Result<KeyGroup, StateError> {
    let mut g = KeyGroup {
        id: 0,
        pin: None,
        puk: None,
        texts: Vec::new(),
    };
    let mut id = None;
    let mut pin = (None, None, None);
    let mut puk = (None, None, None);
    for t in tlv::parse_all(outer.value, outer.value_offset)? {
        match t.tag {
            0x80 => id = Some(byte(&t)?),
            0x81 => pin.0 = Some(t.value.to_vec()),
            0x82 => pin.1 = Some(byte(&t)?),
            0x83 => pin.2 = Some(byte(&t)?),
            0x84 => puk.0 = Some(t.value.to_vec()),
            0x85 => puk.1 = Some(byte(&t)?),
            0x86 => puk.2 = Some(byte(&t)?),
            0x87 => {
                let v = t.value;
                if v.len() < 3 {
                    return Err(field_err(&t, "text too short"));
                }
                let text = String::from_utf8(v[3..].to_vec())
                    .map_err(|_| field_err(&t, "text not UTF-8"))?;
                g.texts.push(GroupText {
                    lang: [v[0], v[1]],
                    kind: v[2],
                    text,
                });
            }
            _ => return Err(field_err(&t, "unknown tag in group")),
        }
    }
    g.id = id.ok_or_else(|| field_err(outer, "group without id"))?;
    let mk = |p: (Option<Vec<u8>>, Option<u8>, Option<u8>)| match p {
        (Some(v), Some(t), Some(m)) => Ok(Some(Secret {
            value: Zeroizing::new(v),
            tries_left: t,
            max_tries: m,
        })),
        (None, None, None) => Ok(None),
        _ => Err(field_err(outer, "incomplete PIN/PUK")),
    };
    g.pin = mk(pin)?;
    g.puk = mk(puk)?;
    Ok(g)
}

fn parse_key(outer: &Tlv<'_>) -> Result<KeySlot, StateError> {
    let (mut id, mut group, mut alg, mut usage, mut material, mut spki, mut cert) =
        (None, None, None, None, None, None, None);
    let (mut n, mut e, mut d) = (None, None, None);
    for t in tlv::parse_all(outer.value, outer.value_offset)? {
        let v = || Zeroizing::new(t.value.to_vec());
        match t.tag {
            0x80 => id = Some(byte(&t)?),
            0x81 => group = Some(byte(&t)?),
            0x82 => alg = Some(KeyAlgorithm::from(byte(&t)?)),
            0x83 => usage = Some(byte(&t)?),
            0x84 => material = Some(KeyMaterial::Rsa(v())),
            0x85 => material = Some(KeyMaterial::P256(v())),
            0x86 => material = Some(KeyMaterial::P384(v())),
            0x87 => n = Some(t.value.to_vec()),
            0x88 => e = Some(t.value.to_vec()),
            0x89 => d = Some(v()),
            0x8A => spki = Some(t.value.to_vec()),
            0x8B => cert = Some(t.value.to_vec()),
            _ => return Err(field_err(&t, "unknown tag in key")),
        }
    }
    if let (Some(n), Some(e), Some(d_card)) = (n, e, d) {
        material = Some(KeyMaterial::SplitRsa { n, e, d_card });
    }
    let missing = |what| field_err(outer, what);
    Ok(KeySlot {
        id: id.ok_or_else(|| missing("key without id"))?,
        group: group.ok_or_else(|| missing("key without group"))?,
        algorithm: alg.ok_or_else(|| missing("key without algorithm"))?,
        usage: usage.ok_or_else(|| missing("key without usage"))?,
        material: material.ok_or_else(|| missing("key without material"))?,
        spki: spki.ok_or_else(|| missing("key without public key"))?,
        cert,
    })
}
