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
}

/// The result of checking one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The expectation as written.
    pub expected: String,
    /// Whether it held.
    pub ok: bool,
    /// The bytes it was matched against (assembled response, ATR or PoR data).
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
}

impl Step {
    /// The expectation result, if the statement had one.
    pub fn check(&self) -> Option<&Check> {
        match &self.outcome {
            Outcome::Apdu { check, .. } | Outcome::Reset { check, .. } | Outcome::Toolkit { check, .. } => {
                check.as_ref()
            }
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
        self.steps.iter().filter(|s| s.check().is_some_and(|c| !c.ok)).count()
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
}

impl<'a> Runner<'a> {
    /// A runner on `card`.
    pub fn new(card: &'a mut dyn Transport, opts: RunOptions) -> Self {
        Runner { card: Recorder::new(card), toolkit: None, vars: HashMap::new(), opts }
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
        let start = Instant::now();
        let mut steps = Vec::with_capacity(script.stmts.len());
        let mut skipped = 0;
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
            steps.push(Step { loc: stmt.loc.clone(), source: stmt.source.clone(), wire, outcome });
            if stop {
                skipped = script.stmts.len() - i - 1;
                break;
            }
        }
        ScriptRun { name: script.name.clone(), format: script.format, steps, skipped, duration: start.elapsed() }
    }

    fn check(&mut self, expect: &Expect, actual: Vec<u8>) -> Result<Check, String> {
        let resolved;
        let pat = if expect.pattern.has_vars() {
            resolved = expect.pattern.resolve(&self.vars).map_err(|n| format!("undefined variable `${n}` in the expectation"))?;
            &resolved
        } else {
            &expect.pattern
        };
        let mut captured = None;
        let ok = match pat.match_capture(&actual) {
            Some(cap) => {
                if let Some(name) = &expect.capture {
                    self.vars.insert(name.clone(), cap.clone());
                    captured = Some((name.clone(), cap));
                }
                true
            }
            None => false,
        };
        let expected = match &expect.capture {
            Some(n) => format!("${n}={}", expect.pattern.text),
            None => expect.pattern.text.clone(),
        };
        Ok(Check { expected, ok, actual, captured })
    }

    fn exec(&mut self, kind: &StmtKind, loc: &Loc) -> Outcome {
        match self.exec_inner(kind, loc) {
            Ok(o) => o,
            Err(e) => Outcome::Error(format!("{loc}: {e}")),
        }
    }

    fn exec_inner(&mut self, kind: &StmtKind, _loc: &Loc) -> Result<Outcome, String> {
        Ok(match kind {
            StmtKind::Apdu { command, expect } => {
                let cmd = command.expand(&self.vars).map_err(|n| format!("undefined variable `${n}`"))?;
                if cmd.len() < 4 {
                    return Err(format!("C-APDU of {} byte(s) after expansion needs at least CLA INS P1 P2", cmd.len()));
                }
                let raw = self.card.transmit(&cmd).map_err(|e| format!("transport: {e}"))?;
                let Some(expect) = expect else {
                    return Ok(Outcome::Apdu { response: raw, check: None });
                };
                let sw1 = raw.len().checked_sub(2).and_then(|i| raw.get(i)).copied();
                let mut response = raw;
                if !self.opts.raw
                    && matches!(sw1, Some(0x61 | 0x6C | 0x9F))
                    && expect.pattern.wants_data()
                    && !expect.pattern.resolve(&self.vars).is_ok_and(|p| p.matches(&response))
                {
                    let primed = Primed { first: Some(response), inner: &mut self.card };
                    response = T0Adapter::new(primed).transmit(&cmd).map_err(|e| format!("transport: {e}"))?;
                }
                let check = self.check(expect, response.clone())?;
                Outcome::Apdu { response, check: Some(check) }
            }
            StmtKind::Reset { kind, expect } => {
                let atr = self.card.reset(*kind).map_err(|e| format!("transport: reset: {e}"))?;
                let check = match expect {
                    Some(e) => Some(self.check(e, atr.clone())?),
                    None => None,
                };
                Outcome::Reset { kind: *kind, atr, check, powerup: false }
            }
            StmtKind::PowerUp => {
                let atr = self.card.reset(ResetKind::Cold).map_err(|e| format!("transport: power up: {e}"))?;
                Outcome::Reset { kind: ResetKind::Cold, atr, check: None, powerup: true }
            }
            StmtKind::PowerDown => Outcome::PowerDown,
            StmtKind::Set { name, value } => {
                let v = value.expand(&self.vars).map_err(|n| format!("undefined variable `${n}`"))?;
                self.vars.insert(name.clone(), v);
                Outcome::Set(name.clone())
            }
            StmtKind::Echo(t) => Outcome::Echo(t.clone()),
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
            ToolkitDirective::TerminalProfile(t) => (ToolkitCommand::TerminalProfile(t.expand(&self.vars).map_err(undefined)?), None),
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
        let outcome = tk.execute(&mut self.card, &cmd).map_err(|e| format!("{}: {e}", d.keyword()))?;
        let check = match por {
            None => None,
            Some(p) => {
                let expected = match &p.data {
                    Some(pat) => format!("por {:02X} {}", p.status, pat.text),
                    None => format!("por {:02X}", p.status),
                };
                match &outcome.por {
                    None => Some(Check { expected, ok: false, actual: Vec::new(), captured: None }),
                    Some(got) => {
                        let data_ok = match &p.data {
                            None => true,
                            Some(pat) => {
                                let pat = pat.resolve(&self.vars).map_err(|n| format!("undefined variable `${n}` in the PoR pattern"))?;
                                pat.matches(&got.data)
                            }
                        };
                        let mut actual = vec![got.status];
                        actual.extend_from_slice(&got.data);
                        Some(Check { expected, ok: got.status == p.status && data_ok, actual, captured: None })
                    }
                }
            }
        };
        Ok(Outcome::Toolkit { directive: d.keyword(), outcome, check })
    }
}
