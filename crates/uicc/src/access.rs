//! Access rules in the expanded format referenced from EF.ARR (TS 102 221 §9.2.4 / ISO 7816-4
//! §9.3): an access-mode data object (AM DO, tag 80 = AM byte, tag 84 = command header)
//! followed by security-condition data objects (SC DO: 90 always, 97 never, A4 user
//! authentication with key reference 83, A0 = OR template, AF = AND template). Consecutive SC
//! DOs after one AM DO are alternatives (OR).

/// An operation whose access condition is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// READ BINARY / READ RECORD / SEARCH RECORD / RETRIEVE DATA (AM bit b1).
    Read,
    /// UPDATE BINARY / UPDATE RECORD / SET DATA (AM bit b2).
    Update,
    /// INCREASE (command-header AM DO with INS 32, else the UPDATE condition).
    Increase,
    /// DEACTIVATE FILE (AM bit b4).
    Deactivate,
    /// ACTIVATE FILE (AM bit b5).
    Activate,
}

impl Operation {
    fn am_bit(self) -> u8 {
        match self {
            Operation::Read => 0x01,
            Operation::Update | Operation::Increase => 0x02,
            Operation::Deactivate => 0x08,
            Operation::Activate => 0x10,
        }
    }

    fn ins(self) -> Option<u8> {
        match self {
            Operation::Increase => Some(0x32),
            _ => None,
        }
    }
}

/// Iterate over simple BER-TLVs with one-byte tags; stops at the first malformed or padding
/// (`FF`/`00`) byte.
fn tlvs(mut b: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&tag, rest) = b.split_first()?;
        if tag == 0xFF || tag == 0x00 {
            return None;
        }
        let (&l0, rest) = rest.split_first()?;
        let (len, rest) = match l0 {
            0..=0x7F => (l0 as usize, rest),
            0x81 => {
                let (&l, r) = rest.split_first()?;
                (l as usize, r)
            }
            _ => return None,
        };
        if rest.len() < len {
            return None;
        }
        let (v, r) = rest.split_at(len);
        b = r;
        Some((tag, v))
    })
}

/// Evaluate one SC DO. `satisfied(key_ref)` tells whether a key reference is verified (or
/// its PIN is disabled).
fn sc_ok(tag: u8, v: &[u8], satisfied: &dyn Fn(u8) -> bool, depth: u8) -> bool {
    if depth > 4 {
        return false;
    }
    match tag {
        0x90 => true,
        0x97 => false,
        0xA4 => tlvs(v).any(|(t, kv)| t == 0x83 && kv.len() == 1 && satisfied(kv[0])),
        0xA0 => tlvs(v).any(|(t, c)| sc_ok(t, c, satisfied, depth + 1)),
        0xAF => {
            let mut any = false;
            for (t, c) in tlvs(v) {
                if !sc_ok(t, c, satisfied, depth + 1) {
                    return false;
                }
                any = true;
            }
            any
        }
        _ => false,
    }
}

fn is_sc(tag: u8) -> bool {
    matches!(
        tag,
        0x90 | 0x97 | 0xA4 | 0xA0 | 0xAF | 0x9E | 0xA7 | 0xA6 | 0xB4 | 0xB6 | 0xB8
    )
}

/// Whether an ARR record grants `op`. An operation no AM DO mentions is never allowed.
pub fn allowed(rule: &[u8], op: Operation, satisfied: &dyn Fn(u8) -> bool) -> bool {
    let mut covered_by_ins = false;
    let mut ins_ok = false;
    let mut bit_ok = false;
    // AM DO currently in force: Some(true) when it covers op.
    let mut current: Option<(bool, bool)> = None; // (covers by bit, covers by INS)
    for (tag, v) in tlvs(rule) {
        match tag {
            0x80 => {
                let am = v.first().copied().unwrap_or(0);
                current = Some((am & 0x80 == 0 && am & op.am_bit() != 0, false));
            }
            0x84 => {
                let by_ins = op.ins().is_some_and(|ins| v.contains(&ins));
                current = Some((false, by_ins));
            }
            t if is_sc(t) => {
                if let Some((by_bit, by_ins)) = current {
                    let ok = sc_ok(t, v, satisfied, 0);
                    if by_ins {
                        covered_by_ins = true;
                        ins_ok |= ok;
                    }
                    if by_bit {
                        bit_ok |= ok;
                    }
                }
            }
            _ => current = None,
        }
    }
    if covered_by_ins {
        ins_ok
    } else {
        bit_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hx(s: &str) -> Vec<u8> {
        apdu::hex::decode(s).unwrap()
    }

    #[test]
    fn always_read_adm_update() {
        let r = hx("8001019000 80011AA40683010A950108 FFFF");
        let none = |_k: u8| false;
        let adm = |k: u8| k == 0x0A;
        assert!(allowed(&r, Operation::Read, &none));
        assert!(!allowed(&r, Operation::Update, &none));
        assert!(allowed(&r, Operation::Update, &adm));
        assert!(allowed(&r, Operation::Increase, &adm));
        assert!(allowed(&r, Operation::Deactivate, &adm));
        assert!(!allowed(&r, Operation::Deactivate, &none));
    }

    #[test]
    fn or_and_never_and_ins_specific() {
        let or = hx("800101A010A406830101950108A40683010A950108");
        assert!(allowed(&or, Operation::Read, &|k| k == 0x0A));
        assert!(allowed(&or, Operation::Read, &|k| k == 0x01));
        assert!(!allowed(&or, Operation::Read, &|k| k == 0x81));
        let and = hx("800101AF10A406830101950108A40683010A950108");
        assert!(!allowed(&and, Operation::Read, &|k| k == 0x01));
        assert!(allowed(&and, Operation::Read, &|k| k == 0x01 || k == 0x0A));
        let never = hx("8001029700");
        assert!(!allowed(&never, Operation::Update, &|_| true));
        assert!(
            !allowed(&never, Operation::Read, &|_| true),
            "not mentioned means never"
        );
        let inc = hx("800102A40683010A950108 840132A406830101950108");
        assert!(allowed(&inc, Operation::Increase, &|k| k == 0x01));
        assert!(!allowed(&inc, Operation::Update, &|k| k == 0x01));
    }

    #[test]
    fn malformed_rules_deny() {
        for r in [
            hx(""),
            hx("80"),
            hx("8001"),
            hx("800101A4"),
            hx("8001019005"),
        ] {
            assert!(!allowed(&r, Operation::Read, &|_| true));
        }
    }
}
