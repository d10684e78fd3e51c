//! The applet-facing toolkit API, ETSI TS 102 241 (`uicc.toolkit`) in Rust form.
//!
//! * [`ToolkitRegistry`] (TS 102 241 §6.1 `ToolkitRegistry`): events an applet registers for
//!   ([`event`] constants) and its menu entries. Registrations are persistent (they live in
//!   the card's non-volatile state as [`ToolkitNv`]) together with the UICC toolkit install
//!   parameters of TS 102 226 §8.2.1.3.2.2 ([`ToolkitParams`]: priority, menu entry slots,
//!   maximum text length, minimum security level, TARs).
//! * [`ProactiveHandler`] (§6.5): build one proactive command (`init`, `append_tlv`, typed
//!   helpers) and `send` it. Sending is asynchronous (sans-IO continuation model): the command
//!   is queued, announced with `91xx`, fetched by the terminal, and its TERMINAL RESPONSE comes
//!   back as [`ToolkitEvent::TerminalResponse`] in a later call of `process_toolkit`, where
//!   [`ProactiveResponseHandler`] (§6.6) reads it. An applet is a state machine: it keeps where
//!   it is in its (transient) fields and continues when the response arrives.
//! * [`EnvelopeHandler`] / [`EnvelopeResponseHandler`] (§6.3/§6.4): the current ENVELOPE's
//!   objects, and the data the applet answers it with.
//!
//! Session rule: a proactive session belongs to the applet that started it. It ends when the
//! applet returns from `process_toolkit` without queueing another command; for an OTA message
//! ([`ToolkitEvent::SecuredData`]) the value the applet returns at that point is the PoR's
//! additional data (sent at once in the ENVELOPE response when no command was queued,
//! otherwise later through SEND SHORT MESSAGE).
//!
//! [`ToolkitEvent::TerminalResponse`]: crate::applet::ToolkitEvent::TerminalResponse
//! [`ToolkitEvent::SecuredData`]: crate::applet::ToolkitEvent::SecuredData

use crate::applet::AppletContext;
use crate::nv::NvState;
use apdu::tlv::CompTlv;
use apdu::StatusWord;
use ota::cat::objects::{DataObject, ResponseLength};
use ota::cat::proactive::{DisplayText, GetInkey, GetInput, SelectItem};
use ota::cat::profile::bits;
use ota::cat::{
    AlphaId, Command, CommandDetails, CommandType, DeviceId, DeviceIdentities, GeneralResult, Item,
    ProactiveCommand, TerminalProfile, TerminalResponse, TextString,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Longest DISPLAY TEXT / GET INPUT command (the whole `D0` template) the toolkit queues: a
/// longer text is refused ([`ToolkitError::BadCommand`]) rather than sent.
pub const MAX_TEXT_COMMAND_LEN: usize = 255;

/// Toolkit event codes (TS 102 241 §6.2 `ToolkitConstants`; SMS-PP events from TS 31.130).
pub mod event {
    /// EVENT_PROFILE_DOWNLOAD.
    pub const PROFILE_DOWNLOAD: u8 = 1;
    /// EVENT_FORMATTED_SMS_PP_ENV (TS 31.130): an OTA message for one of the applet's TARs.
    pub const FORMATTED_SMS_PP_ENV: u8 = 2;
    /// EVENT_UNFORMATTED_SMS_PP_ENV (TS 31.130): an SMS-PP download without command packet.
    pub const UNFORMATTED_SMS_PP_ENV: u8 = 4;
    /// EVENT_MENU_SELECTION.
    pub const MENU_SELECTION: u8 = 7;
    /// EVENT_MENU_SELECTION_HELP_REQUEST.
    pub const MENU_SELECTION_HELP_REQUEST: u8 = 8;
    /// EVENT_EVENT_DOWNLOAD_USER_ACTIVITY.
    pub const EVENT_DOWNLOAD_USER_ACTIVITY: u8 = 16;
    /// EVENT_EVENT_DOWNLOAD_IDLE_SCREEN_AVAILABLE.
    pub const EVENT_DOWNLOAD_IDLE_SCREEN_AVAILABLE: u8 = 17;
    /// EVENT_EVENT_DOWNLOAD_LANGUAGE_SELECTION.
    pub const EVENT_DOWNLOAD_LANGUAGE_SELECTION: u8 = 20;
    /// EVENT_PROACTIVE_HANDLER_AVAILABLE.
    pub const PROACTIVE_HANDLER_AVAILABLE: u8 = 123;
    /// EVENT_UNRECOGNIZED_ENVELOPE (`-1` in TS 102 241).
    pub const UNRECOGNIZED_ENVELOPE: u8 = 0xFF;

    /// The toolkit event for a TS 102 223 §8.25 event-list code of an EVENT DOWNLOAD: MT call
    /// (`00`) … card reader status (`06`) → 12…18; language selection (`07`) … channel status
    /// (`0A`) → 20…23 (19 is STATUS COMMAND); access technology change (`0B`) … browsing
    /// status (`0F`) → 25…29.
    pub fn for_event_download(code: u8) -> Option<u8> {
        match code {
            0x00..=0x06 => Some(code + 12),
            0x07..=0x0A => Some(code + 13),
            0x0B..=0x0F => Some(code + 14),
            _ => None,
        }
    }
}

/// What a toolkit call could not do (TS 102 241 `ToolkitException` reasons).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ToolkitError {
    /// No proactive handler: not in a toolkit call, no TERMINAL PROFILE yet, or another
    /// session owns the handler (HANDLER_NOT_AVAILABLE).
    #[error("the proactive handler is not available")]
    HandlerNotAvailable,
    /// The terminal's profile does not declare this command (COMMAND_NOT_ALLOWED).
    #[error("the terminal profile does not support proactive command {0:02X}")]
    CommandNotSupported(u8),
    /// `send` without `init` or a malformed command (HANDLER_OVERFLOW / bad TLV).
    #[error("proactive command not ready: {0}")]
    BadCommand(String),
    /// A registry operation failed (REGISTRY_ERROR, MENU_ENTRY_NOT_FOUND, ALLOWED_LENGTH_EXCEEDED…).
    #[error("toolkit registry: {0}")]
    Registry(String),
    /// No TERMINAL RESPONSE / ENVELOPE is available to read (UNAVAILABLE_ELEMENT).
    #[error("no {0} is available")]
    Unavailable(&'static str),
}

impl From<ToolkitError> for StatusWord {
    fn from(e: ToolkitError) -> StatusWord {
        StatusWord(match e {
            ToolkitError::HandlerNotAvailable | ToolkitError::Unavailable(_) => 0x6985,
            ToolkitError::CommandNotSupported(_) => 0x6A81,
            ToolkitError::BadCommand(_) => 0x6A80,
            ToolkitError::Registry(_) => 0x6A84,
        })
    }
}

/// UICC toolkit application parameters (TS 102 226 §8.2.1.3.2.2, tag `80` inside the UICC
/// system specific parameters `EA` of INSTALL): priority, timers, menu entries with preferred
/// positions/identifiers, channels, minimum security level, TARs, services.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ToolkitParams {
    /// Priority level (`01` highest … `FF` lowest).
    pub priority: u8,
    /// Maximum number of timers.
    pub max_timers: u8,
    /// Maximum text length of a menu entry.
    pub max_text_len: u8,
    /// (position, identifier) per allowed menu entry; `00` = no preference.
    pub menu_slots: Vec<(u8, u8)>,
    /// Maximum number of channels.
    pub max_channels: u8,
    /// Minimum security level: the minimum SPI1 (MSL parameter `01`), if any.
    pub msl: Option<u8>,
    /// TAR values.
    pub tars: Vec<[u8; 3]>,
    /// Maximum number of services.
    pub max_services: u8,
}

fn take_byte(b: &[u8], at: &mut usize, field: &str) -> Result<u8, String> {
    let v = b
        .get(*at)
        .copied()
        .ok_or_else(|| format!("{field} at offset {at} is missing"))?;
    *at += 1;
    Ok(v)
}

fn take_n<'a>(b: &'a [u8], at: &mut usize, n: usize, field: &str) -> Result<&'a [u8], String> {
    let v = at
        .checked_add(n)
        .and_then(|e| b.get(*at..e))
        .ok_or_else(|| format!("{field} at offset {at} needs {n} byte(s)"))?;
    *at += n;
    Ok(v)
}

impl ToolkitParams {
    /// Defaults for applets installed from the profile without `EA` parameters: priority
    /// `80`, up to 4 menu entries of at most 32 characters, no MSL, no TAR.
    pub fn profile_default() -> ToolkitParams {
        ToolkitParams {
            priority: 0x80,
            max_text_len: 32,
            menu_slots: vec![(0, 0); 4],
            ..ToolkitParams::default()
        }
    }

    /// Decode the value of the `80` TLV. The MSL field is `len [01 minimum-SPI1]`; a 1-byte
    /// field is read as the minimum SPI1 itself ([UNSURE], seen in older tools).
    pub fn parse(b: &[u8]) -> Result<ToolkitParams, String> {
        let mut at = 0;
        let priority = take_byte(b, &mut at, "priority level")?;
        let max_timers = take_byte(b, &mut at, "maximum number of timers")?;
        let max_text_len = take_byte(b, &mut at, "maximum text length")?;
        let n = take_byte(b, &mut at, "maximum number of menu entries")?;
        let mut menu_slots = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let p = take_byte(b, &mut at, "menu entry position")?;
            let i = take_byte(b, &mut at, "menu entry identifier")?;
            menu_slots.push((p, i));
        }
        let max_channels = take_byte(b, &mut at, "maximum number of channels")?;
        let ml = take_byte(b, &mut at, "length of minimum security level")?;
        let msl_b = take_n(b, &mut at, usize::from(ml), "minimum security level")?;
        let msl = match msl_b {
            [] => None,
            [m] => Some(*m),
            [0x01, m, ..] => Some(*m),
            [p, ..] => return Err(format!("MSL parameter {p:02X} is not 01 (minimum SPI1)")),
        };
        let tl = take_byte(b, &mut at, "length of TAR values")?;
        if tl % 3 != 0 {
            return Err(format!(
                "TAR value field of {tl} bytes is not a multiple of 3"
            ));
        }
        let tars = take_n(b, &mut at, usize::from(tl), "TAR values")?
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let max_services = b.get(at).copied().unwrap_or(0);
        Ok(ToolkitParams {
            priority,
            max_timers,
            max_text_len,
            menu_slots,
            max_channels,
            msl,
            tars,
            max_services,
        })
    }

    /// Decode the SIM File Access and Toolkit Application Specific Parameters (TS 102 226
    /// §8.2.1.3.2.1, tag `CA` inside the system specific parameters `EF` of INSTALL, as
    /// pySim's `--install-parameters-stk` gives them): access domain (length-prefixed,
    /// skipped), then priority, timers, maximum text length, menu entries as for
    /// [`ToolkitParams::parse`]; the maximum number of channels, the MSL and the TAR fields
    /// are conditional and may be absent.
    pub fn parse_sim(b: &[u8]) -> Result<ToolkitParams, String> {
        let mut at = 0;
        let ad = take_byte(b, &mut at, "length of access domain")?;
        take_n(b, &mut at, usize::from(ad), "access domain")?;
        let rest = &b[at..];
        let mut at = 0;
        let priority = take_byte(rest, &mut at, "priority level")?;
        let max_timers = take_byte(rest, &mut at, "maximum number of timers")?;
        let max_text_len = take_byte(rest, &mut at, "maximum text length")?;
        let n = take_byte(rest, &mut at, "maximum number of menu entries")?;
        take_n(
            rest,
            &mut at,
            2 * usize::from(n),
            "menu entry positions and identifiers",
        )?;
        // The conditional fields, each absent at the end: channels, MSL, TARs (zeros).
        let mut full = rest[..at].to_vec();
        full.push(rest.get(at).copied().unwrap_or(0));
        at += 1;
        for field in ["minimum security level", "TAR values"] {
            let l = rest.get(at).copied().unwrap_or(0);
            at += 1;
            full.push(l);
            if l > 0 {
                full.extend_from_slice(take_n(rest, &mut at, usize::from(l), field)?);
            }
        }
        if let Some(tail) = rest.get(at..) {
            full.extend_from_slice(tail);
        }
        let _ = (priority, max_timers, max_text_len);
        ToolkitParams::parse(&full)
    }

    /// Encode as the value of the `80` TLV.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = vec![
            self.priority,
            self.max_timers,
            self.max_text_len,
            self.menu_slots.len() as u8,
        ];
        for (p, i) in &self.menu_slots {
            v.extend_from_slice(&[*p, *i]);
        }
        v.push(self.max_channels);
        match self.msl {
            Some(m) => v.extend_from_slice(&[2, 1, m]),
            None => v.push(0),
        }
        v.push((self.tars.len() * 3) as u8);
        for t in &self.tars {
            v.extend_from_slice(t);
        }
        v.push(self.max_services);
        v
    }
}

/// One registered menu entry (TS 102 241 `initMenuEntry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuEntry {
    /// Item identifier.
    pub id: u8,
    /// Position preference (`00` = none).
    pub position: u8,
    /// Item text.
    pub text: String,
    /// Items next action indicator (`00` = none).
    pub next_action: u8,
    /// Help available.
    pub help: bool,
    /// Shown in SET UP MENU.
    pub enabled: bool,
}

/// The persistent toolkit registration of one applet instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolkitNv {
    /// Instance AID.
    pub aid: Vec<u8>,
    /// Install parameters.
    pub params: ToolkitParams,
    /// Events set (sorted).
    pub events: Vec<u8>,
    /// Menu entries.
    pub menu: Vec<MenuEntry>,
}

/// Index of (or a freshly created entry for) `aid` in the toolkit registrations.
fn entry_index(s: &mut NvState, aid: &[u8]) -> usize {
    match s.ota.toolkit.iter().position(|t| t.aid == aid) {
        Some(i) => i,
        None => {
            s.ota.toolkit.push(ToolkitNv {
                aid: aid.to_vec(),
                params: ToolkitParams::profile_default(),
                events: Vec::new(),
                menu: Vec::new(),
            });
            s.ota.toolkit.len() - 1
        }
    }
}

/// The toolkit registry of the calling applet (TS 102 241 §6.1), from
/// [`AppletContext::registry`]. Every change is a non-volatile write.
pub struct ToolkitRegistry<'c, 'a> {
    ctx: &'c mut AppletContext<'a>,
}

impl<'c, 'a> ToolkitRegistry<'c, 'a> {
    fn entry(&self) -> Option<&ToolkitNv> {
        self.ctx
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .find(|t| t.aid == self.ctx.aid)
    }

    fn write<R>(
        &mut self,
        f: impl FnOnce(&mut ToolkitNv) -> Result<R, ToolkitError>,
    ) -> Result<R, ToolkitError> {
        let aid = self.ctx.aid.to_vec();
        let mut err = None;
        let r = self
            .ctx
            .nv
            .write(|s| {
                let i = entry_index(s, &aid);
                match s.ota.toolkit.get_mut(i).map(f) {
                    Some(Ok(r)) => Some(r),
                    Some(Err(e)) => {
                        err = Some(e);
                        None
                    }
                    None => None,
                }
            })
            .map_err(|sw| ToolkitError::Registry(format!("memory error {sw:04X}")))?;
        match (r, err) {
            (Some(r), _) => Ok(r),
            (None, Some(e)) => Err(e),
            (None, None) => Err(ToolkitError::Registry("no registry entry".into())),
        }
    }

    /// `setEvent`.
    pub fn set_event(&mut self, ev: u8) -> Result<(), ToolkitError> {
        if self.is_event_set(ev) {
            return Ok(());
        }
        self.write(|t| {
            t.events.push(ev);
            t.events.sort_unstable();
            Ok(())
        })
    }

    /// `clearEvent`.
    pub fn clear_event(&mut self, ev: u8) -> Result<(), ToolkitError> {
        self.write(|t| {
            t.events.retain(|&e| e != ev);
            Ok(())
        })
    }

    /// `isEventSet`.
    pub fn is_event_set(&self, ev: u8) -> bool {
        self.entry().is_some_and(|t| t.events.contains(&ev))
    }

    /// `initMenuEntry`: register a menu entry and return its identifier (the install
    /// parameters' preferred identifier, else the lowest identifier free on the card). Fails
    /// when the install parameters allow no more entries or the text is longer than allowed.
    /// Registers EVENT_MENU_SELECTION (and the help request event when `help`).
    pub fn init_menu_entry(
        &mut self,
        text: &str,
        next_action: u8,
        help: bool,
    ) -> Result<u8, ToolkitError> {
        let used: Vec<u8> = self
            .ctx
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .flat_map(|t| t.menu.iter().map(|m| m.id))
            .collect();
        let id = self.write(|t| {
            let n = t.menu.len();
            let Some(&(position, pref)) = t.params.menu_slots.get(n) else {
                return Err(ToolkitError::Registry(format!(
                    "the install parameters allow {} menu entries",
                    t.params.menu_slots.len()
                )));
            };
            if text.chars().count() > usize::from(t.params.max_text_len) {
                return Err(ToolkitError::Registry(format!(
                    "menu text of {} characters exceeds the maximum {}",
                    text.chars().count(),
                    t.params.max_text_len
                )));
            }
            let id = if pref != 0 && !used.contains(&pref) {
                pref
            } else {
                (1..=0xFFu8)
                    .find(|i| !used.contains(i))
                    .ok_or_else(|| ToolkitError::Registry("no free item identifier".into()))?
            };
            t.menu.push(MenuEntry {
                id,
                position,
                text: text.to_string(),
                next_action,
                help,
                enabled: true,
            });
            Ok(id)
        })?;
        self.set_event(event::MENU_SELECTION)?;
        if help {
            self.set_event(event::MENU_SELECTION_HELP_REQUEST)?;
        }
        Ok(id)
    }

    /// `changeMenuEntry`: new text for entry `id`.
    pub fn change_menu_entry(&mut self, id: u8, text: &str) -> Result<(), ToolkitError> {
        self.write(|t| {
            let max = usize::from(t.params.max_text_len);
            let m = t
                .menu
                .iter_mut()
                .find(|m| m.id == id)
                .ok_or_else(|| ToolkitError::Registry(format!("menu entry {id} not found")))?;
            if text.chars().count() > max {
                return Err(ToolkitError::Registry("menu text too long".into()));
            }
            m.text = text.to_string();
            Ok(())
        })
    }

    /// `enableMenuEntry` / `disableMenuEntry`.
    pub fn set_menu_entry_enabled(&mut self, id: u8, enabled: bool) -> Result<(), ToolkitError> {
        self.write(|t| {
            t.menu
                .iter_mut()
                .find(|m| m.id == id)
                .map(|m| m.enabled = enabled)
                .ok_or_else(|| ToolkitError::Registry(format!("menu entry {id} not found")))
        })
    }

    /// The applet's menu entries.
    pub fn menu_entries(&self) -> Vec<MenuEntry> {
        self.entry().map(|t| t.menu.clone()).unwrap_or_default()
    }

    /// The TARs the applet answers (from its install parameters).
    pub fn tars(&self) -> Vec<[u8; 3]> {
        self.entry()
            .map(|t| t.params.tars.clone())
            .unwrap_or_default()
    }

    /// The install parameters in force.
    pub fn params(&self) -> ToolkitParams {
        self.entry()
            .map(|t| t.params.clone())
            .unwrap_or_else(ToolkitParams::profile_default)
    }
}

/// Whether a terminal profile declares a proactive command type (TS 102 223 §5.2).
pub fn profile_supports(tp: &TerminalProfile, command_type: u8) -> bool {
    let bit = match command_type {
        0x01 => bits::REFRESH,
        0x02 => bits::MORE_TIME,
        0x03 => bits::POLL_INTERVAL,
        0x04 => bits::POLLING_OFF,
        0x05 => bits::SET_UP_EVENT_LIST,
        0x13 => bits::SEND_SHORT_MESSAGE,
        0x20 => bits::PLAY_TONE,
        0x21 => bits::DISPLAY_TEXT,
        0x22 => bits::GET_INKEY,
        0x23 => bits::GET_INPUT,
        0x24 => bits::SELECT_ITEM,
        0x25 => bits::SET_UP_MENU,
        0x26 => bits::PLI_LOCATION_IMEI,
        _ => return true,
    };
    tp.has(bit)
}

/// The proactive handler (TS 102 241 §6.5 `ProactiveHandler`), from
/// [`AppletContext::proactive_handler`].
#[derive(Debug, Default)]
pub struct ProactiveHandler {
    profile: Option<TerminalProfile>,
    details: Option<(u8, u8, u8)>,
    objects: Vec<CompTlv>,
    pub(crate) queued: Vec<ProactiveCommand>,
    pub(crate) next_number: u8,
    pub(crate) available: bool,
}

impl ProactiveHandler {
    pub(crate) fn new(profile: Option<TerminalProfile>, next_number: u8, available: bool) -> Self {
        ProactiveHandler {
            profile,
            details: None,
            objects: Vec::new(),
            queued: Vec::new(),
            next_number,
            available,
        }
    }

    /// The TERMINAL PROFILE in force.
    pub(crate) fn profile(&self) -> Option<&TerminalProfile> {
        self.profile.as_ref()
    }

    /// `init(type, qualifier, destination)`: start a new command (objects cleared).
    pub fn init(&mut self, command_type: u8, qualifier: u8, destination: u8) {
        self.details = Some((command_type, qualifier, destination));
        self.objects.clear();
    }

    /// `appendTLV`: add a COMPREHENSION-TLV (`tag` with or without the CR bit `80`).
    pub fn append_tlv(&mut self, tag: u8, value: &[u8]) {
        self.objects
            .push(CompTlv::new(tag & 0x7F, tag & 0x80 != 0, value));
    }

    /// `findTLV`: the value of the `occurrence`-th (from 1) object with `tag` (CR ignored).
    pub fn find_tlv(&self, tag: u8, occurrence: usize) -> Option<&[u8]> {
        find(&self.objects, tag, occurrence)
    }

    /// `getLength`: length of the objects appended so far.
    pub fn length(&self) -> usize {
        self.objects.iter().map(CompTlv::buffer_len).sum()
    }

    fn check(&self, command_type: u8) -> Result<(), ToolkitError> {
        if !self.available {
            return Err(ToolkitError::HandlerNotAvailable);
        }
        let tp = self
            .profile
            .as_ref()
            .ok_or(ToolkitError::HandlerNotAvailable)?;
        if !profile_supports(tp, command_type) {
            return Err(ToolkitError::CommandNotSupported(command_type));
        }
        Ok(())
    }

    fn number(&mut self) -> u8 {
        let n = self.next_number;
        self.next_number = if n >= 0xFE { 1 } else { n + 1 };
        n
    }

    /// `send`: queue the command built with `init`/`append_tlv`. Returns its command number.
    /// The TERMINAL RESPONSE arrives later as a `TerminalResponse` toolkit event.
    pub fn send(&mut self) -> Result<u8, ToolkitError> {
        let (t, q, dst) = self
            .details
            .ok_or_else(|| ToolkitError::BadCommand("send() without init()".into()))?;
        self.check(t)?;
        let number = self.number();
        let details = CommandDetails {
            number,
            command_type: CommandType::from(t),
            qualifier: q,
        };
        let mut objs = vec![
            details.to_tlv(),
            DeviceIdentities::new(DeviceId::Uicc, DeviceId::from(dst)).to_tlv(),
        ];
        objs.append(&mut self.objects);
        let mut raw = Vec::new();
        for o in &objs {
            o.emit_into(&mut raw);
        }
        let mut b = vec![0xD0];
        b.extend_from_slice(&apdu::tlv::encode_len(raw.len()));
        b.extend_from_slice(&raw);
        let cmd = ProactiveCommand::parse(&b)
            .map_err(|e| ToolkitError::BadCommand(format!("command does not decode: {e}")))?;
        self.details = None;
        self.queued.push(cmd);
        Ok(number)
    }

    /// Queue a typed command (the `ota::cat` codec builds it). Returns its command number.
    pub fn send_command(&mut self, qualifier: u8, command: Command) -> Result<u8, ToolkitError> {
        let t = command
            .command_type()
            .map(u8::from)
            .ok_or_else(|| ToolkitError::BadCommand("untyped command".into()))?;
        self.check(t)?;
        let cmd = ProactiveCommand::new(self.next_number, qualifier, command);
        let text_cmd = matches!(
            cmd.command(),
            Command::DisplayText(_) | Command::GetInput(_)
        );
        if text_cmd && cmd.buffer_len() > MAX_TEXT_COMMAND_LEN {
            return Err(ToolkitError::BadCommand(format!(
                "{:?} would be {} bytes, the limit is {MAX_TEXT_COMMAND_LEN}",
                cmd.details().command_type,
                cmd.buffer_len()
            )));
        }
        let number = self.number();
        debug_assert_eq!(number, cmd.details().number);
        self.queued.push(cmd);
        Ok(number)
    }

    /// DISPLAY TEXT (TS 102 223 §6.6.1); `confirm` = high priority and wait for the user to
    /// clear the text (qualifier `81`). The text is coded GSM 8-bit, or UCS2 when needed.
    pub fn display_text(&mut self, text: &str, confirm: bool) -> Result<u8, ToolkitError> {
        let q = if confirm { 0x81 } else { 0x00 };
        self.send_command(
            q,
            Command::DisplayText(DisplayText {
                text: TextString::auto(text),
                icon: None,
                immediate_response: false,
                duration: None,
                other: Vec::new(),
            }),
        )
    }

    /// GET INKEY (§6.6.2); `yes_no` asks for a yes/no answer.
    pub fn get_inkey(&mut self, prompt: &str, yes_no: bool) -> Result<u8, ToolkitError> {
        let q = if yes_no { 0x04 } else { 0x01 };
        self.send_command(
            q,
            Command::GetInkey(GetInkey {
                text: TextString::auto(prompt),
                icon: None,
                duration: None,
                other: Vec::new(),
            }),
        )
    }

    /// GET INPUT (§6.6.3): `hidden` for PINs, `digits` for digits only, lengths `min..=max`.
    pub fn get_input(
        &mut self,
        prompt: &str,
        hidden: bool,
        digits: bool,
        min: u8,
        max: u8,
    ) -> Result<u8, ToolkitError> {
        let mut q = 0u8;
        if !digits {
            q |= 0x01;
        }
        if hidden {
            q |= 0x04;
        }
        self.send_command(
            q,
            Command::GetInput(GetInput {
                text: TextString::auto(prompt),
                response_length: ResponseLength { min, max },
                default_text: None,
                icon: None,
                duration: None,
                other: Vec::new(),
            }),
        )
    }

    /// SELECT ITEM (§6.6.8): items numbered from 1 in the given order.
    pub fn select_item(&mut self, title: &str, items: &[&str]) -> Result<u8, ToolkitError> {
        let items = items
            .iter()
            .enumerate()
            .map(|(i, t)| Item::new((i + 1) as u8, t))
            .collect();
        self.send_command(
            0x00,
            Command::SelectItem(SelectItem {
                alpha: Some(AlphaId::new(title)),
                items,
                next_actions: None,
                default_item: None,
                icon: None,
                other: Vec::new(),
            }),
        )
    }

    /// MORE TIME (§6.6.4).
    pub fn more_time(&mut self) -> Result<u8, ToolkitError> {
        self.send_command(0x00, Command::MoreTime)
    }

    /// PROVIDE LOCAL INFORMATION (§6.6.15) with this qualifier (`00` location, `01` IMEI, …).
    pub fn provide_local_information(&mut self, qualifier: u8) -> Result<u8, ToolkitError> {
        self.send_command(qualifier, Command::ProvideLocalInformation)
    }
}

fn find(objs: &[CompTlv], tag: u8, occurrence: usize) -> Option<&[u8]> {
    objs.iter()
        .filter(|o| !o.tag.three_byte && o.tag.value == u16::from(tag & 0x7F))
        .nth(occurrence.saturating_sub(1))
        .map(|o| o.value.as_slice())
}

/// The TERMINAL RESPONSE to the applet's last proactive command (TS 102 241 §6.6
/// `ProactiveResponseHandler`), from [`AppletContext::proactive_response`].
#[derive(Clone)]
pub struct ProactiveResponseHandler {
    tr: TerminalResponse,
}

// Not derived: the response may carry what the user typed (a PIN in GET INPUT).
impl std::fmt::Debug for ProactiveResponseHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProactiveResponseHandler")
            .field("command", &self.tr.details())
            .field("result", &self.tr.result().general)
            .finish_non_exhaustive()
    }
}

impl ProactiveResponseHandler {
    pub(crate) fn new(tr: TerminalResponse) -> Self {
        ProactiveResponseHandler { tr }
    }
    /// The parsed TERMINAL RESPONSE.
    pub fn response(&self) -> &TerminalResponse {
        &self.tr
    }
    /// `getGeneralResult`.
    pub fn general_result(&self) -> GeneralResult {
        self.tr.result().general
    }
    /// The raw general result byte.
    pub fn general_result_byte(&self) -> u8 {
        u8::from(self.tr.result().general)
    }
    /// `getAdditionalInformation`.
    pub fn additional_information(&self) -> &[u8] {
        &self.tr.result().additional
    }
    /// Command number and type of the command answered.
    pub fn command(&self) -> (u8, u8) {
        let d = self.tr.details();
        (d.number, u8::from(d.command_type))
    }
    /// `getItemIdentifier` (SELECT ITEM).
    pub fn item_identifier(&self) -> Option<u8> {
        self.tr.item_id()
    }
    /// The text string (GET INPUT / GET INKEY), decoded from GSM 7-bit packed, 8-bit or UCS2.
    pub fn text(&self) -> Option<String> {
        self.tr.text().and_then(|t| t.text().ok())
    }
    /// The raw text string object.
    pub fn text_string(&self) -> Option<&TextString> {
        self.tr.text()
    }
    /// `findTLV`: value of the `occurrence`-th (from 1) object with `tag` (CR ignored).
    pub fn find_tlv(&self, tag: u8, occurrence: usize) -> Option<&[u8]> {
        find(self.tr.objects(), tag, occurrence)
    }
}

/// The ENVELOPE being processed (TS 102 241 §6.3 `EnvelopeHandler`).
#[derive(Debug, Clone, Default)]
pub struct EnvelopeHandler {
    tag: u8,
    objects: Vec<CompTlv>,
}

impl EnvelopeHandler {
    pub(crate) fn new(tag: u8, objects: Vec<CompTlv>) -> Self {
        EnvelopeHandler { tag, objects }
    }
    /// The envelope's COMPREHENSION-TLVs, encoded.
    pub(crate) fn raw(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for o in &self.objects {
            o.emit_into(&mut b);
        }
        b
    }

    /// `getEnvelopeTag` (`D1`, `D3`, `D6`, …).
    pub fn tag(&self) -> u8 {
        self.tag
    }
    /// `findTLV`.
    pub fn find_tlv(&self, tag: u8, occurrence: usize) -> Option<&[u8]> {
        find(&self.objects, tag, occurrence)
    }
    /// `getItemIdentifier` (MENU SELECTION).
    pub fn item_identifier(&self) -> Option<u8> {
        self.find_tlv(0x10, 1).and_then(|v| v.first().copied())
    }
    /// The SMS TPDU (SMS-PP download).
    pub fn tpdu(&self) -> Option<&[u8]> {
        self.find_tlv(0x0B, 1)
    }
}

/// The data an applet answers an ENVELOPE with (TS 102 241 §6.4 `EnvelopeResponseHandler`);
/// `post` makes it the ENVELOPE's response data (`9000` + data, or `61xx` for T=0).
#[derive(Debug, Clone, Default)]
pub struct EnvelopeResponseHandler {
    data: Vec<u8>,
    pub(crate) posted: Option<Vec<u8>>,
}

impl EnvelopeResponseHandler {
    /// `appendTLV`.
    pub fn append_tlv(&mut self, tag: u8, value: &[u8]) {
        CompTlv::new(tag & 0x7F, tag & 0x80 != 0, value).emit_into(&mut self.data);
    }
    /// Append raw bytes.
    pub fn append(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }
    /// `post`: send what was appended as the ENVELOPE response data.
    pub fn post(&mut self) {
        self.posted = Some(std::mem::take(&mut self.data));
    }
}

/// The volatile toolkit state lent to an applet during `process_toolkit`.
#[derive(Debug, Default)]
pub struct ToolkitIo {
    pub(crate) proactive: ProactiveHandler,
    pub(crate) response: Option<ProactiveResponseHandler>,
    pub(crate) envelope: Option<EnvelopeHandler>,
    pub(crate) envelope_response: EnvelopeResponseHandler,
}

impl<'a> AppletContext<'a> {
    /// The applet's toolkit registry (events, menu entries).
    pub fn registry(&mut self) -> ToolkitRegistry<'_, 'a> {
        ToolkitRegistry { ctx: self }
    }

    /// The proactive handler (only inside `process_toolkit`, after TERMINAL PROFILE, while
    /// no other applet owns the proactive session).
    pub fn proactive_handler(&mut self) -> Result<&mut ProactiveHandler, ToolkitError> {
        match self.toolkit.as_deref_mut() {
            Some(io) if io.proactive.available => Ok(&mut io.proactive),
            _ => Err(ToolkitError::HandlerNotAvailable),
        }
    }

    /// The TERMINAL RESPONSE being delivered (inside a `TerminalResponse` event).
    pub fn proactive_response(&self) -> Result<&ProactiveResponseHandler, ToolkitError> {
        self.toolkit
            .as_deref()
            .and_then(|io| io.response.as_ref())
            .ok_or(ToolkitError::Unavailable("TERMINAL RESPONSE"))
    }

    /// The ENVELOPE being delivered (inside an envelope event).
    pub fn envelope(&self) -> Result<&EnvelopeHandler, ToolkitError> {
        self.toolkit
            .as_deref()
            .and_then(|io| io.envelope.as_ref())
            .ok_or(ToolkitError::Unavailable("ENVELOPE"))
    }

    /// The envelope response handler (inside an envelope event).
    pub fn envelope_response(&mut self) -> Result<&mut EnvelopeResponseHandler, ToolkitError> {
        match self.toolkit.as_deref_mut() {
            Some(io) if io.envelope.is_some() => Ok(&mut io.envelope_response),
            _ => Err(ToolkitError::Unavailable("ENVELOPE")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolkit_params_round_trip_ts_102_268_example() {
        // Priority 01, 8 timers, text 0A, 1 entry at position 1 id 1, 0 channels, no MSL,
        // no TAR, 0 services (as in the TS 102 268 test applets).
        let b = apdu::hex::decode("01080A01010100000000").unwrap();
        let p = ToolkitParams::parse(&b).unwrap();
        assert_eq!(p.priority, 1);
        assert_eq!(p.max_text_len, 10);
        assert_eq!(p.menu_slots, vec![(1, 1)]);
        assert_eq!(p.msl, None);
        assert!(p.tars.is_empty());
        let q = ToolkitParams {
            msl: Some(0x06),
            tars: vec![[0xB2, 0x00, 0x01]],
            ..p
        };
        assert_eq!(ToolkitParams::parse(&q.emit()).unwrap(), q);
        assert!(ToolkitParams::parse(&[1, 0, 0, 2, 1]).is_err());
        assert!(ToolkitParams::parse(&[1, 0, 0, 0, 0, 0, 2, 1, 2]).is_err());
    }

    #[test]
    fn sim_toolkit_params_of_pysim_hellostk() {
        // pySim's docs/cap-tutorial.rst: `--install-parameters-stk` for HelloSTK.
        let b = apdu::hex::decode("010001001505000000000000000000000000").unwrap();
        let p = ToolkitParams::parse_sim(&b).unwrap();
        assert_eq!(p.priority, 1);
        assert_eq!(p.max_text_len, 0x15);
        assert_eq!(p.menu_slots, vec![(0, 0); 5]);
        assert_eq!((p.msl, p.tars.len()), (None, 0));
        // With MSL and one TAR.
        let b = apdu::hex::decode("0100 02 00 10 01 0101 00 02 0112 03 B00010").unwrap();
        let p = ToolkitParams::parse_sim(&b).unwrap();
        assert_eq!(
            (p.priority, p.msl, p.tars.clone()),
            (2, Some(0x12), vec![[0xB0, 0, 0x10]])
        );
        assert!(ToolkitParams::parse_sim(&[0x05, 0]).is_err());
        assert!(
            ToolkitParams::parse_sim(&apdu::hex::decode("0100 01 00 10 02 0101").unwrap()).is_err()
        );
        assert!(
            ToolkitParams::parse_sim(&apdu::hex::decode("0100 01 00 10 00 00 05 01").unwrap())
                .is_err()
        );
    }

    #[test]
    fn event_download_codes() {
        assert_eq!(
            event::for_event_download(0x04),
            Some(event::EVENT_DOWNLOAD_USER_ACTIVITY)
        );
        assert_eq!(
            event::for_event_download(0x05),
            Some(event::EVENT_DOWNLOAD_IDLE_SCREEN_AVAILABLE)
        );
        assert_eq!(
            event::for_event_download(0x07),
            Some(event::EVENT_DOWNLOAD_LANGUAGE_SELECTION)
        );
        assert_eq!(event::for_event_download(0x0B), Some(25));
        assert_eq!(event::for_event_download(0x10), None);
    }

    #[test]
    fn handler_honours_terminal_profile() {
        let mut tp = TerminalProfile(vec![0; 4]);
        tp.set(bits::DISPLAY_TEXT, true);
        let mut h = ProactiveHandler::new(Some(tp), 1, true);
        assert_eq!(h.display_text("Hi", false), Ok(1));
        assert_eq!(
            h.select_item("t", &["a"]),
            Err(ToolkitError::CommandNotSupported(0x24))
        );
        h.init(0x21, 0x80, 0x02);
        h.append_tlv(0x8D, &[0x04, b'x']);
        assert_eq!(h.find_tlv(0x0D, 1), Some(&[0x04, b'x'][..]));
        assert_eq!(h.send(), Ok(2));
        assert_eq!(h.queued.len(), 2);
        assert_eq!(
            h.queued[1].emit(),
            apdu::hex::decode("D00D810302218082028102 8D020478").unwrap()
        );
        let mut none = ProactiveHandler::new(None, 1, true);
        assert_eq!(none.more_time(), Err(ToolkitError::HandlerNotAvailable));
    }

    /// Issue 12 item 2: a DISPLAY TEXT / GET INPUT longer than 255 bytes is refused, not sent
    /// (180 mixed-script characters, UCS2: 376 bytes).
    #[test]
    fn text_commands_never_exceed_255_bytes() {
        let mut tp = TerminalProfile(vec![0; 4]);
        tp.set(bits::DISPLAY_TEXT, true);
        tp.set(bits::GET_INPUT, true);
        let mut h = ProactiveHandler::new(Some(tp), 1, true);
        let long: String = "Überweisung an Иван 参考 "
            .chars()
            .cycle()
            .take(180)
            .collect();
        let e = h.display_text(&long, true).unwrap_err();
        assert!(
            matches!(&e, ToolkitError::BadCommand(m) if m.contains("the limit is 255")),
            "{e:?}"
        );
        assert!(h.get_input(&long, true, true, 4, 8).is_err());
        assert!(h.queued.is_empty(), "nothing queued");
        assert_eq!(h.display_text(&"x".repeat(200), true), Ok(1));
        assert!(h.queued[0].emit().len() <= 255);
    }
}
