//! Explanations for people: TLV trees with tag names and decoded values, and the meaning of a
//! command's data field and of its response data, for `simota apdu decode`, `simota tlv decode`
//! and transcripts.
//!
//! BER-TLV objects are named in context ([`crate::names::ber_tag_name`]); the CAT templates
//! `D0`–`DF` (TS 102 223 §9.1) have their value decoded as COMPREHENSION-TLV objects (TS 101 220
//! §7.1.1), whose well-known values (device identities, command details, result, duration,
//! text string, address, SMS TPDU type, …) are decoded per TS 102 223 §8.

use crate::command::CommandApduRef;
use crate::hex;
use crate::names;
use crate::tlv::ber::{BerTlv, BerValue};
use crate::tlv::comprehension::CompTlv;
use crate::tlv::{len_len, LenForm, TlvError};
use std::fmt::Write as _;

/// Which TLV syntax a node was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvKind {
    /// BER-TLV (ISO/IEC 7816-4 §5.2).
    Ber,
    /// COMPREHENSION-TLV (ETSI TS 101 220 §7.1.1).
    Comprehension,
}

/// One explained TLV object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvNode {
    /// Offset of the tag's first byte in the decoded input.
    pub offset: usize,
    /// BER or COMPREHENSION-TLV.
    pub kind: TlvKind,
    /// The tag as written (`D1`, `9F70`, `7F8123`).
    pub tag: Vec<u8>,
    /// Comprehension-required flag (COMPREHENSION-TLV only).
    pub cr: Option<bool>,
    /// Tag name where known.
    pub name: Option<&'static str>,
    /// Value length in bytes (the content length; for indefinite length, without `00 00`).
    pub length: usize,
    /// Whether the length was written in the BER indefinite form.
    pub indefinite: bool,
    /// The value bytes.
    pub value: Vec<u8>,
    /// Decoded meaning of the value where known.
    pub meaning: Option<String>,
    /// Nested objects (constructed BER objects and CAT templates); empty for leaves.
    pub children: Vec<TlvNode>,
}

impl TlvNode {
    /// The tag as upper-case hex.
    pub fn tag_hex(&self) -> String {
        hex::encode(&self.tag)
    }
}

/// Parse `b` as a sequence of BER-TLV objects and explain them. `base` is added to offsets
/// (and to error offsets), so nodes point into an outer buffer.
pub fn ber_tree(b: &[u8], base: usize) -> Result<Vec<TlvNode>, TlvError> {
    let tlvs = BerTlv::parse_all(b).map_err(|e| shift(e, base))?;
    let mut at = base;
    let mut out = Vec::with_capacity(tlvs.len());
    for t in &tlvs {
        out.push(ber_node(t, at, &[]));
        at += t.buffer_len();
    }
    Ok(out)
}

/// Parse `b` as a sequence of COMPREHENSION-TLV objects and explain them.
pub fn comprehension_tree(b: &[u8], base: usize) -> Result<Vec<TlvNode>, TlvError> {
    let tlvs = CompTlv::parse_all_at(b, base)?;
    let mut at = base;
    let mut out = Vec::with_capacity(tlvs.len());
    for t in &tlvs {
        let mut tag = Vec::with_capacity(3);
        let mut enc = Vec::new();
        t.emit_into(&mut enc);
        tag.extend_from_slice(
            enc.get(..if t.tag.three_byte { 3 } else { 1 })
                .unwrap_or(&[]),
        );
        out.push(TlvNode {
            offset: at,
            kind: TlvKind::Comprehension,
            tag,
            cr: Some(t.tag.cr),
            name: if t.tag.three_byte {
                None
            } else {
                names::comp_tag_name(t.tag.value)
            },
            length: t.value.len(),
            indefinite: false,
            value: t.value.clone(),
            meaning: if t.tag.three_byte {
                None
            } else {
                comp_meaning(t.tag.value, &t.value)
            },
            children: Vec::new(),
        });
        at += t.buffer_len();
    }
    Ok(out)
}

fn shift(e: TlvError, base: usize) -> TlvError {
    match e {
        TlvError::TagTruncated { offset } => TlvError::TagTruncated {
            offset: offset + base,
        },
        TlvError::BadTag { offset, tag } => TlvError::BadTag {
            offset: offset + base,
            tag,
        },
        TlvError::TagTooLong { offset } => TlvError::TagTooLong {
            offset: offset + base,
        },
        TlvError::LenTruncated { offset } => TlvError::LenTruncated {
            offset: offset + base,
        },
        TlvError::BadLen { offset, byte } => TlvError::BadLen {
            offset: offset + base,
            byte,
        },
        TlvError::ValueTruncated {
            offset,
            len,
            available,
        } => TlvError::ValueTruncated {
            offset: offset + base,
            len,
            available,
        },
        TlvError::MissingEoc { offset } => TlvError::MissingEoc {
            offset: offset + base,
        },
        TlvError::TooDeep { offset, max } => TlvError::TooDeep {
            offset: offset + base,
            max,
        },
    }
}

fn ber_node(t: &BerTlv, offset: usize, path: &[u32]) -> TlvNode {
    let tag_bytes = t.tag.bytes();
    let value = t.value_bytes();
    let content_start = offset + tag_bytes.len() + len_len(value.len(), t.len_form);
    let name = names::ber_tag_name(t.tag.0, path);
    let mut node = TlvNode {
        offset,
        kind: TlvKind::Ber,
        tag: tag_bytes,
        cr: None,
        name,
        length: value.len(),
        indefinite: t.len_form == LenForm::Indefinite,
        value: Vec::new(),
        meaning: None,
        children: Vec::new(),
    };
    let parent = path.last().copied();
    let raw_apdu = matches!(
        (t.tag.0, parent),
        (0x22 | 0x23, Some(0xAA | 0xAB | 0xAE | 0xAF))
    );
    // C6 (PIN status template DO, TS 102 221 §9.5.2) is a template although its tag is
    // encoded as primitive; parse its value as BER-TLV when it is well-formed.
    let reparsed;
    let value_tlvs = match &t.value {
        BerValue::Constructed(children) if !raw_apdu => Some(children.as_slice()),
        BerValue::Primitive(v) if t.tag.0 == 0xC6 => match BerTlv::parse_all(v) {
            Ok(c) => {
                reparsed = c;
                Some(reparsed.as_slice())
            }
            Err(_) => None,
        },
        _ => None,
    };
    match value_tlvs {
        Some(children) => {
            let mut p = path.to_vec();
            p.push(t.tag.0);
            let mut at = content_start;
            for c in children {
                node.children.push(ber_node(c, at, &p));
                at += c.buffer_len();
            }
        }
        // CAT templates only at the top level (ENVELOPE data, FETCH response): inside other
        // templates D0–DF are proprietary tags.
        None if path.is_empty() && names::is_cat_template(t.tag.0) => {
            match comprehension_tree(&value, content_start) {
                Ok(children) => {
                    node.meaning = cat_template_meaning(t.tag.0, &children);
                    node.children = children;
                }
                Err(e) => {
                    node.meaning = Some(format!("not valid COMPREHENSION-TLV ({e})"));
                    node.value = value;
                }
            }
        }
        None => {
            node.meaning = ber_meaning(t.tag.0, parent, path, &value);
            node.value = value;
        }
    }
    node
}

/// A one-line summary of a CAT template from its children (proactive command type).
fn cat_template_meaning(tag: u32, children: &[TlvNode]) -> Option<String> {
    if tag != 0xD0 {
        return None;
    }
    let details = children
        .iter()
        .find(|c| c.tag == [0x81] || c.tag == [0x01])?;
    let t = *details.value.get(1)?;
    names::proactive_command_name(t).map(|n| n.to_string())
}

/// Meaning of a primitive BER value in its context.
fn ber_meaning(tag: u32, parent: Option<u32>, path: &[u32], v: &[u8]) -> Option<String> {
    let in_fcp = parent == Some(0x62);
    match (tag, parent) {
        (0x82, _) if in_fcp => file_descriptor(v),
        (0x83, _) if in_fcp => {
            let fid = hex::encode(v);
            Some(match fid.as_str() {
                "3F00" => "FID 3F00 (MF)".to_string(),
                "7FFF" => "FID 7FFF (current ADF)".to_string(),
                _ => format!("FID {fid}"),
            })
        }
        (0x80 | 0x81, _) if in_fcp => Some(format!("{} bytes", be_uint(v)?)),
        (0x88, _) if in_fcp => Some(match v {
            [] | [0] => "no SFI".to_string(),
            [s] => format!("SFI {:02X}", s >> 3),
            _ => return None,
        }),
        (0x8A, _) if in_fcp => lcsi(v),
        (0x8B, _) if in_fcp => match v {
            [f1, f2, rec] => Some(format!("EF.ARR {f1:02X}{f2:02X}, record {rec}")),
            _ => None,
        },
        (0x83, Some(0xA5)) if path.contains(&0x62) => {
            Some(format!("{} bytes available", be_uint(v)?))
        }
        (0x90, Some(0xC6)) => {
            let bits = v.first()?;
            Some(format!(
                "PS_DO {bits:08b} (bit 8 = first key reference listed; 1 = PIN enabled)"
            ))
        }
        (0x83, Some(0xC6)) => Some(names::key_reference(*v.first()?, false)),
        (0x9F70, _) => gp_life_cycle(*v.first()?, parent).map(str::to_string),
        (0x80, Some(0xAB | 0xAF)) => Some(format!("{} command(s) executed", be_uint(v)?)),
        (0x22, Some(0xAA | 0xAE)) => Some(capdu_summary(v)),
        (0x23, Some(0xAB | 0xAF)) => {
            let (_, sw) = v.split_at(v.len().checked_sub(2)?);
            let sw = crate::StatusWord::new(*sw.first()?, *sw.get(1)?);
            Some(format!("SW {sw}: {}", sw.meaning()))
        }
        (0x90, Some(0xAB | 0xAF)) => Some(
            match v {
                [0x01] => "unknown tag",
                [0x02] => "wrong length",
                [0x03] => "length not found",
                _ => return None,
            }
            .to_string(),
        ),
        (0x4F | 0x84 | 0xC4 | 0xCC, _) => None,
        (0x50, _) => ascii(v),
        _ => None,
    }
}

fn be_uint(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |a, &x| a << 8 | u64::from(x)))
}

fn ascii(v: &[u8]) -> Option<String> {
    if !v.is_empty() && v.iter().all(|&c| (0x20..0x7F).contains(&c)) {
        Some(format!("\"{}\"", String::from_utf8_lossy(v)))
    } else {
        None
    }
}

/// File descriptor byte(s) of an FCP (TS 102 221 §11.1.1.4.3).
fn file_descriptor(v: &[u8]) -> Option<String> {
    let fdb = *v.first()?;
    let shareable = if fdb & 0x40 != 0 { "shareable " } else { "" };
    let kind = match (fdb >> 3) & 0x07 {
        0b111 if fdb & 0x3F == 0x38 => return Some(format!("{shareable}DF or ADF")),
        0b111 if fdb & 0x3F == 0x39 => return Some(format!("{shareable}BER-TLV EF")),
        0b000 => "working EF",
        0b001 => "internal EF",
        _ => "EF (proprietary type)",
    };
    let structure = match fdb & 0x07 {
        0b001 => "transparent".to_string(),
        0b010 | 0b110 => {
            let what = if fdb & 0x07 == 0b010 {
                "linear fixed"
            } else {
                "cyclic"
            };
            match v.get(2..5) {
                Some([hi, lo, n]) => {
                    format!(
                        "{what}, {} records of {} bytes",
                        n,
                        u16::from_be_bytes([*hi, *lo])
                    )
                }
                _ => what.to_string(),
            }
        }
        0b000 => "no structure information".to_string(),
        _ => "proprietary structure".to_string(),
    };
    Some(format!("{shareable}{kind}, {structure}"))
}

/// Life cycle status integer (ISO 7816-4 §5.3.3.2 table 13, TS 102 221 §11.1.1.4.9).
fn lcsi(v: &[u8]) -> Option<String> {
    let b = *v.first()?;
    Some(
        match b {
            0x00 => "no information given",
            0x01 => "creation state",
            0x03 => "initialisation state",
            0x05 | 0x07 => "operational state, activated",
            0x04 | 0x06 => "operational state, deactivated",
            0x0C..=0x0F => "termination state",
            _ => "proprietary",
        }
        .to_string(),
    )
}

/// GlobalPlatform life cycle states (Card Specification §5.1, §5.3).
fn gp_life_cycle(b: u8, parent: Option<u32>) -> Option<&'static str> {
    let _ = parent;
    Some(match b {
        0x01 => "LOADED (Executable Load File) / OP_READY (card)",
        0x03 => "INSTALLED",
        0x07 => "SELECTABLE / INITIALIZED (card)",
        0x0F => "SECURED (card) / PERSONALIZED (Security Domain)",
        0x7F => "CARD_LOCKED",
        0xFF => "TERMINATED",
        x if x & 0x83 == 0x83 => "LOCKED",
        _ => return None,
    })
}

/// A one-line summary of raw C-APDU bytes: instruction name and header.
pub fn capdu_summary(b: &[u8]) -> String {
    match CommandApduRef::parse(b) {
        Ok(c) => {
            let name = names::ins_name(c.cla, c.ins, c.p1).unwrap_or("unknown instruction");
            format!("{name} ({})", hex::encode_spaced(b))
        }
        Err(e) => format!("malformed C-APDU: {e}"),
    }
}

/// Meaning of a COMPREHENSION-TLV value (tag value without CR), TS 102 223 §8.
pub fn comp_meaning(tag: u16, v: &[u8]) -> Option<String> {
    match tag {
        0x01 => {
            let [num, t, q] = v else { return None };
            let name = names::proactive_command_name(*t).unwrap_or("unknown command type");
            Some(format!(
                "command number {num}, {name} ({t:02X}), qualifier {q:02X}"
            ))
        }
        0x02 => {
            let [src, dst] = v else { return None };
            let n = |d: u8| names::device_name(d).unwrap_or_else(|| format!("device {d:02X}"));
            Some(format!("{} → {}", n(*src), n(*dst)))
        }
        0x03 => {
            let (r, extra) = v.split_first()?;
            let mut s = names::general_result_name(*r)
                .map(str::to_string)
                .unwrap_or_else(|| format!("result {r:02X}"));
            if !extra.is_empty() {
                let _ = write!(s, ", additional information {}", hex::encode_spaced(extra));
            }
            Some(s)
        }
        0x04 => {
            let [unit, n] = v else { return None };
            let unit = match unit {
                0 => "minute(s)",
                1 => "second(s)",
                2 => "tenth(s) of seconds",
                _ => "reserved unit",
            };
            Some(format!("{n} {unit}"))
        }
        0x05 => alpha_identifier(v),
        0x06 => address(v),
        0x0B => sms_tpdu_type(v),
        0x0D | 0x17 => text_string(v),
        0x10 => Some(format!("item {}", v.first()?)),
        0x11 => {
            let [min, max] = v else { return None };
            Some(format!("minimum {min}, maximum {max} characters"))
        }
        0x19 => {
            let evs: Vec<String> = v
                .iter()
                .map(|&e| {
                    names::event_name(e)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("event {e:02X}"))
                })
                .collect();
            Some(evs.join(", "))
        }
        0x22 => Some(capdu_summary(v)),
        0x23 => {
            let (_, sw) = v.split_at(v.len().checked_sub(2)?);
            let sw = crate::StatusWord::new(*sw.first()?, *sw.get(1)?);
            Some(format!("SW {sw}: {}", sw.meaning()))
        }
        0x2D => ascii(v),
        _ => None,
    }
}

/// Alpha identifier: SMS default alphabet (unpacked, 8-bit) or UCS2 with `80` prefix
/// (TS 102 223 §8.2, TS 102 221 annex A).
fn alpha_identifier(v: &[u8]) -> Option<String> {
    if v.is_empty() {
        return Some("empty (null alpha identifier)".into());
    }
    if let Some(rest) = v.strip_prefix(&[0x80]) {
        return ucs2(rest);
    }
    gsm_default(v.iter().copied().take_while(|&c| c != 0xFF))
}

/// Text string: first byte is the data coding scheme (TS 102 223 §8.15, TS 23.038).
fn text_string(v: &[u8]) -> Option<String> {
    let (dcs, text) = v.split_first()?;
    match dcs & 0x0C {
        0x00 => gsm_default(unpack7(text)).map(|t| format!("7-bit packed: {t}")),
        0x04 => gsm_default(text.iter().copied()).map(|t| format!("8-bit: {t}")),
        0x08 => ucs2(text).map(|t| format!("UCS2: {t}")),
        _ => None,
    }
}

/// Unpack GSM 7-bit packed septets (TS 23.038 §6.1.2.1.1).
fn unpack7(b: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let n = b.len() * 8 / 7;
    (0..n).filter_map(move |i| {
        let bit = i * 7;
        let (byte, shift) = (bit / 8, bit % 8);
        let lo = u16::from(*b.get(byte)?);
        let hi = u16::from(b.get(byte + 1).copied().unwrap_or(0));
        let septet = ((lo | hi << 8) >> shift) & 0x7F;
        // A trailing zero septet in the last octet is padding, not '@'.
        if septet == 0 && i + 1 == n && !(b.len() * 8).is_multiple_of(7) {
            None
        } else {
            Some(septet as u8)
        }
    })
}

/// Render GSM default-alphabet characters; only the characters that map to ASCII are shown
/// as such, others as `\xNN`. `None` when the result would be mostly unprintable.
fn gsm_default(chars: impl Iterator<Item = u8>) -> Option<String> {
    let mut s = String::from("\"");
    for c in chars {
        match c {
            0x00 => s.push('@'),
            0x0A => s.push_str("\\n"),
            0x0D => s.push_str("\\r"),
            0x20..=0x23 | 0x25..=0x3F | 0x41..=0x5A | 0x61..=0x7A => s.push(c as char),
            0x02 => s.push('$'),
            0x11 => s.push('_'),
            _ => {
                let _ = write!(s, "\\x{c:02X}");
            }
        }
    }
    s.push('"');
    Some(s)
}

fn ucs2(b: &[u8]) -> Option<String> {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    let t: String = char::decode_utf16(units.iter().copied())
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Some(format!("\"{t}\""))
}

/// Address: TON/NPI byte and BCD digits (TS 102 223 §8.1, TS 24.008 §10.5.4.7).
fn address(v: &[u8]) -> Option<String> {
    let (ton_npi, digits) = v.split_first()?;
    let mut s = String::new();
    if (ton_npi >> 4) & 0x07 == 1 {
        s.push('+');
    }
    for &d in digits {
        for nib in [d & 0x0F, d >> 4] {
            match nib {
                0..=9 => s.push((b'0' + nib) as char),
                0x0A => s.push('*'),
                0x0B => s.push('#'),
                0x0F => {}
                _ => s.push('?'),
            }
        }
    }
    Some(format!("{s} (TON/NPI {ton_npi:02X})"))
}

/// SMS TPDU type from TP-MTI (TS 23.040 §9.2.3.1); the direction decides DELIVER vs SUBMIT.
fn sms_tpdu_type(v: &[u8]) -> Option<String> {
    let first = *v.first()?;
    let mti = match first & 0x03 {
        0 => "SMS-DELIVER (SC → MS)",
        1 => "SMS-SUBMIT (MS → SC)",
        2 => "SMS-STATUS-REPORT / SMS-COMMAND",
        _ => "reserved message type",
    };
    let udhi = if first & 0x40 != 0 {
        ", user data header present (TP-UDHI)"
    } else {
        ""
    };
    Some(format!("{mti}, {} bytes{udhi}", v.len()))
}

/// A tree for the data field of a command, where its structure is known: ENVELOPE (a BER
/// template, CAT templates decoded as COMPREHENSION-TLV), TERMINAL RESPONSE
/// (COMPREHENSION-TLV objects), GlobalPlatform GET STATUS / STORE DATA in BER-TLV.
/// Offsets count from the first data byte. `None` when the data is not TLV-structured here;
/// `Some(Err)` when it should be but does not parse.
pub fn command_data_tree(c: &CommandApduRef<'_>) -> Option<Result<Vec<TlvNode>, TlvError>> {
    if c.data.is_empty() {
        return None;
    }
    match names::ins_name(c.cla, c.ins, c.p1)? {
        "ENVELOPE" => Some(ber_tree(c.data, 0)),
        "TERMINAL RESPONSE" => Some(comprehension_tree(c.data, 0)),
        "GET STATUS" => Some(ber_tree(c.data, 0)),
        "STORE DATA" if (c.p1 >> 3) & 0x03 == 2 => Some(ber_tree(c.data, 0)),
        _ => None,
    }
}

/// A one-line meaning of a command's data field where it is a simple value (file ID, path,
/// AID, PIN block).
pub fn command_data_meaning(c: &CommandApduRef<'_>) -> Option<String> {
    let d = c.data;
    if d.is_empty() {
        return None;
    }
    let name = names::ins_name(c.cla, c.ins, c.p1)?;
    match (name, c.p1) {
        ("SELECT", _) if c.cla == 0xA0 || c.p1 <= 0x02 => {
            let fid = hex::encode(d);
            Some(match fid.as_str() {
                "3F00" => "file ID 3F00 (MF)".to_string(),
                "7FFF" => "file ID 7FFF (current ADF)".to_string(),
                _ => format!("file ID {fid}"),
            })
        }
        ("SELECT", 0x04) => Some(format!("AID {}", hex::encode(d))),
        ("SELECT", 0x08) => Some(format!("path 3F00/{}", path(d))),
        ("SELECT", 0x09) => Some(format!("path ./{}", path(d))),
        ("VERIFY PIN" | "DISABLE PIN" | "ENABLE PIN", _) => {
            Some(format!("PIN block of {} bytes (FF-padded)", d.len()))
        }
        ("CHANGE PIN", _) => Some("old PIN block ‖ new PIN block".to_string()),
        ("UNBLOCK PIN", _) => Some("unblock key (PUK) ‖ new PIN block".to_string()),
        ("TERMINAL PROFILE", _) => Some(format!("terminal profile, {} bytes", d.len())),
        _ => None,
    }
}

fn path(d: &[u8]) -> String {
    d.chunks(2).map(hex::encode).collect::<Vec<_>>().join("/")
}

/// A tree for response data where the command tells its structure: SELECT/STATUS (FCP `62`,
/// FCI `6F`), FETCH (proactive command `D0`), GlobalPlatform GET STATUS (`E3`) and GET DATA,
/// and GET RESPONSE data that parses as one of those templates. `None` when unstructured.
pub fn response_data_tree(
    c: &CommandApduRef<'_>,
    data: &[u8],
) -> Option<Result<Vec<TlvNode>, TlvError>> {
    if data.is_empty() {
        return None;
    }
    let name = names::ins_name(c.cla, c.ins, c.p1)?;
    let templated = matches!(data.first(), Some(0x62 | 0x6F | 0x64 | 0xD0 | 0xE3 | 0x66));
    match name {
        "SELECT" | "STATUS" if c.cla != 0xA0 => Some(ber_tree(data, 0)),
        "FETCH" => Some(ber_tree(data, 0)),
        // GET STATUS P2 b2 = 1: TLV response (tag E3); the legacy format is not TLV.
        "GET STATUS" if c.p2 & 0x02 != 0 => Some(ber_tree(data, 0)),
        "GET DATA" | "GET RESPONSE" if templated => ber_tree(data, 0).ok().map(Ok),
        _ => None,
    }
}

/// Render TLV nodes as an indented tree, one object per line:
/// `TAG Name [len]: value-hex = meaning`, children indented by two spaces.
pub fn render_tree(nodes: &[TlvNode], indent: usize) -> String {
    let mut s = String::new();
    render_into(&mut s, nodes, indent);
    s
}

fn render_into(s: &mut String, nodes: &[TlvNode], indent: usize) {
    for n in nodes {
        let pad = " ".repeat(indent);
        let _ = write!(s, "{pad}{}", n.tag_hex());
        if let Some(name) = n.name {
            let _ = write!(s, " {name}");
        }
        if n.cr == Some(true) {
            s.push_str(" (CR)");
        }
        if n.indefinite {
            let _ = write!(s, " [indefinite, {}]", n.length);
        } else {
            let _ = write!(s, " [{}]", n.length);
        }
        if n.children.is_empty() {
            if !n.value.is_empty() {
                let _ = write!(s, ": {}", hex::encode_spaced(&n.value));
            }
            if let Some(m) = &n.meaning {
                let _ = write!(s, " = {m}");
            }
            s.push('\n');
        } else {
            if let Some(m) = &n.meaning {
                let _ = write!(s, " = {m}");
            }
            s.push('\n');
            render_into(s, &n.children, indent + 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_sms_pp_download() {
        let b = hex::decode("80C2000006D10482028381").unwrap();
        let c = CommandApduRef::parse(&b).unwrap();
        let tree = command_data_tree(&c).unwrap().unwrap();
        assert_eq!(tree.len(), 1);
        assert_eq!(tree[0].name, Some("SMS-PP download"));
        let di = &tree[0].children[0];
        assert_eq!(
            (di.offset, di.name, di.cr),
            (2, Some("Device identities"), Some(true))
        );
        assert_eq!(di.meaning.as_deref(), Some("network → UICC"));
        let text = render_tree(&tree, 0);
        assert_eq!(
            text,
            "D1 SMS-PP download [4]\n  82 Device identities (CR) [2]: 83 81 = network → UICC\n"
        );
    }

    #[test]
    fn proactive_display_text() {
        // TS 31.124 DISPLAY TEXT (via oFono): D0 1A 81 03 01 21 80 82 02 81 02 8D 0F 04 "Toolkit Test 1"
        let mut b = hex::decode("D01A8103012180820281028D0F04").unwrap();
        b.extend_from_slice(b"Toolkit Test 1");
        let t = ber_tree(&b, 0).unwrap();
        assert_eq!(t[0].meaning.as_deref(), Some("DISPLAY TEXT"));
        let ch = &t[0].children;
        assert_eq!(
            ch[0].meaning.as_deref(),
            Some("command number 1, DISPLAY TEXT (21), qualifier 80")
        );
        assert_eq!(ch[1].meaning.as_deref(), Some("UICC → display"));
        assert_eq!(ch[2].meaning.as_deref(), Some("8-bit: \"Toolkit Test 1\""));
    }

    #[test]
    fn fcp_and_scripting_templates() {
        // EF.ICCID FCP from a real card (pySim docs).
        let b = hex::decode("621B82024121 83022FE2 A503D00140 8A0105 8B032F0603 8002000A 8800")
            .unwrap();
        let t = ber_tree(&b, 0).unwrap();
        let fcp = &t[0];
        assert_eq!(fcp.name, Some("FCP template"));
        assert_eq!(
            fcp.children[0].meaning.as_deref(),
            Some("shareable working EF, transparent")
        );
        assert_eq!(fcp.children[1].meaning.as_deref(), Some("FID 2FE2"));
        // D0 inside A5 is a proprietary tag there, not a CAT template.
        assert_eq!(fcp.children[2].children[0].tag, [0xD0]);
        assert!(fcp.children[2].children[0].children.is_empty());
        assert_eq!(
            fcp.children[4].meaning.as_deref(),
            Some("EF.ARR 2F06, record 3")
        );
        assert_eq!(
            fcp.children[3].meaning.as_deref(),
            Some("operational state, activated")
        );
        assert_eq!(fcp.children[5].meaning.as_deref(), Some("10 bytes"));
        assert_eq!(fcp.children[6].meaning.as_deref(), Some("no SFI"));
        // PIN status template DO of a real MF.
        let t = ber_tree(
            &hex::decode("C60F900170830101830181 83010A83010B").unwrap(),
            0,
        )
        .unwrap();
        assert_eq!(t[0].children.len(), 5);
        assert_eq!(t[0].children[0].name, Some("PIN status (PS_DO)"));
        assert!(t[0].children[2]
            .meaning
            .as_deref()
            .unwrap()
            .contains("second PIN Appl 1"));
        // TS 102 226 expanded remote command, indefinite length.
        let b = hex::decode("AE80220580E29000000000").unwrap();
        let t = ber_tree(&b, 0).unwrap();
        assert!(t[0].indefinite);
        assert_eq!(t[0].children[0].name, Some("C-APDU"));
        assert!(t[0].children[0]
            .meaning
            .as_deref()
            .unwrap()
            .starts_with("STORE DATA"));
    }

    #[test]
    fn text_decoders() {
        assert_eq!(
            comp_meaning(0x0D, &[0x00, 0xC8, 0x32, 0x9B, 0xFD, 0x06]).as_deref(),
            Some("7-bit packed: \"Hello\"")
        );
        assert_eq!(
            comp_meaning(0x06, &[0x91, 0x11, 0x22, 0x33, 0xF4]).as_deref(),
            Some("+1122334 (TON/NPI 91)")
        );
        assert_eq!(
            comp_meaning(0x04, &[0x01, 0x14]).as_deref(),
            Some("20 second(s)")
        );
        assert_eq!(
            comp_meaning(0x03, &[0x20, 0x02]).as_deref(),
            Some("terminal currently unable to process command, additional information 02")
        );
        assert_eq!(
            comp_meaning(0x02, &[0x01, 0x99]).as_deref(),
            Some("keypad → device 99")
        );
        assert_eq!(comp_meaning(0x01, &[0x01]), None);
    }

    #[test]
    fn errors_keep_outer_offsets() {
        let b = hex::decode("80C2000004D1058202").unwrap();
        let c = CommandApduRef::parse(&b).unwrap();
        let e = command_data_tree(&c).unwrap().unwrap_err();
        assert_eq!(
            e,
            TlvError::ValueTruncated {
                offset: 1,
                len: 5,
                available: 2
            }
        );
        assert_eq!(
            ber_tree(&[0x62, 0x05], 7),
            Err(TlvError::ValueTruncated {
                offset: 8,
                len: 5,
                available: 0
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
                        ins in proptest::sample::select(vec![0xC2u8, 0x14, 0x12, 0xA4, 0xF2, 0xCA, 0xE2])) {
            let _ = ber_tree(&b, 0).map(|t| render_tree(&t, 0));
            let _ = comprehension_tree(&b, 0).map(|t| render_tree(&t, 0));
            for tag in 0u16..0x80 {
                let _ = comp_meaning(tag, &b);
            }
            let mut apdu = vec![0x80, ins, b.first().copied().unwrap_or(0), 0x02];
            if !b.is_empty() && b.len() < 256 {
                apdu.push(b.len() as u8);
                apdu.extend_from_slice(&b);
            }
            let c = CommandApduRef::parse(&apdu).unwrap();
            let _ = command_data_tree(&c);
            let _ = command_data_meaning(&c);
            let _ = response_data_tree(&c, &b);
        }
    }
}
