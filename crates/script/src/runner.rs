//! The runner: executes a [`Script`] against any [`Transport`], records every exchange that
//! crossed the wire, and checks expectations.
//!
//! T=0 handling: the wire transcript is never rewritten. When an expectation asks for response
//! data (anything beyond a bare status word) and the card answers `61xx`/`6Cxx`/`9Fxx`, the
//! runner completes the exchange through [`transport::T0Adapter`] (GET RESPONSE / re-issue with
//! the right Le, ISO 7816-4 §5.3) and matches the assembled response; the extra exchanges
//! appear in the transcript. Without an expectation, or with a bare SW pattern such as
//! `61??`, the raw answer is what the script sees, so scriptor scripts with explicit
//! GET RESPONSE lines run unchanged.

use crate::ast::{Expect, Format, Script, StmtKind, ToolkitDirective};
use crate::error::Loc;
use crate::toolkit::{Toolkit, ToolkitCommand, ToolkitOutcome};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use transport::{Exchange, Recorder, ResetKind, T0Adapter, Transport, TransportError};

/// Runner options.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Continue after a failed expectation instead of stopping the script.
    pub keep_going: bool,
    /// Never complete `61xx`/`6Cxx` answers, even when an expectation wants data.
    pub raw: bool,
    /// Refuse to send a C-APDU whose length fields do not match its bytes (ISO/IEC 7816-4
    /// §5.1; `apdu::CommandApduRef::parse`) instead of sending it with a warning.
    pub strict: bool,
}

/// The result of checking one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The expectation as written.
    pub expected: String,
    /// Whether it held.
    pub ok: bool,
    /// The bytes it was matched against, kept when the check failed (and for PoR checks); on
    /// success the statement's outcome holds the response or ATR.
    pub actual: Vec<u8>,
    /// A captured variable and its new value.
    pub captured: Option<(String, Vec<u8>)>,
}

/// What a statement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An APDU was exchanged; `response` is what the expectation saw.
    Apdu {
        /// The (possibly T=0-completed) response.
        response: Vec<u8>,
        /// The expectation result.
        check: Option<Check>,
    },
    /// The card was reset.
    Reset {
        /// Cold or warm.
        kind: ResetKind,
        /// The ATR.
        atr: Vec<u8>,
        /// The ATR expectation result.
        check: Option<Check>,
        /// Whether it came from apdutool `powerup;`.
        powerup: bool,
    },
    /// apdutool `powerdown;`.
    PowerDown,
    /// A variable was set.
    Set(String),
    /// Text to print.
    Echo(String),
    /// A pause.
    Delay(u64),
    /// apdutool output switch.
    Output(bool),
    /// apdutool interface selection (no effect).
    Interface(String),
    /// The script stopped at `exit`.
    Exit,
    /// A terminal directive ran.
    Toolkit {
        /// Its keyword.
        directive: &'static str,
        /// What it reported.
        outcome: ToolkitOutcome,
        /// The PoR expectation result.
        check: Option<Check>,
    },
    /// The statement could not run; the script stopped (exit code 2).
    Error(String),
}

/// One executed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Where it is in the script.
    pub loc: Loc,
    /// The statement as written.
    pub source: Arc<str>,
    /// The exchanges that crossed the wire for it, in order.
    pub wire: Vec<Exchange>,
    /// The result.
    pub outcome: Outcome,
    /// Warnings about the statement (`t.apdu:3: warning: …`), e.g. a malformed C-APDU that was
    /// sent as written.
    pub warnings: Vec<String>,
}

impl Step {
    /// The expectation result, if the statement had one.
    pub fn check(&self) -> Option<&Check> {
        match &self.outcome {
            Outcome::Apdu { check, .. }
            | Outcome::Reset { check, .. }
            | Outcome::Toolkit { check, .. } => check.as_ref(),
            _ => None,
        }
    }
}

/// The record of one script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRun {
    /// The script name.
    pub name: String,
    /// Its input format.
    pub format: Format,
    /// The executed statements.
    pub steps: Vec<Step>,
    /// Statements not run because the script stopped early.
    pub skipped: usize,
    /// Wall-clock time of the whole run.
    pub duration: Duration,
}

impl ScriptRun {
    /// Number of expectations checked.
    pub fn checks(&self) -> usize {
        self.steps.iter().filter(|s| s.check().is_some()).count()
    }
    /// Number of expectations that failed.
    pub fn failures(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.check().is_some_and(|c| !c.ok))
            .count()
    }
    /// The error that stopped the script, if any.
    pub fn error(&self) -> Option<&str> {
        self.steps.iter().find_map(|s| match &s.outcome {
            Outcome::Error(e) => Some(e.as_str()),
            _ => None,
        })
    }
    /// Exit code: 2 on an error, 1 on a failed expectation, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.error().is_some() {
            2
        } else if self.failures() > 0 {
            1
        } else {
            0
        }
    }
}

/// Returns a primed first answer, then forwards to the real transport (lets [`T0Adapter`]
/// continue an exchange that already happened).
struct Primed<'r, T: Transport> {
    first: Option<Vec<u8>>,
    inner: &'r mut T,
}

impl<T: Transport> Transport for Primed<'_, T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        match self.first.take() {
            Some(r) => Ok(r),
            None => self.inner.transmit(capdu),
        }
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
}

/// Executes scripts on one card; variables persist across scripts run by the same runner.
pub struct Runner<'a> {
    card: Recorder<&'a mut dyn Transport>,
    toolkit: Option<&'a mut dyn Toolkit>,
    vars: HashMap<String, Vec<u8>>,
    opts: RunOptions,
    /// Warnings of the statement running now.
    warnings: Vec<String>,
    /// The syntax of the script running now (`echo` expands `$variables` in the native one).
    format: Format,
}

impl<'a> Runner<'a> {
    /// A runner on `card`.
    pub fn new(card: &'a mut dyn Transport, opts: RunOptions) -> Self {
        Runner {
            card: Recorder::new(card),
            toolkit: None,
            vars: HashMap::new(),
            opts,
            warnings: Vec::new(),
            format: Format::Native,
        }
    }
    /// Use `tk` for terminal directives.
    pub fn with_toolkit(mut self, tk: &'a mut dyn Toolkit) -> Self {
        self.toolkit = Some(tk);
        self
    }
    /// The current variables.
    pub fn vars(&self) -> &HashMap<String, Vec<u8>> {
        &self.vars
    }

    /// Run a script to its end, its first error, or its first failed expectation (unless
    /// `keep_going`).
    pub fn run(&mut self, script: &Script) -> ScriptRun {
        self.run_observed(script, &mut |_| {})
    }

    /// Like [`Runner::run`], calling `on_step` as each statement completes (for live
    /// transcripts).
    pub fn run_observed(&mut self, script: &Script, on_step: &mut dyn FnMut(&Step)) -> ScriptRun {
        let start = Instant::now();
        let mut steps = Vec::with_capacity(script.stmts.len());
        let mut skipped = 0;
        self.format = script.format;
        for (i, stmt) in script.stmts.iter().enumerate() {
            let outcome = self.exec(&stmt.kind, &stmt.loc);
            let wire = self.card.take_log();
            let stop = match &outcome {
                Outcome::Error(_) | Outcome::Exit => true,
                o => {
                    let failed = matches!(o, Outcome::Apdu { check: Some(c), .. } | Outcome::Reset { check: Some(c), .. } | Outcome::Toolkit { check: Some(c), .. } if !c.ok);
                    failed && !self.opts.keep_going
                }
            };
            let step = Step {
                loc: stmt.loc.clone(),
                source: stmt.source.clone(),
                wire,
                outcome,
                warnings: std::mem::take(&mut self.warnings),
            };
            on_step(&step);
            steps.push(step);
            if stop {
                skipped = script.stmts.len() - i - 1;
                break;
            }
        }
        ScriptRun {
            name: script.name.clone(),
            format: script.format,
            steps,
            skipped,
            duration: start.elapsed(),
        }
    }

    fn check(&mut self, expect: &Expect, actual: &[u8], keep: bool) -> Result<Check, String> {
        let resolved;
        let pat = if expect.pattern.has_vars() {
            resolved = expect
                .pattern
                .resolve(&self.vars)
                .map_err(|n| format!("undefined variable `${n}` in the expectation"))?;
            &resolved
        } else {
            &expect.pattern
        };
        let mut captured = None;
        let ok = match &expect.capture {
            None => pat.matches(actual),
            Some(name) => match pat.match_capture(actual) {
                Some(cap) => {
                    self.vars.insert(name.clone(), cap.clone());
                    captured = Some((name.clone(), cap));
                    true
                }
                None => false,
            },
        };
        // The matched bytes are kept for failures (reports show them); on success the
        // statement's outcome already holds them.
        let actual = if ok && !keep {
            Vec::new()
        } else {
            actual.to_vec()
        };
        let expected = match &expect.capture {
            Some(n) => format!("${n}={}", expect.pattern.text),
            None => expect.pattern.text.clone(),
        };
        Ok(Check {
            expected,
            ok,
            actual,
            captured,
        })
    }

    /// `echo` text with each `$name` / `${name}` replaced by the variable's bytes in hex; a
    /// `$` not followed by a name stays as it is.
    fn expand_text(&self, t: &str) -> Result<String, String> {
        let mut out = String::with_capacity(t.len());
        let mut rest = t;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            match crate::pattern::parse_var(tail, 0) {
                Ok((name, end)) => {
                    let v = self
                        .vars
                        .get(&name)
                        .ok_or_else(|| format!("undefined variable `${name}` in echo"))?;
                    out.push_str(&apdu::hex::encode(v));
                    rest = tail.get(end..).unwrap_or_default();
                }
                Err(_) => {
                    out.push('$');
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn exec(&mut self, kind: &StmtKind, loc: &Loc) -> Outcome {
        match self.exec_inner(kind, loc) {
            Ok(o) => o,
            Err(e) => Outcome::Error(format!("{loc}: {e}")),
        }
    }

    fn exec_inner(&mut self, kind: &StmtKind, loc: &Loc) -> Result<Outcome, String> {
        Ok(match kind {
            StmtKind::Apdu { command, expect } => {
                let cmd = command
                    .expand(&self.vars)
                    .map_err(|n| format!("undefined variable `${n}`"))?;
                if cmd.len() < 4 {
                    return Err(format!(
                        "C-APDU of {} byte(s) after expansion needs at least CLA INS P1 P2",
                        cmd.len()
                    ));
                }
                if let Err(e) = apdu::CommandApduRef::parse(&cmd) {
                    let hex = apdu::hex::encode_spaced(&cmd);
                    if self.opts.strict {
                        return Err(format!("malformed C-APDU {hex} not sent (--strict): {e}"));
                    }
                    self.warnings.push(format!(
                        "{loc}: warning: malformed C-APDU {hex} sent as written: {e}"
                    ));
                }
                let raw = self
                    .card
                    .transmit(&cmd)
                    .map_err(|e| format!("transport: {e}"))?;
                let Some(expect) = expect else {
                    return Ok(Outcome::Apdu {
                        response: raw,
                        check: None,
                    });
                };
                let sw1 = raw.len().checked_sub(2).and_then(|i| raw.get(i)).copied();
                let mut response = raw;
                if !self.opts.raw
                    && matches!(sw1, Some(0x61 | 0x6C | 0x9F))
                    && expect.pattern.wants_data()
                    && !(if expect.pattern.has_vars() {
                        expect
                            .pattern
                            .resolve(&self.vars)
                            .is_ok_and(|p| p.matches(&response))
                    } else {
                        expect.pattern.matches(&response)
                    })
                {
                    let primed = Primed {
                        first: Some(response),
                        inner: &mut self.card,
                    };
                    response = T0Adapter::new(primed)
                        .transmit(&cmd)
                        .map_err(|e| format!("transport: {e}"))?;
                }
                let check = self.check(expect, &response, false)?;
                Outcome::Apdu {
                    response,
                    check: Some(check),
                }
            }
            StmtKind::Reset { kind, expect } => {
                let atr = self
                    .card
                    .reset(*kind)
                    .map_err(|e| format!("transport: reset: {e}"))?;
                let check = match expect {
                    Some(e) => Some(self.check(e, &atr, false)?),
                    None => None,
                };
                Outcome::Reset {
                    kind: *kind,
                    atr,
                    check,
                    powerup: false,
                }
            }
            StmtKind::PowerUp => {
                let atr = self
                    .card
                    .reset(ResetKind::Cold)
                    .map_err(|e| format!("transport: power up: {e}"))?;
                Outcome::Reset {
                    kind: ResetKind::Cold,
                    atr,
                    check: None,
                    powerup: true,
                }
            }
            StmtKind::PowerDown => Outcome::PowerDown,
            StmtKind::Set { name, value } => {
                let v = value
                    .expand(&self.vars)
                    .map_err(|n| format!("undefined variable `${n}`"))?;
                self.vars.insert(name.clone(), v);
                Outcome::Set(name.clone())
            }
            StmtKind::Echo(t) => Outcome::Echo(match self.format {
                Format::Native => self.expand_text(t)?,
                Format::Apdutool => t.clone(),
            }),
            StmtKind::Delay(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                Outcome::Delay(*ms)
            }
            StmtKind::Output(on) => Outcome::Output(*on),
            StmtKind::Interface(i) => Outcome::Interface(i.clone()),
            StmtKind::Exit => Outcome::Exit,
            StmtKind::Toolkit(d) => self.toolkit(d)?,
        })
    }

    fn toolkit(&mut self, d: &ToolkitDirective) -> Result<Outcome, String> {
        let undefined = |n: String| format!("undefined variable `${n}`");
        let (cmd, por) = match d {
            ToolkitDirective::TerminalProfile(t) => (
                ToolkitCommand::TerminalProfile(t.expand(&self.vars).map_err(undefined)?),
                None,
            ),
            ToolkitDirective::User(u) => (ToolkitCommand::User(u.clone()), None),
            ToolkitDirective::FetchAll => (ToolkitCommand::FetchAll, None),
            ToolkitDirective::Menu(n) => (ToolkitCommand::Menu(*n), None),
            ToolkitDirective::SmsPp(s) => (
                ToolkitCommand::SmsPp {
                    keyset: s.keyset.clone(),
                    tar: s.tar.expand(&self.vars).map_err(undefined)?,
                    data: s.data.expand(&self.vars).map_err(undefined)?,
                    spi: s.spi,
                    options: s.options.clone(),
                },
                s.expect.as_ref(),
            ),
        };
        let Some(tk) = self.toolkit.as_mut() else {
            return Err(format!(
                "`{}` needs the terminal (CAT/OTA), which is not available in this build of the runner",
                d.keyword()
            ));
        };
        let outcome = tk
            .execute(&mut self.card, &cmd)
            .map_err(|e| format!("{}: {e}", d.keyword()))?;
        let check = match por {
            None => None,
            Some(p) => {
                let expected = match &p.data {
                    Some(pat) => format!("por {:02X} {}", p.status, pat.text),
                    None => format!("por {:02X}", p.status),
                };
                match &outcome.por {
                    None => Some(Check {
                        expected,
                        ok: false,
                        actual: Vec::new(),
                        captured: None,
                    }),
                    Some(got) => {
                        let data_ok = match &p.data {
                            None => true,
                            Some(pat) => {
                                let pat = pat.resolve(&self.vars).map_err(|n| {
                                    format!("undefined variable `${n}` in the PoR pattern")
                                })?;
                                pat.matches(&got.data)
                            }
                        };
                        let mut actual = vec![got.status];
                        actual.extend_from_slice(&got.data);
                        Some(Check {
                            expected,
                            ok: got.status == p.status && data_ok,
                            actual,
                            captured: None,
                        })
                    }
                }
            }
        };
        Ok(Outcome::Toolkit {
            directive: d.keyword(),
            outcome,
            check,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::Loader;
    use crate::toolkit::Por;
    use std::path::Path;

    struct NoFiles;
    impl Loader for NoFiles {
        fn read(&mut self, p: &Path) -> std::io::Result<String> {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                p.display().to_string(),
            ))
        }
    }

    /// A tiny T=0 card: SELECT answers 61 03 and GET RESPONSE the 3 bytes; READ BINARY with the
    /// wrong Le answers 6C 02; VERIFY counts down; anything else 6D00; the `01` command fails.
    struct MiniCard {
        pending: Vec<u8>,
        tries: u8,
    }
    impl Transport for MiniCard {
        fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(match (c[1], c.get(4)) {
                (0xA4, _) => {
                    self.pending = vec![0x62, 0x01, 0x3F];
                    vec![0x61, 0x03]
                }
                (0xC0, Some(&n)) if n as usize == self.pending.len() => {
                    let mut r = std::mem::take(&mut self.pending);
                    r.extend_from_slice(&[0x90, 0x00]);
                    r
                }
                (0xC0, _) => vec![0x67, 0x00],
                (0xB0, Some(2)) => vec![0xAA, 0xBB, 0x90, 0x00],
                (0xB0, _) => vec![0x6C, 0x02],
                (0x20, _) => {
                    self.tries = self.tries.saturating_sub(1);
                    vec![0x63, 0xC0 | self.tries]
                }
                (0x01, _) => return Err(TransportError::CardRemoved("gone".into())),
                _ => vec![0x6D, 0x00],
            })
        }
        fn reset(&mut self, _: ResetKind) -> Result<Vec<u8>, TransportError> {
            Ok(self.atr())
        }
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x00]
        }
        fn name(&self) -> String {
            "mini".into()
        }
    }

    fn run_text(text: &str, opts: RunOptions) -> ScriptRun {
        let script = crate::parse_str("t.apdu", text, Format::Native, &mut NoFiles).unwrap();
        let mut card = MiniCard {
            pending: Vec::new(),
            tries: 3,
        };
        Runner::new(&mut card, opts).run(&script)
    }

    #[test]
    fn t0_completion_only_when_data_is_expected() {
        let run = run_text(
            "reset => 3B 00\n00A4000C023F00 => 61??\n00A4000C023F00 => 62 01 3F 90 00\n",
            RunOptions::default(),
        );
        assert_eq!(run.exit_code(), 0, "{}", crate::report::text(&run));
        assert_eq!(run.steps[1].wire.len(), 1);
        assert_eq!(
            run.steps[2].wire.len(),
            2,
            "SELECT + GET RESPONSE on the wire"
        );
        assert_eq!(run.steps[2].wire[1].command, [0x00, 0xC0, 0x00, 0x00, 0x03]);
        let raw = run_text(
            "00A4000C023F00 => 62 01 3F 90 00\n",
            RunOptions {
                raw: true,
                keep_going: false,
                strict: false,
            },
        );
        assert_eq!(raw.exit_code(), 1);
    }

    #[test]
    fn wrong_le_is_reissued() {
        let run = run_text("00B0000010 => * 9000\n00B0000010\n", RunOptions::default());
        assert_eq!(run.exit_code(), 0);
        assert_eq!(run.steps[0].wire.len(), 2);
        assert_eq!(run.steps[0].wire[1].command, [0, 0xB0, 0, 0, 2]);
        assert_eq!(
            run.steps[1].wire[0].response,
            [0x6C, 0x02],
            "no expectation: raw answer"
        );
    }

    #[test]
    fn captures_feed_later_commands() {
        let run = run_text("00A4000C023F00 => $n=61??\n00C00000$n => $fcp=*9000\n00B0000002 => AABB 9000\nset x 02\n00B00000 $x => AA BB 90 00\n", RunOptions::default());
        assert_eq!(run.exit_code(), 0, "{}", crate::report::text(&run));
        assert_eq!(run.steps[1].wire[0].command, [0, 0xC0, 0, 0, 3]);
        assert_eq!(
            run.steps[1].check().unwrap().captured,
            Some(("fcp".into(), vec![0x62, 0x01, 0x3F]))
        );
    }

    #[test]
    fn failures_stop_unless_keep_going() {
        let text = "0020000108 3132333435363738 => 9000\n0020000108 3132333435363738 => 63C1\n";
        let run = run_text(text, RunOptions::default());
        assert_eq!((run.exit_code(), run.failures(), run.skipped), (1, 1, 1));
        let t = crate::report::text(&run);
        assert!(t.contains("!! FAIL t.apdu:1: expected 90 00"), "{t}");
        assert!(t.contains("!!   got 63 C2"), "{t}");
        let run = run_text(
            text,
            RunOptions {
                keep_going: true,
                raw: false,
                strict: false,
            },
        );
        assert_eq!((run.exit_code(), run.failures(), run.checks()), (1, 1, 2));
    }

    #[test]
    fn malformed_apdu_warns_and_strict_refuses() {
        // Lc says 2, one data byte follows.
        let text = "00A40004023F\n00B0000002\n";
        let run = run_text(text, RunOptions::default());
        assert_eq!(run.exit_code(), 0);
        assert_eq!(run.steps[0].wire.len(), 1, "sent as written");
        assert_eq!(
            run.steps[0].warnings,
            vec!["t.apdu:1: warning: malformed C-APDU 00 A4 00 04 02 3F sent as written: offset 6: APDU truncated: Lc = 2 (at offset 4) announces 2 data bytes but only 1 follow".to_string()]
        );
        assert!(run.steps[1].warnings.is_empty());
        let run = run_text(
            text,
            RunOptions {
                strict: true,
                ..RunOptions::default()
            },
        );
        assert_eq!(run.exit_code(), 2);
        assert!(run.steps[0].wire.is_empty(), "nothing sent");
        let e = run.error().unwrap();
        assert!(
            e.starts_with(
                "t.apdu:1: malformed C-APDU 00 A4 00 04 02 3F not sent (--strict): offset 6:"
            ),
            "{e}"
        );
    }

    #[test]
    fn echo_expands_variables() {
        let run = run_text(
            "set $sw 9000\necho sw=$sw, ${sw}! costs $5 $\necho $nope\n",
            RunOptions::default(),
        );
        assert_eq!(
            run.steps[1].outcome,
            Outcome::Echo("sw=9000, 9000! costs $5 $".into())
        );
        assert_eq!(run.exit_code(), 2);
        assert_eq!(
            run.error(),
            Some("t.apdu:3: undefined variable `$nope` in echo")
        );
    }

    #[test]
    fn errors_name_the_line() {
        let run = run_text(
            "00B0000002\n00 B0 00 00 $nope\n00B0000002\n",
            RunOptions::default(),
        );
        assert_eq!(run.exit_code(), 2);
        assert!(
            run.error()
                .unwrap()
                .starts_with("t.apdu:2: undefined variable `$nope`"),
            "{:?}",
            run.error()
        );
        let run = run_text("00 01 00 00\n", RunOptions::default());
        assert!(run.error().unwrap().contains("card removed"));
        let run = run_text("\n\nfetch-all\n", RunOptions::default());
        assert_eq!(run.exit_code(), 2);
        let e = run.error().unwrap();
        assert!(
            e.starts_with("t.apdu:3: `fetch-all` needs the terminal"),
            "{e}"
        );
    }

    struct FakeTerminal;
    impl Toolkit for FakeTerminal {
        fn execute(
            &mut self,
            card: &mut dyn Transport,
            cmd: &ToolkitCommand,
        ) -> Result<ToolkitOutcome, crate::ToolkitError> {
            match cmd {
                ToolkitCommand::SmsPp { tar, data, .. } => {
                    card.transmit(&[0x80, 0xC2, 0, 0, 1, tar[0]])?;
                    Ok(ToolkitOutcome {
                        por: Some(Por {
                            status: 0,
                            data: data.clone(),
                        }),
                        notes: vec!["sent".into()],
                    })
                }
                _ => Ok(ToolkitOutcome::default()),
            }
        }
    }
    impl From<TransportError> for crate::ToolkitError {
        fn from(e: TransportError) -> Self {
            crate::ToolkitError(e.to_string())
        }
    }

    #[test]
    fn toolkit_directives_and_por() {
        let script = crate::parse_str(
            "t.apdu",
            "terminal-profile FF\nsms-pp 1 B00000 01 9000 => por ok * 9000\nsms-pp 1 B00000 01 6A82 => por 00 * 9000\n",
            Format::Native,
            &mut NoFiles,
        )
        .unwrap();
        let mut card = MiniCard {
            pending: Vec::new(),
            tries: 3,
        };
        let mut term = FakeTerminal;
        let run = Runner::new(
            &mut card,
            RunOptions {
                keep_going: true,
                raw: false,
                strict: false,
            },
        )
        .with_toolkit(&mut term)
        .run(&script);
        assert_eq!(run.checks(), 2);
        assert_eq!(run.failures(), 1);
        assert_eq!(run.steps[1].wire.len(), 1, "the ENVELOPE is recorded");
        // The transcript names the PoR status (`< PoR SS (name) DATA`).
        let t = crate::report::text(&run);
        assert!(t.contains("\n< PoR 00 (ok) 01 90 00\n"), "{t}");
    }

    #[test]
    fn junit_names_have_no_alignment_padding() {
        let run = run_text(
            "00A4000C023F00        => 90 00\n00 B0 00 00 01   =>   6A 82\n",
            RunOptions {
                keep_going: true,
                raw: false,
                strict: false,
            },
        );
        let j = crate::report::junit(std::slice::from_ref(&run));
        assert!(
            j.contains("name=\"t.apdu:1: 00A4000C023F00 =&gt; 90 00\""),
            "{j}"
        );
        assert!(
            j.contains("name=\"t.apdu:2: 00 B0 00 00 01 =&gt; 6A 82\""),
            "{j}"
        );
    }

    #[test]
    fn reports() {
        let run = run_text(
            "reset\n00A4000C023F00 => 62 01 3F 90 00\n0020000108 3132333435363738 => 9000\n",
            RunOptions {
                keep_going: true,
                raw: false,
                strict: false,
            },
        );
        let s = crate::report::scriptor(&run);
        assert!(s.starts_with("reset\n> RESET\n< OK: 3B 00 \n00A4000C023F00 => 62 01 3F 90 00\n> 00 A4 00 0C 02 3F 00 \n< 61 03 : "), "{s}");
        let j = crate::report::junit(std::slice::from_ref(&run));
        assert!(j.contains("tests=\"2\" failures=\"1\" errors=\"0\""), "{j}");
        assert!(
            j.contains("<failure message=\"expected 90 00, got 63 C2\""),
            "{j}"
        );
        let mut buf = Vec::new();
        crate::report::jsonl(&run, &mut buf).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["kind"], "reset");
        assert_eq!(lines[1]["sw"], "6103");
        assert_eq!(lines[1]["ok"], serde_json::Value::Null);
        assert_eq!(lines[2]["ok"], true);
        assert_eq!(lines[2]["assembled"], "62013F9000");
        assert_eq!(lines[3]["expected"], "9000");
        assert_eq!(lines[3]["ok"], false);
        let a = crate::report::apdutool(&run);
        assert!(
            a.contains(
                "CLA: 00, INS: a4, P1: 00, P2: 0c, Lc: 02, 3f, 00, Le: 00, SW1: 61, SW2: 03\n"
            ),
            "{a}"
        );
        assert!(
            a.contains(
                "CLA: 00, INS: c0, P1: 00, P2: 00, Lc: 00, Le: 03, 62, 01, 3f, SW1: 90, SW2: 00\n"
            ),
            "{a}"
        );
    }
}
