//! Proof that the fuzzer finds real misbehaviour: two deliberately broken cards — wrappers
//! around the emulated card that (1) forge the CC check when PCNTR > 0, (2) store the
//! counter of a packet whose CC is wrong — must be reported within a bounded number of
//! cases, while the same runs against the correct card report nothing.

use fuzz::class::Class;
use fuzz::dut::EmulatedCard;
use fuzz::{Config, EmulatedDut, FindingKind, Fuzzer, RunSummary};
use ota::Keyset;
use transport::{Emulator, ResetKind, Transport, TransportError};

fn aes_keys() -> Keyset {
    fuzz::dut::default_profile_keyset(1).unwrap()
}

/// The command packet inside an SMS-PP ENVELOPE (single segment), and its offset.
fn packet_of(capdu: &[u8]) -> Option<(usize, Vec<u8>)> {
    if capdu.get(..2)? != [0x80, 0xC2] {
        return None;
    }
    let lc = usize::from(*capdu.get(4)?);
    let env = ota::SmsPpDownload::parse(capdu.get(5..5 + lc)?).ok()?;
    let d = ota::sms::SmsDeliver::parse(&env.tpdu).ok()?;
    let (udh, used) = ota::sms::Udh::parse(&d.ud).ok()?;
    if udh.find(0x70).is_none() || udh.find(0x00).is_some() || udh.find(0x08).is_some() {
        return None;
    }
    let p = d.ud.get(used..)?.to_vec();
    let at = capdu.windows(p.len()).position(|w| w == p.as_slice())?;
    Some((at, p))
}

/// Decipher CNTR..end; returns the plaintext and the RC/CC length.
fn plain_of(p: &[u8], keys: &Keyset) -> Option<(Vec<u8>, usize)> {
    let s = ota::SecuredCommand::parse(p).ok()?;
    if !s.header().spi.ciphering {
        return None;
    }
    let mut plain = p.get(10..)?.to_vec();
    keys.decrypt(&mut plain).ok()?;
    Some((plain, s.header().integrity_len()))
}

fn cc_ok(p: &[u8], plain: &[u8], ilen: usize, keys: &Keyset) -> bool {
    let Ok(c) = keys.checksum(&[&p[..10], &plain[..6], &plain[6 + ilen..]], ilen) else {
        return true;
    };
    c.as_bytes() == &plain[6..6 + ilen]
}

/// Broken card 1: when PCNTR > 0 a wrong CC is "fixed" before the card sees it — as if the
/// card skipped the CC check for padded packets.
struct SkipCcWhenPadded {
    inner: Emulator,
    keys: Keyset,
}

impl Transport for SkipCcWhenPadded {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if let Some((at, p)) = packet_of(capdu) {
            if let Some((mut plain, ilen)) = plain_of(&p, &self.keys) {
                let pcntr = plain.get(5).copied().unwrap_or(0);
                if pcntr > 0
                    && ilen > 0
                    && plain.len() >= 6 + ilen
                    && !cc_ok(&p, &plain, ilen, &self.keys)
                {
                    let c = self
                        .keys
                        .checksum(&[&p[..10], &plain[..6], &plain[6 + ilen..]], ilen)
                        .unwrap();
                    plain[6..6 + ilen].copy_from_slice(c.as_bytes());
                    self.keys.encrypt(&mut plain).unwrap();
                    let mut forged = capdu.to_vec();
                    forged[at + 10..at + p.len()].copy_from_slice(&plain);
                    return self.inner.transmit(&forged);
                }
            }
        }
        self.inner.transmit(capdu)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        "broken: skips the CC check when PCNTR > 0".into()
    }
}

impl EmulatedCard for SkipCcWhenPadded {
    fn card(&mut self) -> &mut uicc::Card {
        self.inner.card()
    }
}

/// Broken card 2: a packet whose CC is wrong still gets its counter stored (as if the card
/// stored CNTR before the checks). The PoR the host sees is the card's correct one.
struct CounterBeforeChecks {
    inner: Emulator,
    keys: Keyset,
}

impl Transport for CounterBeforeChecks {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let r = self.inner.transmit(capdu)?;
        if let Some((_, p)) = packet_of(capdu) {
            if let Some((plain, ilen)) = plain_of(&p, &self.keys) {
                if ilen > 0 && plain.len() >= 6 + ilen && !cc_ok(&p, &plain, ilen, &self.keys) {
                    let cntr = ota::Counter::from_bytes([
                        plain[0], plain[1], plain[2], plain[3], plain[4],
                    ]);
                    // Store it: a correct no-op packet with that CNTR, no PoR.
                    let spi = ota::Spi::from_bytes([0x16, 0x00]);
                    let pk = ota::CommandPacket::new(
                        spi,
                        &self.keys,
                        ota::Tar([0xB0, 0, 0]),
                        cntr,
                        vec![],
                    )
                    .seal(&self.keys)
                    .unwrap();
                    let sms = fuzz::build::SmsSpec::default();
                    let env = fuzz::build::EnvelopeSpec::default();
                    for ud in sms.user_data(&pk) {
                        let _ = self.inner.transmit(&env.apdu(&sms.tpdu(&ud)));
                    }
                }
            }
        }
        Ok(r)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        "broken: stores the counter before the CC check".into()
    }
}

impl EmulatedCard for CounterBeforeChecks {
    fn card(&mut self) -> &mut uicc::Card {
        self.inner.card()
    }
}

/// The bound: every broken card must be caught within this many cases.
const BOUND: u64 = 600;

fn config(seed: u64) -> Config {
    let mut c = Config::new(aes_keys(), [0xB0, 0x00, 0x00], seed);
    c.iterations = Some(BOUND);
    // Every class runs (`classes` stays None), `cntr.mode01-lower` included: it found the
    // counter going backwards before the card was fixed, so the correct card must stay clean.
    c
}

fn run_correct(seed: u64) -> RunSummary {
    let dut = EmulatedDut::from_profile(uicc::Profile::default_profile()).unwrap();
    Fuzzer::new(config(seed), dut).run(&mut |_| {}).unwrap()
}

fn describe(s: &RunSummary) -> String {
    s.recorded
        .iter()
        .map(|r| {
            format!(
                "case {} {} {}: {:?}",
                r.finding.case,
                r.finding.class,
                r.finding.kind(),
                r.finding.violations.first()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn correct_card_gives_no_findings() {
    for seed in [1, 2, 3] {
        let s = run_correct(seed);
        assert_eq!(s.cases, BOUND);
        assert_eq!(s.findings_total, 0, "seed {seed}:\n{}", describe(&s));
    }
}

/// Run the fuzzer with `seed` against the broken card `make` builds, until its first
/// finding, which must come within [`BOUND`] cases; returns the run.
fn first_finding<T: EmulatedCard + 'static>(
    seed: u64,
    label: &str,
    make: fn(Emulator, Keyset) -> T,
) -> RunSummary {
    let dut = EmulatedDut::new(Box::new(move || {
        let inner = Emulator::default_card().map_err(|e| e.to_string())?;
        Ok(make(inner, aes_keys()))
    }))
    .unwrap();
    let mut cfg = config(seed);
    cfg.stop_after = Some(1);
    let s = Fuzzer::new(cfg, dut).run(&mut |_| {}).unwrap();
    assert!(
        s.findings_total > 0,
        "{label}, seed {seed}: not found in {BOUND} cases"
    );
    let f = &s.recorded[0].finding;
    eprintln!(
        "{label}, seed {seed}: found at case {} ({})",
        f.case, f.class
    );
    assert!(f.case <= BOUND);
    s
}

#[test]
fn skipped_cc_check_is_found() {
    for seed in [1, 2, 3] {
        let s = first_finding(seed, "skip-CC card", |inner, keys| SkipCcWhenPadded {
            inner,
            keys,
        });
        let f = &s.recorded[0].finding;
        assert!(
            f.violations
                .iter()
                .any(|v| matches!(v.kind, FindingKind::WrongStatus | FindingKind::SideEffect)),
            "{}",
            describe(&s)
        );
        assert!(
            f.class.name().starts_with("crypto.") || f.class.name().starts_with("hdr."),
            "{}",
            describe(&s)
        );
    }
}

#[test]
fn counter_stored_before_checks_is_found() {
    for seed in [1, 2, 3] {
        let s = first_finding(seed, "counter-first card", |inner, keys| {
            CounterBeforeChecks { inner, keys }
        });
        assert!(
            s.recorded[0]
                .finding
                .violations
                .iter()
                .any(|v| v.kind == FindingKind::SideEffect),
            "{}",
            describe(&s)
        );
    }
}

/// Run a saved reproducer with the script runner (as `simota run` does).
fn replay(path: &std::path::Path, card: &mut dyn Transport) -> u8 {
    let s = script::load(path.to_str().unwrap(), None).unwrap();
    let mut term = terminal::Terminal::new(terminal::TerminalConfig::default());
    let mut r = script::Runner::new(card, script::RunOptions::default()).with_toolkit(&mut term);
    let run = r.run(&s);
    assert!(run.checks() > 0);
    run.exit_code()
}

fn ctx() -> fuzz::report::ReportContext {
    fuzz::report::ReportContext {
        tar: [0xB0, 0, 0],
        kvn: 1,
        canary: Some(vec![0x3F00, 0x2FE2]),
        terminal_profile: terminal::TerminalConfig::default().profile.0,
        card: "test".into(),
    }
}

#[test]
fn reproducers_fail_on_the_broken_card_and_pass_on_the_correct_one() {
    let dut = EmulatedDut::new(Box::new(|| {
        Ok(SkipCcWhenPadded {
            inner: Emulator::default_card().map_err(|e| e.to_string())?,
            keys: aes_keys(),
        })
    }))
    .unwrap();
    let mut cfg = config(5);
    cfg.stop_after = Some(3);
    let s = Fuzzer::new(cfg, dut).run(&mut |_| {}).unwrap();
    assert!(!s.recorded.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let files = fuzz::report::save(dir.path(), &s, &ctx()).unwrap();
    assert_eq!(files.len(), s.recorded.len());
    for f in &files {
        let json = std::fs::read_to_string(f.with_extension("json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["seed"], 5);
        let mut good = Emulator::default_card().unwrap();
        assert_eq!(
            replay(f, &mut good),
            0,
            "{}",
            std::fs::read_to_string(f).unwrap()
        );
        let mut bad = SkipCcWhenPadded {
            inner: Emulator::default_card().unwrap(),
            keys: aes_keys(),
        };
        assert_eq!(
            replay(f, &mut bad),
            1,
            "{}",
            std::fs::read_to_string(f).unwrap()
        );
    }
}

#[test]
fn same_seed_same_cases() {
    let a = run_correct(11);
    let b = run_correct(11);
    assert_eq!(a.classes, b.classes);
    let c = run_correct(12);
    assert_ne!(a.classes, c.classes);
}

#[test]
fn reader_path_with_plain_apdu_observation_gives_no_findings() {
    // The emulated card driven as if it were a card in a reader: the canary is read with
    // plain APDUs, the counter is tracked from PoRs, destructive classes stay off.
    let dut = fuzz::ReaderDut::new(Emulator::default_card().unwrap());
    let s = Fuzzer::new(config(4), dut).run(&mut |_| {}).unwrap();
    assert_eq!(s.cases, BOUND);
    assert!(!s.classes.contains_key(&Class::CntrMax));
    assert_eq!(s.findings_total, 0, "{}", describe(&s));
}

#[test]
fn reader_path_notices_a_counter_moved_behind_its_back() {
    // Without direct state access the stored counter of a rejected packet shows up on the
    // next correct packet (02), one case later.
    let card = CounterBeforeChecks {
        inner: Emulator::default_card().unwrap(),
        keys: aes_keys(),
    };
    let mut cfg = config(6);
    cfg.stop_after = Some(1);
    let s = Fuzzer::new(cfg, fuzz::ReaderDut::new(card))
        .run(&mut |_| {})
        .unwrap();
    assert!(s.findings_total > 0, "not found in {BOUND} cases");
}

/// Broken card 3, whose misbehaviour needs state from an earlier case: after a PoR with
/// status 01 (RC/CC wrong) it corrupts the next single-segment packet it gets (its last
/// byte), until the next reset — as the card once let a stale partial concatenated message
/// spoil the next one. The case that trips over it passes alone on a fresh card.
struct SpoilsAfterBadMac {
    inner: Emulator,
    armed: bool,
}

impl Transport for SpoilsAfterBadMac {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut c = capdu.to_vec();
        if self.armed {
            if let Some((at, p)) = packet_of(capdu) {
                c[at + p.len() - 1] ^= 0x01;
                self.armed = false;
            }
        }
        let mut r = self.inner.transmit(&c)?;
        if r.len() == 2 && r[0] == 0x61 {
            // See the PoR: take it here and hand it on as 9000 + data.
            r = self.inner.transmit(&[0x00, 0xC0, 0x00, 0x00, r[1]])?;
        }
        if r.len() > 16 && r[..3] == [0x02, 0x71, 0x00] && r[15] == 0x01 {
            self.armed = true;
        }
        Ok(r)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.armed = false;
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        "broken: spoils the packet after a wrong CC".into()
    }
}

impl EmulatedCard for SpoilsAfterBadMac {
    fn card(&mut self) -> &mut uicc::Card {
        self.inner.card()
    }
}

fn spoiler() -> SpoilsAfterBadMac {
    SpoilsAfterBadMac {
        inner: Emulator::default_card().unwrap(),
        armed: false,
    }
}

#[test]
fn a_finding_that_needs_preceding_cases_is_saved_with_them() {
    let dut = EmulatedDut::new(Box::new(|| Ok(spoiler()))).unwrap();
    let mut cfg = config(8);
    cfg.stop_after = Some(1);
    let s = Fuzzer::new(cfg, dut).run(&mut |_| {}).unwrap();
    assert!(s.findings_total > 0, "not found in {BOUND} cases");
    let r = &s.recorded[0];
    assert_eq!(
        r.verdict,
        fuzz::engine::Verdict::Reproduced,
        "{}",
        describe(&s)
    );
    assert!(
        !r.repro.prelude.is_empty(),
        "the case alone passes on a fresh card: {}",
        describe(&s)
    );
    assert!(r.repro.prelude.len() <= fuzz::engine::PRELUDE_MAX);
    let dir = tempfile::tempdir().unwrap();
    let files = fuzz::report::save(dir.path(), &s, &ctx()).unwrap();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("# preceding case"), "{text}");
    assert!(text.contains("# verified: reproduced:"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files[0].with_extension("json")).unwrap())
            .unwrap();
    assert_eq!(json["verified"], "reproduced");
    assert_eq!(
        json["preceding_cases"].as_array().unwrap().len(),
        r.repro.prelude.len()
    );
    // `simota run FINDING.apdu`: fails on the broken card, passes on the correct one.
    assert_eq!(replay(&files[0], &mut spoiler()), 1, "{text}");
    assert_eq!(
        replay(&files[0], &mut Emulator::default_card().unwrap()),
        0,
        "{text}"
    );
    // Without its preceding cases the script passes on the broken card too.
    let mut alone = r.clone();
    alone.repro.prelude.clear();
    alone.repro.setup = None;
    let p = dir.path().join("alone.apdu");
    std::fs::write(&p, fuzz::report::apdu_script(&alone, 8, &ctx())).unwrap();
    assert_eq!(replay(&p, &mut spoiler()), 0);
}

/// Broken card 4: misbehaves once in its life, on the 40th single-segment packet any card of
/// its factory receives — a fluke no fresh card shows again.
struct OnceEver {
    inner: Emulator,
    seen: std::rc::Rc<std::cell::Cell<u32>>,
}

impl Transport for OnceEver {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut c = capdu.to_vec();
        if let Some((at, p)) = packet_of(capdu) {
            self.seen.set(self.seen.get() + 1);
            if self.seen.get() == 40 {
                c[at + p.len() - 1] ^= 0x01;
            }
        }
        self.inner.transmit(&c)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        self.inner.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        "broken: one fluke".into()
    }
}

impl EmulatedCard for OnceEver {
    fn card(&mut self) -> &mut uicc::Card {
        self.inner.card()
    }
}

#[test]
fn a_violation_a_fresh_card_does_not_show_again_is_not_a_finding() {
    let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    let dut = EmulatedDut::new(Box::new(move || {
        Ok(OnceEver {
            inner: Emulator::default_card().map_err(|e| e.to_string())?,
            seen: seen.clone(),
        })
    }))
    .unwrap();
    let mut cfg = config(9);
    cfg.iterations = Some(200);
    let s = Fuzzer::new(cfg, dut).run(&mut |_| {}).unwrap();
    assert_eq!(s.findings_total, 0, "{}", describe(&s));
    assert!(s.recorded.is_empty());
    assert_eq!(s.unreproducible_total, 1);
    assert_eq!(
        s.unreproducible[0].verdict,
        fuzz::engine::Verdict::NotReproducible
    );
    assert!(fuzz::report::summary_table(&s).contains("not reproducible on a fresh card"));
    let dir = tempfile::tempdir().unwrap();
    assert!(fuzz::report::save(dir.path(), &s, &ctx())
        .unwrap()
        .is_empty());
    assert!(dir.path().join("not-reproducible").is_dir());
}

#[test]
fn the_saved_seed_7_concatenation_finding_passes_on_the_fixed_card() {
    // The reproducer the fuzzer saved, verified, for the stale partial concatenated message
    // (issue 12 item 6): it carries the preceding concat.duplicate-segment case it needs, and
    // failed (exit 1) on the card before the fix.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/fuzz-finding-issue12-seed7.apdu");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# preceding case 1103531 (concat.duplicate-segment)"));
    assert_eq!(replay(&path, &mut Emulator::default_card().unwrap()), 0);
}
