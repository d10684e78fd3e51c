//! Case generation: one primary [`Class`] plus decorations, turned into the ENVELOPE
//! C-APDUs to send and what a correct card must do with them.
//!
//! A case is a function of (seed, case number, the card's counter before the case, the
//! canary's contents before the case): the same seed against a card that behaves the same
//! gives the same cases.

use crate::build::{concat_chunk, ConcatSpec, EnvelopeSpec, PacketSpec, SmsSpec, MAX_UD};
use crate::class::{Class, Expect};
use crate::rng::Rng;
use ota::sms::SmsAddress;
use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, CounterMode, IntegrityMode, Keyset, Spi};

/// The canary EF: a transparent EF the valid scripts write and the oracles read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// Path from the MF, MF included (`3F00 2FE2`).
    pub path: Vec<u16>,
    /// Its contents before the case.
    pub content: Vec<u8>,
}

/// What the generator needs to know about the card and the keys.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The keyset the card has (KVN = its KIc/KID index).
    pub keys: &'a Keyset,
    /// The TAR under test.
    pub tar: [u8; 3],
    /// The TAR's minimum security level (0 = none).
    pub msl: u8,
    /// The card's counter for the key set before the case.
    pub stored: Counter,
    /// The canary, if the card has one the TAR can write.
    pub canary: Option<&'a Canary>,
    /// TARs the card is known to have (never used as "unknown").
    pub known_tars: &'a [[u8; 3]],
}

/// One delivery: one or more ENVELOPEs (segments of one message) and the verdict rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The ENVELOPE C-APDUs, in order.
    pub apdus: Vec<Vec<u8>>,
    /// SPI as sent.
    pub spi: [u8; 2],
    /// CNTR as sent.
    pub cntr: Counter,
    /// TAR as sent.
    pub tar: [u8; 3],
    /// What the card must do.
    pub expect: Expect,
    /// The canary's contents if the step's script runs (None: the script does not write it
    /// or its effect is not predictable).
    pub canary_after: Option<Vec<u8>>,
    /// Reset the card after the step (a partial concatenation may be pending).
    pub reset_after: bool,
}

impl Step {
    /// The SPI as typed values.
    pub fn spi(&self) -> Spi {
        Spi::from_bytes(self.spi)
    }
}

/// A generated case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Case number in the run.
    pub number: u64,
    /// Primary class.
    pub class: Class,
    /// The mutation path: primary class first, then its parameters and the decorations.
    pub path: Vec<String>,
    /// The deliveries.
    pub steps: Vec<Step>,
    /// The card must be rebuilt afterwards (its counter was driven to the maximum).
    pub rebuild_after: bool,
}

/// A change to the packet spec, applied after the defaults are set.
type PacketEdit = Box<dyn FnMut(&mut PacketSpec, &mut Rng)>;

/// Decorations a correct card must accept, applied before the primary mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoration {
    Originator,
    ScAddress,
    TpduTag0B,
    Flags,
    ExtraIe,
    NoLe,
    PorMode,
}

const DECORATIONS: &[Decoration] = &[
    Decoration::Originator,
    Decoration::ScAddress,
    Decoration::TpduTag0B,
    Decoration::Flags,
    Decoration::ExtraIe,
    Decoration::NoLe,
    Decoration::PorMode,
];

/// The generator of one case.
pub struct Gen<'a> {
    ctx: Context<'a>,
    rng: Rng,
    path: Vec<String>,
    number: u64,
}

fn random_keyset(like: &Keyset, rng: &mut Rng) -> Keyset {
    let mut k = Keyset::new();
    if let Some(a) = like.kic_alg() {
        let n = match a {
            CipherAlgorithm::DesCbc | CipherAlgorithm::DesEcb => 8,
            CipherAlgorithm::TripleDes3Cbc => 24,
            _ => 16,
        };
        if let Ok(x) = k.clone().with_kic(a, &rng.bytes(n), like.kic_index) {
            k = x;
        }
    }
    if let Some(a) = like.kid_alg() {
        let n = match a {
            ChecksumAlgorithm::DesMac => 8,
            ChecksumAlgorithm::TripleDes3Mac => 24,
            ChecksumAlgorithm::Crc16 | ChecksumAlgorithm::Crc32 => 0,
            _ => 16,
        };
        if let Ok(x) = k.clone().with_kid(a, &rng.bytes(n), like.kid_index) {
            k = x;
        }
    }
    k
}

/// The SPI of a correct packet for `keys`: counter mode `mode`, ciphering if the keyset has
/// a KIc, CC (or RC) if it has a KID; PoR always, secured the same way, in the
/// SMS-DELIVER-REPORT.
pub fn baseline_spi(keys: &Keyset, mode: CounterMode) -> [u8; 2] {
    let integrity = match keys.kid_alg().map(|a| a.mode()) {
        Some(IntegrityMode::Cc) => IntegrityMode::Cc,
        Some(IntegrityMode::Rc) => IntegrityMode::Rc,
        _ => IntegrityMode::None,
    };
    let cipher = keys.kic_alg().is_some();
    let s1 = mode.bits() << 3 | u8::from(cipher) << 2 | integrity.bits();
    let s2 = u8::from(cipher) << 4 | integrity.bits() << 2 | 0x01;
    [s1, s2]
}

fn apdu(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![cla, ins, p1, p2, data.len().min(255) as u8];
    v.extend_from_slice(data);
    v
}

fn path_bytes(path: &[u16]) -> Vec<u8> {
    path.iter()
        .skip_while(|&&f| f == 0x3F00)
        .flat_map(|f| f.to_be_bytes())
        .collect()
}

/// The canary-writing commands: SELECT by path from the MF (no FCP), UPDATE BINARY.
pub fn canary_commands(canary: Option<&Canary>, new: &[u8]) -> Vec<Vec<u8>> {
    match canary {
        Some(c) => vec![
            apdu(0x00, 0xA4, 0x08, 0x0C, &path_bytes(&c.path)),
            apdu(0x00, 0xD6, 0x00, 0x00, new),
        ],
        None => vec![apdu(0x00, 0xA4, 0x00, 0x0C, &[0x3F, 0x00])],
    }
}

/// BER length (TS 102 226 expanded format uses definite BER lengths).
fn ber_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
}

/// Expanded format (TS 102 226 §5.2): `AA L (22 L c-apdu)…` or `AE 80 … 00 00`.
pub fn expanded(cmds: &[Vec<u8>], indefinite: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for c in cmds {
        body.push(0x22);
        ber_len(&mut body, c.len());
        body.extend_from_slice(c);
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    if indefinite {
        out.extend_from_slice(&[0xAE, 0x80]);
        out.extend_from_slice(&body);
        out.extend_from_slice(&[0x00, 0x00]);
    } else {
        out.push(0xAA);
        ber_len(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    out
}

/// INS codes random RFM commands may use: reading and navigating only, so that a real card
/// keeps its PINs and file life cycles.
const SAFE_INS: &[u8] = &[
    0xA4, 0xB0, 0xB2, 0xA2, 0xF2, 0xC0, 0xCA, 0xCB, 0x84, 0x12, 0x70, 0x10,
];
/// INS codes never sent, even as "random": PIN management, (de)activation, file
/// creation/deletion/termination, INCREASE, AUTHENTICATE.
const FORBIDDEN_INS: &[u8] = &[
    0x04, 0x44, 0x20, 0x24, 0x26, 0x28, 0x2C, 0xE0, 0xE4, 0xE6, 0xE8, 0x32, 0x88, 0x89, 0xD6, 0xDC,
    0xDA, 0xDB, 0xFE,
];

impl<'a> Gen<'a> {
    /// A generator for case `number` of a run with `seed`.
    pub fn new(ctx: Context<'a>, seed: u64, number: u64) -> Self {
        Gen {
            ctx,
            rng: Rng::for_case(seed, number),
            path: Vec::new(),
            number,
        }
    }

    /// Pick a class by weight among `allowed`.
    pub fn pick_class(&mut self, allowed: &[Class]) -> Class {
        let total: u64 = allowed.iter().map(|c| u64::from(c.weight())).sum();
        let mut x = self.rng.below(total);
        for c in allowed {
            let w = u64::from(c.weight());
            if x < w {
                return *c;
            }
            x -= w;
        }
        Class::ValidCompact
    }

    fn note(&mut self, s: impl Into<String>) {
        self.path.push(s.into());
    }

    fn new_canary(&mut self) -> Vec<u8> {
        match self.ctx.canary {
            Some(c) if !c.content.is_empty() => {
                let mut v = c.content.clone();
                let n = v.len();
                let tag = (self.number as u16) | 0x8000;
                let tb = tag.to_be_bytes();
                if n >= 2 {
                    v[n - 2] = tb[0];
                    v[n - 1] = tb[1];
                } else {
                    v[0] = tb[1];
                }
                if v == c.content {
                    v[n - 1] ^= 0x5A;
                }
                v
            }
            _ => Vec::new(),
        }
    }

    fn counter_plus(&self, d: u64) -> Counter {
        let v = self.ctx.stored.value().saturating_add(d);
        Counter::new(v.min(Counter::MAX.value() - 1)).unwrap_or(Counter::MAX)
    }

    fn random_capdu(&mut self) -> Vec<u8> {
        let cla = self.rng.pick(&[0x00, 0x00, 0x80, 0xA0, 0x01, 0x40]);
        let mut ins = if self.rng.chance(4, 5) {
            self.rng.pick(SAFE_INS)
        } else {
            self.rng.byte()
        };
        if FORBIDDEN_INS.contains(&ins) {
            ins = 0xF2;
        }
        let r1 = self.rng.byte();
        let p1 = self.rng.pick(&[0x00, 0x00, 0x04, 0x08, 0x01, r1]);
        let r2 = self.rng.byte();
        let p2 = self.rng.pick(&[0x00, 0x04, 0x0C, 0x02, r2]);
        let n = self.rng.pick(&[0usize, 0, 2, 2, 4, 8, 16]);
        let mut data = self.rng.bytes(n);
        if ins == 0xA4 && n == 2 && self.rng.chance(1, 2) {
            data = self
                .rng
                .pick(&[[0x3Fu8, 0x00], [0x2F, 0xE2], [0x7F, 0x10], [0x6F, 0x3A]])
                .to_vec();
        }
        let mut v = vec![cla, ins, p1, p2];
        if n == 0 {
            v.push(self.rng.pick(&[0x00, 0x0A, 0x20, 0xFF]));
        } else {
            v.push(n as u8);
            v.extend_from_slice(&data);
        }
        v
    }

    /// The whole case.
    pub fn case(mut self, class: Class, decorate: bool) -> Case {
        self.note(class.name());
        let keys = self.ctx.keys;
        let mut spi = baseline_spi(keys, CounterMode::Higher);
        let step = if self.rng.chance(1, 8) {
            self.rng.range(2, 5)
        } else {
            1
        };
        let mut cntr = self.counter_plus(step);
        let new = self.new_canary();
        let mut cmds = canary_commands(self.ctx.canary, &new);
        let mut canary_after = self.ctx.canary.map(|_| new.clone());
        let mut data = cmds.concat();
        let mut sms = SmsSpec::default();
        let mut env = EnvelopeSpec::default();
        let mut rebuild_after = false;
        let mut reset_after = false;
        let mut steps_before: Vec<Step> = Vec::new();
        let mut tar = self.ctx.tar;
        if decorate {
            let n = self.rng.range(0, 2);
            let mut used = Vec::new();
            for _ in 0..n {
                let d = self.rng.pick(DECORATIONS);
                if !used.contains(&d) {
                    used.push(d);
                    self.decorate(d, &mut sms, &mut env, &mut spi);
                }
            }
        }
        // Other keys, only for the wrong-key classes (cloning a keyset costs key schedules).
        let mut wrong_cipher: Option<Keyset> = None;
        let mut wrong_mac: Option<Keyset> = None;
        // Packet-level edits are collected here and applied to the spec below.
        let mut edit: PacketEdit = Box::new(|_, _| {});
        let mut concat: Option<(usize, ConcatSpec)> = None;
        let mut cpl_delta: Option<i32> = None;
        match class {
            Class::ValidCompact => {}
            Class::ValidExpanded | Class::ValidIndefinite => {
                data = expanded(&cmds, class == Class::ValidIndefinite);
            }
            Class::ValidConcatenated => {
                let k = self.rng.range(22, 50) as usize;
                let mut all = vec![apdu(0x00, 0xA4, 0x00, 0x0C, &[0x3F, 0x00]); k];
                all.append(&mut cmds);
                self.note(format!("{} SELECT MF first", k));
                data = if self.rng.chance(1, 2) {
                    all.concat()
                } else {
                    self.note("expanded");
                    expanded(&all, false)
                };
            }
            Class::ValidPorMode => {
                let b = baseline_spi(keys, CounterMode::Higher);
                let por = self.rng.pick(&[0u8, 1, 2]);
                let pc = if keys.kic_alg().is_some() && self.rng.chance(1, 2) {
                    0x10
                } else {
                    0
                };
                let pi = if self.rng.chance(1, 2) {
                    b[1] & 0x0C
                } else {
                    0
                };
                let submit = if self.rng.chance(1, 3) { 0x20 } else { 0 };
                spi[1] = submit | pc | pi | por;
                if self.rng.chance(1, 3) {
                    spi[0] = (spi[0] & !0x18) | 0x18;
                    cntr = self.counter_plus(1);
                }
                self.note(format!("SPI {:02X}{:02X}", spi[0], spi[1]));
            }
            Class::EnvLengthLie => {
                let d = self.rng.pick(&[-3i16, -1, 1, 2, 10, 100]);
                env.len_delta = d;
                self.note(format!("D1 length {d:+}"));
            }
            Class::EnvDeviceIds => {
                let src = self.rng.pick(&[0x81u8, 0x82, 0x01, 0x02, 0x21, 0x83]);
                let dst = self.rng.pick(&[0x83u8, 0x82, 0x00, 0x81]);
                let (src, dst) = if (src, dst) == (0x83, 0x81) {
                    (0x82, 0x81)
                } else {
                    (src, dst)
                };
                env.devices = vec![0x82, 0x02, src, dst];
                self.note(format!("devices {src:02X}→{dst:02X}"));
            }
            Class::EnvMissingTpdu => env.omit_tpdu = true,
            Class::EnvTpduLengthLie => {
                let d = if self.rng.chance(1, 2) {
                    -(self.rng.range(1, 50) as i16)
                } else {
                    self.rng.range(1, 5) as i16
                };
                env.tpdu_len_delta = d;
                self.note(format!("8B length {d:+}"));
            }
            Class::EnvAddress => {
                self.decorate(Decoration::ScAddress, &mut sms, &mut env, &mut spi);
            }
            Class::EnvExtraTlv => {
                let tag = self.rng.pick(&[0x2Bu8, 0x45, 0x7E, 0x30, 0x1F]);
                let n = self.rng.range(0, 6) as usize;
                env.extra = vec![tag, n as u8];
                env.extra.extend(self.rng.bytes(n));
                self.note(format!("extra TLV {tag:02X}"));
            }
            Class::EnvTruncated => {
                let n = self.rng.range(1, 20) as usize;
                env.truncate = n;
                self.note(format!("cut {n}"));
            }
            Class::TpduMti => {
                let m = self.rng.range(1, 3) as u8;
                sms.first_octet = (sms.first_octet & !3) | m;
                self.note(format!("MTI {m}"));
            }
            Class::TpduNoUdhi => sms.first_octet &= !0x40,
            Class::TpduFlags => self.decorate(Decoration::Flags, &mut sms, &mut env, &mut spi),
            Class::TpduPid => {
                let mut p = self.rng.byte();
                if p == 0x7F {
                    p = 0x7D;
                }
                sms.pid = p;
                self.note(format!("PID {p:02X}"));
            }
            Class::TpduDcs => {
                sms.dcs = self
                    .rng
                    .pick(&[0x16u8, 0xF4, 0xF5, 0xF7, 0x04, 0x14, 0x15, 0x17]);
                self.note(format!("DCS {:02X}", sms.dcs));
            }
            Class::TpduDcs7bit => {
                sms.dcs = self.rng.pick(&[0x00u8, 0xF0, 0xF2, 0x08, 0x12, 0x18, 0x11]);
                self.note(format!("DCS {:02X}", sms.dcs));
            }
            Class::TpduUdlLie => {
                let d = if self.rng.chance(1, 2) {
                    -(self.rng.range(1, 30) as i16)
                } else {
                    self.rng.range(1, 10) as i16
                };
                sms.udl_delta = d;
                self.note(format!("UDL {d:+}"));
            }
            Class::TpduOa => self.decorate(Decoration::Originator, &mut sms, &mut env, &mut spi),
            Class::TpduScts => {
                let mut t = [0u8; 7];
                for b in &mut t {
                    *b = self.rng.byte() | 0xA0;
                }
                sms.scts = t;
            }
            Class::UdhNoCpi => {
                sms.cpi = None;
                if self.rng.chance(1, 2) {
                    sms.extra_ies.push((true, 0x24, vec![0x01]));
                }
            }
            Class::UdhExtraIe => self.decorate(Decoration::ExtraIe, &mut sms, &mut env, &mut spi),
            Class::UdhUdhlLie => {
                let d = self.rng.pick(&[-2i16, -1, 1, 2, 5, 100]);
                sms.udhl_delta = d;
                self.note(format!("UDHL {d:+}"));
            }
            Class::UdhCpiData => {
                let n = self.rng.range(1, 3) as usize;
                sms.cpi = Some(self.rng.bytes(n));
            }
            Class::ConcatMissing
            | Class::ConcatDuplicate
            | Class::ConcatOutOfOrder
            | Class::ConcatMixedRef
            | Class::ConcatBadSeq
            | Class::ConcatRef16 => {
                let n = self.rng.range(2, 3) as usize;
                let reference = self.rng.range(0, 0xFFFF) as u16;
                let mut c = ConcatSpec {
                    reference: if class == Class::ConcatRef16 {
                        reference
                    } else {
                        reference & 0xFF
                    },
                    ref16: class == Class::ConcatRef16,
                    chunk: 0,
                    order: (0..n).collect(),
                    total: None,
                    seq: None,
                    other_ref: None,
                };
                match class {
                    Class::ConcatMissing => {
                        let i = self.rng.index(n);
                        c.order.remove(i);
                        self.note(format!("segment {} of {n} missing", i + 1));
                        reset_after = true;
                    }
                    Class::ConcatDuplicate => {
                        let i = self.rng.index(n);
                        c.order.insert(i, i);
                        self.note(format!("segment {} of {n} twice", i + 1));
                    }
                    Class::ConcatOutOfOrder => {
                        c.order.reverse();
                        if n == 3 && self.rng.chance(1, 2) {
                            c.order = vec![1, 0, 2];
                        }
                        self.note(format!("order {:?}", c.order));
                    }
                    Class::ConcatMixedRef => {
                        let i = self.rng.index(n);
                        c.other_ref = Some((i, c.reference ^ 0x55));
                        self.note(format!("segment {} other reference", i + 1));
                        reset_after = true;
                    }
                    Class::ConcatBadSeq => {
                        let i = self.rng.index(n);
                        let s = if self.rng.chance(1, 2) {
                            0
                        } else {
                            self.rng.range(n as u64 + 1, 255) as u8
                        };
                        c.seq = Some((i, s));
                        self.note(format!("segment {} sequence {s}", i + 1));
                        reset_after = true;
                    }
                    _ => self.note(format!("{n} segments, reference {reference:04X}")),
                }
                concat = Some((n, c));
            }
            Class::HdrCplLie => {
                let d = self.rng.pick(&[-16i32, -2, -1, 1, 2, 16, 300]);
                self.note(format!("CPL {d:+}"));
                cpl_delta = Some(d);
            }
            Class::HdrChlLie => {
                let mac = keys.kid_alg().map_or(0, |a| a.default_len()) as u8;
                let mut v = self.rng.range(13, 40) as u8;
                if v == 13 + mac {
                    v += 1;
                }
                self.note(format!("CHL {v:02X}"));
                edit = Box::new(move |p, _| p.chl = Some(v));
            }
            Class::HdrChlShort => {
                let v = self.rng.range(0, 12) as u8;
                self.note(format!("CHL {v:02X}"));
                edit = Box::new(move |p, _| p.chl = Some(v));
            }
            Class::HdrSpi1Reserved => {
                spi[0] |= (self.rng.range(1, 7) as u8) << 5;
                self.note(format!("SPI1 {:02X}", spi[0]));
            }
            Class::HdrSpi2Reserved => {
                spi[1] |= (self.rng.range(1, 3) as u8) << 6;
                self.note(format!("SPI2 {:02X}", spi[1]));
            }
            Class::HdrSpiDs => {
                spi[0] |= 0x03;
                edit = Box::new(|p, _| p.mac_len = 8);
            }
            Class::HdrPorReserved => spi[1] |= 0x03,
            Class::HdrKicAlg => {
                let cur = keys.kic().to_byte();
                let mut n = self
                    .rng
                    .pick(&[0x1u8, 0x5, 0x9, 0xD, 0x2, 0x3, 0x6, 0xE, 0xF]);
                if n == cur & 0x0F {
                    n ^= 0x04;
                }
                let b = (cur & 0xF0) | n;
                self.note(format!("KIc {b:02X}"));
                edit = Box::new(move |p, _| p.kic = b);
            }
            Class::HdrKidAlg => {
                let cur = keys.kid().to_byte();
                let mut n = self.rng.pick(&[0x1u8, 0x5, 0x9, 0x2, 0x3, 0x6, 0xE, 0xF]);
                if n == cur & 0x0F {
                    n ^= 0x04;
                }
                let b = (cur & 0xF0) | n;
                self.note(format!("KID {b:02X}"));
                edit = Box::new(move |p, _| p.kid = b);
            }
            Class::HdrKeyIndex => {
                let cur = keys.kic_index;
                let mut i = self.rng.range(0, 15) as u8;
                if i == cur {
                    i = (i + 1) & 0x0F;
                }
                self.note(format!("KVN {i}"));
                edit = Box::new(move |p, _| {
                    p.kic = (p.kic & 0x0F) | i << 4;
                    p.kid = (p.kid & 0x0F) | i << 4;
                });
            }
            Class::HdrKeyIndexMismatch => {
                let cur = keys.kid_index;
                let mut i = self.rng.range(0, 15) as u8;
                if i == cur {
                    i = (i + 1) & 0x0F;
                }
                let which_kic = self.rng.chance(1, 2);
                self.note(format!(
                    "{} index {i}",
                    if which_kic { "KIc" } else { "KID" }
                ));
                edit = Box::new(move |p, _| {
                    if which_kic {
                        p.kic = (p.kic & 0x0F) | i << 4;
                    } else {
                        p.kid = (p.kid & 0x0F) | i << 4;
                    }
                });
            }
            Class::HdrTarUnknown => {
                let t = self.unknown_tar();
                self.note(format!("TAR {:02X}{:02X}{:02X}", t[0], t[1], t[2]));
                tar = t;
            }
            Class::HdrBelowMsl => {
                // Drop one of the security features the MSL asks for.
                let m = Spi::from_bytes([self.ctx.msl, 0]);
                let mut s = spi[0];
                if m.ciphering {
                    s &= !0x04;
                } else if m.integrity != IntegrityMode::None {
                    s &= !0x03;
                } else {
                    s = (s & !0x18) | ((m.counter.bits().saturating_sub(1)) << 3);
                }
                spi[0] = s;
                self.note(format!("SPI1 {s:02X} under MSL {:02X}", self.ctx.msl));
            }
            Class::HdrDowngrade => {
                let v = self.rng.range(0, 2);
                let s = match v {
                    0 => spi[0] & !0x04,
                    1 => spi[0] & !0x03,
                    _ => 0x00,
                };
                spi[0] = s;
                if s & 0x18 == 0 {
                    cntr = Counter::new(self.rng.range(0, 1 << 39)).unwrap_or_default();
                }
                self.note(format!("SPI1 {s:02X}"));
            }
            Class::CntrBelow => {
                let s = self.ctx.stored.value();
                let k = self.rng.range(1, s.clamp(1, 1000));
                cntr = Counter::new(s.saturating_sub(k)).unwrap_or_default();
                self.note(format!("CNTR {} (card {s})", cntr.value()));
            }
            Class::CntrEqual => cntr = self.ctx.stored,
            Class::CntrAbove => {
                let d = self.rng.range(2, 100_000);
                cntr = self.counter_plus(d);
                self.note(format!(
                    "CNTR +{}",
                    cntr.value().saturating_sub(self.ctx.stored.value())
                ));
            }
            Class::CntrFarAboveStrict => {
                spi[0] |= 0x18;
                let d = self.rng.range(2, 1 << 20);
                cntr = self.counter_plus(d);
                self.note(format!(
                    "CNTR +{}",
                    cntr.value().saturating_sub(self.ctx.stored.value())
                ));
            }
            Class::CntrMaxStrict => {
                spi[0] |= 0x18;
                cntr = Counter::MAX;
            }
            Class::CntrMax => {
                cntr = Counter::MAX;
                rebuild_after = true;
            }
            Class::CntrBlocked => {
                // First drive the counter to its maximum with a correct packet.
                let p = PacketSpec::new(spi, keys, tar, Counter::MAX.to_bytes(), data.clone());
                if let Ok(packet) = p.seal(keys, keys) {
                    let uds = sms.user_data(&packet);
                    steps_before.push(Step {
                        apdus: uds.iter().map(|u| env.apdu(&sms.tpdu(u))).collect(),
                        spi,
                        cntr: Counter::MAX,
                        tar,
                        expect: Expect::Accepted,
                        canary_after: canary_after.clone(),
                        reset_after: false,
                    });
                }
                let next = self.new_canary_again(&new);
                cmds = canary_commands(self.ctx.canary, &next);
                data = cmds.concat();
                canary_after = self.ctx.canary.map(|_| next);
                cntr = Counter::MAX;
                rebuild_after = true;
            }
            Class::CntrMode01Lower => {
                spi[0] = (spi[0] & !0x18) | 0x08;
                let s = self.ctx.stored.value();
                cntr = Counter::new(s.saturating_sub(self.rng.range(1, 1000))).unwrap_or_default();
                self.note(format!("CNTR {} (card {s})", cntr.value()));
            }
            Class::CntrMode00 => {
                spi[0] &= !0x18;
                cntr = Counter::new(self.rng.range(0, 1 << 39)).unwrap_or_default();
            }
            Class::PcntrTooLarge => {
                let extra = self.rng.range(1, 60) as usize;
                self.note(format!("PCNTR > data by {extra}"));
                edit = Box::new(move |p, _| {
                    let v = p.data.len() + extra + 16;
                    p.pcntr = Some(v.min(255) as u8);
                });
            }
            Class::PcntrStealsData => {
                let k = self.rng.range(1, 8) as usize;
                self.note(format!("PCNTR +{k}"));
                edit = Box::new(move |p, _| {
                    let bs = 16usize;
                    let body = 6 + p.mac_len + p.data.len();
                    let pad = if p.cipher { (bs - body % bs) % bs } else { 0 };
                    let k = k.min(p.data.len());
                    p.pcntr = Some((pad + k).min(255) as u8);
                });
                canary_after = None;
            }
            Class::PcntrUnciphered => {
                spi[0] &= !0x04;
                let n = self.rng.range(1, 8) as usize;
                self.note(format!("{n} padding bytes"));
                edit = Box::new(move |p, _| {
                    p.cipher = false;
                    p.pad = Some(n);
                });
            }
            Class::CryptoWrongMac => {
                let i = self.rng.index(8);
                let m = 1u8 << self.rng.range(0, 7);
                self.note(format!("CC byte {i} ^ {m:02X}"));
                edit = Box::new(move |p, _| p.flip_cc = Some((i, m)));
            }
            Class::CryptoWrongKey => {
                let k = random_keyset(keys, &mut self.rng);
                wrong_cipher = Some(k.clone());
                wrong_mac = Some(k);
            }
            Class::CryptoMacWrongKey => wrong_mac = Some(random_keyset(keys, &mut self.rng)),
            Class::CryptoCcFieldShort => {
                let k = self.rng.range(1, 7) as usize;
                self.note(format!("{k} CC bytes missing"));
                edit = Box::new(move |p, _| {
                    let full = p.mac_len;
                    if full > k {
                        p.chl = Some((13 + full) as u8);
                        p.mac_len = full - k;
                    }
                });
            }
            Class::CryptoShortCc => edit = Box::new(|p, _| p.mac_len = p.mac_len.min(4)),
            Class::CryptoCipherFlagOff => spi[0] &= !0x04,
            Class::CryptoCipherFlagOn => {
                spi[0] |= 0x04;
                edit = Box::new(|p, _| p.cipher = false);
            }
            Class::CryptoUnaligned => {
                let n = self.rng.range(1, 7) as usize;
                let drop = self.rng.chance(1, 2);
                self.note(format!(
                    "{} {n} bytes",
                    if drop { "drop" } else { "append" }
                ));
                edit = Box::new(move |p, r| {
                    if drop {
                        p.drop_tail = n;
                    } else {
                        p.trailing = r.bytes(n);
                    }
                });
            }
            Class::CryptoBitflip => {
                let i = self.rng.index(256);
                let m = 1u8 << self.rng.range(0, 7);
                self.note(format!("ciphertext byte {i} ^ {m:02X}"));
                edit = Box::new(move |p, _| p.flip_after = Some((i, m)));
            }
            Class::PayloadRandomApdus => {
                let n = self.rng.range(1, 4);
                let v: Vec<Vec<u8>> = (0..n).map(|_| self.random_capdu()).collect();
                data = if self.rng.chance(1, 3) {
                    expanded(&v, self.rng.chance(1, 3))
                } else {
                    v.concat()
                };
                canary_after = None;
            }
            Class::PayloadP3Lie => {
                let new2 = new.clone();
                let lie = self.rng.pick(&[0usize, 1, 3, 200, 255]);
                let mut upd = vec![0x00, 0xD6, 0x00, 0x00, lie as u8];
                upd.extend_from_slice(&new2);
                let mut v = cmds.clone();
                if let Some(l) = v.last_mut() {
                    *l = upd;
                }
                data = v.concat();
                self.note(format!("P3 {lie}"));
                canary_after = None;
            }
            Class::PayloadExpandedLengthLie => {
                let mut d = expanded(&cmds, false);
                let at = if self.rng.chance(1, 2) { 1 } else { 3 };
                if let Some(b) = d.get_mut(at) {
                    *b = b.wrapping_add(self.rng.pick(&[1u8, 2, 0x7F, 0xFF, 0xFE]));
                }
                self.note(format!("length byte {at} changed"));
                data = d;
                canary_after = None;
            }
            Class::PayloadExpandedNested => {
                let inner = expanded(&cmds, self.rng.chance(1, 2));
                let mut d = vec![0xAA];
                let mut body = inner;
                if self.rng.chance(1, 2) {
                    body.extend(expanded(&[vec![0x80, 0xF2, 0x00, 0x00, 0x00]], false));
                }
                ber_len(&mut d, body.len());
                d.extend(body);
                data = d;
                canary_after = None;
            }
            Class::PayloadExpandedHuge => {
                data = match self.rng.range(0, 3) {
                    0 => vec![0xAA, 0x82, 0xFF, 0xFF, 0x22, 0x05, 0x80, 0xF2, 0, 0, 0],
                    1 => vec![
                        0xAA, 0x09, 0x22, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0xF2, 0,
                    ],
                    2 => expanded(&vec![vec![0x80, 0xF2, 0x00, 0x0C, 0x00]; 30], false),
                    _ => vec![0xAA, 0x83, 0x01, 0x00, 0x00],
                };
                canary_after = None;
            }
            Class::PayloadIndefiniteBroken => {
                let mut d = expanded(&cmds, true);
                match self.rng.range(0, 2) {
                    0 => d.truncate(d.len().saturating_sub(2)),
                    1 => {
                        d.insert(2, 0x80);
                        d.insert(2, 0xAE);
                    }
                    _ => d.truncate(d.len().saturating_sub(1)),
                }
                data = d;
                canary_after = None;
            }
            Class::PayloadEmpty => {
                data = Vec::new();
                canary_after = None;
            }
            Class::PayloadRandomBytes => {
                let n = self.rng.range(1, 100) as usize;
                data = self.rng.bytes(n);
                if let Some(b) = data.first_mut() {
                    if self.rng.chance(1, 3) {
                        *b = self.rng.pick(&[0xAA, 0xAE]);
                    }
                }
                canary_after = None;
            }
        }
        // Build the packet.
        let mut p = PacketSpec::new(spi, keys, tar, cntr.to_bytes(), data);
        p.cipher = Spi::from_bytes(spi).ciphering;
        if class == Class::CryptoCipherFlagOff {
            p.cipher = true;
        }
        let s = Spi::from_bytes(spi);
        if matches!(s.integrity, IntegrityMode::None) && class != Class::HdrSpiDs {
            p.mac_len = 0;
        }
        edit(&mut p, &mut self.rng);
        let cipher_keys = wrong_cipher.as_ref().unwrap_or(keys);
        let mac_keys = wrong_mac.as_ref().unwrap_or(keys);
        if let Some(d) = cpl_delta {
            // The true CPL is only known after an honest seal.
            if let Ok(honest) = p.seal(cipher_keys, mac_keys) {
                let true_cpl = honest.len().saturating_sub(2) as i32;
                p.cpl = Some((true_cpl + d).clamp(0, 0xFFFF) as u16);
            }
        }
        let packet = match p.seal(cipher_keys, mac_keys) {
            Ok(b) => b,
            Err(e) => {
                self.note(format!("seal failed ({e}); sent without RC/CC"));
                p.mac_len = 0;
                p.seal(cipher_keys, &Keyset::new()).unwrap_or_default()
            }
        };
        // Segmenting: explicit concatenation, or automatic when the packet is too long.
        if let Some((n, mut c)) = concat {
            c.chunk = packet.len().div_ceil(n).max(1);
            sms.concat = Some(c);
        } else if packet.len() + 3 + sms.extra_ies.iter().map(|e| e.2.len() + 2).sum::<usize>()
            > MAX_UD
        {
            sms.concat = Some(ConcatSpec {
                reference: self.rng.range(0, 255) as u16,
                ref16: false,
                chunk: concat_chunk() - 8,
                order: (0..packet.len().div_ceil(concat_chunk() - 8)).collect(),
                total: None,
                seq: None,
                other_ref: None,
            });
            self.note("concatenated");
        }
        let uds = sms.user_data(&packet);
        let apdus = uds.iter().map(|u| env.apdu(&sms.tpdu(u))).collect();
        let expect = class.expect(self.ctx.msl, spi[0]);
        let mut steps = steps_before;
        steps.push(Step {
            apdus,
            spi,
            cntr,
            tar,
            expect,
            canary_after,
            reset_after,
        });
        Case {
            number: self.number,
            class,
            path: self.path,
            steps,
            rebuild_after,
        }
    }

    fn new_canary_again(&self, first: &[u8]) -> Vec<u8> {
        let mut v = first.to_vec();
        if let Some(b) = v.first_mut() {
            *b ^= 0x01;
        }
        v
    }

    fn unknown_tar(&mut self) -> [u8; 3] {
        loop {
            let t = [
                self.rng.pick(&[0x11u8, 0x42, 0x7A, 0xC3, 0xE5, 0x5D, 0xA1]),
                self.rng.byte(),
                self.rng.byte(),
            ];
            if !self.ctx.known_tars.contains(&t) && t != self.ctx.tar {
                return t;
            }
        }
    }

    fn decorate(
        &mut self,
        d: Decoration,
        sms: &mut SmsSpec,
        env: &mut EnvelopeSpec,
        spi: &mut [u8; 2],
    ) {
        match d {
            Decoration::Originator => {
                let a = match self.rng.range(0, 3) {
                    0 => SmsAddress::alphanumeric("simota OTA"),
                    1 => SmsAddress::digits(1, 1, "49123456789012345678"),
                    2 => SmsAddress::digits(0, 0, "12345"),
                    _ => SmsAddress::digits(1, 1, ""),
                };
                if let Ok(b) = a.and_then(|a| a.emit()) {
                    sms.oa = b;
                    self.note(format!("TP-OA {}", apdu::hex::encode(&sms.oa)));
                }
            }
            Decoration::ScAddress => {
                let tag = self.rng.pick(&[0x86u8, 0x06]);
                let mut a = vec![tag, 0x07, 0x91, 0x94, 0x71, 0x12, 0x03, 0x00, 0xF0];
                if self.rng.chance(1, 3) {
                    a = vec![tag, 0x01, 0x81];
                }
                self.note(format!("SC address {}", apdu::hex::encode(&a)));
                env.address = Some(a);
            }
            Decoration::TpduTag0B => {
                env.tpdu_tag = 0x0B;
                self.note("tag 0B");
            }
            Decoration::Flags => {
                let mut f = 0x40u8;
                for bit in [0x04u8, 0x08, 0x20, 0x80] {
                    if self.rng.chance(1, 2) {
                        f |= bit;
                    }
                }
                sms.first_octet = (sms.first_octet & 0x43) | f;
                self.note(format!("first octet {:02X}", sms.first_octet));
            }
            Decoration::ExtraIe => {
                let (iei, data) = match self.rng.range(0, 3) {
                    0 => (0x24u8, vec![0x01]),
                    1 => (0x25, vec![0x02]),
                    2 => (0x0A, vec![0x00, 0x05, 0x00]),
                    _ => (0x20, vec![0x10]),
                };
                let before = self.rng.chance(1, 2);
                sms.extra_ies.push((before, iei, data));
                self.note(format!(
                    "IE {iei:02X} {}",
                    if before { "before" } else { "after" }
                ));
            }
            Decoration::NoLe => {
                env.le = false;
                self.note("ENVELOPE without Le");
            }
            Decoration::PorMode => {
                if self.rng.chance(1, 2) {
                    spi[1] |= 0x20;
                    self.note("PoR via SMS-SUBMIT");
                } else {
                    spi[1] &= !0x10;
                    self.note("PoR not ciphered");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aes() -> Keyset {
        Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[1; 16], 1)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[2; 16], 1)
            .unwrap()
    }

    #[test]
    fn every_class_generates_and_is_deterministic() {
        let k = aes();
        let canary = Canary {
            path: vec![0x3F00, 0x2FE2],
            content: vec![0x98; 10],
        };
        let ctx = Context {
            keys: &k,
            tar: [0xB0, 0, 0],
            msl: 0x06,
            stored: Counter::new(10).unwrap(),
            canary: Some(&canary),
            known_tars: &[[0xB0, 0, 0]],
        };
        for (i, c) in Class::ALL.iter().enumerate() {
            let a = Gen::new(ctx, 42, i as u64).case(*c, true);
            let b = Gen::new(ctx, 42, i as u64).case(*c, true);
            assert_eq!(a, b, "{c}");
            assert!(!a.steps.is_empty());
            for s in &a.steps {
                assert!(!s.apdus.is_empty(), "{c}");
                for ap in &s.apdus {
                    assert_eq!(&ap[..4], &[0x80, 0xC2, 0x00, 0x00], "{c}");
                    assert!(ap.len() <= 261, "{c}");
                }
            }
        }
    }

    #[test]
    fn valid_case_opens_with_the_keys() {
        let k = aes();
        let ctx = Context {
            keys: &k,
            tar: [0xB0, 0, 0],
            msl: 0,
            stored: Counter::new(3).unwrap(),
            canary: None,
            known_tars: &[],
        };
        let c = Gen::new(ctx, 1, 0).case(Class::ValidCompact, false);
        let ap = &c.steps[0].apdus[0];
        let e = ota::SmsPpDownload::parse(&ap[5..ap.len() - 1]).unwrap();
        let d = ota::sms::SmsDeliver::parse(&e.tpdu).unwrap();
        let p = ota::CommandPacket::open(&d.ud[3..], &k).unwrap();
        assert_eq!(p.counter.value(), 4);
        assert_eq!(p.data, vec![0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00]);
    }
}
