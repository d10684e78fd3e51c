//! Remote APDU structures of ETSI TS 102 226 §5: the compact format (§5.1: concatenated
//! C-APDUs; response `count SW1 SW2 data`) and the expanded format (§5.2: Command Scripting
//! template `AA` definite / `AE` indefinite with `22` C-APDU, `81` immediate action, `82` error
//! action, `83` script chaining; Response Scripting template `AB` / `AF` with `80` number of
//! executed commands, `23` R-APDU, `81` immediate action response, `83` script chaining
//! response, `90` bad format). Tags per TS 101 220 §7.2 (`AE`/`AF`, not pycrate's `AC`/`AD`).
//!
//! The templates are decoded here directly rather than through [`apdu::tlv::BerTlv`], because
//! `22`/`23` are constructed tags in BER terms but hold plain APDU bytes, and a generic BER
//! decoder would try to read those bytes as nested TLVs.

use crate::error::{byte, take, OtaError, Result};
use apdu::{CommandApdu, ResponseApdu, StatusWord};

/// Command Scripting template, definite length.
pub const TAG_COMMAND_SCRIPT: u8 = 0xAA;
/// Command Scripting template, indefinite length.
pub const TAG_COMMAND_SCRIPT_INDEFINITE: u8 = 0xAE;
/// Response Scripting template, definite length.
pub const TAG_RESPONSE_SCRIPT: u8 = 0xAB;
/// Response Scripting template, indefinite length.
pub const TAG_RESPONSE_SCRIPT_INDEFINITE: u8 = 0xAF;

/// One command of a compact script: a T=0 style `CLA INS P1 P2 P3 [data]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactCommand {
    /// CLA INS P1 P2 P3.
    pub header: [u8; 5],
    /// Command data (P3 bytes) when P3 is Lc; empty when P3 is Le.
    pub data: Vec<u8>,
}

impl CompactCommand {
    /// The command as a [`CommandApdu`] (P3 taken as Le when there is no data and the
    /// instruction returns data, as Lc otherwise).
    pub fn to_apdu(&self) -> CommandApdu {
        let [cla, ins, p1, p2, p3] = self.header;
        if self.data.is_empty() && p3_is_le(cla, ins, p1) {
            CommandApdu::new(
                cla,
                ins,
                p1,
                p2,
                Vec::new(),
                Some(if p3 == 0 { 256 } else { u32::from(p3) }),
            )
        } else {
            CommandApdu::new(cla, ins, p1, p2, self.data.clone(), None)
        }
    }
    /// Append the encoding.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.data);
    }
}

/// Whether P3 of a compact-format command is Le (outgoing data, no command data).
///
/// TS 102 226 compact commands carry no explicit case, so the instruction decides: READ
/// BINARY `B0`, READ RECORD `B2`, GET RESPONSE `C0`, FETCH `12`, GET CHALLENGE `84`, GET DATA
/// `CA`, and STATUS `F2` — except GlobalPlatform GET STATUS (`F2` with P1 `80`/`40`/`20`/`10`,
/// which has command data).
pub fn p3_is_le(_cla: u8, ins: u8, p1: u8) -> bool {
    match ins {
        0xB0 | 0xB2 | 0xC0 | 0x12 | 0x84 | 0xCA => true,
        0xF2 => !matches!(p1, 0x80 | 0x40 | 0x20 | 0x10),
        _ => false,
    }
}

/// A compact-format command script (TS 102 226 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactScript {
    /// The commands in order.
    pub commands: Vec<CompactCommand>,
}

impl CompactScript {
    /// Split concatenated commands, using [`p3_is_le`] to tell Lc from Le.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let mut commands = Vec::new();
        let mut at = 0;
        while at < b.len() {
            let h = take(b, at, 5, "C-APDU header")?;
            let header = [h[0], h[1], h[2], h[3], h[4]];
            let n = if p3_is_le(h[0], h[1], h[2]) {
                0
            } else {
                usize::from(h[4])
            };
            let data = take(b, at + 5, n, "C-APDU data").map_err(|_| OtaError::Malformed {
                field: "C-APDU",
                offset: at,
                reason: format!(
                    "P3 {:#04x} announces {n} data byte(s) but {} remain",
                    h[4],
                    b.len().saturating_sub(at + 5)
                ),
            })?;
            commands.push(CompactCommand {
                header,
                data: data.to_vec(),
            });
            at += 5 + n;
        }
        Ok(CompactScript { commands })
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.commands.iter().for_each(|c| c.emit_into(&mut out));
        out
    }
}

/// A compact-format response (TS 102 226 §5.1.2): number of executed commands, the SW of
/// the last one, then its response data (SW comes before the data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactResponse {
    /// Number of commands executed.
    pub count: u8,
    /// Status word of the last executed command.
    pub sw: StatusWord,
    /// Response data of the last executed command.
    pub data: Vec<u8>,
}

impl CompactResponse {
    /// Decode.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let count = byte(b, 0, "number of commands")?;
        let sw = take(b, 1, 2, "SW1 SW2")?;
        Ok(CompactResponse {
            count,
            sw: StatusWord(u16::from_be_bytes([sw[0], sw[1]])),
            data: b.get(3..).unwrap_or(&[]).to_vec(),
        })
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(3 + self.data.len());
        v.push(self.count);
        v.extend_from_slice(&self.sw.0.to_be_bytes());
        v.extend_from_slice(&self.data);
        v
    }
}

/// One TLV of a Command Scripting template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScriptCommand {
    /// `22`: a C-APDU.
    CApdu(CommandApdu),
    /// `81`: immediate action.
    ImmediateAction(Vec<u8>),
    /// `82`: error action.
    ErrorAction(Vec<u8>),
    /// `83`: script chaining (\[UNSURE\] values 01/11 first, 02 subsequent, 03 last).
    ScriptChaining(Vec<u8>),
    /// Any other tag, kept (tag byte(s), value).
    Other(u32, Vec<u8>),
}

/// One TLV of a Response Scripting template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScriptResponse {
    /// `80`: number of executed command TLVs.
    Count(u8),
    /// `23`: an R-APDU (data ‖ SW1 SW2).
    RApdu(ResponseApdu),
    /// `81`: immediate action response.
    ImmediateAction(Vec<u8>),
    /// `83`: script chaining response.
    ScriptChaining(Vec<u8>),
    /// `90`: bad format (01 unknown tag, 02 wrong length, 03 length not found).
    BadFormat(u8),
    /// Any other tag, kept.
    Other(u32, Vec<u8>),
}

/// An expanded-format command script (`AA` or `AE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpandedScript {
    /// `AE 80 … 00 00` instead of `AA L …`.
    pub indefinite: bool,
    /// The TLVs in order.
    pub items: Vec<ScriptCommand>,
}

/// An expanded-format response (`AB` or `AF`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpandedResponse {
    /// `AF 80 … 00 00` instead of `AB L …`.
    pub indefinite: bool,
    /// The TLVs in order (normally `80` first).
    pub items: Vec<ScriptResponse>,
}

/// A remote command script in either format (TS 102 226 §5; the format is recognised by the
/// first byte: `AA`/`AE` expanded, anything else compact).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RemoteScript {
    /// Compact format.
    Compact(CompactScript),
    /// Expanded format.
    Expanded(ExpandedScript),
}

impl RemoteScript {
    /// Decode secured data as a script.
    pub fn parse(b: &[u8]) -> Result<Self> {
        match b.first() {
            Some(&TAG_COMMAND_SCRIPT) | Some(&TAG_COMMAND_SCRIPT_INDEFINITE) => {
                ExpandedScript::parse(b).map(RemoteScript::Expanded)
            }
            _ => CompactScript::parse(b).map(RemoteScript::Compact),
        }
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        match self {
            RemoteScript::Compact(s) => s.emit(),
            RemoteScript::Expanded(s) => s.emit(),
        }
    }
}

/// A remote response in either format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RemoteResponse {
    /// Compact format.
    Compact(CompactResponse),
    /// Expanded format.
    Expanded(ExpandedResponse),
}

impl RemoteResponse {
    /// Decode PoR additional data (`AB`/`AF` expanded, otherwise compact).
    pub fn parse(b: &[u8]) -> Result<Self> {
        match b.first() {
            Some(&TAG_RESPONSE_SCRIPT) | Some(&TAG_RESPONSE_SCRIPT_INDEFINITE) => {
                ExpandedResponse::parse(b).map(RemoteResponse::Expanded)
            }
            _ => CompactResponse::parse(b).map(RemoteResponse::Compact),
        }
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        match self {
            RemoteResponse::Compact(r) => r.emit(),
            RemoteResponse::Expanded(r) => r.emit(),
        }
    }
}

/// Read a BER length at `at`: (length, bytes used). Indefinite is not allowed inside.
fn read_len(b: &[u8], at: usize) -> Result<(usize, usize)> {
    let first = byte(b, at, "length")?;
    match first {
        0x00..=0x7F => Ok((usize::from(first), 1)),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7F);
            let lb = take(b, at + 1, n, "length")?;
            Ok((
                lb.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)),
                1 + n,
            ))
        }
        _ => Err(OtaError::Malformed {
            field: "length",
            offset: at,
            reason: format!("invalid length byte {first:#04x}"),
        }),
    }
}

/// Read a tag at `at` (1 byte, or multi-byte when the low 5 bits are all ones).
fn read_tag(b: &[u8], at: usize) -> Result<(u32, usize)> {
    let (t, n) = apdu::tlv::ber::read_tag(b, at, 0).map_err(|e| OtaError::Malformed {
        field: "tag",
        offset: at,
        reason: e.to_string(),
    })?;
    Ok((t.0, n))
}

fn write_tlv(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    out.extend_from_slice(&apdu::tlv::BerTag(tag).bytes());
    out.extend_from_slice(&apdu::tlv::encode_len(value.len()));
    out.extend_from_slice(value);
}

/// A TLV inside a template: tag, offset, value.
type RawTlv = (u32, usize, Vec<u8>);

/// Iterate the TLVs inside a template starting at `at`; for the indefinite form stop at
/// `00 00`. Returns the items and the offset after the template.
fn parse_template(
    b: &[u8],
    definite_tag: u8,
    indefinite_tag: u8,
    what: &'static str,
) -> Result<(bool, Vec<RawTlv>)> {
    let tag = byte(b, 0, what)?;
    let indefinite = if tag == definite_tag {
        false
    } else if tag == indefinite_tag {
        true
    } else {
        return Err(OtaError::Malformed {
            field: what,
            offset: 0,
            reason: format!(
                "expected tag {definite_tag:02X} or {indefinite_tag:02X}, found {tag:02X}"
            ),
        });
    };
    let (end, mut at) = if indefinite {
        if byte(b, 1, "length")? != 0x80 {
            return Err(OtaError::Malformed {
                field: what,
                offset: 1,
                reason: format!("tag {tag:02X} needs the indefinite length 80"),
            });
        }
        (b.len(), 2)
    } else {
        let (len, n) = read_len(b, 1)?;
        let end =
            (1 + n)
                .checked_add(len)
                .filter(|&e| e <= b.len())
                .ok_or(OtaError::Malformed {
                    field: what,
                    offset: 1,
                    reason: format!(
                        "length {len} runs past the end ({} bytes left)",
                        b.len().saturating_sub(1 + n)
                    ),
                })?;
        if end != b.len() {
            return Err(OtaError::Malformed {
                field: what,
                offset: end,
                reason: format!("{} trailing byte(s) after the template", b.len() - end),
            });
        }
        (end, 1 + n)
    };
    let mut items = Vec::new();
    loop {
        if indefinite && b.get(at..at + 2) == Some(&[0, 0]) {
            if at + 2 != b.len() {
                return Err(OtaError::Malformed {
                    field: what,
                    offset: at + 2,
                    reason: format!(
                        "{} trailing byte(s) after end-of-contents",
                        b.len() - at - 2
                    ),
                });
            }
            break;
        }
        if at >= end {
            if indefinite {
                return Err(OtaError::Malformed {
                    field: what,
                    offset: at,
                    reason: "indefinite template without end-of-contents 00 00".into(),
                });
            }
            break;
        }
        let (t, tn) = read_tag(b, at)?;
        if t == 0 {
            // `00` is end-of-contents (BER), never the tag of a data object: an emitter could
            // not write `00 00`-valued items back (found by the remote_apdu fuzz target).
            return Err(OtaError::Malformed {
                field: "tag",
                offset: at,
                reason: "tag 00 (end-of-contents) inside a template".into(),
            });
        }
        let (len, ln) = read_len(b, at + tn)?;
        let v = take(b, at + tn + ln, len, "TLV value").map_err(|_| OtaError::Malformed {
            field: "TLV",
            offset: at,
            reason: format!("tag {t:02X} length {len} runs past the end of the template"),
        })?;
        if at + tn + ln + len > end {
            return Err(OtaError::Malformed {
                field: "TLV",
                offset: at,
                reason: format!("tag {t:02X} length {len} runs past the end of the template"),
            });
        }
        items.push((t, at, v.to_vec()));
        at += tn + ln + len;
    }
    Ok((indefinite, items))
}

fn emit_template(tag_def: u8, tag_indef: u8, indefinite: bool, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    if indefinite {
        out.push(tag_indef);
        out.push(0x80);
        out.extend_from_slice(content);
        out.extend_from_slice(&[0, 0]);
    } else {
        write_tlv(&mut out, u32::from(tag_def), content);
    }
    out
}

impl ExpandedScript {
    /// Decode `AA L …` or `AE 80 … 00 00`.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let (indefinite, raw) = parse_template(
            b,
            TAG_COMMAND_SCRIPT,
            TAG_COMMAND_SCRIPT_INDEFINITE,
            "command script",
        )?;
        let mut items = Vec::with_capacity(raw.len());
        for (t, at, v) in raw {
            items.push(match t {
                0x22 => ScriptCommand::CApdu(CommandApdu::parse(&v).map_err(|e| {
                    OtaError::Malformed {
                        field: "C-APDU TLV 22",
                        offset: at,
                        reason: e.to_string(),
                    }
                })?),
                0x81 => ScriptCommand::ImmediateAction(v),
                0x82 => ScriptCommand::ErrorAction(v),
                0x83 => ScriptCommand::ScriptChaining(v),
                t => ScriptCommand::Other(t, v),
            });
        }
        Ok(ExpandedScript { indefinite, items })
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        let mut c = Vec::new();
        for it in &self.items {
            match it {
                ScriptCommand::CApdu(a) => {
                    let v = a.emit().unwrap_or_default();
                    write_tlv(&mut c, 0x22, &v)
                }
                ScriptCommand::ImmediateAction(v) => write_tlv(&mut c, 0x81, v),
                ScriptCommand::ErrorAction(v) => write_tlv(&mut c, 0x82, v),
                ScriptCommand::ScriptChaining(v) => write_tlv(&mut c, 0x83, v),
                ScriptCommand::Other(t, v) => write_tlv(&mut c, *t, v),
            }
        }
        emit_template(
            TAG_COMMAND_SCRIPT,
            TAG_COMMAND_SCRIPT_INDEFINITE,
            self.indefinite,
            &c,
        )
    }
    /// The C-APDUs in order.
    pub fn apdus(&self) -> impl Iterator<Item = &CommandApdu> {
        self.items.iter().filter_map(|i| match i {
            ScriptCommand::CApdu(a) => Some(a),
            _ => None,
        })
    }
}

impl ExpandedResponse {
    /// Decode `AB L …` or `AF 80 … 00 00`.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let (indefinite, raw) = parse_template(
            b,
            TAG_RESPONSE_SCRIPT,
            TAG_RESPONSE_SCRIPT_INDEFINITE,
            "response script",
        )?;
        let mut items = Vec::with_capacity(raw.len());
        for (t, at, v) in raw {
            items.push(match t {
                0x80 => match v.as_slice() {
                    [n] => ScriptResponse::Count(*n),
                    _ => {
                        return Err(OtaError::Malformed {
                            field: "number of executed commands (80)",
                            offset: at,
                            reason: format!("expected 1 byte, got {}", v.len()),
                        })
                    }
                },
                0x23 => ScriptResponse::RApdu(ResponseApdu::parse(&v).map_err(|e| {
                    OtaError::Malformed {
                        field: "R-APDU TLV 23",
                        offset: at,
                        reason: e.to_string(),
                    }
                })?),
                0x81 => ScriptResponse::ImmediateAction(v),
                0x83 => ScriptResponse::ScriptChaining(v),
                0x90 => match v.as_slice() {
                    [e] => ScriptResponse::BadFormat(*e),
                    _ => {
                        return Err(OtaError::Malformed {
                            field: "bad format (90)",
                            offset: at,
                            reason: format!("expected 1 byte, got {}", v.len()),
                        })
                    }
                },
                t => ScriptResponse::Other(t, v),
            });
        }
        Ok(ExpandedResponse { indefinite, items })
    }
    /// Encode.
    pub fn emit(&self) -> Vec<u8> {
        let mut c = Vec::new();
        for it in &self.items {
            match it {
                ScriptResponse::Count(n) => write_tlv(&mut c, 0x80, &[*n]),
                ScriptResponse::RApdu(r) => write_tlv(&mut c, 0x23, &r.emit()),
                ScriptResponse::ImmediateAction(v) => write_tlv(&mut c, 0x81, v),
                ScriptResponse::ScriptChaining(v) => write_tlv(&mut c, 0x83, v),
                ScriptResponse::BadFormat(e) => write_tlv(&mut c, 0x90, &[*e]),
                ScriptResponse::Other(t, v) => write_tlv(&mut c, *t, v),
            }
        }
        emit_template(
            TAG_RESPONSE_SCRIPT,
            TAG_RESPONSE_SCRIPT_INDEFINITE,
            self.indefinite,
            &c,
        )
    }
    /// The `80` count, if present.
    pub fn count(&self) -> Option<u8> {
        self.items.iter().find_map(|i| match i {
            ScriptResponse::Count(n) => Some(*n),
            _ => None,
        })
    }
    /// The R-APDUs in order.
    pub fn rapdus(&self) -> impl Iterator<Item = &ResponseApdu> {
        self.items.iter().filter_map(|i| match i {
            ScriptResponse::RApdu(r) => Some(r),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apdu::hex::decode as h;

    #[test]
    fn compact_script_splits_by_instruction() {
        let s = CompactScript::parse(&h("a0a40000027f20a0c0000016").unwrap()).unwrap();
        assert_eq!(s.commands.len(), 2);
        assert_eq!(s.commands[0].data, [0x7f, 0x20]);
        assert!(s.commands[1].data.is_empty());
        assert_eq!(s.commands[1].to_apdu().le, Some(0x16));
        assert_eq!(s.emit(), h("a0a40000027f20a0c0000016").unwrap());
        let gp = CompactScript::parse(&h("80F28000024F0000C0000000").unwrap()).unwrap();
        assert_eq!(gp.commands.len(), 2);
        let e = CompactScript::parse(&h("00a4000402 3f").unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "C-APDU at offset 0: P3 0x02 announces 2 data byte(s) but 1 remain"
        );
    }

    #[test]
    fn compact_response_sw_before_data() {
        let r = CompactResponse::parse(&h("0290000000ffff7f20").unwrap()).unwrap();
        assert_eq!((r.count, r.sw), (2, StatusWord(0x9000)));
        assert_eq!(r.data, h("0000ffff7f20").unwrap());
        assert_eq!(r.emit(), h("0290000000ffff7f20").unwrap());
        assert!(CompactResponse::parse(&[1, 0x90]).is_err());
    }

    #[test]
    fn expanded_definite_and_indefinite() {
        let def = h("AA07220580E2900000").unwrap();
        let s = ExpandedScript::parse(&def).unwrap();
        assert!(!s.indefinite);
        assert_eq!(s.apdus().count(), 1);
        assert_eq!(s.emit(), def);
        let ind = h("AE80220580E29000000000").unwrap();
        let s2 = ExpandedScript::parse(&ind).unwrap();
        assert!(s2.indefinite);
        assert_eq!(s2.items, s.items);
        assert_eq!(s2.emit(), ind);
        assert!(matches!(
            RemoteScript::parse(&ind).unwrap(),
            RemoteScript::Expanded(_)
        ));
        assert!(ExpandedScript::parse(&h("AE80220580E2900000").unwrap()).is_err());
        assert!(ExpandedScript::parse(&h("AA08220580E2900000").unwrap()).is_err());
    }

    #[test]
    fn tag_00_inside_a_template_is_rejected() {
        // Regression (remote_apdu fuzz target): `00 81 00` parsed as a tag-00 item that
        // re-emits as `00 00`, the end-of-contents of an indefinite template.
        let crash = h("AE80220580F2000000008100 0000").unwrap();
        assert!(ExpandedScript::parse(&crash).is_err());
        assert!(ExpandedScript::parse(&h("AA050001FF2200").unwrap()).is_err());
        assert!(ExpandedResponse::parse(&h("AF8000810000 00").unwrap()).is_err());
        // Every script that parses re-emits into one that parses to the same value.
        let ok = h("AE8022058022000000810100 0000").unwrap();
        let s = ExpandedScript::parse(&ok).unwrap();
        assert_eq!(ExpandedScript::parse(&s.emit()).unwrap(), s);
    }

    #[test]
    fn expanded_response() {
        let r = ExpandedResponse {
            indefinite: false,
            items: vec![
                ScriptResponse::Count(2),
                ScriptResponse::RApdu(ResponseApdu::new(vec![1, 2], 0x9000u16)),
                ScriptResponse::RApdu(ResponseApdu::status(0x6A82u16)),
                ScriptResponse::BadFormat(1),
            ],
        };
        let b = r.emit();
        assert_eq!(
            apdu::hex::encode(&b),
            "AB10800102230401029000230".to_string() + "26A82900101"
        );
        assert_eq!(ExpandedResponse::parse(&b).unwrap(), r);
        assert_eq!(r.count(), Some(2));
    }
}
