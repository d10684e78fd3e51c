//! The native `.apdu` line format (a superset of pcsc-tools `scriptor` input, interop notes §5.2):
//! a line of hex is a C-APDU, optionally followed by ` => PATTERN`; `reset`; `#` and `//`
//! comments; a trailing `\` continues a line; `include FILE`; `set NAME HEX`; `echo`; `delay`;
//! `exit`; and the terminal directives `terminal-profile`, `user`, `fetch-all`, `sms-pp`, `menu`.

use crate::ast::{
    Expect, HexTemplate, Piece, PorExpect, SmsPpDirective, Stmt, StmtKind, ToolkitDirective,
    UserAnswer,
};
use crate::error::{Loc, ParseError, ScriptError};
use crate::pattern::{ident_len, parse_var, Pattern, PatternSyntax};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use transport::ResetKind;

/// Reads included files (so parsing can be tested without a file system).
pub trait Loader {
    /// Read the file at `path`.
    fn read(&mut self, path: &Path) -> std::io::Result<String>;
}

/// Reads from the file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&mut self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// Deepest include nesting accepted.
const MAX_INCLUDE_DEPTH: usize = 16;

/// One logical line: text, starting line number.
struct Logical {
    line: usize,
    text: String,
}

/// Join `\`-continued lines and strip comments.
fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut cur: Option<Logical> = None;
    for (i, raw) in text.lines().enumerate() {
        let stripped = strip_comment(raw).trim_end();
        let (body, cont) = match stripped.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (stripped, false),
        };
        let entry = cur.get_or_insert_with(|| Logical {
            line: i + 1,
            text: String::new(),
        });
        if !entry.text.is_empty() && !body.trim().is_empty() {
            entry.text.push(' ');
        }
        entry.text.push_str(if entry.text.is_empty() {
            body
        } else {
            body.trim_start()
        });
        if !cont {
            if let Some(l) = cur.take() {
                out.push(l);
            }
        }
    }
    if let Some(l) = cur.take() {
        out.push(l);
    }
    out
}

/// Cut a `#` or `//` comment (outside double quotes).
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    let mut quoted = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b'#' if !quoted => return line.get(..i).unwrap_or(line),
            b'/' if !quoted && b.get(i + 1) == Some(&b'/') => return line.get(..i).unwrap_or(line),
            _ => {}
        }
    }
    line
}

struct Ctx<'a> {
    file: Arc<str>,
    line: usize,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(&self.file, self.line, self.text, offset, msg)
    }
    fn perr(&self, base: usize, e: PatternSyntax) -> ParseError {
        self.err(base + e.offset, e.message)
    }
}

/// Parse hex with `$var` references; `base` is the offset of `s` within the line.
fn parse_hex(ctx: &Ctx<'_>, s: &str, base: usize) -> Result<HexTemplate, ParseError> {
    let b = s.as_bytes();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut bytes = Vec::new();
    let mut pending: Option<(u8, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || c == b':' || c == b',' {
            if let Some((_, at)) = pending {
                return Err(ctx.err(base + at, "odd number of hex digits (a byte needs two)"));
            }
            i += 1;
            continue;
        }
        if c == b'$' {
            if let Some((_, at)) = pending {
                return Err(ctx.err(base + at, "odd number of hex digits (a byte needs two)"));
            }
            let (name, end) = parse_var(s, i).map_err(|e| ctx.perr(base, e))?;
            if !bytes.is_empty() {
                pieces.push(Piece::Bytes(std::mem::take(&mut bytes)));
            }
            pieces.push(Piece::Var(name));
            i = end;
            continue;
        }
        if c == b'0'
            && pending.is_none()
            && matches!(b.get(i + 1), Some(b'x' | b'X'))
            && b.get(i + 2).is_some_and(|d| d.is_ascii_hexdigit())
        {
            i += 2;
            continue;
        }
        let Some(n) = (c as char).to_digit(16) else {
            let found = s.get(i..).and_then(|t| t.chars().next()).unwrap_or('?');
            return Err(ctx.err(
                base + i,
                format!("expected a hex digit or `$variable`, found `{found}`"),
            ));
        };
        match pending.take() {
            None => pending = Some((n as u8, i)),
            Some((hi, _)) => bytes.push(hi << 4 | n as u8),
        }
        i += 1;
    }
    if let Some((_, at)) = pending {
        return Err(ctx.err(base + at, "odd number of hex digits (a byte needs two)"));
    }
    if !bytes.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Bytes(bytes));
    }
    Ok(HexTemplate { pieces })
}

/// Parse `[$name=]PATTERN` starting at `base`.
fn parse_expect(ctx: &Ctx<'_>, s: &str, base: usize, needs_sw: bool) -> Result<Expect, ParseError> {
    let lead = s.len() - s.trim_start().len();
    let t = s.trim_start();
    let mut capture = None;
    let mut rest = t;
    let mut off = base + lead;
    if t.starts_with('$') {
        let n = ident_len(t.as_bytes().get(1..).unwrap_or_default());
        if n > 0 && t.as_bytes().get(1 + n) == Some(&b'=') {
            capture = Some(t.get(1..1 + n).unwrap_or_default().to_string());
            rest = t.get(2 + n..).unwrap_or_default();
            off += 2 + n;
        }
    }
    let pattern = Pattern::parse(rest, needs_sw).map_err(|e| ctx.perr(off, e))?;
    Ok(Expect { capture, pattern })
}

/// Split off ` => …` (offset of the text after `=>`).
fn split_expect(s: &str) -> (&str, Option<(&str, usize)>) {
    match s.find("=>") {
        Some(i) => (
            s.get(..i).unwrap_or(s),
            Some((s.get(i + 2..).unwrap_or_default(), i + 2)),
        ),
        None => (s, None),
    }
}

/// First word of `s` (lower-cased) and the offset of the remainder.
fn first_word(s: &str) -> (String, usize) {
    let end = s.find(|c: char| c.is_whitespace()).unwrap_or(s.len());
    (s.get(..end).unwrap_or_default().to_ascii_lowercase(), end)
}

fn parse_u8(ctx: &Ctx<'_>, word: &str, off: usize, what: &str) -> Result<u8, ParseError> {
    let w = word.trim();
    let v = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        u8::from_str_radix(h, 16)
    } else {
        w.parse::<u8>()
    };
    v.map_err(|_| {
        ctx.err(
            off,
            format!("expected {what} (a number 0..255), found `{w}`"),
        )
    })
}

fn offset_of(line: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(line.as_ptr() as usize)
        .min(line.len())
}

/// A PoR status: a short name (`ok`, `tar-unknown`, …) or the byte in hex
/// (`ota::ResponseStatus::parse_name`, TS 102 225 §5.1.2).
fn por_status(word: &str) -> Option<u8> {
    ota::ResponseStatus::parse_name(word).map(ota::ResponseStatus::to_byte)
}

fn parse_sms_pp(ctx: &Ctx<'_>, line: &str, args: &str) -> Result<ToolkitDirective, ParseError> {
    let (head, expect) = split_expect(args);
    let words: Vec<&str> = head.split_whitespace().collect();
    let at = |w: &str| offset_of(line, w);
    let end = offset_of(line, head) + head.trim_end().len();
    let keyset = words.first().ok_or_else(|| {
        ctx.err(
            end,
            "expected `sms-pp KEYSET TAR DATA [spi=HEX] [key=value…]`",
        )
    })?;
    let tar_w = words
        .get(1)
        .ok_or_else(|| ctx.err(end, "expected the TAR (3 bytes of hex) after the keyset"))?;
    let tar = parse_hex(ctx, tar_w, at(tar_w))?;
    if tar.as_literal().is_some_and(|t| t.len() != 3) {
        return Err(ctx.err(
            at(tar_w),
            "expected the TAR as 3 bytes of hex (e.g. B00010)",
        ));
    }
    let mut data_words = Vec::new();
    let mut spi = None;
    let mut options = Vec::new();
    for w in words.iter().skip(2) {
        if let Some((k, v)) = w.split_once('=') {
            if k.eq_ignore_ascii_case("spi") {
                let b = apdu::hex::decode(v)
                    .ok()
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .ok_or_else(|| {
                        ctx.err(
                            at(w) + 4,
                            "expected spi= followed by 2 bytes of hex (e.g. spi=1621)",
                        )
                    })?;
                spi = Some(b);
            } else {
                options.push((k.to_ascii_lowercase(), v.to_string()));
            }
        } else if options.is_empty() && spi.is_none() {
            data_words.push(*w);
        } else {
            return Err(ctx.err(at(w), "expected `key=value` options after the data"));
        }
    }
    let (Some(first), Some(last)) = (data_words.first(), data_words.last()) else {
        return Err(ctx.err(end, "expected the secured data (hex) after the TAR"));
    };
    let (ds, de) = (at(first), at(last) + last.len());
    let data = parse_hex(ctx, line.get(ds..de).unwrap_or_default(), ds)?;
    let expect = match expect {
        None => None,
        Some((e, _)) => {
            let eoff = offset_of(line, e);
            let t = e.trim_start();
            let toff = offset_of(line, t);
            let (kw, rest_off) = first_word(t);
            if kw != "por" {
                return Err(ctx.err(toff, "expected `por STATUS [pattern]` after `=>` of sms-pp"));
            }
            let rest = t.get(rest_off..).unwrap_or_default();
            let st = rest.split_whitespace().next().ok_or_else(|| {
                ctx.err(
                    eoff + e.len(),
                    "expected the PoR status (e.g. `00` or `ok`) after `por`",
                )
            })?;
            let status = por_status(st).ok_or_else(|| {
                ctx.err(
                    at(st),
                    format!(
                        "expected a PoR status byte (hex) or one of {}, found `{st}`",
                        ota::ResponseStatus::known_names().join(", ")
                    ),
                )
            })?;
            let after = line
                .get(at(st) + st.len()..offset_of(line, e) + e.len())
                .unwrap_or_default();
            let data = if after.trim().is_empty() {
                None
            } else {
                let aoff = at(st) + st.len();
                Some(Pattern::parse(after, false).map_err(|x| ctx.perr(aoff, x))?)
            };
            Some(PorExpect { status, data })
        }
    };
    Ok(ToolkitDirective::SmsPp(SmsPpDirective {
        keyset: keyset.to_string(),
        tar,
        data,
        spi,
        options,
        expect,
    }))
}

fn parse_user(ctx: &Ctx<'_>, line: &str, args: &str) -> Result<UserAnswer, ParseError> {
    let t = args.trim();
    let (kw, rest) = first_word(t);
    let rest = t.get(rest..).unwrap_or_default().trim();
    let off = offset_of(line, t);
    Ok(match kw.as_str() {
        "ok" => UserAnswer::Ok,
        "cancel" => UserAnswer::Cancel,
        "back" => UserAnswer::Back,
        "timeout" => UserAnswer::Timeout,
        "input" => {
            let text = rest
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(rest);
            UserAnswer::Input(text.to_string())
        }
        "item" => UserAnswer::Item(parse_u8(
            ctx,
            rest,
            offset_of(line, rest),
            "an item identifier",
        )?),
        _ => {
            return Err(ctx.err(
                off,
                "expected `user ok|cancel|back|timeout|input TEXT|item N`",
            ))
        }
    })
}

fn parse_line(ctx: &Ctx<'_>) -> Result<Option<StmtKind>, ParseError> {
    let line = ctx.text;
    let t = line.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let toff = offset_of(line, t);
    let (kw, kend) = first_word(t);
    let args = t.get(kend..).unwrap_or_default();
    let aoff = toff + kend;
    let kind = match kw.as_str() {
        "reset" | "reset-warm" | "warm-reset" => {
            let (head, expect) = split_expect(args);
            let mut kind = if kw == "reset" {
                ResetKind::Cold
            } else {
                ResetKind::Warm
            };
            match head.trim().to_ascii_lowercase().as_str() {
                "" => {}
                "cold" => kind = ResetKind::Cold,
                "warm" => kind = ResetKind::Warm,
                _ => {
                    return Err(ctx.err(
                        offset_of(line, head.trim()),
                        "expected `reset [cold|warm] [=> ATR pattern]`",
                    ))
                }
            }
            let expect = match expect {
                Some((e, o)) => Some(parse_expect(ctx, e, aoff + o, false)?),
                None => None,
            };
            StmtKind::Reset { kind, expect }
        }
        "exit" => StmtKind::Exit,
        "set" => {
            let a = args.trim_start();
            let (name, nend) = first_word(a);
            let name_off = offset_of(line, a);
            let orig = a.get(..nend).unwrap_or_default();
            let orig = orig.strip_prefix('$').unwrap_or(orig);
            if name.is_empty() || ident_len(orig.as_bytes()) != orig.len() {
                return Err(ctx.err(
                    name_off,
                    "expected `set NAME HEX` with a name of letters, digits, `_`, `-`",
                ));
            }
            let v = a.get(nend..).unwrap_or_default();
            let value = parse_hex(ctx, v, name_off + nend)?;
            StmtKind::Set {
                name: orig.to_string(),
                value,
            }
        }
        "echo" => {
            let a = args.trim();
            let text = a
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(a);
            StmtKind::Echo(text.to_string())
        }
        "delay" => {
            let a = args.trim();
            let ms = a.parse::<u64>().map_err(|_| {
                ctx.err(
                    offset_of(line, a),
                    format!("expected `delay MILLISECONDS`, found `{a}`"),
                )
            })?;
            StmtKind::Delay(ms)
        }
        "terminal-profile" => StmtKind::Toolkit(ToolkitDirective::TerminalProfile(parse_hex(
            ctx, args, aoff,
        )?)),
        "user" => StmtKind::Toolkit(ToolkitDirective::User(parse_user(ctx, line, args)?)),
        "fetch-all" => {
            if !args.trim().is_empty() {
                return Err(ctx.err(
                    offset_of(line, args.trim()),
                    "expected nothing after `fetch-all`",
                ));
            }
            StmtKind::Toolkit(ToolkitDirective::FetchAll)
        }
        "menu" => {
            let a = args.trim();
            StmtKind::Toolkit(ToolkitDirective::Menu(parse_u8(
                ctx,
                a,
                offset_of(line, a),
                "a menu item identifier",
            )?))
        }
        "sms-pp" => StmtKind::Toolkit(parse_sms_pp(ctx, line, args)?),
        _ if kw.starts_with(|c: char| c.is_ascii_alphabetic())
            && kw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && kw.chars().any(|c| !c.is_ascii_hexdigit()) =>
        {
            return Err(ctx.err(
                toff,
                format!("unknown directive `{kw}`: expected a C-APDU in hex or one of reset, include, set, echo, delay, exit, terminal-profile, user, fetch-all, sms-pp, menu"),
            ));
        }
        _ => {
            let (head, expect) = split_expect(t);
            let command = parse_hex(ctx, head, toff)?;
            if let Some(b) = command.as_literal() {
                if b.len() < 4 {
                    let msg = if b.is_empty() {
                        "expected a C-APDU in hex or a directive (reset, include, set, echo, delay, exit, terminal-profile, user, fetch-all, sms-pp, menu)".to_string()
                    } else {
                        format!("expected a C-APDU of at least 4 bytes (CLA INS P1 P2), found {} byte(s)", b.len())
                    };
                    return Err(ctx.err(toff, msg));
                }
            }
            let expect = match expect {
                Some((e, o)) => Some(parse_expect(ctx, e, toff + o, true)?),
                None => None,
            };
            StmtKind::Apdu { command, expect }
        }
    };
    Ok(Some(kind))
}

/// Parse native script text. `include` reads files through `loader`, relative to `path`'s
/// directory.
pub fn parse(path: &str, text: &str, loader: &mut dyn Loader) -> Result<Vec<Stmt>, ScriptError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(path)];
    parse_into(path, text, loader, &mut stack, &mut out)?;
    Ok(out)
}

fn parse_into(
    path: &str,
    text: &str,
    loader: &mut dyn Loader,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Stmt>,
) -> Result<(), ScriptError> {
    let file: Arc<str> = Arc::from(path);
    for l in logical_lines(text) {
        let ctx = Ctx {
            file: file.clone(),
            line: l.line,
            text: &l.text,
        };
        let t = l.text.trim();
        let (kw, kend) = first_word(t);
        if kw == "include" {
            let arg = t.get(kend..).unwrap_or_default().trim();
            let name = arg
                .strip_prefix('"')
                .and_then(|a| a.strip_suffix('"'))
                .unwrap_or(arg);
            let off = offset_of(&l.text, arg);
            if name.is_empty() {
                return Err(ctx.err(off, "expected `include FILE`").into());
            }
            let base = Path::new(path).parent().unwrap_or(Path::new(""));
            let target = base.join(name);
            if stack.len() > MAX_INCLUDE_DEPTH || stack.contains(&target) {
                return Err(ctx
                    .err(
                        off,
                        format!(
                            "include cycle or nesting deeper than {MAX_INCLUDE_DEPTH}: {}",
                            target.display()
                        ),
                    )
                    .into());
            }
            let body = loader.read(&target).map_err(|e| {
                ctx.err(
                    off,
                    format!("cannot read included file {}: {e}", target.display()),
                )
            })?;
            stack.push(target.clone());
            parse_into(&target.to_string_lossy(), &body, loader, stack, out)?;
            stack.pop();
            continue;
        }
        if let Some(kind) = parse_line(&ctx)? {
            out.push(Stmt {
                loc: Loc {
                    file: file.clone(),
                    line: l.line,
                },
                source: Arc::from(t),
                kind,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<PathBuf, String>);
    impl Loader for Mem {
        fn read(&mut self, p: &Path) -> std::io::Result<String> {
            self.0
                .get(p)
                .cloned()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
        }
    }

    fn parse_ok(text: &str) -> Vec<Stmt> {
        parse("t.apdu", text, &mut Mem(HashMap::new())).unwrap()
    }

    fn parse_err(text: &str) -> ParseError {
        match parse("t.apdu", text, &mut Mem(HashMap::new())).unwrap_err() {
            ScriptError::Parse(e) => e,
            e => panic!("not a parse error: {e}"),
        }
    }

    #[test]
    fn scriptor_lines() {
        let s = parse_ok("# comment\nreset\n00A40004023F00\n00 B0 00 00 \\\n  01\n\nexit\n");
        assert_eq!(s.len(), 4);
        assert!(matches!(
            s[0].kind,
            StmtKind::Reset {
                kind: ResetKind::Cold,
                expect: None
            }
        ));
        match &s[1].kind {
            StmtKind::Apdu {
                command,
                expect: None,
            } => {
                assert_eq!(command.as_literal().unwrap(), [0, 0xA4, 0, 4, 2, 0x3F, 0])
            }
            k => panic!("{k:?}"),
        }
        match &s[2].kind {
            StmtKind::Apdu { command, .. } => {
                assert_eq!(command.as_literal().unwrap(), [0, 0xB0, 0, 0, 1])
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(s[2].loc.line, 4);
        assert_eq!(s[3].kind, StmtKind::Exit);
    }

    #[test]
    fn expectations_and_vars() {
        let s = parse_ok("00A40004023F00 => $r=61??  // select MF\n00 C0 00 00 $r => 62* 9000\nset k 0102\nreset => 3B*");
        match &s[0].kind {
            StmtKind::Apdu {
                expect: Some(e), ..
            } => {
                assert_eq!(e.capture.as_deref(), Some("r"));
                assert_eq!(e.pattern.text, "61??");
            }
            k => panic!("{k:?}"),
        }
        match &s[1].kind {
            StmtKind::Apdu { command, .. } => assert_eq!(command.pieces.len(), 2),
            k => panic!("{k:?}"),
        }
        assert!(matches!(&s[2].kind, StmtKind::Set { name, .. } if name == "k"));
        assert!(matches!(
            &s[3].kind,
            StmtKind::Reset {
                expect: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn errors_point_at_column() {
        let e = parse_err("\n00 A4 0G 04");
        assert_eq!((e.line, e.column), (2, 8));
        assert!(e.message.contains("hex digit"));
        let e = parse_err("00A40004023F00 => 90 0");
        assert_eq!(e.column, 22);
        let e = parse_err("00A40000 => *");
        assert!(e.message.contains("status word"), "{e}");
        let e = parse_err("00 A4");
        assert!(e.message.contains("4 bytes"));
        let e = parse_err("00 A4 00 0X 02");
        assert_eq!(e.column, 11, "a bare 0x is not a prefix: {e}");
        let s = parse_ok("0x00 0xA4 0x00 0x00");
        assert!(
            matches!(&s[0].kind, StmtKind::Apdu { command, .. } if command.as_literal() == Some(&[0, 0xA4, 0, 0][..]))
        );
        let e = parse_err("frobnicate");
        assert_eq!(e.column, 1);
        let e = parse_err("user dance");
        assert_eq!(e.column, 6);
    }

    #[test]
    fn toolkit_directives() {
        let s = parse_ok(
            "terminal-profile FFFF\nuser input \"1234\"\nuser item 2\nfetch-all\nmenu 3\nsms-pp ks1 B00010 00A40000023F00 spi=1621 kic=12 => por 00 * 9000",
        );
        assert_eq!(s.len(), 6);
        assert!(
            matches!(&s[1].kind, StmtKind::Toolkit(ToolkitDirective::User(UserAnswer::Input(t))) if t == "1234")
        );
        assert!(matches!(
            &s[2].kind,
            StmtKind::Toolkit(ToolkitDirective::User(UserAnswer::Item(2)))
        ));
        match &s[5].kind {
            StmtKind::Toolkit(ToolkitDirective::SmsPp(d)) => {
                assert_eq!(d.keyset, "ks1");
                assert_eq!(d.spi, Some([0x16, 0x21]));
                assert_eq!(d.options, vec![("kic".to_string(), "12".to_string())]);
                let e = d.expect.as_ref().unwrap();
                assert_eq!(e.status, 0);
                assert!(e.data.as_ref().unwrap().matches(&[1, 0x90, 0]));
            }
            k => panic!("{k:?}"),
        }
        let e = parse_err("sms-pp ks1 B000 00");
        assert!(e.message.contains("TAR"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[ -~\t\n]{0,80}") {
            let _ = parse("p.apdu", &text, &mut Mem(HashMap::new()));
        }

        #[test]
        fn never_panics_on_unicode(text in "(\\PC|=>|\\$|0x| |\n){0,40}") {
            let _ = parse("p.apdu", &text, &mut Mem(HashMap::new()));
        }

        #[test]
        fn hex_lines_round_trip(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 4..40)) {
            let s = parse_ok(&apdu::hex::encode_spaced(&bytes));
            let ok = matches!(&s[0].kind, StmtKind::Apdu { command, expect: None } if command.as_literal() == Some(&bytes[..]));
            proptest::prop_assert!(ok);
        }
    }

    #[test]
    fn includes() {
        let mut m = HashMap::new();
        m.insert(
            PathBuf::from("dir/common.apdu"),
            "00A40004023F00\n".to_string(),
        );
        m.insert(
            PathBuf::from("dir/loop.apdu"),
            "include loop.apdu\n".to_string(),
        );
        let s = parse(
            "dir/main.apdu",
            "include common.apdu\n00B0000001",
            &mut Mem(m.clone()),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(&*s[0].loc.file, "dir/common.apdu");
        let e = parse("dir/main.apdu", "include loop.apdu", &mut Mem(m.clone())).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
        let e = parse("dir/main.apdu", "include nope.apdu", &mut Mem(m)).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
