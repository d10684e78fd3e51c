//! A scripted card for the terminal's tests: a tiny CAT engine (queue of proactive
//! commands, `91xx`, FETCH, TERMINAL RESPONSE) and an SMS-PP OTA receiver built from the
//! `ota` codecs, with the PoR path, T=0 behaviour and errors selectable.

use ota::sms::{Reassembler, SmsAddress, SmsDeliver, SmsSubmit};
use ota::{CommandPacket, Keyset, ResponsePacket, ResponseStatus, SecuredCommand};
use std::collections::VecDeque;
use transport::{ResetKind, Transport, TransportError};

/// How the mock answers an SMS-PP download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PorMode {
    /// PoR as ENVELOPE response data (`9000` + data, or `61xx` in T=0 mode).
    Envelope,
    /// `91xx`, then a SEND SHORT MESSAGE with the PoR (split in `parts` SMS-SUBMITs).
    SendSms { parts: usize },
    /// `62xx` data download error with the PoR fetched by GET RESPONSE.
    DownloadError,
    /// `9300` busy.
    Busy,
}

pub struct MockCard {
    pub t0: bool,
    pub keys: Keyset,
    pub por_mode: PorMode,
    pub proactive: VecDeque<Vec<u8>>,
    pub log: Vec<Vec<u8>>,
    pub responses: Vec<Vec<u8>>,
    pub profile: Option<Vec<u8>>,
    pub envelopes: Vec<Vec<u8>>,
    pub received: Vec<CommandPacket>,
    /// Proactive commands to queue when a MENU SELECTION arrives.
    pub on_menu: VecDeque<Vec<u8>>,
    stash: Vec<u8>,
    reasm: Reassembler,
    next_number: u8,
}

fn sw(v: &mut Vec<u8>, s: u16) -> Vec<u8> {
    v.extend_from_slice(&s.to_be_bytes());
    std::mem::take(v)
}

impl MockCard {
    pub fn new(keys: Keyset) -> Self {
        MockCard {
            t0: false,
            keys,
            por_mode: PorMode::Envelope,
            proactive: VecDeque::new(),
            log: Vec::new(),
            responses: Vec::new(),
            profile: None,
            envelopes: Vec::new(),
            received: Vec::new(),
            on_menu: VecDeque::new(),
            stash: Vec::new(),
            reasm: Reassembler::new(),
            next_number: 1,
        }
    }

    fn status(&self) -> u16 {
        match self.proactive.front() {
            Some(p) => 0x9100 | (p.len() as u16 & 0xFF),
            None => 0x9000,
        }
    }

    /// Answer with data: directly (T=1) or through `61xx` + GET RESPONSE (T=0).
    fn data(&mut self, d: Vec<u8>, s: u16) -> Vec<u8> {
        if self.t0 && !d.is_empty() && s == 0x9000 {
            let n = d.len() as u16 & 0xFF;
            self.stash = d;
            return (0x6100 | n).to_be_bytes().to_vec();
        }
        let mut v = d;
        sw(&mut v, s)
    }

    fn sms_pp(&mut self, env: &[u8]) -> Vec<u8> {
        let d1 = match ota::SmsPpDownload::parse(env) {
            Ok(d) => d,
            Err(_) => return vec![0x6A, 0x80],
        };
        let deliver = SmsDeliver::parse(&d1.tpdu).expect("SMS-DELIVER");
        assert_eq!((deliver.pid, deliver.dcs.0), (0x7F, 0xF6));
        if self.por_mode == PorMode::Busy {
            return vec![0x93, 0x00];
        }
        let Some(whole) = self.reasm.push(&deliver.ud).expect("segment") else {
            return vec![0x90, 0x00];
        };
        let packet = CommandPacket::open(&whole.payload, &self.keys).expect("valid packet");
        assert!(SecuredCommand::parse(&whole.payload).is_ok());
        // Answer: status 00, data = "01" + the secured data's length as SW-like bytes.
        let data = vec![0x01, 0x90, packet.data.len() as u8];
        let por = ResponsePacket::new(packet.tar, packet.counter, ResponseStatus::PorOk)
            .with_data(data)
            .seal(packet.spi.por_security(), &self.keys)
            .expect("seal PoR");
        self.received.push(packet);
        match self.por_mode {
            PorMode::Envelope => self.data(por, 0x9000),
            PorMode::DownloadError => {
                self.stash = por;
                vec![0x62, 0x00]
            }
            PorMode::SendSms { parts } => {
                let body = &por[3..];
                let chunk = body.len().div_ceil(parts);
                for (i, c) in body.chunks(chunk).enumerate() {
                    let mut ud = if parts == 1 {
                        vec![0x02, 0x71, 0x00]
                    } else if i == 0 {
                        vec![0x07, 0x71, 0x00, 0x00, 0x03, 0x42, parts as u8, 1]
                    } else {
                        vec![0x05, 0x00, 0x03, 0x42, parts as u8, i as u8 + 1]
                    };
                    ud.extend_from_slice(c);
                    let da = SmsAddress::digits(1, 1, "4321").unwrap();
                    let tpdu = SmsSubmit::ota(i as u8, da, ud).unwrap().emit().unwrap();
                    let mut cmd = vec![
                        0x81,
                        0x03,
                        self.next_number,
                        0x13,
                        0x00,
                        0x82,
                        0x02,
                        0x81,
                        0x83,
                        0x8B,
                    ];
                    self.next_number = self.next_number.wrapping_add(1);
                    cmd.extend(apdu::tlv::encode_len(tpdu.len()));
                    cmd.extend(tpdu);
                    let mut d0 = vec![0xD0];
                    d0.extend(apdu::tlv::encode_len(cmd.len()));
                    d0.extend(cmd);
                    self.proactive.push_back(d0);
                }
                self.status().to_be_bytes().to_vec()
            }
            PorMode::Busy => unreachable!(),
        }
    }
}

impl Transport for MockCard {
    fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.log.push(c.to_vec());
        let data = c.get(5..).unwrap_or_default();
        let lc_data = c
            .get(5..5 + usize::from(*c.get(4).unwrap_or(&0)))
            .unwrap_or_default();
        let r = match (c[0], c[1]) {
            (_, 0xC0) => {
                let d = std::mem::take(&mut self.stash);
                let le = usize::from(c[4]);
                if le != 0 && le != d.len() {
                    self.stash = d.clone();
                    (0x6C00 | d.len() as u16).to_be_bytes().to_vec()
                } else {
                    let mut v = d;
                    sw(&mut v, 0x9000)
                }
            }
            (0x80, 0x10) => {
                self.profile = Some(data.to_vec());
                self.status().to_be_bytes().to_vec()
            }
            (0x80, 0xF2) => self.status().to_be_bytes().to_vec(),
            (0x80, 0x12) => match self.proactive.front().cloned() {
                Some(p) if usize::from(c[4]) == p.len() => self.data(p, 0x9000),
                Some(p) if self.t0 => (0x6C00 | p.len() as u16).to_be_bytes().to_vec(),
                Some(_) => vec![0x67, 0x00],
                None => vec![0x69, 0x85],
            },
            (0x80, 0x14) => {
                self.responses.push(lc_data.to_vec());
                self.proactive.pop_front();
                self.status().to_be_bytes().to_vec()
            }
            (0x80, 0xC2) => {
                self.envelopes.push(lc_data.to_vec());
                match lc_data.first() {
                    Some(0xD1) => self.sms_pp(lc_data),
                    Some(0xD3) => {
                        self.proactive.extend(self.on_menu.drain(..));
                        self.status().to_be_bytes().to_vec()
                    }
                    _ => vec![0x90, 0x00],
                }
            }
            _ => vec![0x6D, 0x00],
        };
        Ok(r)
    }
    fn reset(&mut self, _kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        Ok(vec![0x3B, 0x00])
    }
    fn atr(&self) -> Vec<u8> {
        vec![0x3B, 0x00]
    }
    fn name(&self) -> String {
        "mock CAT card".into()
    }
}
