//! SMS TPDUs (TS 23.040 §9.2.2): SMS-DELIVER (§9.2.2.1), SMS-DELIVER-REPORT (§9.2.2.1a),
//! SMS-SUBMIT (§9.2.2.2), with TP-DCS (TS 23.038 §4), TP-SCTS (§9.2.3.11) and TP-VP
//! (§9.2.3.12). User data is kept as raw octets plus TP-UDL so every TPDU round-trips; the
//! UDH and the text/octets are decoded on demand.

use super::address::SmsAddress;
use super::udh::Udh;
use crate::error::{byte, take, OtaError, Result};
use crate::gsm7;
use std::fmt;

/// The character set a DCS selects (TS 23.038 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// GSM 7-bit default alphabet (UDL counts septets).
    Gsm7,
    /// 8-bit data (UDL counts octets).
    EightBit,
    /// UCS2 (UDL counts octets).
    Ucs2,
}

/// TP-DCS, the data coding scheme byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dcs(pub u8);

impl Dcs {
    /// `F6`: 8-bit data, class 2 (SIM-specific) — the usual value for SMS-PP data download.
    pub const SIM_DATA_DOWNLOAD: Dcs = Dcs(0xF6);

    /// The character set; compressed text counts octets (reported as [`Charset::EightBit`]),
    /// reserved codings are treated as the default alphabet as TS 23.038 asks.
    pub fn charset(self) -> Charset {
        let d = self.0;
        match d >> 4 {
            0x0..=0x7 => {
                if d & 0x20 != 0 {
                    return Charset::EightBit; // compressed
                }
                match (d >> 2) & 3 {
                    1 => Charset::EightBit,
                    2 => Charset::Ucs2,
                    _ => Charset::Gsm7,
                }
            }
            0xE => Charset::Ucs2,
            0xF => {
                if d & 0x04 != 0 {
                    Charset::EightBit
                } else {
                    Charset::Gsm7
                }
            }
            _ => Charset::Gsm7,
        }
    }

    /// The message class (0–3) if the DCS gives one.
    pub fn class(self) -> Option<u8> {
        let d = self.0;
        match d >> 4 {
            0x0..=0x7 if d & 0x10 != 0 => Some(d & 3),
            0xF => Some(d & 3),
            _ => None,
        }
    }
}

/// TP-SCTS / absolute TP-VP: 7 semi-octet swapped BCD bytes YY MM DD hh mm ss TZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp(pub [u8; 7]);

fn swapped_bcd(b: u8) -> u8 {
    (b & 15) * 10 + (b >> 4)
}

impl Timestamp {
    /// The decoded fields (year 0–99, month, day, hour, minute, second, timezone in quarter
    /// hours, signed); `None` if a digit is not BCD.
    pub fn fields(&self) -> Option<(u8, u8, u8, u8, u8, u8, i8)> {
        let bcd_ok = |b: u8| (b & 15) <= 9 && (b >> 4) <= 9;
        let tz = self.0[6];
        if !self.0[..6].iter().all(|&b| bcd_ok(b)) || (tz >> 4) > 9 {
            return None;
        }
        let q = ((tz & 7) * 10 + (tz >> 4)) as i8;
        let tzq = if tz & 0x08 != 0 { -q } else { q };
        let f = |i: usize| swapped_bcd(self.0[i]);
        Some((f(0), f(1), f(2), f(3), f(4), f(5), tzq))
    }
    /// From a 14-hex-digit string as sent (`22705200000000`).
    pub fn from_slice(b: &[u8]) -> Result<Self> {
        <[u8; 7]>::try_from(b)
            .map(Timestamp)
            .map_err(|_| OtaError::InvalidValue {
                field: "SCTS",
                reason: format!("must be 7 bytes, got {}", b.len()),
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fields() {
            Some((y, mo, d, h, mi, s, tz)) => {
                let sign = if tz < 0 { '-' } else { '+' };
                let m = i32::from(tz).abs() * 15;
                write!(
                    f,
                    "{y:02}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} {sign}{:02}:{:02}",
                    m / 60,
                    m % 60
                )
            }
            None => write!(f, "{} (not BCD)", apdu::hex::encode(&self.0)),
        }
    }
}

/// TP-VP in its three forms (TP-VPF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidityPeriod {
    /// VPF `00`: not present.
    None,
    /// VPF `10`: relative, one byte.
    Relative(u8),
    /// VPF `01`: enhanced, 7 bytes.
    Enhanced([u8; 7]),
    /// VPF `11`: absolute, 7 bytes (a timestamp).
    Absolute(Timestamp),
}

impl ValidityPeriod {
    fn vpf(&self) -> u8 {
        match self {
            ValidityPeriod::None => 0,
            ValidityPeriod::Enhanced(_) => 1,
            ValidityPeriod::Relative(_) => 2,
            ValidityPeriod::Absolute(_) => 3,
        }
    }
}

/// Check UD length against UDL and DCS; returns the UD octets.
fn read_ud(b: &[u8], at: usize, udl: u8, dcs: Dcs) -> Result<&[u8]> {
    let octets = ud_octets(udl, dcs);
    let rest = b.len().saturating_sub(at);
    if rest != octets {
        return Err(OtaError::LengthMismatch {
            field: "TP-UDL",
            offset: at.saturating_sub(1),
            value: usize::from(udl),
            says: octets,
            actual: rest,
        });
    }
    take(b, at, octets, "TP-UD")
}

fn ud_octets(udl: u8, dcs: Dcs) -> usize {
    match dcs.charset() {
        Charset::Gsm7 => (usize::from(udl) * 7).div_ceil(8),
        _ => usize::from(udl),
    }
}

/// User data decoded: optional UDH and the body (octets for 8-bit/UCS2, septets for 7-bit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedUserData {
    /// The UDH, when TP-UDHI is set.
    pub udh: Option<Udh>,
    /// The body: octets, or unpacked septets for the default alphabet.
    pub body: Vec<u8>,
}

/// Decode TP-UD given UDHI/UDL/DCS.
pub fn decode_user_data(ud: &[u8], udhi: bool, udl: u8, dcs: Dcs) -> Result<DecodedUserData> {
    let (udh, used) = if udhi {
        let (h, n) = Udh::parse(ud)?;
        (Some(h), n)
    } else {
        (None, 0)
    };
    let body = match dcs.charset() {
        Charset::Gsm7 => {
            let skip_septets = (used * 8).div_ceil(7);
            let fill = (skip_septets * 7 - used * 8) as u8;
            let count = usize::from(udl).saturating_sub(skip_septets);
            gsm7::unpack(ud.get(used..).unwrap_or(&[]), count, fill)?
        }
        _ => ud.get(used..).unwrap_or(&[]).to_vec(),
    };
    Ok(DecodedUserData { udh, body })
}

/// SMS-DELIVER (SC → MS), TS 23.040 §9.2.2.1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsDeliver {
    /// TP-MMS bit as sent (b2): `true` = no more messages are waiting.
    pub mms: bool,
    /// TP-LP (b3): loop prevention.
    pub lp: bool,
    /// b4 (unused), kept.
    pub spare: bool,
    /// TP-SRI (b5): status report indication.
    pub sri: bool,
    /// TP-UDHI (b6).
    pub udhi: bool,
    /// TP-RP (b7): reply path.
    pub rp: bool,
    /// TP-OA.
    pub oa: SmsAddress,
    /// TP-PID (`7F` = (U)SIM data download).
    pub pid: u8,
    /// TP-DCS.
    pub dcs: Dcs,
    /// TP-SCTS.
    pub scts: Timestamp,
    /// TP-UDL as sent (septets for 7-bit, octets otherwise).
    pub udl: u8,
    /// TP-UD octets.
    pub ud: Vec<u8>,
}

impl SmsDeliver {
    /// An 8-bit SMS-PP data download DELIVER (first octet `40`/`00`, PID 7F, DCS F6) whose
    /// UDL is the full user-data length.
    pub fn data_download(oa: SmsAddress, scts: Timestamp, ud: Vec<u8>, udhi: bool) -> Result<Self> {
        let udl =
            u8::try_from(ud.len())
                .ok()
                .filter(|&l| l <= 140)
                .ok_or(OtaError::InvalidValue {
                    field: "TP-UD",
                    reason: format!("{} bytes exceed the 140 of one short message", ud.len()),
                })?;
        Ok(SmsDeliver {
            mms: false,
            lp: false,
            spare: false,
            sri: false,
            udhi,
            rp: false,
            oa,
            pid: 0x7F,
            dcs: Dcs::SIM_DATA_DOWNLOAD,
            scts,
            udl,
            ud,
        })
    }

    /// Decode.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let fo = byte(b, 0, "first octet")?;
        if fo & 3 != 0 {
            return Err(OtaError::Malformed {
                field: "TP-MTI",
                offset: 0,
                reason: format!("{} is not SMS-DELIVER (00)", fo & 3),
            });
        }
        let (oa, n) = SmsAddress::parse(b, 1, "TP-OA")?;
        let at = 1 + n;
        let pid = byte(b, at, "TP-PID")?;
        let dcs = Dcs(byte(b, at + 1, "TP-DCS")?);
        let scts = Timestamp::from_slice(take(b, at + 2, 7, "TP-SCTS")?)?;
        let udl = byte(b, at + 9, "TP-UDL")?;
        let ud = read_ud(b, at + 10, udl, dcs)?.to_vec();
        Ok(SmsDeliver {
            mms: fo & 0x04 != 0,
            lp: fo & 0x08 != 0,
            spare: fo & 0x10 != 0,
            sri: fo & 0x20 != 0,
            udhi: fo & 0x40 != 0,
            rp: fo & 0x80 != 0,
            oa,
            pid,
            dcs,
            scts,
            udl,
            ud,
        })
    }

    /// The first octet.
    pub fn first_octet(&self) -> u8 {
        u8::from(self.mms) << 2
            | u8::from(self.lp) << 3
            | u8::from(self.spare) << 4
            | u8::from(self.sri) << 5
            | u8::from(self.udhi) << 6
            | u8::from(self.rp) << 7
    }

    /// Encode.
    pub fn emit(&self) -> Result<Vec<u8>> {
        check_ud(self.udl, self.dcs, &self.ud)?;
        let mut v = Vec::with_capacity(20 + self.ud.len());
        v.push(self.first_octet());
        self.oa.emit_into(&mut v)?;
        v.push(self.pid);
        v.push(self.dcs.0);
        v.extend_from_slice(&self.scts.0);
        v.push(self.udl);
        v.extend_from_slice(&self.ud);
        Ok(v)
    }

    /// The user data decoded.
    pub fn user_data(&self) -> Result<DecodedUserData> {
        decode_user_data(&self.ud, self.udhi, self.udl, self.dcs)
    }
}

fn check_ud(udl: u8, dcs: Dcs, ud: &[u8]) -> Result<()> {
    if ud_octets(udl, dcs) != ud.len() {
        return Err(OtaError::InvalidValue {
            field: "TP-UDL",
            reason: format!(
                "UDL {udl} means {} octets but the UD has {}",
                ud_octets(udl, dcs),
                ud.len()
            ),
        });
    }
    Ok(())
}

/// SMS-SUBMIT (MS → SC), TS 23.040 §9.2.2.2.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsSubmit {
    /// TP-RD (b2): reject duplicates.
    pub rd: bool,
    /// TP-SRR (b5): status report request.
    pub srr: bool,
    /// TP-UDHI (b6).
    pub udhi: bool,
    /// TP-RP (b7).
    pub rp: bool,
    /// TP-MR.
    pub mr: u8,
    /// TP-DA.
    pub da: SmsAddress,
    /// TP-PID.
    pub pid: u8,
    /// TP-DCS.
    pub dcs: Dcs,
    /// TP-VP (its form gives TP-VPF).
    pub vp: ValidityPeriod,
    /// TP-UDL as sent.
    pub udl: u8,
    /// TP-UD octets.
    pub ud: Vec<u8>,
}

impl SmsSubmit {
    /// An 8-bit SUBMIT carrying a PoR or other OTA user data (UDHI set, PID 7F, DCS F6, no VP).
    pub fn ota(mr: u8, da: SmsAddress, ud: Vec<u8>) -> Result<Self> {
        let udl =
            u8::try_from(ud.len())
                .ok()
                .filter(|&l| l <= 140)
                .ok_or(OtaError::InvalidValue {
                    field: "TP-UD",
                    reason: format!("{} bytes exceed the 140 of one short message", ud.len()),
                })?;
        Ok(SmsSubmit {
            rd: false,
            srr: false,
            udhi: true,
            rp: false,
            mr,
            da,
            pid: 0x7F,
            dcs: Dcs::SIM_DATA_DOWNLOAD,
            vp: ValidityPeriod::None,
            udl,
            ud,
        })
    }

    /// Decode.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let fo = byte(b, 0, "first octet")?;
        if fo & 3 != 1 {
            return Err(OtaError::Malformed {
                field: "TP-MTI",
                offset: 0,
                reason: format!("{} is not SMS-SUBMIT (01)", fo & 3),
            });
        }
        let mr = byte(b, 1, "TP-MR")?;
        let (da, n) = SmsAddress::parse(b, 2, "TP-DA")?;
        let mut at = 2 + n;
        let pid = byte(b, at, "TP-PID")?;
        let dcs = Dcs(byte(b, at + 1, "TP-DCS")?);
        at += 2;
        let vp = match (fo >> 3) & 3 {
            0 => ValidityPeriod::None,
            2 => {
                at += 1;
                ValidityPeriod::Relative(byte(b, at - 1, "TP-VP")?)
            }
            vpf => {
                let v = take(b, at, 7, "TP-VP")?;
                at += 7;
                let mut a = [0u8; 7];
                a.copy_from_slice(v);
                if vpf == 1 {
                    ValidityPeriod::Enhanced(a)
                } else {
                    ValidityPeriod::Absolute(Timestamp(a))
                }
            }
        };
        let udl = byte(b, at, "TP-UDL")?;
        let ud = read_ud(b, at + 1, udl, dcs)?.to_vec();
        Ok(SmsSubmit {
            rd: fo & 0x04 != 0,
            srr: fo & 0x20 != 0,
            udhi: fo & 0x40 != 0,
            rp: fo & 0x80 != 0,
            mr,
            da,
            pid,
            dcs,
            vp,
            udl,
            ud,
        })
    }

    /// The first octet.
    pub fn first_octet(&self) -> u8 {
        1 | u8::from(self.rd) << 2
            | self.vp.vpf() << 3
            | u8::from(self.srr) << 5
            | u8::from(self.udhi) << 6
            | u8::from(self.rp) << 7
    }

    /// Encode.
    pub fn emit(&self) -> Result<Vec<u8>> {
        check_ud(self.udl, self.dcs, &self.ud)?;
        let mut v = Vec::with_capacity(24 + self.ud.len());
        v.push(self.first_octet());
        v.push(self.mr);
        self.da.emit_into(&mut v)?;
        v.push(self.pid);
        v.push(self.dcs.0);
        match &self.vp {
            ValidityPeriod::None => {}
            ValidityPeriod::Relative(r) => v.push(*r),
            ValidityPeriod::Enhanced(e) => v.extend_from_slice(e),
            ValidityPeriod::Absolute(t) => v.extend_from_slice(&t.0),
        }
        v.push(self.udl);
        v.extend_from_slice(&self.ud);
        Ok(v)
    }

    /// The user data decoded.
    pub fn user_data(&self) -> Result<DecodedUserData> {
        decode_user_data(&self.ud, self.udhi, self.udl, self.dcs)
    }
}

/// SMS-DELIVER-REPORT (MS → SC), TS 23.040 §9.2.2.1a, for RP-ACK (no TP-FCS) or RP-ERROR
/// (with TP-FCS, e.g. `D5` "(U)SIM data download error").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsDeliverReport {
    /// TP-UDHI.
    pub udhi: bool,
    /// TP-FCS (present for RP-ERROR only).
    pub fcs: Option<u8>,
    /// TP-PID if present.
    pub pid: Option<u8>,
    /// TP-DCS if present.
    pub dcs: Option<Dcs>,
    /// TP-UDL and TP-UD if present.
    pub ud: Option<(u8, Vec<u8>)>,
}

impl SmsDeliverReport {
    /// An RP-ACK report carrying a PoR (8-bit, PID 7F, DCS F6, UDHI set).
    pub fn por(ud: Vec<u8>) -> Result<Self> {
        let udl =
            u8::try_from(ud.len())
                .ok()
                .filter(|&l| l <= 159)
                .ok_or(OtaError::InvalidValue {
                    field: "TP-UD",
                    reason: format!("{} bytes exceed a DELIVER-REPORT", ud.len()),
                })?;
        Ok(SmsDeliverReport {
            udhi: true,
            fcs: None,
            pid: Some(0x7F),
            dcs: Some(Dcs::SIM_DATA_DOWNLOAD),
            ud: Some((udl, ud)),
        })
    }

    /// Decode; `rp_error` says whether the TPDU came in an RP-ERROR (then TP-FCS is present).
    pub fn parse(b: &[u8], rp_error: bool) -> Result<Self> {
        let fo = byte(b, 0, "first octet")?;
        if fo & 3 != 0 {
            return Err(OtaError::Malformed {
                field: "TP-MTI",
                offset: 0,
                reason: format!("{} is not SMS-DELIVER-REPORT (00)", fo & 3),
            });
        }
        let mut at = 1;
        let fcs = if rp_error {
            at += 1;
            Some(byte(b, 1, "TP-FCS")?)
        } else {
            None
        };
        let pi = byte(b, at, "TP-PI")?;
        at += 1;
        let pid = if pi & 1 != 0 {
            at += 1;
            Some(byte(b, at - 1, "TP-PID")?)
        } else {
            None
        };
        let dcs = if pi & 2 != 0 {
            at += 1;
            Some(Dcs(byte(b, at - 1, "TP-DCS")?))
        } else {
            None
        };
        let ud = if pi & 4 != 0 {
            let udl = byte(b, at, "TP-UDL")?;
            let d = read_ud(b, at + 1, udl, dcs.unwrap_or(Dcs(0)))?;
            Some((udl, d.to_vec()))
        } else {
            if at != b.len() {
                return Err(OtaError::Malformed {
                    field: "TP-PI",
                    offset: at,
                    reason: format!(
                        "{} byte(s) after the last field TP-PI announces",
                        b.len() - at
                    ),
                });
            }
            None
        };
        Ok(SmsDeliverReport {
            udhi: fo & 0x40 != 0,
            fcs,
            pid,
            dcs,
            ud,
        })
    }

    /// Encode.
    pub fn emit(&self) -> Result<Vec<u8>> {
        let mut v = vec![u8::from(self.udhi) << 6];
        if let Some(f) = self.fcs {
            v.push(f);
        }
        v.push(
            u8::from(self.pid.is_some())
                | u8::from(self.dcs.is_some()) << 1
                | u8::from(self.ud.is_some()) << 2,
        );
        if let Some(p) = self.pid {
            v.push(p);
        }
        if let Some(d) = self.dcs {
            v.push(d.0);
        }
        if let Some((udl, ud)) = &self.ud {
            check_ud(*udl, self.dcs.unwrap_or(Dcs(0)), ud)?;
            v.push(*udl);
            v.extend_from_slice(ud);
        }
        Ok(v)
    }
}

/// A TPDU recognised by its TP-MTI, as seen on the MS side (DELIVER arrives, SUBMIT leaves).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tpdu {
    /// SMS-DELIVER.
    Deliver(SmsDeliver),
    /// SMS-SUBMIT.
    Submit(SmsSubmit),
}

impl Tpdu {
    /// Decode a DELIVER (MTI 00) or SUBMIT (MTI 01).
    pub fn parse(b: &[u8]) -> Result<Self> {
        match byte(b, 0, "first octet")? & 3 {
            0 => SmsDeliver::parse(b).map(Tpdu::Deliver),
            1 => SmsSubmit::parse(b).map(Tpdu::Submit),
            m => Err(OtaError::Malformed {
                field: "TP-MTI",
                offset: 0,
                reason: format!("{m} is neither SMS-DELIVER nor SMS-SUBMIT"),
            }),
        }
    }
    /// UDHI, PID, DCS, UDL and UD.
    pub fn user_data(&self) -> Result<DecodedUserData> {
        match self {
            Tpdu::Deliver(d) => d.user_data(),
            Tpdu::Submit(s) => s.user_data(),
        }
    }
    /// TP-UD octets.
    pub fn ud(&self) -> &[u8] {
        match self {
            Tpdu::Deliver(d) => &d.ud,
            Tpdu::Submit(s) => &s.ud,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sms::address::SmsAddress;
    use apdu::hex::decode as h;

    #[test]
    fn dcs_charsets_and_classes() {
        assert_eq!(Dcs(0xF6).charset(), Charset::EightBit);
        assert_eq!(Dcs(0xF6).class(), Some(2));
        assert_eq!(Dcs(0x16).charset(), Charset::EightBit);
        assert_eq!(Dcs(0x16).class(), Some(2));
        assert_eq!(Dcs(0x00).charset(), Charset::Gsm7);
        assert_eq!(Dcs(0x00).class(), None);
        assert_eq!(Dcs(0x08).charset(), Charset::Ucs2);
        assert_eq!(Dcs(0xF0).charset(), Charset::Gsm7);
    }

    #[test]
    fn scts_fields() {
        let t = Timestamp::from_slice(&h("22705200000000").unwrap()).unwrap();
        assert_eq!(t.fields(), Some((22, 7, 25, 0, 0, 0, 0)));
        assert_eq!(t.to_string(), "22-07-25 00:00:00 +00:00");
        let t = Timestamp::from_slice(&h("89101000000029").unwrap()).unwrap();
        assert_eq!(t.fields().unwrap().6, -12);
        assert!(Timestamp([0xAA; 7]).fields().is_none());
    }

    #[test]
    fn seven_bit_text_with_udh_fill_bits() {
        // UDH 05 00 03 01 02 01 (6 octets = 48 bits) → 7 septets skipped incl. 1 fill bit.
        let mut ud = h("050003010201").unwrap();
        let septets = crate::gsm7::encode("hello").unwrap();
        ud.extend(crate::gsm7::pack(&septets, 1));
        let d = SmsDeliver {
            mms: true,
            lp: false,
            spare: false,
            sri: false,
            udhi: true,
            rp: false,
            oa: SmsAddress::digits(1, 1, "4915").unwrap(),
            pid: 0,
            dcs: Dcs(0),
            scts: Timestamp::default(),
            udl: 7 + 5,
            ud,
        };
        let b = d.emit().unwrap();
        let back = SmsDeliver::parse(&b).unwrap();
        assert_eq!(back, d);
        let u = back.user_data().unwrap();
        assert_eq!(crate::gsm7::decode(&u.body), "hello");
        assert_eq!(u.udh.unwrap().ies.len(), 1);
    }

    #[test]
    fn submit_vp_forms_round_trip() {
        for vp in [
            ValidityPeriod::None,
            ValidityPeriod::Relative(0xA7),
            ValidityPeriod::Enhanced([1, 2, 3, 4, 5, 6, 7]),
            ValidityPeriod::Absolute(Timestamp([0x22, 0x70, 0x52, 0, 0, 0, 0])),
        ] {
            let mut s = SmsSubmit::ota(
                9,
                SmsAddress::digits(1, 1, "123").unwrap(),
                h("027100").unwrap(),
            )
            .unwrap();
            s.vp = vp;
            let b = s.emit().unwrap();
            assert_eq!(SmsSubmit::parse(&b).unwrap(), s);
        }
        let e = SmsSubmit::parse(&h("0100038121F37FF604027100").unwrap()).unwrap_err();
        assert!(e.to_string().contains("TP-UDL"), "{e}");
    }

    #[test]
    fn deliver_report_ack_and_error() {
        let r = SmsDeliverReport::por(h("027100000B0AB0001000000000000006").unwrap()).unwrap();
        let b = r.emit().unwrap();
        assert_eq!(apdu::hex::encode(&b[..5]), "40077FF610");
        assert_eq!(SmsDeliverReport::parse(&b, false).unwrap(), r);
        let e = SmsDeliverReport {
            udhi: false,
            fcs: Some(0xD5),
            pid: None,
            dcs: None,
            ud: None,
        };
        let b = e.emit().unwrap();
        assert_eq!(b, [0x00, 0xD5, 0x00]);
        assert_eq!(SmsDeliverReport::parse(&b, true).unwrap(), e);
        assert!(SmsDeliverReport::parse(&[0, 0, 0], false).is_err());
    }
}
