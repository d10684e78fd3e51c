//! Proactive commands: the BER-TLV template `D0` fetched by the terminal (TS 102 223 §6.6,
//! §9.2; USAT additions in TS 31.111 §6.6).

use super::objects::Address;
use super::objects::{
    byte_enum, flag_tlv, parse_objects, Aid, AlphaId, CommandDetails, DataObject, DefaultText,
    DeviceId, DeviceIdentities, Duration, EventList, EventType, FileList, IconId, Item, ItemId,
    ItemsNextAction, Located, MaybeItem, Objs, ResponseLength, SmsTpdu, Tone,
};
use super::{tags, CatError, TextString};
use apdu::tlv::{CompTlv, LenForm};

byte_enum! {
    /// Type of command (TS 102 223 §9.4).
    CommandType {
        /// `01` REFRESH.
        Refresh = 0x01,
        /// `02` MORE TIME.
        MoreTime = 0x02,
        /// `03` POLL INTERVAL.
        PollInterval = 0x03,
        /// `04` POLLING OFF.
        PollingOff = 0x04,
        /// `05` SET UP EVENT LIST.
        SetUpEventList = 0x05,
        /// `10` SET UP CALL.
        SetUpCall = 0x10,
        /// `11` SEND SS.
        SendSs = 0x11,
        /// `12` SEND USSD.
        SendUssd = 0x12,
        /// `13` SEND SHORT MESSAGE.
        SendShortMessage = 0x13,
        /// `14` SEND DTMF.
        SendDtmf = 0x14,
        /// `15` LAUNCH BROWSER.
        LaunchBrowser = 0x15,
        /// `16` GEOGRAPHICAL LOCATION REQUEST.
        GeoLocationRequest = 0x16,
        /// `20` PLAY TONE.
        PlayTone = 0x20,
        /// `21` DISPLAY TEXT.
        DisplayText = 0x21,
        /// `22` GET INKEY.
        GetInkey = 0x22,
        /// `23` GET INPUT.
        GetInput = 0x23,
        /// `24` SELECT ITEM.
        SelectItem = 0x24,
        /// `25` SET UP MENU.
        SetUpMenu = 0x25,
        /// `26` PROVIDE LOCAL INFORMATION.
        ProvideLocalInformation = 0x26,
        /// `27` TIMER MANAGEMENT.
        TimerManagement = 0x27,
        /// `28` SET UP IDLE MODE TEXT.
        SetUpIdleModeText = 0x28,
        /// `30` PERFORM CARD APDU.
        PerformCardApdu = 0x30,
        /// `31` POWER ON CARD.
        PowerOnCard = 0x31,
        /// `32` POWER OFF CARD.
        PowerOffCard = 0x32,
        /// `33` GET READER STATUS.
        GetReaderStatus = 0x33,
        /// `34` RUN AT COMMAND.
        RunAtCommand = 0x34,
        /// `35` LANGUAGE NOTIFICATION.
        LanguageNotification = 0x35,
        /// `40` OPEN CHANNEL.
        OpenChannel = 0x40,
        /// `41` CLOSE CHANNEL.
        CloseChannel = 0x41,
        /// `42` RECEIVE DATA.
        ReceiveData = 0x42,
        /// `43` SEND DATA.
        SendData = 0x43,
        /// `44` GET CHANNEL STATUS.
        GetChannelStatus = 0x44,
        /// `81` end of the proactive UICC session (TERMINAL RESPONSE only).
        EndOfSession = 0x81,
    }
}

/// Command qualifier bits (TS 102 223 §8.6), by command.
pub mod qualifier {
    /// DISPLAY TEXT b1: high priority.
    pub const DISPLAY_HIGH_PRIORITY: u8 = 0x01;
    /// DISPLAY TEXT b8: wait for the user to clear the message (else clear after a delay).
    pub const DISPLAY_WAIT_FOR_USER: u8 = 0x80;
    /// GET INKEY / GET INPUT b1: SMS default alphabet (else digits 0-9 * # + only).
    pub const INPUT_ALPHABET: u8 = 0x01;
    /// GET INKEY / GET INPUT b2: UCS2 alphabet.
    pub const INPUT_UCS2: u8 = 0x02;
    /// GET INKEY b3: yes/no answer requested.
    pub const INKEY_YES_NO: u8 = 0x04;
    /// GET INKEY b4: immediate digit response.
    pub const INKEY_IMMEDIATE_DIGIT: u8 = 0x08;
    /// GET INPUT b3: the terminal shall not reveal the user input (hidden entry, e.g. a PIN).
    pub const INPUT_HIDDEN: u8 = 0x04;
    /// GET INPUT b4: user input to be in SMS packed format.
    pub const INPUT_PACKED: u8 = 0x08;
    /// GET INKEY / GET INPUT / SELECT ITEM / SET UP MENU b8: help information available.
    pub const HELP_AVAILABLE: u8 = 0x80;
    /// SELECT ITEM b1: presentation type is specified in b2.
    pub const SELECT_PRESENTATION: u8 = 0x01;
    /// SELECT ITEM b3 / SET UP MENU b1: selection using soft key preferred.
    pub const SOFT_KEY: u8 = 0x04;
    /// SEND SHORT MESSAGE b1: packing by the terminal required.
    pub const SMS_PACKING_REQUIRED: u8 = 0x01;
    /// PLAY TONE b1: use of vibrate alert is up to the terminal.
    pub const TONE_VIBRATE: u8 = 0x01;
}

/// The typed content of a proactive command (after command details and device identities).
/// Objects this codec does not model are kept in `other`, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// DISPLAY TEXT (§6.6.1).
    DisplayText(DisplayText),
    /// GET INKEY (§6.6.2).
    GetInkey(GetInkey),
    /// GET INPUT (§6.6.3).
    GetInput(GetInput),
    /// MORE TIME (§6.6.4).
    MoreTime,
    /// PLAY TONE (§6.6.5).
    PlayTone(PlayTone),
    /// POLL INTERVAL (§6.6.6).
    PollInterval(Duration),
    /// REFRESH (§6.6.13).
    Refresh(Refresh),
    /// SET UP MENU (§6.6.7).
    SetUpMenu(SetUpMenu),
    /// SELECT ITEM (§6.6.8).
    SelectItem(SelectItem),
    /// SEND SHORT MESSAGE (§6.6.9, TS 31.111 §6.6.9).
    SendShortMessage(SendShortMessage),
    /// POLLING OFF (§6.6.14).
    PollingOff,
    /// PROVIDE LOCAL INFORMATION (§6.6.15); the qualifier selects the information.
    ProvideLocalInformation,
    /// SET UP EVENT LIST (§6.6.16).
    SetUpEventList(Vec<EventType>),
    /// Any other command type, objects kept as sent.
    Other(Vec<CompTlv>),
}

/// DISPLAY TEXT (TS 102 223 §6.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayText {
    /// Text to display.
    pub text: TextString,
    /// Icon.
    pub icon: Option<IconId>,
    /// Immediate response requested (the TERMINAL RESPONSE is sent at once; text sustained).
    pub immediate_response: bool,
    /// Display for this long.
    pub duration: Option<Duration>,
    /// Other objects (text attribute, frame identifier, …).
    pub other: Vec<CompTlv>,
}

/// GET INKEY (TS 102 223 §6.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetInkey {
    /// Prompt.
    pub text: TextString,
    /// Icon.
    pub icon: Option<IconId>,
    /// Wait at most this long.
    pub duration: Option<Duration>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

/// GET INPUT (TS 102 223 §6.6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetInput {
    /// Prompt.
    pub text: TextString,
    /// Allowed length of the answer.
    pub response_length: ResponseLength,
    /// Default answer offered.
    pub default_text: Option<TextString>,
    /// Icon.
    pub icon: Option<IconId>,
    /// Wait at most this long (TS 102 223 Rel-7+).
    pub duration: Option<Duration>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

/// PLAY TONE (TS 102 223 §6.6.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayTone {
    /// Text shown while the tone plays.
    pub alpha: Option<AlphaId>,
    /// Tone (absent = general beep).
    pub tone: Option<Tone>,
    /// Tone duration.
    pub duration: Option<Duration>,
    /// Icon.
    pub icon: Option<IconId>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

/// REFRESH (TS 102 223 §6.6.13); the qualifier is the refresh mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// Files changed.
    pub files: Option<FileList>,
    /// Application concerned.
    pub aid: Option<Vec<u8>>,
    /// Text shown.
    pub alpha: Option<AlphaId>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

/// SET UP MENU (TS 102 223 §6.6.7). An empty item list means "remove the menu" (null item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetUpMenu {
    /// Menu title.
    pub alpha: AlphaId,
    /// Menu items.
    pub items: Vec<Item>,
    /// Items next action indicator.
    pub next_actions: Option<Vec<u8>>,
    /// Title icon.
    pub icon: Option<IconId>,
    /// Other objects (item icon list, text attributes, …).
    pub other: Vec<CompTlv>,
}

/// SELECT ITEM (TS 102 223 §6.6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectItem {
    /// Title.
    pub alpha: Option<AlphaId>,
    /// Items.
    pub items: Vec<Item>,
    /// Items next action indicator.
    pub next_actions: Option<Vec<u8>>,
    /// Default item.
    pub default_item: Option<u8>,
    /// Title icon.
    pub icon: Option<IconId>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

/// SEND SHORT MESSAGE (TS 102 223 §6.6.9; TS 31.111: the TPDU is an SMS-SUBMIT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendShortMessage {
    /// Text shown while sending (a null alpha identifier asks for no indication).
    pub alpha: Option<AlphaId>,
    /// RP destination address (service centre).
    pub address: Option<Address>,
    /// The TPDU (TS 23.040 SMS-SUBMIT).
    pub tpdu: Vec<u8>,
    /// Icon.
    pub icon: Option<IconId>,
    /// Other objects.
    pub other: Vec<CompTlv>,
}

impl DisplayText {
    /// Display `text`, nothing else.
    pub fn new(text: TextString) -> Self {
        DisplayText {
            text,
            icon: None,
            immediate_response: false,
            duration: None,
            other: Vec::new(),
        }
    }
}

impl GetInkey {
    /// Ask for one key with prompt `text`.
    pub fn new(text: TextString) -> Self {
        GetInkey {
            text,
            icon: None,
            duration: None,
            other: Vec::new(),
        }
    }
}

impl GetInput {
    /// Ask for `min..=max` characters with prompt `text`.
    pub fn new(text: TextString, min: u8, max: u8) -> Self {
        GetInput {
            text,
            response_length: ResponseLength { min, max },
            default_text: None,
            icon: None,
            duration: None,
            other: Vec::new(),
        }
    }
}

impl SetUpMenu {
    /// A menu titled `title` (an empty item list removes the menu).
    pub fn new(title: &str, items: Vec<Item>) -> Self {
        SetUpMenu {
            alpha: AlphaId::new(title),
            items,
            next_actions: None,
            icon: None,
            other: Vec::new(),
        }
    }
}

impl SelectItem {
    /// A selection titled `title` (`None`: no title).
    pub fn new(title: Option<&str>, items: Vec<Item>) -> Self {
        SelectItem {
            alpha: title.map(AlphaId::new),
            items,
            next_actions: None,
            default_item: None,
            icon: None,
            other: Vec::new(),
        }
    }
}

impl SendShortMessage {
    /// Send this SMS-SUBMIT TPDU, with no alpha identifier or address.
    pub fn new(tpdu: Vec<u8>) -> Self {
        SendShortMessage {
            alpha: None,
            address: None,
            tpdu,
            icon: None,
            other: Vec::new(),
        }
    }
}

impl Command {
    /// The type of command for the command details.
    pub fn command_type(&self) -> Option<CommandType> {
        Some(match self {
            Command::DisplayText(_) => CommandType::DisplayText,
            Command::GetInkey(_) => CommandType::GetInkey,
            Command::GetInput(_) => CommandType::GetInput,
            Command::MoreTime => CommandType::MoreTime,
            Command::PlayTone(_) => CommandType::PlayTone,
            Command::PollInterval(_) => CommandType::PollInterval,
            Command::Refresh(_) => CommandType::Refresh,
            Command::SetUpMenu(_) => CommandType::SetUpMenu,
            Command::SelectItem(_) => CommandType::SelectItem,
            Command::SendShortMessage(_) => CommandType::SendShortMessage,
            Command::PollingOff => CommandType::PollingOff,
            Command::ProvideLocalInformation => CommandType::ProvideLocalInformation,
            Command::SetUpEventList(_) => CommandType::SetUpEventList,
            Command::Other(_) => return None,
        })
    }

    /// The usual destination device (TS 102 223 §6.6 / TS 31.124 sequences).
    pub fn default_destination(&self) -> DeviceId {
        match self {
            Command::DisplayText(_) => DeviceId::Display,
            Command::PlayTone(_) => DeviceId::Earpiece,
            Command::SendShortMessage(_) => DeviceId::Network,
            _ => DeviceId::Terminal,
        }
    }

    fn decode(t: CommandType, o: &mut Objs) -> Result<Command, CatError> {
        // TS 102 223 §6.6.7/§6.6.8: at least one item; a null item (`8F 00`, "remove the
        // menu") only alone and only in SET UP MENU.
        fn item_list(o: &mut Objs, allow_null: bool) -> Result<Vec<Item>, CatError> {
            let first = o.offset_of(tags::ITEM);
            let all = o.take_all::<MaybeItem>()?;
            let nulls = all.iter().filter(|m| m.0.is_none()).count();
            let offset = first.unwrap_or(0);
            if all.is_empty() {
                return Err(CatError::Missing {
                    context: "proactive command",
                    object: "item",
                    tag: tags::ITEM,
                });
            }
            if nulls > 0 && (!allow_null || all.len() > 1) {
                return Err(CatError::BadValue {
                    offset,
                    object: "item",
                    reason: format!("null item among {} item objects (only a lone null item in SET UP MENU is allowed)", all.len()),
                });
            }
            Ok(all.into_iter().filter_map(|m| m.0).collect())
        }
        Ok(match t {
            CommandType::DisplayText => Command::DisplayText(DisplayText {
                text: o.require()?,
                icon: o.take()?,
                immediate_response: o.flag(tags::IMMEDIATE_RESPONSE, "immediate response")?,
                duration: o.take()?,
                other: Vec::new(),
            }),
            CommandType::GetInkey => Command::GetInkey(GetInkey {
                text: o.require()?,
                icon: o.take()?,
                duration: o.take()?,
                other: Vec::new(),
            }),
            CommandType::GetInput => Command::GetInput(GetInput {
                text: o.require()?,
                response_length: o.require()?,
                default_text: o.take::<DefaultText>()?.map(|d| d.0),
                icon: o.take()?,
                duration: o.take()?,
                other: Vec::new(),
            }),
            CommandType::MoreTime => Command::MoreTime,
            CommandType::PlayTone => Command::PlayTone(PlayTone {
                alpha: o.take()?,
                tone: o.take()?,
                duration: o.take()?,
                icon: o.take()?,
                other: Vec::new(),
            }),
            CommandType::PollInterval => Command::PollInterval(o.require()?),
            CommandType::Refresh => Command::Refresh(Refresh {
                files: o.take()?,
                aid: o.take::<Aid>()?.map(|a| a.0),
                alpha: o.take()?,
                other: Vec::new(),
            }),
            CommandType::SetUpMenu => Command::SetUpMenu(SetUpMenu {
                alpha: o.require()?,
                items: item_list(o, true)?,
                next_actions: o.take::<ItemsNextAction>()?.map(|n| n.0),
                icon: o.take()?,
                other: Vec::new(),
            }),
            CommandType::SelectItem => Command::SelectItem(SelectItem {
                alpha: o.take()?,
                items: item_list(o, false)?,
                next_actions: o.take::<ItemsNextAction>()?.map(|n| n.0),
                default_item: o.take::<ItemId>()?.map(|i| i.0),
                icon: o.take()?,
                other: Vec::new(),
            }),
            CommandType::SendShortMessage => Command::SendShortMessage(SendShortMessage {
                alpha: o.take()?,
                address: o.take()?,
                tpdu: o.require::<SmsTpdu>()?.0,
                icon: o.take()?,
                other: Vec::new(),
            }),
            CommandType::PollingOff => Command::PollingOff,
            CommandType::ProvideLocalInformation => Command::ProvideLocalInformation,
            CommandType::SetUpEventList => Command::SetUpEventList(o.require::<EventList>()?.0),
            _ => Command::Other(Vec::new()),
        })
    }

    fn set_other(&mut self, rest: Vec<CompTlv>) {
        match self {
            Command::DisplayText(c) => c.other = rest,
            Command::GetInkey(c) => c.other = rest,
            Command::GetInput(c) => c.other = rest,
            Command::PlayTone(c) => c.other = rest,
            Command::Refresh(c) => c.other = rest,
            Command::SetUpMenu(c) => c.other = rest,
            Command::SelectItem(c) => c.other = rest,
            Command::SendShortMessage(c) => c.other = rest,
            Command::Other(o) => *o = rest,
            // These commands define no further objects; extra ones stay in
            // `ProactiveCommand::objects` only.
            Command::MoreTime
            | Command::PollInterval(_)
            | Command::PollingOff
            | Command::ProvideLocalInformation
            | Command::SetUpEventList(_) => {}
        }
    }

    /// The data objects after device identities, in TS 102 223 §6.6 order.
    pub fn to_tlvs(&self) -> Vec<CompTlv> {
        let mut v = Vec::new();
        fn opt<T: DataObject>(v: &mut Vec<CompTlv>, x: &Option<T>) {
            if let Some(x) = x {
                v.push(x.to_tlv());
            }
        }
        fn items(v: &mut Vec<CompTlv>, items: &[Item]) {
            if items.is_empty() {
                v.push(MaybeItem(None).to_tlv());
            }
            v.extend(items.iter().map(|i| MaybeItem(Some(i.clone())).to_tlv()));
        }
        match self {
            Command::DisplayText(c) => {
                v.push(c.text.to_tlv());
                opt(&mut v, &c.icon);
                if c.immediate_response {
                    v.push(flag_tlv(tags::IMMEDIATE_RESPONSE, true));
                }
                opt(&mut v, &c.duration);
                v.extend(c.other.iter().cloned());
            }
            Command::GetInkey(c) => {
                v.push(c.text.to_tlv());
                opt(&mut v, &c.icon);
                opt(&mut v, &c.duration);
                v.extend(c.other.iter().cloned());
            }
            Command::GetInput(c) => {
                v.push(c.text.to_tlv());
                v.push(c.response_length.to_tlv());
                opt(&mut v, &c.default_text.clone().map(DefaultText));
                opt(&mut v, &c.icon);
                opt(&mut v, &c.duration);
                v.extend(c.other.iter().cloned());
            }
            Command::PlayTone(c) => {
                opt(&mut v, &c.alpha);
                opt(&mut v, &c.tone);
                opt(&mut v, &c.duration);
                opt(&mut v, &c.icon);
                v.extend(c.other.iter().cloned());
            }
            Command::PollInterval(d) => v.push(d.to_tlv()),
            Command::Refresh(c) => {
                opt(&mut v, &c.files);
                opt(&mut v, &c.aid.clone().map(Aid));
                opt(&mut v, &c.alpha);
                v.extend(c.other.iter().cloned());
            }
            Command::SetUpMenu(c) => {
                v.push(c.alpha.to_tlv());
                items(&mut v, &c.items);
                opt(&mut v, &c.next_actions.clone().map(ItemsNextAction));
                opt(&mut v, &c.icon);
                v.extend(c.other.iter().cloned());
            }
            Command::SelectItem(c) => {
                opt(&mut v, &c.alpha);
                items(&mut v, &c.items);
                opt(&mut v, &c.next_actions.clone().map(ItemsNextAction));
                opt(&mut v, &c.default_item.map(ItemId));
                opt(&mut v, &c.icon);
                v.extend(c.other.iter().cloned());
            }
            Command::SendShortMessage(c) => {
                opt(&mut v, &c.alpha);
                opt(&mut v, &c.address);
                v.push(SmsTpdu(c.tpdu.clone()).to_tlv());
                opt(&mut v, &c.icon);
                v.extend(c.other.iter().cloned());
            }
            Command::SetUpEventList(e) => v.push(EventList(e.clone()).to_tlv()),
            Command::MoreTime | Command::PollingOff | Command::ProvideLocalInformation => {}
            Command::Other(o) => v.extend(o.iter().cloned()),
        }
        v
    }

    /// Everything this command shows the user, as text (alpha identifiers, prompts, items).
    pub fn shown_texts(&self) -> Vec<String> {
        let t = |x: &TextString| x.text().unwrap_or_else(|e| format!("<{e}>"));
        match self {
            Command::DisplayText(c) => vec![t(&c.text)],
            Command::GetInkey(c) => vec![t(&c.text)],
            Command::GetInput(c) => {
                let mut v = vec![t(&c.text)];
                v.extend(c.default_text.as_ref().map(t));
                v
            }
            Command::PlayTone(c) => c.alpha.iter().map(AlphaId::text).collect(),
            Command::Refresh(c) => c.alpha.iter().map(AlphaId::text).collect(),
            Command::SetUpMenu(c) => std::iter::once(c.alpha.text())
                .chain(c.items.iter().map(|i| i.text.text()))
                .collect(),
            Command::SelectItem(c) => c
                .alpha
                .iter()
                .map(AlphaId::text)
                .chain(c.items.iter().map(|i| i.text.text()))
                .collect(),
            Command::SendShortMessage(c) => c.alpha.iter().map(AlphaId::text).collect(),
            _ => Vec::new(),
        }
    }
}

/// A proactive command (TS 102 223 §6.6): `D0` template with command details, device
/// identities and the command's objects.
///
/// A parsed command keeps the exact objects it came from ([`ProactiveCommand::emit`] gives
/// the input back byte for byte); a built one is encoded canonically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProactiveCommand {
    details: CommandDetails,
    devices: DeviceIdentities,
    command: Command,
    objects: Vec<CompTlv>,
    len_form: LenForm,
}

impl ProactiveCommand {
    /// Build a command numbered `number` with this qualifier, from the UICC to the command's
    /// usual destination. For [`Command::Other`] use [`ProactiveCommand::with_type`].
    pub fn new(number: u8, qualifier: u8, command: Command) -> Self {
        let t = command.command_type().unwrap_or(CommandType::Unknown(0));
        Self::with_type(
            CommandDetails {
                number,
                command_type: t,
                qualifier,
            },
            command,
        )
    }

    /// Build with explicit command details.
    pub fn with_type(details: CommandDetails, command: Command) -> Self {
        let devices = DeviceIdentities::new(DeviceId::Uicc, command.default_destination());
        Self::with_devices(details, devices, command)
    }

    /// Build with explicit command details and device identities.
    pub fn with_devices(
        details: CommandDetails,
        devices: DeviceIdentities,
        command: Command,
    ) -> Self {
        let mut objects = vec![details.to_tlv(), devices.to_tlv()];
        objects.extend(command.to_tlvs());
        ProactiveCommand {
            details,
            devices,
            command,
            objects,
            len_form: LenForm::Minimal,
        }
    }

    /// Parse `D0 L objects`. Trailing bytes after the template are an error.
    pub fn parse(b: &[u8]) -> Result<Self, CatError> {
        let (objs, len_form) = template(b, tags::PROACTIVE_COMMAND, "proactive command")?;
        let mut o = Objs::new(&objs, "proactive command");
        let details: CommandDetails = o.require()?;
        let devices: DeviceIdentities = o.require()?;
        let mut command = Command::decode(details.command_type, &mut o)?;
        command.set_other(o.rest());
        let objects = objs.into_iter().map(|l| l.tlv).collect();
        Ok(ProactiveCommand {
            details,
            devices,
            command,
            objects,
            len_form,
        })
    }

    /// Command details.
    pub fn details(&self) -> CommandDetails {
        self.details
    }
    /// Device identities.
    pub fn devices(&self) -> DeviceIdentities {
        self.devices
    }
    /// The typed command.
    pub fn command(&self) -> &Command {
        &self.command
    }
    /// The data objects as sent (command details and device identities included).
    pub fn objects(&self) -> &[CompTlv] {
        &self.objects
    }
    /// Number of bytes [`ProactiveCommand::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        template_len(&self.objects, self.len_form)
    }
    /// The `D0` template bytes.
    pub fn emit(&self) -> Vec<u8> {
        emit_template(tags::PROACTIVE_COMMAND, &self.objects, self.len_form)
    }
}

/// Parse a BER-TLV template with a one-byte tag and COMPREHENSION-TLV content.
pub(crate) fn template(
    b: &[u8],
    tag: u8,
    what: &'static str,
) -> Result<(Vec<Located>, LenForm), CatError> {
    let (t, len_form, start, end) = template_header(b, what)?;
    if t != tag {
        return Err(CatError::Template {
            offset: 0,
            expected: what,
            expected_tag: tag,
            found: t,
        });
    }
    let content = b.get(start..end).unwrap_or_default();
    Ok((parse_objects(content, start)?, len_form))
}

/// Read a one-byte-tag BER template header: (tag, length form, content start, content end).
pub(crate) fn template_header(
    b: &[u8],
    what: &'static str,
) -> Result<(u8, LenForm, usize, usize), CatError> {
    use apdu::tlv::TlvError;
    let tag = *b.first().ok_or(TlvError::TagTruncated { offset: 0 })?;
    let first = *b.get(1).ok_or(TlvError::LenTruncated { offset: 1 })?;
    let (len, form, n) = match first {
        0x00..=0x7F => (first as usize, LenForm::Minimal, 1),
        0x81..=0x83 => {
            let k = (first & 0x7F) as usize;
            let lb = b
                .get(2..2 + k)
                .ok_or(TlvError::LenTruncated { offset: 1 })?;
            let len = lb.iter().fold(0usize, |a, &x| a << 8 | x as usize);
            let form = if k == 1 && len >= 0x80 {
                LenForm::Minimal
            } else {
                LenForm::Long(k as u8)
            };
            (len, form, 1 + k)
        }
        _ => {
            return Err(TlvError::BadLen {
                offset: 1,
                byte: first,
            }
            .into())
        }
    };
    let start = 1 + n;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= b.len())
        .ok_or(TlvError::ValueTruncated {
            offset: 1,
            len,
            available: b.len().saturating_sub(start),
        })?;
    if end < b.len() {
        return Err(CatError::Trailing {
            offset: end,
            len: b.len() - end,
            what,
        });
    }
    Ok((tag, form, start, end))
}

fn long_form_ok(body: usize, len_form: LenForm) -> Option<u8> {
    match len_form {
        LenForm::Long(n) if (1..=3).contains(&n) && (body >> (8 * n as u32)) == 0 => Some(n),
        _ => None,
    }
}

/// Encoded size of a one-byte-tag template around `objects`.
pub(crate) fn template_len(objects: &[CompTlv], len_form: LenForm) -> usize {
    let body: usize = objects.iter().map(CompTlv::buffer_len).sum();
    let len_len = match long_form_ok(body, len_form) {
        Some(n) => 1 + n as usize,
        None => apdu::tlv::encode_len(body).len(),
    };
    1 + len_len + body
}

/// Emit a one-byte-tag BER template around COMPREHENSION-TLVs.
pub(crate) fn emit_template(tag: u8, objects: &[CompTlv], len_form: LenForm) -> Vec<u8> {
    let body: usize = objects.iter().map(CompTlv::buffer_len).sum();
    let mut out = Vec::with_capacity(body + 4);
    out.push(tag);
    match long_form_ok(body, len_form) {
        Some(n) => {
            out.push(0x80 | n);
            for i in (0..n).rev() {
                out.push((body >> (8 * i as u32)) as u8);
            }
        }
        _ => out.extend(apdu::tlv::encode_len(body)),
    }
    for o in objects {
        o.emit_into(&mut out);
    }
    out
}
