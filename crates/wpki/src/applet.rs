//! The sans-IO core of the WPKI applet.
//!
//! The card runtime feeds it the secured data of an OTA message addressed to the applet's TAR
//! ([`WpkiApplet::handle_request`]) or a SIM menu selection ([`WpkiApplet::menu_select`]); each
//! call returns a [`Step`]: either the final answer (PoR additional data), a user interaction
//! the runtime performs with a proactive command (DISPLAY TEXT, GET INPUT, SELECT ITEM) and
//! reports back with [`WpkiApplet::resume`], or the end of a menu session.
//!
//! Persistence: every change of the [`WpkiState`] is handed to a [`StateSink`] at the point it
//! must be durable. A PIN/PUK retry counter is decremented and persisted *before* the value is
//! compared, and reset (persisted again) only after a match, so a power cut between the two
//! never grants a free try (TS 102 221 §9.5 style).

#![allow(clippy::result_large_err)] // an early-return `Answer` is the error payload; built once per request

use crate::keys::{self, KeyMaterial, LoadedKey, Secret};
use crate::profile::{MatchMode, Operation, Profile, Sscd};
use crate::protocol::{
    self, usage, Answer, E2eKey, Envelope, HashAlg, KeyAlgorithm, KeyInfo, OpCode, PinOp,
    ProtoError, Request, ResultCode, Scheme, SignMode, DEFAULT_MAX_ANSWER,
};
use crate::shown;
use crate::state::{KeyGroup, KeySlot, WpkiState, MAX_LANGUAGES};
use crate::text::{text, Msg, LANGUAGES};
use der::{Decode, Encode};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

/// Receives the state whenever it must be made durable.
pub trait StateSink {
    /// Persist `state` now (the runtime commits it before anything else leaves the card).
    fn persist(&mut self, state: &WpkiState);
}

/// A sink that drops the state (for tests and benchmarks that do not need durability).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPersist;

impl StateSink for NoPersist {
    fn persist(&mut self, _: &WpkiState) {}
}

/// A user interaction the runtime performs (TS 102 223 proactive commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// DISPLAY TEXT. With `confirm`, high priority and "wait for user to clear": the user must
    /// press OK for the operation to continue (TERMINAL RESPONSE 00 = confirmed).
    Display {
        /// The text, shown exactly as given.
        text: String,
        /// Whether the user must confirm.
        confirm: bool,
    },
    /// GET INPUT.
    Input {
        /// Prompt.
        prompt: String,
        /// Hide the entry (PINs, PUKs).
        hidden: bool,
        /// Digits only (0-9).
        digits: bool,
        /// Minimum length.
        min: u8,
        /// Maximum length.
        max: u8,
    },
    /// SELECT ITEM; items are numbered from 1 in the TERMINAL RESPONSE.
    Select {
        /// Title.
        title: String,
        /// Item texts.
        items: Vec<String>,
    },
}

/// What the user did, as reported in the TERMINAL RESPONSE.
#[derive(Clone, PartialEq, Eq)]
pub enum UserResult {
    /// Confirmed (DISPLAY TEXT cleared by the user, result 00).
    Ok,
    /// Text entered (GET INPUT).
    Input(Zeroizing<String>),
    /// Item chosen, numbered from 1 (SELECT ITEM).
    Selected(u8),
    /// Session terminated by the user (result 10).
    Cancelled,
    /// Backward move requested (result 11): treated as a cancel.
    Backward,
    /// No response from user (result 12, timeout).
    NoResponse,
    /// The terminal could not perform the command (results 2x/3x).
    TerminalError,
}

impl std::fmt::Debug for UserResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserResult::Input(_) => f.write_str("Input(<hidden>)"),
            UserResult::Ok => f.write_str("Ok"),
            UserResult::Selected(i) => write!(f, "Selected({i})"),
            UserResult::Cancelled => f.write_str("Cancelled"),
            UserResult::Backward => f.write_str("Backward"),
            UserResult::NoResponse => f.write_str("NoResponse"),
            UserResult::TerminalError => f.write_str("TerminalError"),
        }
    }
}

/// What the runtime must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this answer message (or segment) as the PoR additional data / SMS. Ends the session.
    Answer(Vec<u8>),
    /// Perform this interaction and call [`WpkiApplet::resume`] with the outcome.
    Interact(Interaction),
    /// A menu session ended; nothing to send.
    Done,
}

/// Applet installation parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppletConfig {
    /// Commercial name used in the profile URIs this applet offers.
    pub commercial_name: String,
    /// PIN retry counter reset value.
    pub pin_tries: u8,
    /// PUK retry counter reset value.
    pub puk_tries: u8,
    /// Shortest PIN.
    pub pin_min: u8,
    /// Longest PIN.
    pub pin_max: u8,
    /// Longest text shown for signing in one DISPLAY TEXT (characters).
    pub max_display_chars: usize,
    /// Refuse plain (unprotected) requests other than GET MORE.
    pub require_e2e: bool,
    /// The terminal can display UCS2 texts (TERMINAL PROFILE "UCS2 display"); when false, a
    /// text that needs UCS2 is refused when the request is read ([`crate::shown`]).
    pub ucs2_display: bool,
}

impl Default for AppletConfig {
    fn default() -> Self {
        AppletConfig {
            commercial_name: "simota".into(),
            pin_tries: 3,
            puk_tries: 10,
            pin_min: 4,
            pin_max: 8,
            max_display_chars: 240,
            require_e2e: false,
            ucs2_display: true,
        }
    }
}

/// Where a session came from: an OTA request (answer expected) or the SIM menu.
#[derive(Debug, Clone, Copy)]
struct Origin {
    id: u32,
    nonce: Option<[u8; 8]>,
    max: usize,
    lang: [u8; 2],
    menu: bool,
    /// The PIN operation of a menu session (for its closing message).
    menu_op: Option<PinOp>,
}

/// The secret-using operation waiting for confirmation and/or PIN.
enum Work {
    Sign {
        key: usize,
        scheme: Scheme,
        hash: HashAlg,
        digest: Zeroizing<Vec<u8>>,
    },
    Decrypt {
        key: usize,
        scheme: Scheme,
        ct: Vec<u8>,
    },
    Pop {
        key: usize,
        hash: HashAlg,
        subject: Vec<u8>,
    },
}

enum Stage {
    /// Waiting for DISPLAY TEXT confirmation; then PIN (if `pin`) and the work.
    Confirm { pin: bool },
    /// Waiting for the PIN; then the work.
    Pin,
    /// PIN change: old PIN entry.
    ChangeOld,
    /// PIN unblock: PUK entry.
    UnblockPuk,
    /// New PIN entry (change, unblock, activate).
    NewPin { activate: bool },
    /// New PIN repeated.
    RepeatPin {
        new: Zeroizing<Vec<u8>>,
        activate: bool,
    },
    /// PUK shown to the user after activation; then the answer.
    ShowPuk { puk: Zeroizing<String> },
    /// Menu: top-level item chosen → maybe a group choice.
    MenuGroup { item: u8, groups: Vec<u8> },
    /// Menu: the top-level SELECT ITEM of the applet's menu entry.
    MenuTop,
    /// Menu: language choice.
    MenuLanguage,
    /// Menu: final message shown; then Done.
    MenuEnd,
}

struct Flow {
    origin: Origin,
    group: usize,
    work: Option<Work>,
    stage: Stage,
}

/// The WPKI applet instance: persistent state, configuration and the transient session.
pub struct WpkiApplet {
    state: WpkiState,
    config: AppletConfig,
    flow: Option<Flow>,
    pending: Option<(u32, Vec<u8>)>,
    cache: Vec<Option<(u8, LoadedKey)>>,
    menu_result: Option<ResultCode>,
}

impl std::fmt::Debug for WpkiApplet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WpkiApplet")
            .field("groups", &self.state.groups.len())
            .field("keys", &self.state.keys.len())
            .field("in_session", &self.flow.is_some())
            .finish_non_exhaustive()
    }
}

/// A finished operation: the answer to send, or a message to show in a menu session.
type Done = Answer;

fn err(id: u32, code: ResultCode) -> Answer {
    Answer::new(id, code)
}

fn bad(id: u32, tag: u8, reason: impl Into<String>) -> Answer {
    let mut a = Answer::new(id, ResultCode::BadRequest);
    a.field = Some(tag);
    a.reason = Some(reason.into());
    a
}

fn user_abort(id: u32, r: &UserResult) -> Answer {
    match r {
        UserResult::NoResponse => err(id, ResultCode::NoResponse),
        UserResult::TerminalError => {
            let mut a = err(id, ResultCode::InternalError);
            a.reason = Some("terminal could not perform the dialogue".into());
            a
        }
        _ => err(id, ResultCode::UserCancelled),
    }
}

fn random_digits<R: CryptoRng + ?Sized>(rng: &mut R, n: usize) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(n));
    while s.len() < n {
        let mut b = [0u8; 1];
        rng.fill_bytes(&mut b);
        if b[0] < 250 {
            s.push(char::from(b'0' + b[0] % 10));
        }
    }
    s
}

impl WpkiApplet {
    /// An applet over a stored (or fresh) state.
    pub fn new(state: WpkiState, config: AppletConfig) -> WpkiApplet {
        WpkiApplet {
            state,
            config,
            flow: None,
            pending: None,
            cache: (0..8).map(|_| None).collect(),
            menu_result: None,
        }
    }

    /// The persistent state (what the runtime stores).
    pub fn state(&self) -> &WpkiState {
        &self.state
    }

    /// The configuration.
    pub fn config(&self) -> &AppletConfig {
        &self.config
    }

    /// The outcome of the last SIM menu session that reached a result (`None`: no menu session
    /// ended with one since the applet was loaded, e.g. a language choice).
    pub fn menu_result(&self) -> Option<ResultCode> {
        self.menu_result
    }

    /// Whether the terminal displays UCS2 (from its TERMINAL PROFILE, TS 102 223 §5.2).
    pub fn set_ucs2_display(&mut self, on: bool) {
        self.config.ucs2_display = on;
    }

    /// Is a user dialogue in progress?
    pub fn in_session(&self) -> bool {
        self.flow.is_some()
    }

    /// Set the end-to-end key (personalisation).
    pub fn set_e2e_key(&mut self, key: Option<E2eKey>, sink: &mut dyn StateSink) {
        self.state.e2e_key = key;
        sink.persist(&self.state);
    }

    /// Clear the transient session (card reset, applet deselected).
    pub fn reset_session(&mut self) {
        self.flow = None;
        self.pending = None;
    }

    fn finish(&mut self, o: Origin, a: Answer) -> Step {
        self.flow = None;
        if o.menu {
            return Step::Done;
        }
        let msg = match (o.nonce, &self.state.e2e_key) {
            (Some(n), Some(k)) => a.encode_protected(k, n),
            _ => a.encode(),
        };
        match protocol::answer_part(a.id, &msg, 0, o.max) {
            Some(part) => {
                if part.len() < msg.len() {
                    self.pending = Some((a.id, msg));
                }
                Step::Answer(part)
            }
            None => Step::Answer(err(a.id, ResultCode::InternalError).encode()),
        }
    }

    /// Handle one request message (the secured data of an OTA command packet for our TAR).
    /// A request arriving during a dialogue aborts that dialogue.
    pub fn handle_request<R: CryptoRng + ?Sized>(
        &mut self,
        msg: &[u8],
        rng: &mut R,
        sink: &mut dyn StateSink,
    ) -> Step {
        self.flow = None;
        let env = match Envelope::open(msg, self.state.e2e_key.as_ref()) {
            Ok(e) => e,
            Err((id, e)) => {
                let o = Origin {
                    id: id.unwrap_or(0),
                    nonce: None,
                    max: usize::from(DEFAULT_MAX_ANSWER),
                    lang: self.state.language,
                    menu: false,
                    menu_op: None,
                };
                let a = proto_error_answer(o.id, &e);
                return self.finish(o, a);
            }
        };
        let mut o = Origin {
            id: env.id,
            nonce: env.nonce,
            max: usize::from(DEFAULT_MAX_ANSWER),
            lang: self.state.language,
            menu: false,
            menu_op: None,
        };
        let req = match env.request() {
            Ok(r) => r,
            Err(e) => return self.finish(o, proto_error_answer(env.id, &e)),
        };
        if let Some(m) = req.max_answer {
            o.max = usize::from(m);
        }
        if let Some(l) = req.language {
            o.lang = l;
        }
        if env.nonce.is_some() {
            if env.id <= self.state.last_protected_id {
                let mut a = err(env.id, ResultCode::SecurityError);
                a.reason = Some("replayed request id".into());
                // Answer unprotected: the request may be a replay by an attacker.
                o.nonce = None;
                return self.finish(o, a);
            }
            self.state.last_protected_id = env.id;
            sink.persist(&self.state);
        } else if self.config.require_e2e && req.op != Some(OpCode::GetMore) {
            let mut a = err(env.id, ResultCode::SecurityError);
            a.reason = Some("end-to-end protection required".into());
            return self.finish(o, a);
        }
        if req.op != Some(OpCode::GetMore) {
            self.pending = None;
        }
        self.dispatch(o, req, rng, sink)
    }

    fn dispatch<R: CryptoRng + ?Sized>(
        &mut self,
        o: Origin,
        req: Request,
        rng: &mut R,
        sink: &mut dyn StateSink,
    ) -> Step {
        let id = o.id;
        let Some(op) = req.op else {
            return self.finish(o, bad(id, 0x81, "operation missing"));
        };
        let r = match op {
            OpCode::Keygen => self.op_keygen(&req, rng, sink),
            OpCode::CertPut => self.op_cert_put(&req, sink),
            OpCode::CertGet => self.op_cert_get(&req),
            OpCode::PublicKeyGet => self.op_public_key(&req),
            OpCode::ProfileQuery => Ok(self.op_profiles(id)),
            OpCode::KeyList => Ok(self.op_key_list(id)),
            OpCode::GroupSet => self.op_group_set(&req, sink),
            OpCode::SplitKeyPut => self.op_split_put(&req, o.nonce.is_some(), sink),
            OpCode::GetMore => return self.op_get_more(o, &req),
            OpCode::Sign | OpCode::Decrypt | OpCode::Pop => match self.prepare_work(op, &req) {
                Ok((group, work, needs_pin, text)) => {
                    if let Err(a) = self.check_pin_usable(id, group, needs_pin) {
                        return self.finish(o, a);
                    }
                    self.flow = Some(Flow {
                        origin: o,
                        group,
                        work: Some(work),
                        stage: Stage::Confirm { pin: needs_pin },
                    });
                    return Step::Interact(Interaction::Display {
                        text,
                        confirm: true,
                    });
                }
                Err(a) => Err(a),
            },
            OpCode::Pin => return self.op_pin(o, &req),
            OpCode::Unknown(_) => Err(err(id, ResultCode::UnsupportedOperation)),
        };
        let a = r.unwrap_or_else(|a| a);
        self.finish(o, a)
    }

    fn group_index(&self, id: u8) -> Option<usize> {
        self.state.groups.iter().position(|g| g.id == id)
    }

    fn key_index(&self, id: u8) -> Option<usize> {
        self.state.keys.iter().position(|k| k.id == id)
    }

    fn loaded(&mut self, ki: usize) -> Result<&LoadedKey, ResultCode> {
        let slot = self.state.keys.get(ki).ok_or(ResultCode::KeyNotFound)?;
        let kid = usize::from(slot.id);
        let fresh = !matches!(self.cache.get(kid), Some(Some((i, _))) if *i == slot.id);
        if fresh {
            let k = slot
                .material
                .load()
                .map_err(|_| ResultCode::InternalError)?;
            if let Some(c) = self.cache.get_mut(kid) {
                *c = Some((slot.id, k));
            }
        }
        match self.cache.get(kid) {
            Some(Some((_, k))) => Ok(k),
            _ => Err(ResultCode::InternalError),
        }
    }

    fn op_keygen<R: CryptoRng + ?Sized>(
        &mut self,
        req: &Request,
        rng: &mut R,
        sink: &mut dyn StateSink,
    ) -> Result<Answer, Answer> {
        let id = req.id;
        let g = req
            .group
            .ok_or_else(|| bad(id, 0x82, "key group missing"))?;
        let k = req.key.ok_or_else(|| bad(id, 0x83, "key id missing"))?;
        let alg = req
            .algorithm
            .ok_or_else(|| bad(id, 0x84, "algorithm missing"))?;
        if let KeyAlgorithm::Unknown(_) = alg {
            return Err(bad(id, 0x84, "unknown algorithm"));
        }
        let use_bits = req.usage.unwrap_or(usage::SIGN);
        if use_bits == 0 {
            return Err(bad(id, 0x8A, "key usage must name at least one usage"));
        }
        if use_bits & !(usage::SIGN | usage::AUTHN | usage::DECRYPT | usage::CONSENT) != 0 {
            return Err(bad(
                id,
                0x8A,
                "usage bits other than sign/authn/decrypt/consent",
            ));
        }
        if use_bits & usage::DECRYPT != 0
            && !matches!(alg, KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072)
        {
            return Err(bad(id, 0x8A, "decryption needs an RSA key"));
        }
        if self.key_index(k).is_some() {
            let mut a = err(id, ResultCode::StorageFull);
            a.reason = Some("key id in use".into());
            return Err(a);
        }
        let (material, spki) =
            keys::generate(alg, rng).map_err(|_| err(id, ResultCode::InternalError))?;
        self.ensure_group(g);
        self.state.keys.push(KeySlot {
            id: k,
            group: g,
            algorithm: alg,
            usage: use_bits,
            material,
            spki: spki.clone(),
            cert: None,
        });
        if let Some(c) = self.cache.get_mut(usize::from(k)) {
            *c = None;
        }
        sink.persist(&self.state);
        let mut a = Answer::new(id, ResultCode::Ok);
        a.public_key = Some(spki);
        a.key = Some(k);
        a.usage = Some(use_bits);
        Ok(a)
    }

    fn ensure_group(&mut self, g: u8) {
        if self.group_index(g).is_none() {
            self.state.groups.push(KeyGroup {
                id: g,
                pin: None,
                puk: None,
                texts: Vec::new(),
            });
        }
    }

    fn op_split_put(
        &mut self,
        req: &Request,
        protected: bool,
        sink: &mut dyn StateSink,
    ) -> Result<Answer, Answer> {
        let id = req.id;
        if !protected {
            let mut a = err(id, ResultCode::SecurityError);
            a.reason =
                Some("SPLIT KEY PUT carries a secret: end-to-end protection required".into());
            return Err(a);
        }
        let g = req
            .group
            .ok_or_else(|| bad(id, 0x82, "key group missing"))?;
        let k = req.key.ok_or_else(|| bad(id, 0x83, "key id missing"))?;
        let n = req
            .modulus
            .clone()
            .ok_or_else(|| bad(id, 0x94, "modulus missing"))?;
        let e = req
            .exponent
            .clone()
            .ok_or_else(|| bad(id, 0x95, "exponent missing"))?;
        let d = req
            .share
            .clone()
            .ok_or_else(|| bad(id, 0x96, "card share missing"))?;
        let alg = match n.iter().skip_while(|b| **b == 0).count() {
            256 => KeyAlgorithm::Rsa2048,
            384 => KeyAlgorithm::Rsa3072,
            _ => return Err(bad(id, 0x94, "modulus must be 2048 or 3072 bits")),
        };
        if d.len() > n.len() {
            return Err(bad(id, 0x96, "card share longer than the modulus"));
        }
        if self.key_index(k).is_some() {
            let mut a = err(id, ResultCode::StorageFull);
            a.reason = Some("key id in use".into());
            return Err(a);
        }
        let spki =
            keys::split_spki(&n, &e).map_err(|_| bad(id, 0x94, "not a valid RSA public key"))?;
        let material = KeyMaterial::SplitRsa { n, e, d_card: d };
        material
            .load()
            .map_err(|_| bad(id, 0x96, "card share does not fit the modulus"))?;
        self.ensure_group(g);
        self.state.keys.push(KeySlot {
            id: k,
            group: g,
            algorithm: alg,
            usage: usage::SPLIT | usage::SIGN,
            material,
            spki: spki.clone(),
            cert: None,
        });
        if let Some(c) = self.cache.get_mut(usize::from(k)) {
            *c = None;
        }
        sink.persist(&self.state);
        let mut a = Answer::new(id, ResultCode::Ok);
        a.public_key = Some(spki);
        a.key = Some(k);
        a.usage = Some(usage::SPLIT | usage::SIGN);
        Ok(a)
    }

    fn op_cert_put(&mut self, req: &Request, sink: &mut dyn StateSink) -> Result<Answer, Answer> {
        let id = req.id;
        let k = req.key.ok_or_else(|| bad(id, 0x83, "key id missing"))?;
        let cert = req
            .data
            .clone()
            .ok_or_else(|| bad(id, 0x88, "certificate missing"))?;
        let ki = self
            .key_index(k)
            .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
        let parsed = x509_cert::Certificate::from_der(&cert)
            .map_err(|_| bad(id, 0x88, "not a DER X.509 certificate"))?;
        let spki = parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|_| bad(id, 0x88, "certificate public key does not encode"))?;
        let slot = self
            .state
            .keys
            .get_mut(ki)
            .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
        if spki != slot.spki {
            return Err(bad(id, 0x88, "certificate is not for this key"));
        }
        slot.cert = Some(cert);
        sink.persist(&self.state);
        let mut a = Answer::new(id, ResultCode::Ok);
        a.key = Some(k);
        Ok(a)
    }

    fn op_public_key(&mut self, req: &Request) -> Result<Answer, Answer> {
        let id = req.id;
        let k = req.key.ok_or_else(|| bad(id, 0x83, "key id missing"))?;
        let slot = self
            .key_index(k)
            .and_then(|i| self.state.keys.get(i))
            .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
        let mut a = Answer::new(id, ResultCode::Ok);
        a.public_key = Some(slot.spki.clone());
        a.key = Some(k);
        Ok(a)
    }

    fn op_cert_get(&mut self, req: &Request) -> Result<Answer, Answer> {
        let id = req.id;
        let k = req.key.ok_or_else(|| bad(id, 0x83, "key id missing"))?;
        let slot = self
            .key_index(k)
            .and_then(|i| self.state.keys.get(i))
            .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
        let cert = slot.cert.clone().ok_or_else(|| {
            let mut a = err(id, ResultCode::KeyNotFound);
            a.reason = Some("no certificate stored for this key".into());
            a
        })?;
        let mut a = Answer::new(id, ResultCode::Ok);
        a.certificate = Some(cert);
        a.key = Some(k);
        Ok(a)
    }

    /// The signature profiles a key offers (see the crate's PROTOCOL.md §5.7).
    pub fn key_profiles(&self, slot: &KeySlot) -> Vec<Profile> {
        let name = Some(self.config.commercial_name.clone());
        let query: Vec<(String, String)> = match slot.algorithm {
            KeyAlgorithm::Rsa2048 => vec![("RSAkeylen".into(), "2048".into())],
            KeyAlgorithm::Rsa3072 => vec![("RSAkeylen".into(), "3072".into())],
            KeyAlgorithm::EcP256 => vec![
                ("ECC".into(), "true".into()),
                ("curve".into(), "P-256".into()),
            ],
            KeyAlgorithm::EcP384 => vec![
                ("ECC".into(), "true".into()),
                ("curve".into(), "P-384".into()),
            ],
            KeyAlgorithm::Unknown(_) => vec![],
        };
        let split = slot.usage & usage::SPLIT != 0;
        let mut ops = Vec::new();
        if slot.usage & usage::SIGN != 0 {
            ops.extend([(Operation::Sign, 3), (Operation::Digest, 3)]);
            if !split {
                ops.push((Operation::Pop, 3));
            }
        }
        if slot.usage & usage::AUTHN != 0 {
            ops.push((Operation::Authn, 3));
        }
        if slot.usage & usage::DECRYPT != 0 {
            ops.push((Operation::Encrypt, 3));
        }
        if slot.usage & usage::CONSENT != 0 {
            ops.push((Operation::Consent, 2));
        }
        ops.into_iter()
            .map(|(op, level)| {
                let mut q = query.clone();
                if split {
                    q.push(("split".into(), "true".into()));
                }
                Profile {
                    name: name.clone(),
                    operation: Some(op),
                    loa: Some(crate::profile::Loa {
                        level,
                        extension: None,
                    }),
                    sscd: Some(if split { Sscd::Server } else { Sscd::Sim }),
                    query: q,
                }
            })
            .collect()
    }

    fn op_profiles(&self, id: u32) -> Answer {
        let mut a = Answer::new(id, ResultCode::Ok);
        for slot in &self.state.keys {
            for p in self.key_profiles(slot) {
                let s = p.to_string();
                if !a.profiles.contains(&s) {
                    a.profiles.push(s);
                }
            }
        }
        a
    }

    fn op_key_list(&self, id: u32) -> Answer {
        let mut a = Answer::new(id, ResultCode::Ok);
        a.keys = self
            .state
            .keys
            .iter()
            .map(|k| KeyInfo {
                key: k.id,
                group: k.group,
                algorithm: k.algorithm,
                usage: k.usage,
                flags: u8::from(k.cert.is_some()),
            })
            .collect();
        a
    }

    fn op_group_set(&mut self, req: &Request, sink: &mut dyn StateSink) -> Result<Answer, Answer> {
        let id = req.id;
        let g = req
            .group
            .ok_or_else(|| bad(id, 0x82, "key group missing"))?;
        if req.texts.is_empty() {
            return Err(bad(id, 0x97, "no texts given"));
        }
        for t in &req.texts {
            // Shown as a DISPLAY TEXT title or a GET INPUT prompt: each must fit one command.
            let as_input = Interaction::Input {
                prompt: t.text.clone(),
                hidden: true,
                digits: true,
                min: self.config.pin_min,
                max: self.config.pin_max,
            };
            let as_display = Interaction::Display {
                text: t.text.clone(),
                confirm: true,
            };
            for i in [as_input, as_display] {
                shown::check_interaction(&i, self.config.ucs2_display)
                    .map_err(|e| bad(id, 0x97, e.to_string()))?;
            }
        }
        self.ensure_group(g);
        let gi = self
            .group_index(g)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        let grp = self
            .state
            .groups
            .get_mut(gi)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        let mut texts = grp.texts.clone();
        for t in &req.texts {
            texts.retain(|x| !(x.lang == t.lang && x.kind == t.kind));
            texts.push(t.clone());
        }
        let mut langs: Vec<[u8; 2]> = texts.iter().map(|t| t.lang).collect();
        langs.sort_unstable();
        langs.dedup();
        if langs.len() > MAX_LANGUAGES {
            return Err(bad(
                id,
                0x97,
                "a key group holds texts in at most 4 languages",
            ));
        }
        grp.texts = texts;
        sink.persist(&self.state);
        Ok(Answer::new(id, ResultCode::Ok))
    }

    fn op_get_more(&mut self, o: Origin, req: &Request) -> Step {
        let id = o.id;
        let Some(target) = req.target else {
            return self.finish(o, bad(id, 0x91, "target request id missing"));
        };
        let Some(offset) = req.offset else {
            return self.finish(o, bad(id, 0x90, "offset missing"));
        };
        let Some((pid, msg)) = self.pending.as_ref().filter(|(p, _)| *p == target) else {
            return self.finish(
                Origin { nonce: None, ..o },
                err(id, ResultCode::NoPendingData),
            );
        };
        let (pid, offset) = (*pid, usize::from(offset));
        if offset == 0 || offset >= msg.len() {
            return self.finish(
                Origin { nonce: None, ..o },
                bad(id, 0x90, "offset outside the pending answer"),
            );
        }
        match protocol::answer_part(pid, msg, offset, o.max) {
            // The pending answer stays until the next request, so a lost PoR can be fetched again.
            Some(part) => Step::Answer(part),
            None => self.finish(
                Origin { nonce: None, ..o },
                bad(id, 0x90, "offset outside the pending answer"),
            ),
        }
    }

    fn choose_key(&self, req: &Request, op: Operation) -> Result<usize, Answer> {
        let id = req.id;
        let wanted = match &req.profile {
            Some(p) => Some(Profile::parse(p).map_err(|e| bad(id, 0x92, e.to_string()))?),
            None => None,
        };
        if let Some(w) = wanted.as_ref().and_then(|w| w.operation) {
            if w != op {
                let mut a = err(id, ResultCode::ProfileMismatch);
                a.field = Some(0x92);
                a.reason = Some(format!(
                    "profile operation `{}` is not the operation requested (`{}`)",
                    w.as_str(),
                    op.as_str()
                ));
                return Err(a);
            }
        }
        let fits = |slot: &KeySlot| match &wanted {
            None => true,
            Some(w) => {
                let w = Profile {
                    operation: w.operation.or(Some(op)),
                    ..w.clone()
                };
                self.key_profiles(slot)
                    .iter()
                    .any(|p| w.accepts(p, MatchMode::Minimum))
            }
        };
        match req.key {
            Some(k) => {
                let ki = self
                    .key_index(k)
                    .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
                let slot = self
                    .state
                    .keys
                    .get(ki)
                    .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
                if !fits(slot) {
                    return Err(err(id, ResultCode::UnsupportedProfile));
                }
                Ok(ki)
            }
            None if wanted.is_some() => self
                .state
                .keys
                .iter()
                .position(fits)
                .ok_or_else(|| err(id, ResultCode::UnsupportedProfile)),
            None => Err(bad(id, 0x83, "key id (or profile) missing")),
        }
    }

    /// Validate a SIGN/DECRYPT/POP request; returns (group index, work, PIN needed, text to show).
    fn prepare_work(
        &mut self,
        op: OpCode,
        req: &Request,
    ) -> Result<(usize, Work, bool, String), Answer> {
        let id = req.id;
        let lang = req.language.unwrap_or(self.state.language);
        let mode = req.mode.unwrap_or(SignMode::Text);
        let profile_op = match (op, mode) {
            (OpCode::Decrypt, _) => Operation::Encrypt,
            (OpCode::Pop, _) => Operation::Pop,
            (_, SignMode::Digest) => Operation::Digest,
            (_, SignMode::Consent) => Operation::Consent,
            (_, SignMode::Authn) => Operation::Authn,
            _ => Operation::Sign,
        };
        let ki = self.choose_key(req, profile_op)?;
        let slot = self
            .state
            .keys
            .get(ki)
            .ok_or_else(|| err(id, ResultCode::KeyNotFound))?;
        let gi = self
            .group_index(slot.group)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        let u = slot.usage;
        let split = u & usage::SPLIT != 0;
        let rsa = matches!(
            slot.algorithm,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072
        );
        let key_id = slot.id;
        let need_usage = |bit: u8, what: &str| {
            if u & bit != 0 {
                Ok(())
            } else {
                let mut a = err(id, ResultCode::UsageNotAllowed);
                a.reason = Some(format!(
                    "key {key_id} has usage {u:#04x}: not usable for {what} (usages are fixed at KEYGEN)"
                ));
                Err(a)
            }
        };
        let max_chars = self.config.max_display_chars;
        let ucs2 = self.config.ucs2_display;
        // The confirmation the user will see must fit one DISPLAY TEXT (crate::shown).
        let fits_display = |t: &str, tag: u8| -> Result<(), Answer> {
            let i = Interaction::Display {
                text: t.to_string(),
                confirm: true,
            };
            shown::check_interaction(&i, ucs2).map_err(|e| bad(id, tag, e.to_string()))
        };
        let display_of = |def: Msg| -> Result<String, Answer> {
            let t = req
                .display
                .clone()
                .unwrap_or_else(|| text(lang, def).to_string());
            if t.is_empty() || t.chars().count() > max_chars {
                return Err(bad(
                    id,
                    0x89,
                    format!("display text must be 1..{max_chars} characters"),
                ));
            }
            shown::check_text(&t).map_err(|e| bad(id, 0x89, e.to_string()))?;
            fits_display(&t, 0x89)?;
            Ok(t)
        };
        match op {
            OpCode::Decrypt => {
                need_usage(usage::DECRYPT, "decryption")?;
                let scheme = req.scheme.unwrap_or(Scheme::RsaPkcs1v15Decrypt);
                if !matches!(scheme, Scheme::RsaPkcs1v15Decrypt | Scheme::RsaOaepSha256)
                    || split
                    || !rsa
                {
                    return Err(err(id, ResultCode::UnsupportedProfile));
                }
                let ct = req
                    .data
                    .clone()
                    .ok_or_else(|| bad(id, 0x88, "ciphertext missing"))?;
                if ct.is_empty() || ct.len() > 384 {
                    return Err(bad(id, 0x88, "ciphertext length does not fit the key"));
                }
                let t = display_of(Msg::ConfirmDecrypt)?;
                Ok((
                    gi,
                    Work::Decrypt {
                        key: ki,
                        scheme,
                        ct,
                    },
                    true,
                    t,
                ))
            }
            OpCode::Pop => {
                need_usage(usage::SIGN, "a certification request (POP)")?;
                if split {
                    return Err(err(id, ResultCode::UnsupportedProfile));
                }
                let subject = req
                    .data
                    .clone()
                    .ok_or_else(|| bad(id, 0x88, "subject Name missing"))?;
                let name = x509_cert::name::Name::from_der(&subject)
                    .map_err(|_| bad(id, 0x88, "subject is not a DER Name"))?;
                let hash = req
                    .hash
                    .unwrap_or(if slot.algorithm == KeyAlgorithm::EcP384 {
                        HashAlg::Sha384
                    } else {
                        HashAlg::Sha256
                    });
                if hash.digest_len().is_none() {
                    return Err(bad(id, 0x86, "unknown hash"));
                }
                let t = match &req.display {
                    Some(_) => display_of(Msg::ConfirmPop)?,
                    None => {
                        let s = format!("{}\n{}", text(lang, Msg::ConfirmPop), name);
                        let s: String = s.chars().take(max_chars).collect();
                        fits_display(&s, 0x88)?;
                        s
                    }
                };
                Ok((
                    gi,
                    Work::Pop {
                        key: ki,
                        hash,
                        subject,
                    },
                    true,
                    t,
                ))
            }
            _ => {
                let (need, pin, what) = match mode {
                    SignMode::Text => (usage::SIGN, true, "signing a text"),
                    SignMode::Digest => (usage::SIGN, true, "signing a digest"),
                    SignMode::Authn => (usage::AUTHN, true, "authentication"),
                    SignMode::Consent => (usage::CONSENT, false, "consent"),
                    SignMode::Unknown(_) => return Err(bad(id, 0x87, "unknown sign mode")),
                };
                need_usage(need, what)?;
                let default_scheme = if rsa {
                    Scheme::RsaPkcs1v15
                } else {
                    Scheme::Ecdsa
                };
                let scheme = req.scheme.unwrap_or(default_scheme);
                let scheme_ok = match scheme {
                    Scheme::RsaPkcs1v15 => rsa,
                    Scheme::RsaPss => rsa && !split,
                    Scheme::Ecdsa => !rsa,
                    _ => false,
                };
                if !scheme_ok {
                    return Err(err(id, ResultCode::UnsupportedProfile));
                }
                let hash = req.hash.unwrap_or(HashAlg::Sha256);
                let hlen = hash
                    .digest_len()
                    .ok_or_else(|| bad(id, 0x86, "unknown hash"))?;
                let data = req
                    .data
                    .as_deref()
                    .ok_or_else(|| bad(id, 0x88, "data missing"))?;
                // What is signed carries the mode (domain separation, PROTOCOL.md §5.3).
                let signed = protocol::signed_message(mode, data);
                let (digest, shown) = match mode {
                    SignMode::Text | SignMode::Consent => {
                        let t = std::str::from_utf8(data)
                            .map_err(|_| bad(id, 0x88, "text is not valid UTF-8"))?;
                        if t.is_empty() || t.chars().count() > max_chars {
                            return Err(bad(
                                id,
                                0x88,
                                format!(
                                    "text must be 1..{max_chars} characters (it is shown whole)"
                                ),
                            ));
                        }
                        shown::check_text(t).map_err(|e| bad(id, 0x88, e.to_string()))?;
                        fits_display(t, 0x88)?;
                        let d = keys::digest(hash, &signed)
                            .map_err(|_| bad(id, 0x86, "unknown hash"))?;
                        (d, t.to_string())
                    }
                    SignMode::Digest => {
                        if data.len() != hlen {
                            return Err(bad(id, 0x88, "digest length does not match the hash"));
                        }
                        if req.display.is_none() {
                            return Err(bad(id, 0x89, "display text missing for digest mode"));
                        }
                        let t = display_of(Msg::ConfirmAuthn)?;
                        let d = keys::digest(hash, &signed)
                            .map_err(|_| bad(id, 0x86, "unknown hash"))?;
                        (d, t)
                    }
                    _ => {
                        if data.is_empty() || data.len() > 256 {
                            return Err(bad(id, 0x88, "challenge must be 1..256 bytes"));
                        }
                        let d = keys::digest(hash, &signed)
                            .map_err(|_| bad(id, 0x86, "unknown hash"))?;
                        (d, display_of(Msg::ConfirmAuthn)?)
                    }
                };
                Ok((
                    gi,
                    Work::Sign {
                        key: ki,
                        scheme,
                        hash,
                        digest: Zeroizing::new(digest),
                    },
                    pin,
                    shown,
                ))
            }
        }
    }

    fn check_pin_usable(&self, id: u32, gi: usize, needs_pin: bool) -> Result<(), Answer> {
        if !needs_pin {
            return Ok(());
        }
        let g = self
            .state
            .groups
            .get(gi)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        match &g.pin {
            None => Err(err(id, ResultCode::NotActivated)),
            Some(p) if p.blocked() => Err(err(id, ResultCode::PinBlocked)),
            Some(_) => Ok(()),
        }
    }

    fn pin_prompt(&self, gi: usize, lang: [u8; 2], m: Msg) -> Interaction {
        let group_text = if m == Msg::EnterPin {
            self.state.groups.get(gi).and_then(|g| g.text(lang, 2))
        } else {
            None
        };
        let prompt = group_text.unwrap_or(text(lang, m)).to_string();
        let puk = m == Msg::EnterPuk;
        Interaction::Input {
            prompt,
            hidden: true,
            digits: true,
            min: if puk { 8 } else { self.config.pin_min },
            max: if puk { 8 } else { self.config.pin_max },
        }
    }

    /// Decrement-persist-compare (see the module docs). `puk` selects the PUK.
    fn verify_secret(
        &mut self,
        id: u32,
        gi: usize,
        candidate: &[u8],
        puk: bool,
        sink: &mut dyn StateSink,
    ) -> Result<(), Answer> {
        let g = self
            .state
            .groups
            .get_mut(gi)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        let s = if puk { g.puk.as_mut() } else { g.pin.as_mut() };
        let s = s.ok_or_else(|| err(id, ResultCode::NotActivated))?;
        if s.blocked() {
            return Err(err(
                id,
                if puk {
                    ResultCode::PukBlocked
                } else {
                    ResultCode::PinBlocked
                },
            ));
        }
        // Decrement and make it durable first; only then look at the candidate.
        s.tries_left = s.tries_left.saturating_sub(1);
        sink.persist(&self.state);
        let g = self
            .state
            .groups
            .get_mut(gi)
            .ok_or_else(|| err(id, ResultCode::InternalError))?;
        let s = if puk { g.puk.as_mut() } else { g.pin.as_mut() };
        let s = s.ok_or_else(|| err(id, ResultCode::InternalError))?;
        if s.matches(candidate) {
            s.tries_left = s.max_tries;
            sink.persist(&self.state);
            Ok(())
        } else {
            let mut a = err(
                id,
                if puk {
                    ResultCode::PukWrong
                } else {
                    ResultCode::PinWrong
                },
            );
            a.tries_left = Some(s.tries_left);
            Err(a)
        }
    }

    fn op_pin(&mut self, o: Origin, req: &Request) -> Step {
        let id = o.id;
        let Some(pin_op) = req.pin_op else {
            return self.finish(o, bad(id, 0x8C, "PIN operation missing"));
        };
        let Some(g) = req.group else {
            return self.finish(o, bad(id, 0x82, "key group missing"));
        };
        if let PinOp::Activate = pin_op {
            self.ensure_group(g);
        }
        let Some(gi) = self.group_index(g) else {
            return self.finish(o, err(id, ResultCode::KeyNotFound));
        };
        self.start_pin_flow(o, gi, pin_op)
    }

    fn start_pin_flow(&mut self, o: Origin, gi: usize, pin_op: PinOp) -> Step {
        let id = o.id;
        let o = Origin {
            menu_op: Some(pin_op),
            ..o
        };
        let Some(grp) = self.state.groups.get(gi) else {
            return self.finish(o, err(id, ResultCode::InternalError));
        };
        let stage = match pin_op {
            PinOp::Status => {
                let Some(pin) = &grp.pin else {
                    return self.finish(o, err(id, ResultCode::NotActivated));
                };
                let mut a = Answer::new(id, ResultCode::Ok);
                a.pin_tries = Some(pin.tries_left);
                a.puk_tries = grp.puk.as_ref().map(|p| p.tries_left);
                return self.finish(o, a);
            }
            PinOp::Activate => {
                if grp.pin.is_some() {
                    let mut a = err(id, ResultCode::StorageFull);
                    a.reason = Some("PIN already activated".into());
                    return self.end_with(o, a);
                }
                Stage::NewPin { activate: true }
            }
            PinOp::Change => match &grp.pin {
                None => return self.end_with(o, err(id, ResultCode::NotActivated)),
                Some(p) if p.blocked() => return self.end_with(o, err(id, ResultCode::PinBlocked)),
                Some(_) => Stage::ChangeOld,
            },
            PinOp::Unblock => match &grp.puk {
                None => return self.end_with(o, err(id, ResultCode::NotActivated)),
                Some(p) if p.blocked() => return self.end_with(o, err(id, ResultCode::PukBlocked)),
                Some(_) => Stage::UnblockPuk,
            },
            PinOp::Unknown(_) => return self.end_with(o, bad(id, 0x8C, "unknown PIN operation")),
        };
        let prompt = match stage {
            Stage::ChangeOld => self.pin_prompt(gi, o.lang, Msg::OldPin),
            Stage::UnblockPuk => self.pin_prompt(gi, o.lang, Msg::EnterPuk),
            _ => self.pin_prompt(gi, o.lang, Msg::NewPin),
        };
        self.flow = Some(Flow {
            origin: o,
            group: gi,
            work: None,
            stage,
        });
        Step::Interact(prompt)
    }

    /// End a session with an answer (OTA) or by showing its meaning (menu).
    fn end_with(&mut self, o: Origin, a: Done) -> Step {
        if !o.menu {
            return self.finish(o, a);
        }
        self.menu_result = Some(a.result);
        let msg = match a.result {
            ResultCode::Ok => text(
                o.lang,
                match o.menu_op {
                    Some(PinOp::Activate) => Msg::PinActivated,
                    Some(PinOp::Unblock) => Msg::PinUnblocked,
                    _ => Msg::PinChanged,
                },
            )
            .to_string(),
            ResultCode::NothingEntered => text(o.lang, Msg::NothingEntered).to_string(),
            ResultCode::PinWrong => format!(
                "{} {}",
                text(o.lang, Msg::WrongPin),
                a.tries_left.unwrap_or(0)
            ),
            ResultCode::PukWrong => format!(
                "{} {}",
                text(o.lang, Msg::WrongPuk),
                a.tries_left.unwrap_or(0)
            ),
            ResultCode::PinBlocked | ResultCode::PukBlocked => {
                text(o.lang, Msg::PinBlocked).to_string()
            }
            ResultCode::PinMismatch => text(o.lang, Msg::PinMismatch).to_string(),
            ResultCode::UserCancelled | ResultCode::NoResponse => {
                self.flow = None;
                return Step::Done;
            }
            _ => text(o.lang, Msg::NotAvailable).to_string(),
        };
        self.flow = Some(Flow {
            origin: o,
            group: 0,
            work: None,
            stage: Stage::MenuEnd,
        });
        Step::Interact(Interaction::Display {
            text: msg,
            confirm: false,
        })
    }

    /// Continue the session with the outcome of the last interaction.
    pub fn resume<R: CryptoRng + ?Sized>(
        &mut self,
        result: UserResult,
        rng: &mut R,
        sink: &mut dyn StateSink,
    ) -> Step {
        let Some(flow) = self.flow.take() else {
            return Step::Done;
        };
        let o = flow.origin;
        let id = o.id;
        let gi = flow.group;
        let aborted = !matches!(
            result,
            UserResult::Ok | UserResult::Input(_) | UserResult::Selected(_)
        );
        match flow.stage {
            Stage::MenuEnd => Step::Done,
            Stage::ShowPuk { puk } => {
                // The PIN and PUK are already stored; the answer reports success whatever the
                // user did with the PUK display.
                let mut a = Answer::new(id, ResultCode::Ok);
                if o.nonce.is_some() {
                    a.puk = Some(puk);
                }
                self.end_with(o, a)
            }
            _ if aborted => self.end_with(o, user_abort(id, &result)),
            Stage::Confirm { pin } => {
                if !matches!(result, UserResult::Ok) {
                    return self.end_with(o, user_abort(id, &UserResult::Cancelled));
                }
                if pin {
                    let prompt = self.pin_prompt(gi, o.lang, Msg::EnterPin);
                    self.flow = Some(Flow {
                        stage: Stage::Pin,
                        ..flow
                    });
                    return Step::Interact(prompt);
                }
                let a = self.do_work(id, flow.work, rng);
                self.finish(o, a)
            }
            Stage::Pin => {
                let UserResult::Input(pin) = result else {
                    return self.finish(o, user_abort(id, &UserResult::Cancelled));
                };
                if pin.is_empty() {
                    // An empty entry is no attempt: no try is used.
                    return self.finish(o, err(id, ResultCode::NothingEntered));
                }
                if let Err(a) = self.verify_secret(id, gi, pin.as_bytes(), false, sink) {
                    return self.finish(o, a);
                }
                let a = self.do_work(id, flow.work, rng);
                self.finish(o, a)
            }
            Stage::ChangeOld | Stage::UnblockPuk => {
                let puk = matches!(flow.stage, Stage::UnblockPuk);
                let UserResult::Input(v) = result else {
                    return self.end_with(o, user_abort(id, &UserResult::Cancelled));
                };
                if v.is_empty() {
                    return self.end_with(o, err(id, ResultCode::NothingEntered));
                }
                if let Err(a) = self.verify_secret(id, gi, v.as_bytes(), puk, sink) {
                    return self.end_with(o, a);
                }
                let prompt = self.pin_prompt(gi, o.lang, Msg::NewPin);
                self.flow = Some(Flow {
                    origin: o,
                    group: gi,
                    work: None,
                    stage: Stage::NewPin { activate: false },
                });
                Step::Interact(prompt)
            }
            Stage::NewPin { activate } => {
                let UserResult::Input(v) = result else {
                    return self.end_with(o, user_abort(id, &UserResult::Cancelled));
                };
                let ok_format = v.len() >= usize::from(self.config.pin_min)
                    && v.len() <= usize::from(self.config.pin_max)
                    && v.bytes().all(|b| b.is_ascii_digit());
                if !ok_format {
                    return self.end_with(o, err(id, ResultCode::PinMismatch));
                }
                let prompt = self.pin_prompt(gi, o.lang, Msg::RepeatPin);
                let new = Zeroizing::new(v.as_bytes().to_vec());
                self.flow = Some(Flow {
                    origin: o,
                    group: gi,
                    work: None,
                    stage: Stage::RepeatPin { new, activate },
                });
                Step::Interact(prompt)
            }
            Stage::RepeatPin { new, activate } => {
                let UserResult::Input(v) = result else {
                    return self.end_with(o, user_abort(id, &UserResult::Cancelled));
                };
                if !Secret::new(&new, 1).matches(v.as_bytes()) {
                    return self.end_with(o, err(id, ResultCode::PinMismatch));
                }
                let (pin_tries, puk_tries) = (self.config.pin_tries, self.config.puk_tries);
                let puk = activate.then(|| random_digits(rng, 8));
                let Some(g) = self.state.groups.get_mut(gi) else {
                    return self.end_with(o, err(id, ResultCode::InternalError));
                };
                g.pin = Some(Secret::new(&new, pin_tries));
                if let Some(p) = &puk {
                    g.puk = Some(Secret::new(p.as_bytes(), puk_tries));
                }
                sink.persist(&self.state);
                match puk {
                    Some(puk) => {
                        let shown = format!("{}\n{}", text(o.lang, Msg::YourPuk), puk.as_str());
                        self.flow = Some(Flow {
                            origin: o,
                            group: gi,
                            work: None,
                            stage: Stage::ShowPuk { puk },
                        });
                        Step::Interact(Interaction::Display {
                            text: shown,
                            confirm: true,
                        })
                    }
                    None => self.end_with(o, Answer::new(id, ResultCode::Ok)),
                }
            }
            Stage::MenuGroup { item, groups } => {
                let UserResult::Selected(i) = result else {
                    return Step::Done;
                };
                let Some(g) = usize::from(i)
                    .checked_sub(1)
                    .and_then(|i| groups.get(i))
                    .copied()
                else {
                    return Step::Done;
                };
                let Some(gi) = self.group_index(g) else {
                    return Step::Done;
                };
                self.start_pin_flow(o, gi, menu_pin_op(item))
            }
            Stage::MenuTop => match result {
                UserResult::Selected(i) => self.menu_select(i),
                _ => Step::Done,
            },
            Stage::MenuLanguage => {
                let UserResult::Selected(i) = result else {
                    return Step::Done;
                };
                if let Some((l, _)) = usize::from(i).checked_sub(1).and_then(|i| LANGUAGES.get(i)) {
                    self.state.language = *l;
                    sink.persist(&self.state);
                }
                Step::Done
            }
        }
    }

    fn do_work<R: CryptoRng + ?Sized>(
        &mut self,
        id: u32,
        work: Option<Work>,
        rng: &mut R,
    ) -> Answer {
        let Some(work) = work else {
            return err(id, ResultCode::InternalError);
        };
        let (ki, r) = match &work {
            Work::Sign {
                key,
                scheme,
                hash,
                digest,
            } => {
                let r = self.loaded(*key).map_err(|c| err(id, c)).and_then(|k| {
                    k.sign_digest(*scheme, *hash, digest, rng)
                        .map_err(|e| key_error(id, &e))
                });
                (*key, r.map(|s| (Some(s), None, None)))
            }
            Work::Decrypt { key, scheme, ct } => {
                let r = self
                    .loaded(*key)
                    .map_err(|c| err(id, c))
                    .and_then(|k| k.decrypt(*scheme, ct, rng).map_err(|e| key_error(id, &e)));
                (*key, r.map(|p| (Some(p.to_vec()), None, None)))
            }
            Work::Pop { key, hash, subject } => {
                let spki = self
                    .state
                    .keys
                    .get(*key)
                    .map(|s| s.spki.clone())
                    .unwrap_or_default();
                let r = self.loaded(*key).map_err(|c| err(id, c)).and_then(|k| {
                    keys::make_csr(k, &spki, subject, *hash, rng).map_err(|e| key_error(id, &e))
                });
                (*key, r.map(|c| (None, Some(c), None::<()>)))
            }
        };
        match r {
            Ok((out, csr, _)) => {
                let mut a = Answer::new(id, ResultCode::Ok);
                a.output = out;
                a.csr = csr;
                a.key = self.state.keys.get(ki).map(|s| s.id);
                a
            }
            Err(a) => a,
        }
    }

    /// The SIM menu (SET UP MENU): title and item texts in the current language.
    pub fn menu(&self) -> (String, Vec<String>) {
        let l = self.state.language;
        (
            text(l, Msg::MenuTitle).to_string(),
            [
                Msg::MenuChange,
                Msg::MenuUnblock,
                Msg::MenuActivate,
                Msg::MenuLanguage,
            ]
            .iter()
            .map(|m| text(l, *m).to_string())
            .collect(),
        )
    }

    /// The user chose the applet's single SET UP MENU entry: offer the menu (SELECT ITEM with
    /// the items of [`WpkiApplet::menu`]); the choice continues in [`WpkiApplet::resume`].
    pub fn menu_start(&mut self) -> Step {
        self.menu_result = None;
        let (title, items) = self.menu();
        let o = Origin {
            id: 0,
            nonce: None,
            max: usize::from(DEFAULT_MAX_ANSWER),
            lang: self.state.language,
            menu: true,
            menu_op: None,
        };
        self.flow = Some(Flow {
            origin: o,
            group: 0,
            work: None,
            stage: Stage::MenuTop,
        });
        Step::Interact(Interaction::Select { title, items })
    }

    /// The user chose menu item `item` (numbered from 1, as in ENVELOPE MENU SELECTION).
    pub fn menu_select(&mut self, item: u8) -> Step {
        self.flow = None;
        self.menu_result = None;
        let lang = self.state.language;
        let o = Origin {
            id: 0,
            nonce: None,
            max: usize::from(DEFAULT_MAX_ANSWER),
            lang,
            menu: true,
            menu_op: None,
        };
        if item == 4 {
            self.flow = Some(Flow {
                origin: o,
                group: 0,
                work: None,
                stage: Stage::MenuLanguage,
            });
            return Step::Interact(Interaction::Select {
                title: text(lang, Msg::MenuLanguage).to_string(),
                items: LANGUAGES.iter().map(|(_, n)| n.to_string()).collect(),
            });
        }
        if !(1..=3).contains(&item) {
            return Step::Done;
        }
        let eligible: Vec<u8> = self
            .state
            .groups
            .iter()
            .filter(|g| match item {
                1 => g.pin.as_ref().is_some_and(|p| !p.blocked()),
                2 => g.puk.as_ref().is_some_and(|p| !p.blocked()),
                _ => g.pin.is_none(),
            })
            .map(|g| g.id)
            .collect();
        match eligible.as_slice() {
            [] => self.end_with(o, err(0, ResultCode::NotActivated)),
            [g] => match self.group_index(*g) {
                Some(gi) => self.start_pin_flow(o, gi, menu_pin_op(item)),
                None => Step::Done,
            },
            _ => {
                let items = eligible
                    .iter()
                    .map(|g| {
                        let grp = self.group_index(*g).and_then(|i| self.state.groups.get(i));
                        grp.and_then(|x| x.text(lang, 1))
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("{} {}", text(lang, Msg::Group), g))
                    })
                    .collect();
                self.flow = Some(Flow {
                    origin: o,
                    group: 0,
                    work: None,
                    stage: Stage::MenuGroup {
                        item,
                        groups: eligible,
                    },
                });
                Step::Interact(Interaction::Select {
                    title: text(lang, Msg::ChooseGroup).to_string(),
                    items,
                })
            }
        }
    }
}

fn menu_pin_op(item: u8) -> PinOp {
    match item {
        1 => PinOp::Change,
        2 => PinOp::Unblock,
        _ => PinOp::Activate,
    }
}

fn key_error(id: u32, e: &keys::KeyError) -> Answer {
    match e {
        keys::KeyError::Unsupported(_) => err(id, ResultCode::UnsupportedProfile),
        keys::KeyError::BadInput(r) => bad(id, 0x88, *r),
        keys::KeyError::Crypto(_) => {
            let mut a = err(id, ResultCode::InternalError);
            a.reason = Some("operation failed".into());
            a
        }
    }
}

fn proto_error_answer(id: u32, e: &ProtoError) -> Answer {
    if e.is_security() {
        let mut a = err(id, ResultCode::SecurityError);
        a.reason = Some(e.to_string());
        return a;
    }
    let mut a = err(id, ResultCode::BadRequest);
    a.field = e.field();
    a.reason = Some(e.to_string());
    a
}
