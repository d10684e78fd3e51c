//! Oracles, checked after every step of every case:
//!
//! 1. the card still answers (STATUS, else SELECT MF; a transport error or timeout is a
//!    finding) and, on the emulator, did not panic;
//! 2. the PoR is the one the mutation class requires ([`crate::class`] table), travels as
//!    SPI2 asks (none / always / on error), decodes with the keys, and echoes TAR and CNTR;
//! 3. a packet that must be rejected leaves no side effect: the canary EF and the OTA counter,
//!    read back through the trusted path ([`crate::dut`]), are unchanged; an accepted one
//!    has exactly its effects;
//! 4. the counter never goes backwards;
//! 5. on the emulator, the state always serialises and loads (checked periodically by the
//!    engine).

use crate::case::Step;
use crate::class::{Class, Expect};
use crate::dut::Observation;
use crate::exchange::Delivery;
use ota::{CounterMode, Keyset, PorRequest, PorSecurity, ResponsePacket, ResponseStatus};
use std::fmt;
use terminal::PorReport;

/// What kind of misbehaviour a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// The emulated card panicked.
    Panic,
    /// The card stopped answering (probe failed, transport error, timeout).
    NoAnswer,
    /// The PoR status is not one the class allows.
    WrongStatus,
    /// The SPI asked for a PoR and none came.
    MissingPor,
    /// A PoR came although the SPI said none (or only on error, and all went well).
    UnexpectedPor,
    /// The PoR does not decode or verify with the keys.
    PorUndecodable,
    /// The PoR does not echo the TAR or CNTR of the command.
    PorEcho,
    /// A rejected packet changed the counter or the canary.
    SideEffect,
    /// An accepted packet did not store its counter or did not write the canary.
    MissingEffect,
    /// The counter decreased.
    CounterBackwards,
    /// The emulator's state does not serialise or load.
    StateLoad,
}

impl FindingKind {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Panic => "panic",
            FindingKind::NoAnswer => "no-answer",
            FindingKind::WrongStatus => "wrong-status",
            FindingKind::MissingPor => "missing-por",
            FindingKind::UnexpectedPor => "unexpected-por",
            FindingKind::PorUndecodable => "por-undecodable",
            FindingKind::PorEcho => "por-echo",
            FindingKind::SideEffect => "side-effect",
            FindingKind::MissingEffect => "missing-effect",
            FindingKind::CounterBackwards => "counter-backwards",
            FindingKind::StateLoad => "state-load",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One violated oracle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Kind.
    pub kind: FindingKind,
    /// What was required.
    pub expected: String,
    /// What happened.
    pub observed: String,
}

/// A finding: a case whose step violated one or more oracles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Case number.
    pub case: u64,
    /// Primary class.
    pub class: Class,
    /// Mutation path.
    pub path: Vec<String>,
    /// Index of the failing step.
    pub step: usize,
    /// The violations, most important first.
    pub violations: Vec<Violation>,
}

impl Finding {
    /// The first (main) kind.
    pub fn kind(&self) -> FindingKind {
        self.violations
            .first()
            .map_or(FindingKind::NoAnswer, |v| v.kind)
    }
}

/// The decoded PoR of a step.
#[derive(Debug, Clone)]
pub struct PorSeen {
    /// The report (path, UD, decoded packet or why not).
    pub report: PorReport,
}

impl PorSeen {
    /// The status byte, when the PoR decoded.
    pub fn status(&self) -> Option<u8> {
        self.report.status().map(|s| s.to_byte())
    }
}

/// Decode the PoR of a delivery with the keys and the SPI the step sent.
///
/// RHL alone cannot tell a PoR ciphered without RC/CC (SPI2 `b5` only) from an error PoR
/// sent unsecured (RHL 10 in both). An unsecured reading is taken when it decodes with
/// PCNTR 0, an error status and no data (what the receiver sends for 01/05/06/09/0A …);
/// otherwise the PoR must decode with the security the SPI asked for.
pub fn decode_por(d: &Delivery, step: &Step, keys: &Keyset) -> Option<PorSeen> {
    let (path, ud) = d.por.as_ref()?;
    let spi = step.spi();
    let wanted = spi.por_security();
    let none = Keyset::new();
    // RHL > 10: an RC/CC is present, so the PoR is secured (no clear reading to try).
    let header = ota::SecuredResponse::parse(ud).ok();
    let rhl = header.as_ref().map_or(0, |h| h.header().rhl);
    if rhl > ota::response::RHL_MIN && wanted != PorSecurity::NONE {
        let packet = ResponsePacket::open(ud, wanted, keys).map_err(|e| e.to_string());
        return Some(PorSeen {
            report: PorReport {
                path: *path,
                ud: ud.clone(),
                packet,
                security: wanted,
            },
        });
    }
    let clear = ResponsePacket::open(ud, PorSecurity::NONE, &none);
    // A command without ciphering and RC/CC names no key set: its PoR cannot be secured.
    let keyless = !spi.ciphering && spi.integrity == ota::IntegrityMode::None;
    let plain_error = matches!(&clear, Ok(p) if keyless || (p.status != ResponseStatus::PorOk && p.data.is_empty()))
        && header
            .as_ref()
            .and_then(|h| h.decipher(PorSecurity::NONE, &none).ok())
            .is_some_and(|d| d.pcntr() == 0);
    let (security, packet) = if plain_error || wanted == PorSecurity::NONE {
        (PorSecurity::NONE, clear)
    } else {
        match ResponsePacket::open(ud, wanted, keys) {
            Ok(p) => (wanted, Ok(p)),
            Err(e) => match clear {
                // An unsecured PoR where a secured one was asked for: accepted for errors.
                Ok(p) if p.status != ResponseStatus::PorOk => (PorSecurity::NONE, Ok(p)),
                _ => (wanted, Err(e)),
            },
        }
    };
    Some(PorSeen {
        report: PorReport {
            path: *path,
            ud: ud.clone(),
            packet: packet.map_err(|e| e.to_string()),
            security,
        },
    })
}

fn hx(b: &Option<Vec<u8>>) -> String {
    b.as_ref()
        .map_or_else(|| "-".into(), |v| apdu::hex::encode_spaced(v))
}

fn status_text(p: &Option<PorSeen>) -> String {
    match p {
        None => "no PoR".into(),
        Some(p) => match &p.report.packet {
            Ok(r) => format!(
                "PoR status {:02X} ({})",
                r.status.to_byte(),
                r.status.name()
            ),
            Err(e) => format!(
                "undecodable PoR {} ({e})",
                apdu::hex::encode_spaced(&p.report.ud)
            ),
        },
    }
}

/// Check one step. `pre`/`post` are the trusted observations around it; `probe_ok` whether
/// the card answered the probe afterwards (with its answer for the report).
pub fn check_step(
    step: &Step,
    delivery: &Delivery,
    por: &Option<PorSeen>,
    pre: &Observation,
    post: &Observation,
    probe: Result<(), String>,
) -> Vec<Violation> {
    let mut v = Vec::new();
    if let Some(e) = &delivery.error {
        let kind = if e.contains("panicked") {
            FindingKind::Panic
        } else {
            FindingKind::NoAnswer
        };
        add(
            &mut v,
            kind,
            "an answer to every ENVELOPE".into(),
            e.clone(),
        );
    }
    if let Err(e) = &probe {
        add(
            &mut v,
            FindingKind::NoAnswer,
            "the card answers STATUS / SELECT MF after the case".into(),
            e.clone(),
        );
    }
    let spi = step.spi();
    let status = por.as_ref().and_then(|p| p.status());
    let expected_text = step.expect.to_string();
    let counter_changed = match (pre.counter, post.counter) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    };
    let canary_changed = match (&pre.canary, &post.canary) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    };
    if let (Some(a), Some(b)) = (pre.counter, post.counter) {
        if b < a {
            add(
                &mut v,
                FindingKind::CounterBackwards,
                format!("counter ≥ {a}"),
                format!(
                    "counter {b} after CNTR {} (SPI {:02X}{:02X})",
                    step.cntr, step.spi[0], step.spi[1]
                ),
            );
        }
    }
    let side_effects = |v: &mut Vec<Violation>| {
        if counter_changed {
            v.push(Violation {
                kind: FindingKind::SideEffect,
                expected: format!("{expected_text}: counter stays {}", opt(pre.counter)),
                observed: format!("counter {} after {}", opt(post.counter), status_text(por)),
            });
        }
        if canary_changed {
            v.push(Violation {
                kind: FindingKind::SideEffect,
                expected: format!("{expected_text}: canary stays {}", hx(&pre.canary)),
                observed: format!("canary {} after {}", hx(&post.canary), status_text(por)),
            });
        }
    };
    let effects_of_acceptance = |v: &mut Vec<Violation>, check_canary: bool| {
        match spi.counter {
            CounterMode::Higher | CounterMode::OneHigher => {
                if let Some(c) = post.counter {
                    if c != step.cntr {
                        v.push(Violation {
                            kind: FindingKind::MissingEffect,
                            expected: format!("accepted: counter stored as {}", step.cntr),
                            observed: format!("counter {c} after {}", status_text(por)),
                        });
                    }
                }
            }
            CounterMode::NoCounter => {
                if counter_changed {
                    v.push(Violation {
                        kind: FindingKind::SideEffect,
                        expected: format!("counter mode 00: counter stays {}", opt(pre.counter)),
                        observed: format!("counter {}", opt(post.counter)),
                    });
                }
            }
            CounterMode::NoCheck => {}
        }
        if check_canary {
            if let (Some(want), Some(got)) = (&step.canary_after, &post.canary) {
                if want != got {
                    v.push(Violation {
                        kind: FindingKind::MissingEffect,
                        expected: format!(
                            "accepted: canary written as {}",
                            apdu::hex::encode_spaced(want)
                        ),
                        observed: format!(
                            "canary {} after {}",
                            apdu::hex::encode_spaced(got),
                            status_text(por)
                        ),
                    });
                }
            }
        }
    };
    let undecodable = por.as_ref().is_some_and(|p| p.status().is_none());
    if undecodable {
        add(
            &mut v,
            FindingKind::PorUndecodable,
            "a PoR that decodes and verifies with the keys and the SPI".into(),
            status_text(por),
        );
    }
    if let (Some(p), Some(0x00)) = (por, status) {
        if let Ok(r) = &p.report.packet {
            if r.tar.0 != step.tar || r.counter != step.cntr {
                add(
                    &mut v,
                    FindingKind::PorEcho,
                    format!(
                        "PoR echoes TAR {} and CNTR {}",
                        apdu::hex::encode(&step.tar),
                        step.cntr
                    ),
                    format!("TAR {} CNTR {}", r.tar, r.counter),
                );
            }
        }
    }
    match step.expect {
        Expect::Accepted | Expect::Executed => {
            match (spi.por, status) {
                (_, Some(s)) if s != 0 => {
                    add(
                        &mut v,
                        FindingKind::WrongStatus,
                        expected_text.clone(),
                        status_text(por),
                    );
                }
                (PorRequest::Always, None) if por.is_none() => {
                    add(
                        &mut v,
                        FindingKind::MissingPor,
                        "a PoR with status 00 (SPI2 asks always)".into(),
                        "no PoR".into(),
                    );
                }
                (PorRequest::None | PorRequest::OnError, Some(0)) => {
                    add(
                        &mut v,
                        FindingKind::UnexpectedPor,
                        format!("no PoR (SPI2 PoR {})", spi.por.name()),
                        status_text(por),
                    );
                }
                _ => {}
            }
            let rejected = status.is_some_and(|s| s != 0);
            if rejected {
                side_effects(&mut v);
            } else {
                effects_of_acceptance(&mut v, step.expect == Expect::Accepted);
            }
        }
        Expect::Rejected(set) => {
            side_effects(&mut v);
            match status {
                Some(s) if !set.contains(&s) => {
                    add(
                        &mut v,
                        FindingKind::WrongStatus,
                        expected_text.clone(),
                        status_text(por),
                    );
                }
                None if por.is_none()
                    && matches!(spi.por, PorRequest::Always | PorRequest::OnError)
                    && delivery.error.is_none() =>
                {
                    add(
                        &mut v,
                        FindingKind::MissingPor,
                        format!("{expected_text} in a PoR (SPI2 PoR {})", spi.por.name()),
                        format!("no PoR (SW {})", sws(delivery)),
                    );
                }
                _ => {}
            }
        }
        Expect::Refused => {
            side_effects(&mut v);
            if status == Some(0) {
                add(
                    &mut v,
                    FindingKind::WrongStatus,
                    expected_text.clone(),
                    status_text(por),
                );
            }
        }
        Expect::Either => match status {
            Some(0) => effects_of_acceptance(&mut v, true),
            Some(_) => side_effects(&mut v),
            None => {
                // No PoR to tell: the effects must be all or nothing.
                let counted = matches!(spi.counter, CounterMode::Higher | CounterMode::OneHigher);
                let canary_expected = step.canary_after.is_some() && post.canary.is_some();
                if counted && canary_expected && counter_changed != canary_changed {
                    add(
                        &mut v,
                        FindingKind::SideEffect,
                        "all effects or none".into(),
                        format!(
                            "counter {}→{}, canary {}→{}",
                            opt(pre.counter),
                            opt(post.counter),
                            hx(&pre.canary),
                            hx(&post.canary)
                        ),
                    );
                }
            }
        },
    }
    v.sort_by_key(|x| x.kind);
    v
}

fn add(v: &mut Vec<Violation>, kind: FindingKind, expected: String, observed: String) {
    v.push(Violation {
        kind,
        expected,
        observed,
    });
}

fn opt(c: Option<ota::Counter>) -> String {
    c.map_or_else(|| "?".into(), |c| c.to_string())
}

fn sws(d: &Delivery) -> String {
    d.sws
        .iter()
        .map(|s| format!("{s:04X}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, ResponsePacket, Tar};
    use terminal::PorPath;

    fn keys() -> Keyset {
        Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[1; 16], 1)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[2; 16], 1)
            .unwrap()
    }

    fn step(expect: Expect, spi: [u8; 2], cntr: u64) -> Step {
        Step {
            apdus: vec![],
            spi,
            cntr: Counter::new(cntr).unwrap(),
            tar: [0xB0, 0, 0],
            expect,
            canary_after: Some(vec![2]),
            reset_after: false,
        }
    }

    fn obs(c: u64, canary: u8) -> Observation {
        Observation {
            counter: Some(Counter::new(c).unwrap()),
            canary: Some(vec![canary]),
        }
    }

    fn delivery(status: u8, cntr: u64, secured: bool) -> Delivery {
        let p = ResponsePacket::new(
            Tar([0xB0, 0, 0]),
            Counter::new(cntr).unwrap(),
            ResponseStatus::from_byte(status),
        );
        let ud = if secured {
            p.seal(ota::Spi::from_bytes([0x16, 0x19]).por_security(), &keys())
                .unwrap()
        } else {
            p.seal_unsecured().unwrap()
        };
        Delivery {
            por: Some((PorPath::EnvelopeResponse, ud)),
            sws: vec![0x9000],
            ..Delivery::default()
        }
    }

    fn kinds(st: &Step, d: &Delivery, pre: &Observation, post: &Observation) -> Vec<FindingKind> {
        let por = decode_por(d, st, &keys());
        check_step(st, d, &por, pre, post, Ok(()))
            .into_iter()
            .map(|v| v.kind)
            .collect()
    }

    #[test]
    fn rejected_without_effects_is_clean() {
        let st = step(Expect::Rejected(&[0x01]), [0x16, 0x19], 6);
        assert!(kinds(&st, &delivery(0x01, 6, false), &obs(5, 1), &obs(5, 1)).is_empty());
    }

    #[test]
    fn rejected_with_counter_moved_is_a_side_effect() {
        let st = step(Expect::Rejected(&[0x01]), [0x16, 0x19], 6);
        let k = kinds(&st, &delivery(0x01, 6, false), &obs(5, 1), &obs(6, 1));
        assert_eq!(k, vec![FindingKind::SideEffect]);
    }

    #[test]
    fn accepted_needs_status_00_and_its_effects() {
        let st = step(Expect::Accepted, [0x16, 0x19], 6);
        assert!(kinds(&st, &delivery(0x00, 6, true), &obs(5, 1), &obs(6, 2)).is_empty());
        let k = kinds(&st, &delivery(0x00, 6, true), &obs(5, 1), &obs(5, 1));
        assert_eq!(
            k,
            vec![FindingKind::MissingEffect, FindingKind::MissingEffect]
        );
        let k = kinds(&st, &delivery(0x01, 6, false), &obs(5, 1), &obs(5, 1));
        assert_eq!(k, vec![FindingKind::WrongStatus]);
        let k = kinds(&st, &Delivery::default(), &obs(5, 1), &obs(6, 2));
        assert_eq!(k, vec![FindingKind::MissingPor]);
    }

    #[test]
    fn wrong_echo_and_backwards_counter() {
        let st = step(Expect::Either, [0x0E, 0x19], 2);
        let k = kinds(&st, &delivery(0x00, 3, true), &obs(5, 1), &obs(2, 2));
        assert!(k.contains(&FindingKind::CounterBackwards), "{k:?}");
        assert!(k.contains(&FindingKind::PorEcho), "{k:?}");
    }

    #[test]
    fn unsecured_ok_por_where_security_was_asked_is_undecodable() {
        let st = step(Expect::Accepted, [0x16, 0x19], 6);
        let k = kinds(&st, &delivery(0x00, 6, false), &obs(5, 1), &obs(6, 2));
        assert_eq!(k, vec![FindingKind::PorUndecodable]);
    }
}
