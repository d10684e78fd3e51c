//! TERMINAL RESPONSE (TS 102 223 §6.8): the terminal's answer to a proactive command, a
//! plain sequence of COMPREHENSION-TLVs (no template) sent with INS `14`.

use super::objects::{
    parse_objects, CatResult, CommandDetails, DataObject, DeviceId, DeviceIdentities, Duration,
    ItemId, Objs,
};
use super::{CatError, GeneralResult, ProactiveCommand, TextString};
use apdu::tlv::CompTlv;

/// A TERMINAL RESPONSE. A parsed one keeps its exact objects; a built one is encoded in
/// TS 102 223 §6.8 order (details, devices, result, duration, text, item identifier, others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalResponse {
    details: CommandDetails,
    devices: DeviceIdentities,
    result: CatResult,
    duration: Option<Duration>,
    text: Option<TextString>,
    item_id: Option<u8>,
    other: Vec<CompTlv>,
    objects: Vec<CompTlv>,
}

impl TerminalResponse {
    /// A response echoing `details`, from the terminal (`82`) to the UICC (`81`).
    pub fn new(details: CommandDetails, result: CatResult) -> Self {
        let mut r = TerminalResponse {
            details,
            devices: DeviceIdentities::new(DeviceId::Terminal, DeviceId::Uicc),
            result,
            duration: None,
            text: None,
            item_id: None,
            other: Vec::new(),
            objects: Vec::new(),
        };
        r.rebuild();
        r
    }

    /// The response to `cmd` with this general result and no additional information.
    pub fn for_command(cmd: &ProactiveCommand, general: GeneralResult) -> Self {
        Self::new(cmd.details(), CatResult::new(general))
    }

    fn rebuild(&mut self) {
        let mut v = vec![
            self.details.to_tlv(),
            self.devices.to_tlv(),
            self.result.to_tlv(),
        ];
        v.extend(self.duration.map(|d| d.to_tlv()));
        v.extend(self.text.as_ref().map(DataObject::to_tlv));
        v.extend(self.item_id.map(|i| ItemId(i).to_tlv()));
        v.extend(self.other.iter().cloned());
        self.objects = v;
    }

    /// With a text string (GET INKEY / GET INPUT answer).
    pub fn with_text(mut self, t: TextString) -> Self {
        self.text = Some(t);
        self.rebuild();
        self
    }
    /// With an item identifier (SELECT ITEM answer).
    pub fn with_item(mut self, id: u8) -> Self {
        self.item_id = Some(id);
        self.rebuild();
        self
    }
    /// With a duration (GET INKEY with variable timeout: time the user took).
    pub fn with_duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self.rebuild();
        self
    }
    /// With another data object (local information, …), appended.
    pub fn with_object(mut self, o: CompTlv) -> Self {
        self.other.push(o);
        self.rebuild();
        self
    }
    /// With other device identities.
    pub fn with_devices(mut self, d: DeviceIdentities) -> Self {
        self.devices = d;
        self.rebuild();
        self
    }

    /// Parse a TERMINAL RESPONSE body (the C-APDU data field).
    pub fn parse(b: &[u8]) -> Result<Self, CatError> {
        let objs = parse_objects(b, 0)?;
        let mut o = Objs::new(&objs, "terminal response");
        let details = o.require()?;
        let devices = o.require()?;
        let result = o.require()?;
        let duration = o.take()?;
        let text = o.take()?;
        let item_id = o.take::<ItemId>()?.map(|i| i.0);
        let other = o.rest();
        let objects = objs.into_iter().map(|l| l.tlv).collect();
        Ok(TerminalResponse {
            details,
            devices,
            result,
            duration,
            text,
            item_id,
            other,
            objects,
        })
    }

    /// Command details (echoed from the proactive command).
    pub fn details(&self) -> CommandDetails {
        self.details
    }
    /// Device identities.
    pub fn devices(&self) -> DeviceIdentities {
        self.devices
    }
    /// Result.
    pub fn result(&self) -> &CatResult {
        &self.result
    }
    /// Duration, if any.
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }
    /// Text string, if any.
    pub fn text(&self) -> Option<&TextString> {
        self.text.as_ref()
    }
    /// Item identifier, if any.
    pub fn item_id(&self) -> Option<u8> {
        self.item_id
    }
    /// Objects not modelled above, in order (local information, …).
    pub fn other(&self) -> &[CompTlv] {
        &self.other
    }
    /// The first object of type `T` among [`TerminalResponse::other`] (e.g. `Imei`).
    pub fn find<T: DataObject>(&self) -> Result<Option<T>, CatError> {
        self.other
            .iter()
            .find(|t| !t.tag.three_byte && t.tag.value == u16::from(T::TAG))
            .map(|t| T::parse_value(&t.value, 0))
            .transpose()
    }
    /// The data objects as sent.
    pub fn objects(&self) -> &[CompTlv] {
        &self.objects
    }
    /// The encoding (the TERMINAL RESPONSE data field).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.objects.iter().for_each(|o| o.emit_into(&mut out));
        out
    }
    /// Number of bytes [`TerminalResponse::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        self.objects.iter().map(CompTlv::buffer_len).sum()
    }
}
