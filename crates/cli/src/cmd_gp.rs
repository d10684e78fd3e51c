//! `simota gp`: GlobalPlatform card management with GlobalPlatformPro's habits, over a PC/SC
//! reader (`--reader`) or the emulated card (`--card emu`, the default). Opens an SCP02 or
//! SCP03 session on the ISD (GPCS v2.3 §11.12, §11.8; Amendment D) with the `gp` crate and
//! runs the asked actions inside it:
//!
//! * `--list`: GET STATUS of the ISD, applications and load files (with modules), printed as
//!   GlobalPlatformPro prints them (`ISD:`, `APP:`, `PKG:` lines with life cycle and
//!   privileges);
//! * `--delete AID` (repeatable), `--delete-key KVN`;
//! * `--load FILE.cap` (INSTALL [for load] + LOAD), `--install FILE.cap [--params HEX]
//!   [--privs HEX|NAMES] [--create AID]` (also INSTALL [for install and make selectable] of its
//!   applet);
//! * `--put-key HEX [--new-keyver KVN] [--replace]`, `--lock HEX` (replace the session's key
//!   set), `--unlock` (back to the default test key `40..4F`);
//! * `--lock-card` / `--unlock-card` (SET STATUS of the card life cycle), `--info` (card
//!   data, CPLC, key information template).
//!
//! Keys: `--key` (all three) or `--key-enc/--key-mac/--key-dek`, else the environment
//! (`SIMOTA_GP_KEY`, `SIMOTA_GP_KEY_ENC`/`_MAC`/`_DEK`, `SIMOTA_GP_KDF`), else `40..4F`;
//! `--kdf emv|visa2|kdf3` diversifies them with the card's KDD. `-v` prints every APDU.

use crate::error::{hex_arg, CliError};
use apdu::{CommandApdu, ResponseApdu};
use clap::Args;
use gp::commands::{self, RegistryEntry, StatusScope};
use gp::{Diversification, HostHandshake, KeyKind, SecurityLevel, Session, StaticKeys};
use std::path::PathBuf;
use std::process::ExitCode;
use transport::{T0Adapter, Transport};

/// Options of `simota gp`.
#[derive(Debug, Args)]
pub struct GpArgs {
    /// The PC/SC reader (name, unique part of a name, or index from `simota readers`).
    #[arg(long, value_name = "NAME|INDEX", conflicts_with = "card")]
    pub reader: Option<String>,
    /// The emulated card (`emu`, the default when no reader is given).
    #[arg(long, value_name = "emu", value_parser = ["emu"])]
    pub card: Option<String>,
    /// Profile of the emulated card.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Non-volatile state file of the emulated card (created when missing).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Security domain AID to select.
    #[arg(long, value_name = "AID", default_value = "A000000151000000")]
    pub sdaid: String,
    /// Secure channel protocol to expect (02 or 03); default: whatever the card answers.
    #[arg(long, value_name = "02|03", value_parser = ["02", "03", "2", "3"])]
    pub scp: Option<String>,
    /// Master key for ENC, MAC and DEK (hex, 16/24/32 bytes).
    #[arg(long, value_name = "HEX")]
    pub key: Option<String>,
    /// Static ENC key.
    #[arg(long, value_name = "HEX")]
    pub key_enc: Option<String>,
    /// Static MAC key.
    #[arg(long, value_name = "HEX")]
    pub key_mac: Option<String>,
    /// DEK.
    #[arg(long, value_name = "HEX")]
    pub key_dek: Option<String>,
    /// Key version number for INITIALIZE UPDATE (00 = the card's default).
    #[arg(long, value_name = "KVN", default_value = "00")]
    pub key_ver: String,
    /// Key diversification: emv, visa2, kdf3 (or none).
    #[arg(long, value_name = "emv|visa2|kdf3")]
    pub kdf: Option<String>,
    /// Security level: mac (01), enc (03 = C-MAC + C-DEC), rmac (13), renc (33), or hex.
    #[arg(long, value_name = "LEVEL", default_value = "mac")]
    pub mode: String,
    /// Use an S16 host challenge (SCP03 S16 mode).
    #[arg(long)]
    pub s16: bool,
    /// List the ISD, applications and load files.
    #[arg(long)]
    pub list: bool,
    /// Show card data, CPLC and the key information template.
    #[arg(long)]
    pub info: bool,
    /// Delete the application or load file with this AID (repeatable).
    #[arg(long, value_name = "AID")]
    pub delete: Vec<String>,
    /// Load a CAP file (INSTALL [for load] + LOAD).
    #[arg(long, value_name = "FILE.cap")]
    pub load: Option<PathBuf>,
    /// Load a CAP file and install its applet (INSTALL [for install and make selectable]).
    #[arg(long, value_name = "FILE.cap", conflicts_with = "load")]
    pub install: Option<PathBuf>,
    /// Application specific install parameters for --install (hex, sent in C9).
    #[arg(long, value_name = "HEX", default_value = "")]
    pub params: String,
    /// Privileges for --install: hex (1 or 3 bytes, GPCS Table 11-7) or GlobalPlatformPro's
    /// names, comma separated (`security-domain,card-lock`).
    #[arg(long, value_name = "HEX|NAMES", default_value = "00")]
    pub privs: String,
    /// Instance AID for --install (default: the applet's AID).
    #[arg(long, value_name = "AID")]
    pub create: Option<String>,
    /// Delete related objects too (DELETE P2 80).
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Delete the key set with this version number.
    #[arg(long, value_name = "KVN")]
    pub delete_key: Option<String>,
    /// Put a key set with this key for ENC, MAC and DEK.
    #[arg(long, value_name = "HEX")]
    pub put_key: Option<String>,
    /// Version number of the key set --put-key writes (default: the session's).
    #[arg(long, value_name = "KVN")]
    pub new_keyver: Option<String>,
    /// --put-key replaces the session's key set instead of adding one.
    #[arg(long)]
    pub replace: bool,
    /// Replace the session's key set with this key (GlobalPlatformPro's --lock).
    #[arg(long, value_name = "HEX")]
    pub lock: Option<String>,
    /// Replace the session's key set with the default test key 40..4F.
    #[arg(long)]
    pub unlock: bool,
    /// SET STATUS: card life cycle CARD_LOCKED.
    #[arg(long)]
    pub lock_card: bool,
    /// SET STATUS: card life cycle back to SECURED.
    #[arg(long)]
    pub unlock_card: bool,
    /// Print every APDU exchanged (wire form).
    #[arg(short, long)]
    pub verbose: bool,
}

fn byte_arg(name: &str, text: &str) -> Result<u8, CliError> {
    let t = text.trim_start_matches("0x");
    u8::from_str_radix(t, 16)
        .map_err(|_| CliError::input(format!("{name}: '{text}' is not a hex byte")))
}

fn key_bytes(name: &str, cli: &Option<String>, env: &str) -> Result<Option<Vec<u8>>, CliError> {
    match cli {
        Some(h) => hex_arg(name, h).map(Some),
        None => match std::env::var(env) {
            Ok(h) => hex_arg(env, &h).map(Some),
            Err(_) => Ok(None),
        },
    }
}

fn level_arg(text: &str) -> Result<SecurityLevel, CliError> {
    let b = match text.to_ascii_lowercase().as_str() {
        "clr" | "none" => 0x00,
        "mac" => 0x01,
        "enc" => 0x03,
        "rmac" => 0x13,
        "renc" => 0x33,
        t => byte_arg("--mode", t)?,
    };
    SecurityLevel::parse(b).map_err(|e| CliError::input(format!("--mode: {e}")))
}

/// The keys to authenticate with, from the options, the environment or the default.
fn host_keys(a: &GpArgs, kvn: u8) -> Result<(StaticKeys, Diversification), CliError> {
    let master = key_bytes("--key", &a.key, "SIMOTA_GP_KEY")?;
    let enc = key_bytes("--key-enc", &a.key_enc, "SIMOTA_GP_KEY_ENC")?;
    let mac = key_bytes("--key-mac", &a.key_mac, "SIMOTA_GP_KEY_MAC")?;
    let dek = key_bytes("--key-dek", &a.key_dek, "SIMOTA_GP_KEY_DEK")?;
    let div_name = a
        .kdf
        .clone()
        .or_else(|| std::env::var("SIMOTA_GP_KDF").ok());
    let div = match div_name {
        Some(n) => Diversification::from_name(&n).ok_or_else(|| {
            CliError::input(format!("--kdf: '{n}' is not emv, visa2, kdf3 or none"))
        })?,
        None => Diversification::None,
    };
    let (e, m, d) = match (master, enc, mac, dek) {
        (Some(k), None, None, None) => (k.clone(), k.clone(), k),
        (None, Some(e), Some(m), Some(d)) => (e, m, d),
        (None, None, None, None) => {
            let k = gp::DEFAULT_TEST_KEY.to_vec();
            (k.clone(), k.clone(), k)
        }
        _ => {
            return Err(CliError::input(
                "keys: give either --key, or all of --key-enc --key-mac --key-dek",
            ))
        }
    };
    // The kind is settled once the card says which protocol it speaks; AES accepts every
    // length 3DES does except none, so start as AES for 32-byte keys.
    let kind = if e.len() == 32 || a.scp.as_deref().is_some_and(|s| s.ends_with('3')) {
        KeyKind::Aes
    } else {
        KeyKind::Des3
    };
    let keys = StaticKeys::new(kvn, kind, &e, &m, &d)
        .map_err(|err| CliError::input(format!("keys: {err}")))?;
    Ok((keys, div))
}

/// A transport with an open secure channel session and an optional APDU trace.
struct Client<'a> {
    t: &'a mut dyn Transport,
    session: Option<Session>,
    verbose: bool,
}

impl Client<'_> {
    fn raw(&mut self, cmd: &CommandApdu) -> Result<ResponseApdu, CliError> {
        let bytes = cmd
            .emit()
            .map_err(|e| CliError::input(format!("APDU: {e}")))?;
        if self.verbose {
            println!("> {}", apdu::hex::encode_spaced(&bytes));
        }
        let r = T0Adapter::new(&mut *self.t)
            .transmit(&bytes)
            .map_err(|e| CliError::transport(format!("{e}")))?;
        if self.verbose {
            println!("< {}", apdu::hex::encode_spaced(&r));
        }
        ResponseApdu::parse(&r).map_err(|e| CliError::transport(e.to_string()))
    }

    fn send(&mut self, cmd: &CommandApdu) -> Result<ResponseApdu, CliError> {
        let Some(s) = self.session.as_mut() else {
            return self.raw(cmd);
        };
        let w = s
            .wrap(cmd)
            .map_err(|e| CliError::input(format!("wrap: {e}")))?;
        let r = self.raw(&w)?;
        let s = self
            .session
            .as_mut()
            .ok_or_else(|| CliError::input("no session"))?;
        s.unwrap_response(&r)
            .map_err(|e| CliError::failed(format!("response: {e}")))
    }

    /// Send and require 9000.
    fn ok(&mut self, what: &str, cmd: &CommandApdu) -> Result<Vec<u8>, CliError> {
        let r = self.send(cmd)?;
        if r.sw.0 != 0x9000 {
            return Err(CliError::failed(format!(
                "{what} failed: {:04X} ({})",
                r.sw.0,
                r.sw.meaning()
            )));
        }
        Ok(r.data)
    }

    /// GET STATUS with the 6310 continuation; an empty scope (6A88) gives no entries.
    fn status(&mut self, scope: StatusScope) -> Result<Vec<RegistryEntry>, CliError> {
        let mut data = Vec::new();
        let mut next = false;
        loop {
            let r = self.send(&commands::get_status(scope, next))?;
            match r.sw.0 {
                0x9000 => {
                    data.extend(r.data);
                    break;
                }
                0x6310 => {
                    data.extend(r.data);
                    next = true;
                }
                0x6A88 => break,
                sw => {
                    return Err(CliError::failed(format!(
                        "GET STATUS {:02X} failed: {sw:04X} ({})",
                        scope.p1(),
                        r.sw.meaning()
                    )))
                }
            }
        }
        RegistryEntry::parse_all(&data).map_err(|e| CliError::failed(format!("GET STATUS: {e}")))
    }
}

fn hexs(b: &[u8]) -> String {
    apdu::hex::encode(b)
}

fn print_list(c: &mut Client<'_>) -> Result<(), CliError> {
    for e in c.status(StatusScope::Isd)? {
        println!(
            "ISD: {} ({})",
            hexs(&e.aid),
            commands::card_life_cycle_name(e.life_cycle)
        );
        println!(
            "     Privs:   {}",
            commands::privilege_names(&e.privileges).join(", ")
        );
        println!();
    }
    for e in c.status(StatusScope::Applications)? {
        let kind = if e.privileges.first().is_some_and(|p| p & 0x80 != 0) {
            "DOM"
        } else {
            "APP"
        };
        println!(
            "{kind}: {} ({})",
            hexs(&e.aid),
            commands::app_life_cycle_name(e.life_cycle)
        );
        println!(
            "     Privs:   {}",
            commands::privilege_names(&e.privileges).join(", ")
        );
        println!();
    }
    for e in c.status(StatusScope::LoadFilesAndModules)? {
        println!(
            "PKG: {} ({})",
            hexs(&e.aid),
            commands::app_life_cycle_name(e.life_cycle)
        );
        if let Some(v) = &e.version {
            let v: Vec<String> = v.iter().map(|b| b.to_string()).collect();
            println!("     Version: {}", v.join("."));
        }
        for m in &e.modules {
            println!("     Applet:  {}", hexs(m));
        }
        println!();
    }
    Ok(())
}

/// Run `simota gp`.
pub fn run(a: GpArgs) -> Result<ExitCode, CliError> {
    let kvn = byte_arg("--key-ver", &a.key_ver)?;
    let (keys, div) = host_keys(&a, kvn)?;
    let level = level_arg(&a.mode)?;
    let sdaid = hex_arg("--sdaid", &a.sdaid)?;
    // Checked before anything reaches the card.
    let privs = commands::parse_privileges(&a.privs)
        .map_err(|e| CliError::input(format!("--privs: {e}")))?;
    let mut t: Box<dyn Transport> = match &a.reader {
        Some(r) => crate::cmd_run::open_reader(r, "any", false)?,
        None => Box::new(crate::card::emulator(&crate::card::CardSpec {
            profile: a.profile.as_deref(),
            state: a.state.as_deref(),
            ..Default::default()
        })?),
    };
    let mut c = Client {
        t: t.as_mut(),
        session: None,
        verbose: a.verbose,
    };
    let sel = CommandApdu::new(0x00, 0xA4, 0x04, 0x00, sdaid.clone(), Some(256));
    c.ok(&format!("SELECT {}", hexs(&sdaid)), &sel)?;

    // INITIALIZE UPDATE / EXTERNAL AUTHENTICATE.
    let mut hc = vec![0u8; if a.s16 { 16 } else { 8 }];
    host_challenge(&mut hc)?;
    let host = HostHandshake::new(keys.clone(), div, &hc)
        .map_err(|e| CliError::input(format!("host challenge: {e}")))?;
    let r = c.raw(&host.command())?;
    let auth = host.on_response(&r).map_err(|e| match e {
        gp::GpError::CardCryptogram => CliError::failed(
            "INITIALIZE UPDATE: card cryptogram does not verify: wrong keys, key version or --kdf"
                .to_string(),
        ),
        e => CliError::failed(format!("INITIALIZE UPDATE: {e}")),
    })?;
    let info = auth.response().clone();
    let (scp_name, card_kvn) = match info.scp {
        gp::ScpInfo::Scp02 { .. } => ("02", info.kvn),
        gp::ScpInfo::Scp03 { .. } => ("03", info.kvn),
    };
    if let Some(want) = &a.scp {
        if !want.ends_with(&scp_name[1..]) {
            return Err(CliError::failed(format!(
                "--scp {want}: the card answered SCP{scp_name} for key version {card_kvn:02X}"
            )));
        }
    }
    let (ea, session) = auth
        .external_authenticate(level)
        .map_err(|e| CliError::input(format!("EXTERNAL AUTHENTICATE: {e}")))?;
    let r = c.raw(&ea)?;
    if r.sw.0 != 0x9000 {
        return Err(CliError::failed(format!(
            "EXTERNAL AUTHENTICATE failed: {:04X} ({})",
            r.sw.0,
            r.sw.meaning()
        )));
    }
    c.session = Some(session);
    if a.verbose {
        println!(
            "# SCP{scp_name} session, key version {card_kvn:02X}, level {level}, KDD {}",
            hexs(&info.kdd)
        );
    }

    if a.info {
        for (name, tag) in [
            ("Card data", 0x0066u16),
            ("CPLC", 0x9F7F),
            ("Key info", 0x00E0),
        ] {
            let r = c.send(&commands::get_data(tag))?;
            if r.sw.0 == 0x9000 {
                println!("{name}: {}", hexs(&r.data));
            } else {
                println!("{name}: {:04X}", r.sw.0);
            }
        }
    }
    for aid in &a.delete {
        let b = hex_arg("--delete", aid)?;
        c.ok(&format!("DELETE {aid}"), &commands::delete_aid(&b, a.force))?;
    }
    if let Some(path) = a.load.as_ref().or(a.install.as_ref()) {
        let bytes =
            std::fs::read(path).map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let cap = gp::cap::CapFile::parse(&bytes)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let block = cap
            .load_file_data_block()
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let pkg = hexs(&cap.package_aid);
        c.ok(
            &format!("INSTALL [for load] {pkg}"),
            &gp::load::install_for_load(&cap.package_aid, &[]),
        )?;
        // 200-byte blocks leave room for padding and the MAC at every level.
        let loads = gp::load::load_commands(&block, 200)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let n = loads.len();
        for (i, l) in loads.iter().enumerate() {
            c.ok(&format!("LOAD block {i} of {n}"), l)?;
        }
        println!("PKG {pkg} loaded ({} bytes, {n} LOAD blocks)", block.len());
        if a.install.is_some() {
            let applet = cap.applets.first().ok_or_else(|| {
                CliError::input(format!(
                    "{}: no applet to install (a library package)",
                    path.display()
                ))
            })?;
            let instance = match &a.create {
                Some(h) => hex_arg("--create", h)?,
                None => applet.clone(),
            };
            let params = hex_arg("--params", &a.params)?;
            let cmd =
                gp::load::install_for_install(&cap.package_aid, applet, &instance, &privs, &params);
            let r = c.send(&cmd)?;
            if r.sw.0 != 0x9000 {
                return Err(CliError::failed(format!(
                    "PKG {pkg} is loaded, but INSTALL of applet {} answered {:04X} ({})",
                    hexs(applet),
                    r.sw.0,
                    r.sw.meaning(),
                )));
            }
            println!("APP {} installed", hexs(&instance));
        }
    }
    if let Some(k) = &a.delete_key {
        let v = byte_arg("--delete-key", k)?;
        c.ok(&format!("DELETE key set {v:02X}"), &commands::delete_key(v))?;
    }
    let session_kind = c
        .session
        .as_ref()
        .map(|s| s.key_kind())
        .unwrap_or(KeyKind::Aes);
    let mut puts: Vec<(u8, Vec<u8>, u8)> = Vec::new();
    if let Some(k) = &a.put_key {
        let v = match &a.new_keyver {
            Some(n) => byte_arg("--new-keyver", n)?,
            None => card_kvn,
        };
        let replace = if a.replace || v == card_kvn {
            card_kvn
        } else {
            0
        };
        puts.push((v, hex_arg("--put-key", k)?, replace));
    }
    if let Some(k) = &a.lock {
        puts.push((card_kvn, hex_arg("--lock", k)?, card_kvn));
    }
    if a.unlock {
        puts.push((card_kvn, gp::DEFAULT_TEST_KEY.to_vec(), card_kvn));
    }
    for (v, key, replace) in puts {
        let new = StaticKeys::single(v, session_kind, &key)
            .map_err(|e| CliError::input(format!("new key: {e}")))?;
        let s = c
            .session
            .as_ref()
            .ok_or_else(|| CliError::input("no session"))?;
        let cmd = gp::put_key::build(s, replace, &new)
            .map_err(|e| CliError::input(format!("PUT KEY: {e}")))?;
        let out = c.ok("PUT KEY", &cmd)?;
        println!(
            "PUT KEY {v:02X}: KCVs {}",
            hexs(out.get(1..).unwrap_or(&[]))
        );
    }
    if a.lock_card {
        c.ok(
            "SET STATUS (lock card)",
            &commands::set_status(0x80, 0x7F, &[]),
        )?;
    }
    if a.unlock_card {
        c.ok(
            "SET STATUS (unlock card)",
            &commands::set_status(0x80, 0x0F, &[]),
        )?;
    }
    if a.list {
        print_list(&mut c)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A fresh host challenge from the operating system's randomness.
fn host_challenge(out: &mut [u8]) -> Result<(), CliError> {
    let mut rng = wpki::uicc_applet::os_random_source()
        .map_err(|e| CliError::input(format!("host challenge: {e}")))?;
    rng.fill(out);
    Ok(())
}
