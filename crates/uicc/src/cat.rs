//! The card-side entry point for the CAT APDUs (ETSI TS 102 221 §10.1.2, TS 102 223):
//! TERMINAL PROFILE (`80 10`), ENVELOPE (`80 C2`), FETCH (`80 12`), TERMINAL RESPONSE
//! (`80 14`). The CAT engine plugs in here: [`CatState`] is its volatile state, and
//! [`CatState::proactive_pending`] turns a final `9000` into `91xx`.
//!
//! Until the engine is present: TERMINAL PROFILE is stored and answered `9000`; ENVELOPE,
//! FETCH and TERMINAL RESPONSE answer `6D00` (INS not supported), as a UICC without a toolkit
//! would.

use apdu::CommandApdu;

/// Volatile CAT state (cleared at reset).
#[derive(Debug, Clone, Default)]
pub struct CatState {
    /// The last TERMINAL PROFILE received.
    pub terminal_profile: Option<Vec<u8>>,
}

impl CatState {
    /// Length of the pending proactive command, if one waits for FETCH (announced `91xx`).
    pub fn proactive_pending(&self) -> Option<usize> {
        None
    }

    /// Handle one CAT APDU (CLA 80 and INS 10/C2/12/14); returns (data, SW).
    pub(crate) fn process(&mut self, cmd: &CommandApdu) -> (Vec<u8>, u16) {
        match cmd.ins {
            0x10 => {
                if cmd.p1 != 0 || cmd.p2 != 0 {
                    return (Vec::new(), 0x6B00);
                }
                self.terminal_profile = Some(cmd.data.clone());
                (Vec::new(), 0x9000)
            }
            _ => (Vec::new(), 0x6D00),
        }
    }
}
