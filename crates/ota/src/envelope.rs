//! ENVELOPE (SMS-PP DOWNLOAD) — ETSI TS 102 223 §7.1 / 3GPP TS 31.111 §7.1.1: BER-TLV tag
//! `D1` holding COMPREHENSION-TLVs: Device identities (`82`: source network `83`,
//! destination UICC `81`), optional Address (`86`: TON/NPI + BCD, the SC address) and
//! SMS TPDU (`8B`: the SMS-DELIVER). The C-APDU is `80 C2 00 00 Lc D1 …`.

use crate::error::{OtaError, Result};
use apdu::tlv::CompTlv;
use apdu::CommandApdu;

/// SMS-PP download BER-TLV tag.
pub const TAG_SMS_PP_DOWNLOAD: u8 = 0xD1;
/// Device identity: network.
pub const DEVICE_NETWORK: u8 = 0x83;
/// Device identity: UICC.
pub const DEVICE_UICC: u8 = 0x81;

/// An SMS-PP download ENVELOPE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsPpDownload {
    /// Device identities: source (normally `83` network).
    pub source: u8,
    /// Device identities: destination (normally `81` UICC).
    pub destination: u8,
    /// Address TLV value (TON/NPI byte then swapped BCD), if present.
    pub address: Option<Vec<u8>>,
    /// The SMS TPDU (normally an SMS-DELIVER).
    pub tpdu: Vec<u8>,
}

impl SmsPpDownload {
    /// Network → UICC, no address.
    pub fn new(tpdu: Vec<u8>) -> Self {
        SmsPpDownload {
            source: DEVICE_NETWORK,
            destination: DEVICE_UICC,
            address: None,
            tpdu,
        }
    }

    /// The `D1` BER-TLV (the ENVELOPE command data). Tags are sent with the CR bit set,
    /// as real MEs do.
    pub fn emit(&self) -> Result<Vec<u8>> {
        let mut c = Vec::with_capacity(self.tpdu.len() + 16);
        CompTlv::new(0x02, true, vec![self.source, self.destination]).emit_into(&mut c);
        if let Some(a) = &self.address {
            CompTlv::new(0x06, true, a.clone()).emit_into(&mut c);
        }
        CompTlv::new(0x0B, true, self.tpdu.clone()).emit_into(&mut c);
        let mut out = vec![TAG_SMS_PP_DOWNLOAD];
        out.extend_from_slice(&apdu::tlv::encode_len(c.len()));
        out.extend_from_slice(&c);
        if out.len() > 255 {
            return Err(OtaError::InvalidValue {
                field: "ENVELOPE",
                reason: format!("{} bytes exceed the 255 of a short ENVELOPE", out.len()),
            });
        }
        Ok(out)
    }

    /// The ENVELOPE C-APDU `80 C2 00 00 Lc D1 …` (no Le).
    pub fn to_apdu(&self) -> Result<CommandApdu> {
        Ok(CommandApdu::new(0x80, 0xC2, 0x00, 0x00, self.emit()?, None))
    }

    /// Decode a `D1` BER-TLV, or a whole ENVELOPE C-APDU (`80 C2 …`).
    pub fn parse(b: &[u8]) -> Result<Self> {
        let (data, base) = if b.first() == Some(&0x80) && b.get(1) == Some(&0xC2) {
            let a = CommandApdu::parse(b).map_err(|e| OtaError::Malformed {
                field: "ENVELOPE APDU",
                offset: 0,
                reason: e.to_string(),
            })?;
            (a.data, 5)
        } else {
            (b.to_vec(), 0)
        };
        if data.first() != Some(&TAG_SMS_PP_DOWNLOAD) {
            return Err(OtaError::Malformed {
                field: "ENVELOPE tag",
                offset: base,
                reason: format!("expected D1 (SMS-PP download), found {:02X?}", data.first()),
            });
        }
        let (len, ln) = match data.get(1) {
            Some(&l) if l < 0x80 => (usize::from(l), 1),
            Some(0x81) => (usize::from(*data.get(2).unwrap_or(&0)), 2),
            other => {
                return Err(OtaError::Malformed {
                    field: "ENVELOPE length",
                    offset: base + 1,
                    reason: format!("bad length byte {other:02X?}"),
                })
            }
        };
        let body = data.get(1 + ln..).unwrap_or(&[]);
        if body.len() != len {
            return Err(OtaError::LengthMismatch {
                field: "D1 length",
                offset: base + 1,
                value: len,
                says: len,
                actual: body.len(),
            });
        }
        let tlvs = CompTlv::parse_all_at(body, base + 1 + ln).map_err(|e| OtaError::Malformed {
            field: "SMS-PP download TLVs",
            offset: base + 1 + ln,
            reason: e.to_string(),
        })?;
        let find = |t: u16| tlvs.iter().find(|x| x.tag.value == t && !x.tag.three_byte);
        let dev = find(0x02).ok_or(OtaError::Malformed {
            field: "device identities (82)",
            offset: base,
            reason: "missing".into(),
        })?;
        let [source, destination] =
            <[u8; 2]>::try_from(dev.value.as_slice()).map_err(|_| OtaError::Malformed {
                field: "device identities (82)",
                offset: base,
                reason: format!("length {} instead of 2", dev.value.len()),
            })?;
        let tpdu = find(0x0B)
            .ok_or(OtaError::Malformed {
                field: "SMS TPDU (8B)",
                offset: base,
                reason: "missing".into(),
            })?
            .value
            .clone();
        Ok(SmsPpDownload {
            source,
            destination,
            address: find(0x06).map(|a| a.value.clone()),
            tpdu,
        })
    }
}
