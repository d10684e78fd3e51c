//! Java Card SDK `apdutool` scripts (`.scr`, interop notes §5.1): statements end with `;`,
//! `//` and `/* */` comments, directives `powerup`, `powerdown`, `output on|off`, `contacted`,
//! `contactless`, `echo "…"`, `delay N`, and C-APDUs `CLA INS P1 P2 Lc [data…] Le` with every
//! byte as `0xNN` or decimal. Lc is always present; the last byte is always Le.
//!
//! Case mapping [UNSURE, documented]: `Lc = 0, Le = 0` is sent as a case-1 header; `Lc = 0,
//! Le ≠ 0` as case 2; `Lc > 0, Le = 0` as case 3; otherwise case 4 with the given Le.

use crate::ast::{HexTemplate, Stmt, StmtKind};
use crate::error::{Loc, ParseError, ScriptError};
use std::sync::Arc;

/// A statement's text with the byte offset where it starts in the file.
struct RawStmt {
    start: usize,
    text: String,
}

/// Split the file into `;`-terminated statements, dropping comments (replaced by spaces so
/// offsets stay valid).
fn statements(path: &str, src: &str) -> Result<Vec<RawStmt>, ParseError> {
    let b = src.as_bytes();
    let mut clean = String::with_capacity(src.len());
    let mut i = 0;
    let mut quoted = false;
    while i < b.len() {
        let c = b[i];
        if !quoted && c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                clean.push(' ');
                i += 1;
            }
            continue;
        }
        if !quoted && c == b'/' && b.get(i + 1) == Some(&b'*') {
            let start = i;
            i += 2;
            loop {
                if i >= b.len() {
                    let (line, text, off) = line_of(src, start);
                    return Err(ParseError::at(
                        path,
                        line,
                        text,
                        off,
                        "unterminated `/*` comment",
                    ));
                }
                if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    clean.push_str("    ");
                    i += 2;
                    break;
                }
                clean.push(if b[i] == b'\n' { '\n' } else { ' ' });
                i += 1;
            }
            continue;
        }
        if c == b'"' {
            quoted = !quoted;
        }
        // Push the whole UTF-8 character.
        let ch = src.get(i..).and_then(|s| s.chars().next()).unwrap_or(' ');
        clean.push(ch);
        i += ch.len_utf8();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (j, c) in clean.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                let text = clean.get(start..j).unwrap_or_default();
                let lead = text.len() - text.trim_start().len();
                if !text.trim().is_empty() {
                    out.push(RawStmt {
                        start: start + lead,
                        text: text.trim().to_string(),
                    });
                }
                start = j + 1;
            }
            _ => {}
        }
    }
    let rest = clean.get(start..).unwrap_or_default();
    if !rest.trim().is_empty() {
        let lead = rest.len() - rest.trim_start().len();
        let at = start + lead + rest.trim().len();
        let (line, text, off) = line_of(src, at);
        return Err(ParseError::at(
            path,
            line,
            text,
            off,
            "expected `;` at the end of the statement",
        ));
    }
    Ok(out)
}

/// Line number, line text and offset within the line of byte offset `at`.
fn line_of(src: &str, at: usize) -> (usize, &str, usize) {
    let at = at.min(src.len());
    let before = src.get(..at).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let line_end = src
        .get(at..)
        .and_then(|s| s.find('\n'))
        .map_or(src.len(), |p| at + p);
    let line = before.matches('\n').count() + 1;
    (
        line,
        src.get(line_start..line_end)
            .unwrap_or_default()
            .trim_end_matches('\r'),
        at - line_start,
    )
}

fn number(tok: &str) -> Option<u8> {
    if let Some(h) = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        u8::from_str_radix(h, 16).ok()
    } else {
        tok.parse::<u8>().ok()
    }
}

/// Parse apdutool script text.
pub fn parse(path: &str, src: &str) -> Result<Vec<Stmt>, ScriptError> {
    let file: Arc<str> = Arc::from(path);
    let mut out = Vec::new();
    for raw in statements(path, src)? {
        let (line, _, _) = line_of(src, raw.start);
        let err = |off_in_stmt: usize, msg: String| -> ScriptError {
            let (l, text, off) = line_of(src, raw.start + off_in_stmt);
            ParseError::at(path, l, text, off, msg).into()
        };
        let t = raw.text.as_str();
        let words: Vec<(usize, &str)> = t
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(|w| ((w.as_ptr() as usize).saturating_sub(t.as_ptr() as usize), w))
            .collect();
        let first = words
            .first()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        let kind = match first.as_str() {
            "powerup" => StmtKind::PowerUp,
            "powerdown" => StmtKind::PowerDown,
            "contacted" | "contactless" => StmtKind::Interface(first.clone()),
            "output" => match words.get(1).map(|(_, w)| w.to_ascii_lowercase()).as_deref() {
                Some("on") => StmtKind::Output(true),
                Some("off") => StmtKind::Output(false),
                _ => {
                    return Err(err(
                        first.len(),
                        "expected `output on;` or `output off;`".into(),
                    ))
                }
            },
            "echo" => {
                let rest = t.get(4..).unwrap_or_default().trim();
                match rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                    Some(s) => StmtKind::Echo(s.to_string()),
                    None => return Err(err(4, "expected `echo \"text\";`".into())),
                }
            }
            "delay" => match words.get(1).and_then(|(_, w)| w.parse::<u64>().ok()) {
                Some(ms) if words.len() == 2 => StmtKind::Delay(ms),
                _ => return Err(err(5, "expected `delay MILLISECONDS;`".into())),
            },
            _ => {
                let mut bytes = Vec::with_capacity(words.len());
                for (off, w) in &words {
                    match number(w) {
                        Some(b) => bytes.push(b),
                        None => {
                            return Err(err(
                                *off,
                                format!("expected a byte (`0xNN` or 0..255) or a directive (powerup, powerdown, output, echo, delay), found `{w}`"),
                            ))
                        }
                    }
                }
                if bytes.len() < 6 {
                    return Err(err(
                        0,
                        format!(
                            "expected `CLA INS P1 P2 Lc [data] Le;` (at least 6 bytes), found {}",
                            bytes.len()
                        ),
                    ));
                }
                let lc = bytes[4] as usize;
                let data_len = bytes.len() - 6;
                if lc != data_len {
                    let off = words.get(4).map_or(0, |(o, _)| *o);
                    return Err(err(
                        off,
                        format!("Lc is {lc} but {data_len} data byte(s) stand between Lc and Le (the last byte is Le)"),
                    ));
                }
                let le = bytes[bytes.len() - 1];
                let mut apdu = bytes[..4].to_vec();
                if lc > 0 {
                    apdu.extend_from_slice(&bytes[4..5 + lc]);
                }
                if le != 0 {
                    apdu.push(le);
                }
                StmtKind::Apdu {
                    command: HexTemplate::literal(apdu),
                    expect: None,
                }
            }
        };
        out.push(Stmt {
            loc: Loc {
                file: file.clone(),
                line,
            },
            source: Arc::from(t),
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &Stmt) -> Vec<u8> {
        match &s.kind {
            StmtKind::Apdu { command, .. } => command.as_literal().unwrap().to_vec(),
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn typical_script() {
        let src = "// install\npowerup;\n0x00 0xA4 0x04 0x00 0x09 0xA0 0x00 0x00 0x00 0x62 0x03 0x01 0x08 0x01 0x7F;\noutput off;\n0x80 0xCA 0x00 0x00 0x00 0x00; /* case 1 */\n0x00 0xB0 0 0 0 16;\n0x00 0xD6 0x00 0x00 0x01 0xFF 0x00;\necho \"done; ok\";\ndelay 10;\npowerdown;\n";
        let s = parse("t.scr", src).unwrap();
        assert_eq!(s.len(), 9);
        assert_eq!(s[0].kind, StmtKind::PowerUp);
        assert_eq!(
            cmd(&s[1]),
            [0, 0xA4, 4, 0, 9, 0xA0, 0, 0, 0, 0x62, 3, 1, 8, 1, 0x7F]
        );
        assert_eq!(s[1].loc.line, 3);
        assert_eq!(s[2].kind, StmtKind::Output(false));
        assert_eq!(cmd(&s[3]), [0x80, 0xCA, 0, 0]);
        assert_eq!(cmd(&s[4]), [0, 0xB0, 0, 0, 16]);
        assert_eq!(cmd(&s[5]), [0, 0xD6, 0, 0, 1, 0xFF]);
        assert_eq!(s[6].kind, StmtKind::Echo("done; ok".into()));
        assert_eq!(s[7].kind, StmtKind::Delay(10));
        assert_eq!(s[8].kind, StmtKind::PowerDown);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[ -~\n]{0,80}") {
            let _ = parse("p.scr", &text);
        }

        #[test]
        fn never_panics_on_unicode(text in "(\\PC|;|//|/\\*|\"|0x| |\n){0,40}") {
            let _ = parse("p.scr", &text);
        }
    }

    #[test]
    fn errors() {
        let e = parse("t.scr", "powerup;\n0x00 0xA4 0x00 0x00 0x02 0x3F 0x7F;\n").unwrap_err();
        let ScriptError::Parse(e) = e else { panic!() };
        assert_eq!((e.line, e.column), (2, 21));
        assert!(e.message.contains("Lc is 2"));
        let ScriptError::Parse(e) = parse("t.scr", "powerup;\n0x00 0xZZ;").unwrap_err() else {
            panic!()
        };
        assert_eq!((e.line, e.column), (2, 6));
        let ScriptError::Parse(e) = parse("t.scr", "powerup").unwrap_err() else {
            panic!()
        };
        assert!(e.message.contains("`;`"));
        let ScriptError::Parse(e) = parse("t.scr", "/* open").unwrap_err() else {
            panic!()
        };
        assert!(e.message.contains("unterminated"));
    }
}
