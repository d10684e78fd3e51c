//! SMS-PP data download of OTA messages (3GPP TS 31.111 §7.1.1, TS 31.115, ETSI TS 102 225)
//! and collection of the proof of receipt from whichever path the card uses (spec digest
//! A.6 / D.8):
//!
//! | card's answer to the (last) ENVELOPE | PoR taken from |
//! |---|---|
//! | `9000` + data (T=1), `61xx` → GET RESPONSE (T=0), `9Fxx` (GSM SIM) | the ENVELOPE response data (SMS-DELIVER-REPORT path) |
//! | `91xx` | the SEND SHORT MESSAGE of the proactive session it starts (SMS-SUBMIT path; concatenated parts reassembled) |
//! | `62xx`/`63xx` (UICC), `9Exx` (GSM SIM) | the response data, fetched by GET RESPONSE when not returned directly (data download error, RP-ERROR TP-FCS `D5`) |
//! | `9300` | none: toolkit busy (RP-ERROR TP-FCS `D4`); the message is not retried |

use crate::exchange;
use crate::Terminal;
use crate::TerminalError;
use apdu::CommandApdu;
use ota::response::RHL_MIN;
use ota::sms::{split_command, ConcatRef, SmsAddress, SmsDeliver, Timestamp};
use ota::{
    CommandPacket, Counter, Keyset, PorSecurity, ResponsePacket, ResponseStatus, SecuredResponse,
    Spi, Tar,
};
use transport::Transport;

/// One OTA command to deliver.
#[derive(Debug, Clone)]
pub struct OtaRequest<'a> {
    /// The keyset (KIc/KID keys and indexes).
    pub keys: &'a Keyset,
    /// SPI: security of the command and of the PoR wanted.
    pub spi: Spi,
    /// Target application.
    pub tar: Tar,
    /// CNTR.
    pub counter: Counter,
    /// Secured data (e.g. an RFM/RAM command script).
    pub data: Vec<u8>,
    /// Reference number of the concatenated SMS (used only when the packet needs several).
    pub concat_ref: u8,
}

/// What the terminal needs to decode a PoR of the exchange in progress.
#[derive(Debug, Clone)]
pub(crate) struct PorContext {
    pub keys: Keyset,
    pub spi: Spi,
}

/// Which path the PoR came back on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PorPath {
    /// Response data of the SMS-PP download ENVELOPE (SPI2 b6 = 0, SMS-DELIVER-REPORT).
    EnvelopeResponse,
    /// Response data of a data download error (`62xx`/`63xx`/`9Exx`), RP-ERROR.
    DataDownloadError {
        /// The status word of the ENVELOPE.
        sw: u16,
    },
    /// An SMS-SUBMIT sent through SEND SHORT MESSAGE (SPI2 b6 = 1).
    SendShortMessage,
}

/// A proof of receipt as received, and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PorReport {
    /// The path it came on.
    pub path: PorPath,
    /// The response TP-UD as received (`02 71 00 RPL …`).
    pub ud: Vec<u8>,
    /// The decoded and verified response packet, or why decoding failed.
    pub packet: Result<ResponsePacket, String>,
    /// The security the PoR was decoded with; it is weaker than the SPI asked for when the
    /// card sent an error PoR unsecured (RHL = 10, status 06 and similar).
    pub security: PorSecurity,
}

impl PartialEq for PorContext {
    fn eq(&self, o: &Self) -> bool {
        self.spi == o.spi
    }
}

impl PorReport {
    /// Decode `ud` with the keyset and SPI of the exchange, if known; an unsecured PoR (no
    /// RC/CC/DS in its header) is decoded without keys.
    pub(crate) fn decode(path: PorPath, ud: Vec<u8>, ctx: Option<&PorContext>) -> PorReport {
        let none = Keyset::new();
        let (security, keys) = match SecuredResponse::parse(&ud) {
            Ok(s) => {
                let has_integrity = s.header().rhl > RHL_MIN;
                match ctx {
                    // RHL = 10 while the SPI asked for RC/CC: an error PoR the card sent
                    // unsecured (status 06 and similar). Otherwise decode as the SPI asks —
                    // this includes PoRs that are ciphered without RC/CC (SPI2 b5 set, b4b3 00).
                    Some(c) => {
                        let asked = c.spi.por_security();
                        if has_integrity || asked.integrity == ota::IntegrityMode::None {
                            (asked, &c.keys)
                        } else {
                            (PorSecurity::NONE, &none)
                        }
                    }
                    None if has_integrity => {
                        return PorReport {
                            path,
                            ud,
                            packet: Err("PoR is secured but no keyset is known for it".into()),
                            security: PorSecurity::NONE,
                        }
                    }
                    None => (PorSecurity::NONE, &none),
                }
            }
            Err(e) => {
                return PorReport {
                    path,
                    ud,
                    packet: Err(e.to_string()),
                    security: PorSecurity::NONE,
                }
            }
        };
        let mut security = security;
        let mut packet = ResponsePacket::open(&ud, security, keys).map_err(|e| e.to_string());
        // RHL 10 with SPI2 asking "ciphered, no RC/CC" is ambiguous: an error PoR the card
        // sent unsecured (its 7 bytes from CNTR on are no whole cipher block) fails to
        // decipher — read it as unsecured then.
        if packet.is_err() && security.ciphering && security.integrity == ota::IntegrityMode::None {
            if let Ok(p) = ResponsePacket::open(&ud, PorSecurity::NONE, &none) {
                security = PorSecurity::NONE;
                packet = Ok(p);
            }
        }
        PorReport {
            path,
            ud,
            packet,
            security,
        }
    }

    /// Decode a PoR TP-UD outside a delivery (e.g. a recorded one) with a keyset and SPI —
    /// the same code path the terminal uses for PoRs it receives.
    pub fn decode_with(path: PorPath, ud: Vec<u8>, keys: &Keyset, spi: Spi) -> PorReport {
        Self::decode(
            path,
            ud,
            Some(&PorContext {
                keys: keys.clone(),
                spi,
            }),
        )
    }

    /// The response status, when the PoR decoded.
    pub fn status(&self) -> Option<ResponseStatus> {
        self.packet.as_ref().ok().map(|p| p.status)
    }
}

/// The result of delivering one OTA message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPpOutcome {
    /// The status word of each ENVELOPE sent, in order.
    pub envelope_sws: Vec<u16>,
    /// The last status word seen (after any proactive session).
    pub final_sw: u16,
    /// The card answered `9300`: SIM toolkit busy (TP-FCS `D4`); later segments not sent.
    pub busy: bool,
    /// TP-FCS the ME would put in an RP-ERROR (`D4` busy, `D5` data download error).
    pub rp_error: Option<u8>,
    /// The proof of receipt, if the card sent one.
    pub por: Option<PorReport>,
}

impl Terminal {
    /// Secure `req` (TS 102 225), wrap it into SMS-DELIVERs (PID `7F`, DCS `F6`,
    /// concatenated when longer than one message), send one SMS-PP download ENVELOPE per
    /// segment, run any proactive session, and return the PoR from whichever path the card
    /// used.
    pub fn deliver_sms_pp(
        &mut self,
        card: &mut dyn Transport,
        req: &OtaRequest,
    ) -> Result<SmsPpOutcome, TerminalError> {
        let packet = CommandPacket::new(req.spi, req.keys, req.tar, req.counter, req.data.clone())
            .seal(req.keys)?;
        let uds = split_command(&packet, ConcatRef::Eight(req.concat_ref))?;
        let ctx = PorContext {
            keys: req.keys.clone(),
            spi: req.spi,
        };
        self.deliver_user_data(card, &uds, Some(ctx))
    }

    /// Deliver TP-UDs secured elsewhere (e.g. by an OTA server behind an SMSC), each with its
    /// UDH (`02 70 00 …`, concatenation IEs allowed), one SMS-PP download ENVELOPE each. No
    /// keys are known here, so a secured PoR comes back with its raw [`PorReport::ud`] and an
    /// undecoded [`PorReport::packet`]; an unsecured one is decoded.
    pub fn deliver_prepared(
        &mut self,
        card: &mut dyn Transport,
        uds: &[Vec<u8>],
    ) -> Result<SmsPpOutcome, TerminalError> {
        self.deliver_user_data(card, uds, None)
    }

    /// Deliver prepared TP-UDs (each with its UDH, e.g. `02 70 00 …`), one ENVELOPE each.
    pub(crate) fn deliver_user_data(
        &mut self,
        card: &mut dyn Transport,
        uds: &[Vec<u8>],
        ctx: Option<PorContext>,
    ) -> Result<SmsPpOutcome, TerminalError> {
        self.por_context = ctx;
        self.por_parts = Default::default();
        self.captured_por = None;
        let oa = SmsAddress::digits(1, 1, &self.config.originator)?;
        let sc = self.config.sc_address.as_ref().map(|a| {
            let mut v = vec![a.ton_npi];
            v.extend_from_slice(&a.bcd);
            v
        });
        let mut out = SmsPpOutcome {
            envelope_sws: Vec::new(),
            final_sw: 0x9000,
            busy: false,
            rp_error: None,
            por: None,
        };
        let cla = self.config.cla;
        for ud in uds {
            let tpdu = SmsDeliver::data_download(
                oa.clone(),
                Timestamp(self.config.scts),
                ud.clone(),
                true,
            )?
            .emit()?;
            let mut d1 = ota::SmsPpDownload::new(tpdu);
            d1.address = sc.clone();
            let apdu = CommandApdu::new(
                cla,
                ota::cat::apdus::INS_ENVELOPE,
                0,
                0,
                d1.emit()?,
                Some(256),
            );
            let r = exchange::send(card, &apdu, "ENVELOPE (SMS-PP DOWNLOAD)")?;
            out.envelope_sws.push(r.sw);
            out.final_sw = r.sw;
            let sw1 = r.sw1();
            match r.sw {
                0x9000 => {
                    if !r.data.is_empty() {
                        out.por = Some(PorReport::decode(
                            PorPath::EnvelopeResponse,
                            r.data,
                            self.por_context.as_ref(),
                        ));
                    }
                }
                0x9300 => {
                    out.busy = true;
                    out.rp_error = Some(0xD4);
                    return Ok(out);
                }
                _ if sw1 == 0x91 => {
                    if !r.data.is_empty() {
                        out.por = Some(PorReport::decode(
                            PorPath::EnvelopeResponse,
                            r.data,
                            self.por_context.as_ref(),
                        ));
                    }
                    out.final_sw = self.run_session(card, r.sw)?;
                }
                _ if sw1 == 0x62 || sw1 == 0x63 || sw1 == 0x9E => {
                    let data = if !r.data.is_empty() {
                        r.data
                    } else if sw1 == 0x9E {
                        exchange::get_response(card, 0xA0, r.sw as u8)?.data
                    } else {
                        let g = exchange::get_response(card, crate::exchange_class(cla), 0)?;
                        if g.sw == 0x9000 {
                            g.data
                        } else {
                            Vec::new()
                        }
                    };
                    out.rp_error = Some(0xD5);
                    if !data.is_empty() {
                        out.por = Some(PorReport::decode(
                            PorPath::DataDownloadError { sw: r.sw },
                            data,
                            self.por_context.as_ref(),
                        ));
                    }
                    return Ok(out);
                }
                _ => return Ok(out),
            }
        }
        if out.por.is_none() {
            out.por = self.captured_por.take();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod por_decode_tests {
    use super::*;
    use ota::{CipherAlgorithm, Counter, ResponseStatus, Tar};

    #[test]
    fn unsecured_error_por_under_ciphered_no_cc_spi() {
        let keys = Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[7u8; 16], 1)
            .unwrap();
        let tar = Tar([0xB0, 0x00, 0x00]);
        // SPI2 0x11: PoR required, ciphered, no RC/CC.
        let spi = Spi::from_u16(0x1611);
        let err = ResponsePacket::new(
            tar,
            Counter::new(5).unwrap(),
            ResponseStatus::UnidentifiedSecurityError,
        )
        .seal_unsecured()
        .unwrap();
        let r = PorReport::decode_with(PorPath::SendShortMessage, err, &keys, spi);
        assert_eq!(r.status(), Some(ResponseStatus::UnidentifiedSecurityError));
        assert_eq!(r.security, PorSecurity::NONE);
        let ok = ResponsePacket::new(tar, Counter::new(5).unwrap(), ResponseStatus::PorOk)
            .seal(spi.por_security(), &keys)
            .unwrap();
        let r = PorReport::decode_with(PorPath::SendShortMessage, ok, &keys, spi);
        assert_eq!(r.status(), Some(ResponseStatus::PorOk));
        assert_eq!(r.security, spi.por_security());
    }
}
