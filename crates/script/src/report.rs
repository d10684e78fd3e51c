//! Reports of script runs: the text transcript (`> …` / `< … : meaning`), the pcsc-tools
//! `scriptor` and Java Card `apdutool` output formats (interop notes §5), JSON Lines and
//! JUnit XML.

use crate::runner::{Check, Outcome, ScriptRun, Step};
use apdu::hex::encode;
use apdu::StatusWord;
use std::fmt::Write as _;
use std::io::{self, Write};
use transport::{Exchange, ExchangeKind, ResetKind};

/// Which transcript to print on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    /// simota's text transcript with SW meanings and expectation results.
    Text,
    /// What pcsc-tools `scriptor` prints.
    Scriptor,
    /// What Java Card SDK `apdutool` prints.
    Apdutool,
}

/// Upper-case hex, a space between bytes, a line break (and `indent`) after every 16 bytes.
fn wrapped(b: &[u8], indent: &str) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            if i % 16 == 0 {
                s.push('\n');
                s.push_str(indent);
            } else {
                s.push(' ');
            }
        }
        let _ = write!(s, "{x:02X}");
    }
    s
}

fn sw_of(r: &[u8]) -> Option<StatusWord> {
    let n = r.len();
    if n < 2 {
        return None;
    }
    Some(StatusWord::new(r[n - 2], r[n - 1]))
}

fn exchange_text(out: &mut String, x: &Exchange) {
    match x.kind {
        ExchangeKind::Reset(k) => {
            let _ = writeln!(
                out,
                "> RESET{}",
                if k == ResetKind::Warm { " (warm)" } else { "" }
            );
            match &x.error {
                Some(e) => {
                    let _ = writeln!(out, "< KO: {e}");
                }
                None => {
                    let _ = writeln!(out, "< {} : ATR", wrapped(&x.response, "  "));
                }
            }
        }
        ExchangeKind::Apdu => {
            let _ = writeln!(out, "> {}", wrapped(&x.command, "  "));
            match (&x.error, sw_of(&x.response)) {
                (Some(e), _) => {
                    let _ = writeln!(out, "< KO: {e}");
                }
                (None, Some(sw)) => {
                    let _ = writeln!(out, "< {} : {}", wrapped(&x.response, "  "), sw.meaning());
                }
                (None, None) => {
                    let _ = writeln!(out, "< {} : (no status word)", wrapped(&x.response, "  "));
                }
            }
        }
    }
}

/// The expectation as the reports show it: bytes of hex (and `?` nibbles) spaced like the
/// responses they are compared with (`9000` → `90 00`, `$len=61??` → `$len=61 ??`,
/// `por 00 02*` → `por 00 02 *`), so "expected X, got Y" reads the same everywhere. Text that
/// does not tokenize (an odd number of nibbles in a run) is shown as written.
pub fn spaced_expectation(text: &str) -> String {
    let (prefix, rest) = match text.strip_prefix("por ") {
        Some(r) => ("por ", r),
        None => match text.split_once('=') {
            Some((name, r)) if name.starts_with('$') && !name.contains(' ') => {
                (&text[..name.len() + 1], r)
            }
            _ => ("", text),
        },
    };
    let mut tokens: Vec<String> = Vec::new();
    let mut nibbles = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_hexdigit() || c == '?' {
            nibbles.push(c.to_ascii_uppercase());
            if nibbles.len() == 2 {
                tokens.push(std::mem::take(&mut nibbles));
            }
            continue;
        }
        if !nibbles.is_empty() {
            return text.to_string();
        }
        match c {
            c if c.is_whitespace() => {}
            '*' => tokens.push("*".into()),
            '$' => {
                let mut v = String::from("$");
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' || n == '{' || n == '}' {
                        v.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(v);
            }
            _ => return text.to_string(),
        }
    }
    if !nibbles.is_empty() {
        return text.to_string();
    }
    format!("{prefix}{}", tokens.join(" "))
}

fn check_text(out: &mut String, step: &Step, c: &Check) {
    if c.ok {
        if let Some((n, v)) = &c.captured {
            let _ = writeln!(out, "= ${n} = {}", encode(v));
        }
        return;
    }
    let _ = writeln!(
        out,
        "!! FAIL {}: expected {}",
        step.loc,
        spaced_expectation(&c.expected)
    );
    let _ = writeln!(
        out,
        "!!   got {}",
        if c.actual.is_empty() {
            "nothing".into()
        } else {
            wrapped(&c.actual, "           ")
        }
    );
}

/// The text transcript of one run.
pub fn text(run: &ScriptRun) -> String {
    let mut t = Transcript::new(TranscriptFormat::Text);
    let mut out = t.header(&run.name);
    for step in &run.steps {
        out.push_str(&t.step(step));
    }
    out.push_str(&t.footer(run));
    out
}

fn text_step(out: &mut String, step: &Step) {
    for x in &step.wire {
        exchange_text(out, x);
    }
    match &step.outcome {
        Outcome::Echo(t) => {
            let _ = writeln!(out, "{t}");
        }
        Outcome::Toolkit {
            directive, outcome, ..
        } => {
            for n in &outcome.notes {
                let _ = writeln!(out, "-- {directive}: {n}");
            }
            if let Some(p) = &outcome.por {
                let name = ota::ResponseStatus::from_byte(p.status).short_name();
                let line = format!("< PoR {:02X} ({name}) {}", p.status, wrapped(&p.data, "  "));
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        Outcome::Error(e) => {
            let _ = writeln!(out, "!! ERROR {e}");
        }
        _ => {}
    }
    if let Some(c) = step.check() {
        check_text(out, step, c);
    }
}

/// A transcript written statement by statement (for live output while a script runs).
#[derive(Debug, Clone)]
pub struct Transcript {
    format: TranscriptFormat,
    /// apdutool `output on|off` state.
    output: bool,
}

impl Transcript {
    /// A transcript in `format`.
    pub fn new(format: TranscriptFormat) -> Self {
        Transcript {
            format,
            output: true,
        }
    }
    /// What to print before the first statement of script `name`.
    pub fn header(&mut self, name: &str) -> String {
        self.output = true;
        match self.format {
            TranscriptFormat::Text => format!("=== {name}\n"),
            TranscriptFormat::Scriptor | TranscriptFormat::Apdutool => String::new(),
        }
    }
    /// What to print for one executed statement.
    pub fn step(&mut self, step: &Step) -> String {
        let mut out = String::new();
        match self.format {
            TranscriptFormat::Text => text_step(&mut out, step),
            TranscriptFormat::Scriptor => scriptor_step(&mut out, step),
            TranscriptFormat::Apdutool => apdutool_step(&mut out, step, &mut self.output),
        }
        out
    }
    /// What to print after the last statement.
    pub fn footer(&mut self, run: &ScriptRun) -> String {
        match self.format {
            TranscriptFormat::Text => format!("=== {}: {}\n", run.name, summary(run)),
            TranscriptFormat::Scriptor | TranscriptFormat::Apdutool => String::new(),
        }
    }
}

/// `N expectations, F failed[, stopped: …]`.
pub fn summary(run: &ScriptRun) -> String {
    let mut s = format!("{} expectation(s), {} failed", run.checks(), run.failures());
    if run.error().is_some() {
        s.push_str(", stopped by an error");
    } else if run.skipped > 0 {
        let _ = write!(s, ", {} statement(s) skipped", run.skipped);
    }
    s
}

/// What pcsc-tools `scriptor` prints for the same exchanges (interop notes §5.2): the input
/// line, `> CMD`, `< RESP : meaning.` with responses wrapped after 16 bytes; `> RESET` /
/// `< OK: ATR `.
pub fn scriptor(run: &ScriptRun) -> String {
    let mut out = String::new();
    for step in &run.steps {
        scriptor_step(&mut out, step);
    }
    out
}

fn scriptor_step(out: &mut String, step: &Step) {
    let _ = writeln!(out, "{}", step.source);
    for x in &step.wire {
        match x.kind {
            ExchangeKind::Reset(_) => {
                out.push_str("> RESET\n");
                match &x.error {
                    Some(e) => {
                        let _ = writeln!(out, "< KO: {e}");
                    }
                    None => {
                        out.push_str("< OK: ");
                        for b in &x.response {
                            let _ = write!(out, "{b:02X} ");
                        }
                        out.push('\n');
                    }
                }
            }
            ExchangeKind::Apdu => {
                let cmd: String = x.command.iter().map(|b| format!("{b:02X} ")).collect();
                let _ = writeln!(out, "> {cmd}");
                if let Some(e) = &x.error {
                    let _ = writeln!(out, "Can't get info: {e}");
                    continue;
                }
                let mut res = String::new();
                for (i, b) in x.response.iter().enumerate() {
                    let _ = write!(res, "{b:02X} ");
                    if (i + 1) % 16 == 0 && i + 1 < x.response.len() {
                        res.push('\n');
                    }
                }
                let res = res.strip_suffix(' ').unwrap_or(&res);
                let meaning =
                    sw_of(&x.response).map_or_else(|| "no status word".into(), |s| s.meaning());
                let _ = writeln!(out, "< {res} : {meaning}.");
            }
        }
    }
    if let Outcome::Error(e) = &step.outcome {
        let _ = writeln!(out, "{e}");
    }
}

fn lower_list(b: &[u8]) -> String {
    b.iter().map(|x| format!(", {x:02x}")).collect()
}

/// What Java Card SDK `apdutool` prints (interop notes §5.1): one line per APDU,
/// `CLA: 80, INS: b8, P1: 00, P2: 00, Lc: 02, 3f, 00, Le: 01, 0a, SW1: 90, SW2: 00`.
pub fn apdutool(run: &ScriptRun) -> String {
    let mut out = String::new();
    let mut output = true;
    for step in &run.steps {
        apdutool_step(&mut out, step, &mut output);
    }
    out
}

fn apdutool_step(out: &mut String, step: &Step, output: &mut bool) {
    match &step.outcome {
        Outcome::Output(on) => {
            *output = *on;
            let _ = writeln!(out, "OUTPUT {};", if *on { "ON" } else { "OFF" });
        }
        Outcome::Echo(t) => {
            let _ = writeln!(out, "{t}");
        }
        Outcome::PowerDown => out.push_str("C-JCRE was powered down.\n"),
        Outcome::Error(e) => {
            let _ = writeln!(out, "{e}");
        }
        _ => {}
    }
    if !*output {
        return;
    }
    for x in &step.wire {
        if x.kind != ExchangeKind::Apdu {
            continue;
        }
        let c = &x.command;
        let hdr = |i: usize| c.get(i).copied().unwrap_or(0);
        let (lc, data) = match apdu::CommandApdu::parse(c) {
            Ok(p) => (p.data.len(), p.data),
            Err(_) => (
                c.len().saturating_sub(4),
                c.get(4..).unwrap_or_default().to_vec(),
            ),
        };
        let r = &x.response;
        let (rdata, sw1, sw2) = match r.len() {
            n if n >= 2 => (&r[..n - 2], r[n - 2], r[n - 1]),
            _ => (&r[..0], 0, 0),
        };
        let _ = writeln!(
            out,
            "CLA: {:02x}, INS: {:02x}, P1: {:02x}, P2: {:02x}, Lc: {:02x}{}, Le: {:02x}{}, SW1: {sw1:02x}, SW2: {sw2:02x}",
            hdr(0),
            hdr(1),
            hdr(2),
            hdr(3),
            lc,
            lower_list(&data),
            rdata.len(),
            lower_list(rdata)
        );
    }
}

fn json_hex(b: &[u8]) -> serde_json::Value {
    serde_json::Value::String(encode(b))
}

/// JSON Lines: one object per exchange that crossed the wire (`command`, `response`, `sw`,
/// `expected`, `ok`, `microseconds`, plus `script`, `line`, `kind`); the expectation is
/// attached to the last exchange of its statement, with `assembled` when the runner completed
/// a T=0 answer. Statements with an expectation but no exchange (PoR checks) and errors get
/// their own object.
pub fn jsonl(run: &ScriptRun, w: &mut dyn Write) -> io::Result<()> {
    use serde_json::{json, Value};
    for step in &run.steps {
        let check = step.check();
        let n = step.wire.len();
        for (i, x) in step.wire.iter().enumerate() {
            let last = i + 1 == n;
            let kind = match x.kind {
                ExchangeKind::Apdu => "apdu",
                ExchangeKind::Reset(ResetKind::Cold) => "reset",
                ExchangeKind::Reset(ResetKind::Warm) => "warm-reset",
            };
            let mut o = json!({
                "script": run.name,
                "line": step.loc.line,
                "file": &*step.loc.file,
                "kind": kind,
                "command": json_hex(&x.command),
                "response": json_hex(&x.response),
                "sw": if x.kind == ExchangeKind::Apdu { sw_of(&x.response).map(|s| Value::String(s.to_string())).unwrap_or(Value::Null) } else { Value::Null },
                "expected": Value::Null,
                "ok": Value::Null,
                "microseconds": x.duration.as_micros() as u64,
            });
            if let Some(e) = &x.error {
                o["error"] = Value::String(e.clone());
            }
            if last {
                if let Some(c) = check {
                    o["expected"] = Value::String(c.expected.clone());
                    o["ok"] = Value::Bool(c.ok);
                    if n > 1 {
                        if let Outcome::Apdu { response, .. } = &step.outcome {
                            o["assembled"] = json_hex(response);
                        }
                    }
                }
            }
            serde_json::to_writer(&mut *w, &o)?;
            w.write_all(b"\n")?;
        }
        let extra = match (&step.outcome, n) {
            (Outcome::Error(e), _) => Some(json!({"script": run.name, "line": step.loc.line, "file": &*step.loc.file, "kind": "error", "error": e})),
            (_, 0) => check.map(|c| json!({"script": run.name, "line": step.loc.line, "file": &*step.loc.file, "kind": "check", "actual": json_hex(&c.actual), "expected": c.expected, "ok": c.ok})),
            _ => None,
        };
        if let Some(o) = extra {
            serde_json::to_writer(&mut *w, &o)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one `<testsuite>` per script, one `<testcase>` per expectation; an error that
/// stopped a script is an `<error>` test case; statements skipped after a failure are noted.
pub fn junit(runs: &[ScriptRun]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for run in runs {
        let errors = usize::from(run.error().is_some());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.6}\">",
            xml_escape(&run.name),
            run.checks() + errors,
            run.failures(),
            errors,
            run.duration.as_secs_f64()
        );
        for step in &run.steps {
            let time: f64 = step.wire.iter().map(|x| x.duration.as_secs_f64()).sum();
            // The statement with its alignment padding collapsed: CI systems show and compare
            // test names, and `00 B0 00 00 0A     => 9000` must not depend on the column.
            let source: Vec<&str> = step.source.split_whitespace().collect();
            let name = format!("{}: {}", step.loc, source.join(" "));
            if let Some(c) = step.check() {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.6}\"",
                    xml_escape(&run.name),
                    xml_escape(&name)
                );
                if c.ok {
                    out.push_str("/>\n");
                } else {
                    let got = if c.actual.is_empty() {
                        "nothing".to_string()
                    } else {
                        apdu::hex::encode_spaced(&c.actual)
                    };
                    let msg = format!("expected {}, got {got}", spaced_expectation(&c.expected));
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                        xml_escape(&msg),
                        xml_escape(&msg)
                    );
                }
            } else if let Outcome::Error(e) = &step.outcome {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.6}\">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>",
                    xml_escape(&run.name),
                    xml_escape(&name),
                    xml_escape(e),
                    xml_escape(e)
                );
            }
        }
        if run.skipped > 0 {
            let _ = writeln!(
                out,
                "    <system-out>{} statement(s) not run after the first failure</system-out>",
                run.skipped
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// All exchanges of the runs in order (for pcap traces).
pub fn exchanges(runs: &[ScriptRun]) -> impl Iterator<Item = &Exchange> {
    runs.iter()
        .flat_map(|r| r.steps.iter().flat_map(|s| s.wire.iter()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn expectations_are_shown_as_spaced_hex() {
        use super::spaced_expectation as sp;
        assert_eq!(sp("9000"), "90 00");
        assert_eq!(sp("90 00"), "90 00");
        assert_eq!(sp("$len=61??"), "$len=61 ??");
        assert_eq!(sp("62*83023f00*9000"), "62 * 83 02 3F 00 * 90 00");
        assert_eq!(sp("por 00 02*"), "por 00 02 *");
        assert_eq!(sp("$iccid 9000"), "$iccid 90 00");
        // Not a byte pattern: shown as written.
        assert_eq!(sp("900"), "900");
        assert_eq!(sp("por ok"), "por ok");
    }
}
