//! `simota wpki …`: the MSSP-side client of the WPKI mobile-signature applet (crate `wpki`,
//! protocol in `crates/wpki/PROTOCOL.md`), plus offline tools (`profiles parse|match`,
//! `split-keygen`).
//!
//! Delivery: `--applet-state FILE` runs the applet in process over a state image (created on
//! first use) with a scripted user; `--state S` (the built-in card, key set 1 of its profile,
//! counter from its NV state) and `--reader R` (any PC/SC card, keys and counter from
//! `--keyset-file F --keyset NAME [--counter N] [--tar T]`) both deliver SCP80 (TS 102 225)
//! SMS-PP to the applet's TAR through the terminal simulator, over a `transport::Transport`.

use crate::error::{hex_arg, CliError};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use wpki::applet::{AppletConfig, Interaction, Step};
use wpki::client::{self, ClientError, DirectCard, FileSink, UserAction};
use wpki::profile::{MatchMode, Profile};
use wpki::protocol::{
    self, E2eKey, HashAlg, KeyAlgorithm, OpCode, PinOp, Request, Scheme, SignMode,
};
use wpki::state::WpkiState;
use wpki::zeroize::Zeroizing;

/// `simota wpki …`
#[derive(Debug, Args)]
pub struct WpkiArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: WpkiCmd,
}

#[derive(Debug, Args)]
struct Common {
    /// Run the applet in process over this state image (created if missing).
    #[arg(long, global = true, value_name = "FILE")]
    applet_state: Option<PathBuf>,
    /// PC/SC reader of a real card (OTA via the terminal simulator); needs --keyset-file/--keyset.
    #[arg(long, global = true, value_name = "R")]
    reader: Option<String>,
    /// --reader: TOML keyset file (format of `simota ota build --keyset-file`).
    #[arg(long, global = true, value_name = "F", requires = "keyset")]
    keyset_file: Option<String>,
    /// --reader: the OTA key set (KIc/KID) in --keyset-file.
    #[arg(long, global = true, value_name = "NAME", requires = "keyset_file")]
    keyset: Option<String>,
    /// --reader: CNTR of the first message. The card only accepts counters above the last it
    /// saw: pass the `next --counter` printed [default: the counter file's, else the keyset
    /// file's counter]
    #[arg(long, global = true, value_name = "N")]
    counter: Option<String>,
    /// --reader: file holding the next CNTR, read first and written back (atomically) after
    /// each message [default: the keyset's `counter_file`, if any]
    #[arg(long, global = true, value_name = "PATH")]
    counter_file: Option<PathBuf>,
    /// TAR of the WPKI applet for --reader/--state, hex [default: BFFF57]
    #[arg(long, global = true, value_name = "HEX")]
    tar: Option<String>,
    /// Emulated card state file (OTA via the terminal simulator).
    #[arg(long, global = true, value_name = "S")]
    state: Option<PathBuf>,
    /// End-to-end AES-128 key (32 hex digits); personalises a new --applet-state too.
    #[arg(long, global = true, value_name = "HEX")]
    e2e_key: Option<String>,
    /// Scripted user actions in order: ok, cancel, back, timeout, select:N, type:TEXT, digits.
    /// Replaces the default script of the subcommand.
    #[arg(long = "user", global = true, value_name = "ACTION")]
    user: Vec<String>,
    /// The PIN the scripted user types.
    #[arg(long, global = true, value_name = "PIN")]
    user_pin: Option<String>,
    /// Dialogue language (en, de, fr, es).
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<String>,
    /// Print every interaction the user saw.
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Alg {
    Rsa2048,
    Rsa3072,
    P256,
    P384,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum HashArg {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemeArg {
    Pkcs1,
    Pss,
    Ecdsa,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PinAction {
    Activate,
    Change,
    Unblock,
    Status,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Exact,
    Minimum,
    Better,
}

#[derive(Debug, Subcommand)]
enum WpkiCmd {
    /// Generate a key pair on the card; writes the public key (PEM).
    Keygen {
        #[arg(long, default_value_t = 0)]
        group: u8,
        #[arg(long)]
        key: u8,
        #[arg(long, value_enum)]
        alg: Alg,
        /// Comma-separated: sign, authn, decrypt, consent. Fixed for the key's life; each
        /// operation needs its usage (a sign key never signs an authn challenge or a consent).
        #[arg(long, default_value = "sign")]
        usage: String,
        /// Public key output (.pem or .der).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Proof of possession: a PKCS#10 request signed on the card after PIN entry.
    Pop {
        #[arg(long)]
        key: u8,
        /// Subject, RFC 4514 (`CN=Alice,O=Example,C=FI`).
        #[arg(long)]
        subject: String,
        #[arg(long, value_enum)]
        hash: Option<HashArg>,
        /// CSR output (.pem or .der).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Sign text (what you see is what you sign) or a digest.
    Sign(SignArgs),
    /// Authentication: sign a challenge after PIN entry.
    Authn {
        #[arg(long)]
        key: u8,
        /// Challenge in hex.
        #[arg(long)]
        challenge: String,
        #[arg(long)]
        display: Option<String>,
        /// Public key (PEM/DER) to verify with [default: read from the card]
        #[arg(long)]
        public: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Click-OK consent signature (no PIN).
    Consent {
        #[arg(long)]
        key: u8,
        #[arg(long)]
        text: String,
        #[arg(long)]
        public: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Decrypt an RSA ciphertext on the card after PIN entry.
    Decrypt {
        #[arg(long)]
        key: u8,
        /// Ciphertext file (raw bytes).
        #[arg(long = "in")]
        input: PathBuf,
        /// RSAES-OAEP-SHA256 instead of PKCS#1 v1.5.
        #[arg(long)]
        oaep: bool,
        #[arg(long)]
        display: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// PIN management of a key group.
    Pin {
        #[arg(value_enum)]
        action: PinAction,
        #[arg(long, default_value_t = 0)]
        group: u8,
        /// The new PIN (activate, change, unblock).
        #[arg(long)]
        new_pin: Option<String>,
        /// The PUK (unblock).
        #[arg(long)]
        puk: Option<String>,
    },
    /// Store or read the certificate of a key.
    Cert {
        /// put or get.
        action: String,
        #[arg(long)]
        key: u8,
        /// Certificate file (PEM or DER): read for put, written for get.
        #[arg(long)]
        file: PathBuf,
    },
    /// List the keys on the card.
    Keys,
    /// Signature profiles: list the card's (`profiles`), or `parse URI`, `match REQ OFFER`.
    Profiles {
        /// parse URI | match REQUEST OFFER (without: ask the card).
        args: Vec<String>,
        #[arg(long, value_enum, default_value = "minimum")]
        mode: ModeArg,
    },
    /// Make a split RSA key: public key and the server and card shares of the exponent.
    SplitKeygen {
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        #[arg(long)]
        public: PathBuf,
        #[arg(long)]
        server_share: PathBuf,
        #[arg(long)]
        card_share: PathBuf,
    },
    /// Load a split key's card share into the card (end-to-end protected).
    SplitPut {
        #[arg(long, default_value_t = 0)]
        group: u8,
        #[arg(long)]
        key: u8,
        #[arg(long)]
        card_share: PathBuf,
    },
    /// Run a SIM menu session (1 change PIN, 2 unblock, 3 activate, 4 language).
    Menu { item: u8 },
}

#[derive(Debug, Args)]
struct SignArgs {
    /// Key id (or use --profile).
    #[arg(long)]
    key: Option<u8>,
    /// Choose the key by signature profile (`mss::sign:loa3:sim`).
    #[arg(long)]
    profile: Option<String>,
    /// The text shown and signed.
    #[arg(long, conflicts_with = "digest")]
    text: Option<String>,
    /// A digest in hex (needs --display).
    #[arg(long)]
    digest: Option<String>,
    #[arg(long)]
    display: Option<String>,
    #[arg(long, value_enum)]
    hash: Option<HashArg>,
    #[arg(long, value_enum)]
    scheme: Option<SchemeArg>,
    /// Public key (PEM/DER) to verify with [default: read from the card]
    #[arg(long)]
    public: Option<PathBuf>,
    /// Server share of a split key: combine the card's partial signature.
    #[arg(long)]
    split_share: Option<PathBuf>,
    /// Signature output (raw bytes).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn ce(e: ClientError) -> CliError {
    match e {
        ClientError::Card { .. } | ClientError::Verify(_) => CliError::failed(e.to_string()),
        _ => CliError::input(e.to_string()),
    }
}

fn hash_of(h: Option<HashArg>) -> Option<HashAlg> {
    h.map(|h| match h {
        HashArg::Sha256 => HashAlg::Sha256,
        HashArg::Sha384 => HashAlg::Sha384,
        HashArg::Sha512 => HashAlg::Sha512,
    })
}

fn write_out(path: &PathBuf, label: &str, der: &[u8]) -> Result<(), CliError> {
    let pem = path.extension().is_some_and(|e| e == "pem");
    let bytes = if pem {
        client::to_pem(label, der).map_err(ce)?.into_bytes()
    } else {
        der.to_vec()
    };
    std::fs::write(path, bytes).map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

type Direct = DirectCard<client::OsRng, FileSink>;

/// A card with the WPKI applet (the emulated built-in card, or a PC/SC reader) driven over OTA
/// by the terminal simulator with a scripted user.
struct OtaCard {
    card: Box<dyn transport::Transport>,
    term: terminal::Terminal,
    keys: ota::Keyset,
    tar: ota::Tar,
    /// The CNTR of the next message.
    next: u64,
    /// The counters the card accepted in this run (first, last).
    used: Option<(u64, u64)>,
    /// The CNTR to use next time, when known (after an accepted message, or a refused
    /// counter whose PoR gave the card's); `None` after a refusal that did not say.
    known_next: Option<u64>,
    /// `--counter-file` (or the keyset's `counter_file`): written after each message.
    counter_file: Option<PathBuf>,
    /// Texts shown by the phone: (role, text, action taken is not recorded by the terminal).
    shown: usize,
}

impl client::Exchange for OtaCard {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        let sent = self.next;
        let counter = ota::Counter::new(sent).map_err(|e| ClientError::Delivery(e.to_string()))?;
        let req = terminal::OtaRequest {
            keys: &self.keys,
            spi: ota::Spi::from_bytes([0x16, 0x39]),
            tar: self.tar,
            counter,
            data: msg.to_vec(),
            concat_ref: sent as u8,
        };
        let o = self
            .term
            .deliver_sms_pp(self.card.as_mut(), &req)
            .map_err(|e| ClientError::Delivery(e.to_string()))?;
        let por = o.por.ok_or_else(|| {
            ClientError::Delivery(format!("no PoR from the card (SW {:04X})", o.final_sw))
        })?;
        let p = por.packet.map_err(ClientError::Delivery)?;
        // The next CNTR from the PoR: above the one sent when accepted, above the card's own
        // when it refused the counter and said which it has (TS 102 225 response packet CNTR).
        let advice = terminal::counter_file::next_counter(counter, Some(p.status), Some(p.counter));
        self.known_next = advice.next.map(|c| c.value());
        if let Some(n) = advice.next {
            self.next = n.value();
            if let Some(f) = &self.counter_file {
                terminal::counter_file::write(f, n).map_err(ClientError::Delivery)?;
            }
        }
        if p.status != ota::ResponseStatus::PorOk {
            let hint = advice
                .hint(p.status, counter)
                .map(|h| format!(": {h}"))
                .unwrap_or_default();
            return Err(ClientError::Delivery(format!(
                "PoR status {:02X} ({}){hint}",
                p.status.to_byte(),
                p.status.short_name()
            )));
        }
        self.used = Some((self.used.map_or(sent, |(f, _)| f), sent));
        Ok(p.data)
    }
}

impl OtaCard {
    /// TERMINAL PROFILE, then ready to send `first` as the counter of the first message.
    fn start(
        mut card: Box<dyn transport::Transport>,
        keys: ota::Keyset,
        tar: ota::Tar,
        first: u64,
    ) -> Result<OtaCard, CliError> {
        let mut term = terminal::Terminal::default();
        term.terminal_profile(card.as_mut())
            .map_err(|e| CliError::transport(format!("TERMINAL PROFILE: {e}")))?;
        let shown = term.shown().len();
        Ok(OtaCard {
            card,
            term,
            keys,
            tar,
            next: first,
            used: None,
            known_next: Some(first),
            counter_file: None,
            shown,
        })
    }

    /// What to tell a `--reader` user about counters after the run: the ones the card
    /// accepted and the one to use next time (only when it is known; never a guess).
    fn counter_summary(&self) -> Option<String> {
        let used = self
            .used
            .map(|(f, l)| format!("OTA counters used: {f:#x}..={l:#x}; "))
            .unwrap_or_default();
        let next = match (self.known_next, &self.counter_file) {
            (Some(n), Some(f)) => format!("next counter {n:#x} (kept in {})", f.display()),
            (Some(n), None) => format!("next time pass --counter {n:#x}"),
            (None, _) if self.used.is_none() => return None,
            (None, _) => "the card did not say which counter it expects next".to_string(),
        };
        Some(format!("{used}{next}"))
    }
}

/// The `--reader` options of `simota wpki`, shared with `simota keyaudit --reader`.
pub(crate) struct ReaderOpts<'a> {
    pub reader: &'a str,
    pub keyset_file: Option<&'a str>,
    pub keyset: Option<&'a str>,
    pub counter: Option<&'a str>,
    pub counter_file: Option<&'a std::path::Path>,
    pub tar: Option<&'a str>,
}

/// The WPKI applet of a card reached over OTA (SCP80 SMS-PP through the terminal simulator):
/// what `simota wpki --reader` talks to, for other commands.
pub(crate) struct ReaderCard(OtaCard);

impl ReaderCard {
    /// Over any transport (a PC/SC reader, or the emulated card in tests), with the card's OTA
    /// key set, the applet's TAR and the first CNTR.
    pub(crate) fn over(
        card: Box<dyn transport::Transport>,
        keys: ota::Keyset,
        tar: ota::Tar,
        first: u64,
    ) -> Result<ReaderCard, CliError> {
        OtaCard::start(card, keys, tar, first).map(ReaderCard)
    }

    /// The counters used and the one to pass next time (see `simota wpki --reader`).
    pub(crate) fn counter_summary(&self) -> Option<String> {
        self.0.counter_summary()
    }
}

impl client::Exchange for ReaderCard {
    fn exchange(&mut self, msg: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.0.exchange(msg)
    }
}

/// A PC/SC reader's card with its keys and counter as `simota wpki --reader` takes them.
pub(crate) fn open_reader_card(o: &ReaderOpts<'_>) -> Result<ReaderCard, CliError> {
    let (Some(file), Some(name)) = (o.keyset_file, o.keyset) else {
        return Err(CliError::input(
            "--reader needs the card's OTA keys: --keyset-file F --keyset NAME",
        ));
    };
    let tar = match o.tar {
        Some(t) => crate::cmd_ota::tar_arg(t)?,
        None => ota::Tar(client::DEFAULT_TAR),
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::input(format!("--keyset-file {file}: {e}")))?;
    let f = ota::keyfile::KeysetFile::parse(&text)
        .map_err(|e| CliError::input(format!("{file}: {e}")))?;
    let n = f
        .get(name)
        .map_err(|e| CliError::input(format!("--keyset {name}: {e}")))?;
    let counter_file = crate::cmd_ota::counter_file_arg(o.counter_file, Some(file), Some(name))?;
    let counter =
        crate::cmd_ota::first_counter(o.counter, counter_file.as_deref(), Some(n.counter))?.value();
    let card = crate::cmd_run::open_reader(o.reader, "any", false)?;
    let mut rc = ReaderCard::over(card, n.keyset.clone(), tar, counter)?;
    rc.0.counter_file = counter_file;
    Ok(rc)
}

enum Card {
    Direct(Box<Direct>, usize),
    Ota(Box<OtaCard>),
}

impl Card {
    fn exchange(&mut self) -> &mut dyn client::Exchange {
        match self {
            Card::Direct(d, _) => d.as_mut(),
            Card::Ota(o) => o.as_mut(),
        }
    }
    fn script(&mut self, actions: Vec<UserAction>) {
        match self {
            Card::Direct(d, _) => d.script(actions),
            Card::Ota(o) => {
                for a in actions {
                    o.term.push_answer(match a {
                        UserAction::Ok => terminal::UserAnswer::Ok,
                        UserAction::Type(t) => terminal::UserAnswer::Text(t.to_string()),
                        UserAction::Select(n) => terminal::UserAnswer::Item(n),
                        UserAction::Cancel => terminal::UserAnswer::Cancel,
                        UserAction::Back => terminal::UserAnswer::Back,
                        UserAction::Timeout => terminal::UserAnswer::Timeout,
                    });
                }
            }
        }
    }
    /// Lines describing what the user saw since the last call.
    fn shown(&mut self) -> Vec<String> {
        match self {
            Card::Direct(d, seen) => {
                let from = d.shown.len().min(*seen);
                *seen = d.shown.len();
                d.shown[from..]
                    .iter()
                    .map(|s| {
                        let what = match &s.interaction {
                            Interaction::Display { text, confirm } => format!(
                                "DISPLAY TEXT{}: {:?}",
                                if *confirm { " (confirm)" } else { "" },
                                text
                            ),
                            Interaction::Input { prompt, hidden, .. } => format!(
                                "GET INPUT{}: {:?}",
                                if *hidden { " (hidden)" } else { "" },
                                prompt
                            ),
                            Interaction::Select { title, items } => {
                                format!("SELECT ITEM {title:?}: {items:?}")
                            }
                        };
                        format!("{what} -> {:?}", s.action)
                    })
                    .collect()
            }
            Card::Ota(o) => {
                let all = o.term.shown();
                let from = o.shown.min(all.len());
                o.shown = all.len();
                all[from..]
                    .iter()
                    .map(|s| format!("{:?} {:?}: {:?}", s.command, s.role, s.text))
                    .collect()
            }
        }
    }
}

struct Session {
    card: Card,
    client: client::Client,
    rng: client::OsRng,
    lang: Option<[u8; 2]>,
    verbose: bool,
    explicit_user: bool,
    has_key: bool,
    user: Vec<UserAction>,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Session {
    fn open(c: &Common) -> Result<Session, CliError> {
        if c.reader.is_none()
            && (c.keyset_file.is_some() || c.counter.is_some() || c.counter_file.is_some())
        {
            return Err(CliError::input(
                "--keyset-file/--keyset/--counter/--counter-file only apply to --reader (--state uses key set 1 of the built-in card)",
            ));
        }
        let key = match &c.e2e_key {
            Some(h) => {
                let b = hex_arg("--e2e-key", h)?;
                let k: [u8; 16] = b.try_into().map_err(|b: Vec<u8>| {
                    CliError::input(format!("--e2e-key: {} bytes, want 16", b.len()))
                })?;
                Some(E2eKey::new(k))
            }
            None => None,
        };
        let lang = match &c.lang {
            Some(l) => Some(
                <[u8; 2]>::try_from(l.as_bytes())
                    .map_err(|_| CliError::input(format!("--lang `{l}`: want 2 letters")))?,
            ),
            None => None,
        };
        let mut user = Vec::new();
        for u in &c.user {
            user.push(
                u.parse::<UserAction>()
                    .map_err(|e| CliError::input(format!("--user: {e}")))?,
            );
        }
        let explicit_user = !user.is_empty();
        let tar = match &c.tar {
            Some(t) => crate::cmd_ota::tar_arg(t)?,
            None => ota::Tar(client::DEFAULT_TAR),
        };
        let (card, first) = match (&c.applet_state, &c.state, &c.reader) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(CliError::input(
                    "give one of --applet-state, --state or --reader",
                ))
            }
            (None, None, Some(r)) => {
                let o = open_reader_card(&ReaderOpts {
                    reader: r,
                    keyset_file: c.keyset_file.as_deref(),
                    keyset: c.keyset.as_deref(),
                    counter: c.counter.as_deref(),
                    counter_file: c.counter_file.as_deref(),
                    tar: c.tar.as_deref(),
                })?;
                (
                    Card::Ota(Box::new(o.0)),
                    u32::try_from(now_secs()).unwrap_or(u32::MAX / 2),
                )
            }
            (Some(path), None, None) => {
                let sink = FileSink::new(path);
                let state = match sink.load().map_err(ce)? {
                    Some(s) => s,
                    None => WpkiState {
                        e2e_key: key.clone(),
                        ..WpkiState::default()
                    },
                };
                let first = u32::try_from(now_secs())
                    .unwrap_or(u32::MAX / 2)
                    .max(state.last_protected_id.saturating_add(1));
                let d = DirectCard::new(
                    state,
                    AppletConfig::default(),
                    client::os_rng().map_err(ce)?,
                    sink,
                );
                (Card::Direct(Box::new(d), 0), first)
            }
            (None, Some(path), None) => {
                // The built-in card (OS randomness), personalised with --e2e-key when new.
                let (card, _) = crate::card::build_card(&crate::card::CardSpec {
                    state: Some(path),
                    e2e_key: key.as_ref(),
                    ..Default::default()
                })?;
                // The OTA counter of key set 1 stored in the card: send above it.
                let stored = card.ota_counter(1).value();
                let last_id =
                    wpki::uicc_applet::stored_state(&card, wpki::uicc_applet::WPKI_INSTANCE_AID)
                        .map_or(0, |s| s.last_protected_id);
                // Key set 1 as the card holds it (the built-in profile's AES-128 keys, or what
                // PUT KEY replaced them with).
                let keys = card.ota_keyset(1).ok_or_else(|| {
                    CliError::input(format!("--state {}: no OTA key set 1", path.display()))
                })?;
                let emu = Box::new(transport::Emulator::new(card));
                let o = OtaCard::start(emu, keys, tar, stored.saturating_add(1))?;
                (
                    Card::Ota(Box::new(o)),
                    u32::try_from(now_secs())
                        .unwrap_or(u32::MAX / 2)
                        .max(last_id.saturating_add(1)),
                )
            }
            (None, None, None) => {
                return Err(CliError::input(
                    "no card: give --applet-state FILE, --state S or --reader R",
                ))
            }
        };
        let has_key = key.is_some();
        Ok(Session {
            card,
            client: client::Client::new(key, first),
            rng: client::os_rng().map_err(ce)?,
            lang,
            verbose: c.verbose,
            explicit_user,
            has_key,
            user,
        })
    }

    fn script(&mut self, actions: Vec<UserAction>) {
        if !self.explicit_user {
            self.card.script(actions);
        }
    }

    /// Queue the `--user` actions (once, before the first exchange).
    fn flush_user(&mut self) {
        let u = std::mem::take(&mut self.user);
        self.card.script(u);
    }

    fn call(&mut self, mut req: Request) -> Result<protocol::Answer, CliError> {
        self.flush_user();
        if req.language.is_none() {
            req.language = self.lang;
        }
        let r = self.client.call(self.card.exchange(), req, &mut self.rng);
        self.report()?;
        r.map_err(ce)
    }

    fn report(&mut self) -> Result<(), CliError> {
        for line in self.card.shown() {
            if self.verbose {
                println!("user saw {line}");
            }
        }
        if let Card::Direct(d, _) = &mut self.card {
            if let Some(e) = d.sink.error.take() {
                return Err(CliError::input(format!("applet state not saved: {e}")));
            }
        }
        Ok(())
    }

    fn pin(&self, c: &Common) -> Result<UserAction, CliError> {
        match &c.user_pin {
            Some(p) => Ok(UserAction::Type(Zeroizing::new(p.clone()))),
            None if self.explicit_user => Ok(UserAction::Timeout),
            None => Err(CliError::input(
                "--user-pin PIN missing (or script the user with --user)",
            )),
        }
    }

    fn public_key(&mut self, key: u8, file: &Option<PathBuf>) -> Result<Vec<u8>, CliError> {
        if let Some(f) = file {
            return Ok(client::from_pem_or_der(&read_file(f)?).map_err(ce)?.1);
        }
        let mut r = Request::new(0, OpCode::PublicKeyGet);
        r.key = Some(key);
        let a = self.call(r)?;
        a.public_key
            .ok_or_else(|| CliError::failed("card answer lacks the public key"))
    }
}

fn typ(s: &str) -> UserAction {
    UserAction::Type(Zeroizing::new(s.to_string()))
}

fn usage_names(u: u8) -> String {
    let names: Vec<&str> = [
        (protocol::usage::SIGN, "sign"),
        (protocol::usage::AUTHN, "authn"),
        (protocol::usage::DECRYPT, "decrypt"),
        (protocol::usage::CONSENT, "consent"),
        (protocol::usage::SPLIT, "split"),
    ]
    .iter()
    .filter(|(b, _)| u & b != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() {
        format!("{u:#04x}")
    } else {
        names.join(",")
    }
}

/// Read a split-key share file, checking its PEM label: `--card-share` must be the card share,
/// `--split-share` the server share (PROTOCOL.md §8).
fn read_share(opt: &str, path: &PathBuf, want: &str) -> Result<client::Share, CliError> {
    let (label, der) = client::from_pem_or_der(&read_file(path)?).map_err(ce)?;
    let at = path.display();
    match label.as_deref() {
        Some(l) if l == want => {}
        Some(l) if l == client::SPLIT_SERVER_LABEL || l == client::SPLIT_CARD_LABEL => {
            return Err(CliError::input(format!(
                "{opt} {at}: this is the {} (PEM label `{l}`); {opt} wants the file labelled `{want}`",
                if l == client::SPLIT_SERVER_LABEL { "server share" } else { "card share" }
            )))
        }
        Some(l) => {
            return Err(CliError::input(format!(
                "{opt} {at}: PEM label `{l}` is not a share file; want `{want}`"
            )))
        }
        None => {
            return Err(CliError::input(format!(
                "{opt} {at}: not a PEM share file; want the PEM file labelled `{want}` that `wpki split-keygen` wrote"
            )))
        }
    }
    client::decode_share(&der).map_err(ce)
}

fn usage_bits(s: &str) -> Result<u8, CliError> {
    let mut u = 0;
    for w in s.split(',').filter(|w| !w.is_empty()) {
        u |= match w {
            "sign" => protocol::usage::SIGN,
            "authn" => protocol::usage::AUTHN,
            "decrypt" => protocol::usage::DECRYPT,
            "consent" => protocol::usage::CONSENT,
            _ => {
                return Err(CliError::input(format!(
                    "--usage: `{w}` is not sign, authn, decrypt or consent"
                )))
            }
        };
    }
    Ok(u)
}

/// Run `simota wpki`.
pub fn run(a: WpkiArgs) -> Result<ExitCode, CliError> {
    let c = &a.common;
    match a.cmd {
        WpkiCmd::Profiles { args, mode } if !args.is_empty() => profiles_offline(&args, mode),
        WpkiCmd::SplitKeygen {
            bits,
            public,
            server_share,
            card_share,
        } => {
            if bits != 2048 && bits != 3072 {
                return Err(CliError::input(format!("--bits {bits}: want 2048 or 3072")));
            }
            let mut rng = client::os_rng().map_err(ce)?;
            let sk = wpki::keys::SplitKey::generate(bits, &mut rng)
                .map_err(|e| CliError::input(e.to_string()))?;
            write_out(
                &public,
                "PUBLIC KEY",
                &sk.spki().map_err(|e| CliError::input(e.to_string()))?,
            )?;
            // Share files hold secret exponent shares: mode 0600.
            let s = client::encode_share(&sk.n, &sk.e, &sk.d_server);
            let pem = Zeroizing::new(client::to_pem(client::SPLIT_SERVER_LABEL, &s).map_err(ce)?);
            client::write_private(&server_share, pem.as_bytes())
                .map_err(|e| CliError::input(format!("{}: {e}", server_share.display())))?;
            let s = client::encode_share(&sk.n, &sk.e, &sk.d_card);
            let pem = Zeroizing::new(client::to_pem(client::SPLIT_CARD_LABEL, &s).map_err(ce)?);
            client::write_private(&card_share, pem.as_bytes())
                .map_err(|e| CliError::input(format!("{}: {e}", card_share.display())))?;
            println!(
                "wrote {} and {} (load the card share with `wpki split-put`, then delete it)",
                server_share.display(),
                card_share.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        cmd => {
            let mut s = Session::open(c)?;
            let r = online(&mut s, c, cmd);
            if let (Card::Ota(o), Some(_)) = (&s.card, &c.reader) {
                // A real card only accepts higher counters: say which ones this run used.
                if let Some(line) = o.counter_summary() {
                    println!("{line}");
                }
            }
            r
        }
    }
}

fn profiles_offline(args: &[String], mode: ModeArg) -> Result<ExitCode, CliError> {
    let parse = |what: &str, u: &str| {
        Profile::parse(u).map_err(|e| CliError::input(format!("{what} `{u}`: {e}")))
    };
    match args {
        [cmd, uri] if cmd == "parse" => {
            let p = parse("profile", uri)?;
            println!("canonical: {p}");
            println!("commercial name: {}", p.name.as_deref().unwrap_or("(any)"));
            println!(
                "operation: {}",
                p.operation.map(|o| o.as_str()).unwrap_or("(any)")
            );
            println!(
                "level of assurance: {}",
                p.loa
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "(any)".into())
            );
            println!("sscd: {}", p.sscd.map(|s| s.as_str()).unwrap_or("(any)"));
            for (k, v) in &p.query {
                println!("extension: {k} = {v}");
            }
            Ok(ExitCode::SUCCESS)
        }
        [cmd, req, offer] if cmd == "match" => {
            let r = parse("request", req)?;
            let o = parse("offer", offer)?;
            let m = match mode {
                ModeArg::Exact => MatchMode::Exact,
                ModeArg::Minimum => MatchMode::Minimum,
                ModeArg::Better => MatchMode::Better,
            };
            if r.accepts(&o, m) {
                println!("match ({mode:?}): {o} satisfies {r}");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("no match ({mode:?}): {o} does not satisfy {r}");
                Ok(ExitCode::from(1))
            }
        }
        _ => Err(CliError::input(
            "profiles: want `parse URI` or `match REQUEST OFFER` (or no argument to ask the card)",
        )),
    }
}

fn online(s: &mut Session, c: &Common, cmd: WpkiCmd) -> Result<ExitCode, CliError> {
    match cmd {
        WpkiCmd::Keygen {
            group,
            key,
            alg,
            usage,
            out,
        } => {
            let mut r = Request::new(0, OpCode::Keygen);
            r.group = Some(group);
            r.key = Some(key);
            r.algorithm = Some(match alg {
                Alg::Rsa2048 => KeyAlgorithm::Rsa2048,
                Alg::Rsa3072 => KeyAlgorithm::Rsa3072,
                Alg::P256 => KeyAlgorithm::EcP256,
                Alg::P384 => KeyAlgorithm::EcP384,
            });
            r.usage = Some(usage_bits(&usage)?);
            let a = s.call(r)?;
            let spki = a
                .public_key
                .ok_or_else(|| CliError::failed("answer lacks the public key"))?;
            println!(
                "key {key} generated in group {group}; usage {}; public key {} bytes",
                usage_names(a.usage.unwrap_or(0)),
                spki.len()
            );
            match out {
                Some(p) => write_out(&p, "PUBLIC KEY", &spki)?,
                None => print!("{}", client::to_pem("PUBLIC KEY", &spki).map_err(ce)?),
            }
        }
        WpkiCmd::Pop {
            key,
            subject,
            hash,
            out,
        } => {
            let mut r = Request::new(0, OpCode::Pop);
            r.key = Some(key);
            r.data = Some(client::subject_der(&subject).map_err(ce)?);
            r.hash = hash_of(hash);
            let pin = s.pin(c)?;
            s.script(vec![UserAction::Ok, pin]);
            let a = s.call(r)?;
            let csr = a
                .csr
                .ok_or_else(|| CliError::failed("answer lacks the CSR"))?;
            let (subj, _) = client::verify_csr(&csr).map_err(ce)?;
            println!("CSR for {subj}: signature verified");
            match out {
                Some(p) => write_out(&p, "CERTIFICATE REQUEST", &csr)?,
                None => print!(
                    "{}",
                    client::to_pem("CERTIFICATE REQUEST", &csr).map_err(ce)?
                ),
            }
        }
        WpkiCmd::Sign(a) => sign(s, c, a)?,
        WpkiCmd::Authn {
            key,
            challenge,
            display,
            public,
            out,
        } => {
            let ch = hex_arg("--challenge", &challenge)?;
            let mut r = Request::new(0, OpCode::Sign);
            r.key = Some(key);
            r.mode = Some(SignMode::Authn);
            r.data = Some(ch.clone());
            r.display = display;
            let pin = s.pin(c)?;
            s.script(vec![UserAction::Ok, pin]);
            let sig = s
                .call(r)?
                .output
                .ok_or_else(|| CliError::failed("answer lacks the signature"))?;
            let spki = s.public_key(key, &public)?;
            let scheme = default_scheme(&spki);
            client::verify_signature(&spki, scheme, HashAlg::Sha256, SignMode::Authn, &ch, &sig)
                .map_err(ce)?;
            finish_sig(&sig, out)?;
        }
        WpkiCmd::Consent {
            key,
            text,
            public,
            out,
        } => {
            let mut r = Request::new(0, OpCode::Sign);
            r.key = Some(key);
            r.mode = Some(SignMode::Consent);
            r.data = Some(text.as_bytes().to_vec());
            s.script(vec![UserAction::Ok]);
            let sig = s
                .call(r)?
                .output
                .ok_or_else(|| CliError::failed("answer lacks the signature"))?;
            let spki = s.public_key(key, &public)?;
            let scheme = default_scheme(&spki);
            client::verify_signature(
                &spki,
                scheme,
                HashAlg::Sha256,
                SignMode::Consent,
                text.as_bytes(),
                &sig,
            )
            .map_err(ce)?;
            finish_sig(&sig, out)?;
        }
        WpkiCmd::Decrypt {
            key,
            input,
            oaep,
            display,
            out,
        } => {
            let mut r = Request::new(0, OpCode::Decrypt);
            r.key = Some(key);
            r.data = Some(read_file(&input)?);
            r.scheme = Some(if oaep {
                Scheme::RsaOaepSha256
            } else {
                Scheme::RsaPkcs1v15Decrypt
            });
            r.display = display;
            let pin = s.pin(c)?;
            s.script(vec![UserAction::Ok, pin]);
            let p = s
                .call(r)?
                .output
                .ok_or_else(|| CliError::failed("answer lacks the plaintext"))?;
            match out {
                Some(o) => {
                    std::fs::write(&o, &p)
                        .map_err(|e| CliError::input(format!("{}: {e}", o.display())))?;
                    println!("decrypted {} bytes, wrote {}", p.len(), o.display());
                }
                None => println!("plaintext: {}", apdu::hex::encode(&p)),
            }
        }
        WpkiCmd::Pin {
            action,
            group,
            new_pin,
            puk,
        } => {
            let op = match action {
                PinAction::Activate => PinOp::Activate,
                PinAction::Change => PinOp::Change,
                PinAction::Unblock => PinOp::Unblock,
                PinAction::Status => PinOp::Status,
            };
            let need = |v: &Option<String>, name: &str| -> Result<UserAction, CliError> {
                v.as_deref()
                    .map(typ)
                    .ok_or_else(|| CliError::input(format!("{name} missing")))
            };
            if !s.explicit_user {
                let script = match op {
                    PinOp::Activate => {
                        let n = need(&new_pin, "--new-pin")?;
                        vec![n.clone(), n, UserAction::Ok]
                    }
                    PinOp::Change => {
                        let n = need(&new_pin, "--new-pin")?;
                        vec![s.pin(c)?, n.clone(), n]
                    }
                    PinOp::Unblock => {
                        let n = need(&new_pin, "--new-pin")?;
                        vec![need(&puk, "--puk")?, n.clone(), n]
                    }
                    _ => vec![],
                };
                s.script(script);
            }
            let mut r = Request::new(0, OpCode::Pin);
            r.group = Some(group);
            r.pin_op = Some(op);
            let a = s.call(r)?;
            match op {
                PinOp::Status => println!("group {group}: PIN tries left {}, PUK tries left {}", a.pin_tries.unwrap_or(0), a.puk_tries.unwrap_or(0)),
                PinOp::Activate => match &a.puk {
                    Some(p) => println!("group {group}: PIN activated; PUK {}", p.as_str()),
                    None => println!("group {group}: PIN activated; the PUK was shown to the user only (use --e2e-key to receive it)"),
                },
                _ => println!("group {group}: done"),
            }
        }
        WpkiCmd::Cert { action, key, file } => match action.as_str() {
            "put" => {
                let der = client::from_pem_or_der(&read_file(&file)?).map_err(ce)?.1;
                let mut r = Request::new(0, OpCode::CertPut);
                r.key = Some(key);
                r.data = Some(der);
                s.call(r)?;
                println!("certificate stored for key {key}");
            }
            "get" => {
                let mut r = Request::new(0, OpCode::CertGet);
                r.key = Some(key);
                let cert = s
                    .call(r)?
                    .certificate
                    .ok_or_else(|| CliError::failed("answer lacks the certificate"))?;
                write_out(&file, "CERTIFICATE", &cert)?;
            }
            other => {
                return Err(CliError::input(format!(
                    "cert: `{other}` is not put or get"
                )))
            }
        },
        WpkiCmd::Keys => {
            let a = s.call(Request::new(0, OpCode::KeyList))?;
            if a.keys.is_empty() {
                println!("no keys");
            }
            for k in a.keys {
                println!(
                    "key {} group {} {:?} usage {:#04x}{}",
                    k.key,
                    k.group,
                    k.algorithm,
                    k.usage,
                    if k.flags & 1 != 0 {
                        " (certificate)"
                    } else {
                        ""
                    }
                );
            }
        }
        WpkiCmd::Profiles { .. } => {
            let a = s.call(Request::new(0, OpCode::ProfileQuery))?;
            for p in a.profiles {
                println!("{p}");
            }
        }
        WpkiCmd::SplitPut {
            group,
            key,
            card_share,
        } => {
            if s.client_key_missing() {
                return Err(CliError::input(
                    "split-put carries a secret: --e2e-key is required",
                ));
            }
            let sh = read_share("--card-share", &card_share, client::SPLIT_CARD_LABEL)?;
            let mut r = Request::new(0, OpCode::SplitKeyPut);
            r.group = Some(group);
            r.key = Some(key);
            r.modulus = Some(sh.n);
            r.exponent = Some(sh.e);
            r.share = Some(sh.d);
            s.call(r)?;
            println!("split key {key} loaded into group {group}");
        }
        WpkiCmd::Menu { item } => {
            s.verbose = true;
            let outcome: Option<bool>;
            let step = match &mut s.card {
                Card::Direct(d, _) => {
                    let u = std::mem::take(&mut s.user);
                    d.script(u);
                    let step = d.menu(item);
                    outcome = d
                        .applet
                        .menu_result()
                        .map(|r| r == protocol::ResultCode::Ok);
                    step
                }
                Card::Ota(o) => {
                    let Some(id) = o.term.menu().and_then(|m| {
                        m.items
                            .iter()
                            .find(|i| i.text.text() == wpki::uicc_applet::MENU_ENTRY_TEXT)
                            .map(|i| i.id)
                    }) else {
                        return Err(CliError::failed("the card's SET UP MENU has no WPKI entry"));
                    };
                    o.term.push_answer(terminal::UserAnswer::Item(item));
                    let u = std::mem::take(&mut s.user);
                    s.card.script(u);
                    let Card::Ota(o) = &mut s.card else {
                        return Err(CliError::failed("internal: card kind changed"));
                    };
                    o.term
                        .select_menu_item(o.card.as_mut(), id, false)
                        .map_err(|e| CliError::transport(format!("MENU SELECTION: {e}")))?;
                    // The card's closing message says how the session ended.
                    let all = o.term.shown();
                    outcome = all
                        .get(o.shown.min(all.len())..)
                        .unwrap_or_default()
                        .iter()
                        .rev()
                        .find(|x| x.command == ota::cat::CommandType::DisplayText)
                        .and_then(|x| wpki::text::menu_outcome(&x.text));
                    Step::Done
                }
            };
            s.report()?;
            if step != Step::Done {
                return Err(CliError::failed("menu session did not end"));
            }
            if outcome == Some(false) {
                return Err(CliError::failed(
                    "menu session failed (see the message shown above)",
                ));
            }
        }
        WpkiCmd::SplitKeygen { .. } => unreachable_offline()?,
    }
    Ok(ExitCode::SUCCESS)
}

fn unreachable_offline() -> Result<(), CliError> {
    Err(CliError::input(
        "internal: offline command routed to a card",
    ))
}

impl Session {
    fn client_key_missing(&self) -> bool {
        !self.has_key
    }
}

fn default_scheme(spki: &[u8]) -> Scheme {
    use pkcs8_probe::is_rsa;
    if is_rsa(spki) {
        Scheme::RsaPkcs1v15
    } else {
        Scheme::Ecdsa
    }
}

mod pkcs8_probe {
    /// rsaEncryption OID 1.2.840.113549.1.1.1 appears in an RSA SubjectPublicKeyInfo.
    pub fn is_rsa(spki: &[u8]) -> bool {
        const OID: [u8; 11] = [
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
        ];
        spki.windows(OID.len()).any(|w| w == OID)
    }
}

fn finish_sig(sig: &[u8], out: Option<PathBuf>) -> Result<(), CliError> {
    println!("signature verified ({} bytes)", sig.len());
    match out {
        Some(o) => {
            std::fs::write(&o, sig)
                .map_err(|e| CliError::input(format!("{}: {e}", o.display())))?;
            println!("wrote {}", o.display());
        }
        None => println!("signature: {}", apdu::hex::encode(sig)),
    }
    Ok(())
}

fn sign(s: &mut Session, c: &Common, a: SignArgs) -> Result<(), CliError> {
    let mut r = Request::new(0, OpCode::Sign);
    r.key = a.key;
    r.profile = a.profile.clone();
    if a.key.is_none() && a.profile.is_none() {
        return Err(CliError::input("sign: --key or --profile required"));
    }
    r.hash = hash_of(a.hash);
    let hash = r.hash.unwrap_or(HashAlg::Sha256);
    r.scheme = a.scheme.map(|x| match x {
        SchemeArg::Pkcs1 => Scheme::RsaPkcs1v15,
        SchemeArg::Pss => Scheme::RsaPss,
        SchemeArg::Ecdsa => Scheme::Ecdsa,
    });
    let (mode, data) = match (&a.text, &a.digest) {
        (Some(t), None) => (SignMode::Text, t.as_bytes().to_vec()),
        (None, Some(d)) => (SignMode::Digest, hex_arg("--digest", d)?),
        _ => return Err(CliError::input("sign: give --text or --digest")),
    };
    r.mode = Some(mode);
    r.data = Some(data.clone());
    r.display = a.display.clone();
    let pin = s.pin(c)?;
    s.script(vec![UserAction::Ok, pin]);
    let ans = s.call(r)?;
    let used = ans
        .key
        .ok_or_else(|| CliError::failed("answer lacks the key id"))?;
    let mut sig = ans
        .output
        .ok_or_else(|| CliError::failed("answer lacks the signature"))?;
    if let Some(share) = &a.split_share {
        let sh = read_share("--split-share", share, client::SPLIT_SERVER_LABEL)?;
        let digest = client::signed_digest(mode, hash, &data).map_err(ce)?;
        sig = wpki::keys::split_combine(&sh.n, &sh.e, &sh.d, hash, &digest, &sig)
            .map_err(|e| CliError::failed(format!("split combine: {e}")))?;
        println!("combined the card's partial signature with the server share");
    }
    let spki = s.public_key(used, &a.public)?;
    let scheme = a.scheme.map(|x| match x {
        SchemeArg::Pkcs1 => Scheme::RsaPkcs1v15,
        SchemeArg::Pss => Scheme::RsaPss,
        SchemeArg::Ecdsa => Scheme::Ecdsa,
    });
    let scheme = scheme.unwrap_or_else(|| default_scheme(&spki));
    client::verify_signature(&spki, scheme, hash, mode, &data, &sig).map_err(ce)?;
    finish_sig(&sig, a.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wpki::client::Exchange;

    /// The built-in card over OTA as `--reader` drives it, starting at counter `first` (the
    /// card's own counter when `None`, which it refuses).
    fn ota_card(first: Option<u64>) -> OtaCard {
        let (card, _) = crate::card::build_card(&crate::card::CardSpec::default()).unwrap();
        let keys = card.ota_keyset(1).unwrap();
        let stored = card.ota_counter(1).value();
        let emu = Box::new(transport::Emulator::new(card));
        OtaCard::start(
            emu,
            keys,
            ota::Tar(client::DEFAULT_TAR),
            first.unwrap_or(stored),
        )
        .unwrap()
    }

    /// Item 9 (issue 12): after a refused counter the error names `cntr-low` and the card's
    /// counter, and the summary gives the next counter the card will take, not the refused
    /// one + 1.
    #[test]
    fn a_refused_counter_gives_the_cards_next_counter_never_a_wrong_hint() {
        let mut o = ota_card(None);
        let stored = o.next;
        let e = o.exchange(&[0x00]).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "PoR status 02 (cntr-low): counter {stored:#x} refused (cntr-low): the card's counter is {stored:#x} (from its PoR), next counter {:#x}",
                stored + 1
            )),
            "{e}"
        );
        assert_eq!(
            o.counter_summary().unwrap(),
            format!("next time pass --counter {:#x}", stored + 1)
        );
        // That counter is accepted; the summary moves on.
        o.exchange(&[0x00]).unwrap();
        assert_eq!(
            o.counter_summary().unwrap(),
            format!(
                "OTA counters used: {:#x}..={:#x}; next time pass --counter {:#x}",
                stored + 1,
                stored + 1,
                stored + 2
            )
        );
    }

    /// Item 9: `--counter-file` is written after every message, with the card's next counter.
    #[test]
    fn the_counter_file_follows_the_card() {
        let dir = std::env::temp_dir().join(format!("simota-wpki-cntr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("k.cntr");
        let mut o = ota_card(Some(0x40));
        o.counter_file = Some(f.clone());
        o.exchange(&[0x00]).unwrap();
        o.exchange(&[0x00]).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "0x0000000042\n");
        assert_eq!(
            o.counter_summary().unwrap(),
            format!(
                "OTA counters used: 0x40..=0x41; next counter 0x42 (kept in {})",
                f.display()
            )
        );
        // A new run on the same card that starts too low learns the card's counter from the
        // PoR, fixes the file, and the message after that is accepted.
        let keys = o.keys.clone();
        let mut o2 = OtaCard::start(o.card, keys, o.tar, 0x40).unwrap();
        o2.counter_file = Some(f.clone());
        let e = o2.exchange(&[0x00]).unwrap_err().to_string();
        assert!(
            e.contains("the card's counter is 0x41 (from its PoR), next counter 0x42"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "0x0000000042\n");
        o2.exchange(&[0x00]).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "0x0000000043\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
