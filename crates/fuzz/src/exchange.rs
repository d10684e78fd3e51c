//! Delivering a step's ENVELOPEs and collecting the PoR from whichever path the card used
//! (TS 31.111 §7.1.1.2, spec digest D.8): ENVELOPE response data (`9000` with data, or
//! `61xx` and GET RESPONSE for T=0), a data download error (`62xx`/`63xx` with data), or an
//! SMS-SUBMIT in a proactive SEND SHORT MESSAGE after `91xx` (run through the terminal
//! simulator, reassembled when concatenated).

use ota::sms::{Reassembler, SmsSubmit, Udh};
use terminal::{PorPath, Terminal};
use transport::Transport;

/// What one step's delivery gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Every C-APDU sent by the delivery and its raw answer, in order (ENVELOPEs, GET
    /// RESPONSE; FETCH/TERMINAL RESPONSE are left to the terminal).
    pub exchanges: Vec<(Vec<u8>, Vec<u8>)>,
    /// The status word of each ENVELOPE.
    pub sws: Vec<u16>,
    /// The PoR TP-UD (`02 71 00 …`) and its path, if the card sent one.
    pub por: Option<(PorPath, Vec<u8>)>,
    /// More than one PoR came back (only the first is kept).
    pub extra_por: bool,
    /// The transport failed (timeout, card removed, the card panicked).
    pub error: Option<String>,
    /// The card answered `9300` (toolkit busy).
    pub busy: bool,
}

impl Delivery {
    fn set_por(&mut self, path: PorPath, ud: Vec<u8>) {
        if self.por.is_some() {
            self.extra_por = true;
        } else {
            self.por = Some((path, ud));
        }
    }
}

fn sw_of(r: &[u8]) -> Option<(Vec<u8>, u16)> {
    let n = r.len();
    if n < 2 {
        return None;
    }
    Some((
        r[..n - 2].to_vec(),
        u16::from_be_bytes([r[n - 2], r[n - 1]]),
    ))
}

/// Send `apdus` (ENVELOPEs) one after the other and collect what came back.
pub fn deliver(card: &mut dyn Transport, term: &mut Terminal, apdus: &[Vec<u8>]) -> Delivery {
    let mut d = Delivery::default();
    for a in apdus {
        let r = match card.transmit(a) {
            Ok(r) => r,
            Err(e) => {
                d.exchanges.push((a.clone(), Vec::new()));
                d.error = Some(e.to_string());
                return d;
            }
        };
        d.exchanges.push((a.clone(), r.clone()));
        let Some((mut data, mut sw)) = sw_of(&r) else {
            d.error = Some(format!("answer of {} byte(s) has no status word", r.len()));
            return d;
        };
        let mut guard = 0;
        while matches!(sw >> 8, 0x61 | 0x9F) && guard < 8 {
            guard += 1;
            // GET RESPONSE: UICC class after 61xx, GSM class A0 after 9Fxx (TS 51.011).
            let cla = if sw >> 8 == 0x9F { 0xA0 } else { 0x00 };
            let g = [cla, 0xC0, 0x00, 0x00, sw as u8];
            match card.transmit(&g) {
                Ok(r2) => {
                    d.exchanges.push((g.to_vec(), r2.clone()));
                    match sw_of(&r2) {
                        Some((d2, s2)) => {
                            data.extend_from_slice(&d2);
                            sw = s2;
                        }
                        None => {
                            d.error = Some("GET RESPONSE answer has no status word".into());
                            return d;
                        }
                    }
                }
                Err(e) => {
                    d.error = Some(e.to_string());
                    return d;
                }
            }
        }
        d.sws.push(sw);
        match sw >> 8 {
            0x90 if !data.is_empty() => d.set_por(PorPath::EnvelopeResponse, data),
            0x62 | 0x63 if !data.is_empty() => {
                d.set_por(PorPath::DataDownloadError { sw }, data);
            }
            0x91 => {
                if !data.is_empty() {
                    d.set_por(PorPath::EnvelopeResponse, data);
                }
                let before = term.mo_sms().len();
                if let Err(e) = term.after(card, sw) {
                    d.error = Some(format!("proactive session: {e}"));
                    return d;
                }
                let mut re = Reassembler::new();
                let new: Vec<Vec<u8>> = term
                    .mo_sms()
                    .get(before..)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|m| m.submit.as_ref().ok().map(|s: &SmsSubmit| s.ud.clone()))
                    .collect();
                for ud in new {
                    let has_udh = Udh::parse(&ud).is_ok();
                    if !has_udh {
                        continue;
                    }
                    match re.push(&ud) {
                        Ok(Some(whole)) => {
                            if let Ok(u) = whole.to_user_data() {
                                d.set_por(PorPath::SendShortMessage, u);
                            }
                        }
                        Ok(None) => {}
                        Err(_) => d.set_por(PorPath::SendShortMessage, ud),
                    }
                }
                term.clear_records();
            }
            0x93 => {
                d.busy = true;
            }
            _ => {}
        }
    }
    d
}
