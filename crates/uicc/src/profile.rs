//! Card profiles: a TOML description of one card (ATR, ICCID/IMSI/MSISDN, PINs, MILENAGE
//! keys, OTA key sets and TARs, applets, and the TS 102 221 file tree with contents and
//! EF.ARR-based access rules), declared as data in the style of pySim's `ts_102_221.py`.
//! Errors name the line and column of the offending value.

use crate::fs::{ArrRef, EfStructure, Node, NodeId, NodeKind, Tree, MF};
use crate::hexser;
use crate::milenage::Milenage;
use crate::nv::{
    lcsi, Content, CounterBytes, NvFile, NvState, OtaNv, PinState, PukState, Secret8, SqnState,
    NV_FORMAT,
};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;
use toml::Spanned;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The built-in default profile text.
pub const DEFAULT_PROFILE_TOML: &str = include_str!("default_profile.toml");

/// Why a profile could not be loaded; `line`/`column` are 1-based positions in the TOML text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error text.
        reason: String,
    },
    /// Bad TOML or a bad value.
    #[error("{}line {line}, column {column}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Invalid {
        /// The file, when loaded from one.
        path: Option<PathBuf>,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl ProfileError {
    /// The (line, column) of the error, if it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ProfileError::Invalid { line, column, .. } => Some((*line, *column)),
            ProfileError::Io { .. } => None,
        }
    }
}

// ------------------------------------------------------------------ value types

#[derive(Clone)]
struct Hex(Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        hexser::bytes::deserialize(d).map(Hex)
    }
}

#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Key16([u8; 16]);

impl<'de> Deserialize<'de> for Key16 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut v = hexser::bytes::deserialize(d)?;
        let r = <[u8; 16]>::try_from(v.as_slice())
            .map_err(|_| D::Error::custom(format!("expected 16 bytes of hex, got {}", v.len())));
        v.zeroize();
        r.map(Key16)
    }
}

/// A PIN value: 4–8 ASCII digits padded with FF, or `hex:` and exactly 8 bytes.
struct PinValue(Vec<u8>);

impl<'de> Deserialize<'de> for PinValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Some(h) = s.strip_prefix("hex:") {
            let v = hexser::decode(h).map_err(D::Error::custom)?;
            if v.len() != 8 {
                return Err(D::Error::custom(format!(
                    "hex PIN must be 8 bytes, got {}",
                    v.len()
                )));
            }
            return Ok(PinValue(v));
        }
        if !(4..=8).contains(&s.len()) || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(D::Error::custom(
                "PIN must be 4 to 8 decimal digits (or hex:<8 bytes>)",
            ));
        }
        let mut v = s.into_bytes();
        v.resize(8, 0xFF);
        Ok(PinValue(v))
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum FileType {
    Df,
    Adf,
    Transparent,
    LinearFixed,
    Cyclic,
    BerTlv,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    card: CardDecl,
    #[serde(default)]
    subscriber: SubscriberDecl,
    #[serde(default, rename = "pin")]
    pins: Vec<Spanned<PinDecl>>,
    #[serde(default, rename = "auth")]
    auth: Vec<Spanned<AuthDecl>>,
    #[serde(default)]
    ota: OtaDecl,
    #[serde(default)]
    isd: IsdDecl,
    #[serde(default, rename = "applet")]
    applets: Vec<Spanned<AppletDecl>>,
    #[serde(rename = "file")]
    files: Vec<Spanned<FileDecl>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardDecl {
    #[serde(default)]
    name: String,
    atr: Option<Spanned<Hex>>,
    protocols: Option<Spanned<Vec<String>>>,
    iccid: Option<Spanned<String>>,
    rng_seed: Option<Key16>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SubscriberDecl {
    imsi: Option<Spanned<String>>,
    msisdn: Option<Spanned<String>>,
    spn: Option<Spanned<String>>,
    impi: Option<Spanned<String>>,
    impu: Option<Spanned<String>>,
    domain: Option<Spanned<String>>,
}

fn default_retries() -> u8 {
    3
}
fn default_puk_retries() -> u8 {
    10
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinDecl {
    key_ref: u8,
    #[serde(default)]
    name: String,
    value: PinValue,
    puk: Option<PinValue>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default = "default_retries")]
    retries: u8,
    #[serde(default = "default_puk_retries")]
    puk_retries: u8,
    adf: Option<String>,
    #[serde(default)]
    use_universal: bool,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
/// How AUTHENTICATE checks SQN freshness.
pub enum SqnCheck {
    /// TS 33.102 Annex C.2: per-IND array, SEQ must exceed SEQ_MS(IND) and stay within Δ.
    AnnexC,
    /// Accept any SQN (for test networks that do not track SQN).
    Off,
}

fn default_sqn_check() -> SqnCheck {
    SqnCheck::AnnexC
}
fn default_ind_bits() -> u8 {
    5
}
fn default_delta() -> u64 {
    1 << 28
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthDecl {
    adf: String,
    k: Key16,
    opc: Option<Key16>,
    op: Option<Key16>,
    #[serde(default = "default_sqn_check")]
    sqn_check: SqnCheck,
    #[serde(default = "default_ind_bits")]
    ind_bits: u8,
    #[serde(default = "default_delta")]
    delta: u64,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OtaDecl {
    #[serde(default)]
    keyset: Vec<Spanned<KeysetDecl>>,
    #[serde(default)]
    tar: Vec<Spanned<TarDecl>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IsdDecl {
    min_level: Option<u8>,
    kdd: Option<Hex>,
    #[serde(default)]
    keyset: Vec<Spanned<IsdKeysetDecl>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IsdKeysetDecl {
    kvn: u8,
    scp: u8,
    i: Option<u8>,
    enc: Hex,
    mac: Option<Hex>,
    dek: Option<Hex>,
}

fn default_kic_alg() -> String {
    "aes-cbc".into()
}
fn default_kid_alg() -> String {
    "aes-cmac".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysetDecl {
    kvn: u8,
    kic: Hex,
    kid: Hex,
    kik: Option<Hex>,
    #[serde(default = "default_kic_alg")]
    kic_algorithm: String,
    #[serde(default = "default_kid_alg")]
    kid_algorithm: String,
    counter: Option<Hex>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TarDecl {
    tar: Hex,
    target: String,
    adf: Option<String>,
    #[serde(default)]
    keysets: Vec<u8>,
    min_security: Option<u8>,
    applet: Option<Hex>,
    access: Option<Vec<u8>>,
}

fn default_state() -> String {
    "selectable".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppletDecl {
    class: Option<Hex>,
    cap: Option<String>,
    aid: Hex,
    params: Option<Hex>,
    #[serde(default = "default_state")]
    state: String,
    #[serde(default)]
    default: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecl {
    path: Spanned<String>,
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    kind: FileType,
    sfi: Option<Spanned<u8>>,
    arr: Option<Spanned<u8>>,
    arr_file: Option<String>,
    data: Option<Hex>,
    size: Option<usize>,
    records: Option<Vec<Hex>>,
    record_len: Option<usize>,
    record_count: Option<usize>,
    aid: Option<Hex>,
    #[serde(default = "yes")]
    shareable: bool,
    #[serde(default)]
    deactivated: bool,
}

// ------------------------------------------------------------------ public model

/// MILENAGE configuration of one ADF (`[[auth]]`).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The ADF whose AUTHENTICATE uses these keys.
    pub adf: NodeId,
    /// K and OPc.
    pub milenage: Milenage,
    /// SQN freshness checking.
    pub sqn_check: SqnCheck,
    /// Number of IND bits (array size 2^ind_bits, TS 33.102 Annex C.1.2).
    pub ind_bits: u8,
    /// Freshness limit Δ on SEQ (Annex C.2.2).
    pub delta: u64,
}

/// An OTA key set (TS 102 225 §5.1): key version number, KIc/KID (and KIK) with algorithms.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct OtaKeyset {
    /// Key version number (KVN, 1–15).
    pub kvn: u8,
    /// Ciphering key.
    pub kic: Vec<u8>,
    /// Integrity key.
    pub kid: Vec<u8>,
    /// Key-encryption key, if any.
    pub kik: Option<Vec<u8>>,
    /// Cipher algorithm name as written in the profile (e.g. `aes-cbc`, `3des-cbc2`).
    pub kic_algorithm: String,
    /// Integrity algorithm name (e.g. `aes-cmac`, `3des-cbc2`).
    pub kid_algorithm: String,
}

impl std::fmt::Debug for OtaKeyset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OtaKeyset {{ kvn: {}, kic_algorithm: {:?}, kid_algorithm: {:?}, .. }}",
            self.kvn, self.kic_algorithm, self.kid_algorithm
        )
    }
}

/// A TAR the card answers (TS 101 220 Annex D / TS 102 226).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtaTar {
    /// The 3-byte TAR.
    pub tar: [u8; 3],
    /// What it addresses: `rfm-uicc`, `rfm-adf`, `ram`, `applet`, or another name.
    pub target: String,
    /// For `rfm-adf`, the ADF.
    pub adf: Option<NodeId>,
    /// Key set versions allowed for it.
    pub keysets: Vec<u8>,
    /// Minimum security level (TS 102 226 §8.2.1.3.2.4.2), if any.
    pub min_security: Option<u8>,
    /// For `applet`, the instance AID.
    pub applet: Option<Vec<u8>>,
    /// For RFM targets, the key references (e.g. `0x0A` ADM1) the TAR's access domain grants
    /// (TS 102 226 §8.2.1.3.2.5); `None` means ADM1 only.
    pub access: Option<Vec<u8>>,
}

/// A PIN's place in the card: key reference and (for local PINs) the owning ADF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinConfig {
    /// Key reference.
    pub key_ref: u8,
    /// Display name.
    pub name: String,
    /// The owning ADF of a local (81–88) PIN.
    pub adf: Option<NodeId>,
}

/// An applet instance declared in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppletConfig {
    /// Class AID (a registered Rust applet class, or an applet of `cap`).
    pub class_aid: Vec<u8>,
    /// `cap = "FILE.cap"`: the CAP file whose applet this is (run in the Java Card VM,
    /// [`crate::java_applet`]); a path relative to the profile file.
    pub cap: Option<std::sync::Arc<jcvm::CapFile>>,
    /// Instance AID.
    pub aid: Vec<u8>,
    /// Install parameters.
    pub params: Vec<u8>,
    /// GP life cycle state byte.
    pub life_cycle: u8,
    /// Implicitly selected on the basic channel after reset.
    pub default_selected: bool,
}

/// The issuer security domain's settings (`[isd]` table): the minimum security level card
/// management needs and the key diversification data INITIALIZE UPDATE answers. The key
/// sets themselves live in the NV state ([`crate::nv::IsdNv`]) so PUT KEY can change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsdConfig {
    /// Minimum security level (EXTERNAL AUTHENTICATE P1 bits, GPCS Table 11-20); default
    /// `01` (C-MAC).
    pub min_level: u8,
    /// Key diversification data (10 bytes); default all zero.
    pub kdd: [u8; 10],
}

/// A parsed, validated card profile. Its `Debug` output leaves out the source text and all
/// keys and PIN values.
#[derive(Clone)]
pub struct Profile {
    source: String,
    /// The directory `[[applet]] cap` paths are relative to.
    base: std::path::PathBuf,
    /// Profile name.
    pub name: String,
    /// The ATR returned at reset.
    pub atr: Vec<u8>,
    /// The file tree.
    pub tree: Tree,
    /// PINs, in the same order as [`NvState::pins`].
    pub pins: Vec<PinConfig>,
    /// MILENAGE configurations, in the same order as [`NvState::auth`].
    pub auth: Vec<AuthConfig>,
    /// OTA key sets.
    pub ota_keysets: Vec<OtaKeyset>,
    /// OTA TARs.
    pub ota_tars: Vec<OtaTar>,
    /// Applet instances to install on a fresh card.
    pub applets: Vec<AppletConfig>,
    /// Seed of the card's deterministic random source.
    pub rng_seed: [u8; 16],
    /// The issuer security domain's settings.
    pub isd: IsdConfig,
    initial: NvState,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("atr", &apdu::hex::encode(&self.atr))
            .field("files", &self.tree.nodes.len())
            .field("pins", &self.pins)
            .field("ota_keysets", &self.ota_keysets)
            .field("ota_tars", &self.ota_tars)
            .field("applets", &self.applets)
            .finish_non_exhaustive()
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let upto = src.get(..offset.min(src.len())).unwrap_or("");
    let line = upto.matches('\n').count() + 1;
    let col = upto
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

struct Ctx<'a> {
    src: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, msg: impl Into<String>) -> ProfileError {
        let (line, column) = line_col(self.src, span.start);
        ProfileError::Invalid {
            path: None,
            line,
            column,
            message: msg.into(),
        }
    }
}

fn fnv64(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn parse_path(s: &str) -> Option<Vec<u16>> {
    s.split('/')
        .map(|p| {
            if p.len() == 4 {
                u16::from_str_radix(p, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

/// BCD with swapped nibbles, padded with F (TS 102 221 §13.2 ICCID, TS 24.008 numbers).
fn swapped_bcd(digits: &str) -> Vec<u8> {
    let d: Vec<u8> = digits.bytes().map(|c| c.wrapping_sub(b'0')).collect();
    d.chunks(2)
        .map(|c| (c.get(1).copied().unwrap_or(0xF) << 4) | c.first().copied().unwrap_or(0xF))
        .collect()
}

/// EF.IMSI contents (TS 31.102 §4.2.2): length, then parity nibble 9/1 and BCD digits.
fn encode_imsi(imsi: &str) -> Vec<u8> {
    let d: Vec<u8> = imsi.bytes().map(|c| c.wrapping_sub(b'0')).collect();
    let parity = if d.len() % 2 == 1 { 0x9 } else { 0x1 };
    let mut nibbles = vec![parity];
    nibbles.extend_from_slice(&d);
    let mut out = vec![nibbles.len().div_ceil(2) as u8];
    out.extend(
        nibbles
            .chunks(2)
            .map(|c| (c.get(1).copied().unwrap_or(0xF) << 4) | c[0]),
    );
    out
}

/// An EF.MSISDN / EF.ADN record of `len` bytes (TS 31.102 §4.2.26): alpha (FF), BCD length,
/// TON/NPI, 10 bytes BCD number, CCP, extension.
fn encode_msisdn(number: &str, len: usize) -> Vec<u8> {
    let (ton, digits) = match number.strip_prefix('+') {
        Some(d) => (0x91u8, d),
        None => (0x81u8, number),
    };
    let bcd = swapped_bcd(digits);
    let mut rec = vec![0xFF; len.saturating_sub(14)];
    rec.push((bcd.len() + 1) as u8);
    rec.push(ton);
    let mut num = bcd;
    num.resize(10, 0xFF);
    rec.extend_from_slice(&num);
    rec.extend_from_slice(&[0xFF, 0xFF]);
    rec
}

impl Profile {
    /// The built-in USIM profile ([`DEFAULT_PROFILE_TOML`]).
    pub fn default_profile() -> Profile {
        match Profile::from_toml_str(DEFAULT_PROFILE_TOML) {
            Ok(p) => p,
            // The built-in text is checked by a unit test; this arm is unreachable in
            // practice, but a card must never panic, so fall back to reporting it loudly.
            Err(e) => unreachable_profile(e),
        }
    }

    /// Load a profile from a TOML file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        Profile::from_toml_str_in(&text, base).map_err(|e| match e {
            ProfileError::Invalid {
                line,
                column,
                message,
                ..
            } => ProfileError::Invalid {
                path: Some(path.to_path_buf()),
                line,
                column,
                message,
            },
            other => other,
        })
    }

    /// The TOML text this profile was parsed from.
    pub fn to_toml(&self) -> &str {
        &self.source
    }

    /// The directory the profile's `[[applet]] cap` paths are relative to (the profile
    /// file's directory; empty, i.e. the working directory, for a profile given as text).
    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    /// The non-volatile state of a fresh card made from this profile (before applets are
    /// installed).
    pub fn initial_state(&self) -> &NvState {
        &self.initial
    }

    /// Fingerprint of the profile text (stored in the state to refuse a mismatching resume).
    pub fn fingerprint(&self) -> &str {
        &self.initial.profile_fingerprint
    }

    /// Parse and validate a profile (`cap` paths relative to the working directory).
    pub fn from_toml_str(src: &str) -> Result<Profile, ProfileError> {
        Profile::from_toml_str_in(src, Path::new(""))
    }

    /// Parse and validate a profile whose `[[applet]] cap` paths are relative to `base`.
    pub fn from_toml_str_in(src: &str, base: &Path) -> Result<Profile, ProfileError> {
        let cx = Ctx { src };
        let doc: Doc = toml::from_str(src).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            cx.err(span, e.message().trim().to_string())
        })?;

        // ATR: given as bytes, or built from the protocols offered (default T=0 only).
        let atr = match (&doc.card.atr, &doc.card.protocols) {
            (Some(_), Some(p)) => {
                return Err(cx.err(p.span(), "give card.atr or card.protocols, not both"))
            }
            (Some(a), None) => {
                let atr = a.get_ref().0.clone();
                match apdu::Atr::parse(&atr) {
                    Ok(x) if x.tck_ok() != Some(false) => {}
                    Ok(_) => return Err(cx.err(a.span(), "ATR: TCK does not match")),
                    Err(e) => return Err(cx.err(a.span(), format!("ATR: {e}"))),
                }
                atr
            }
            (None, Some(p)) => {
                let mut ps = Vec::new();
                for name in p.get_ref() {
                    let Some(x) = crate::atr::Protocol::from_name(name) else {
                        return Err(cx.err(
                            p.span(),
                            format!("protocol {name:?}: expected \"t0\" or \"t1\""),
                        ));
                    };
                    if ps.last().is_some_and(|&l| l >= x) {
                        return Err(cx.err(
                            p.span(),
                            "protocols must be listed once each, in ascending order (t0, t1)",
                        ));
                    }
                    ps.push(x);
                }
                if ps.is_empty() {
                    return Err(cx.err(p.span(), "protocols must not be empty"));
                }
                crate::atr::build(&ps)
            }
            (None, None) => crate::atr::build(&[crate::atr::Protocol::T0]),
        };

        // Files: parents before children.
        let mut decls: Vec<(Vec<u16>, &Spanned<FileDecl>)> = Vec::new();
        for f in &doc.files {
            let p = f.get_ref().path.get_ref();
            let fids = parse_path(p).ok_or_else(|| {
                cx.err(
                    f.get_ref().path.span(),
                    "path must be 4-hex-digit FIDs separated by '/', starting with 3F00",
                )
            })?;
            if fids.first() != Some(&0x3F00) {
                return Err(cx.err(f.get_ref().path.span(), "path must start with 3F00"));
            }
            decls.push((fids, f));
        }
        decls.sort_by_key(|(p, _)| p.len());
        if decls.first().map(|(p, _)| p.len()) != Some(1) {
            return Err(cx.err(0..0, "the MF (path = \"3F00\") must be declared"));
        }
        let mut nodes: Vec<Node> = Vec::new();
        let mut files: Vec<NvFile> = Vec::new();
        let mut paths: BTreeMap<Vec<u16>, NodeId> = BTreeMap::new();
        let mut arr_wanted: Vec<(NodeId, Option<u16>, u8, std::ops::Range<usize>)> = Vec::new();
        for (fids, sd) in &decls {
            let d = sd.get_ref();
            let span = sd.span();
            let pspan = d.path.span();
            if paths.contains_key(fids) {
                return Err(cx.err(pspan, format!("duplicate file {}", d.path.get_ref())));
            }
            let fid = *fids.last().unwrap_or(&0);
            let parent = if fids.len() == 1 {
                if d.kind != FileType::Df {
                    return Err(cx.err(span, "3F00 must have type = \"df\""));
                }
                None
            } else {
                let pp = &fids[..fids.len() - 1];
                let Some(&p) = paths.get(pp) else {
                    return Err(cx.err(pspan, "parent directory is not declared"));
                };
                if !nodes[p].is_dir() {
                    return Err(cx.err(pspan, "parent is an EF, not a directory"));
                }
                if matches!(fid, 0x3F00 | 0x7FFF | 0xFFFF) {
                    return Err(cx.err(pspan, format!("FID {fid:04X} is reserved")));
                }
                Some(p)
            };
            if let Some(ssfi) = &d.sfi {
                let sfi = *ssfi.get_ref();
                let span = ssfi.span();
                if !(1..=30).contains(&sfi) || matches!(d.kind, FileType::Df | FileType::Adf) {
                    return Err(cx.err(span, "sfi must be 1..=30 and only on EFs"));
                }
                if let Some(p) = parent {
                    if nodes[p].children.iter().any(|&c| nodes[c].sfi == Some(sfi)) {
                        return Err(cx.err(
                            span,
                            format!("SFI {sfi:02X} used twice in the same directory"),
                        ));
                    }
                }
            }
            let fill = |mut v: Vec<u8>, n: usize, what: &str| -> Result<Vec<u8>, ProfileError> {
                if v.len() > n {
                    return Err(cx.err(
                        span.clone(),
                        format!("{what} has {} bytes, more than the size {n}", v.len()),
                    ));
                }
                v.resize(n, 0xFF);
                Ok(v)
            };
            let (kind, content) = match d.kind {
                FileType::Df => (NodeKind::Df, Content::Directory),
                FileType::Adf => {
                    let aid = d.aid.as_ref().map(|a| a.0.clone()).unwrap_or_default();
                    if !(5..=16).contains(&aid.len()) || parent != Some(MF) {
                        return Err(cx.err(
                            span,
                            "an ADF needs an aid of 5..16 bytes and must sit directly under the MF",
                        ));
                    }
                    (NodeKind::Adf { aid }, Content::Directory)
                }
                FileType::Transparent | FileType::BerTlv => {
                    let data = d.data.as_ref().map(|h| h.0.clone()).unwrap_or_default();
                    let size = d.size.unwrap_or(data.len());
                    if size == 0 && d.kind == FileType::Transparent {
                        return Err(cx.err(span, "a transparent EF needs data or a size"));
                    }
                    if size > 0x7FFF {
                        return Err(cx.err(span, "size must not exceed 32767 bytes"));
                    }
                    if d.kind == FileType::BerTlv {
                        if data.len() > size {
                            return Err(cx.err(span, "BER-TLV data exceeds the size"));
                        }
                        if apdu::tlv::BerTlv::parse_all(&data).is_err() {
                            return Err(cx.err(
                                span,
                                "data of a BER-TLV EF must be a sequence of BER-TLV objects",
                            ));
                        }
                        (
                            NodeKind::Ef(EfStructure::BerTlv { size }),
                            Content::Bytes(data),
                        )
                    } else {
                        (
                            NodeKind::Ef(EfStructure::Transparent { size }),
                            Content::Bytes(fill(data, size, "data")?),
                        )
                    }
                }
                FileType::LinearFixed | FileType::Cyclic => {
                    let recs: Vec<Vec<u8>> = d
                        .records
                        .as_ref()
                        .map(|r| r.iter().map(|h| h.0.clone()).collect())
                        .unwrap_or_default();
                    let rl = d
                        .record_len
                        .unwrap_or_else(|| recs.iter().map(Vec::len).max().unwrap_or(0));
                    let n = d.record_count.unwrap_or(recs.len());
                    if !(1..=255).contains(&rl) || !(1..=254).contains(&n) || recs.len() > n {
                        return Err(cx.err(span, "record files need record_len 1..=255 and 1..=254 records (record_count >= records listed)"));
                    }
                    let mut out = Vec::with_capacity(n);
                    for i in 0..n {
                        out.push(fill(
                            recs.get(i).cloned().unwrap_or_default(),
                            rl,
                            &format!("record {}", i + 1),
                        )?);
                    }
                    let s = if d.kind == FileType::Cyclic {
                        EfStructure::Cyclic {
                            record_len: rl,
                            records: n,
                        }
                    } else {
                        EfStructure::LinearFixed {
                            record_len: rl,
                            records: n,
                        }
                    };
                    (NodeKind::Ef(s), Content::Records(out))
                }
            };
            let id = nodes.len();
            if let Some(sarr) = &d.arr {
                let rec = *sarr.get_ref();
                let arr_fid =
                    match &d.arr_file {
                        Some(s) => Some(u16::from_str_radix(s, 16).map_err(|_| {
                            cx.err(span.clone(), "arr_file must be a 4-hex-digit FID")
                        })?),
                        None => None,
                    };
                arr_wanted.push((id, arr_fid, rec, sarr.span()));
            } else if matches!(kind, NodeKind::Ef(_)) {
                return Err(cx.err(
                    span,
                    "every EF needs arr = <EF.ARR record number> (its access rules)",
                ));
            }
            nodes.push(Node {
                fid,
                name: if d.name.is_empty() {
                    d.path.get_ref().clone()
                } else {
                    d.name.clone()
                },
                parent,
                kind,
                sfi: d.sfi.as_ref().map(|s| *s.get_ref()),
                arr: None,
                shareable: d.shareable,
                children: Vec::new(),
            });
            if let Some(p) = parent {
                if nodes[p].children.iter().any(|&c| nodes[c].fid == fid) {
                    return Err(cx.err(pspan, "duplicate FID in the same directory"));
                }
                nodes[p].children.push(id);
            }
            let lc = if d.deactivated {
                lcsi::DEACTIVATED
            } else {
                lcsi::ACTIVATED
            };
            files.push(NvFile { lcsi: lc, content });
            paths.insert(fids.clone(), id);
        }
        let mut tree = Tree { nodes };

        // Resolve EF.ARR references: look in the file's directory, then upwards.
        let in_adf = |t: &Tree, id: NodeId| {
            t.path(id).len() >= 2
                && t.node(t.dir_of(id)).is_some_and(|_| {
                    let mut c = Some(id);
                    while let Some(x) = c {
                        if matches!(t.nodes[x].kind, NodeKind::Adf { .. }) {
                            return true;
                        }
                        c = t.nodes[x].parent;
                    }
                    false
                })
        };
        for (id, fid, rec, span) in arr_wanted {
            // Explicit arr_file, else the nearest EF.ARR (TS 102 221 §9.2.3 / TS 31.102 §4.4.1):
            // 6F06 of an ADF or a DF such as DF.TELECOM, searched from the file's directory
            // upwards, then the MF's 2F06; files of the MF itself use 2F06.
            let wanted: Vec<u16> = match fid {
                Some(f) => vec![f],
                None if in_adf(&tree, id) || tree.dir_of(id) != MF => vec![0x6F06, 0x2F06],
                None => vec![0x2F06],
            };
            let mut found = None;
            for &want in &wanted {
                let mut dir = Some(tree.dir_of(id));
                while let Some(d) = dir {
                    if let Some(c) = tree.child(d, want) {
                        found = Some((c, want));
                        break;
                    }
                    dir = tree.nodes[d].parent;
                }
                if found.is_some() {
                    break;
                }
            }
            let fid = wanted.first().copied().unwrap_or(0x2F06);
            let Some((f, fid)) = found else {
                return Err(cx.err(
                    span,
                    format!("no EF.ARR {fid:04X} found for this file's arr"),
                ));
            };
            match tree.nodes[f].ef() {
                Some(EfStructure::LinearFixed { records, .. })
                    if (1..=records).contains(&(rec as usize)) => {}
                _ => {
                    return Err(cx.err(
                        span,
                        format!(
                        "arr = {rec}: EF.ARR {fid:04X} is not linear fixed or has no such record"
                    ),
                    ))
                }
            }
            tree.nodes[id].arr = Some(ArrRef {
                fid,
                file: f,
                record: rec,
            });
        }

        let adf_of = |p: &str, span: std::ops::Range<usize>| -> Result<NodeId, ProfileError> {
            let fids = parse_path(p)
                .ok_or_else(|| cx.err(span.clone(), "adf must be a path like 3F00/7FF0"))?;
            match paths.get(&fids) {
                Some(&id) if matches!(tree.nodes[id].kind, NodeKind::Adf { .. }) => Ok(id),
                _ => Err(cx.err(span, format!("{p} is not a declared ADF"))),
            }
        };

        // Generated contents.
        let find_under_adf = |fid: u16| {
            tree.nodes.iter().position(|n| {
                n.fid == fid
                    && n.parent
                        .is_some_and(|p| matches!(tree.nodes[p].kind, NodeKind::Adf { .. }))
            })
        };
        if let Some(iccid) = &doc.card.iccid {
            let s = iccid.get_ref();
            if !(10..=20).contains(&s.len()) || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(cx.err(iccid.span(), "iccid must be 10 to 20 digits"));
            }
            if let Some(id) = tree.child(MF, 0x2FE2) {
                if doc.files.iter().any(|f| {
                    f.get_ref().path.get_ref() == "3F00/2FE2" && f.get_ref().data.is_some()
                }) {
                    return Err(cx.err(
                        iccid.span(),
                        "EF.ICCID has data and card.iccid is set: give only one",
                    ));
                }
                let mut v = swapped_bcd(s);
                v.resize(10, 0xFF);
                if let Content::Bytes(b) = &mut files[id].content {
                    let n = b.len().min(v.len());
                    b[..n].copy_from_slice(&v[..n]);
                }
            }
        }
        if let Some(imsi) = &doc.subscriber.imsi {
            let s = imsi.get_ref();
            if !(6..=15).contains(&s.len()) || !s.bytes().all(|c| c.is_ascii_digit()) {
                return Err(cx.err(imsi.span(), "imsi must be 6 to 15 digits"));
            }
            // The USIM's EF.IMSI and the one in DF.GSM (TS 51.011 §10.3.2), if declared.
            let gsm_imsi = paths.get([0x3F00, 0x7F20, 0x6F07].as_slice()).copied();
            for id in find_under_adf(0x6F07).into_iter().chain(gsm_imsi) {
                let v = encode_imsi(s);
                if let Content::Bytes(b) = &mut files[id].content {
                    if b.len() < v.len() {
                        return Err(cx.err(imsi.span(), "EF.IMSI is too small for this IMSI"));
                    }
                    b[..v.len()].copy_from_slice(&v);
                }
            }
        }
        if let Some(m) = &doc.subscriber.msisdn {
            let s = m.get_ref();
            let digits = s.strip_prefix('+').unwrap_or(s);
            if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|c| c.is_ascii_digit())
            {
                return Err(cx.err(
                    m.span(),
                    "msisdn must be up to 20 digits, optionally with a leading +",
                ));
            }
            // The USIM's EF.MSISDN and DF.TELECOM's (TS 51.011 §10.5.5, read by 2G tools).
            let telecom = paths.get([0x3F00, 0x7F10, 0x6F40].as_slice()).copied();
            for id in find_under_adf(0x6F40).into_iter().chain(telecom) {
                if let (Content::Records(r), Some((rl, _))) = (
                    &mut files[id].content,
                    tree.nodes[id].ef().and_then(|s| s.record_dims()),
                ) {
                    if rl < 14 {
                        return Err(cx.err(m.span(), "EF.MSISDN records must be at least 14 bytes"));
                    }
                    if let Some(first) = r.first_mut() {
                        *first = encode_msisdn(s, rl);
                    }
                }
            }
        }

        // EF.SPN, the home PLMN lists and the ISIM identities (TS 31.102 / 31.103).
        let adf_file = |aid_prefix: &[u8], fid: u16| {
            tree.nodes.iter().position(|n| {
                n.fid == fid
                    && n.parent.is_some_and(|p| {
                        matches!(&tree.nodes[p].kind, NodeKind::Adf { aid } if aid.starts_with(aid_prefix))
                    })
            })
        };
        let declared = |id: NodeId| {
            let want = tree.path(id);
            doc.files.iter().any(|f| {
                let d = f.get_ref();
                parse_path(d.path.get_ref()).as_deref() == Some(want.as_slice())
                    && (d.data.is_some() || d.records.is_some())
            })
        };
        let put = |files: &mut Vec<NvFile>, id: NodeId, rec: Option<usize>, v: &[u8]| -> bool {
            let slot = match (&mut files[id].content, rec) {
                (Content::Bytes(b), None) => b,
                (Content::Records(r), Some(i)) => match r.get_mut(i) {
                    Some(b) => b,
                    None => return false,
                },
                _ => return false,
            };
            if slot.len() < v.len() {
                return false;
            }
            slot[..v.len()].copy_from_slice(v);
            true
        };
        const USIM: &[u8] = &[0xA0, 0, 0, 0, 0x87, 0x10, 0x02];
        const ISIM: &[u8] = &[0xA0, 0, 0, 0, 0x87, 0x10, 0x04];
        if let Some(spn) = &doc.subscriber.spn {
            let v =
                crate::subscriber::encode_spn(spn.get_ref()).map_err(|m| cx.err(spn.span(), m))?;
            // The USIM's EF.SPN and DF.GSM's (TS 51.011 §10.3.11, same layout), if declared.
            let gsm_spn = paths.get([0x3F00, 0x7F20, 0x6F46].as_slice()).copied();
            for id in adf_file(USIM, 0x6F46).into_iter().chain(gsm_spn) {
                if declared(id) {
                    return Err(cx.err(
                        spn.span(),
                        "EF.SPN has data and subscriber.spn is set: give only one",
                    ));
                }
                if !put(&mut files, id, None, &v) {
                    return Err(cx.err(
                        spn.span(),
                        "EF.SPN must be a transparent EF of at least 17 bytes",
                    ));
                }
            }
        }
        if let Some(imsi) = &doc.subscriber.imsi {
            // MNC length: EF.AD byte 4 (TS 31.102 §4.2.18), 2 when absent.
            let mnc_len = adf_file(USIM, 0x6FAD)
                .and_then(|id| match &files[id].content {
                    Content::Bytes(b) => b.get(3).map(|x| usize::from(x & 0x0F)),
                    _ => None,
                })
                .unwrap_or(2);
            let plmn = crate::subscriber::Plmn::from_imsi(imsi.get_ref(), mnc_len)
                .ok_or_else(|| cx.err(imsi.span(), "imsi is shorter than MCC + MNC"))?;
            let p = plmn.encode();
            // Access technology C0 C0 (TS 31.102 §4.2.5): UTRAN and E-UTRAN, GSM and GSM COMPACT.
            let with_act = [p[0], p[1], p[2], 0xC0, 0xC0];
            for (fid, v) in [
                (0x6F62u16, &with_act[..]),
                (0x6F61, &with_act[..]),
                (0x6FD9, &p[..]),
            ] {
                // ADF.USIM's, and DF.GSM's of the same FID (TS 51.011 §10.3.37–38), if declared.
                let gsm = paths.get([0x3F00, 0x7F20, fid].as_slice()).copied();
                for id in adf_file(USIM, fid).into_iter().chain(gsm) {
                    if !declared(id) && !put(&mut files, id, None, v) {
                        return Err(cx.err(
                            imsi.span(),
                            format!("EF {fid:04X} is too small for a PLMN entry"),
                        ));
                    }
                }
            }
            let domain = match &doc.subscriber.domain {
                Some(d) => d.get_ref().clone(),
                None => plmn.ims_domain(),
            };
            let impi = match &doc.subscriber.impi {
                Some(d) => d.get_ref().clone(),
                None => format!("{}@{domain}", imsi.get_ref()),
            };
            let impu = match &doc.subscriber.impu {
                Some(d) => d.get_ref().clone(),
                None => format!("sip:{impi}"),
            };
            let span = imsi.span();
            for (fid, rec, text) in [
                (0x6F02u16, None, &impi),
                (0x6F03, None, &domain),
                (0x6F04, Some(0), &impu),
            ] {
                if let Some(id) = adf_file(ISIM, fid) {
                    let v =
                        crate::subscriber::nai_tlv(text).map_err(|m| cx.err(span.clone(), m))?;
                    if !declared(id) && !put(&mut files, id, rec, &v) {
                        return Err(cx.err(
                            span.clone(),
                            format!("ISIM EF {fid:04X} is too small for {text:?}"),
                        ));
                    }
                }
            }
        }

        // PINs
        let mut pins = Vec::new();
        let mut pin_states = Vec::new();
        for sp in &doc.pins {
            let p = sp.get_ref();
            let kr = p.key_ref;
            let valid = matches!(kr, 0x01..=0x08 | 0x0A..=0x0E | 0x11 | 0x81..=0x88 | 0x8A..=0x8E);
            if !valid {
                return Err(cx.err(
                    sp.span(),
                    format!("key_ref {kr:02X} is not a PIN key reference (TS 102 221 §9.5.1)"),
                ));
            }
            if !(1..=15).contains(&p.retries) || !(1..=15).contains(&p.puk_retries) {
                return Err(cx.err(sp.span(), "retries and puk_retries must be 1..=15"));
            }
            let is_local = kr & 0x80 != 0;
            let adf = match (&p.adf, is_local) {
                (Some(a), true) => Some(adf_of(a, sp.span())?),
                (None, true) => {
                    return Err(cx.err(
                        sp.span(),
                        "a local PIN (81..8E) needs adf = \"<path of its ADF>\"",
                    ))
                }
                (Some(_), false) => {
                    return Err(cx.err(sp.span(), "adf is only for local PINs (81..8E)"))
                }
                (None, false) => None,
            };
            if pins
                .iter()
                .any(|c: &PinConfig| c.key_ref == kr && c.adf == adf)
            {
                let owner = if adf.is_some() { " for this adf" } else { "" };
                return Err(cx.err(sp.span(), format!("key_ref {kr:02X} declared twice{owner}")));
            }
            if !p.enabled && matches!(kr, 0x0A..=0x0E | 0x8A..=0x8E) {
                return Err(cx.err(sp.span(), "ADM keys cannot be disabled"));
            }
            if p.use_universal {
                if !matches!(kr, 0x01..=0x08) {
                    return Err(cx.err(
                        sp.span(),
                        "use_universal is only for application PINs (01..08)",
                    ));
                }
                if !doc.pins.iter().any(|q| q.get_ref().key_ref == 0x11) {
                    return Err(cx.err(
                        sp.span(),
                        "use_universal needs a universal PIN (key_ref = 0x11)",
                    ));
                }
            }
            pins.push(PinConfig {
                key_ref: kr,
                name: if p.name.is_empty() {
                    format!("key {kr:02X}")
                } else {
                    p.name.clone()
                },
                adf,
            });
            pin_states.push(PinState {
                key_ref: kr,
                value: Secret8(p.value.0.clone()),
                max: p.retries,
                left: p.retries,
                enabled: p.enabled && !p.use_universal,
                use_universal: p.use_universal,
                puk: p.puk.as_ref().map(|v| PukState {
                    value: Secret8(v.0.clone()),
                    max: p.puk_retries,
                    left: p.puk_retries,
                }),
            });
        }

        // AUTH
        let mut auth = Vec::new();
        let mut sqn = Vec::new();
        for sa in &doc.auth {
            let a = sa.get_ref();
            let adf = adf_of(&a.adf, sa.span())?;
            let milenage = match (&a.opc, &a.op) {
                (Some(opc), None) => Milenage::with_opc(&a.k.0, &opc.0),
                (None, Some(op)) => Milenage::with_op(&a.k.0, &op.0),
                _ => return Err(cx.err(sa.span(), "give exactly one of opc or op")),
            };
            if a.ind_bits > 10 {
                return Err(cx.err(sa.span(), "ind_bits must be 0..=10"));
            }
            if auth.iter().any(|c: &AuthConfig| c.adf == adf) {
                return Err(cx.err(sa.span(), "two [[auth]] entries for the same ADF"));
            }
            auth.push(AuthConfig {
                adf,
                milenage,
                sqn_check: a.sqn_check,
                ind_bits: a.ind_bits,
                delta: a.delta,
            });
            sqn.push(SqnState {
                seq: vec![0; 1usize << a.ind_bits],
            });
        }

        // OTA
        let mut ota_keysets = Vec::new();
        let mut counters = BTreeMap::new();
        for sk in &doc.ota.keyset {
            let k = sk.get_ref();
            if !(1..=15).contains(&k.kvn) || ota_keysets.iter().any(|x: &OtaKeyset| x.kvn == k.kvn)
            {
                return Err(cx.err(sk.span(), "kvn must be 1..=15 and unique"));
            }
            let c = k
                .counter
                .as_ref()
                .map(|c| c.0.clone())
                .unwrap_or_else(|| vec![0; 5]);
            if c.len() != 5 {
                return Err(cx.err(sk.span(), "counter must be 5 bytes"));
            }
            counters.insert(k.kvn, CounterBytes(c));
            ota_keysets.push(OtaKeyset {
                kvn: k.kvn,
                kic: k.kic.0.clone(),
                kid: k.kid.0.clone(),
                kik: k.kik.as_ref().map(|x| x.0.clone()),
                kic_algorithm: k.kic_algorithm.clone(),
                kid_algorithm: k.kid_algorithm.clone(),
            });
        }
        let mut ota_tars = Vec::new();
        for st in &doc.ota.tar {
            let t = st.get_ref();
            let tar: [u8; 3] = t
                .tar
                .0
                .as_slice()
                .try_into()
                .map_err(|_| cx.err(st.span(), "tar must be 3 bytes"))?;
            let adf = match &t.adf {
                Some(a) => Some(adf_of(a, st.span())?),
                None => None,
            };
            if let Some(k) = t
                .keysets
                .iter()
                .find(|k| !ota_keysets.iter().any(|x| x.kvn == **k))
            {
                return Err(cx.err(
                    st.span(),
                    format!("keyset {k} is not declared in [[ota.keyset]]"),
                ));
            }
            ota_tars.push(OtaTar {
                tar,
                target: t.target.clone(),
                adf,
                keysets: t.keysets.clone(),
                min_security: t.min_security,
                applet: t.applet.as_ref().map(|a| a.0.clone()),
                access: t.access.clone(),
            });
        }

        // Applets
        let mut applets = Vec::new();
        for sa in &doc.applets {
            let a = sa.get_ref();
            let cap = match &a.cap {
                None => None,
                Some(f) => {
                    let p = base.join(f);
                    let bytes = std::fs::read(&p)
                        .map_err(|e| cx.err(sa.span(), format!("cap {}: {e}", p.display())))?;
                    let c = jcvm::CapFile::from_zip(&bytes)
                        .map_err(|e| cx.err(sa.span(), format!("cap {}: {e}", p.display())))?;
                    // Linked once here so that a missing import is a profile error.
                    jcvm::link::link(c.clone(), 0, jcvm::jcre::PACKAGE_CONTEXT)
                        .map_err(|e| cx.err(sa.span(), format!("cap {}: {e}", p.display())))?;
                    Some(std::sync::Arc::new(c))
                }
            };
            let class = match (&a.class, &cap) {
                (Some(c), Some(k)) if !k.applets.iter().any(|x| x.aid == c.0) => {
                    return Err(cx.err(sa.span(), "applet class is not an applet of its cap"))
                }
                (Some(c), _) => c.0.clone(),
                (None, Some(k)) => match k.applets.first() {
                    Some(x) => x.aid.clone(),
                    None => return Err(cx.err(sa.span(), "cap has no applet (a library package)")),
                },
                (None, None) => return Err(cx.err(sa.span(), "applet needs a class or a cap")),
            };
            if !(5..=16).contains(&a.aid.0.len()) || !(5..=16).contains(&class.len()) {
                return Err(cx.err(sa.span(), "applet class and aid must be 5..=16 bytes"));
            }
            let life_cycle = match a.state.as_str() {
                "installed" => crate::nv::life_cycle::INSTALLED,
                "selectable" => crate::nv::life_cycle::SELECTABLE,
                "locked" => crate::nv::life_cycle::SELECTABLE | crate::nv::life_cycle::LOCKED_BIT,
                other => {
                    return Err(cx.err(
                        sa.span(),
                        format!("state {other:?}: expected installed, selectable or locked"),
                    ))
                }
            };
            if applets.iter().any(|x: &AppletConfig| x.aid == a.aid.0) {
                return Err(cx.err(sa.span(), "applet aid declared twice"));
            }
            if a.default && applets.iter().any(|x: &AppletConfig| x.default_selected) {
                return Err(cx.err(sa.span(), "only one applet can be default-selected"));
            }
            applets.push(AppletConfig {
                class_aid: class,
                cap,
                aid: a.aid.0.clone(),
                params: a.params.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
                life_cycle,
                default_selected: a.default,
            });
        }

        let fp = format!("{:016x}", fnv64(src));
        let rng_seed = match &doc.card.rng_seed {
            Some(k) => k.0,
            None => {
                let mut s = [0u8; 16];
                s[..8].copy_from_slice(&fnv64(src).to_be_bytes());
                s[8..].copy_from_slice(&fnv64(&fp).to_be_bytes());
                s
            }
        };
        // ISD: default key sets SCP03 KVN 30 (AES-128) and SCP02 KVN 20 (3DES), all keys
        // 40..4F (the GlobalPlatform test key), unless the profile lists its own.
        let test_key: Vec<u8> = (0x40..=0x4F).collect();
        let mut isd_keysets = Vec::new();
        if doc.isd.keyset.is_empty() {
            for (kvn, scp, i) in [(0x30, 3, 0x70), (0x20, 2, 0x55)] {
                isd_keysets.push(crate::nv::IsdKeysetNv {
                    kvn,
                    scp,
                    i,
                    enc: crate::ram::KeyBytes(test_key.clone()),
                    mac: crate::ram::KeyBytes(test_key.clone()),
                    dek: crate::ram::KeyBytes(test_key.clone()),
                    seq: 0,
                });
            }
        }
        for sk in &doc.isd.keyset {
            let k = sk.get_ref();
            if !(1..=0x7F).contains(&k.kvn)
                || isd_keysets
                    .iter()
                    .any(|x: &crate::nv::IsdKeysetNv| x.kvn == k.kvn)
            {
                return Err(cx.err(sk.span(), "isd keyset kvn must be 01..7F and unique"));
            }
            let kind = match k.scp {
                2 => gp::KeyKind::Des3,
                3 => gp::KeyKind::Aes,
                _ => return Err(cx.err(sk.span(), "isd keyset scp must be 2 or 3")),
            };
            let enc = k.enc.0.clone();
            let mac = k
                .mac
                .as_ref()
                .map(|h| h.0.clone())
                .unwrap_or_else(|| enc.clone());
            let dek = k
                .dek
                .as_ref()
                .map(|h| h.0.clone())
                .unwrap_or_else(|| enc.clone());
            if let Err(e) = gp::StaticKeys::new(k.kvn, kind, &enc, &mac, &dek) {
                return Err(cx.err(sk.span(), format!("isd keyset {:02X}: {e}", k.kvn)));
            }
            isd_keysets.push(crate::nv::IsdKeysetNv {
                kvn: k.kvn,
                scp: k.scp,
                i: k.i.unwrap_or(if k.scp == 2 { 0x55 } else { 0x70 }),
                enc: crate::ram::KeyBytes(enc),
                mac: crate::ram::KeyBytes(mac),
                dek: crate::ram::KeyBytes(dek),
                seq: 0,
            });
        }
        let min_level = doc.isd.min_level.unwrap_or(0x01);
        if gp::SecurityLevel::parse(min_level).is_err() {
            return Err(cx.err(
                0..0,
                format!(
                    "isd min_level {min_level:#04x} is not one of 0x00 0x01 0x03 0x11 0x13 0x33"
                ),
            ));
        }
        let kdd: [u8; 10] = match &doc.isd.kdd {
            None => [0; 10],
            Some(h) => {
                h.0.as_slice()
                    .try_into()
                    .map_err(|_| cx.err(0..0, "isd kdd must be 10 bytes of hex"))?
            }
        };
        let isd = IsdConfig { min_level, kdd };
        let initial = NvState {
            format: NV_FORMAT,
            profile_fingerprint: fp,
            files,
            pins: pin_states,
            auth: sqn,
            ota: OtaNv {
                counters,
                ..OtaNv::default()
            },
            applets: Vec::new(),
            isd: crate::nv::IsdNv {
                keysets: isd_keysets,
                ..crate::nv::IsdNv::default()
            },
        };
        Ok(Profile {
            source: src.to_string(),
            base: base.to_path_buf(),
            name: doc.card.name,
            atr,
            tree,
            pins,
            auth,
            ota_keysets,
            ota_tars,
            applets,
            rng_seed,
            isd,
            initial,
        })
    }
}

#[cold]
fn unreachable_profile(e: ProfileError) -> Profile {
    // Only reachable if the embedded default profile were broken, which the test suite
    // forbids. Returning a profile is impossible without one, so stop with a clear message.
    panic!("built-in default profile is invalid: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_parses() {
        let p = Profile::from_toml_str(DEFAULT_PROFILE_TOML).unwrap();
        assert_eq!(p.tree.nodes[0].fid, 0x3F00);
        assert!(p.tree.nodes.len() > 30);
        let imsi = p.tree.nodes.iter().position(|n| n.fid == 0x6F07).unwrap();
        assert_eq!(
            p.initial.files[imsi].content,
            Content::Bytes(apdu::hex::decode("080910101032547698").unwrap())
        );
        let iccid = p.tree.child(MF, 0x2FE2).unwrap();
        assert_eq!(
            p.initial.files[iccid].content,
            Content::Bytes(apdu::hex::decode("988812010000000010F5").unwrap())
        );
    }

    fn err_at(src: &str) -> (usize, usize, String) {
        match Profile::from_toml_str(src) {
            Err(ProfileError::Invalid {
                line,
                column,
                message,
                ..
            }) => (line, column, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn errors_carry_line_and_column() {
        let base = "[card]\natr = \"3B00\"\n[[file]]\npath = \"3F00\"\ntype = \"df\"\n";
        // bad hex in a value
        let (l, c, m) = err_at(&format!("{base}[[file]]\npath = \"3F00/2FE2\"\ntype = \"transparent\"\narr = 1\ndata = \"12G4\"\n"));
        assert_eq!(l, 10, "{m}");
        assert!(c >= 8 && m.contains("hex"), "{c} {m}");
        // unknown type
        let (l, _, m) = err_at(&format!(
            "{base}[[file]]\npath = \"3F00/2FE2\"\ntype = \"blob\"\n"
        ));
        assert_eq!(l, 8, "{m}");
        // missing parent
        let (l, c, m) = err_at(&format!(
            "{base}[[file]]\npath = \"3F00/7F10/6F3A\"\ntype = \"df\"\n"
        ));
        assert_eq!((l, c), (7, 8), "{m}");
        assert!(m.contains("parent"));
        // TOML syntax
        let (l, _, _) = err_at("[card]\natr = \n");
        assert_eq!(l, 2);
        // missing arr on an EF
        let (l, _, m) = err_at(&format!(
            "{base}[[file]]\npath = \"3F00/2FE2\"\ntype = \"transparent\"\nsize = 10\n"
        ));
        assert_eq!(l, 6, "{m}");
        assert!(m.contains("arr"));
    }

    #[test]
    fn atr_from_protocols() {
        let base = "[[file]]\npath = \"3F00\"\ntype = \"df\"\n";
        // The built-in card offers T=0 only (pcscd would otherwise pick T=1).
        let p = Profile::default_profile();
        assert_eq!(
            apdu::Atr::parse(&p.atr).unwrap().protocols(),
            vec![0, 15],
            "{}",
            apdu::hex::encode(&p.atr)
        );
        let t1 = Profile::from_toml_str(&format!("[card]\nprotocols = [\"t0\", \"t1\"]\n{base}"))
            .unwrap();
        assert_eq!(
            apdu::Atr::parse(&t1.atr).unwrap().protocols(),
            vec![0, 1, 15]
        );
        let (l, _, m) = err_at(&format!("[card]\nprotocols = [\"t1\", \"t0\"]\n{base}"));
        assert_eq!(l, 2);
        assert!(m.contains("ascending"), "{m}");
        let (_, _, m) = err_at(&format!("[card]\nprotocols = [\"t2\"]\n{base}"));
        assert!(m.contains("\"t2\""), "{m}");
        let (_, _, m) = err_at(&format!(
            "[card]\natr = \"3B00\"\nprotocols = [\"t0\"]\n{base}"
        ));
        assert!(m.contains("not both"), "{m}");
    }

    #[test]
    fn subscriber_spn_and_derived_files() {
        let base = "[card]\n[[file]]\npath = \"3F00\"\ntype = \"df\"\n\
            [[file]]\npath = \"3F00/7FF0\"\ntype = \"adf\"\naid = \"A0000000871002FF\"\narr = 1\n\
            [[file]]\npath = \"3F00/7FF0/6F06\"\ntype = \"linear-fixed\"\narr = 1\nrecords = [\"8001019000\"]\n\
            [[file]]\npath = \"3F00/7FF0/6FAD\"\ntype = \"transparent\"\narr = 1\ndata = \"00000003\"\n\
            [[file]]\npath = \"3F00/7FF0/6FD9\"\ntype = \"transparent\"\narr = 1\nsize = 6\n";
        let spn =
            "[[file]]\npath = \"3F00/7FF0/6F46\"\ntype = \"transparent\"\narr = 1\nsize = 17\n";
        // a 3-digit MNC (EF.AD byte 4) shapes the EHPLMN entry
        let p = Profile::from_toml_str(&format!(
            "{base}{spn}[subscriber]\nimsi = \"310260123456789\"\nspn = \"Test 1\"\n"
        ))
        .unwrap();
        let ehplmn = p.tree.nodes.iter().position(|n| n.fid == 0x6FD9).unwrap();
        assert_eq!(
            p.initial.files[ehplmn].content,
            Content::Bytes(apdu::hex::decode("130062FFFFFF").unwrap())
        );
        let f = p.tree.nodes.iter().position(|n| n.fid == 0x6F46).unwrap();
        assert_eq!(
            p.initial.files[f].content,
            Content::Bytes(apdu::hex::decode("01 546573742031 FFFFFFFFFFFFFFFFFFFF").unwrap())
        );
        // a character outside the GSM default alphabet subset: named, with its position
        let src = format!("{base}{spn}[subscriber]\nspn = \"caf\u{e9}\"\n");
        let (l, _, m) = err_at(&src);
        assert_eq!(l, src.lines().count(), "{m}");
        assert!(m.contains("'\u{e9}'"), "{m}");
        // EF.SPN with data and subscriber.spn: give only one
        let (_, _, m) = err_at(&format!(
            "{base}{}[subscriber]\nspn = \"x\"\n",
            spn.replace("size = 17", "data = \"01 41\"\nsize = 17")
        ));
        assert!(m.contains("only one"), "{m}");
        // a profile without those files takes the values and declares nothing more
        let p = Profile::from_toml_str(&format!("{base}[subscriber]\nspn = \"x\"\n")).unwrap();
        assert_eq!(p.tree.nodes.len(), 5);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let p = Profile::default_profile();
        let d = format!("{p:?} {:?}", p.initial_state());
        for secret in [
            "465B5CE8",
            "3132333435363738",
            "12345678",
            "000102030405",
            "3838383838383838",
        ] {
            assert!(!d.to_uppercase().contains(secret), "{secret} leaked: {d}");
        }
    }

    #[test]
    fn bcd_encodings() {
        assert_eq!(
            encode_imsi("001010123456789"),
            apdu::hex::decode("080910101032547698").unwrap()
        );
        assert_eq!(
            encode_imsi("26201123456789"),
            apdu::hex::decode("082126102143658 7F9".replace(' ', "").as_str()).unwrap()
        );
        let r = encode_msisdn("+491701234567", 28);
        assert_eq!(r.len(), 28);
        assert_eq!(
            &r[14..],
            apdu::hex::decode("07 91 947110325476 FFFFFFFF FF FF")
                .unwrap()
                .as_slice()
        );
    }
}
