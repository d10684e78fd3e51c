//! The `simota fuzz ota` engine: generate a case, deliver it, observe, check, record.
//!
//! Before the run a calibration case (a correct packet) must be accepted, so that a wrong
//! keyset, TAR or counter is reported as such instead of as a flood of findings. Cases are
//! numbered from 1; case `n` of seed `s` is generated from `(s, n)` and the card's counter and
//! canary before it. Classes that drive the counter to its maximum run only where the card
//! can be rebuilt (the emulator). Findings are deduplicated by (class, kind); the first
//! [`Config::keep_per_kind`] of each are minimized (emulator) and saved.
//!
//! Every finding kept is verified before it is reported, where the card can be rebuilt: its
//! `.apdu` reproducer ([`crate::report::apdu_script`]) is run with the script runner (as
//! `simota run` does) on a fresh card and must fail there. When the case alone does not fail,
//! up to [`PRELUDE_MAX`] preceding cases of the run are put in front of it (the fewest that
//! make it fail, then each one that is not needed is left out again), because state left by
//! earlier cases (say, a partial concatenated message) can be what the card trips on. A
//! finding whose script never fails but which the oracles see again on a fresh card is
//! labelled [`Verdict::OraclesOnly`]; one that does not come back at all is not a finding:
//! it goes to [`RunSummary::unreproducible`].

use crate::build::{EnvelopeSpec, PacketSpec, SmsSpec};
use crate::case::{baseline_spi, canary_commands, Canary, Case, Context, Gen, Step};
use crate::class::{Class, Expect};
use crate::dut::{kvn_of, Dut, Observation};
use crate::exchange::{deliver, Delivery};
use crate::oracle::{check_step, decode_por, Finding, FindingKind, Violation};
use ota::{Counter, CounterMode, Keyset};
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};
use terminal::{Terminal, TerminalConfig};
use transport::ResetKind;

/// Run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The keyset the card has for the TAR.
    pub keys: Keyset,
    /// TAR under test.
    pub tar: [u8; 3],
    /// Seed.
    pub seed: u64,
    /// Number of cases (None: until `duration`).
    pub iterations: Option<u64>,
    /// Wall-clock limit.
    pub duration: Option<Duration>,
    /// Path of the canary EF (transparent, writable by the TAR's RFM, readable with plain
    /// APDUs); None: no canary.
    pub canary: Option<Vec<u16>>,
    /// Minimum security level of the TAR (None: from the emulator's profile, else 0).
    pub msl: Option<u8>,
    /// Only these classes (None: all that apply).
    pub classes: Option<Vec<Class>>,
    /// Add decorations (variations a correct card accepts) to cases.
    pub decorate: bool,
    /// The card's counter at the start when it cannot be read (a real card: the keyset
    /// file's counter).
    pub initial_counter: Option<Counter>,
    /// Check that the emulator's state loads every this many cases (0: only at the end).
    pub state_check_every: u64,
    /// Findings kept (minimized, saved) per (class, kind).
    pub keep_per_kind: usize,
    /// Minimize findings (needs a DUT that can be rebuilt).
    pub minimize: bool,
    /// Stop after this many findings.
    pub stop_after: Option<usize>,
}

impl Config {
    /// A configuration with the defaults: 1000 cases, decorations on, canary 3F00/2FE2.
    pub fn new(keys: Keyset, tar: [u8; 3], seed: u64) -> Self {
        Config {
            keys,
            tar,
            seed,
            iterations: Some(1000),
            duration: None,
            canary: Some(vec![0x3F00, 0x2FE2]),
            msl: None,
            classes: None,
            decorate: true,
            initial_counter: None,
            state_check_every: 1024,
            keep_per_kind: 2,
            minimize: true,
            stop_after: None,
        }
    }
}

/// Engine errors (the run could not start or had to stop).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The correct calibration packet was not accepted.
    #[error("calibration: a correct packet was not accepted ({0}); check the keyset, --tar, the counter and the canary")]
    Calibration(String),
    /// The card under test failed outside a case.
    #[error("card under test: {0}")]
    Dut(String),
}

/// Per-class statistics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassStats {
    /// Cases run.
    pub cases: u64,
    /// Findings (all, before deduplication).
    pub findings: u64,
    /// PoR statuses seen (`None` = no PoR).
    pub statuses: BTreeMap<Option<u8>, u64>,
}

/// Preceding cases a reproducer may replay before its case (see the module doc).
pub const PRELUDE_MAX: usize = 32;

/// Verification attempts per (class, kind) whose findings have not reproduced yet; beyond
/// them such findings are counted as not reproducible without replaying them.
const VERIFY_MAX: usize = 4;

/// How a finding was verified on a fresh card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `simota run` of the saved `.apdu` fails on a fresh card.
    Reproduced,
    /// The oracles (with their direct view of the card's state) see the finding again on a
    /// fresh card, but the `.apdu` script alone passes there.
    OraclesOnly,
    /// Not replayed: the card cannot be replaced by a fresh one (a card in a reader).
    Unverified,
    /// Neither the script nor the oracles see it again on a fresh card.
    NotReproducible,
}

impl Verdict {
    /// The label in reports.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::OraclesOnly => "reproduced-by-oracles-only",
            Verdict::Unverified => "unverified",
            Verdict::NotReproducible => "not-reproducible",
        }
    }
}

/// A saved finding with its reproducer.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The finding.
    pub finding: Finding,
    /// How it was verified on a fresh card.
    pub verdict: Verdict,
    /// The setup (correct packet bringing a fresh card to the counter/canary before the case),
    /// the case's ENVELOPEs, and the read-back.
    pub repro: Repro,
    /// The exchanges of the failing step as observed (C-APDU, R-APDU).
    pub exchanges: Vec<(Vec<u8>, Vec<u8>)>,
    /// The PoR TP-UD, if any.
    pub por: Option<Vec<u8>>,
    /// Whether minimization shortened it.
    pub minimized: bool,
    /// Counter before the case.
    pub counter_before: Option<Counter>,
    /// Canary before the case.
    pub canary_before: Option<Vec<u8>>,
}

/// A reproducer: what to send to a fresh card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repro {
    /// Setup ENVELOPEs (a correct packet, SPI2 01 so the PoR is in clear) with the CNTR used:
    /// they bring a fresh card to the counter and canary before the first prelude case (or,
    /// without a prelude, before the case).
    pub setup: Option<(Vec<Vec<u8>>, Counter)>,
    /// Preceding cases of the run replayed (without checks) after the setup, because the
    /// case fails only after them.
    pub prelude: Vec<Case>,
    /// The case.
    pub case: Case,
    /// A counter check after the case: a correct packet in counter mode 11 (CNTR = the
    /// counter the card must have + 1, PoR in clear), which a correct card accepts.
    pub counter_check: Option<(Vec<Vec<u8>>, Counter)>,
}

/// Progress numbers (for the live line).
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Cases done.
    pub cases: u64,
    /// Findings so far.
    pub findings: u64,
    /// Time since the start.
    pub elapsed: Duration,
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Seed.
    pub seed: u64,
    /// Cases run.
    pub cases: u64,
    /// Findings (all).
    pub findings_total: u64,
    /// Findings kept (deduplicated, minimized, verified).
    pub recorded: Vec<Recorded>,
    /// Oracle violations that did not come back on a fresh card (kept per (class, kind) like
    /// the findings); not findings.
    pub unreproducible: Vec<Recorded>,
    /// Violations not reproducible on a fresh card (all, also those not kept).
    pub unreproducible_total: u64,
    /// Per-class statistics.
    pub classes: BTreeMap<Class, ClassStats>,
    /// State-load failures (emulator).
    pub state_failures: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// The card's name.
    pub card: String,
    /// Notes for the user (e.g. a disabled oracle).
    pub notes: Vec<String>,
}

impl RunSummary {
    /// Cases per second.
    pub fn rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.cases as f64 / s
        } else {
            0.0
        }
    }
}

/// The fuzzer.
pub struct Fuzzer<D: Dut> {
    cfg: Config,
    dut: D,
    term: Terminal,
    kvn: u8,
    msl: u8,
    known_tars: Vec<[u8; 3]>,
    model_counter: Counter,
    last: Option<Observation>,
    pool: Vec<Class>,
    canary_original: Option<Vec<u8>>,
    /// The last cases since the card was last rebuilt, with the observation before each (a
    /// reproducer's prelude comes from here).
    history: VecDeque<(Case, Observation)>,
    /// Bumped by every [`Fuzzer::recover`] (the history then starts again).
    generation: u64,
}

fn probe(card: &mut dyn transport::Transport) -> Result<(), String> {
    let ok = |r: &[u8]| r.len() >= 2 && matches!(r[r.len() - 2], 0x90 | 0x91 | 0x61 | 0x6C | 0x9F);
    let status = card.transmit(&[0x80, 0xF2, 0x00, 0x0C, 0x00]);
    match &status {
        Ok(r) if ok(r) => return Ok(()),
        Err(e) => return Err(format!("STATUS: {e}")),
        Ok(_) => {}
    }
    match card.transmit(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00]) {
        Ok(r) if ok(&r) && r[r.len() - 2] != 0x6C => Ok(()),
        Ok(r) => Err(format!(
            "STATUS answered {}, SELECT MF answered {}",
            status.map(|s| apdu::hex::encode(&s)).unwrap_or_default(),
            apdu::hex::encode(&r)
        )),
        Err(e) => Err(format!("SELECT MF: {e}")),
    }
}

/// Reproducer scripts include nothing.
struct NoInclude;

impl script::native::Loader for NoInclude {
    fn read(&mut self, path: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::other(format!(
            "{}: a reproducer includes nothing",
            path.display()
        )))
    }
}

impl<D: Dut> Fuzzer<D> {
    /// A fuzzer for `dut`.
    pub fn new(cfg: Config, mut dut: D) -> Self {
        let kvn = kvn_of(&cfg.keys);
        let tars = dut.known_tars();
        let msl = cfg.msl.unwrap_or_else(|| {
            tars.iter()
                .find(|t| t.0 == cfg.tar)
                .and_then(|t| t.1)
                .unwrap_or(0)
        });
        let known_tars: Vec<[u8; 3]> = tars.iter().map(|t| t.0).collect();
        let rebuildable = dut.trusted_counter();
        let keys = &cfg.keys;
        let has_kic = keys.kic_alg().is_some();
        let has_cc = keys
            .kid_alg()
            .is_some_and(|a| a.mode() == ota::IntegrityMode::Cc);
        let pool = Class::ALL
            .iter()
            .copied()
            .filter(|c| cfg.classes.as_ref().is_none_or(|v| v.contains(c)))
            .filter(|c| rebuildable || !c.destructive())
            .filter(|c| msl != 0 || *c != Class::HdrBelowMsl)
            .filter(|c| {
                has_kic
                    || !matches!(
                        c,
                        Class::CryptoCipherFlagOff
                            | Class::CryptoUnaligned
                            | Class::PcntrTooLarge
                            | Class::PcntrStealsData
                            | Class::HdrKicAlg
                            | Class::CryptoBitflip
                            | Class::CryptoWrongKey
                    )
            })
            .filter(|c| {
                has_cc
                    || !matches!(
                        c,
                        Class::CryptoWrongMac
                            | Class::CryptoMacWrongKey
                            | Class::CryptoCcFieldShort
                            | Class::CryptoShortCc
                            | Class::HdrKidAlg
                    )
            })
            .collect();
        Fuzzer {
            model_counter: cfg.initial_counter.unwrap_or_default(),
            cfg,
            dut,
            term: Terminal::new(TerminalConfig::default()),
            kvn,
            msl,
            known_tars,
            last: None,
            pool,
            canary_original: None,
            history: VecDeque::with_capacity(PRELUDE_MAX + 1),
            generation: 0,
        }
    }

    /// The classes this run draws from.
    pub fn pool(&self) -> &[Class] {
        &self.pool
    }

    /// The card under test.
    pub fn dut(&mut self) -> &mut D {
        &mut self.dut
    }

    /// The minimum security level in force for the TAR.
    pub fn msl(&self) -> u8 {
        self.msl
    }

    fn observe(&mut self) -> Result<Observation, String> {
        let canary = self.cfg.canary.clone();
        let mut o = self
            .dut
            .observe(self.kvn, canary.as_deref())
            .map_err(|e| e.to_string())?;
        if o.counter.is_none() {
            o.counter = None;
        }
        Ok(o)
    }

    fn stored(&self, pre: &Observation) -> Counter {
        pre.counter.unwrap_or(self.model_counter)
    }

    fn start_session(&mut self) {
        let _ = self.term.terminal_profile(self.dut.transport());
        self.term.clear_records();
    }

    fn context<'a>(&'a self, pre: &Observation, canary: Option<&'a Canary>) -> Context<'a> {
        Context {
            keys: &self.cfg.keys,
            tar: self.cfg.tar,
            msl: self.msl,
            stored: self.stored(pre),
            canary,
            known_tars: &self.known_tars,
        }
    }

    fn canary_of(&self, pre: &Observation) -> Option<Canary> {
        match (&self.cfg.canary, &pre.canary) {
            (Some(p), Some(c)) => Some(Canary {
                path: p.clone(),
                content: c.clone(),
            }),
            _ => None,
        }
    }

    /// Run one step against the DUT: deliver, probe, observe, check.
    fn run_step(
        &mut self,
        step: &Step,
        pre: &Observation,
    ) -> (Vec<Violation>, Observation, Delivery, Option<u8>) {
        let d = deliver(self.dut.transport(), &mut self.term, &step.apdus);
        let mut panic = self.dut.take_panic();
        let pr = if panic.is_some() {
            Err("the card panicked".to_string())
        } else {
            probe(self.dut.transport())
        };
        if panic.is_none() {
            panic = self.dut.take_panic();
        }
        let post = match self.observe() {
            Ok(o) => o,
            Err(_) => Observation {
                counter: pre.counter,
                canary: pre.canary.clone(),
            },
        };
        let por = decode_por(&d, step, &self.cfg.keys);
        let mut v = check_step(step, &d, &por, pre, &post, pr);
        if let Some(p) = panic {
            v.retain(|x| x.kind != FindingKind::Panic);
            v.insert(
                0,
                Violation {
                    kind: FindingKind::Panic,
                    expected: "no panic".into(),
                    observed: p,
                },
            );
        }
        let status = por.as_ref().and_then(|p| p.status());
        if status == Some(0)
            && matches!(
                step.spi().counter,
                CounterMode::Higher | CounterMode::OneHigher
            )
        {
            self.model_counter = step.cntr;
        }
        (v, post, d, status)
    }

    /// Where the counter cannot be read (a real card), bring the model back in step after a
    /// step whose effect on the counter is unknown (no PoR in a counted mode, or an accepted
    /// mode-01 packet): a correct packet with CNTR = max(model, CNTR) + 1 and a clear PoR
    /// must be accepted. If it gets another status, the counter moved where no correct card
    /// moves it.
    fn resync(&mut self, step: &Step, status: Option<u8>) -> Option<Violation> {
        if self.dut.trusted_counter() {
            return None;
        }
        let mode = step.spi().counter;
        let counted = matches!(mode, CounterMode::Higher | CounterMode::OneHigher);
        let unknown =
            (counted && status.is_none()) || (mode == CounterMode::NoCheck && status == Some(0));
        if !unknown {
            return None;
        }
        let next = self.model_counter.max(step.cntr).next()?;
        let sync = self.setup_step(next, None, &[]);
        let d = deliver(self.dut.transport(), &mut self.term, &sync.apdus);
        let got = decode_por(&d, &sync, &self.cfg.keys).and_then(|p| p.status());
        self.model_counter = next;
        if got == Some(0) {
            return None;
        }
        Some(Violation {
            kind: FindingKind::SideEffect,
            expected: format!(
                "the card's counter at most {} after the step, so a correct packet with CNTR {next} is accepted",
                self.model_counter.value().saturating_sub(1)
            ),
            observed: match got {
                Some(s) => format!("that packet got PoR status {s:02X}"),
                None => "that packet got no PoR".into(),
            },
        })
    }

    fn recover(&mut self) -> Result<(), String> {
        if self.dut.rebuild()? {
            self.model_counter = self.cfg.initial_counter.unwrap_or_default();
        } else {
            self.dut
                .transport()
                .reset(ResetKind::Cold)
                .map_err(|e| e.to_string())?;
        }
        self.start_session();
        self.last = None;
        self.history.clear();
        self.generation += 1;
        Ok(())
    }

    /// A correct packet that brings the card to counter `c` and canary `canary` (SPI2 01: PoR
    /// always, in clear) — the setup of a reproducer, and the calibration.
    pub fn setup_step(&self, c: Counter, canary: Option<&Canary>, content: &[u8]) -> Step {
        let mode = if c.value() == 0 {
            CounterMode::NoCounter
        } else {
            CounterMode::Higher
        };
        let mut spi = baseline_spi(&self.cfg.keys, mode);
        spi[1] = 0x01;
        let data = canary_commands(canary, content).concat();
        let p = PacketSpec::new(spi, &self.cfg.keys, self.cfg.tar, c.to_bytes(), data);
        let packet = p.seal(&self.cfg.keys, &self.cfg.keys).unwrap_or_default();
        let sms = SmsSpec::default();
        let env = EnvelopeSpec::default();
        let apdus = sms
            .user_data(&packet)
            .iter()
            .map(|u| env.apdu(&sms.tpdu(u)))
            .collect();
        Step {
            apdus,
            spi,
            cntr: c,
            tar: self.cfg.tar,
            expect: Expect::Accepted,
            canary_after: canary.map(|_| content.to_vec()),
            reset_after: false,
        }
    }

    /// Send a correct packet and require it to be accepted.
    pub fn calibrate(&mut self) -> Result<(), EngineError> {
        self.start_session();
        let pre = self.observe().map_err(EngineError::Dut)?;
        self.canary_original = pre.canary.clone();
        let canary = self.canary_of(&pre);
        let ctx = self.context(&pre, canary.as_ref());
        let case = Gen::new(ctx, self.cfg.seed, 0).case(Class::ValidCompact, false);
        let Some(step) = case.steps.first().cloned() else {
            return Err(EngineError::Calibration("no step".into()));
        };
        let (v, post, d, status) = self.run_step(&step, &pre);
        if v.len() == 1
            && v[0].kind == FindingKind::MissingEffect
            && status == Some(0)
            && v[0].expected.contains("canary")
        {
            return Err(EngineError::Calibration(format!(
                "the packet was accepted but the canary {} was not written; is {} an RFM TAR \
                 that may update it? (use --canary none for other TARs)",
                self.cfg
                    .canary
                    .as_deref()
                    .map(crate::dut::path_text)
                    .unwrap_or_default(),
                apdu::hex::encode(&self.cfg.tar)
            )));
        }
        if !v.is_empty() || (status != Some(0) && step.spi().por == ota::PorRequest::Always) {
            let why = v
                .iter()
                .map(|x| format!("{}: {}", x.kind, x.observed))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(EngineError::Calibration(format!(
                "{} (SW {})",
                if why.is_empty() {
                    "no PoR".to_string()
                } else {
                    why
                },
                d.sws
                    .iter()
                    .map(|s| format!("{s:04X}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )));
        }
        self.last = Some(post);
        Ok(())
    }

    /// Run the cases; `progress` is called about every 64 cases.
    pub fn run(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<RunSummary, EngineError> {
        let start = Instant::now();
        self.calibrate()?;
        let mut classes: BTreeMap<Class, ClassStats> = BTreeMap::new();
        let mut recorded: Vec<Recorded> = Vec::new();
        let mut unreproducible: Vec<Recorded> = Vec::new();
        let mut unreproducible_total = 0u64;
        let mut kept: BTreeMap<(Class, FindingKind), usize> = BTreeMap::new();
        let mut tries: BTreeMap<(Class, FindingKind), usize> = BTreeMap::new();
        let mut total = 0u64;
        let mut state_failures = Vec::new();
        let mut notes = Vec::new();
        let mut n = 0u64;
        let limit = self.cfg.iterations;
        loop {
            if let Some(l) = limit {
                if n >= l {
                    break;
                }
            }
            if n.is_multiple_of(64) {
                if let Some(d) = self.cfg.duration {
                    if start.elapsed() >= d {
                        break;
                    }
                }
                progress(&Progress {
                    cases: n,
                    findings: total,
                    elapsed: start.elapsed(),
                });
            }
            if let Some(s) = self.cfg.stop_after {
                if total as usize >= s {
                    break;
                }
            }
            n += 1;
            let pre = match self.last.take() {
                Some(o) => o,
                None => self.observe().map_err(EngineError::Dut)?,
            };
            let generation = self.generation;
            let canary = self.canary_of(&pre);
            let ctx = self.context(&pre, canary.as_ref());
            let mut g = Gen::new(ctx, self.cfg.seed, n);
            let class = g.pick_class(&self.pool);
            let case = g.case(class, self.cfg.decorate);
            let stats = classes.entry(class).or_default();
            stats.cases += 1;
            let mut cur = pre.clone();
            let mut found: Option<(Finding, Delivery, Option<Vec<u8>>)> = None;
            let mut broken = false;
            for (i, step) in case.steps.iter().enumerate() {
                let (mut v, post, d, status) = self.run_step(step, &cur);
                if let Some(x) = self.resync(step, status) {
                    v.push(x);
                }
                *classes
                    .entry(class)
                    .or_default()
                    .statuses
                    .entry(status)
                    .or_default() += 1;
                broken = v
                    .iter()
                    .any(|x| matches!(x.kind, FindingKind::Panic | FindingKind::NoAnswer));
                if !v.is_empty() && found.is_none() {
                    let por = d.por.as_ref().map(|p| p.1.clone());
                    found = Some((
                        Finding {
                            case: n,
                            class,
                            path: case.path.clone(),
                            step: i,
                            violations: v,
                        },
                        d,
                        por,
                    ));
                }
                if step.reset_after {
                    let _ = self.dut.transport().reset(ResetKind::Cold);
                    self.start_session();
                }
                cur = post;
                if broken {
                    break;
                }
            }
            self.last = Some(cur);
            // The cases before this one, as a reproducer's prelude may need them.
            let before: Vec<(Case, Observation)> = if found.is_some() {
                self.history.iter().cloned().collect()
            } else {
                Vec::new()
            };
            if case.rebuild_after || broken {
                self.recover().map_err(EngineError::Dut)?;
            }
            if let Some((f, d, por)) = found {
                let key = (class, f.kind());
                let k = kept.get(&key).copied().unwrap_or(0);
                let t = tries.entry(key).or_default();
                let verdict = if k < self.cfg.keep_per_kind && *t < VERIFY_MAX + k {
                    *t += 1;
                    let rec = self.record(f, &case, &pre, d, por, &before);
                    let v = rec.verdict;
                    if v == Verdict::NotReproducible {
                        if unreproducible.len() < self.cfg.keep_per_kind * 4 {
                            unreproducible.push(rec);
                        }
                    } else {
                        *kept.entry(key).or_default() += 1;
                        recorded.push(rec);
                    }
                    v
                } else if k > 0 {
                    // Another one of a kind already reproduced.
                    Verdict::Unverified
                } else {
                    Verdict::NotReproducible
                };
                if verdict == Verdict::NotReproducible {
                    unreproducible_total += 1;
                } else {
                    total += 1;
                    classes.entry(class).or_default().findings += 1;
                }
            }
            if generation == self.generation {
                if self.history.len() == PRELUDE_MAX {
                    self.history.pop_front();
                }
                self.history.push_back((case, pre));
            }
            if self.cfg.state_check_every > 0 && n.is_multiple_of(self.cfg.state_check_every) {
                if let Err(e) = self.dut.state_loads() {
                    total += 1;
                    state_failures.push(format!("after case {n}: {e}"));
                }
            }
        }
        if let Err(e) = self.dut.state_loads() {
            total += 1;
            state_failures.push(format!("at the end: {e}"));
        }
        self.restore_canary(&mut notes);
        progress(&Progress {
            cases: n,
            findings: total,
            elapsed: start.elapsed(),
        });
        Ok(RunSummary {
            seed: self.cfg.seed,
            cases: n,
            findings_total: total,
            recorded,
            unreproducible,
            unreproducible_total,
            classes,
            state_failures,
            elapsed: start.elapsed(),
            card: self.dut.name(),
            notes,
        })
    }

    fn restore_canary(&mut self, notes: &mut Vec<String>) {
        let (Some(orig), Some(path)) = (self.canary_original.clone(), self.cfg.canary.clone())
        else {
            return;
        };
        let Ok(pre) = self.observe() else { return };
        if pre.canary.as_ref() == Some(&orig) {
            return;
        }
        let c = Canary {
            path,
            content: orig.clone(),
        };
        let next = self.stored(&pre).next().unwrap_or(Counter::MAX);
        let step = self.setup_step(next, Some(&c), &orig);
        let (v, post, _, _) = self.run_step(&step, &pre);
        if !v.is_empty() || post.canary.as_ref() != Some(&orig) {
            notes.push(format!(
                "the canary could not be restored to {}",
                apdu::hex::encode(&orig)
            ));
        }
    }

    /// The setup of a reproducer: a correct packet bringing a fresh card to the counter and
    /// canary of `pre`.
    fn setup_for(&self, pre: &Observation) -> Option<(Vec<Vec<u8>>, Counter)> {
        let canary = self.canary_of(pre);
        let stored = self.stored(pre);
        let s = self.setup_step(
            stored,
            canary.as_ref(),
            canary.as_ref().map(|c| c.content.as_slice()).unwrap_or(&[]),
        );
        Some((s.apdus, stored))
    }

    /// Build the reproducer of a finding; on a rebuildable DUT, minimize it (drop the
    /// decorations, drop ENVELOPEs, drop the setup) while the same kind still reproduces on
    /// a fresh card, then verify it (module doc): `history` holds the cases before it.
    fn record(
        &mut self,
        finding: Finding,
        case: &Case,
        pre: &Observation,
        d: Delivery,
        por: Option<Vec<u8>>,
        history: &[(Case, Observation)],
    ) -> Recorded {
        let canary = self.canary_of(pre);
        let stored = self.stored(pre);
        let mut repro = Repro {
            setup: self.setup_for(pre),
            prelude: Vec::new(),
            case: case.clone(),
            counter_check: None,
        };
        let mut minimized = false;
        let rebuildable = self.dut.trusted_counter();
        if self.cfg.minimize && rebuildable && finding.kind() != FindingKind::StateLoad {
            let kind = finding.kind();
            // 1. without decorations
            if self.cfg.decorate {
                let ctx = self.context(pre, canary.as_ref());
                let plain = Gen::new(ctx, self.cfg.seed, case.number).case(case.class, false);
                if plain != *case {
                    let cand = Repro {
                        case: plain,
                        ..repro.clone()
                    };
                    if self.reproduces(&cand, kind) {
                        repro = cand;
                        minimized = true;
                    }
                }
            }
            // 2. drop ENVELOPEs one at a time (multi-segment steps)
            let mut si = 0;
            while si < repro.case.steps.len() {
                let mut ai = 0;
                while repro.case.steps[si].apdus.len() > 1 && ai < repro.case.steps[si].apdus.len()
                {
                    let mut cand = repro.clone();
                    cand.case.steps[si].apdus.remove(ai);
                    if self.reproduces(&cand, kind) {
                        repro = cand;
                        minimized = true;
                    } else {
                        ai += 1;
                    }
                }
                si += 1;
            }
            let _ = self.recover();
        }
        repro.counter_check = self.counter_check(&repro, stored, &finding);
        let mut rec = Recorded {
            finding,
            verdict: Verdict::Unverified,
            repro,
            exchanges: d.exchanges,
            por,
            minimized,
            counter_before: pre.counter,
            canary_before: pre.canary.clone(),
        };
        if rebuildable {
            self.verify(&mut rec, history);
            let _ = self.recover();
        }
        rec
    }

    /// Replay the reproducer's script on fresh cards: alone, else with the fewest preceding
    /// cases that make it fail (then without each one it does not need); else ask the
    /// oracles. Sets `rec.verdict` (and `rec.repro.prelude`/`setup`).
    fn verify(&mut self, rec: &mut Recorded, history: &[(Case, Observation)]) {
        if self.script_fails(rec) {
            rec.verdict = Verdict::Reproduced;
            return;
        }
        let original = rec.repro.clone();
        for k in 1..=history.len().min(PRELUDE_MAX) {
            let from = history.len() - k;
            let mut cand = rec.clone();
            cand.repro.setup = self.setup_for(&history[from].1);
            cand.repro.prelude = history[from..].iter().map(|(c, _)| c.clone()).collect();
            if !self.script_fails(&cand) {
                continue;
            }
            // The oldest is needed (one fewer did not fail); try without each later one.
            let mut i = 1;
            while i < cand.repro.prelude.len() {
                let mut fewer = cand.clone();
                fewer.repro.prelude.remove(i);
                if self.script_fails(&fewer) {
                    cand = fewer;
                } else {
                    i += 1;
                }
            }
            *rec = cand;
            rec.verdict = Verdict::Reproduced;
            return;
        }
        let kind = rec.finding.kind();
        if self.reproduces(&original, kind) {
            rec.verdict = Verdict::OraclesOnly;
            return;
        }
        if !history.is_empty() {
            let mut cand = original.clone();
            cand.setup = self.setup_for(&history[0].1);
            cand.prelude = history.iter().map(|(c, _)| c.clone()).collect();
            if self.reproduces(&cand, kind) {
                rec.repro = cand;
                rec.verdict = Verdict::OraclesOnly;
                return;
            }
        }
        rec.verdict = Verdict::NotReproducible;
    }

    /// The parameters the reproducer scripts are written with.
    pub fn report_context(&self) -> crate::report::ReportContext {
        crate::report::ReportContext {
            tar: self.cfg.tar,
            kvn: self.kvn,
            canary: self.cfg.canary.clone(),
            terminal_profile: TerminalConfig::default().profile.0,
            card: self.dut.name(),
        }
    }

    /// Run `rec`'s `.apdu` script with the script runner on a fresh card (as `simota run`
    /// does); true when it fails (a failed expectation, or the card stops answering).
    fn script_fails(&mut self, rec: &Recorded) -> bool {
        if !matches!(self.dut.rebuild(), Ok(true)) {
            return false;
        }
        let text = crate::report::apdu_script(rec, self.cfg.seed, &self.report_context());
        let Ok(script) = script::parse_str(
            "finding.apdu",
            &text,
            script::Format::Native,
            &mut NoInclude,
        ) else {
            return false;
        };
        let mut term = Terminal::new(TerminalConfig::default());
        let code = script::Runner::new(self.dut.transport(), script::RunOptions::default())
            .with_toolkit(&mut term)
            .run(&script)
            .exit_code();
        let _ = self.dut.take_panic();
        code != 0
    }

    /// The counter a correct card has after the reproducer's steps, when it is determined,
    /// as a mode-11 check packet (CNTR = that + 1).
    fn counter_check(
        &self,
        r: &Repro,
        before: Counter,
        f: &Finding,
    ) -> Option<(Vec<Vec<u8>>, Counter)> {
        self.cfg.keys.kid_alg()?;
        let mut c = before;
        for (i, st) in r.case.steps.iter().enumerate() {
            let counted = matches!(
                st.spi().counter,
                CounterMode::Higher | CounterMode::OneHigher
            );
            match st.expect {
                Expect::Rejected(_) | Expect::Refused => {}
                Expect::Accepted | Expect::Executed if counted => c = st.cntr,
                Expect::Accepted | Expect::Executed
                    if st.spi().counter == CounterMode::NoCounter => {}
                _ if i == f.step && f.kind() == FindingKind::CounterBackwards => {}
                _ => return None,
            }
        }
        let next = c.next()?;
        let mut step = self.setup_step(next, None, &[]);
        // Mode 11: only exactly stored + 1 is accepted.
        let mut spi = baseline_spi(&self.cfg.keys, CounterMode::OneHigher);
        spi[1] = 0x01;
        let data = canary_commands(None, &[]).concat();
        let p = PacketSpec::new(spi, &self.cfg.keys, self.cfg.tar, next.to_bytes(), data);
        let packet = p.seal(&self.cfg.keys, &self.cfg.keys).ok()?;
        let sms = SmsSpec::default();
        let env = EnvelopeSpec::default();
        step.apdus = sms
            .user_data(&packet)
            .iter()
            .map(|u| env.apdu(&sms.tpdu(u)))
            .collect();
        Some((step.apdus, next))
    }

    /// Replay a reproducer on a fresh card and tell whether `kind` shows up again.
    fn reproduces(&mut self, r: &Repro, kind: FindingKind) -> bool {
        if self.recover().is_err() {
            return false;
        }
        let Ok(mut pre) = self.observe() else {
            return false;
        };
        if let Some((apdus, _)) = &r.setup {
            let _ = deliver(self.dut.transport(), &mut self.term, apdus);
            if self.dut.take_panic().is_some() {
                return false;
            }
            let Ok(o) = self.observe() else { return false };
            pre = o;
        }
        for step in r.prelude.iter().flat_map(|c| &c.steps) {
            let _ = deliver(self.dut.transport(), &mut self.term, &step.apdus);
            let _ = probe(self.dut.transport());
            if step.reset_after {
                let _ = self.dut.transport().reset(ResetKind::Cold);
                self.start_session();
            }
            if self.dut.take_panic().is_some() {
                return false;
            }
        }
        if !r.prelude.is_empty() {
            let Ok(o) = self.observe() else { return false };
            pre = o;
        }
        for step in &r.case.steps {
            let (v, post, _, _) = self.run_step(step, &pre);
            if v.iter().any(|x| x.kind == kind) {
                return true;
            }
            pre = post;
        }
        false
    }
}
