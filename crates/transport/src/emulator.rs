//! The in-process emulated UICC ([`uicc::Card`]) as a [`Transport`]: no I/O at all, the
//! C-APDU bytes go straight into the sans-IO card core.

use crate::{ResetKind, Transport, TransportError};

/// The emulated card behind the `Transport` seam.
pub struct Emulator {
    card: uicc::Card,
    name: String,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Wrap a card (already powered: [`uicc::Card::new`] leaves it just after a cold reset).
    pub fn new(card: uicc::Card) -> Self {
        Emulator {
            card,
            name: "simota emulated UICC".into(),
        }
    }
    /// A card built from the `uicc` default profile (no extra applet classes), with a volatile
    /// store and the profile's deterministic random source. The `simota` CLI's built-in card
    /// adds the WPKI applet and OS randomness on top (`crates/cli/src/card.rs`; `transport`
    /// cannot depend on `wpki`).
    pub fn default_card() -> Result<Self, uicc::CardError> {
        Ok(Self::new(
            uicc::Card::new(uicc::Profile::default_profile())?,
        ))
    }
    /// Use another name in reports.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The card itself.
    pub fn card(&mut self) -> &mut uicc::Card {
        &mut self.card
    }
    /// Unwrap.
    pub fn into_card(self) -> uicc::Card {
        self.card
    }
}

impl Transport for Emulator {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if capdu.len() < 4 {
            return Err(TransportError::BadCommand(format!(
                "C-APDU of {} byte(s) has no header",
                capdu.len()
            )));
        }
        Ok(self.card.process(capdu))
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        Ok(match kind {
            ResetKind::Cold => self.card.reset(),
            ResetKind::Warm => self.card.warm_reset(),
        })
    }
    fn atr(&self) -> Vec<u8> {
        self.card.atr()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_mf_and_reset() {
        let mut e = Emulator::default_card().unwrap();
        let atr = e.reset(ResetKind::Cold).unwrap();
        assert_eq!(atr.first(), Some(&0x3B));
        assert_eq!(e.atr(), atr);
        let r = e
            .transmit(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00])
            .unwrap();
        assert!(r.len() >= 2);
        assert!(matches!(r[r.len() - 2], 0x61 | 0x90), "{r:02X?}");
        assert!(e.transmit(&[0x00]).is_err());
        let mut t = crate::T0Adapter::new(e);
        let full = t
            .transmit(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00])
            .unwrap();
        assert_eq!(full.first(), Some(&0x62), "FCP template: {full:02X?}");
        assert_eq!(&full[full.len() - 2..], [0x90, 0x00]);
    }
}
