//! The terminal: profile download, the proactive loop, scripted answers, menu selection.

use crate::exchange::{self, Resp};
use crate::record::{MoSms, ProactiveExchange, Shown, ShownRole};
use crate::smspp::{PorContext, PorReport};
use crate::user::UserAnswer;
use crate::TerminalError;
use apdu::tlv::CompTlv;
use ota::cat::objects::{DataObject, DateTimeTz, Language};
use ota::cat::proactive::{qualifier as q, SetUpMenu};
use ota::cat::{
    apdus, Address, CatError, CatResult, Command, CommandDetails, CommandType, Duration, Envelope,
    EventType, GeneralResult, Imei, LocationInfo, ProactiveCommand, TerminalProfile,
    TerminalResponse, TextString,
};
use ota::sms::{Reassembler, SmsSubmit, Udh};
use std::collections::VecDeque;
use transport::Transport;

/// Settings of the simulated terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    /// Class byte of the CAT commands: `80` (UICC, default) or `A0` (GSM SIM).
    pub cla: u8,
    /// The TERMINAL PROFILE sent by [`Terminal::terminal_profile`].
    pub profile: TerminalProfile,
    /// IMEI for PROVIDE LOCAL INFORMATION (qualifier `01`).
    pub imei: Imei,
    /// Location information for PROVIDE LOCAL INFORMATION (qualifier `00`).
    pub location: LocationInfo,
    /// Language (ISO 639, two letters) for PROVIDE LOCAL INFORMATION (qualifier `04`).
    pub language: [u8; 2],
    /// Date-time and time zone (swapped BCD) for PROVIDE LOCAL INFORMATION (qualifier `03`).
    /// Fixed, so runs are reproducible.
    pub date_time: [u8; 7],
    /// Access technology for PROVIDE LOCAL INFORMATION (qualifier `06`; `00` GSM, `08` E-UTRAN).
    pub access_technology: u8,
    /// Proactive commands accepted in one session before giving up.
    pub max_session_commands: usize,
    /// Service-centre address put in SMS-PP download ENVELOPEs (`None`: omitted).
    pub sc_address: Option<Address>,
    /// TP-OA (originating address) digits of the SMS-DELIVERs it builds, international.
    pub originator: String,
    /// TP-SCTS of the SMS-DELIVERs it builds (swapped BCD).
    pub scts: [u8; 7],
}

impl Default for TerminalConfig {
    fn default() -> Self {
        TerminalConfig {
            cla: 0x80,
            profile: TerminalProfile::simulator_default(),
            imei: Imei([0x3A, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
            // MCC 001, MNC 01, LAC 0001, cell id 0001.
            location: LocationInfo(vec![0x00, 0xF1, 0x10, 0x00, 0x01, 0x00, 0x01]),
            language: *b"en",
            // 2024-01-01 00:00:00, UTC.
            date_time: [0x42, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00],
            access_technology: 0x00,
            max_session_commands: 256,
            sc_address: None,
            originator: "1234".into(),
            scts: [0x42, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00],
        }
    }
}

/// A simulated terminal (ME). It owns no card: every operation takes the transport, so the
/// same terminal can follow a card across readers and every APDU goes through the caller's
/// recording tap.
#[derive(Debug, Clone, Default)]
pub struct Terminal {
    /// Settings.
    pub config: TerminalConfig,
    queue: VecDeque<UserAnswer>,
    shown: Vec<Shown>,
    exchanges: Vec<ProactiveExchange>,
    mo_sms: Vec<MoSms>,
    menu: Option<SetUpMenu>,
    events: Vec<EventType>,
    poll_interval: Option<Duration>,
    pub(crate) por_context: Option<PorContext>,
    pub(crate) por_parts: Reassembler,
    pub(crate) captured_por: Option<PorReport>,
    pub(crate) keysets: std::collections::BTreeMap<String, crate::toolkit::KeysetEntry>,
    /// Where keysets were looked for (files read, places checked), for the unknown-keyset
    /// error.
    pub(crate) keyset_places: Vec<String>,
}

/// What [`Terminal::respond`] decided for one proactive command.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The decoded command, when it decoded.
    pub command: Option<ProactiveCommand>,
    /// The TERMINAL RESPONSE to send.
    pub response: TerminalResponse,
    /// Remarks for the log.
    pub notes: Vec<String>,
}

fn pending(sw: u16) -> Option<u8> {
    (sw >> 8 == 0x91).then_some(sw as u8)
}

impl Terminal {
    /// A terminal with these settings.
    pub fn new(config: TerminalConfig) -> Self {
        Terminal {
            config,
            ..Default::default()
        }
    }

    /// Queue a user answer.
    pub fn push_answer(&mut self, a: UserAnswer) {
        self.queue.push_back(a);
    }
    /// Answers not yet used.
    pub fn pending_answers(&self) -> impl Iterator<Item = &UserAnswer> {
        self.queue.iter()
    }
    /// Every text shown to the user so far, in order.
    pub fn shown(&self) -> &[Shown] {
        &self.shown
    }
    /// Every proactive command handled so far, with the answers.
    pub fn exchanges(&self) -> &[ProactiveExchange] {
        &self.exchanges
    }
    /// Every MO short message the card sent through SEND SHORT MESSAGE.
    pub fn mo_sms(&self) -> &[MoSms] {
        &self.mo_sms
    }
    /// The current SET UP MENU, if any.
    pub fn menu(&self) -> Option<&SetUpMenu> {
        self.menu.as_ref()
    }
    /// The events the card registered with SET UP EVENT LIST.
    pub fn events(&self) -> &[EventType] {
        &self.events
    }
    /// The poll interval the card asked for (POLL INTERVAL), if any.
    pub fn poll_interval(&self) -> Option<Duration> {
        self.poll_interval
    }
    /// Forget shown texts, exchanges and MO messages (the menu and events stay).
    pub fn clear_records(&mut self) {
        self.shown.clear();
        self.exchanges.clear();
        self.mo_sms.clear();
    }

    /// Send the TERMINAL PROFILE (TS 102 223 §5.2) and run any proactive session the card
    /// starts. Returns the final status word.
    pub fn terminal_profile(&mut self, card: &mut dyn Transport) -> Result<u16, TerminalError> {
        let apdu = apdus::terminal_profile(self.config.cla, &self.config.profile);
        let r = exchange::send(card, &apdu, "TERMINAL PROFILE")?;
        match r.sw {
            0x9000 => Ok(r.sw),
            sw if pending(sw).is_some() => self.run_session(card, sw),
            sw => Err(TerminalError::Status {
                command: "TERMINAL PROFILE",
                sw,
                meaning: exchange::meaning(sw),
            }),
        }
    }

    /// Run the FETCH / TERMINAL RESPONSE loop while `sw` announces a proactive command
    /// (`91xx`). Returns the last status word (normally `9000`).
    pub fn run_session(
        &mut self,
        card: &mut dyn Transport,
        mut sw: u16,
    ) -> Result<u16, TerminalError> {
        let mut n = 0usize;
        while let Some(le) = pending(sw) {
            if n >= self.config.max_session_commands {
                return Err(TerminalError::RunawaySession(n));
            }
            n += 1;
            let r = exchange::send(card, &apdus::fetch(self.config.cla, le), "FETCH")?;
            if r.sw != 0x9000 && pending(r.sw).is_none() {
                return Err(TerminalError::Status {
                    command: "FETCH",
                    sw: r.sw,
                    meaning: exchange::meaning(r.sw),
                });
            }
            let answer = self.respond(&r.data)?;
            let tr = apdus::terminal_response(self.config.cla, &answer.response);
            let t = exchange::send(card, &tr, "TERMINAL RESPONSE")?;
            self.exchanges.push(ProactiveExchange {
                raw: r.data,
                command: answer.command,
                response: answer.response,
                sw: t.sw,
                notes: answer.notes,
            });
            sw = t.sw;
        }
        Ok(sw)
    }

    /// Ask the card whether a proactive command is pending (STATUS, TS 102 221 §11.1.2, P2
    /// `0C`: no data) and run the session if so. Returns the number of commands handled.
    pub fn fetch_all(&mut self, card: &mut dyn Transport) -> Result<usize, TerminalError> {
        let before = self.exchanges.len();
        let r = exchange::send_raw(card, &[self.config.cla, 0xF2, 0x00, 0x0C, 0x00])?;
        if pending(r.sw).is_some() {
            self.run_session(card, r.sw)?;
        }
        Ok(self.exchanges.len() - before)
    }

    /// Choose an item of the stored SET UP MENU: ENVELOPE (MENU SELECTION, TS 102 223 §7.2),
    /// then the session it starts. Returns the final status word.
    pub fn select_menu_item(
        &mut self,
        card: &mut dyn Transport,
        id: u8,
        help: bool,
    ) -> Result<u16, TerminalError> {
        if !self
            .menu
            .as_ref()
            .is_some_and(|m| m.items.iter().any(|i| i.id == id))
        {
            return Err(TerminalError::NoSuchMenuItem(id));
        }
        self.envelope(card, &Envelope::menu_selection(id, help))
    }

    /// EVENT DOWNLOAD (TS 102 223 §7.5) of `event` with its event-specific objects — sent
    /// only when the card registered the event with SET UP EVENT LIST (`None` otherwise).
    pub fn event_download(
        &mut self,
        card: &mut dyn Transport,
        event: EventType,
        objects: Vec<CompTlv>,
    ) -> Result<Option<u16>, TerminalError> {
        if !self.events.contains(&event) {
            return Ok(None);
        }
        self.envelope(card, &Envelope::event_download(event, objects))
            .map(Some)
    }

    /// Send an ENVELOPE and run the session it starts; returns the final status word.
    pub fn envelope(
        &mut self,
        card: &mut dyn Transport,
        e: &Envelope,
    ) -> Result<u16, TerminalError> {
        let r = self.send_envelope(card, e, false)?;
        self.after(card, r.sw)
    }

    pub(crate) fn send_envelope(
        &mut self,
        card: &mut dyn Transport,
        e: &Envelope,
        le: bool,
    ) -> Result<Resp, TerminalError> {
        exchange::send(card, &apdus::envelope(self.config.cla, e, le), "ENVELOPE")
    }

    /// Run the proactive session if `sw` is `91xx`; otherwise return `sw`.
    pub fn after(&mut self, card: &mut dyn Transport, sw: u16) -> Result<u16, TerminalError> {
        if pending(sw).is_some() {
            self.run_session(card, sw)
        } else {
            Ok(sw)
        }
    }

    /// Decide the TERMINAL RESPONSE for one fetched proactive command (sans I/O): decode it,
    /// record what it shows, consume a user answer, build the response.
    pub fn respond(&mut self, raw: &[u8]) -> Result<Answer, TerminalError> {
        let cmd = match ProactiveCommand::parse(raw) {
            Ok(c) => c,
            Err(e) => return self.undecodable(raw, e),
        };
        let mut notes = Vec::new();
        let response = self.handle(&cmd, &mut notes);
        Ok(Answer {
            command: Some(cmd),
            response,
            notes,
        })
    }

    /// TS 102 223 §6.10: answer a command that does not decode with `32` (data not
    /// understood) or `36` (required values missing), if at least its command details do.
    fn undecodable(&mut self, raw: &[u8], e: CatError) -> Result<Answer, TerminalError> {
        // Skip the `D0` tag and its BER length (`L`, `81 L`, `82 L L`).
        let skip = match raw.get(1) {
            Some(0x81) => 3,
            Some(0x82) => 4,
            _ => 2,
        };
        let details = raw
            .get(skip..)
            .and_then(|b| CompTlv::parse_all(b).ok())
            .and_then(|objs| {
                objs.into_iter()
                    .find(|t| !t.tag.three_byte && t.tag.value == 1)
            })
            .and_then(|t| CommandDetails::parse_value(&t.value, skip).ok());
        let Some(details) = details else {
            return Err(e.into());
        };
        let general = match e {
            CatError::Missing { .. } => GeneralResult::RequiredValuesMissing,
            _ => GeneralResult::DataNotUnderstood,
        };
        Ok(Answer {
            command: None,
            response: TerminalResponse::new(details, CatResult::new(general)),
            notes: vec![format!("could not decode the command: {e}")],
        })
    }

    fn show(&mut self, cmd: &ProactiveCommand, role: ShownRole, text: String) {
        let d = cmd.details();
        self.shown.push(Shown {
            number: d.number,
            command: d.command_type,
            role,
            text,
        });
    }

    fn take(&mut self, accepts: impl Fn(&UserAnswer) -> bool) -> Option<UserAnswer> {
        if self.queue.front().is_some_and(accepts) {
            self.queue.pop_front()
        } else {
            None
        }
    }

    fn handle(&mut self, cmd: &ProactiveCommand, notes: &mut Vec<String>) -> TerminalResponse {
        use GeneralResult as G;
        let ok = |g: GeneralResult| TerminalResponse::for_command(cmd, g);
        let qual = cmd.details().qualifier;
        let nav = |a: &UserAnswer| -> GeneralResult {
            match a {
                UserAnswer::Cancel => G::TerminatedByUser,
                UserAnswer::Back => G::BackwardMove,
                UserAnswer::Help => G::HelpRequired,
                _ => G::NoResponse,
            }
        };
        let text = |t: &TextString| t.text().unwrap_or_else(|e| format!("<{e}>"));
        match cmd.command() {
            Command::DisplayText(c) => {
                self.show(cmd, ShownRole::Text, text(&c.text));
                if c.immediate_response {
                    notes.push("immediate response: text stays on screen".into());
                    return ok(G::Success);
                }
                match self.take(|a| {
                    matches!(
                        a,
                        UserAnswer::Ok
                            | UserAnswer::Cancel
                            | UserAnswer::Back
                            | UserAnswer::Timeout
                    )
                }) {
                    None => {
                        notes.push("no answer queued: user reads and clears the text (00)".into());
                        ok(G::Success)
                    }
                    Some(UserAnswer::Ok) => ok(G::Success),
                    Some(a) => ok(nav(&a)),
                }
            }
            Command::GetInkey(c) => {
                self.show(cmd, ShownRole::Prompt, text(&c.text));
                let yes_no = qual & q::INKEY_YES_NO != 0;
                let a = self.take(|a| {
                    a.is_navigation()
                        || if yes_no {
                            matches!(a, UserAnswer::Yes | UserAnswer::No | UserAnswer::Ok)
                        } else {
                            matches!(a, UserAnswer::Key(_) | UserAnswer::Text(_))
                        }
                });
                let key = |k: char| {
                    let s = k.to_string();
                    if qual & q::INPUT_UCS2 != 0 {
                        TextString::ucs2(&s)
                    } else {
                        TextString::gsm_8bit(&s).unwrap_or_else(|_| TextString::ucs2(&s))
                    }
                };
                match a {
                    None => {
                        notes.push("no answer queued: no response from user (12)".into());
                        ok(G::NoResponse)
                    }
                    Some(UserAnswer::Yes | UserAnswer::Ok) => {
                        ok(G::Success).with_text(TextString::yes_no(true))
                    }
                    Some(UserAnswer::No) => ok(G::Success).with_text(TextString::yes_no(false)),
                    Some(UserAnswer::Key(k)) => ok(G::Success).with_text(key(k)),
                    Some(UserAnswer::Text(t)) => match t.chars().next() {
                        Some(k) => ok(G::Success).with_text(key(k)),
                        None => ok(G::NoResponse),
                    },
                    Some(a) => ok(nav(&a)),
                }
            }
            Command::GetInput(c) => {
                self.show(cmd, ShownRole::Prompt, text(&c.text));
                if let Some(d) = &c.default_text {
                    self.show(cmd, ShownRole::DefaultText, text(d));
                }
                let hidden = qual & q::INPUT_HIDDEN != 0;
                match self.take(|a| {
                    a.is_navigation() || matches!(a, UserAnswer::Text(_) | UserAnswer::Ok)
                }) {
                    None => {
                        notes.push("no answer queued: no response from user (12)".into());
                        ok(G::NoResponse)
                    }
                    Some(UserAnswer::Text(t)) => {
                        let (min, max) = (c.response_length.min, c.response_length.max);
                        let n = t.chars().count();
                        if n < usize::from(min) || (max != 0xFF && n > usize::from(max)) {
                            notes.push(format!(
                                "typed {n} characters outside the response length {min}..{max}"
                            ));
                        }
                        if qual & q::INPUT_ALPHABET == 0
                            && !t
                                .chars()
                                .all(|ch| ch.is_ascii_digit() || "*#+".contains(ch))
                        {
                            notes.push(
                                "typed non-digits where the card asked for digits only".into(),
                            );
                        }
                        notes.push(if hidden {
                            format!("typed {n} hidden characters")
                        } else {
                            format!("typed {t:?}")
                        });
                        ok(G::Success).with_text(input_text(&t, qual, notes))
                    }
                    Some(UserAnswer::Ok) => {
                        let t = c.default_text.as_ref().map(text).unwrap_or_default();
                        ok(G::Success).with_text(input_text(&t, qual, notes))
                    }
                    Some(a) => ok(nav(&a)),
                }
            }
            Command::SelectItem(c) => {
                if let Some(a) = &c.alpha {
                    self.show(cmd, ShownRole::Title, a.text());
                }
                for i in &c.items {
                    self.show(cmd, ShownRole::Item(i.id), i.text.text());
                }
                let fallback = c
                    .default_item
                    .or(c.items.first().map(|i| i.id))
                    .unwrap_or(1);
                match self.take(|a| {
                    a.is_navigation() || matches!(a, UserAnswer::Item(_) | UserAnswer::Ok)
                }) {
                    None => {
                        notes.push("no answer queued: no response from user (12)".into());
                        ok(G::NoResponse)
                    }
                    Some(UserAnswer::Item(i)) => {
                        if !c.items.iter().any(|x| x.id == i) {
                            notes.push(format!("item {i} is not among the items offered"));
                        }
                        ok(G::Success).with_item(i)
                    }
                    Some(UserAnswer::Ok) => ok(G::Success).with_item(fallback),
                    Some(UserAnswer::Help) => ok(G::HelpRequired).with_item(fallback),
                    Some(a) => ok(nav(&a)),
                }
            }
            Command::SetUpMenu(c) => {
                self.show(cmd, ShownRole::Title, c.alpha.text());
                for i in &c.items {
                    self.show(cmd, ShownRole::Item(i.id), i.text.text());
                }
                if c.items.is_empty() {
                    notes.push("menu removed".into());
                    self.menu = None;
                } else {
                    self.menu = Some(c.clone());
                }
                ok(G::Success)
            }
            Command::PlayTone(c) => {
                if let Some(a) = &c.alpha {
                    self.show(cmd, ShownRole::Alpha, a.text());
                }
                ok(G::Success)
            }
            Command::Refresh(c) => {
                if let Some(a) = &c.alpha {
                    self.show(cmd, ShownRole::Alpha, a.text());
                }
                notes.push(format!(
                    "REFRESH mode {qual:02X} acknowledged; the simulator does not re-read files"
                ));
                ok(G::Success)
            }
            Command::SendShortMessage(c) => {
                let alpha = c.alpha.as_ref().map(|a| a.text());
                if let Some(a) = alpha.as_ref().filter(|a| !a.is_empty()) {
                    self.show(cmd, ShownRole::Alpha, a.clone());
                }
                let (submit, por) = self.capture_mo(&c.tpdu, notes);
                self.mo_sms.push(MoSms {
                    number: cmd.details().number,
                    alpha,
                    sc_address: c.address.as_ref().map(Address::digits),
                    tpdu: c.tpdu.clone(),
                    submit,
                    por,
                });
                ok(G::Success)
            }
            Command::MoreTime | Command::PollingOff => ok(G::Success),
            Command::PollInterval(d) => {
                self.poll_interval = Some(*d);
                ok(G::Success).with_duration(*d)
            }
            Command::SetUpEventList(e) => {
                self.events = e.clone();
                ok(G::Success)
            }
            Command::ProvideLocalInformation => self.local_info(cmd, notes),
            Command::Other(_) => match cmd.details().command_type {
                CommandType::Unknown(t) => {
                    notes.push(format!("command type {t:02X} unknown"));
                    ok(G::TypeNotUnderstood)
                }
                t => {
                    notes.push(format!("{t:?} is beyond this terminal's capabilities"));
                    ok(G::BeyondCapabilities)
                }
            },
        }
    }

    fn local_info(&mut self, cmd: &ProactiveCommand, notes: &mut Vec<String>) -> TerminalResponse {
        let ok = TerminalResponse::for_command(cmd, GeneralResult::Success);
        match cmd.details().qualifier {
            0x00 => ok.with_object(self.config.location.to_tlv()),
            0x01 => ok.with_object(self.config.imei.to_tlv()),
            0x03 => ok.with_object(DateTimeTz(self.config.date_time).to_tlv()),
            0x04 => ok.with_object(Language(self.config.language).to_tlv()),
            0x06 => ok.with_object(CompTlv::new(
                ota::cat::tags::ACCESS_TECHNOLOGY,
                true,
                vec![self.config.access_technology],
            )),
            other => {
                notes.push(format!(
                    "PROVIDE LOCAL INFORMATION qualifier {other:02X} not supported"
                ));
                TerminalResponse::for_command(cmd, GeneralResult::BeyondCapabilities)
            }
        }
    }

    /// Decode an MO SMS-SUBMIT and, if it carries a PoR (UDH IE `71`), decode that with the
    /// keyset of the OTA exchange in progress.
    fn capture_mo(
        &mut self,
        tpdu: &[u8],
        notes: &mut Vec<String>,
    ) -> (Result<SmsSubmit, String>, Option<PorReport>) {
        let submit = match SmsSubmit::parse(tpdu) {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!("SMS TPDU is not an SMS-SUBMIT: {e}"));
                return (Err(e.to_string()), None);
            }
        };
        let por_ud = if submit.udhi {
            match Udh::parse(&submit.ud) {
                Ok((udh, _))
                    if udh.find(ota::sms::udh::IEI_RESPONSE_PACKET).is_some()
                        || self.por_parts_open() =>
                {
                    match self.por_parts.push(&submit.ud) {
                        Ok(Some(r)) => r.to_user_data().ok(),
                        Ok(None) => {
                            notes.push("PoR segment stored; waiting for the rest".into());
                            None
                        }
                        Err(e) => {
                            notes.push(format!("PoR segment rejected: {e}"));
                            None
                        }
                    }
                }
                Ok(_) => None,
                Err(e) => {
                    notes.push(format!("bad UDH in the MO message: {e}"));
                    None
                }
            }
        } else {
            None
        };
        let por = por_ud.map(|ud| {
            let report = PorReport::decode(
                crate::smspp::PorPath::SendShortMessage,
                ud,
                self.por_context.as_ref(),
            );
            self.captured_por = Some(report.clone());
            report
        });
        (Ok(submit), por)
    }

    fn por_parts_open(&self) -> bool {
        !self.por_parts.missing().is_empty()
    }
}

/// The text string for a GET INPUT answer, in the coding the qualifier asks for.
fn input_text(t: &str, qual: u8, notes: &mut Vec<String>) -> TextString {
    if qual & q::INPUT_UCS2 != 0 {
        return TextString::ucs2(t);
    }
    let r = if qual & q::INPUT_PACKED != 0 {
        TextString::gsm_packed(t)
    } else {
        TextString::gsm_8bit(t)
    };
    r.unwrap_or_else(|e| {
        notes.push(format!("{e}; sent as UCS2"));
        TextString::ucs2(t)
    })
}
