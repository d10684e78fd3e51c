//! Reports: each finding as a replayable `.apdu` script (native format of `crates/script`,
//! run with `simota run`) plus a JSON record; the summary table; JUnit XML for CI.

use crate::class::Expect;
use crate::dut::path_text;
use crate::engine::{Recorded, RunSummary, Verdict};
use apdu::hex::encode as hx;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the reproducer is run against and with which parameters.
#[derive(Debug, Clone)]
pub struct ReportContext {
    /// TAR.
    pub tar: [u8; 3],
    /// KVN.
    pub kvn: u8,
    /// Canary path.
    pub canary: Option<Vec<u16>>,
    /// The TERMINAL PROFILE the fuzzer sent.
    pub terminal_profile: Vec<u8>,
    /// How the card was reached (for the header comment).
    pub card: String,
}

fn spaced(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An expectation pattern for the answer to the last ENVELOPE of a step whose PoR the
/// emulator sends in clear (SPI2 without security, or statuses 01/05/06/09/0A, which the
/// receiver documents as unsecured): `02 71 00 ?? ?? 0A <TAR> CNTR(5) PCNTR <status> * 90 00`.
fn por_pattern(tar: [u8; 3], status: u8) -> String {
    format!(
        "02 71 00 ?? ?? 0A {} ?? ?? ?? ?? ?? ?? {:02X} * 90 00",
        spaced(&tar),
        status
    )
}

/// The `.apdu` reproducer text.
pub fn apdu_script(r: &Recorded, seed: u64, ctx: &ReportContext) -> String {
    let f = &r.finding;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# simota fuzz ota finding: {} in class {} (seed {seed}, case {}, step {})",
        f.kind(),
        f.class,
        f.case,
        f.step
    );
    let _ = writeln!(s, "# mutation path: {}", r.repro.case.path.join(" / "));
    for v in &f.violations {
        let _ = writeln!(
            s,
            "# {}: expected {}, got {}",
            v.kind, v.expected, v.observed
        );
    }
    let _ = writeln!(
        s,
        "# card: {}; TAR {}, KVN {}{}",
        ctx.card,
        hx(&ctx.tar),
        ctx.kvn,
        if r.minimized { "; minimized" } else { "" }
    );
    let _ = writeln!(
        s,
        "# Replay: simota run THIS-FILE [--profile F | --reader R]. On a card that behaves as\n\
         # required every expectation holds; while the misbehaviour is there, one fails (exit 1)."
    );
    let _ = writeln!(s, "# verified: {}: {}", r.verdict.label(), verdict_text(r));
    s.push_str("reset\n");
    let _ = writeln!(s, "terminal-profile {}", hx(&ctx.terminal_profile));
    if let Some((apdus, c)) = &r.repro.setup {
        let _ = writeln!(
            s,
            "# setup: a correct packet (CNTR {c}) restores the counter and the canary of the case"
        );
        for (i, a) in apdus.iter().enumerate() {
            if i + 1 == apdus.len() {
                let _ = writeln!(s, "{} => {}", spaced(a), por_pattern(ctx.tar, 0x00));
            } else {
                let _ = writeln!(s, "{} => 90 00", spaced(a));
            }
        }
    }
    for c in &r.repro.prelude {
        let _ = writeln!(
            s,
            "# preceding case {} ({}): replayed without checks, the finding needs the state it leaves",
            c.number, c.class
        );
        for step in &c.steps {
            for a in &step.apdus {
                let _ = writeln!(s, "{}", spaced(a));
            }
            // The fuzzer ran any proactive session and sent STATUS after every step.
            s.push_str("fetch-all\n");
            if step.reset_after {
                s.push_str("reset\n");
                let _ = writeln!(s, "terminal-profile {}", hx(&ctx.terminal_profile));
            }
        }
    }
    for (si, step) in r.repro.case.steps.iter().enumerate() {
        let _ = writeln!(
            s,
            "# step {si}: SPI {}, CNTR {}, TAR {}; required: {}",
            hx(&step.spi),
            step.cntr,
            hx(&step.tar),
            step.expect
        );
        let clear_por = step.spi[1] & 0x1C == 0;
        for (i, a) in step.apdus.iter().enumerate() {
            let last = i + 1 == step.apdus.len();
            let pat = match step.expect {
                Expect::Rejected(set)
                    if last
                        && set.len() == 1
                        && matches!(set[0], 0x01 | 0x05 | 0x06 | 0x09 | 0x0A)
                        && step.spi[1] & 0x03 != 0 =>
                {
                    Some(por_pattern(step.tar, set[0]))
                }
                Expect::Accepted | Expect::Executed
                    if last && clear_por && step.spi[1] & 0x03 == 0x01 =>
                {
                    Some(por_pattern(step.tar, 0x00))
                }
                _ => None,
            };
            match pat {
                Some(p) => {
                    let _ = writeln!(s, "{} => {p}", spaced(a));
                }
                None => {
                    let _ = writeln!(s, "{}", spaced(a));
                }
            }
        }
        if step.spi[1] & 0x20 != 0 {
            s.push_str("fetch-all\n");
        }
        if step.reset_after && si + 1 < r.repro.case.steps.len() {
            s.push_str("reset\n");
            let _ = writeln!(s, "terminal-profile {}", hx(&ctx.terminal_profile));
        }
    }
    if let Some((apdus, c)) = &r.repro.counter_check {
        let _ = writeln!(
            s,
            "# counter check: a correct packet in counter mode 11 with CNTR {c} is accepted only if\n\
             # the card's counter is exactly one below it"
        );
        for (i, a) in apdus.iter().enumerate() {
            if i + 1 == apdus.len() {
                let _ = writeln!(s, "{} => {}", spaced(a), por_pattern(ctx.tar, 0x00));
            } else {
                let _ = writeln!(s, "{} => 90 00", spaced(a));
            }
        }
    }
    if let (Some(path), Some(before)) = (&ctx.canary, &r.canary_before) {
        let last = r.repro.case.steps.last();
        let after = match last.map(|st| st.expect) {
            Some(Expect::Rejected(_)) | Some(Expect::Refused) => Some(before.clone()),
            Some(Expect::Accepted) => last.and_then(|st| st.canary_after.clone()),
            _ => None,
        };
        if let Some(after) = after {
            let p: Vec<u8> = path
                .iter()
                .skip_while(|&&f| f == 0x3F00)
                .flat_map(|f| f.to_be_bytes())
                .collect();
            let _ = writeln!(s, "# trusted read-back of the canary {}", path_text(path));
            let _ = writeln!(s, "00 A4 08 0C {:02X} {} => 90 00", p.len(), spaced(&p));
            let _ = writeln!(
                s,
                "00 B0 00 00 {:02X} => {} 90 00",
                after.len(),
                spaced(&after)
            );
        }
    }
    s
}

/// What a verdict means, for the script header.
fn verdict_text(r: &Recorded) -> String {
    match r.verdict {
        Verdict::Reproduced if r.repro.prelude.is_empty() => {
            "this script fails on a fresh card".into()
        }
        Verdict::Reproduced => format!(
            "this script fails on a fresh card; the case alone does not, so the {} preceding \
             case(s) it needs come first",
            r.repro.prelude.len()
        ),
        Verdict::OraclesOnly => "the fuzzer's oracles (direct view of the card's state) see it \
             again on a fresh card, but this script's expectations may all hold"
            .into(),
        Verdict::Unverified => {
            "not replayed (the card under test cannot be replaced by a fresh one)".into()
        }
        Verdict::NotReproducible => "it did not come back on a fresh card, with or without the \
             preceding cases; not a finding"
            .into(),
    }
}

/// The JSON record of a finding.
pub fn json_record(r: &Recorded, seed: u64, ctx: &ReportContext, script: &str) -> Value {
    let f = &r.finding;
    json!({
        "tool": "simota fuzz ota",
        "seed": seed,
        "case": f.case,
        "step": f.step,
        "class": f.class.name(),
        "kind": f.kind().name(),
        "mutation_path": r.repro.case.path,
        "original_mutation_path": f.path,
        "expected": f.violations.first().map(|v| v.expected.clone()),
        "observed": f.violations.first().map(|v| v.observed.clone()),
        "violations": f.violations.iter().map(|v| json!({
            "kind": v.kind.name(), "expected": v.expected, "observed": v.observed
        })).collect::<Vec<_>>(),
        "card": ctx.card,
        "tar": hx(&ctx.tar),
        "kvn": ctx.kvn,
        "counter_before": r.counter_before.map(|c| c.value()),
        "canary_before": r.canary_before.as_ref().map(|c| hx(c)),
        "exchanges": r.exchanges.iter().map(|(c, a)| json!({"c": hx(c), "r": hx(a)})).collect::<Vec<_>>(),
        "por": r.por.as_ref().map(|p| hx(p)),
        "minimized": r.minimized,
        "verified": r.verdict.label(),
        "preceding_cases": r.repro.prelude.iter().map(|c| c.number).collect::<Vec<_>>(),
        "replay": script,
    })
}

/// Save every recorded finding into `dir` (created), and the violations that did not come
/// back on a fresh card into `dir/not-reproducible/`; returns the findings' script paths.
pub fn save(dir: &Path, s: &RunSummary, ctx: &ReportContext) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for (i, r) in s.recorded.iter().enumerate() {
        let base = format!(
            "finding-{:03}-{}-{}",
            i + 1,
            r.finding.class.name().replace('.', "_"),
            r.finding.kind().name()
        );
        let script_name = format!("{base}.apdu");
        let script = apdu_script(r, s.seed, ctx);
        let p = dir.join(&script_name);
        std::fs::write(&p, &script)?;
        let j = json_record(r, s.seed, ctx, &script_name);
        std::fs::write(
            dir.join(format!("{base}.json")),
            serde_json::to_string_pretty(&j).unwrap_or_default() + "\n",
        )?;
        out.push(p);
    }
    if !s.unreproducible.is_empty() {
        let sub = dir.join("not-reproducible");
        std::fs::create_dir_all(&sub)?;
        for (i, r) in s.unreproducible.iter().enumerate() {
            let base = format!(
                "violation-{:03}-{}-{}",
                i + 1,
                r.finding.class.name().replace('.', "_"),
                r.finding.kind().name()
            );
            let script_name = format!("{base}.apdu");
            let script = apdu_script(r, s.seed, ctx);
            std::fs::write(sub.join(&script_name), &script)?;
            let j = json_record(r, s.seed, ctx, &script_name);
            std::fs::write(
                sub.join(format!("{base}.json")),
                serde_json::to_string_pretty(&j).unwrap_or_default() + "\n",
            )?;
        }
    }
    if !s.state_failures.is_empty() {
        std::fs::write(
            dir.join("state-load-failures.txt"),
            s.state_failures.join("\n") + "\n",
        )?;
    }
    Ok(out)
}

/// The summary table (one line per class that ran).
pub fn summary_table(s: &RunSummary) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{:<30} {:>8} {:>8}  PoR statuses seen",
        "class", "cases", "findings"
    );
    for (c, st) in &s.classes {
        let mut st_s: Vec<(u64, String)> = st
            .statuses
            .iter()
            .map(|(k, n)| {
                (
                    *n,
                    match k {
                        Some(b) => format!("{b:02X}×{n}"),
                        None => format!("none×{n}"),
                    },
                )
            })
            .collect();
        st_s.sort_by_key(|b| std::cmp::Reverse(b.0));
        let _ = writeln!(
            t,
            "{:<30} {:>8} {:>8}  {}",
            c.name(),
            st.cases,
            st.findings,
            st_s.into_iter()
                .take(4)
                .map(|x| x.1)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let _ = writeln!(
        t,
        "{:<30} {:>8} {:>8}  {:.0} cases/s, seed {}",
        "total",
        s.cases,
        s.findings_total,
        s.rate(),
        s.seed
    );
    if s.unreproducible_total > 0 {
        let _ = writeln!(
            t,
            "not reproducible on a fresh card (not findings): {}",
            s.unreproducible_total
        );
    }
    t
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test case per class (failures = its findings) and one for the state file.
pub fn junit(s: &RunSummary) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = s.classes.values().filter(|c| c.findings > 0).count()
        + usize::from(!s.state_failures.is_empty());
    let _ = writeln!(
        out,
        "<testsuite name=\"simota fuzz ota\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        s.classes.len() + 1,
        s.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "  <properties><property name=\"seed\" value=\"{}\"/><property name=\"cases\" value=\"{}\"/><property name=\"card\" value=\"{}\"/></properties>",
        s.seed,
        s.cases,
        xml(&s.card)
    );
    for (c, st) in &s.classes {
        let _ = write!(
            out,
            "  <testcase classname=\"fuzz.ota.{}\" name=\"{}\">",
            c.layer(),
            c.name()
        );
        if st.findings > 0 {
            let detail: Vec<String> = s
                .recorded
                .iter()
                .filter(|r| r.finding.class == *c)
                .map(|r| {
                    format!(
                        "case {}: {}: expected {}, got {}",
                        r.finding.case,
                        r.finding.kind(),
                        r.finding
                            .violations
                            .first()
                            .map_or("", |v| v.expected.as_str()),
                        r.finding
                            .violations
                            .first()
                            .map_or("", |v| v.observed.as_str())
                    )
                })
                .collect();
            let _ = write!(
                out,
                "<failure message=\"{} finding(s) in {} case(s)\">{}</failure>",
                st.findings,
                st.cases,
                xml(&detail.join("\n"))
            );
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  <testcase classname=\"fuzz.ota.state\" name=\"state-file-loads\">");
    if !s.state_failures.is_empty() {
        let _ = write!(
            out,
            "<failure message=\"state file does not load\">{}</failure>",
            xml(&s.state_failures.join("\n"))
        );
    }
    out.push_str("</testcase>\n</testsuite>\n");
    out
}
