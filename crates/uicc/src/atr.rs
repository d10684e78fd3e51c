//! The card's ATR built from the protocols a profile offers (ISO/IEC 7816-3 §8.2, ETSI TS 102
//! 221 §6.3): `[card] protocols = ["t0"]` (the default, like most SIMs) or `["t0", "t1"]`.
//!
//! Why T=0 only by default: pcscd connects with T=1 whenever the ATR offers it, and tools that
//! then transmit with T=0 (pySim, some scripts) fail with "Card protocol mismatch"
//! (SCARD_E_PROTO_MISMATCH, 0x8010000F) before their first command.

/// Historical bytes of every built ATR (ISO 7816-4 §8.1.1): category 80, card capabilities
/// `73 FE 21 1F` (selection by full DF name / path / FID, short APDUs only, logical channels
/// assigned by card and host), "simo" as a proprietary tag, card status `90 00`.
pub const HISTORICAL: [u8; 15] = [
    0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21, 0x1F, 0x64, 0x73, 0x69, 0x6D, 0x6F, 0x82, 0x90, 0x00,
];

/// A transmission protocol a card may offer (ISO/IEC 7816-3 §8.2.3, TDi low nibble).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// T=0, character protocol.
    T0,
    /// T=1, block protocol (IFSC 254 offered in the first TA for T=1).
    T1,
}

impl Protocol {
    /// Parse a profile name: `t0` or `t1`.
    pub fn from_name(s: &str) -> Option<Protocol> {
        match s {
            "t0" | "T0" | "T=0" => Some(Protocol::T0),
            "t1" | "T1" | "T=1" => Some(Protocol::T1),
            _ => None,
        }
    }

    fn t(self) -> u8 {
        match self {
            Protocol::T0 => 0,
            Protocol::T1 => 1,
        }
    }
}

/// Build the ATR offering `protocols` (ascending, non-empty, no duplicates; the caller checks):
/// TS 3B, TA1 96 (Fi 512, Di 32), the protocols in TD1 (and TD2 for T=1 with IFSC FE), the
/// T=15 global byte TA C7 (clock stop allowed, classes A, B and C, TS 102 221 §6.3.2), the
/// [`HISTORICAL`] bytes and TCK.
pub fn build(protocols: &[Protocol]) -> Vec<u8> {
    let mut out = vec![0x3B, 0x90 | HISTORICAL.len() as u8, 0x96];
    let first = protocols.first().copied().unwrap_or(Protocol::T0);
    // TD1: only TD2 follows; T = the first protocol.
    out.push(0x80 | first.t());
    if protocols.contains(&Protocol::T1) {
        // TD2: TA3 (IFSC for T=1) and TD3 follow.
        out.extend_from_slice(&[0x91, 0xFE]);
    }
    // Last TD: TA follows with T=15, the global clock-stop / class indicator.
    out.extend_from_slice(&[0x1F, 0xC7]);
    out.extend_from_slice(&HISTORICAL);
    let tck = out.iter().skip(1).fold(0u8, |a, &x| a ^ x);
    out.push(tck);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t0_only_atr() {
        let a = build(&[Protocol::T0]);
        assert_eq!(
            apdu::hex::encode(&a),
            "3B9F96801FC78031E073FE211F6473696D6F829000DD"
        );
        let p = apdu::Atr::parse(&a).unwrap();
        assert_eq!(p.protocols(), vec![0, 15]);
        assert_eq!(p.tck_ok(), Some(true));
    }

    #[test]
    fn t0_t1_atr_is_the_former_built_in_one() {
        let a = build(&[Protocol::T0, Protocol::T1]);
        assert_eq!(
            apdu::hex::encode(&a),
            "3B9F968091FE1FC78031E073FE211F6473696D6F829000B2"
        );
        assert_eq!(apdu::Atr::parse(&a).unwrap().protocols(), vec![0, 1, 15]);
    }

    #[test]
    fn t1_only_atr() {
        let a = build(&[Protocol::T1]);
        let p = apdu::Atr::parse(&a).unwrap();
        assert_eq!(p.protocols(), vec![1, 15]);
        assert_eq!(p.tck_ok(), Some(true));
    }
}
