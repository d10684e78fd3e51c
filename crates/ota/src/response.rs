//! Response packets (Proof of Receipt) in the SMS form (3GPP TS 31.115 §4.4/§4.5, ETSI
//! TS 102 225 §5.2).
//!
//! TP-UD layout:
//!
//! ```text
//! UDHL 71 00 [other IEs] | RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) Status(1) RC/CC(RHL-10) data padding
//!                                               '------------- ciphered when SPI2 b5 = 1 ---------'
//! ```
//!
//! The RC/CC covers the UDH (`02 71 00`), RPL, RHL, TAR, CNTR, PCNTR, status and the data with
//! padding — unlike the command packet, the UDH is included (TS 31.115, confirmed by every
//! real-card vector). Error PoRs may be sent with weaker security than SPI2 asks for
//! (status 06 is always unsecured): [`ResponsePacket::seal`] takes the security explicitly.

use crate::command::{
    check_mode_len, compute_integrity, integrity_len_for, integrity_report, integrity_result,
    IntegrityCheck,
};
use crate::counter::{Counter, Tar};
use crate::error::{byte, take, OtaError, Result};
use crate::keyid::Kid;
use crate::keyset::Checksum;
use crate::keyset::Keyset;
use crate::remote::CompactResponse;
use crate::sms::udh::{Udh, IEI_RESPONSE_PACKET};
use crate::spi::IntegrityMode;
use crate::status::ResponseStatus;
use apdu::hex;

/// RHL without RC/CC/DS: TAR(3)+CNTR(5)+PCNTR+Status = 10.
pub const RHL_MIN: u8 = 10;

/// How a PoR is secured (SPI2 b5 and b4b3, or weaker for error PoRs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PorSecurity {
    /// Cipher CNTR..end with the keyset's KIc.
    pub ciphering: bool,
    /// RC/CC/DS on the PoR.
    pub integrity: IntegrityMode,
}

impl PorSecurity {
    /// No ciphering, no RC/CC (used for status 06 and for errors found before the keys could
    /// be validated).
    pub const NONE: PorSecurity = PorSecurity {
        ciphering: false,
        integrity: IntegrityMode::None,
    };
}

/// The clear part of a PoR.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseHeader {
    /// The UDH as received (normally `02 71 00`).
    pub udh: Vec<u8>,
    /// Response Packet Length: bytes after RPL.
    pub rpl: u16,
    /// Response Header Length: TAR..RC/CC/DS.
    pub rhl: u8,
    /// TAR (echoed from the command).
    pub tar: Tar,
}

impl ResponseHeader {
    /// Length of the RC/CC/DS field (`RHL − 10`).
    pub fn integrity_len(&self) -> usize {
        usize::from(self.rhl.saturating_sub(RHL_MIN))
    }
}

/// A PoR as typed values: `data` is the additional response data without padding (for
/// RFM/RAM, the compact or expanded remote response).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponsePacket {
    /// TAR, echoed from the command.
    pub tar: Tar,
    /// CNTR, echoed from the command.
    pub counter: Counter,
    /// Response status code.
    pub status: ResponseStatus,
    /// Additional response data.
    pub data: Vec<u8>,
}

impl ResponsePacket {
    /// A PoR with no additional data (typical for error statuses).
    pub fn new(tar: Tar, counter: Counter, status: ResponseStatus) -> Self {
        ResponsePacket {
            tar,
            counter,
            status,
            data: Vec::new(),
        }
    }

    /// Attach additional response data (e.g. a remote APDU response).
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// Build the TP-UD (`02 71 00` RPL RHL …), secured as `security` says, using the
    /// keyset's KIc for ciphering and KID for the RC/CC: `security.integrity` (SPI2 b4b3)
    /// says RC or CC, and the keyset's KID nibble read for that mode says which one
    /// ([`Keyset::kid_alg_for`]), so a command with a CC may get a PoR with a CRC32.
    pub fn seal(&self, security: PorSecurity, keys: &Keyset) -> Result<Vec<u8>> {
        let ilen = integrity_len_for(security.integrity, keys)?;
        let bs = if security.ciphering {
            keys.block_size().ok_or(OtaError::KeyMissing {
                which: "KIc",
                what: "PoR ciphering",
            })?
        } else {
            1
        };
        let body = 7 + ilen + self.data.len();
        let pad = (bs - body % bs) % bs;
        let rhl = RHL_MIN + ilen as u8;
        let rpl = u16::try_from(1 + usize::from(rhl) + self.data.len() + pad).map_err(|_| {
            OtaError::InvalidValue {
                field: "data",
                reason: format!("{} bytes do not fit a 16-bit RPL", self.data.len()),
            }
        })?;
        let mut out = Vec::with_capacity(5 + usize::from(rpl));
        out.extend_from_slice(&[0x02, IEI_RESPONSE_PACKET, 0x00]);
        out.extend_from_slice(&rpl.to_be_bytes());
        out.push(rhl);
        out.extend_from_slice(&self.tar.0);
        out.extend_from_slice(&self.counter.to_bytes());
        out.push(pad as u8);
        out.push(self.status.to_byte());
        let cc_at = out.len();
        out.resize(cc_at + ilen, 0);
        out.extend_from_slice(&self.data);
        out.resize(out.len() + pad, 0);
        if ilen > 0 {
            let (head, tail) = out.split_at_mut(cc_at + ilen);
            let c = keys.checksum_for(security.integrity, &[&head[..cc_at], tail], ilen)?;
            head[cc_at..].copy_from_slice(c.as_bytes());
        }
        if security.ciphering {
            keys.encrypt(&mut out[9..])?;
        }
        Ok(out)
    }

    /// Build an unsecured PoR (no ciphering, no RC/CC), e.g. for status 06.
    pub fn seal_unsecured(&self) -> Result<Vec<u8>> {
        self.seal(PorSecurity::NONE, &Keyset::new())
    }

    /// Parse, decipher and verify a PoR TP-UD in one go.
    pub fn open(ud: &[u8], security: PorSecurity, keys: &Keyset) -> Result<ResponsePacket> {
        SecuredResponse::parse(ud)?
            .decipher(security, keys)?
            .verify(keys)
    }

    /// The additional data read as a compact remote APDU response (TS 102 226 §5.1.2).
    pub fn compact_response(&self) -> Result<CompactResponse> {
        CompactResponse::parse(&self.data)
    }
}

/// A received PoR with its UDH and clear header decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuredResponse<'a> {
    header: ResponseHeader,
    /// Offset of RPL in `ud`.
    at: usize,
    ud: &'a [u8],
}

impl<'a> SecuredResponse<'a> {
    /// Decode the UDH (which must hold IE 71) and RPL, RHL and TAR.
    pub fn parse(ud: &'a [u8]) -> Result<Self> {
        let (udh, at) = Udh::parse(ud)?;
        if !udh.ies.iter().any(|ie| ie.iei == IEI_RESPONSE_PACKET) {
            return Err(OtaError::Malformed {
                field: "UDH",
                offset: 0,
                reason: "no response packet IE 71 (not a PoR)".into(),
            });
        }
        let rpl_b = take(ud, at, 2, "RPL")?;
        let rpl = u16::from_be_bytes([rpl_b[0], rpl_b[1]]);
        let rest = ud.len().saturating_sub(at + 2);
        if usize::from(rpl) != rest {
            return Err(OtaError::LengthMismatch {
                field: "RPL",
                offset: at,
                value: usize::from(rpl),
                says: usize::from(rpl),
                actual: rest,
            });
        }
        let rhl = byte(ud, at + 2, "RHL")?;
        if rhl < RHL_MIN {
            return Err(OtaError::HeaderTooShort {
                field: "RHL",
                offset: at + 2,
                value: rhl,
                min: RHL_MIN,
            });
        }
        let tar = Tar::from_slice(take(ud, at + 3, 3, "TAR")?)?;
        take(ud, at + 6, 5, "CNTR")?;
        byte(ud, at + 11, "PCNTR")?;
        byte(ud, at + 12, "status")?;
        let header = ResponseHeader {
            udh: ud.get(..at).unwrap_or(&[]).to_vec(),
            rpl,
            rhl,
            tar,
        };
        let ilen = header.integrity_len();
        let avail = ud.len().saturating_sub(at + 13);
        if ilen > avail {
            return Err(OtaError::IntegrityTruncated {
                field: "RHL",
                value: rhl,
                len: ilen,
                kind: "RC/CC/DS",
                available: avail,
            });
        }
        Ok(SecuredResponse { header, at, ud })
    }

    /// The clear header.
    pub fn header(&self) -> &ResponseHeader {
        &self.header
    }

    /// The status byte as it appears in clear (meaningful only for unciphered PoRs).
    pub fn clear_status(&self) -> Option<ResponseStatus> {
        self.ud
            .get(self.at + 12)
            .map(|&b| ResponseStatus::from_byte(b))
    }

    /// Decipher CNTR..end when `security.ciphering` and split the fields.
    pub fn decipher(&self, security: PorSecurity, keys: &Keyset) -> Result<DecipheredResponse> {
        let ilen = self.header.integrity_len();
        check_mode_len(
            security.integrity,
            ilen,
            "RHL",
            self.header.rhl,
            self.at + 2,
        )?;
        let start = self.at + 6;
        let mut plain = self.ud.get(start..).unwrap_or(&[]).to_vec();
        if security.ciphering {
            keys.decrypt(&mut plain).map_err(|e| match e {
                OtaError::CipherLength {
                    len, alg, block, ..
                } => OtaError::CipherLength {
                    offset: start,
                    len,
                    alg,
                    block,
                },
                e => e,
            })?;
        }
        let c = take(&plain, 0, 5, "CNTR")?;
        let counter = Counter::from_bytes([c[0], c[1], c[2], c[3], c[4]]);
        let pcntr = byte(&plain, 5, "PCNTR")?;
        let status = ResponseStatus::from_byte(byte(&plain, 6, "status")?);
        let data_len = plain.len().saturating_sub(7 + ilen);
        if usize::from(pcntr) > data_len {
            return Err(OtaError::PaddingTooLong {
                pcntr,
                offset: start + 5,
                available: data_len,
            });
        }
        Ok(DecipheredResponse {
            header: self.header.clone(),
            clear: self.ud.get(..start).unwrap_or(&[]).to_vec(),
            plain,
            security,
            counter,
            pcntr,
            status,
        })
    }
}

/// A PoR after deciphering; the RC/CC has not been checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecipheredResponse {
    header: ResponseHeader,
    clear: Vec<u8>,
    plain: Vec<u8>,
    security: PorSecurity,
    counter: Counter,
    pcntr: u8,
    status: ResponseStatus,
}

impl DecipheredResponse {
    /// The clear header.
    pub fn header(&self) -> &ResponseHeader {
        &self.header
    }
    /// CNTR.
    pub fn counter(&self) -> Counter {
        self.counter
    }
    /// PCNTR.
    pub fn pcntr(&self) -> u8 {
        self.pcntr
    }
    /// Status code.
    pub fn status(&self) -> ResponseStatus {
        self.status
    }
    /// The received RC/CC/DS.
    pub fn integrity_value(&self) -> &[u8] {
        self.plain
            .get(7..7 + self.header.integrity_len())
            .unwrap_or(&[])
    }
    /// Additional data including padding.
    pub fn data_with_padding(&self) -> &[u8] {
        self.plain
            .get(7 + self.header.integrity_len()..)
            .unwrap_or(&[])
    }
    /// Additional data without padding.
    pub fn data(&self) -> &[u8] {
        let d = self.data_with_padding();
        d.get(..d.len().saturating_sub(usize::from(self.pcntr)))
            .unwrap_or(&[])
    }

    fn compute(&self, keys: &Keyset) -> Result<Option<Checksum>> {
        let kid = keys.kid();
        let head = self.plain.get(..7).unwrap_or(&[]);
        compute_integrity(
            keys,
            self.security.integrity,
            Kid {
                key_index: kid.key_index,
                nibble: kid.nibble,
            },
            &[&self.clear, head, self.data_with_padding()],
            self.integrity_value(),
            "RHL",
            self.header.rhl,
        )
    }

    /// Compute and compare the RC/CC. The requested mode decides RC vs CC and the keyset's
    /// KID nibble read for that mode the algorithm (a PoR carries no KID byte).
    pub fn check_integrity(&self, keys: &Keyset) -> Result<IntegrityCheck> {
        let c = self.compute(keys)?;
        Ok(integrity_report(
            self.security.integrity,
            c,
            self.integrity_value(),
        ))
    }

    /// Check the RC/CC and return the packet.
    pub fn verify(&self, keys: &Keyset) -> Result<ResponsePacket> {
        let c = self.compute(keys)?;
        integrity_result(self.security.integrity, c, self.integrity_value())?;
        Ok(self.to_packet())
    }

    /// The packet without checking the RC/CC.
    pub fn to_packet(&self) -> ResponsePacket {
        ResponsePacket {
            tar: self.header.tar,
            counter: self.counter,
            status: self.status,
            data: self.data().to_vec(),
        }
    }
}

impl std::fmt::Display for ResponsePacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TAR {} CNTR {} status {} data {}",
            self.tar,
            self.counter,
            self.status,
            hex::encode(&self.data)
        )
    }
}
