//! The WPKI request/answer protocol carried in the secured data of SCP80 command packets
//! addressed to the applet's TAR and in the additional data of the PoR (see `PROTOCOL.md`).
//!
//! Layers, outermost first:
//! 1. segmentation (`62` segment templates, GET MORE) for answers longer than one PoR;
//! 2. optional end-to-end protection with the applet's own AES-128 key (`71`/`61` templates:
//!    SP 800-108 CMAC-KDF per message, AES-128-CBC with ISO/IEC 9797-1 padding method 2,
//!    encrypt-then-MAC with AES-CMAC truncated to 8 bytes);
//! 3. the plain templates `70` (request) / `60` (answer) holding flat field TLVs.

use crate::tlv::{self, Tlv, TlvError};
use aes::Aes128;
use cbc::cipher::{block_padding::Iso7816, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cmac::{Cmac, Mac};
use ota::byte_enum;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Template tag of a plain request.
pub const TAG_REQUEST: u8 = 0x70;
/// Template tag of an end-to-end protected request.
pub const TAG_REQUEST_PROTECTED: u8 = 0x71;
/// Template tag of a plain answer.
pub const TAG_ANSWER: u8 = 0x60;
/// Template tag of an end-to-end protected answer.
pub const TAG_ANSWER_PROTECTED: u8 = 0x61;
/// Template tag of an answer segment.
pub const TAG_SEGMENT: u8 = 0x62;
/// Answer length limit used when the request does not give one (tag `8D`): fits one PoR in a
/// single SMS with AES ciphering, an 8-byte CC and worst-case padding.
pub const DEFAULT_MAX_ANSWER: u16 = 96;
/// Smallest accepted `8D` value.
pub const MIN_MAX_ANSWER: u16 = 48;

byte_enum!(
    /// Operation codes (request tag `81`), PROTOCOL.md §4.
    OpCode {
        /// Generate a key pair on the card.
        Keygen = 0x01,
        /// Proof of possession: PKCS#10 request signed on card after PIN.
        Pop = 0x02,
        /// Store the user certificate of a key.
        CertPut = 0x03,
        /// Read the user certificate of a key.
        CertGet = 0x04,
        /// Sign (text, digest, consent, authn modes).
        Sign = 0x05,
        /// RSA decryption for the "encrypt" service.
        Decrypt = 0x06,
        /// List the supported signature profiles.
        ProfileQuery = 0x07,
        /// PIN management (sub-operation in tag `8C`).
        Pin = 0x08,
        /// Load the card share of a split RSA key.
        SplitKeyPut = 0x09,
        /// List keys.
        KeyList = 0x0A,
        /// Set display texts of a key group.
        GroupSet = 0x0B,
        /// Read the public key (DER SubjectPublicKeyInfo) of a key.
        PublicKeyGet = 0x0C,
        /// Fetch the next segment of a long answer.
        GetMore = 0x0F,
    }
);

byte_enum!(
    /// Key algorithms (tag `84`).
    KeyAlgorithm {
        /// RSA with a 2048-bit modulus, e = 65537.
        Rsa2048 = 0x01,
        /// RSA with a 3072-bit modulus, e = 65537.
        Rsa3072 = 0x02,
        /// ECDSA on NIST P-256.
        EcP256 = 0x11,
        /// ECDSA on NIST P-384.
        EcP384 = 0x12,
    }
);

byte_enum!(
    /// Signature / decryption schemes (tag `85`).
    Scheme {
        /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
        RsaPkcs1v15 = 0x01,
        /// RSASSA-PSS, MGF1 with the same hash, salt length = hash length (RFC 8017 §8.1).
        RsaPss = 0x02,
        /// ECDSA, signature as DER `Ecdsa-Sig-Value` (RFC 3279).
        Ecdsa = 0x03,
        /// RSAES-PKCS1-v1_5 decryption (RFC 8017 §7.2).
        RsaPkcs1v15Decrypt = 0x04,
        /// RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label (RFC 8017 §7.1).
        RsaOaepSha256 = 0x05,
    }
);

byte_enum!(
    /// Hash algorithms (tag `86`).
    HashAlg {
        /// SHA-256.
        Sha256 = 0x01,
        /// SHA-384.
        Sha384 = 0x02,
        /// SHA-512.
        Sha512 = 0x03,
    }
);

impl HashAlg {
    /// Digest length in bytes, `None` for unknown values.
    pub fn digest_len(self) -> Option<usize> {
        match self {
            HashAlg::Sha256 => Some(32),
            HashAlg::Sha384 => Some(48),
            HashAlg::Sha512 => Some(64),
            HashAlg::Unknown(_) => None,
        }
    }
}

byte_enum!(
    /// SIGN modes (tag `87`).
    SignMode {
        /// The UTF-8 text in `88` is displayed and its bytes are signed (WYSIWYS).
        Text = 0x01,
        /// `88` is a digest computed by the server; `89` is displayed.
        Digest = 0x02,
        /// Click-OK consent: `88` text displayed and signed with a consent key, no PIN.
        Consent = 0x03,
        /// Authentication: `88` is a challenge, `89` displayed, PIN asked.
        Authn = 0x04,
    }
);

byte_enum!(
    /// PIN sub-operations (tag `8C`).
    PinOp {
        /// Change: old PIN, new PIN twice.
        Change = 0x01,
        /// Unblock: PUK, new PIN twice; resets the PIN counter.
        Unblock = 0x02,
        /// Status: tries left, no user dialogue.
        Status = 0x03,
        /// First activation: new PIN twice; the card generates the PUK.
        Activate = 0x04,
    }
);

byte_enum!(
    /// Result codes (answer tag `81`), PROTOCOL.md §6.
    ResultCode {
        /// Success.
        Ok = 0x00,
        /// The user cancelled (or went back).
        UserCancelled = 0x01,
        /// The user did not answer in time.
        NoResponse = 0x02,
        /// Wrong PIN; `82` holds the tries left.
        PinWrong = 0x03,
        /// The PIN is blocked; unblock with the PUK.
        PinBlocked = 0x04,
        /// No key with this id (or matching the profile).
        KeyNotFound = 0x05,
        /// The requested profile/scheme/hash is not supported by the key.
        UnsupportedProfile = 0x06,
        /// The request is malformed; `83` names the field tag, `84` says why.
        BadRequest = 0x07,
        /// End-to-end protection failed: MAC, replay, missing protection.
        SecurityError = 0x08,
        /// Unknown operation code.
        UnsupportedOperation = 0x09,
        /// No room for another key/group, or the slot is in use.
        StorageFull = 0x0A,
        /// The key group's PIN has not been activated yet.
        NotActivated = 0x0B,
        /// The two entries of a new PIN differed, or a new PIN has the wrong format.
        PinMismatch = 0x0C,
        /// An unexpected internal failure (no secret details given).
        InternalError = 0x0D,
        /// GET MORE for a request id with no pending answer.
        NoPendingData = 0x0E,
        /// Wrong PUK; `82` holds the PUK tries left.
        PukWrong = 0x10,
        /// The PUK is blocked: the key group is unusable.
        PukBlocked = 0x11,
        /// The key's usages (fixed at KEYGEN, `8A`) do not include this operation.
        UsageNotAllowed = 0x12,
        /// The operation of the requested signature profile (`92`) is not the operation
        /// performed (e.g. `mss::authn:loa3` with a text SIGN).
        ProfileMismatch = 0x13,
        /// Nothing was entered where the PIN or PUK was asked for; no try was used.
        NothingEntered = 0x14,
    }
);

/// Prefix of every message the applet signs for SIGN (PROTOCOL.md §5.3): domain separation
/// from CSRs (which start with a DER `SEQUENCE`) and from anything else the key might sign.
pub const SIGNED_PREFIX: &[u8; 8] = b"WPKI-SIG";
/// Version byte after [`SIGNED_PREFIX`].
pub const SIGNED_VERSION: u8 = 0x01;

/// The message a SIGN in `mode` signs (PROTOCOL.md §5.3):
/// `"WPKI-SIG" ‖ 01 ‖ mode ‖ data`, where *data* is the text (text, consent), the server's
/// digest (digest) or the challenge (authn). The card signs `hash(message)`, so a signature
/// made in one mode never verifies as one of another mode, and a verifier (OpenSSL
/// `dgst -verify`) checks it over these bytes.
pub fn signed_message(mode: SignMode, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_PREFIX.len() + 2 + data.len());
    m.extend_from_slice(SIGNED_PREFIX);
    m.push(SIGNED_VERSION);
    m.push(mode.into());
    m.extend_from_slice(data);
    m
}

/// A display text of a key group (request tag `97`, PROTOCOL.md §5.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupText {
    /// ISO 639-1 language code, e.g. `*b"en"`.
    pub lang: [u8; 2],
    /// 01 group name, 02 PIN prompt, 03 confirmation title, 04 consent prompt.
    pub kind: u8,
    /// The text.
    pub text: String,
}

/// One key description in a KEY LIST answer (tag `8C`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// Key id.
    pub key: u8,
    /// Key group.
    pub group: u8,
    /// Algorithm.
    pub algorithm: KeyAlgorithm,
    /// Usage bits (see [`usage`]).
    pub usage: u8,
    /// Bit 0: a certificate is stored.
    pub flags: u8,
}

/// Key usage bits (tag `8A`).
pub mod usage {
    /// Signatures (text and digest modes), POP.
    pub const SIGN: u8 = 0x01;
    /// Authentication mode.
    pub const AUTHN: u8 = 0x02;
    /// Decryption.
    pub const DECRYPT: u8 = 0x04;
    /// Consent (click-OK, no PIN).
    pub const CONSENT: u8 = 0x08;
    /// Split-key RSA (set by SPLIT KEY PUT, not by KEYGEN).
    pub const SPLIT: u8 = 0x10;
}

/// A decoded request (template `70`, or the plaintext of `71`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Request id (`80`, 4 bytes).
    pub id: u32,
    /// Operation (`81`).
    pub op: Option<OpCode>,
    /// Key group 0..7 (`82`).
    pub group: Option<u8>,
    /// Key id 0..7 (`83`).
    pub key: Option<u8>,
    /// Key algorithm (`84`).
    pub algorithm: Option<KeyAlgorithm>,
    /// Scheme (`85`).
    pub scheme: Option<Scheme>,
    /// Hash (`86`).
    pub hash: Option<HashAlg>,
    /// SIGN mode (`87`).
    pub mode: Option<SignMode>,
    /// Data: text, digest, challenge, ciphertext, certificate, DER subject Name (`88`).
    pub data: Option<Vec<u8>>,
    /// Display text, UTF-8 (`89`).
    pub display: Option<String>,
    /// Key usage bits (`8A`).
    pub usage: Option<u8>,
    /// Language for the dialogue (`8B`, 2 ASCII letters).
    pub language: Option<[u8; 2]>,
    /// PIN sub-operation (`8C`).
    pub pin_op: Option<PinOp>,
    /// Longest answer message the server accepts per PoR (`8D`, 2 bytes).
    pub max_answer: Option<u16>,
    /// Segment offset for GET MORE (`90`, 2 bytes).
    pub offset: Option<u16>,
    /// Request id whose answer GET MORE continues (`91`, 4 bytes).
    pub target: Option<u32>,
    /// Signature profile URI (`92`, ASCII).
    pub profile: Option<String>,
    /// RSA modulus for SPLIT KEY PUT (`94`).
    pub modulus: Option<Vec<u8>>,
    /// RSA public exponent for SPLIT KEY PUT (`95`).
    pub exponent: Option<Vec<u8>>,
    /// The card's private exponent share for SPLIT KEY PUT (`96`, secret).
    pub share: Option<Zeroizing<Vec<u8>>>,
    /// Group texts (`97`, repeatable).
    pub texts: Vec<GroupText>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("op", &self.op)
            .field("group", &self.group)
            .field("key", &self.key)
            .field("algorithm", &self.algorithm)
            .field("scheme", &self.scheme)
            .field("hash", &self.hash)
            .field("mode", &self.mode)
            .field("data_len", &self.data.as_ref().map(Vec::len))
            .field("display", &self.display)
            .field("profile", &self.profile)
            .field("share", &self.share.as_ref().map(|_| "<secret>"))
            .finish_non_exhaustive()
    }
}

/// A decoded answer (template `60`, or the plaintext of `61`).
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// Request id of the request answered (`80`).
    pub id: u32,
    /// Result (`81`).
    pub result: ResultCode,
    /// PIN/PUK tries left after a wrong entry (`82`).
    pub tries_left: Option<u8>,
    /// Offending field tag of a bad request (`83`).
    pub field: Option<u8>,
    /// Human-readable reason of a bad request (`84`, ASCII).
    pub reason: Option<String>,
    /// DER SubjectPublicKeyInfo (`85`).
    pub public_key: Option<Vec<u8>>,
    /// DER PKCS#10 CertificationRequest (`86`).
    pub csr: Option<Vec<u8>>,
    /// DER certificate (`87`).
    pub certificate: Option<Vec<u8>>,
    /// Signature, partial split signature or decrypted plaintext (`88`).
    pub output: Option<Vec<u8>>,
    /// The PUK generated at activation, only in protected answers (`89`, ASCII digits).
    pub puk: Option<Zeroizing<String>>,
    /// Profile URIs (`8B`, repeatable).
    pub profiles: Vec<String>,
    /// Key descriptions (`8C`, repeatable).
    pub keys: Vec<KeyInfo>,
    /// PIN tries left (`8D`) for PIN STATUS.
    pub pin_tries: Option<u8>,
    /// PUK tries left (`8E`) for PIN STATUS.
    pub puk_tries: Option<u8>,
    /// Key id that was used or created (`8F`).
    pub key: Option<u8>,
    /// Usage bits of the key created (`8A`, KEYGEN and SPLIT KEY PUT answers).
    pub usage: Option<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("id", &self.id)
            .field("result", &self.result)
            .field("tries_left", &self.tries_left)
            .field("field", &self.field)
            .field("reason", &self.reason)
            .field("public_key_len", &self.public_key.as_ref().map(Vec::len))
            .field("csr_len", &self.csr.as_ref().map(Vec::len))
            .field("certificate_len", &self.certificate.as_ref().map(Vec::len))
            .field("output_len", &self.output.as_ref().map(Vec::len))
            .field("puk", &self.puk.as_ref().map(|_| "<secret>"))
            .field("profiles", &self.profiles)
            .field("keys", &self.keys)
            .field("key", &self.key)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

/// Why a message could not be decoded or opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtoError {
    /// TLV structure error.
    #[error(transparent)]
    Tlv(#[from] TlvError),
    /// The outer tag is not the template expected here.
    #[error("offset {offset}: template tag {tag:02X} is not one of {expected}")]
    Template {
        /// Offset of the tag.
        offset: usize,
        /// The tag found.
        tag: u8,
        /// What was expected.
        expected: &'static str,
    },
    /// Bytes after the template.
    #[error("offset {offset}: {count} bytes after the end of the template")]
    Trailing {
        /// Offset of the first extra byte.
        offset: usize,
        /// How many.
        count: usize,
    },
    /// A mandatory field is missing.
    #[error("field {tag:02X} ({name}) is missing")]
    Missing {
        /// Field tag.
        tag: u8,
        /// Field name.
        name: &'static str,
    },
    /// A field has a bad length or value.
    #[error("offset {offset}: field {tag:02X}: {reason}")]
    BadField {
        /// Field tag.
        tag: u8,
        /// Offset of the field's tag byte.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A field appears twice.
    #[error("offset {offset}: field {tag:02X} repeated")]
    Duplicate {
        /// Field tag.
        tag: u8,
        /// Offset of the second occurrence.
        offset: usize,
    },
    /// A tag not defined for this template.
    #[error("offset {offset}: unknown field tag {tag:02X}")]
    UnknownTag {
        /// Field tag.
        tag: u8,
        /// Offset.
        offset: usize,
    },
    /// The MAC of a protected message did not verify.
    #[error("end-to-end MAC does not verify")]
    Mac,
    /// The ciphertext length or padding is wrong (reported only after the MAC verified).
    #[error("end-to-end ciphertext: bad length or padding")]
    Decrypt,
    /// A protected message arrived but no end-to-end key is configured.
    #[error("protected message but no end-to-end key")]
    NoKey,
}

impl ProtoError {
    /// The field tag the error is about, for answer tag `83`.
    pub fn field(&self) -> Option<u8> {
        match self {
            ProtoError::Missing { tag, .. }
            | ProtoError::BadField { tag, .. }
            | ProtoError::Duplicate { tag, .. }
            | ProtoError::UnknownTag { tag, .. } => Some(*tag),
            ProtoError::Tlv(TlvError::ValueTruncated { tag, .. }) => Some(*tag),
            _ => None,
        }
    }
    /// Is this an end-to-end security failure (result code 08) rather than a bad request?
    pub fn is_security(&self) -> bool {
        matches!(self, ProtoError::Mac | ProtoError::NoKey)
    }
}

fn fixed<const N: usize>(t: &Tlv<'_>, reason: &'static str) -> Result<[u8; N], ProtoError> {
    t.value.try_into().map_err(|_| ProtoError::BadField {
        tag: t.tag,
        offset: t.offset,
        reason,
    })
}

fn one(t: &Tlv<'_>) -> Result<u8, ProtoError> {
    Ok(fixed::<1>(t, "must be 1 byte")?[0])
}

fn utf8(t: &Tlv<'_>) -> Result<String, ProtoError> {
    String::from_utf8(t.value.to_vec()).map_err(|_| ProtoError::BadField {
        tag: t.tag,
        offset: t.offset,
        reason: "not valid UTF-8",
    })
}

fn set<T>(slot: &mut Option<T>, t: &Tlv<'_>, v: T) -> Result<(), ProtoError> {
    if slot.is_some() {
        return Err(ProtoError::Duplicate {
            tag: t.tag,
            offset: t.offset,
        });
    }
    *slot = Some(v);
    Ok(())
}

/// Parse a single template with tag in `tags` filling the whole of `msg`; returns (tag, value
/// TLVs parsed, value offset).
fn open_template<'a>(
    msg: &'a [u8],
    tags: &[u8],
    expected: &'static str,
) -> Result<(u8, Vec<Tlv<'a>>), ProtoError> {
    let (outer, used) = tlv::parse_one(msg, 0)?;
    if !tags.contains(&outer.tag) {
        return Err(ProtoError::Template {
            offset: 0,
            tag: outer.tag,
            expected,
        });
    }
    if used != msg.len() {
        return Err(ProtoError::Trailing {
            offset: used,
            count: msg.len() - used,
        });
    }
    Ok((outer.tag, tlv::parse_all(outer.value, outer.value_offset)?))
}

impl Request {
    /// A request with only id and operation set.
    pub fn new(id: u32, op: OpCode) -> Request {
        Request {
            id,
            op: Some(op),
            ..Request::default()
        }
    }

    /// The field TLVs (everything but `80`), in tag order.
    pub fn encode_fields(&self) -> Zeroizing<Vec<u8>> {
        let mut o = Vec::new();
        if let Some(v) = self.op {
            tlv::put(&mut o, 0x81, &[v.into()]);
        }
        for (tag, v) in [(0x82, self.group), (0x83, self.key)] {
            if let Some(v) = v {
                tlv::put(&mut o, tag, &[v]);
            }
        }
        if let Some(v) = self.algorithm {
            tlv::put(&mut o, 0x84, &[v.into()]);
        }
        if let Some(v) = self.scheme {
            tlv::put(&mut o, 0x85, &[v.into()]);
        }
        if let Some(v) = self.hash {
            tlv::put(&mut o, 0x86, &[v.into()]);
        }
        if let Some(v) = self.mode {
            tlv::put(&mut o, 0x87, &[v.into()]);
        }
        if let Some(v) = &self.data {
            tlv::put(&mut o, 0x88, v);
        }
        if let Some(v) = &self.display {
            tlv::put(&mut o, 0x89, v.as_bytes());
        }
        if let Some(v) = self.usage {
            tlv::put(&mut o, 0x8A, &[v]);
        }
        if let Some(v) = self.language {
            tlv::put(&mut o, 0x8B, &v);
        }
        if let Some(v) = self.pin_op {
            tlv::put(&mut o, 0x8C, &[v.into()]);
        }
        if let Some(v) = self.max_answer {
            tlv::put(&mut o, 0x8D, &v.to_be_bytes());
        }
        if let Some(v) = self.offset {
            tlv::put(&mut o, 0x90, &v.to_be_bytes());
        }
        if let Some(v) = self.target {
            tlv::put(&mut o, 0x91, &v.to_be_bytes());
        }
        if let Some(v) = &self.profile {
            tlv::put(&mut o, 0x92, v.as_bytes());
        }
        if let Some(v) = &self.modulus {
            tlv::put(&mut o, 0x94, v);
        }
        if let Some(v) = &self.exponent {
            tlv::put(&mut o, 0x95, v);
        }
        if let Some(v) = &self.share {
            tlv::put(&mut o, 0x96, v);
        }
        for t in &self.texts {
            let mut v = Vec::with_capacity(3 + t.text.len());
            v.extend_from_slice(&t.lang);
            v.push(t.kind);
            v.extend_from_slice(t.text.as_bytes());
            tlv::put(&mut o, 0x97, &v);
        }
        Zeroizing::new(o)
    }

    /// The plain message: `70 L { 80 id, fields }`.
    pub fn encode(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        tlv::put(&mut inner, 0x80, &self.id.to_be_bytes());
        inner.extend_from_slice(&self.encode_fields());
        let out = tlv::wrap(TAG_REQUEST, &inner);
        inner.zeroize();
        out
    }

    /// The protected message: `71 L { 80 id, 82 nonce, 83 cryptogram, 8E mac }`.
    pub fn encode_protected(&self, key: &E2eKey, nonce: [u8; 8]) -> Vec<u8> {
        let fields = self.encode_fields();
        seal(
            key,
            TAG_REQUEST_PROTECTED,
            self.id,
            Some(nonce),
            DIR_REQUEST,
            nonce,
            &fields,
        )
    }

    /// Decode the field TLVs (plain template value after `80`, or decrypted plaintext).
    pub fn parse_fields(id: u32, fields: &[Tlv<'_>]) -> Result<Request, ProtoError> {
        let mut r = Request {
            id,
            ..Request::default()
        };
        for t in fields {
            match t.tag {
                0x81 => set(&mut r.op, t, one(t)?.into())?,
                0x82 => {
                    let g = one(t)?;
                    if g > 7 {
                        return Err(ProtoError::BadField {
                            tag: 0x82,
                            offset: t.offset,
                            reason: "key group must be 0..7",
                        });
                    }
                    set(&mut r.group, t, g)?
                }
                0x83 => {
                    let k = one(t)?;
                    if k > 7 {
                        return Err(ProtoError::BadField {
                            tag: 0x83,
                            offset: t.offset,
                            reason: "key id must be 0..7",
                        });
                    }
                    set(&mut r.key, t, k)?
                }
                0x84 => set(&mut r.algorithm, t, one(t)?.into())?,
                0x85 => set(&mut r.scheme, t, one(t)?.into())?,
                0x86 => set(&mut r.hash, t, one(t)?.into())?,
                0x87 => set(&mut r.mode, t, one(t)?.into())?,
                0x88 => set(&mut r.data, t, t.value.to_vec())?,
                0x89 => set(&mut r.display, t, utf8(t)?)?,
                0x8A => set(&mut r.usage, t, one(t)?)?,
                0x8B => {
                    let l = fixed::<2>(t, "language must be 2 ASCII letters")?;
                    if !l.iter().all(u8::is_ascii_lowercase) {
                        return Err(ProtoError::BadField {
                            tag: 0x8B,
                            offset: t.offset,
                            reason: "language must be 2 lower-case ASCII letters",
                        });
                    }
                    set(&mut r.language, t, l)?
                }
                0x8C => set(&mut r.pin_op, t, one(t)?.into())?,
                0x8D => {
                    let v = u16::from_be_bytes(fixed::<2>(t, "must be 2 bytes")?);
                    if v < MIN_MAX_ANSWER {
                        return Err(ProtoError::BadField {
                            tag: 0x8D,
                            offset: t.offset,
                            reason: "max answer length below 48",
                        });
                    }
                    set(&mut r.max_answer, t, v)?
                }
                0x90 => set(
                    &mut r.offset,
                    t,
                    u16::from_be_bytes(fixed::<2>(t, "must be 2 bytes")?),
                )?,
                0x91 => set(
                    &mut r.target,
                    t,
                    u32::from_be_bytes(fixed::<4>(t, "must be 4 bytes")?),
                )?,
                0x92 => {
                    let s = utf8(t)?;
                    if !s.is_ascii() {
                        return Err(ProtoError::BadField {
                            tag: 0x92,
                            offset: t.offset,
                            reason: "profile URI must be ASCII",
                        });
                    }
                    set(&mut r.profile, t, s)?
                }
                0x94 => set(&mut r.modulus, t, t.value.to_vec())?,
                0x95 => set(&mut r.exponent, t, t.value.to_vec())?,
                0x96 => set(&mut r.share, t, Zeroizing::new(t.value.to_vec()))?,
                0x97 => {
                    let (lang, rest) = t.value.split_at_checked(2).ok_or(ProtoError::BadField {
                        tag: 0x97,
                        offset: t.offset,
                        reason: "text needs language (2) and kind (1)",
                    })?;
                    let (&kind, text) = rest.split_first().ok_or(ProtoError::BadField {
                        tag: 0x97,
                        offset: t.offset,
                        reason: "text needs language (2) and kind (1)",
                    })?;
                    let text =
                        String::from_utf8(text.to_vec()).map_err(|_| ProtoError::BadField {
                            tag: 0x97,
                            offset: t.offset,
                            reason: "text is not valid UTF-8",
                        })?;
                    if !(1..=4).contains(&kind) || !lang.iter().all(u8::is_ascii_lowercase) {
                        return Err(ProtoError::BadField {
                            tag: 0x97,
                            offset: t.offset,
                            reason: "kind must be 01..04 and language 2 lower-case letters",
                        });
                    }
                    r.texts.push(GroupText {
                        lang: [lang[0], lang[1]],
                        kind,
                        text,
                    });
                }
                tag => {
                    return Err(ProtoError::UnknownTag {
                        tag,
                        offset: t.offset,
                    })
                }
            }
        }
        Ok(r)
    }
}

/// An incoming request message after the outer layer was read, before the fields are decoded.
#[derive(Debug)]
pub struct Envelope {
    /// Request id (always readable, also from a protected message).
    pub id: u32,
    /// Nonce of a protected request (`None` for a plain one).
    pub nonce: Option<[u8; 8]>,
    /// Offset of the first field in the plaintext: the value offset in the message for a plain
    /// request, 0 (the start of the decrypted plaintext) for a protected one.
    pub fields_base: usize,
    /// Plain field bytes (decrypted for a protected message).
    pub fields: Zeroizing<Vec<u8>>,
}

impl Envelope {
    /// Read a request message (`70` or `71`). For `71` the MAC is verified (constant time) and
    /// the cryptogram decrypted with `key`. On error, the request id is returned too if it could
    /// be read, so that the answer can still name it.
    pub fn open(msg: &[u8], key: Option<&E2eKey>) -> Result<Envelope, (Option<u32>, ProtoError)> {
        let (tag, tlvs) = open_template(msg, &[TAG_REQUEST, TAG_REQUEST_PROTECTED], "70/71")
            .map_err(|e| (None, e))?;
        let first = tlvs.first().ok_or((
            None,
            ProtoError::Missing {
                tag: 0x80,
                name: "request id",
            },
        ))?;
        if first.tag != 0x80 {
            return Err((
                None,
                ProtoError::Missing {
                    tag: 0x80,
                    name: "request id (first field)",
                },
            ));
        }
        let id = u32::from_be_bytes(
            fixed::<4>(first, "request id must be 4 bytes").map_err(|e| (None, e))?,
        );
        let rest = tlvs.get(1..).unwrap_or(&[]);
        if tag == TAG_REQUEST {
            let base = rest.first().map_or(msg.len(), |t| t.offset);
            let fields = msg.get(base..).unwrap_or(&[]).to_vec();
            return Ok(Envelope {
                id,
                nonce: None,
                fields_base: base,
                fields: Zeroizing::new(fields),
            });
        }
        let key = key.ok_or((Some(id), ProtoError::NoKey))?;
        let (nonce, plain) =
            unseal(key, &tlvs, msg, DIR_REQUEST, None).map_err(|e| (Some(id), e))?;
        Ok(Envelope {
            id,
            nonce: Some(nonce),
            fields_base: 0,
            fields: plain,
        })
    }

    /// Decode the fields into a [`Request`].
    pub fn request(&self) -> Result<Request, ProtoError> {
        let tlvs = tlv::parse_all(&self.fields, self.fields_base)?;
        Request::parse_fields(self.id, &tlvs)
    }
}

impl Answer {
    /// An answer with only id and result.
    pub fn new(id: u32, result: ResultCode) -> Answer {
        Answer {
            id,
            result,
            tries_left: None,
            field: None,
            reason: None,
            public_key: None,
            csr: None,
            certificate: None,
            output: None,
            puk: None,
            profiles: Vec::new(),
            keys: Vec::new(),
            pin_tries: None,
            puk_tries: None,
            key: None,
            usage: None,
        }
    }

    /// The field TLVs (everything but `80`).
    pub fn encode_fields(&self) -> Zeroizing<Vec<u8>> {
        let mut o = Vec::new();
        tlv::put(&mut o, 0x81, &[self.result.into()]);
        if let Some(v) = self.tries_left {
            tlv::put(&mut o, 0x82, &[v]);
        }
        if let Some(v) = self.field {
            tlv::put(&mut o, 0x83, &[v]);
        }
        if let Some(v) = &self.reason {
            tlv::put(&mut o, 0x84, v.as_bytes());
        }
        for (tag, v) in [
            (0x85, &self.public_key),
            (0x86, &self.csr),
            (0x87, &self.certificate),
            (0x88, &self.output),
        ] {
            if let Some(v) = v {
                tlv::put(&mut o, tag, v);
            }
        }
        if let Some(v) = &self.puk {
            tlv::put(&mut o, 0x89, v.as_bytes());
        }
        if let Some(v) = self.usage {
            tlv::put(&mut o, 0x8A, &[v]);
        }
        for p in &self.profiles {
            tlv::put(&mut o, 0x8B, p.as_bytes());
        }
        for k in &self.keys {
            tlv::put(
                &mut o,
                0x8C,
                &[k.key, k.group, k.algorithm.into(), k.usage, k.flags],
            );
        }
        if let Some(v) = self.pin_tries {
            tlv::put(&mut o, 0x8D, &[v]);
        }
        if let Some(v) = self.puk_tries {
            tlv::put(&mut o, 0x8E, &[v]);
        }
        if let Some(v) = self.key {
            tlv::put(&mut o, 0x8F, &[v]);
        }
        Zeroizing::new(o)
    }

    /// The plain message `60 L { 80 id, fields }`.
    pub fn encode(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        tlv::put(&mut inner, 0x80, &self.id.to_be_bytes());
        inner.extend_from_slice(&self.encode_fields());
        tlv::wrap(TAG_ANSWER, &inner)
    }

    /// The protected message `61 L { 80 id, 83 cryptogram, 8E mac }` for a request that came
    /// with `nonce`.
    pub fn encode_protected(&self, key: &E2eKey, nonce: [u8; 8]) -> Vec<u8> {
        let fields = self.encode_fields();
        seal(
            key,
            TAG_ANSWER_PROTECTED,
            self.id,
            None,
            DIR_ANSWER,
            nonce,
            &fields,
        )
    }

    /// Decode an answer message (`60`, or `61` with `key` and the request's `nonce`).
    pub fn open(msg: &[u8], key: Option<(&E2eKey, [u8; 8])>) -> Result<Answer, ProtoError> {
        let (tag, tlvs) = open_template(msg, &[TAG_ANSWER, TAG_ANSWER_PROTECTED], "60/61")?;
        let first = tlvs.first().ok_or(ProtoError::Missing {
            tag: 0x80,
            name: "request id",
        })?;
        if first.tag != 0x80 {
            return Err(ProtoError::Missing {
                tag: 0x80,
                name: "request id (first field)",
            });
        }
        let id = u32::from_be_bytes(fixed::<4>(first, "request id must be 4 bytes")?);
        if tag == TAG_ANSWER {
            return Answer::parse_fields(id, tlvs.get(1..).unwrap_or(&[]));
        }
        let (key, nonce) = key.ok_or(ProtoError::NoKey)?;
        let (_, plain) = unseal(key, &tlvs, msg, DIR_ANSWER, Some(nonce))?;
        let fields = tlv::parse_all(&plain, 0)?;
        Answer::parse_fields(id, &fields)
    }

    /// Decode answer field TLVs.
    pub fn parse_fields(id: u32, fields: &[Tlv<'_>]) -> Result<Answer, ProtoError> {
        let mut a = Answer::new(id, ResultCode::Ok);
        let mut result = None;
        for t in fields {
            match t.tag {
                0x81 => set(&mut result, t, ResultCode::from(one(t)?))?,
                0x82 => set(&mut a.tries_left, t, one(t)?)?,
                0x83 => set(&mut a.field, t, one(t)?)?,
                0x84 => set(&mut a.reason, t, utf8(t)?)?,
                0x85 => set(&mut a.public_key, t, t.value.to_vec())?,
                0x86 => set(&mut a.csr, t, t.value.to_vec())?,
                0x87 => set(&mut a.certificate, t, t.value.to_vec())?,
                0x88 => set(&mut a.output, t, t.value.to_vec())?,
                0x89 => set(&mut a.puk, t, Zeroizing::new(utf8(t)?))?,
                0x8A => set(&mut a.usage, t, one(t)?)?,
                0x8B => a.profiles.push(utf8(t)?),
                0x8C => {
                    let v = fixed::<5>(t, "key info must be 5 bytes")?;
                    a.keys.push(KeyInfo {
                        key: v[0],
                        group: v[1],
                        algorithm: v[2].into(),
                        usage: v[3],
                        flags: v[4],
                    });
                }
                0x8D => set(&mut a.pin_tries, t, one(t)?)?,
                0x8E => set(&mut a.puk_tries, t, one(t)?)?,
                0x8F => set(&mut a.key, t, one(t)?)?,
                tag => {
                    return Err(ProtoError::UnknownTag {
                        tag,
                        offset: t.offset,
                    })
                }
            }
        }
        a.result = result.ok_or(ProtoError::Missing {
            tag: 0x81,
            name: "result",
        })?;
        Ok(a)
    }
}

/// The applet's end-to-end master key (AES-128), shared with the MSSP at personalisation.
#[derive(Clone, PartialEq, Eq)]
pub struct E2eKey(Zeroizing<[u8; 16]>);

impl E2eKey {
    /// Wrap 16 key bytes.
    pub fn new(key: [u8; 16]) -> E2eKey {
        E2eKey(Zeroizing::new(key))
    }
    /// The key bytes (for persistence).
    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for E2eKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("E2eKey(<secret>)")
    }
}

/// Direction byte of a request in the key derivation.
pub const DIR_REQUEST: u8 = 0x01;
/// Direction byte of an answer in the key derivation.
pub const DIR_ANSWER: u8 = 0x02;

fn cmac(key: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
    // Cmac<Aes128> accepts any 16-byte key: new_from_slice cannot fail here.
    let mut m = <Cmac<Aes128> as cmac::KeyInit>::new(key.into());
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// NIST SP 800-108 counter-mode KDF with AES-CMAC as PRF, one block:
/// `K = CMAC(Km, 01 ‖ label ‖ 00 ‖ id ‖ nonce ‖ dir ‖ 00 80)`.
pub fn derive_key(
    master: &E2eKey,
    label: &[u8; 8],
    id: u32,
    nonce: [u8; 8],
    dir: u8,
) -> Zeroizing<[u8; 16]> {
    Zeroizing::new(cmac(
        master.bytes(),
        &[
            &[0x01],
            label,
            &[0x00],
            &id.to_be_bytes(),
            &nonce,
            &[dir],
            &[0x00, 0x80],
        ],
    ))
}

/// KDF label of the cipher key.
pub const LABEL_ENC: &[u8; 8] = b"WPKI-ENC";
/// KDF label of the MAC key.
pub const LABEL_MAC: &[u8; 8] = b"WPKI-MAC";

fn seal(
    key: &E2eKey,
    tag: u8,
    id: u32,
    show_nonce: Option<[u8; 8]>,
    dir: u8,
    nonce: [u8; 8],
    plain: &[u8],
) -> Vec<u8> {
    let kenc = derive_key(key, LABEL_ENC, id, nonce, dir);
    let kmac = derive_key(key, LABEL_MAC, id, nonce, dir);
    let ct = cbc::Encryptor::<Aes128>::new((&*kenc).into(), &[0u8; 16].into())
        .encrypt_padded_vec::<Iso7816>(plain);
    let mut inner = Vec::with_capacity(ct.len() + 32);
    tlv::put(&mut inner, 0x80, &id.to_be_bytes());
    if let Some(n) = show_nonce {
        tlv::put(&mut inner, 0x82, &n);
    }
    tlv::put(&mut inner, 0x83, &ct);
    let mac = cmac(&kmac, &[&inner]);
    tlv::put(&mut inner, 0x8E, &mac[..8]);
    tlv::wrap(tag, &inner)
}

/// Verify and decrypt a protected template's TLVs. `nonce` is taken from `82` when `None`.
fn unseal(
    key: &E2eKey,
    tlvs: &[Tlv<'_>],
    msg: &[u8],
    dir: u8,
    nonce: Option<[u8; 8]>,
) -> Result<([u8; 8], Zeroizing<Vec<u8>>), ProtoError> {
    let want: &[u8] = if nonce.is_none() {
        &[0x80, 0x82, 0x83, 0x8E]
    } else {
        &[0x80, 0x83, 0x8E]
    };
    for (i, w) in want.iter().enumerate() {
        match tlvs.get(i) {
            Some(t) if t.tag == *w => {}
            Some(t) => {
                return Err(ProtoError::BadField {
                    tag: t.tag,
                    offset: t.offset,
                    reason: "protected template fields must be 80 [82] 83 8E in this order",
                })
            }
            None => {
                return Err(ProtoError::Missing {
                    tag: *w,
                    name: "protected template field",
                })
            }
        }
    }
    if let Some(t) = tlvs.get(want.len()) {
        return Err(ProtoError::UnknownTag {
            tag: t.tag,
            offset: t.offset,
        });
    }
    let id_t = &tlvs[0];
    let id = u32::from_be_bytes(fixed::<4>(id_t, "request id must be 4 bytes")?);
    let (nonce, ct_t, mac_t) = match nonce {
        None => (
            fixed::<8>(&tlvs[1], "nonce must be 8 bytes")?,
            &tlvs[2],
            &tlvs[3],
        ),
        Some(n) => (n, &tlvs[1], &tlvs[2]),
    };
    let mac = fixed::<8>(mac_t, "MAC must be 8 bytes")?;
    let mac_input = msg.get(id_t.offset..mac_t.offset).ok_or(ProtoError::Mac)?;
    let kmac = derive_key(key, LABEL_MAC, id, nonce, dir);
    let want_mac = cmac(&kmac, &[mac_input]);
    if !bool::from(want_mac[..8].ct_eq(&mac)) {
        return Err(ProtoError::Mac);
    }
    let kenc = derive_key(key, LABEL_ENC, id, nonce, dir);
    if ct_t.value.is_empty() || ct_t.value.len() % 16 != 0 {
        return Err(ProtoError::Decrypt);
    }
    let plain = cbc::Decryptor::<Aes128>::new((&*kenc).into(), &[0u8; 16].into())
        .decrypt_padded_vec::<Iso7816>(ct_t.value)
        .map_err(|_| ProtoError::Decrypt)?;
    Ok((nonce, Zeroizing::new(plain)))
}

/// One answer segment `62 L { 80 id, 90 total, 91 offset, 92 chunk }` (PROTOCOL.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Request id of the segmented answer (the original request, not the GET MORE).
    pub id: u32,
    /// Length of the whole answer message.
    pub total: u16,
    /// Offset of this chunk in the whole answer message.
    pub offset: u16,
    /// The chunk.
    pub chunk: Vec<u8>,
}

/// Bytes a segment adds around its chunk (for chunks up to 127 bytes: `62 L` 2 + `80` 6 +
/// `90` 4 + `91` 4 + `92 L` 2; one more for 128..255-byte chunks).
pub const SEGMENT_OVERHEAD: usize = 18;

impl Segment {
    /// Encode.
    pub fn encode(&self) -> Vec<u8> {
        let mut inner = Vec::with_capacity(self.chunk.len() + SEGMENT_OVERHEAD);
        tlv::put(&mut inner, 0x80, &self.id.to_be_bytes());
        tlv::put(&mut inner, 0x90, &self.total.to_be_bytes());
        tlv::put(&mut inner, 0x91, &self.offset.to_be_bytes());
        tlv::put(&mut inner, 0x92, &self.chunk);
        tlv::wrap(TAG_SEGMENT, &inner)
    }
    /// Decode.
    pub fn parse(msg: &[u8]) -> Result<Segment, ProtoError> {
        let (_, t) = open_template(msg, &[TAG_SEGMENT], "62")?;
        let want = [0x80u8, 0x90, 0x91, 0x92];
        for (i, w) in want.iter().enumerate() {
            match t.get(i) {
                Some(x) if x.tag == *w => {}
                Some(x) => {
                    return Err(ProtoError::BadField {
                        tag: x.tag,
                        offset: x.offset,
                        reason: "segment fields must be 80 90 91 92 in this order",
                    })
                }
                None => {
                    return Err(ProtoError::Missing {
                        tag: *w,
                        name: "segment field",
                    })
                }
            }
        }
        if let Some(x) = t.get(4) {
            return Err(ProtoError::UnknownTag {
                tag: x.tag,
                offset: x.offset,
            });
        }
        let s = Segment {
            id: u32::from_be_bytes(fixed::<4>(&t[0], "must be 4 bytes")?),
            total: u16::from_be_bytes(fixed::<2>(&t[1], "must be 2 bytes")?),
            offset: u16::from_be_bytes(fixed::<2>(&t[2], "must be 2 bytes")?),
            chunk: t[3].value.to_vec(),
        };
        let end = usize::from(s.offset) + s.chunk.len();
        if s.chunk.is_empty() || end > usize::from(s.total) {
            return Err(ProtoError::BadField {
                tag: 0x92,
                offset: t[3].offset,
                reason: "chunk empty or past the announced total",
            });
        }
        Ok(s)
    }
}

/// Cut an answer message into the PoR payload for `offset` under the limit `max`: the message
/// itself when it fits (and `offset` is 0), otherwise one `62` segment.
pub fn answer_part(id: u32, msg: &[u8], offset: usize, max: usize) -> Option<Vec<u8>> {
    if offset == 0 && msg.len() <= max {
        return Some(msg.to_vec());
    }
    let total = u16::try_from(msg.len()).ok()?;
    let room = max.checked_sub(SEGMENT_OVERHEAD + 1)?.max(1);
    let chunk = msg.get(offset..)?;
    if chunk.is_empty() {
        return None;
    }
    let chunk = &chunk[..chunk.len().min(room)];
    Some(
        Segment {
            id,
            total,
            offset: offset as u16,
            chunk: chunk.to_vec(),
        }
        .encode(),
    )
}

/// Client-side reassembly of a segmented answer.
#[derive(Debug, Default, Clone)]
pub struct Reassembly {
    buf: Vec<u8>,
    total: Option<u16>,
    id: Option<u32>,
}

/// What a PoR payload means for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The whole answer message is here.
    Complete(Vec<u8>),
    /// More to fetch: send GET MORE for `id` at `offset`.
    More {
        /// Original request id.
        id: u32,
        /// Next offset.
        offset: u16,
    },
}

impl Reassembly {
    /// Feed one PoR payload (an answer message or a segment).
    pub fn feed(&mut self, payload: &[u8]) -> Result<Part, ProtoError> {
        if payload.first() != Some(&TAG_SEGMENT) {
            return Ok(Part::Complete(payload.to_vec()));
        }
        let s = Segment::parse(payload)?;
        if self.id.is_some_and(|i| i != s.id)
            || self.total.is_some_and(|t| t != s.total)
            || usize::from(s.offset) != self.buf.len()
        {
            return Err(ProtoError::BadField {
                tag: 0x91,
                offset: 0,
                reason: "segment does not continue the answer being reassembled",
            });
        }
        self.id = Some(s.id);
        self.total = Some(s.total);
        self.buf.extend_from_slice(&s.chunk);
        if self.buf.len() == usize::from(s.total) {
            Ok(Part::Complete(std::mem::take(&mut self.buf)))
        } else {
            Ok(Part::More {
                id: s.id,
                offset: self.buf.len() as u16,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Request {
        Request {
            id: 0x0102_0304,
            op: Some(OpCode::Sign),
            group: Some(1),
            key: Some(2),
            scheme: Some(Scheme::RsaPss),
            hash: Some(HashAlg::Sha384),
            mode: Some(SignMode::Text),
            data: Some(b"Pay 10 EUR to Bob".to_vec()),
            display: Some("Überweisung".into()),
            language: Some(*b"de"),
            max_answer: Some(200),
            profile: Some("mss::sign:loa3:sim".into()),
            texts: vec![GroupText {
                lang: *b"fr",
                kind: 2,
                text: "Code PIN".into(),
            }],
            ..Request::default()
        }
    }

    #[test]
    fn request_round_trip_plain_and_protected() {
        let r = sample();
        let env = Envelope::open(&r.encode(), None).unwrap();
        assert_eq!(env.nonce, None);
        assert_eq!(env.request().unwrap(), r);
        let k = E2eKey::new([7; 16]);
        let msg = r.encode_protected(&k, [9; 8]);
        assert_eq!(msg[0], TAG_REQUEST_PROTECTED);
        let env = Envelope::open(&msg, Some(&k)).unwrap();
        assert_eq!(env.nonce, Some([9; 8]));
        assert_eq!(env.request().unwrap(), r);
        // wrong key / flipped bit -> MAC error, id still known
        assert_eq!(
            Envelope::open(&msg, Some(&E2eKey::new([8; 16]))).unwrap_err(),
            (Some(0x0102_0304), ProtoError::Mac)
        );
        let mut bad = msg.clone();
        let n = bad.len() - 12;
        bad[n] ^= 1;
        assert_eq!(
            Envelope::open(&bad, Some(&k)).unwrap_err().1,
            ProtoError::Mac
        );
        assert_eq!(Envelope::open(&msg, None).unwrap_err().1, ProtoError::NoKey);
    }

    #[test]
    fn answer_round_trip() {
        let mut a = Answer::new(5, ResultCode::PinWrong);
        a.tries_left = Some(2);
        a.output = Some(vec![1; 300]);
        a.profiles = vec!["mss:simota:sign:loa3:sim".into()];
        a.keys = vec![KeyInfo {
            key: 1,
            group: 0,
            algorithm: KeyAlgorithm::EcP256,
            usage: 3,
            flags: 1,
        }];
        a.puk = Some(Zeroizing::new("12345678".into()));
        assert_eq!(Answer::open(&a.encode(), None).unwrap(), a);
        let k = E2eKey::new([1; 16]);
        let m = a.encode_protected(&k, [2; 8]);
        assert_eq!(Answer::open(&m, Some((&k, [2; 8]))).unwrap(), a);
        assert_eq!(Answer::open(&m, Some((&k, [3; 8]))), Err(ProtoError::Mac));
    }

    #[test]
    fn field_errors_name_tag_and_offset() {
        // 70 0A 80 04 00000001 81 01 05 82 01 09 -> group 9 invalid at offset 11
        let msg = [
            0x70, 0x0C, 0x80, 0x04, 0, 0, 0, 1, 0x81, 0x01, 0x05, 0x82, 0x01, 0x09,
        ];
        let env = Envelope::open(&msg[..], None).unwrap();
        assert_eq!(
            env.request(),
            Err(ProtoError::BadField {
                tag: 0x82,
                offset: 11,
                reason: "key group must be 0..7"
            })
        );
        let msg = [0x70, 0x09, 0x80, 0x04, 0, 0, 0, 1, 0xA5, 0x01, 0x05];
        assert_eq!(
            Envelope::open(&msg[..], None).unwrap().request(),
            Err(ProtoError::UnknownTag {
                tag: 0xA5,
                offset: 8
            })
        );
        let msg = [
            0x70, 0x0C, 0x80, 0x04, 0, 0, 0, 1, 0x81, 0x01, 0x05, 0x81, 0x01, 0x05,
        ];
        assert_eq!(
            Envelope::open(&msg[..], None).unwrap().request(),
            Err(ProtoError::Duplicate {
                tag: 0x81,
                offset: 11
            })
        );
        assert!(matches!(
            Envelope::open(&[0x60, 0x00], None),
            Err((None, ProtoError::Template { tag: 0x60, .. }))
        ));
        assert!(matches!(
            Envelope::open(&[0x70, 0x00, 0x00], None),
            Err((
                None,
                ProtoError::Trailing {
                    offset: 2,
                    count: 1
                }
            ))
        ));
    }

    #[test]
    fn known_answer_layout() {
        // A KEYGEN request, byte for byte as PROTOCOL.md §8 example 1 shows it.
        let mut r = Request::new(1, OpCode::Keygen);
        r.group = Some(0);
        r.key = Some(0);
        r.algorithm = Some(KeyAlgorithm::EcP256);
        assert_eq!(
            apdu::hex::encode(&r.encode()),
            "7012800400000001810101820100830100840111"
        );
    }

    #[test]
    fn segmentation_reassembles() {
        let msg: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let mut re = Reassembly::default();
        let mut off = 0usize;
        let mut rounds = 0;
        loop {
            let part = answer_part(42, &msg, off, 96).unwrap();
            assert!(part.len() <= 96);
            rounds += 1;
            match re.feed(&part).unwrap() {
                Part::Complete(m) => {
                    assert_eq!(m, msg);
                    break;
                }
                Part::More { id, offset } => {
                    assert_eq!(id, 42);
                    off = usize::from(offset);
                }
            }
        }
        assert_eq!(rounds, 700usize.div_ceil(96 - SEGMENT_OVERHEAD - 1));
        assert_eq!(answer_part(1, &[0x60, 0x00], 0, 96), Some(vec![0x60, 0x00]));
    }

    proptest! {
        #[test]
        fn open_never_panics(b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let k = E2eKey::new([3; 16]);
            if let Ok(e) = Envelope::open(&b, Some(&k)) { let _ = e.request(); }
            let _ = Answer::open(&b, Some((&k, [0; 8])));
            let _ = Segment::parse(&b);
        }
        #[test]
        fn protected_round_trip(data in proptest::collection::vec(any::<u8>(), 0..200), id in any::<u32>(), nonce in any::<[u8; 8]>()) {
            let mut r = Request::new(id, OpCode::Sign);
            r.data = Some(data);
            let k = E2eKey::new([5; 16]);
            let e = Envelope::open(&r.encode_protected(&k, nonce), Some(&k)).unwrap();
            prop_assert_eq!(e.request().unwrap(), r);
        }
    }
}
