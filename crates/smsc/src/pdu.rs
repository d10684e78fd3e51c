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
    /// Bind failed.
    pub const RBINDFAIL: u32 = 0x0D;
    /// Invalid password.
    pub const RINVPASWD: u32 = 0x0E;
    /// Invalid system ID.
    pub const RINVSYSID: u32 = 0x0F;
    /// Message queue full.
    pub const RMSGQFUL: u32 = 0x14;
    /// Invalid esm_class field data.
    pub const RINVESMCLASS: u32 = 0x43;
    /// submit_sm or submit_multi failed.
    pub const RSUBMITFAIL: u32 = 0x45;
    /// Throttling error (ESME has exceeded allowed message limits).
    pub const RTHROTTLED: u32 = 0x58;
    /// Error in the optional part of the PDU body.
    pub const RINVOPTPARSTREAM: u32 = 0xC0;
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
/// message_state DELIVERED (§5.2.28).
pub const MESSAGE_STATE_DELIVERED: u8 = 2;

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
        esm_class: r.u8("esm_class")?,
        protocol_id: r.u8("protocol_id")?,
        priority_flag: r.u8("priority_flag")?,
        schedule_delivery_time: r.cstr("schedule_delivery_time", 17)?,
        validity_period: r.cstr("validity_period", 17)?,
        registered_delivery: r.u8("registered_delivery")?,
        replace_if_present_flag: r.u8("replace_if_present_flag")?,
        data_coding: r.u8("data_coding")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        ..Default::default()
    };
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
    Ok(m)
}

fn emit_sm(out: &mut Vec<u8>, m: &ShortMessage) {
    put_cstr(out, &m.service_type, 6);
    out.extend_from_slice(&[m.source_addr_ton, m.source_addr_npi]);
    put_cstr(out, &m.source_addr, 21);
    out.extend_from_slice(&[m.dest_addr_ton, m.dest_addr_npi]);
    put_cstr(out, &m.destination_addr, 21);
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
