//! SMPP 3.4 PDUs (SMPP v3.4 Issue 1.2, §3 header, §4 operations, §5 parameters): a typed
//! [`Pdu`] with [`Pdu::parse`] / [`Pdu::emit`], in the `Repr` style of the rest of simota.
//!
//! Hand-written: see docs/src/smsc.md ("Why our own codec") for the crates looked at.
//! Only the operations the SMSC serves are typed; every other command_id parses into
//! [`Body::Other`] with its raw body so it round-trips.

use thiserror::Error;

/// Length of the PDU header (§3.2): command_length, command_id, command_status, sequence.
pub const HEADER_LEN: usize = 16;
/// Largest PDU the server accepts (a submit_sm with a full 64 KiB message_payload fits).
pub const MAX_PDU_LEN: usize = 70_000;

/// command_id values (§5.1.2.1).
pub mod cmd {
    /// generic_nack
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    /// bind_receiver
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    /// bind_transmitter
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    /// query_sm
    pub const QUERY_SM: u32 = 0x0000_0003;
    /// submit_sm
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    /// deliver_sm
    pub const DELIVER_SM: u32 = 0x0000_0005;
    /// unbind
    pub const UNBIND: u32 = 0x0000_0006;
    /// bind_transceiver
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    /// enquire_link
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    /// submit_multi
    pub const SUBMIT_MULTI: u32 = 0x0000_0021;
    /// data_sm
    pub const DATA_SM: u32 = 0x0000_0103;
    /// The bit that marks a response (§5.1.2.1).
    pub const RESP: u32 = 0x8000_0000;
}

/// command_status values (§5.1.3).
pub mod status {
    /// No error.
    pub const ROK: u32 = 0x00;
    /// Message length is invalid.
    pub const RINVMSGLEN: u32 = 0x01;
    /// Command length is invalid.
    pub const RINVCMDLEN: u32 = 0x02;
    /// Invalid command ID.
    pub const RINVCMDID: u32 = 0x03;
    /// Incorrect BIND status for given command.
    pub const RINVBNDSTS: u32 = 0x04;
    /// ESME already in bound state.
    pub const RALYBND: u32 = 0x05;
    /// System error.
    pub const RSYSERR: u32 = 0x08;
    /// Invalid source address.
    pub const RINVSRCADR: u32 = 0x0A;
    /// Invalid destination address.
    pub const RINVDSTADR: u32 = 0x0B;
    /// Message ID is invalid.
    pub const RINVMSGID: u32 = 0x0C;
    /// Bind failed.
    pub const RBINDFAIL: u32 = 0x0D;
    /// Invalid password.
    pub const RINVPASWD: u32 = 0x0E;
    /// Invalid system ID.
    pub const RINVSYSID: u32 = 0x0F;
    /// Message queue full.
    pub const RMSGQFUL: u32 = 0x14;
    /// Invalid number of destinations (submit_multi).
    pub const RINVNUMDESTS: u32 = 0x33;
    /// Invalid distribution list name (submit_multi).
    pub const RINVDLNAME: u32 = 0x34;
    /// Destination flag is invalid (submit_multi).
    pub const RINVDESTFLAG: u32 = 0x40;
    /// Invalid esm_class field data.
    pub const RINVESMCLASS: u32 = 0x43;
    /// submit_sm or submit_multi failed.
    pub const RSUBMITFAIL: u32 = 0x45;
    /// query_sm request failed.
    pub const RQUERYFAIL: u32 = 0x67;
    /// Throttling error (ESME has exceeded allowed message limits).
    pub const RTHROTTLED: u32 = 0x58;
    /// Error in the optional part of the PDU body.
    pub const RINVOPTPARSTREAM: u32 = 0xC0;
    /// Expected optional parameter missing.
    pub const RMISSINGOPTPARAM: u32 = 0xC3;
    /// Invalid optional parameter value.
    pub const RINVOPTPARAMVAL: u32 = 0xC4;
    /// Delivery failure (used for data_sm_resp).
    pub const RDELIVERYFAILURE: u32 = 0xFE;
    /// Unknown error.
    pub const RUNKNOWNERR: u32 = 0xFF;
}

/// TLV tags used here (§5.3.2).
pub mod tag {
    /// sar_msg_ref_num (§5.3.2.22)
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    /// sar_total_segments (§5.3.2.23)
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    /// sar_segment_seqnum (§5.3.2.24)
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    /// message_payload (§5.3.2.32)
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    /// receipted_message_id (§5.3.2.12)
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    /// message_state (§5.3.2.35)
    pub const MESSAGE_STATE: u16 = 0x0427;
    /// sc_interface_version (§5.3.2.25)
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
}

/// esm_class message type "SMSC delivery receipt" (§5.2.12, xx0001xx).
pub const ESM_DELIVERY_RECEIPT: u8 = 0x04;
/// message_state values (§5.2.28).
pub mod state {
    /// ENROUTE: the message is in enroute state.
    pub const ENROUTE: u8 = 1;
    /// DELIVERED: the message was delivered to its destination.
    pub const DELIVERED: u8 = 2;
    /// EXPIRED: the validity period expired.
    pub const EXPIRED: u8 = 3;
    /// DELETED: the message was deleted.
    pub const DELETED: u8 = 4;
    /// UNDELIVERABLE: the message is undeliverable.
    pub const UNDELIVERABLE: u8 = 5;
    /// ACCEPTED: the message was accepted on behalf of the subscriber.
    pub const ACCEPTED: u8 = 6;
    /// UNKNOWN: the message is in an invalid state.
    pub const UNKNOWN: u8 = 7;
    /// REJECTED: the message is in a rejected state.
    pub const REJECTED: u8 = 8;
}

/// message_state DELIVERED (§5.2.28).
pub const MESSAGE_STATE_DELIVERED: u8 = state::DELIVERED;

/// esm_class bit: UDH indicator (§5.2.12, GSM specific feature 01xxxxxx).
pub const ESM_UDHI: u8 = 0x40;

/// Why bytes are not an SMPP PDU; every variant names the field and its offset in the PDU.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PduError {
    /// Fewer bytes than the field needs.
    #[error("{field} at offset {offset}: PDU ends (command_length {len})")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// The PDU length.
        len: usize,
    },
    /// command_length outside 16..=MAX_PDU_LEN or different from the bytes given.
    #[error(
        "command_length at offset 0: {value} (bytes given: {given}, allowed 16..={MAX_PDU_LEN})"
    )]
    BadLength {
        /// The command_length field.
        value: u32,
        /// Bytes given.
        given: usize,
    },
    /// A C-Octet String without its NUL within its maximum length.
    #[error(
        "{field} at offset {offset}: C-Octet String longer than {max} bytes or not NUL-terminated"
    )]
    CString {
        /// The field.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// Maximum size including the NUL.
        max: usize,
    },
    /// sm_length over 254 (§5.2.21).
    #[error("sm_length at offset {offset}: {value}, at most 254")]
    SmLength {
        /// Offset of sm_length.
        offset: usize,
        /// The value.
        value: u8,
    },
    /// A TLV whose length runs past the PDU.
    #[error("TLV {tag:04X} at offset {offset}: length {len} runs past the PDU end")]
    Tlv {
        /// The tag.
        tag: u16,
        /// Offset of the TLV.
        offset: usize,
        /// Its length field.
        len: u16,
    },
    /// A submit_multi dest_flag other than 1 (SME address) or 2 (distribution list),
    /// §4.5.1.1.
    #[error(
        "dest_flag at offset {offset}: {value:#04X}, expected 1 (SME) or 2 (distribution list)"
    )]
    DestFlag {
        /// Offset of dest_flag.
        offset: usize,
        /// The value.
        value: u8,
    },
    /// Bytes left after a body with no optional part.
    #[error("offset {offset}: {extra} byte(s) after the end of the {what} body")]
    Trailing {
        /// Which PDU.
        what: &'static str,
        /// Where the extra bytes begin.
        offset: usize,
        /// How many.
        extra: usize,
    },
}

impl PduError {
    /// The command_status an SMSC answers this error with (§5.1.3).
    pub fn status(&self) -> u32 {
        match self {
            PduError::Truncated { .. } | PduError::BadLength { .. } => status::RINVCMDLEN,
            PduError::Trailing { .. } => status::RINVCMDLEN,
            PduError::CString { .. } => status::RINVCMDLEN,
            PduError::SmLength { .. } => status::RINVMSGLEN,
            PduError::Tlv { .. } => status::RINVOPTPARSTREAM,
            PduError::DestFlag { .. } => status::RINVDESTFLAG,
        }
    }
}

/// The PDU header (§3.2) without command_length (computed on emit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// command_id.
    pub command_id: u32,
    /// command_status.
    pub command_status: u32,
    /// sequence_number.
    pub sequence: u32,
}

impl Header {
    /// Read the header of `b` (at least 16 bytes); returns it and command_length.
    pub fn parse(b: &[u8]) -> Result<(Header, u32), PduError> {
        let mut r = Reader { b, at: 0 };
        let len = r.u32("command_length")?;
        let command_id = r.u32("command_id")?;
        let command_status = r.u32("command_status")?;
        let sequence = r.u32("sequence_number")?;
        Ok((
            Header {
                command_id,
                command_status,
                sequence,
            },
            len,
        ))
    }
}

/// One optional parameter (§5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    /// Tag.
    pub tag: u16,
    /// Value.
    pub value: Vec<u8>,
}

/// bind_transmitter / bind_receiver / bind_transceiver body (§4.1.1, §4.1.3, §4.1.5).
#[derive(Clone, PartialEq, Eq)]
pub struct Bind {
    /// system_id (max 16 with NUL).
    pub system_id: String,
    /// password (max 9 with NUL).
    pub password: String,
    /// system_type (max 13).
    pub system_type: String,
    /// interface_version (0x34 for 3.4).
    pub interface_version: u8,
    /// addr_ton.
    pub addr_ton: u8,
    /// addr_npi.
    pub addr_npi: u8,
    /// address_range (max 41).
    pub address_range: String,
}

impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind")
            .field("system_id", &self.system_id)
            .field("password", &"<hidden>")
            .field("system_type", &self.system_type)
            .field("interface_version", &self.interface_version)
            .finish_non_exhaustive()
    }
}

/// submit_sm / deliver_sm body (§4.4.1, §4.6.1): the same fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShortMessage {
    /// service_type (max 6).
    pub service_type: String,
    /// source_addr_ton.
    pub source_addr_ton: u8,
    /// source_addr_npi.
    pub source_addr_npi: u8,
    /// source_addr (max 21).
    pub source_addr: String,
    /// dest_addr_ton.
    pub dest_addr_ton: u8,
    /// dest_addr_npi.
    pub dest_addr_npi: u8,
    /// destination_addr (max 21).
    pub destination_addr: String,
    /// esm_class (§5.2.12).
    pub esm_class: u8,
    /// protocol_id (§5.2.13; 0x7F = SIM data download).
    pub protocol_id: u8,
    /// priority_flag.
    pub priority_flag: u8,
    /// schedule_delivery_time (max 17).
    pub schedule_delivery_time: String,
    /// validity_period (max 17).
    pub validity_period: String,
    /// registered_delivery (§5.2.17).
    pub registered_delivery: u8,
    /// replace_if_present_flag.
    pub replace_if_present_flag: u8,
    /// data_coding (§5.2.19).
    pub data_coding: u8,
    /// sm_default_msg_id.
    pub sm_default_msg_id: u8,
    /// short_message (0..=254 bytes).
    pub short_message: Vec<u8>,
    /// Optional parameters.
    pub tlvs: Vec<Tlv>,
}

impl ShortMessage {
    /// The message: short_message, or the message_payload TLV when short_message is empty
    /// (§5.3.2.32: they are mutually exclusive).
    pub fn payload(&self) -> &[u8] {
        if self.short_message.is_empty() {
            if let Some(t) = self.tlvs.iter().find(|t| t.tag == tag::MESSAGE_PAYLOAD) {
                return &t.value;
            }
        }
        &self.short_message
    }

    /// The value of a 1- or 2-byte integer TLV (sar_*), if present.
    pub fn tlv_int(&self, t: u16) -> Option<u16> {
        let v = &self.tlvs.iter().find(|x| x.tag == t)?.value;
        match v.as_slice() {
            [a] => Some(*a as u16),
            [a, b] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        }
    }
}

/// One dest_address of a submit_multi (§4.5.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAddress {
    /// dest_flag 1: an SME address.
    Sme {
        /// dest_addr_ton.
        ton: u8,
        /// dest_addr_npi.
        npi: u8,
        /// destination_addr (max 21).
        addr: String,
    },
    /// dest_flag 2: a distribution list name (max 21).
    DistributionList(String),
}

/// submit_multi body (§4.5.1): the fields of submit_sm with a list of destinations in
/// place of the one destination (`message`'s dest_addr fields are unused).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitMulti {
    /// dest_address list (number_of_dests entries, at most 254 per §4.5.1; the codec takes
    /// 0..=255 and the server answers ESME_RINVNUMDESTS outside 1..=254).
    pub dests: Vec<DestAddress>,
    /// Every other field.
    pub message: ShortMessage,
}

/// One unsuccess_sme of a submit_multi_resp (§4.5.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsuccessSme {
    /// dest_addr_ton.
    pub ton: u8,
    /// dest_addr_npi.
    pub npi: u8,
    /// destination_addr (max 21).
    pub addr: String,
    /// error_status_code: the command_status that address got (§5.1.3).
    pub error: u32,
}

/// data_sm body (§4.7.1): addresses up to 65 bytes, no protocol_id or short_message (the
/// message is in the message_payload TLV).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSm {
    /// service_type (max 6).
    pub service_type: String,
    /// source_addr_ton.
    pub source_addr_ton: u8,
    /// source_addr_npi.
    pub source_addr_npi: u8,
    /// source_addr (max 65).
    pub source_addr: String,
    /// dest_addr_ton.
    pub dest_addr_ton: u8,
    /// dest_addr_npi.
    pub dest_addr_npi: u8,
    /// destination_addr (max 65).
    pub destination_addr: String,
    /// esm_class (§5.2.12).
    pub esm_class: u8,
    /// registered_delivery (§5.2.17).
    pub registered_delivery: u8,
    /// data_coding (§5.2.19).
    pub data_coding: u8,
    /// Optional parameters (message_payload, sar_*).
    pub tlvs: Vec<Tlv>,
}

impl DataSm {
    /// The message_payload TLV (§5.3.2.32), empty when absent.
    pub fn payload(&self) -> &[u8] {
        self.tlvs
            .iter()
            .find(|t| t.tag == tag::MESSAGE_PAYLOAD)
            .map_or(&[], |t| &t.value)
    }
}

/// query_sm body (§4.8.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySm {
    /// message_id the SMSC gave in submit_sm_resp (max 65).
    pub message_id: String,
    /// source_addr_ton of the original message.
    pub source_addr_ton: u8,
    /// source_addr_npi of the original message.
    pub source_addr_npi: u8,
    /// source_addr of the original message (max 21).
    pub source_addr: String,
}

/// query_sm_resp body (§4.8.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuerySmResp {
    /// message_id queried.
    pub message_id: String,
    /// final_date: when the message reached its final state (SMPP absolute time, §7.1.1),
    /// empty while it is not final.
    pub final_date: String,
    /// message_state (§5.2.28, [`state`]).
    pub message_state: u8,
    /// error_code: network error of a failed delivery (here: the TP-FCS the phone would
    /// report, `D4` busy / `D5` data download error), 0 otherwise.
    pub error_code: u8,
}

/// A PDU body, by operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// bind_receiver (§4.1.3).
    BindReceiver(Bind),
    /// bind_transmitter (§4.1.1).
    BindTransmitter(Bind),
    /// bind_transceiver (§4.1.5).
    BindTransceiver(Bind),
    /// bind_*_resp (§4.1.2): the command_id says which; system_id of the SMSC.
    BindResp {
        /// The bind's command_id | 0x80000000.
        command_id: u32,
        /// SMSC system_id (empty in an error response).
        system_id: String,
    },
    /// unbind (§4.2.1).
    Unbind,
    /// unbind_resp (§4.2.2).
    UnbindResp,
    /// enquire_link (§4.11.1).
    EnquireLink,
    /// enquire_link_resp (§4.11.2).
    EnquireLinkResp,
    /// generic_nack (§4.3).
    GenericNack,
    /// submit_sm (§4.4.1).
    SubmitSm(ShortMessage),
    /// submit_sm_resp (§4.4.2); message_id.
    SubmitSmResp(String),
    /// deliver_sm (§4.6.1).
    DeliverSm(ShortMessage),
    /// deliver_sm_resp (§4.6.2).
    DeliverSmResp,
    /// submit_multi (§4.5.1).
    SubmitMulti(SubmitMulti),
    /// submit_multi_resp (§4.5.2).
    SubmitMultiResp {
        /// message_id (empty in an error response).
        message_id: String,
        /// The destinations that failed, each with its error.
        unsuccess: Vec<UnsuccessSme>,
    },
    /// data_sm (§4.7.1).
    DataSm(DataSm),
    /// data_sm_resp (§4.7.2).
    DataSmResp {
        /// message_id (empty in an error response).
        message_id: String,
        /// Optional parameters.
        tlvs: Vec<Tlv>,
    },
    /// query_sm (§4.8.1).
    QuerySm(QuerySm),
    /// query_sm_resp (§4.8.2).
    QuerySmResp(QuerySmResp),
    /// Any other operation, body kept raw.
    Other {
        /// command_id.
        command_id: u32,
        /// Raw body.
        body: Vec<u8>,
    },
}

impl Body {
    /// The command_id of this body (§5.1.2.1).
    pub fn command_id(&self) -> u32 {
        match self {
            Body::BindReceiver(_) => cmd::BIND_RECEIVER,
            Body::BindTransmitter(_) => cmd::BIND_TRANSMITTER,
            Body::BindTransceiver(_) => cmd::BIND_TRANSCEIVER,
            Body::BindResp { command_id, .. } => *command_id,
            Body::Unbind => cmd::UNBIND,
            Body::UnbindResp => cmd::UNBIND | cmd::RESP,
            Body::EnquireLink => cmd::ENQUIRE_LINK,
            Body::EnquireLinkResp => cmd::ENQUIRE_LINK | cmd::RESP,
            Body::GenericNack => cmd::GENERIC_NACK,
            Body::SubmitSm(_) => cmd::SUBMIT_SM,
            Body::SubmitSmResp(_) => cmd::SUBMIT_SM | cmd::RESP,
            Body::DeliverSm(_) => cmd::DELIVER_SM,
            Body::DeliverSmResp => cmd::DELIVER_SM | cmd::RESP,
            Body::SubmitMulti(_) => cmd::SUBMIT_MULTI,
            Body::SubmitMultiResp { .. } => cmd::SUBMIT_MULTI | cmd::RESP,
            Body::DataSm(_) => cmd::DATA_SM,
            Body::DataSmResp { .. } => cmd::DATA_SM | cmd::RESP,
            Body::QuerySm(_) => cmd::QUERY_SM,
            Body::QuerySmResp(_) => cmd::QUERY_SM | cmd::RESP,
            Body::Other { command_id, .. } => *command_id,
        }
    }
}

/// One SMPP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// command_status (§5.1.3).
    pub status: u32,
    /// sequence_number (§5.1.4).
    pub sequence: u32,
    /// The operation and its fields.
    pub body: Body,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&[u8], PduError> {
        let s = self
            .b
            .get(self.at..self.at + n)
            .ok_or(PduError::Truncated {
                field,
                offset: self.at,
                len: self.b.len(),
            })?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, PduError> {
        Ok(self.take(1, field)?[0])
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, PduError> {
        let s = self.take(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, PduError> {
        let s = self.take(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// A C-Octet String of at most `max` bytes including its NUL (§3.1).
    fn cstr(&mut self, field: &'static str, max: usize) -> Result<String, PduError> {
        let rest = self.b.get(self.at..).unwrap_or(&[]);
        let Some(nul) = rest.iter().take(max).position(|&c| c == 0) else {
            return Err(if rest.len() < max && !rest.contains(&0) {
                PduError::Truncated {
                    field,
                    offset: self.at,
                    len: self.b.len(),
                }
            } else {
                PduError::CString {
                    field,
                    offset: self.at,
                    max,
                }
            });
        };
        let s = String::from_utf8_lossy(&rest[..nul]).into_owned();
        self.at += nul + 1;
        Ok(s)
    }
    fn rest(&self) -> usize {
        self.b.len() - self.at
    }
    fn end(&self, what: &'static str) -> Result<(), PduError> {
        match self.rest() {
            0 => Ok(()),
            extra => Err(PduError::Trailing {
                what,
                offset: self.at,
                extra,
            }),
        }
    }
    fn tlvs(&mut self) -> Result<Vec<Tlv>, PduError> {
        let mut v = Vec::new();
        while self.rest() > 0 {
            let offset = self.at;
            let tag = self.u16("TLV tag")?;
            let len = self.u16("TLV length")?;
            let value = self
                .take(len as usize, "TLV value")
                .map_err(|_| PduError::Tlv { tag, offset, len })?
                .to_vec();
            v.push(Tlv { tag, value });
        }
        Ok(v)
    }
}

fn put_cstr(out: &mut Vec<u8>, s: &str, max: usize) {
    let b = s.as_bytes();
    out.extend_from_slice(&b[..b.len().min(max.saturating_sub(1))]);
    out.push(0);
}

fn put_tlvs(out: &mut Vec<u8>, tlvs: &[Tlv]) {
    for t in tlvs {
        out.extend_from_slice(&t.tag.to_be_bytes());
        out.extend_from_slice(&(t.value.len() as u16).to_be_bytes());
        out.extend_from_slice(&t.value);
    }
}

fn parse_bind(r: &mut Reader) -> Result<Bind, PduError> {
    let b = Bind {
        system_id: r.cstr("system_id", 16)?,
        password: r.cstr("password", 9)?,
        system_type: r.cstr("system_type", 13)?,
        interface_version: r.u8("interface_version")?,
        addr_ton: r.u8("addr_ton")?,
        addr_npi: r.u8("addr_npi")?,
        address_range: r.cstr("address_range", 41)?,
    };
    r.end("bind")?;
    Ok(b)
}

fn parse_sm(r: &mut Reader) -> Result<ShortMessage, PduError> {
    let mut m = ShortMessage {
        service_type: r.cstr("service_type", 6)?,
        source_addr_ton: r.u8("source_addr_ton")?,
        source_addr_npi: r.u8("source_addr_npi")?,
        source_addr: r.cstr("source_addr", 21)?,
        dest_addr_ton: r.u8("dest_addr_ton")?,
        dest_addr_npi: r.u8("dest_addr_npi")?,
        destination_addr: r.cstr("destination_addr", 21)?,
        ..Default::default()
    };
    parse_sm_tail(r, &mut m)?;
    Ok(m)
}

fn parse_submit_multi(r: &mut Reader) -> Result<SubmitMulti, PduError> {
    let mut m = ShortMessage {
        service_type: r.cstr("service_type", 6)?,
        source_addr_ton: r.u8("source_addr_ton")?,
        source_addr_npi: r.u8("source_addr_npi")?,
        source_addr: r.cstr("source_addr", 21)?,
        ..Default::default()
    };
    let n = r.u8("number_of_dests")?;
    let mut dests = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let offset = r.at;
        dests.push(match r.u8("dest_flag")? {
            1 => DestAddress::Sme {
                ton: r.u8("dest_addr_ton")?,
                npi: r.u8("dest_addr_npi")?,
                addr: r.cstr("destination_addr", 21)?,
            },
            2 => DestAddress::DistributionList(r.cstr("dl_name", 21)?),
            value => return Err(PduError::DestFlag { offset, value }),
        });
    }
    parse_sm_tail(r, &mut m)?;
    Ok(SubmitMulti { dests, message: m })
}

fn parse_data_sm(r: &mut Reader) -> Result<DataSm, PduError> {
    Ok(DataSm {
        service_type: r.cstr("service_type", 6)?,
        source_addr_ton: r.u8("source_addr_ton")?,
        source_addr_npi: r.u8("source_addr_npi")?,
        source_addr: r.cstr("source_addr", 65)?,
        dest_addr_ton: r.u8("dest_addr_ton")?,
        dest_addr_npi: r.u8("dest_addr_npi")?,
        destination_addr: r.cstr("destination_addr", 65)?,
        esm_class: r.u8("esm_class")?,
        registered_delivery: r.u8("registered_delivery")?,
        data_coding: r.u8("data_coding")?,
        tlvs: r.tlvs()?,
    })
}

/// The fields of submit_sm / submit_multi / deliver_sm from esm_class on.
fn parse_sm_tail(r: &mut Reader, m: &mut ShortMessage) -> Result<(), PduError> {
    m.esm_class = r.u8("esm_class")?;
    m.protocol_id = r.u8("protocol_id")?;
    m.priority_flag = r.u8("priority_flag")?;
    m.schedule_delivery_time = r.cstr("schedule_delivery_time", 17)?;
    m.validity_period = r.cstr("validity_period", 17)?;
    m.registered_delivery = r.u8("registered_delivery")?;
    m.replace_if_present_flag = r.u8("replace_if_present_flag")?;
    m.data_coding = r.u8("data_coding")?;
    m.sm_default_msg_id = r.u8("sm_default_msg_id")?;
    let at = r.at;
    let n = r.u8("sm_length")?;
    if n > 254 {
        return Err(PduError::SmLength {
            offset: at,
            value: n,
        });
    }
    m.short_message = r.take(n as usize, "short_message")?.to_vec();
    m.tlvs = r.tlvs()?;
    Ok(())
}

fn emit_sm(out: &mut Vec<u8>, m: &ShortMessage) {
    put_cstr(out, &m.service_type, 6);
    out.extend_from_slice(&[m.source_addr_ton, m.source_addr_npi]);
    put_cstr(out, &m.source_addr, 21);
    out.extend_from_slice(&[m.dest_addr_ton, m.dest_addr_npi]);
    put_cstr(out, &m.destination_addr, 21);
    emit_sm_tail(out, m);
}

fn emit_submit_multi(out: &mut Vec<u8>, s: &SubmitMulti) {
    let m = &s.message;
    put_cstr(out, &m.service_type, 6);
    out.extend_from_slice(&[m.source_addr_ton, m.source_addr_npi]);
    put_cstr(out, &m.source_addr, 21);
    let n = s.dests.len().min(255);
    out.push(n as u8);
    for d in &s.dests[..n] {
        match d {
            DestAddress::Sme { ton, npi, addr } => {
                out.extend_from_slice(&[1, *ton, *npi]);
                put_cstr(out, addr, 21);
            }
            DestAddress::DistributionList(name) => {
                out.push(2);
                put_cstr(out, name, 21);
            }
        }
    }
    emit_sm_tail(out, m);
}

fn emit_sm_tail(out: &mut Vec<u8>, m: &ShortMessage) {
    out.extend_from_slice(&[m.esm_class, m.protocol_id, m.priority_flag]);
    put_cstr(out, &m.schedule_delivery_time, 17);
    put_cstr(out, &m.validity_period, 17);
    out.extend_from_slice(&[
        m.registered_delivery,
        m.replace_if_present_flag,
        m.data_coding,
        m.sm_default_msg_id,
    ]);
    let n = m.short_message.len().min(254);
    out.push(n as u8);
    out.extend_from_slice(&m.short_message[..n]);
    put_tlvs(out, &m.tlvs);
}

impl Pdu {
    /// A PDU with status 0.
    pub fn new(sequence: u32, body: Body) -> Pdu {
        Pdu {
            status: status::ROK,
            sequence,
            body,
        }
    }

    /// Parse one whole PDU (`b.len()` must equal command_length).
    pub fn parse(b: &[u8]) -> Result<Pdu, PduError> {
        let (h, len) = Header::parse(b)?;
        if (len as usize) != b.len() || (len as usize) < HEADER_LEN || len as usize > MAX_PDU_LEN {
            return Err(PduError::BadLength {
                value: len,
                given: b.len(),
            });
        }
        let mut r = Reader { b, at: HEADER_LEN };
        let error_resp = h.command_id & cmd::RESP != 0 && h.command_status != 0;
        let body = match h.command_id {
            cmd::BIND_RECEIVER => Body::BindReceiver(parse_bind(&mut r)?),
            cmd::BIND_TRANSMITTER => Body::BindTransmitter(parse_bind(&mut r)?),
            cmd::BIND_TRANSCEIVER => Body::BindTransceiver(parse_bind(&mut r)?),
            id @ (0x8000_0001 | 0x8000_0002 | 0x8000_0009) => {
                // §4.1.2: an error bind_resp may carry no body at all.
                let system_id = if error_resp && r.rest() == 0 {
                    String::new()
                } else {
                    r.cstr("system_id", 16)?
                };
                r.tlvs()?;
                Body::BindResp {
                    command_id: id,
                    system_id,
                }
            }
            cmd::UNBIND => {
                r.end("unbind")?;
                Body::Unbind
            }
            0x8000_0006 => {
                r.end("unbind_resp")?;
                Body::UnbindResp
            }
            cmd::ENQUIRE_LINK => {
                r.end("enquire_link")?;
                Body::EnquireLink
            }
            0x8000_0015 => {
                r.end("enquire_link_resp")?;
                Body::EnquireLinkResp
            }
            cmd::GENERIC_NACK => {
                r.end("generic_nack")?;
                Body::GenericNack
            }
            cmd::SUBMIT_SM => Body::SubmitSm(parse_sm(&mut r)?),
            cmd::DELIVER_SM => Body::DeliverSm(parse_sm(&mut r)?),
            0x8000_0004 => {
                let id = if error_resp && r.rest() == 0 {
                    String::new()
                } else {
                    r.cstr("message_id", 65)?
                };
                r.end("submit_sm_resp")?;
                Body::SubmitSmResp(id)
            }
            0x8000_0005 => {
                if r.rest() > 0 {
                    r.cstr("message_id", 1)?;
                }
                r.end("deliver_sm_resp")?;
                Body::DeliverSmResp
            }
            cmd::SUBMIT_MULTI => Body::SubmitMulti(parse_submit_multi(&mut r)?),
            0x8000_0021 => {
                if error_resp && r.rest() == 0 {
                    Body::SubmitMultiResp {
                        message_id: String::new(),
                        unsuccess: Vec::new(),
                    }
                } else {
                    let message_id = r.cstr("message_id", 65)?;
                    let n = r.u8("no_unsuccess")?;
                    let mut unsuccess = Vec::with_capacity(n as usize);
                    for _ in 0..n {
                        unsuccess.push(UnsuccessSme {
                            ton: r.u8("dest_addr_ton")?,
                            npi: r.u8("dest_addr_npi")?,
                            addr: r.cstr("destination_addr", 21)?,
                            error: r.u32("error_status_code")?,
                        });
                    }
                    r.end("submit_multi_resp")?;
                    Body::SubmitMultiResp {
                        message_id,
                        unsuccess,
                    }
                }
            }
            cmd::DATA_SM => Body::DataSm(parse_data_sm(&mut r)?),
            0x8000_0103 => {
                let message_id = if error_resp && r.rest() == 0 {
                    String::new()
                } else {
                    r.cstr("message_id", 65)?
                };
                Body::DataSmResp {
                    message_id,
                    tlvs: r.tlvs()?,
                }
            }
            cmd::QUERY_SM => {
                let q = QuerySm {
                    message_id: r.cstr("message_id", 65)?,
                    source_addr_ton: r.u8("source_addr_ton")?,
                    source_addr_npi: r.u8("source_addr_npi")?,
                    source_addr: r.cstr("source_addr", 21)?,
                };
                r.end("query_sm")?;
                Body::QuerySm(q)
            }
            0x8000_0003 => {
                let q = if error_resp && r.rest() == 0 {
                    QuerySmResp::default()
                } else {
                    QuerySmResp {
                        message_id: r.cstr("message_id", 65)?,
                        final_date: r.cstr("final_date", 17)?,
                        message_state: r.u8("message_state")?,
                        error_code: r.u8("error_code")?,
                    }
                };
                r.end("query_sm_resp")?;
                Body::QuerySmResp(q)
            }
            command_id => Body::Other {
                command_id,
                body: b[HEADER_LEN..].to_vec(),
            },
        };
        Ok(Pdu {
            status: h.command_status,
            sequence: h.sequence,
            body,
        })
    }

    /// The PDU's bytes, command_length first.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![0u8; 4];
        out.extend_from_slice(&self.body.command_id().to_be_bytes());
        out.extend_from_slice(&self.status.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        match &self.body {
            Body::BindReceiver(b) | Body::BindTransmitter(b) | Body::BindTransceiver(b) => {
                put_cstr(&mut out, &b.system_id, 16);
                put_cstr(&mut out, &b.password, 9);
                put_cstr(&mut out, &b.system_type, 13);
                out.extend_from_slice(&[b.interface_version, b.addr_ton, b.addr_npi]);
                put_cstr(&mut out, &b.address_range, 41);
            }
            Body::BindResp { system_id, .. } => {
                put_cstr(&mut out, system_id, 16);
                if self.status == status::ROK {
                    put_tlvs(
                        &mut out,
                        &[Tlv {
                            tag: tag::SC_INTERFACE_VERSION,
                            value: vec![0x34],
                        }],
                    );
                }
            }
            Body::SubmitSm(m) | Body::DeliverSm(m) => emit_sm(&mut out, m),
            Body::SubmitSmResp(id) => put_cstr(&mut out, id, 65),
            Body::DeliverSmResp => out.push(0),
            Body::SubmitMulti(m) => emit_submit_multi(&mut out, m),
            Body::SubmitMultiResp {
                message_id,
                unsuccess,
            } => {
                put_cstr(&mut out, message_id, 65);
                let n = unsuccess.len().min(255);
                out.push(n as u8);
                for u in &unsuccess[..n] {
                    out.extend_from_slice(&[u.ton, u.npi]);
                    put_cstr(&mut out, &u.addr, 21);
                    out.extend_from_slice(&u.error.to_be_bytes());
                }
            }
            Body::DataSm(d) => {
                put_cstr(&mut out, &d.service_type, 6);
                out.extend_from_slice(&[d.source_addr_ton, d.source_addr_npi]);
                put_cstr(&mut out, &d.source_addr, 65);
                out.extend_from_slice(&[d.dest_addr_ton, d.dest_addr_npi]);
                put_cstr(&mut out, &d.destination_addr, 65);
                out.extend_from_slice(&[d.esm_class, d.registered_delivery, d.data_coding]);
                put_tlvs(&mut out, &d.tlvs);
            }
            Body::DataSmResp { message_id, tlvs } => {
                put_cstr(&mut out, message_id, 65);
                put_tlvs(&mut out, tlvs);
            }
            Body::QuerySm(q) => {
                put_cstr(&mut out, &q.message_id, 65);
                out.extend_from_slice(&[q.source_addr_ton, q.source_addr_npi]);
                put_cstr(&mut out, &q.source_addr, 21);
            }
            Body::QuerySmResp(q) => {
                put_cstr(&mut out, &q.message_id, 65);
                put_cstr(&mut out, &q.final_date, 17);
                out.extend_from_slice(&[q.message_state, q.error_code]);
            }
            Body::Other { body, .. } => out.extend_from_slice(body),
            Body::Unbind
            | Body::UnbindResp
            | Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::GenericNack => {}
        }
        let n = out.len() as u32;
        out[..4].copy_from_slice(&n.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm() -> ShortMessage {
        ShortMessage {
            source_addr: "12".into(),
            destination_addr: "491700000003".into(),
            esm_class: ESM_UDHI,
            protocol_id: 0x7F,
            data_coding: 0xF6,
            short_message: vec![2, 0x70, 0, 1, 2, 3],
            tlvs: vec![Tlv {
                tag: tag::SAR_MSG_REF_NUM,
                value: vec![0, 7],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn submit_sm_round_trips() {
        let p = Pdu::new(7, Body::SubmitSm(sm()));
        let b = p.emit();
        assert_eq!(
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
            b.len()
        );
        assert_eq!(Pdu::parse(&b).unwrap(), p);
        let Body::SubmitSm(m) = Pdu::parse(&b).unwrap().body else {
            panic!()
        };
        assert_eq!(m.tlv_int(tag::SAR_MSG_REF_NUM), Some(7));
    }

    /// Wire input never panics: every truncation of a valid submit_sm (with command_length
    /// left as is and with it fixed to the cut length) and every single-byte change of it parse
    /// to a PDU or an error.
    #[test]
    fn truncated_and_mutated_pdus_never_panic() {
        let b = Pdu::new(7, Body::SubmitSm(sm())).emit();
        for n in 0..b.len() {
            let mut cut = b[..n].to_vec();
            let _ = Pdu::parse(&cut);
            if n >= 4 {
                cut[..4].copy_from_slice(&(n as u32).to_be_bytes());
                let _ = Pdu::parse(&cut);
            }
        }
        for i in 0..b.len() {
            for v in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
                let mut m = b.clone();
                m[i] = v;
                let _ = Pdu::parse(&m);
                let _ = Header::parse(&m);
            }
        }
    }

    #[test]
    fn message_payload_used_when_short_message_empty() {
        let mut m = sm();
        m.short_message.clear();
        m.tlvs = vec![Tlv {
            tag: tag::MESSAGE_PAYLOAD,
            value: vec![9; 300],
        }];
        let b = Pdu::new(1, Body::SubmitSm(m)).emit();
        let Body::SubmitSm(m) = Pdu::parse(&b).unwrap().body else {
            panic!()
        };
        assert_eq!(m.payload(), &[9; 300][..]);
    }

    #[test]
    fn errors_name_field_and_offset() {
        let mut b = Pdu::new(1, Body::SubmitSm(sm())).emit();
        // Cut the PDU inside short_message and fix command_length: truncated field.
        b.truncate(b.len() - 8);
        let n = b.len() as u32;
        b[..4].copy_from_slice(&n.to_be_bytes());
        let e = Pdu::parse(&b).unwrap_err();
        assert!(e.to_string().contains("short_message at offset"), "{e}");
        assert_eq!(e.status(), status::RINVCMDLEN);
        // command_length disagreeing with the bytes.
        let mut c = Pdu::new(1, Body::EnquireLink).emit();
        c[3] = 20;
        let e = Pdu::parse(&c).unwrap_err();
        assert!(
            matches!(
                e,
                PduError::BadLength {
                    value: 20,
                    given: 16
                }
            ),
            "{e}"
        );
        // sm_length 255.
        let mut d = Pdu::new(1, Body::SubmitSm(sm())).emit();
        let at = d.iter().rposition(|&x| x == 6).unwrap(); // sm_length of 6-byte message
        d[at] = 255;
        let e = Pdu::parse(&d).unwrap_err();
        assert!(matches!(e, PduError::SmLength { value: 255, .. }), "{e}");
        assert_eq!(e.status(), status::RINVMSGLEN);
        // A C-Octet String over its maximum.
        let mut bind = Pdu::new(
            1,
            Body::BindTransceiver(Bind {
                system_id: "x".into(),
                password: "p".into(),
                system_type: String::new(),
                interface_version: 0x34,
                addr_ton: 0,
                addr_npi: 0,
                address_range: String::new(),
            }),
        )
        .emit();
        bind.splice(16..17, std::iter::repeat_n(b'a', 20));
        let n = bind.len() as u32;
        bind[..4].copy_from_slice(&n.to_be_bytes());
        let e = Pdu::parse(&bind).unwrap_err();
        assert!(e.to_string().starts_with("system_id at offset 16"), "{e}");
    }

    fn new_bodies() -> Vec<Body> {
        vec![
            Body::SubmitMulti(SubmitMulti {
                dests: vec![
                    DestAddress::Sme {
                        ton: 1,
                        npi: 1,
                        addr: "491700000001".into(),
                    },
                    DestAddress::DistributionList("ota-fleet".into()),
                ],
                message: ShortMessage {
                    destination_addr: String::new(),
                    dest_addr_ton: 0,
                    dest_addr_npi: 0,
                    ..sm()
                },
            }),
            Body::SubmitMultiResp {
                message_id: "1f".into(),
                unsuccess: vec![UnsuccessSme {
                    ton: 1,
                    npi: 1,
                    addr: "5".into(),
                    error: status::RINVDSTADR,
                }],
            },
            Body::DataSm(DataSm {
                source_addr: "12".into(),
                destination_addr: "4".repeat(64),
                esm_class: ESM_UDHI,
                data_coding: 0xF6,
                tlvs: vec![Tlv {
                    tag: tag::MESSAGE_PAYLOAD,
                    value: vec![2, 0x70, 0, 9],
                }],
                ..Default::default()
            }),
            Body::DataSmResp {
                message_id: "20".into(),
                tlvs: vec![],
            },
            Body::QuerySm(QuerySm {
                message_id: "20".into(),
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: "12".into(),
            }),
            Body::QuerySmResp(QuerySmResp {
                message_id: "20".into(),
                final_date: "261203190512000+".into(),
                message_state: state::UNDELIVERABLE,
                error_code: 0xD5,
            }),
        ]
    }

    /// submit_multi, data_sm, query_sm and their responses round-trip; every truncation and
    /// byte change of them parses to a PDU or an error, never a panic.
    #[test]
    fn multi_data_query_round_trip_and_never_panic() {
        for body in new_bodies() {
            let p = Pdu::new(9, body);
            let b = p.emit();
            assert_eq!(Pdu::parse(&b).unwrap(), p);
            for n in 0..b.len() {
                let mut cut = b[..n].to_vec();
                if n >= 4 {
                    cut[..4].copy_from_slice(&(n as u32).to_be_bytes());
                }
                let _ = Pdu::parse(&cut);
            }
            for i in HEADER_LEN..b.len() {
                for v in [0x00, 0x01, 0x02, 0x03, 0xFF] {
                    let mut m = b.clone();
                    m[i] = v;
                    let _ = Pdu::parse(&m);
                }
            }
        }
        // An error response may come without a body.
        let mut e = Pdu::new(3, Body::QuerySmResp(QuerySmResp::default())).emit();
        e.truncate(HEADER_LEN);
        e[..4].copy_from_slice(&16u32.to_be_bytes());
        e[8..12].copy_from_slice(&status::RQUERYFAIL.to_be_bytes());
        assert_eq!(
            Pdu::parse(&e).unwrap().body,
            Body::QuerySmResp(QuerySmResp::default())
        );
    }

    #[test]
    fn submit_multi_bad_dest_flag_names_its_offset() {
        let mut b = Pdu::new(1, new_bodies().remove(0)).emit();
        // service_type "" (1) + ton npi (2) + "12\0" (3) + number_of_dests (1): dest_flag.
        let at = HEADER_LEN + 7;
        assert_eq!(b[at], 1);
        b[at] = 3;
        let e = Pdu::parse(&b).unwrap_err();
        assert_eq!(
            e,
            PduError::DestFlag {
                offset: at,
                value: 3
            }
        );
        assert_eq!(e.status(), status::RINVDESTFLAG);
        assert!(e.to_string().starts_with("dest_flag at offset 23"), "{e}");
    }

    #[test]
    fn unknown_command_round_trips() {
        let p = Pdu::new(
            3,
            Body::Other {
                command_id: 0x0000_0099,
                body: vec![1, 2],
            },
        );
        assert_eq!(Pdu::parse(&p.emit()).unwrap(), p);
    }

    #[test]
    fn bind_debug_hides_password() {
        let b = Bind {
            system_id: "test".into(),
            password: "secret".into(),
            system_type: String::new(),
            interface_version: 0x34,
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
        };
        assert!(!format!("{b:?}").contains("secret"));
    }
}
