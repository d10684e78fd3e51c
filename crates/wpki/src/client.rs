//! The host (MSSP) side: builds requests, protects them end to end, fetches segmented answers
//! with GET MORE, matches answers to requests, verifies signatures and CSRs, writes DER/PEM.
//!
//! Delivery is abstracted by [`Exchange`]: one request message in, one PoR payload out. The
//! in-process [`DirectCard`] drives a [`WpkiApplet`] with a scripted user; the OTA path (SCP80
//! command packet to the applet's TAR through the terminal simulator) plugs in the same way.

use crate::applet::{AppletConfig, Interaction, StateSink, Step, UserResult, WpkiApplet};
use crate::keys::{self, KeyError};
use crate::protocol::{
    Answer, E2eKey, HashAlg, OpCode, Part, ProtoError, Reassembly, Request, ResultCode, Scheme,
    SignMode, DEFAULT_MAX_ANSWER,
};
use crate::state::WpkiState;
use crate::tlv;
use der::{Decode, Encode};
use rand_core::CryptoRng;
use std::collections::VecDeque;
use std::str::FromStr;
use thiserror::Error;
use zeroize::Zeroizing;

/// The default TAR of the WPKI applet (in the TS 101 220 range for proprietary toolkit
/// applications, `BF FF 00`–`BF FF FF`); configurable per card profile.
pub const DEFAULT_TAR: [u8; 3] = [0xBF, 0xFF, 0x57];

/// Why a client call failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The answer could not be decoded or opened.
    #[error("answer: {0}")]
    Protocol(#[from] ProtoError),
    /// The answer names another request.
    #[error("answer is for request {got:#010x}, expected {want:#010x}")]
    IdMismatch {
        /// Expected id.
        want: u32,
        /// Id in the answer.
        got: u32,
    },
    /// The card answered with a result other than OK.
    #[error("card answered {code:?}{}{}{}", .tries.map(|t| format!(", tries left {t}")).unwrap_or_default(), .field.map(|f| format!(", field {f:02X}")).unwrap_or_default(), .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Card {
        /// Result code.
        code: ResultCode,
        /// Tries left, if given.
        tries: Option<u8>,
        /// Offending field, if given.
        field: Option<u8>,
        /// Reason text, if given.
        reason: Option<String>,
    },
    /// A verification of the card's output failed.
    #[error("verification failed: {0}")]
    Verify(String),
    /// The answer lacks an expected field.
    #[error("answer lacks {0}")]
    Missing(&'static str),
    /// Delivery failed.
    #[error("delivery: {0}")]
    Delivery(String),
    /// Local input error (files, subject names).
    #[error("{0}")]
    Input(String),
}

impl From<KeyError> for ClientError {
    fn from(e: KeyError) -> Self {
        ClientError::Verify(e.to_string())
    }
}

/// Delivers one request message to the applet and returns the PoR payload.
pub trait Exchange {
    /// Send `msg`; return the applet's answer message or segment.
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError>;
}

/// The MSSP client state: end-to-end key, request id sequence, answer size limit.
#[derive(Debug, Clone)]
pub struct Client {
    key: Option<E2eKey>,
    next_id: u32,
    /// Longest PoR payload to ask for (request tag `8D`).
    pub max_answer: u16,
}

impl Client {
    /// A client; `first_id` must be above the last protected id the applet accepted (use a
    /// clock-derived or stored counter).
    pub fn new(key: Option<E2eKey>, first_id: u32) -> Client {
        Client {
            key,
            next_id: first_id.max(1),
            max_answer: DEFAULT_MAX_ANSWER,
        }
    }

    /// The next request id that will be used.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// Send `req` (its id is assigned here) and return the card's answer, OK or not.
    pub fn call_raw<R: CryptoRng + ?Sized>(
        &mut self,
        card: &mut dyn Exchange,
        mut req: Request,
        rng: &mut R,
    ) -> Result<Answer, ClientError> {
        req.id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        if req.max_answer.is_none() {
            req.max_answer = Some(self.max_answer);
        }
        let (msg, nonce) = match &self.key {
            Some(k) => {
                let mut n = [0u8; 8];
                rng.fill_bytes(&mut n);
                (req.encode_protected(k, n), Some(n))
            }
            None => (req.encode(), None),
        };
        let mut re = Reassembly::default();
        let mut payload = card.exchange(&msg)?;
        let full = loop {
            match re.feed(&payload)? {
                Part::Complete(m) => break m,
                Part::More { id, offset } => {
                    let mut more = Request::new(self.next_id, OpCode::GetMore);
                    self.next_id = self.next_id.wrapping_add(1).max(1);
                    more.target = Some(id);
                    more.offset = Some(offset);
                    more.max_answer = Some(self.max_answer);
                    payload = card.exchange(&more.encode())?;
                }
            }
        };
        let a = match (full.first(), &self.key, nonce) {
            (Some(&crate::protocol::TAG_ANSWER_PROTECTED), Some(k), Some(n)) => {
                Answer::open(&full, Some((k, n)))?
            }
            _ => Answer::open(&full, None)?,
        };
        if a.id != req.id {
            return Err(ClientError::IdMismatch {
                want: req.id,
                got: a.id,
            });
        }
        Ok(a)
    }

    /// Like [`Client::call_raw`] but turns a non-OK result into [`ClientError::Card`].
    pub fn call<R: CryptoRng + ?Sized>(
        &mut self,
        card: &mut dyn Exchange,
        req: Request,
        rng: &mut R,
    ) -> Result<Answer, ClientError> {
        let a = self.call_raw(card, req, rng)?;
        check(a)
    }
}

/// Turn a non-OK answer into an error.
pub fn check(a: Answer) -> Result<Answer, ClientError> {
    if a.result == ResultCode::Ok {
        Ok(a)
    } else {
        Err(ClientError::Card {
            code: a.result,
            tries: a.tries_left,
            field: a.field,
            reason: a.reason.clone(),
        })
    }
}

/// The digest the card signs for a SIGN request in `mode` with `data` (`88`): the hash of
/// [`signed_message`] (PROTOCOL.md §5.3), in every mode.
pub fn signed_digest(mode: SignMode, hash: HashAlg, data: &[u8]) -> Result<Vec<u8>, ClientError> {
    Ok(keys::digest(hash, &signed_message(mode, data))?)
}

pub use crate::protocol::signed_message;

/// Verify a SIGN answer's signature with the key's SubjectPublicKeyInfo.
pub fn verify_signature(
    spki: &[u8],
    scheme: Scheme,
    hash: HashAlg,
    mode: SignMode,
    data: &[u8],
    sig: &[u8],
) -> Result<(), ClientError> {
    let d = signed_digest(mode, hash, data)?;
    keys::verify_digest(spki, scheme, hash, &d, sig).map_err(|e| ClientError::Verify(e.to_string()))
}

/// Parse an RFC 4514 string (`CN=Alice,O=Example,C=FI`) into a DER `Name`.
pub fn subject_der(s: &str) -> Result<Vec<u8>, ClientError> {
    let n = x509_cert::name::Name::from_str(s)
        .map_err(|e| ClientError::Input(format!("subject `{s}`: {e}")))?;
    n.to_der()
        .map_err(|e| ClientError::Input(format!("subject `{s}`: {e}")))
}

/// Check a PKCS#10 request: its signature verifies under its own public key. Returns the
/// subject (RFC 4514) and the DER SubjectPublicKeyInfo.
pub fn verify_csr(csr: &[u8]) -> Result<(String, Vec<u8>), ClientError> {
    let req = x509_cert::request::CertReq::from_der(csr)
        .map_err(|e| ClientError::Verify(format!("CSR does not decode: {e}")))?;
    let tbs = req
        .info
        .to_der()
        .map_err(|e| ClientError::Verify(e.to_string()))?;
    let spki = req
        .info
        .public_key
        .to_der()
        .map_err(|e| ClientError::Verify(e.to_string()))?;
    let (scheme, hash) = match req.algorithm.oid.to_string().as_str() {
        "1.2.840.113549.1.1.11" => (Scheme::RsaPkcs1v15, HashAlg::Sha256),
        "1.2.840.113549.1.1.12" => (Scheme::RsaPkcs1v15, HashAlg::Sha384),
        "1.2.840.113549.1.1.13" => (Scheme::RsaPkcs1v15, HashAlg::Sha512),
        "1.2.840.10045.4.3.2" => (Scheme::Ecdsa, HashAlg::Sha256),
        "1.2.840.10045.4.3.3" => (Scheme::Ecdsa, HashAlg::Sha384),
        "1.2.840.10045.4.3.4" => (Scheme::Ecdsa, HashAlg::Sha512),
        o => {
            return Err(ClientError::Verify(format!(
                "CSR signature algorithm {o} not supported"
            )))
        }
    };
    let sig = req
        .signature
        .as_bytes()
        .ok_or_else(|| ClientError::Verify("CSR signature has unused bits".into()))?;
    let d = keys::digest(hash, &tbs)?;
    keys::verify_digest(&spki, scheme, hash, &d, sig)
        .map_err(|e| ClientError::Verify(format!("CSR signature: {e}")))?;
    Ok((req.info.subject.to_string(), spki))
}

/// PEM armour (RFC 7468) with the given label.
pub fn to_pem(label: &str, der: &[u8]) -> Result<String, ClientError> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map_err(|e| ClientError::Input(format!("PEM: {e}")))
}

/// Read PEM (any label) or raw DER.
pub fn from_pem_or_der(b: &[u8]) -> Result<(Option<String>, Vec<u8>), ClientError> {
    if b.starts_with(b"-----BEGIN") {
        let s = std::str::from_utf8(b)
            .map_err(|_| ClientError::Input("PEM file is not UTF-8".into()))?;
        let (label, der) = der::pem::decode_vec(s.as_bytes())
            .map_err(|e| ClientError::Input(format!("PEM: {e}")))?;
        return Ok((Some(label.to_string()), der));
    }
    Ok((None, b.to_vec()))
}

/// PEM label of a split-key share file.
pub const SPLIT_SERVER_LABEL: &str = "WPKI SPLIT SERVER SHARE";
/// PEM label of the card share file (to be loaded with SPLIT KEY PUT, then destroyed).
pub const SPLIT_CARD_LABEL: &str = "WPKI SPLIT CARD SHARE";

/// Encode a share `n, e, d_share` as `94 n 95 e 96 d` (the SPLIT KEY PUT field layout).
pub fn encode_share(n: &[u8], e: &[u8], d: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut o = Zeroizing::new(Vec::new());
    tlv::put(&mut o, 0x94, n);
    tlv::put(&mut o, 0x95, e);
    tlv::put(&mut o, 0x96, d);
    o
}

/// One share of a split RSA key as stored in a share file.
pub struct Share {
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
    /// Exponent share (secret).
    pub d: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Share(n: {} bytes, d: <secret>)", self.n.len())
    }
}

/// Decode a share written by [`encode_share`].
pub fn decode_share(b: &[u8]) -> Result<Share, ClientError> {
    let t = tlv::parse_all(b, 0).map_err(|e| ClientError::Input(format!("share file: {e}")))?;
    match t.as_slice() {
        [n, e, d] if n.tag == 0x94 && e.tag == 0x95 && d.tag == 0x96 => Ok(Share {
            n: n.value.to_vec(),
            e: e.value.to_vec(),
            d: Zeroizing::new(d.value.to_vec()),
        }),
        _ => Err(ClientError::Input(
            "share file: want fields 94 (n) 95 (e) 96 (d)".into(),
        )),
    }
}

/// One scripted user action for [`DirectCard`] (and the CLI's `--user` flags).
#[derive(Clone, PartialEq, Eq)]
pub enum UserAction {
    /// Press OK / confirm.
    Ok,
    /// Type this text (PIN, PUK) into GET INPUT.
    Type(Zeroizing<String>),
    /// Choose item n (from 1).
    Select(u8),
    /// Cancel (end session).
    Cancel,
    /// Go back.
    Back,
    /// Do nothing until the terminal times out.
    Timeout,
}

impl std::fmt::Debug for UserAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserAction::Type(_) => f.write_str("Type(<hidden>)"),
            UserAction::Ok => f.write_str("Ok"),
            UserAction::Select(i) => write!(f, "Select({i})"),
            UserAction::Cancel => f.write_str("Cancel"),
            UserAction::Back => f.write_str("Back"),
            UserAction::Timeout => f.write_str("Timeout"),
        }
    }
}

impl FromStr for UserAction {
    type Err = String;
    /// `ok`, `cancel`, `back`, `timeout`, `select:N`, `type:TEXT` (or bare digits = type).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ok" => Ok(UserAction::Ok),
            "cancel" => Ok(UserAction::Cancel),
            "back" => Ok(UserAction::Back),
            "timeout" | "no-response" => Ok(UserAction::Timeout),
            _ => {
                if let Some(n) = s.strip_prefix("select:") {
                    return n
                        .parse()
                        .map(UserAction::Select)
                        .map_err(|_| format!("`{s}`: select:N needs a number 1..255"));
                }
                if let Some(t) = s.strip_prefix("type:") {
                    return Ok(UserAction::Type(Zeroizing::new(t.to_string())));
                }
                if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                    return Ok(UserAction::Type(Zeroizing::new(s.to_string())));
                }
                Err(format!("user action `{s}`: want ok, cancel, back, timeout, select:N, type:TEXT or digits"))
            }
        }
    }
}

/// What the scripted user was shown (for WYSIWYS checks), with the action taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The interaction.
    pub interaction: Interaction,
    /// What the user did.
    pub action: UserAction,
}

/// A sink writing nothing but counting persist calls.
#[derive(Debug, Default)]
pub struct CountingSink {
    /// Number of persist calls.
    pub count: usize,
    /// The last image persisted.
    pub last: Option<Zeroizing<Vec<u8>>>,
}

impl StateSink for CountingSink {
    fn persist(&mut self, state: &WpkiState) {
        self.count += 1;
        self.last = Some(state.to_bytes());
    }
}

/// The applet in process, with a scripted user — the delivery path used until the card runtime
/// (UICC + CAT engine + OTA receiver) hosts the applet, and by the applet's own tests.
pub struct DirectCard<R: CryptoRng, S: StateSink> {
    /// The applet.
    pub applet: WpkiApplet,
    /// Its RNG.
    pub rng: R,
    /// Its persistence.
    pub sink: S,
    /// Queued user actions; when empty, confirmations are answered OK and inputs time out.
    pub user: VecDeque<UserAction>,
    /// Everything shown to the user, in order.
    pub shown: Vec<Shown>,
}

impl<R: CryptoRng, S: StateSink> std::fmt::Debug for DirectCard<R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectCard")
            .field("applet", &self.applet)
            .field("shown", &self.shown.len())
            .finish_non_exhaustive()
    }
}

impl<R: CryptoRng, S: StateSink> DirectCard<R, S> {
    /// A card over `state`.
    pub fn new(state: WpkiState, config: AppletConfig, rng: R, sink: S) -> Self {
        DirectCard {
            applet: WpkiApplet::new(state, config),
            rng,
            sink,
            user: VecDeque::new(),
            shown: Vec::new(),
        }
    }

    /// Queue user actions.
    pub fn script(&mut self, actions: impl IntoIterator<Item = UserAction>) {
        self.user.extend(actions);
    }

    /// Run interactions until a final step.
    pub fn drive(&mut self, mut step: Step) -> Step {
        loop {
            let Step::Interact(i) = step else { return step };
            let action = self.user.pop_front().unwrap_or(match &i {
                Interaction::Display { .. } => UserAction::Ok,
                _ => UserAction::Timeout,
            });
            let result = match (&action, &i) {
                (UserAction::Ok, Interaction::Display { .. }) => UserResult::Ok,
                (UserAction::Ok, Interaction::Select { .. }) => UserResult::Selected(1),
                (UserAction::Ok, Interaction::Input { .. }) => {
                    UserResult::Input(Zeroizing::new(String::new()))
                }
                (UserAction::Type(t), Interaction::Input { .. }) => UserResult::Input(t.clone()),
                (UserAction::Type(_), _) => UserResult::Ok,
                (UserAction::Select(n), Interaction::Select { .. }) => UserResult::Selected(*n),
                (UserAction::Select(_), _) => UserResult::Ok,
                (UserAction::Cancel, _) => UserResult::Cancelled,
                (UserAction::Back, _) => UserResult::Backward,
                (UserAction::Timeout, _) => UserResult::NoResponse,
            };
            self.shown.push(Shown {
                interaction: i,
                action,
            });
            step = self.applet.resume(result, &mut self.rng, &mut self.sink);
        }
    }

    /// Select SIM menu item `item` and run the session.
    pub fn menu(&mut self, item: u8) -> Step {
        let s = self.applet.menu_select(item);
        self.drive(s)
    }
}

impl<R: CryptoRng, S: StateSink> Exchange for DirectCard<R, S> {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        let s = self
            .applet
            .handle_request(msg, &mut self.rng, &mut self.sink);
        match self.drive(s) {
            Step::Answer(a) => Ok(a),
            Step::Done => Err(ClientError::Delivery(
                "applet ended without an answer".into(),
            )),
            Step::Interact(_) => Err(ClientError::Delivery(
                "applet still waiting for the user".into(),
            )),
        }
    }
}

/// A ChaCha20 RNG seeded from the operating system (for the CLI and real use; tests inject a
/// seeded one).
pub fn os_rng() -> Result<rand_chacha::ChaCha20Rng, ClientError> {
    use rand_core::SeedableRng;
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut *seed).map_err(|e| ClientError::Input(format!("system RNG: {e}")))?;
    Ok(rand_chacha::ChaCha20Rng::from_seed(*seed))
}

/// Persists the applet state image to a file: written to `FILE.tmp`, synced, then renamed over
/// `FILE`, so a crash leaves either the old or the new image.
#[derive(Debug)]
pub struct FileSink {
    path: std::path::PathBuf,
    /// The first write error, if any (checked by the caller after the session).
    pub error: Option<String>,
}

impl FileSink {
    /// A sink writing to `path`.
    pub fn new(path: impl Into<std::path::PathBuf>) -> FileSink {
        FileSink {
            path: path.into(),
            error: None,
        }
    }

    /// Load the state image from the file, or a fresh state if it does not exist.
    pub fn load(&self) -> Result<Option<WpkiState>, ClientError> {
        match std::fs::read(&self.path) {
            Ok(b) => WpkiState::from_bytes(&b)
                .map(Some)
                .map_err(|e| ClientError::Input(format!("{}: {e}", self.path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::Input(format!("{}: {e}", self.path.display()))),
        }
    }

    fn write(&self, img: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut f = create_private(&tmp)?;
        f.write_all(img)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }
}

impl StateSink for FileSink {
    fn persist(&mut self, state: &WpkiState) {
        if let Err(e) = self.write(&state.to_bytes()) {
            if self.error.is_none() {
                self.error = Some(format!("{}: {e}", self.path.display()));
            }
        }
    }
}

/// Create (or truncate) `path` for secrets: mode 0600 on Unix, set when the file is created
/// and again on an existing file, so a state image or share file is never readable by others.
pub fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        let f = o.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    {
        o.open(path)
    }
}

/// Write `bytes` to a new private file (mode 0600, see [`create_private`]).
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = create_private(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The RNG type [`os_rng`] returns.
pub type OsRng = rand_chacha::ChaCha20Rng;
