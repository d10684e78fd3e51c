//! Opening a secure channel (GPCS v2.3 §11.12 INITIALIZE UPDATE and §11.8 EXTERNAL
//! AUTHENTICATE, Amendment D §7.1 and §7.2) as typed states for both sides:
//!
//! * host: [`HostHandshake`] (INITIALIZE UPDATE sent) → [`HostAuthenticator`] (card
//!   cryptogram verified) → [`Session`] (EXTERNAL AUTHENTICATE sent);
//! * card: [`card_initialize_update`] → [`CardAuthenticator`] (response sent) →
//!   [`Session`] (EXTERNAL AUTHENTICATE verified).
//!
//! An unverified card answer cannot become a session, nor can a host that has not proven
//! the keys.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::GpError;
use crate::keys::{Diversification, KeyKind, StaticKeys};
use crate::level::SecurityLevel;
use crate::scp02::{self, Scp02Params, Scp02Session, Scp02SessionKeys};
use crate::scp03::{self, Scp03Params, Scp03Session, Scp03SessionKeys};
use crate::session::Session;
use apdu::{CommandApdu, ResponseApdu};

/// INS of INITIALIZE UPDATE (GPCS Table 11-10).
pub const INS_INITIALIZE_UPDATE: u8 = 0x50;
/// INS of EXTERNAL AUTHENTICATE.
pub const INS_EXTERNAL_AUTHENTICATE: u8 = 0x82;

/// The protocol part of an INITIALIZE UPDATE response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScpInfo {
    /// SCP02 with its 2-byte sequence counter (GPCS Table E-3).
    Scp02 {
        /// Sequence counter.
        seq: u16,
    },
    /// SCP03 with its i parameter and, for pseudo-random challenges, the 3-byte sequence
    /// counter (Amendment D Table 7-3).
    Scp03 {
        /// i parameter.
        i: Scp03Params,
        /// Sequence counter (present with pseudo-random card challenges).
        seq: Option<u32>,
    },
}

/// The response data of INITIALIZE UPDATE (GPCS Table E-3, Amendment D Table 7-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitUpdateResponse {
    /// Key diversification data (10 bytes).
    pub kdd: [u8; 10],
    /// Key version number of the key set used.
    pub kvn: u8,
    /// Protocol and counters.
    pub scp: ScpInfo,
    /// Card challenge (6 bytes SCP02, 8/16 bytes SCP03).
    pub card_challenge: Vec<u8>,
    /// Card cryptogram (8 bytes, 16 in S16).
    pub card_cryptogram: Vec<u8>,
}

impl InitUpdateResponse {
    /// Parse the response data.
    pub fn parse(b: &[u8]) -> Result<Self, GpError> {
        let need = |n: usize, field: &'static str| {
            if b.len() < n {
                Err(GpError::Truncated {
                    field,
                    offset: n.min(b.len()),
                    len: b.len(),
                })
            } else {
                Ok(())
            }
        };
        need(12, "SCP identifier")?;
        let mut kdd = [0u8; 10];
        kdd.copy_from_slice(&b[..10]);
        let kvn = b[10];
        match b[11] {
            0x02 => {
                if b.len() != 28 {
                    return Err(GpError::BadLength {
                        field: "SCP02 INITIALIZE UPDATE response",
                        len: b.len(),
                        expected: "28 bytes",
                    });
                }
                Ok(InitUpdateResponse {
                    kdd,
                    kvn,
                    scp: ScpInfo::Scp02 {
                        seq: u16::from_be_bytes([b[12], b[13]]),
                    },
                    card_challenge: b[14..20].to_vec(),
                    card_cryptogram: b[20..28].to_vec(),
                })
            }
            0x03 => {
                need(13, "SCP03 i parameter")?;
                let i = Scp03Params(b[12]);
                let s = i.s();
                let base = 13 + 2 * s;
                let seq = match b.len() {
                    n if n == base => None,
                    n if n == base + 3 => {
                        Some(u32::from_be_bytes([0, b[base], b[base + 1], b[base + 2]]))
                    }
                    _ => {
                        return Err(GpError::BadLength {
                            field: "SCP03 INITIALIZE UPDATE response",
                            len: b.len(),
                            expected: "13 + 2×S bytes, plus 3 with a sequence counter",
                        })
                    }
                };
                Ok(InitUpdateResponse {
                    kdd,
                    kvn,
                    scp: ScpInfo::Scp03 { i, seq },
                    card_challenge: b[13..13 + s].to_vec(),
                    card_cryptogram: b[13 + s..base].to_vec(),
                })
            }
            v => Err(GpError::BadValue {
                field: "SCP identifier",
                offset: 11,
                value: v as u32,
                reason: "only SCP02 (02) and SCP03 (03) are supported",
            }),
        }
    }

    /// Encode the response data.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(32);
        v.extend_from_slice(&self.kdd);
        v.push(self.kvn);
        match self.scp {
            ScpInfo::Scp02 { seq } => {
                v.push(0x02);
                v.extend_from_slice(&seq.to_be_bytes());
                v.extend_from_slice(&self.card_challenge);
                v.extend_from_slice(&self.card_cryptogram);
            }
            ScpInfo::Scp03 { i, seq } => {
                v.push(0x03);
                v.push(i.0);
                v.extend_from_slice(&self.card_challenge);
                v.extend_from_slice(&self.card_cryptogram);
                if let Some(s) = seq {
                    v.extend_from_slice(&s.to_be_bytes()[1..]);
                }
            }
        }
        v
    }
}

/// Host state 1: INITIALIZE UPDATE built, waiting for the card's answer.
#[derive(Debug, Clone)]
pub struct HostHandshake {
    keys: StaticKeys,
    div: Diversification,
    scp02: Scp02Params,
    host_challenge: Vec<u8>,
    channel: u8,
}

enum Pending {
    Scp02 {
        keys: Scp02SessionKeys,
        params: Scp02Params,
        host_cryptogram: [u8; 8],
    },
    Scp03 {
        keys: Scp03SessionKeys,
        params: Scp03Params,
        host_cryptogram: Vec<u8>,
        dek: Zeroizing<Vec<u8>>,
    },
}

/// Host state 2: the card cryptogram verified; EXTERNAL AUTHENTICATE can be built.
pub struct HostAuthenticator {
    response: InitUpdateResponse,
    pending: Pending,
    channel: u8,
}

impl std::fmt::Debug for HostAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostAuthenticator")
            .field("response", &self.response)
            .finish_non_exhaustive()
    }
}

fn retype(keys: &StaticKeys, kind: KeyKind) -> Result<StaticKeys, GpError> {
    if keys.kind == kind {
        return Ok(keys.clone());
    }
    StaticKeys::new(
        keys.kvn,
        kind,
        keys.enc.bytes(),
        keys.mac.bytes(),
        keys.dek.bytes(),
    )
}

impl HostHandshake {
    /// Start with the (master) keys, their diversification and a fresh host challenge
    /// (8 bytes; 16 asks an SCP03 card for S16 mode).
    pub fn new(
        keys: StaticKeys,
        div: Diversification,
        host_challenge: &[u8],
    ) -> Result<Self, GpError> {
        if !matches!(host_challenge.len(), 8 | 16) {
            return Err(GpError::BadLength {
                field: "host challenge",
                len: host_challenge.len(),
                expected: "8 bytes (16 for SCP03 S16)",
            });
        }
        Ok(HostHandshake {
            keys,
            div,
            scp02: Scp02Params::I55,
            host_challenge: host_challenge.to_vec(),
            channel: 0,
        })
    }

    /// The SCP02 i parameter to assume (SCP02 answers do not carry it); default `55`.
    pub fn with_scp02_params(mut self, i: Scp02Params) -> Self {
        self.scp02 = i;
        self
    }

    /// Use logical channel `channel` (0–3) in CLA.
    pub fn on_channel(mut self, channel: u8) -> Self {
        self.channel = channel & 0x03;
        self
    }

    /// The INITIALIZE UPDATE command (P1 = key version, `00` = first available).
    pub fn command(&self) -> CommandApdu {
        CommandApdu::new(
            0x80 | self.channel,
            INS_INITIALIZE_UPDATE,
            self.keys.kvn,
            0x00,
            self.host_challenge.clone(),
            Some(256),
        )
    }

    /// Take the card's answer: diversify the keys with its KDD, derive the session keys and
    /// verify the card cryptogram.
    pub fn on_response(self, rsp: &ResponseApdu) -> Result<HostAuthenticator, GpError> {
        if !rsp.sw.is_success() {
            return Err(GpError::Status {
                command: "INITIALIZE UPDATE",
                sw: rsp.sw.0,
            });
        }
        let r = InitUpdateResponse::parse(&rsp.data)?;
        let hc = &self.host_challenge;
        let pending = match r.scp {
            ScpInfo::Scp02 { seq } => {
                let hc: [u8; 8] = hc.as_slice().try_into().map_err(|_| GpError::BadLength {
                    field: "host challenge",
                    len: hc.len(),
                    expected: "8 bytes for SCP02",
                })?;
                let keys = retype(&self.keys, KeyKind::Des3)?.diversify(self.div, &r.kdd)?;
                let sk = Scp02SessionKeys::derive(
                    keys.enc.bytes(),
                    keys.mac.bytes(),
                    keys.dek.bytes(),
                    seq,
                )?;
                let cc: [u8; 6] =
                    r.card_challenge
                        .as_slice()
                        .try_into()
                        .map_err(|_| GpError::BadLength {
                            field: "card challenge",
                            len: r.card_challenge.len(),
                            expected: "6 bytes",
                        })?;
                let expect = sk.card_cryptogram(&hc, seq, &cc)?;
                if !bool::from(expect.ct_eq(&r.card_cryptogram)) {
                    return Err(GpError::CardCryptogram);
                }
                let host_cryptogram = sk.host_cryptogram(&hc, seq, &cc)?;
                Pending::Scp02 {
                    keys: sk,
                    params: self.scp02,
                    host_cryptogram,
                }
            }
            ScpInfo::Scp03 { i, .. } => {
                if hc.len() != i.s() {
                    return Err(GpError::BadLength {
                        field: "host challenge",
                        len: hc.len(),
                        expected: "the card's S mode (8 for S8, 16 for S16)",
                    });
                }
                let keys = retype(&self.keys, KeyKind::Aes)?.diversify(self.div, &r.kdd)?;
                let sk = Scp03SessionKeys::derive(
                    keys.enc.bytes(),
                    keys.mac.bytes(),
                    hc,
                    &r.card_challenge,
                )?;
                let expect = sk.card_cryptogram(hc, &r.card_challenge, i.s())?;
                if !bool::from(expect.ct_eq(&r.card_cryptogram)) {
                    return Err(GpError::CardCryptogram);
                }
                let host_cryptogram = sk.host_cryptogram(hc, &r.card_challenge, i.s())?;
                Pending::Scp03 {
                    keys: sk,
                    params: i,
                    host_cryptogram,
                    dek: Zeroizing::new(keys.dek.bytes().to_vec()),
                }
            }
        };
        Ok(HostAuthenticator {
            response: r,
            pending,
            channel: self.channel,
        })
    }
}

impl HostAuthenticator {
    /// The card's (verified) INITIALIZE UPDATE answer.
    pub fn response(&self) -> &InitUpdateResponse {
        &self.response
    }

    /// Build EXTERNAL AUTHENTICATE at `level`; the session is ready for use once the card
    /// answers 9000 (the caller checks the status word).
    pub fn external_authenticate(
        self,
        level: SecurityLevel,
    ) -> Result<(CommandApdu, Session), GpError> {
        let cla = 0x80 | self.channel;
        match self.pending {
            Pending::Scp02 {
                keys,
                params,
                host_cryptogram,
            } => {
                let plain = CommandApdu::new(
                    cla,
                    INS_EXTERNAL_AUTHENTICATE,
                    level.bits(),
                    0,
                    host_cryptogram.to_vec(),
                    None,
                );
                let mac = Scp02Session::ext_auth_mac(&keys, params, &plain)?;
                let mut data = host_cryptogram.to_vec();
                data.extend_from_slice(&mac);
                let cmd = CommandApdu::new(
                    cla | 0x04,
                    INS_EXTERNAL_AUTHENTICATE,
                    level.bits(),
                    0,
                    data,
                    None,
                );
                let s = Scp02Session::new(keys, params, level, mac)?;
                Ok((cmd, Session::Scp02(s)))
            }
            Pending::Scp03 {
                keys,
                params,
                host_cryptogram,
                dek,
            } => {
                let s = params.s();
                let mac = Scp03Session::cmac(
                    &keys.mac,
                    &[0; 16],
                    [cla, INS_EXTERNAL_AUTHENTICATE, level.bits(), 0],
                    2 * s,
                    &host_cryptogram,
                )?;
                let mut data = host_cryptogram.clone();
                data.extend_from_slice(&mac[..s]);
                let cmd = CommandApdu::new(
                    crate::wire::mac_cla(cla) | self.channel,
                    INS_EXTERNAL_AUTHENTICATE,
                    level.bits(),
                    0,
                    data,
                    None,
                );
                let sess = Scp03Session::new(keys, params, level, mac)?;
                Ok((cmd, Session::Scp03(sess, dek)))
            }
        }
    }
}

/// What the card offers on a key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardProtocol {
    /// SCP02 with this i parameter.
    Scp02(Scp02Params),
    /// SCP03 with this i parameter (its S bit is taken from the host challenge length).
    Scp03(Scp03Params),
}

/// Card state: INITIALIZE UPDATE answered, waiting for EXTERNAL AUTHENTICATE.
pub struct CardAuthenticator {
    pending: Pending,
    kvn: u8,
}

impl std::fmt::Debug for CardAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardAuthenticator")
            .field("kvn", &self.kvn)
            .finish_non_exhaustive()
    }
}

/// Card side of INITIALIZE UPDATE: with the key set `keys`, the protocol it is for, the KDD,
/// the sequence counter (SCP02: 16 bits; SCP03: 24 bits, sent with pseudo-random
/// challenges), the selected security domain's AID (for pseudo-random challenges) and
/// `random` bytes (for random challenges, at least 16). Returns the response data and the
/// state waiting for EXTERNAL AUTHENTICATE.
pub fn card_initialize_update(
    cmd: &CommandApdu,
    keys: &StaticKeys,
    protocol: CardProtocol,
    kdd: [u8; 10],
    seq: u32,
    aid: &[u8],
    random: &[u8],
) -> Result<(InitUpdateResponse, CardAuthenticator), GpError> {
    let hc = cmd.data.as_slice();
    match protocol {
        CardProtocol::Scp02(params) => {
            let hc: [u8; 8] = hc.try_into().map_err(|_| GpError::BadLength {
                field: "host challenge",
                len: hc.len(),
                expected: "8 bytes for SCP02",
            })?;
            let seq = seq as u16;
            let cc: [u8; 6] = if params.pseudo_random() {
                scp02::pseudo_random_challenge(keys.mac.bytes(), seq, aid)?
            } else {
                random
                    .get(..6)
                    .and_then(|r| r.try_into().ok())
                    .ok_or(GpError::BadLength {
                        field: "random",
                        len: random.len(),
                        expected: "at least 6 bytes",
                    })?
            };
            let sk = Scp02SessionKeys::derive(
                keys.enc.bytes(),
                keys.mac.bytes(),
                keys.dek.bytes(),
                seq,
            )?;
            let card_cryptogram = sk.card_cryptogram(&hc, seq, &cc)?;
            let host_cryptogram = sk.host_cryptogram(&hc, seq, &cc)?;
            let r = InitUpdateResponse {
                kdd,
                kvn: keys.kvn,
                scp: ScpInfo::Scp02 { seq },
                card_challenge: cc.to_vec(),
                card_cryptogram: card_cryptogram.to_vec(),
            };
            Ok((
                r,
                CardAuthenticator {
                    pending: Pending::Scp02 {
                        keys: sk,
                        params,
                        host_cryptogram,
                    },
                    kvn: keys.kvn,
                },
            ))
        }
        CardProtocol::Scp03(params) => {
            let params = match hc.len() {
                8 => Scp03Params(params.0 & !0x01),
                16 => Scp03Params(params.0 | 0x01),
                n => {
                    return Err(GpError::BadLength {
                        field: "host challenge",
                        len: n,
                        expected: "8 (S8) or 16 (S16) bytes for SCP03",
                    })
                }
            };
            let s = params.s();
            let cc = if params.pseudo_random() {
                scp03::pseudo_random_challenge(keys.enc.bytes(), seq, aid, s)?
            } else {
                random
                    .get(..s)
                    .ok_or(GpError::BadLength {
                        field: "random",
                        len: random.len(),
                        expected: "at least S bytes",
                    })?
                    .to_vec()
            };
            let sk = Scp03SessionKeys::derive(keys.enc.bytes(), keys.mac.bytes(), hc, &cc)?;
            let card_cryptogram = sk.card_cryptogram(hc, &cc, s)?;
            let host_cryptogram = sk.host_cryptogram(hc, &cc, s)?;
            let r = InitUpdateResponse {
                kdd,
                kvn: keys.kvn,
                scp: ScpInfo::Scp03 {
                    i: params,
                    seq: params.pseudo_random().then_some(seq & 0xFF_FFFF),
                },
                card_challenge: cc,
                card_cryptogram,
            };
            Ok((
                r,
                CardAuthenticator {
                    pending: Pending::Scp03 {
                        keys: sk,
                        params,
                        host_cryptogram,
                        dek: Zeroizing::new(keys.dek.bytes().to_vec()),
                    },
                    kvn: keys.kvn,
                },
            ))
        }
    }
}

impl CardAuthenticator {
    /// Key version number of the key set in use.
    pub fn kvn(&self) -> u8 {
        self.kvn
    }

    /// Verify EXTERNAL AUTHENTICATE (its C-MAC and the host cryptogram, both in constant
    /// time, without telling which failed) and open the session at the level of its P1.
    pub fn external_authenticate(self, cmd: &CommandApdu) -> Result<Session, GpError> {
        let level = SecurityLevel::parse(cmd.p1)?;
        if cmd.cla & 0x04 == 0 {
            return Err(GpError::HostAuthentication);
        }
        match self.pending {
            Pending::Scp02 {
                keys,
                params,
                host_cryptogram,
            } => {
                if cmd.data.len() != 16 {
                    return Err(GpError::HostAuthentication);
                }
                let (hcg, mac) = cmd.data.split_at(8);
                let plain =
                    CommandApdu::new(cmd.cla & !0x04, cmd.ins, cmd.p1, cmd.p2, hcg.to_vec(), None);
                let expect = Scp02Session::ext_auth_mac(&keys, params, &plain)?;
                let ok = host_cryptogram.ct_eq(hcg) & expect.ct_eq(mac);
                if !bool::from(ok) {
                    return Err(GpError::HostAuthentication);
                }
                Ok(Session::Scp02(Scp02Session::new(
                    keys, params, level, expect,
                )?))
            }
            Pending::Scp03 {
                keys,
                params,
                host_cryptogram,
                dek,
            } => {
                let s = params.s();
                if cmd.data.len() != 2 * s {
                    return Err(GpError::HostAuthentication);
                }
                let (hcg, mac) = cmd.data.split_at(s);
                let expect = Scp03Session::cmac(
                    &keys.mac,
                    &[0; 16],
                    [cmd.cla, cmd.ins, cmd.p1, cmd.p2],
                    2 * s,
                    hcg,
                )?;
                let ok = host_cryptogram.ct_eq(hcg) & expect[..s].ct_eq(mac);
                if !bool::from(ok) {
                    return Err(GpError::HostAuthentication);
                }
                Ok(Session::Scp03(
                    Scp03Session::new(keys, params, level, expect)?,
                    dek,
                ))
            }
        }
    }
}
