//! Simple data objects of TS 102 223 §8, each a typed value with `parse_value`/`emit_value`
//! through the [`DataObject`] trait, carried in COMPREHENSION-TLVs (TS 101 220 §7.1.1).

use super::proactive::CommandType;
use super::tags;
use super::text::AlphaText;
use super::{CatError, TextString};
use apdu::tlv::CompTlv;

/// A COMPREHENSION-TLV data object with a fixed tag (TS 102 223 §8, tags in §9.3).
pub trait DataObject: Sized {
    /// Tag value without the CR bit.
    const TAG: u8;
    /// Human name for errors.
    const NAME: &'static str;
    /// The CR flag written when building (as used by the TS 31.124 test sequences).
    const CR: bool = true;
    /// Decode the value bytes; `offset` is the object's offset, for errors.
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError>;
    /// Append the value bytes.
    fn emit_value(&self, out: &mut Vec<u8>);
    /// The whole data object, minimal length, default CR.
    fn to_tlv(&self) -> CompTlv {
        let mut v = Vec::new();
        self.emit_value(&mut v);
        CompTlv::new(Self::TAG, Self::CR, v)
    }
}

fn bad(offset: usize, object: &'static str, reason: impl Into<String>) -> CatError {
    CatError::BadValue {
        offset,
        object,
        reason: reason.into(),
    }
}

fn exact<const N: usize>(
    v: &[u8],
    offset: usize,
    object: &'static str,
) -> Result<[u8; N], CatError> {
    <[u8; N]>::try_from(v).map_err(|_| {
        bad(
            offset,
            object,
            format!("length {} where {N} is required", v.len()),
        )
    })
}

/// A data object together with the offset of its tag in the parsed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Located {
    pub offset: usize,
    pub tlv: CompTlv,
}

/// Split `b` (whose first byte sits at `base`) into data objects with their offsets.
pub(crate) fn parse_objects(b: &[u8], base: usize) -> Result<Vec<Located>, CatError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rest) = b.get(at..).filter(|r| !r.is_empty()) {
        let (tlv, n) = CompTlv::parse_one(rest, base + at)?;
        out.push(Located {
            offset: base + at,
            tlv,
        });
        at += n;
    }
    Ok(out)
}

fn tag_is(t: &CompTlv, tag: u8) -> bool {
    !t.tag.three_byte && t.tag.value == u16::from(tag & 0x7F)
}

/// Typed extraction from a parsed object list; what is not taken stays in [`Objs::rest`].
pub(crate) struct Objs<'a> {
    list: &'a [Located],
    used: Vec<bool>,
    context: &'static str,
}

impl<'a> Objs<'a> {
    pub fn new(list: &'a [Located], context: &'static str) -> Self {
        Objs {
            list,
            used: vec![false; list.len()],
            context,
        }
    }

    fn next_index(&self, tag: u8) -> Option<usize> {
        (0..self.list.len()).find(|&i| !self.used[i] && tag_is(&self.list[i].tlv, tag))
    }

    /// Offset of the first unused object with this tag.
    pub fn offset_of(&self, tag: u8) -> Option<usize> {
        self.next_index(tag).map(|i| self.list[i].offset)
    }

    /// The first unused object with `T`'s tag.
    pub fn take<T: DataObject>(&mut self) -> Result<Option<T>, CatError> {
        match self.next_index(T::TAG) {
            None => Ok(None),
            Some(i) => {
                self.used[i] = true;
                let l = &self.list[i];
                T::parse_value(&l.tlv.value, l.offset).map(Some)
            }
        }
    }

    /// Like [`Objs::take`] but the object is mandatory.
    pub fn require<T: DataObject>(&mut self) -> Result<T, CatError> {
        self.take::<T>()?.ok_or(CatError::Missing {
            context: self.context,
            object: T::NAME,
            tag: T::TAG,
        })
    }

    /// Every unused object with `T`'s tag.
    pub fn take_all<T: DataObject>(&mut self) -> Result<Vec<T>, CatError> {
        let mut v = Vec::new();
        while let Some(x) = self.take::<T>()? {
            v.push(x);
        }
        Ok(v)
    }

    /// Whether an object with this tag is present (taken; its value must be empty).
    pub fn flag(&mut self, tag: u8, object: &'static str) -> Result<bool, CatError> {
        match self.next_index(tag) {
            None => Ok(false),
            Some(i) => {
                self.used[i] = true;
                let l = &self.list[i];
                if l.tlv.value.is_empty() {
                    Ok(true)
                } else {
                    Err(bad(
                        l.offset,
                        object,
                        format!("length {} where 0 is required", l.tlv.value.len()),
                    ))
                }
            }
        }
    }

    /// The objects nobody took, in order.
    pub fn rest(self) -> Vec<CompTlv> {
        self.list
            .iter()
            .zip(self.used)
            .filter(|(_, u)| !u)
            .map(|(l, _)| l.tlv.clone())
            .collect()
    }
}

/// An empty data object (help request, immediate response).
pub(crate) fn flag_tlv(tag: u8, cr: bool) -> CompTlv {
    CompTlv::new(tag, cr, Vec::new())
}

/// Command details (TS 102 223 §8.6): command number, type of command, qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandDetails {
    /// Command number (`01`–`FE`), chosen by the UICC, echoed in the TERMINAL RESPONSE.
    pub number: u8,
    /// Type of command (§9.4).
    pub command_type: CommandType,
    /// Command qualifier (meaning depends on the type, §8.6).
    pub qualifier: u8,
}

impl DataObject for CommandDetails {
    const TAG: u8 = tags::COMMAND_DETAILS;
    const NAME: &'static str = "command details";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [number, t, qualifier] = exact::<3>(v, offset, Self::NAME)?;
        Ok(CommandDetails {
            number,
            command_type: CommandType::from(t),
            qualifier,
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.number, self.command_type.into(), self.qualifier]);
    }
}

/// A device identity (TS 102 223 §8.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceId {
    /// `01` keypad.
    Keypad,
    /// `02` display.
    Display,
    /// `03` earpiece.
    Earpiece,
    /// `10`–`17` additional card reader 0–7.
    CardReader(u8),
    /// `21`–`27` channel 1–7.
    Channel(u8),
    /// `81` UICC.
    Uicc,
    /// `82` terminal (ME).
    Terminal,
    /// `83` network.
    Network,
    /// Any other value, kept as is.
    Unknown(u8),
}

impl From<u8> for DeviceId {
    fn from(b: u8) -> Self {
        match b {
            0x01 => DeviceId::Keypad,
            0x02 => DeviceId::Display,
            0x03 => DeviceId::Earpiece,
            0x10..=0x17 => DeviceId::CardReader(b - 0x10),
            0x21..=0x27 => DeviceId::Channel(b - 0x20),
            0x81 => DeviceId::Uicc,
            0x82 => DeviceId::Terminal,
            0x83 => DeviceId::Network,
            _ => DeviceId::Unknown(b),
        }
    }
}

impl From<DeviceId> for u8 {
    fn from(d: DeviceId) -> u8 {
        match d {
            DeviceId::Keypad => 0x01,
            DeviceId::Display => 0x02,
            DeviceId::Earpiece => 0x03,
            DeviceId::CardReader(n) => 0x10 | (n & 0x07),
            DeviceId::Channel(n) => 0x20 | (n & 0x07),
            DeviceId::Uicc => 0x81,
            DeviceId::Terminal => 0x82,
            DeviceId::Network => 0x83,
            DeviceId::Unknown(b) => b,
        }
    }
}

/// Device identities (TS 102 223 §8.7): source and destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceIdentities {
    /// Source device.
    pub source: DeviceId,
    /// Destination device.
    pub destination: DeviceId,
}

impl DeviceIdentities {
    /// Source → destination.
    pub fn new(source: DeviceId, destination: DeviceId) -> Self {
        DeviceIdentities {
            source,
            destination,
        }
    }
}

impl DataObject for DeviceIdentities {
    const TAG: u8 = tags::DEVICE_IDENTITIES;
    const NAME: &'static str = "device identities";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [s, d] = exact::<2>(v, offset, Self::NAME)?;
        Ok(DeviceIdentities {
            source: s.into(),
            destination: d.into(),
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.source.into(), self.destination.into()]);
    }
}

/// A one-byte code as an enum: the named values, `Unknown(u8)` for any other (kept for
/// round trips), and `From` both ways. Shared by the CAT objects and simota-wpki's protocol.
#[macro_export]
macro_rules! byte_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $val:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// Any other value, kept as is (for round trips).
            Unknown(u8),
        }
        impl From<u8> for $name {
            fn from(b: u8) -> Self {
                match b { $($val => $name::$var,)* _ => $name::Unknown(b) }
            }
        }
        impl From<$name> for u8 {
            fn from(x: $name) -> u8 {
                match x { $($name::$var => $val,)* $name::Unknown(b) => b }
            }
        }
    };
}
pub(crate) use crate::byte_enum;

byte_enum! {
    /// General result (TS 102 223 §8.12); `0x`/`1x` = performed, `2x` = temporary problem,
    /// `3x` = permanent problem.
    GeneralResult {
        /// `00` command performed successfully.
        Success = 0x00,
        /// `01` performed with partial comprehension.
        PartialComprehension = 0x01,
        /// `02` performed, with missing information.
        MissingInformation = 0x02,
        /// `03` REFRESH performed with additional EFs read.
        RefreshAdditionalEfsRead = 0x03,
        /// `04` performed successfully, but requested icon could not be displayed.
        SuccessIconNotDisplayed = 0x04,
        /// `05` performed, but modified by call control by NAA.
        ModifiedByCallControl = 0x05,
        /// `06` performed successfully, limited service.
        SuccessLimitedService = 0x06,
        /// `07` performed with modification.
        WithModification = 0x07,
        /// `08` REFRESH performed but indicated NAA was not active.
        RefreshNaaNotActive = 0x08,
        /// `09` performed successfully, tone not played.
        SuccessToneNotPlayed = 0x09,
        /// `10` proactive UICC session terminated by the user.
        TerminatedByUser = 0x10,
        /// `11` backward move in the proactive UICC session requested by the user.
        BackwardMove = 0x11,
        /// `12` no response from user.
        NoResponse = 0x12,
        /// `13` help information required by the user.
        HelpRequired = 0x13,
        /// `14` USSD or SS transaction terminated by the user.
        UssdSsTerminatedByUser = 0x14,
        /// `20` terminal currently unable to process command (additional info = cause).
        TerminalUnable = 0x20,
        /// `21` network currently unable to process the command.
        NetworkUnable = 0x21,
        /// `22` user did not accept the proactive command.
        UserDidNotAccept = 0x22,
        /// `23` user cleared down call before connection or network release.
        UserClearedCall = 0x23,
        /// `24` action in contradiction with the current timer state.
        TimerStateContradiction = 0x24,
        /// `25` interaction with call control by NAA, temporary problem.
        CallControlTemporary = 0x25,
        /// `26` launch browser generic error.
        LaunchBrowserError = 0x26,
        /// `27` MMS temporary problem.
        MmsTemporary = 0x27,
        /// `30` command beyond terminal's capabilities.
        BeyondCapabilities = 0x30,
        /// `31` command type not understood by terminal.
        TypeNotUnderstood = 0x31,
        /// `32` command data not understood by terminal.
        DataNotUnderstood = 0x32,
        /// `33` command number not known by terminal.
        NumberNotKnown = 0x33,
        /// `34` SS return error.
        SsReturnError = 0x34,
        /// `35` SMS RP-ERROR.
        SmsRpError = 0x35,
        /// `36` error, required values are missing.
        RequiredValuesMissing = 0x36,
        /// `37` USSD return error.
        UssdReturnError = 0x37,
        /// `38` MultipleCard commands error.
        MultipleCardError = 0x38,
        /// `39` interaction with call control by NAA or MO SM control, permanent problem.
        CallControlPermanent = 0x39,
        /// `3A` bearer independent protocol error.
        BipError = 0x3A,
        /// `3B` access technology unable to process command.
        AccessTechnologyUnable = 0x3B,
        /// `3C` frames error.
        FramesError = 0x3C,
        /// `3D` MMS error.
        MmsError = 0x3D,
    }
}

impl GeneralResult {
    /// Whether the command was performed (results `0x` — TS 102 223 §8.12).
    pub fn is_performed(self) -> bool {
        u8::from(self) < 0x10
    }
}

/// Result (TS 102 223 §8.12): general result and additional information.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CatResult {
    /// General result.
    pub general: GeneralResult,
    /// Additional information (for `20`: the cause, e.g. `01` screen busy; `00` no cause).
    pub additional: Vec<u8>,
}

impl CatResult {
    /// A result without additional information.
    pub fn new(general: GeneralResult) -> Self {
        CatResult {
            general,
            additional: Vec::new(),
        }
    }
    /// A result with additional information.
    pub fn with_info(general: GeneralResult, additional: impl Into<Vec<u8>>) -> Self {
        CatResult {
            general,
            additional: additional.into(),
        }
    }
}

impl DataObject for CatResult {
    const TAG: u8 = tags::RESULT;
    const NAME: &'static str = "result";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let (g, add) = v
            .split_first()
            .ok_or_else(|| bad(offset, Self::NAME, "empty value, general result missing"))?;
        Ok(CatResult {
            general: (*g).into(),
            additional: add.to_vec(),
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.push(self.general.into());
        out.extend_from_slice(&self.additional);
    }
}

byte_enum! {
    /// Time unit of a duration (TS 102 223 §8.8).
    TimeUnit {
        /// `00` minutes.
        Minutes = 0x00,
        /// `01` seconds.
        Seconds = 0x01,
        /// `02` tenths of seconds.
        Tenths = 0x02,
    }
}

/// Duration (TS 102 223 §8.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// Time unit.
    pub unit: TimeUnit,
    /// Time interval in units (`01`–`FF`; `00` is reserved but accepted).
    pub interval: u8,
}

impl Duration {
    /// `interval` seconds.
    pub fn seconds(interval: u8) -> Self {
        Duration {
            unit: TimeUnit::Seconds,
            interval,
        }
    }
    /// The duration in milliseconds, when the unit is known.
    pub fn millis(self) -> Option<u64> {
        let per = match self.unit {
            TimeUnit::Minutes => 60_000,
            TimeUnit::Seconds => 1_000,
            TimeUnit::Tenths => 100,
            TimeUnit::Unknown(_) => return None,
        };
        Some(per * u64::from(self.interval))
    }
}

impl DataObject for Duration {
    const TAG: u8 = tags::DURATION;
    const NAME: &'static str = "duration";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [u, i] = exact::<2>(v, offset, Self::NAME)?;
        Ok(Duration {
            unit: u.into(),
            interval: i,
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.unit.into(), self.interval]);
    }
}

/// Alpha identifier (TS 102 223 §8.2): TS 102 221 Annex A coded text; empty = null.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AlphaId(pub AlphaText);

impl AlphaId {
    /// Alpha identifier for `s` (GSM alphabet when possible, else UCS2 `80`).
    pub fn new(s: &str) -> Self {
        AlphaId(AlphaText::new(s))
    }
    /// The text.
    pub fn text(&self) -> String {
        self.0.text()
    }
}

impl DataObject for AlphaId {
    const TAG: u8 = tags::ALPHA_ID;
    const NAME: &'static str = "alpha identifier";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        AlphaText::from_bytes(v.to_vec(), offset, Self::NAME).map(AlphaId)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.bytes());
    }
}

/// Address (TS 102 223 §8.1): TON/NPI byte and BCD digits (swapped nibbles, `F` filler).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// TON/NPI (e.g. `91` international/ISDN).
    pub ton_npi: u8,
    /// Dialling number as BCD octets (as sent).
    pub bcd: Vec<u8>,
}

impl Address {
    /// Build from TON/NPI and a digit string (`0-9 * # a b c`; extended BCD of TS 31.102
    /// §4.4.2.3: `*`=A, `#`=B, `p`(pause)=C, `?`(wild)=D).
    pub fn from_digits(ton_npi: u8, digits: &str) -> Result<Self, CatError> {
        let mut nib = Vec::with_capacity(digits.len());
        for (i, c) in digits.chars().enumerate() {
            nib.push(match c {
                '0'..='9' => c as u8 - b'0',
                '*' => 0xA,
                '#' => 0xB,
                'p' | 'P' => 0xC,
                '?' => 0xD,
                _ => {
                    return Err(CatError::Encode {
                        object: "address",
                        reason: format!("character {c:?} at index {i} is not a BCD dialling digit"),
                    })
                }
            });
        }
        let bcd = nib
            .chunks(2)
            .map(|p| p[0] | p.get(1).copied().unwrap_or(0xF) << 4)
            .collect();
        Ok(Address { ton_npi, bcd })
    }

    /// The digits (filler `F` dropped).
    pub fn digits(&self) -> String {
        bcd_digits(&self.bcd)
    }
}

/// Swapped-nibble BCD to digits, stopping at an `F` filler.
pub(crate) fn bcd_digits(b: &[u8]) -> String {
    let mut s = String::new();
    for n in b.iter().flat_map(|x| [x & 0x0F, x >> 4]) {
        match n {
            0..=9 => s.push((b'0' + n) as char),
            0xA => s.push('*'),
            0xB => s.push('#'),
            0xC => s.push('p'),
            0xD => s.push('?'),
            0xE => s.push('e'),
            _ => break,
        }
    }
    s
}

impl DataObject for Address {
    const TAG: u8 = tags::ADDRESS;
    const NAME: &'static str = "address";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let (t, bcd) = v
            .split_first()
            .ok_or_else(|| bad(offset, Self::NAME, "empty value, TON/NPI missing"))?;
        Ok(Address {
            ton_npi: *t,
            bcd: bcd.to_vec(),
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.push(self.ton_npi);
        out.extend_from_slice(&self.bcd);
    }
}

/// SMS TPDU (TS 102 223 §8.13; the TPDU itself per 3GPP TS 23.040, decoded by `ota::sms`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsTpdu(pub Vec<u8>);

impl DataObject for SmsTpdu {
    const TAG: u8 = tags::SMS_TPDU;
    const NAME: &'static str = "SMS TPDU";
    fn parse_value(v: &[u8], _offset: usize) -> Result<Self, CatError> {
        Ok(SmsTpdu(v.to_vec()))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl DataObject for TextString {
    const TAG: u8 = tags::TEXT_STRING;
    const NAME: &'static str = "text string";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        TextString::parse_value(v, offset)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        TextString::emit_value(self, out)
    }
}

/// Default text (TS 102 223 §8.23): a text string under tag `17`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefaultText(pub TextString);

impl DataObject for DefaultText {
    const TAG: u8 = tags::DEFAULT_TEXT;
    const NAME: &'static str = "default text";
    const CR: bool = false;
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        TextString::parse_value(v, offset).map(DefaultText)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        self.0.emit_value(out)
    }
}

byte_enum! {
    /// Tone (TS 102 223 §8.16).
    Tone {
        /// `01` dial tone.
        Dial = 0x01,
        /// `02` called subscriber busy.
        Busy = 0x02,
        /// `03` congestion.
        Congestion = 0x03,
        /// `04` radio path acknowledge.
        RadioPathAck = 0x04,
        /// `05` radio path not available / call dropped.
        RadioPathNotAvailable = 0x05,
        /// `06` error / special information.
        Error = 0x06,
        /// `07` call waiting tone.
        CallWaiting = 0x07,
        /// `08` ringing tone.
        Ringing = 0x08,
        /// `10` general beep.
        GeneralBeep = 0x10,
        /// `11` positive acknowledgement tone.
        PositiveAck = 0x11,
        /// `12` negative acknowledgement or error tone.
        NegativeAck = 0x12,
        /// `13` ringing tone as selected by the user for incoming speech call.
        UserRinging = 0x13,
        /// `14` alert tone as selected by the user for incoming SMS.
        UserSmsAlert = 0x14,
        /// `15` critical alert.
        CriticalAlert = 0x15,
        /// `20` vibrate only.
        VibrateOnly = 0x20,
    }
}

impl DataObject for Tone {
    const TAG: u8 = tags::TONE;
    const NAME: &'static str = "tone";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [t] = exact::<1>(v, offset, Self::NAME)?;
        Ok(t.into())
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.push((*self).into());
    }
}

/// Item (TS 102 223 §8.9): identifier and text (alpha coding). An empty object `8F 00`
/// (the *null item*, "remove the menu" in SET UP MENU) is represented by an empty item
/// list in the command, not by an `Item`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// Item identifier (`01`–`FF`).
    pub id: u8,
    /// Item text.
    pub text: AlphaText,
}

impl Item {
    /// An item with text `s`.
    pub fn new(id: u8, s: &str) -> Self {
        Item {
            id,
            text: AlphaText::new(s),
        }
    }
}

/// Item object parse result that keeps the null item distinct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MaybeItem(pub Option<Item>);

impl DataObject for MaybeItem {
    const TAG: u8 = tags::ITEM;
    const NAME: &'static str = "item";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        match v.split_first() {
            None => Ok(MaybeItem(None)),
            Some((&id, t)) => Ok(MaybeItem(Some(Item {
                id,
                text: AlphaText::from_bytes(t.to_vec(), offset, Self::NAME)?,
            }))),
        }
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        if let Some(i) = &self.0 {
            out.push(i.id);
            out.extend_from_slice(i.text.bytes());
        }
    }
}

/// Item identifier (TS 102 223 §8.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemId(pub u8);

impl DataObject for ItemId {
    const TAG: u8 = tags::ITEM_ID;
    const NAME: &'static str = "item identifier";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [i] = exact::<1>(v, offset, Self::NAME)?;
        Ok(ItemId(i))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

/// Response length (TS 102 223 §8.11): minimum and maximum number of characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseLength {
    /// Minimum length.
    pub min: u8,
    /// Maximum length (`FF` = no maximum).
    pub max: u8,
}

impl DataObject for ResponseLength {
    const TAG: u8 = tags::RESPONSE_LENGTH;
    const NAME: &'static str = "response length";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [min, max] = exact::<2>(v, offset, Self::NAME)?;
        Ok(ResponseLength { min, max })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.min, self.max]);
    }
}

/// Items next action indicator (TS 102 223 §8.24): one command type per item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemsNextAction(pub Vec<u8>);

impl DataObject for ItemsNextAction {
    const TAG: u8 = tags::ITEMS_NEXT_ACTION;
    const NAME: &'static str = "items next action indicator";
    const CR: bool = false;
    fn parse_value(v: &[u8], _offset: usize) -> Result<Self, CatError> {
        Ok(ItemsNextAction(v.to_vec()))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// Icon identifier (TS 102 223 §8.31): qualifier (b1 = 0 self-explanatory) and EF(IMG)
/// record number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IconId {
    /// Icon qualifier.
    pub qualifier: u8,
    /// Record number in EF(IMG).
    pub record: u8,
}

impl IconId {
    /// Whether the icon replaces the text (self-explanatory).
    pub fn self_explanatory(self) -> bool {
        self.qualifier & 0x01 == 0
    }
}

impl DataObject for IconId {
    const TAG: u8 = tags::ICON_ID;
    const NAME: &'static str = "icon identifier";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let [qualifier, record] = exact::<2>(v, offset, Self::NAME)?;
        Ok(IconId { qualifier, record })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[self.qualifier, self.record]);
    }
}

byte_enum! {
    /// Event (TS 102 223 §8.25).
    EventType {
        /// `00` MT call.
        MtCall = 0x00,
        /// `01` call connected.
        CallConnected = 0x01,
        /// `02` call disconnected.
        CallDisconnected = 0x02,
        /// `03` location status.
        LocationStatus = 0x03,
        /// `04` user activity.
        UserActivity = 0x04,
        /// `05` idle screen available.
        IdleScreenAvailable = 0x05,
        /// `06` card reader status.
        CardReaderStatus = 0x06,
        /// `07` language selection.
        LanguageSelection = 0x07,
        /// `08` browser termination.
        BrowserTermination = 0x08,
        /// `09` data available.
        DataAvailable = 0x09,
        /// `0A` channel status.
        ChannelStatus = 0x0A,
        /// `0B` access technology change.
        AccessTechnologyChange = 0x0B,
        /// `0C` display parameters changed.
        DisplayParametersChanged = 0x0C,
        /// `0D` local connection.
        LocalConnection = 0x0D,
        /// `0E` network search mode change.
        NetworkSearchModeChange = 0x0E,
        /// `0F` browsing status.
        BrowsingStatus = 0x0F,
        /// `10` frames information change.
        FramesInformationChange = 0x10,
    }
}

/// Event list (TS 102 223 §8.25).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EventList(pub Vec<EventType>);

impl DataObject for EventList {
    const TAG: u8 = tags::EVENT_LIST;
    const NAME: &'static str = "event list";
    fn parse_value(v: &[u8], _offset: usize) -> Result<Self, CatError> {
        Ok(EventList(v.iter().map(|&b| b.into()).collect()))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend(self.0.iter().map(|&e| u8::from(e)));
    }
}

/// Location information (TS 102 223 §8.19 / TS 31.111 §8.19): MCC/MNC (3), LAC or TAC (2),
/// cell identity (2, or 4 for E-UTRAN), optional extended cell id, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationInfo(pub Vec<u8>);

impl LocationInfo {
    /// MCC and MNC as digits (`"001"`, `"01"`).
    pub fn mcc_mnc(&self) -> (String, String) {
        let b = |i: usize| self.0.get(i).copied().unwrap_or(0xFF);
        let d = |x: u8| {
            if x < 10 {
                Some((b'0' + x) as char)
            } else {
                None
            }
        };
        let mcc = [b(0) & 0x0F, b(0) >> 4, b(1) & 0x0F]
            .iter()
            .filter_map(|&x| d(x))
            .collect();
        let mnc = [b(2) & 0x0F, b(2) >> 4, b(1) >> 4]
            .iter()
            .filter_map(|&x| d(x))
            .collect();
        (mcc, mnc)
    }
}

impl DataObject for LocationInfo {
    const TAG: u8 = tags::LOCATION_INFO;
    const NAME: &'static str = "location information";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        if v.len() < 5 {
            return Err(bad(
                offset,
                Self::NAME,
                format!("length {} where at least 5 is required", v.len()),
            ));
        }
        Ok(LocationInfo(v.to_vec()))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// IMEI (TS 102 223 §8.20): 8 octets coded as the TS 24.008 mobile identity IMEI value
/// (type nibble `A`, then 15 BCD digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Imei(pub [u8; 8]);

impl Imei {
    /// From 15 digits (the check digit included).
    pub fn from_digits(digits: &str) -> Result<Self, CatError> {
        let d: Vec<u8> = digits
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|c| c - b'0')
            .collect();
        if d.len() != 15 || d.len() != digits.len() {
            return Err(CatError::Encode {
                object: "IMEI",
                reason: format!("{digits:?} is not 15 decimal digits"),
            });
        }
        let mut nib = vec![0x0A];
        nib.extend(d);
        let mut out = [0u8; 8];
        for (o, p) in out.iter_mut().zip(nib.chunks(2)) {
            *o = p[0] | p[1] << 4;
        }
        Ok(Imei(out))
    }
    /// The 15 digits.
    pub fn digits(&self) -> String {
        self.0
            .iter()
            .flat_map(|x| [x & 0x0F, x >> 4])
            .skip(1)
            .map(|n| char::from(b'0' + (n % 10)))
            .collect()
    }
}

impl DataObject for Imei {
    const TAG: u8 = tags::IMEI;
    const NAME: &'static str = "IMEI";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        exact::<8>(v, offset, Self::NAME).map(Imei)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// Language (TS 102 223 §8.45): ISO 639 code in two GSM default alphabet characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language(pub [u8; 2]);

impl DataObject for Language {
    const TAG: u8 = tags::LANGUAGE;
    const NAME: &'static str = "language";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        exact::<2>(v, offset, Self::NAME).map(Language)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// Date-time and time zone (TS 102 223 §8.39): 7 swapped-BCD octets YY MM DD hh mm ss TZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeTz(pub [u8; 7]);

impl DataObject for DateTimeTz {
    const TAG: u8 = tags::DATE_TIME_TZ;
    const NAME: &'static str = "date-time and time zone";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        exact::<7>(v, offset, Self::NAME).map(DateTimeTz)
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

/// File list (TS 102 223 §8.18): number of files, then full paths each starting at `3F00`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileList {
    /// Number of files as sent.
    pub count: u8,
    /// The path bytes after the count, as sent (paths concatenated).
    pub paths: Vec<u8>,
}

impl FileList {
    /// The paths split at each `3F00` that starts a new path on a FID boundary.
    pub fn files(&self) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for fid in self.paths.chunks(2) {
            match out.last_mut() {
                Some(last) if fid != [0x3F, 0x00] => last.extend_from_slice(fid),
                _ => out.push(fid.to_vec()),
            }
        }
        out
    }
    /// Build from full paths.
    pub fn new(files: &[Vec<u8>]) -> Self {
        FileList {
            count: files.len().min(255) as u8,
            paths: files.concat(),
        }
    }
}

impl DataObject for FileList {
    const TAG: u8 = tags::FILE_LIST;
    const NAME: &'static str = "file list";
    fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let (c, p) = v
            .split_first()
            .ok_or_else(|| bad(offset, Self::NAME, "empty value, number of files missing"))?;
        if p.len() % 2 != 0 {
            return Err(bad(
                offset,
                Self::NAME,
                format!("paths of {} bytes are not whole FIDs", p.len()),
            ));
        }
        Ok(FileList {
            count: *c,
            paths: p.to_vec(),
        })
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.push(self.count);
        out.extend_from_slice(&self.paths);
    }
}

/// AID (TS 102 223 §8.60).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Aid(pub Vec<u8>);

impl DataObject for Aid {
    const TAG: u8 = tags::AID;
    const NAME: &'static str = "AID";
    fn parse_value(v: &[u8], _offset: usize) -> Result<Self, CatError> {
        Ok(Aid(v.to_vec()))
    }
    fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imei_and_address() {
        let i = Imei::from_digits("123456789012347").unwrap();
        assert_eq!(i.0[0], 0x1A);
        assert_eq!(i.digits(), "123456789012347");
        let a = Address::from_digits(0x91, "112233445566778").unwrap();
        assert_eq!(a.bcd, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0xF8]);
        assert_eq!(a.digits(), "112233445566778");
        assert!(Address::from_digits(0x91, "12x").is_err());
    }

    #[test]
    fn file_list_split() {
        let f = FileList::parse_value(
            &[2, 0x3F, 0, 0x2F, 0xE2, 0x3F, 0, 0x7F, 0x20, 0x6F, 0x07],
            0,
        )
        .unwrap();
        assert_eq!(
            f.files(),
            vec![
                vec![0x3F, 0, 0x2F, 0xE2],
                vec![0x3F, 0, 0x7F, 0x20, 0x6F, 0x07]
            ]
        );
        assert!(FileList::parse_value(&[1, 0x3F], 4).is_err());
    }

    #[test]
    fn errors_name_object_and_offset() {
        let e = CommandDetails::parse_value(&[1, 2], 7).unwrap_err();
        assert_eq!(
            e.to_string(),
            "offset 7: command details: length 2 where 3 is required"
        );
        assert!(CatResult::parse_value(&[], 0).is_err());
        assert!(LocationInfo::parse_value(&[1, 2, 3], 0).is_err());
    }
}
