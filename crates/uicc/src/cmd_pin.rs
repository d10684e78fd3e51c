//! PIN commands (TS 102 221 §11.1.9–§11.1.13): VERIFY, CHANGE, DISABLE, ENABLE, UNBLOCK.
//!
//! Every attempt first decrements the retry counter and commits it to the store, and only
//! then compares (in constant time); a success restores the counter. A power cut at any point
//! therefore never grants a free try. Verification status is volatile and cleared at reset.
//!
//! Global key references (01–08, 0A–0E, 11) belong to the card; local ones (81–88, 8A–8E)
//! belong to an ADF (TS 102 221 §9.5.1): a command naming a local reference acts on the PIN
//! of the ADF current on its logical channel, and its verification status is kept per ADF.
//! DISABLE VERIFICATION REQUIREMENT with P1 = 91 (§11.1.11) disables an application PIN
//! (01–08) and replaces it by the universal PIN (11).

use crate::card::{Card, Resp, R};
use crate::fs::{NodeId, NodeKind};
use crate::nv::Secret8;
use apdu::CommandApdu;

fn is_adm(kr: u8) -> bool {
    matches!(kr, 0x0A..=0x0E | 0x8A..=0x8E)
}

/// A PIN value as TS 102 221 §9.5.2 codes it: 4–8 ASCII digits then FF padding (ADM keys
/// may be any 8 bytes).
fn pin_format_ok(kr: u8, v: &[u8]) -> bool {
    if is_adm(kr) {
        return v.len() == 8;
    }
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    v.len() == 8 && digits >= 4 && v[digits..].iter().all(|&b| b == 0xFF)
}

fn retries_sw(left: u8) -> u16 {
    0x63C0 | (left.min(15) as u16)
}

/// Key reference of the universal PIN (TS 102 221 §9.5.1).
pub(crate) const UNIVERSAL_PIN: u8 = 0x11;

/// Whether a key reference is local (specific to an ADF): b8 = 1 (TS 102 221 §9.5.1).
pub(crate) fn is_local(kr: u8) -> bool {
    kr & 0x80 != 0
}

impl Card {
    /// The ADF a node lies in (the node itself for an ADF), if any.
    pub(crate) fn adf_of_node(&self, id: NodeId) -> Option<NodeId> {
        let mut cur = Some(id);
        for _ in 0..=self.profile.tree.nodes.len() {
            let n = self.profile.tree.node(cur?)?;
            if matches!(n.kind, NodeKind::Adf { .. }) {
                return cur;
            }
            cur = n.parent;
        }
        None
    }

    /// The ADF current on channel `ch`, if any (during a GSM class A0 command: the card's
    /// GSM ADF).
    pub(crate) fn chan_adf(&self, ch: usize) -> Option<NodeId> {
        self.gsm_key_adf.or_else(|| {
            self.chans
                .get(ch)
                .and_then(|c| c.as_ref())
                .and_then(|c| c.adf)
        })
    }

    /// The PIN entry for `kr` as seen from `adf`: a global PIN, or the local PIN of `adf`.
    pub(crate) fn pin_index_in(&self, adf: Option<NodeId>, kr: u8) -> Option<usize> {
        if is_local(kr) && adf.is_none() {
            return None;
        }
        self.nv
            .state
            .pins
            .iter()
            .zip(&self.profile.pins)
            .position(|(p, c)| p.key_ref == kr && (!is_local(kr) || c.adf == adf))
    }

    /// Whether key reference `kr` is satisfied for a file in `adf` (or outside any ADF):
    /// verified in this session, granted (RFM), or its PIN disabled — unless the PIN was
    /// replaced by the universal PIN, which must then be satisfied instead.
    pub(crate) fn key_ok(&self, adf: Option<NodeId>, kr: u8) -> bool {
        if self.verified[kr as usize] {
            return true;
        }
        if is_local(kr) {
            if let Some(a) = adf {
                if self.verified_local.contains(&(a, kr)) {
                    return true;
                }
            }
        }
        let Some(p) = self
            .pin_index_in(adf, kr)
            .and_then(|i| self.nv.state.pins.get(i))
        else {
            return false;
        };
        if p.enabled {
            return false;
        }
        if p.use_universal && kr != UNIVERSAL_PIN {
            return self.key_ok(adf, UNIVERSAL_PIN);
        }
        true
    }

    /// [`Card::key_ok`] for every key reference (for applet contexts).
    pub(crate) fn sat_table(&self, adf: Option<NodeId>) -> [bool; 256] {
        let mut t = [false; 256];
        for (k, v) in t.iter_mut().enumerate() {
            *v = self.key_ok(adf, k as u8);
        }
        t
    }

    fn set_verified(&mut self, adf: Option<NodeId>, kr: u8, on: bool) {
        match (is_local(kr), adf) {
            (true, Some(a)) => {
                self.verified_local.retain(|&e| e != (a, kr));
                if on {
                    self.verified_local.push((a, kr));
                }
            }
            (true, None) => {}
            (false, _) => self.verified[kr as usize] = on,
        }
    }
}

impl Card {
    /// The PIN a command on channel `ch` names with `kr` (6A88 when there is none, e.g. a
    /// local reference with no ADF current on the channel).
    fn pin_index(&self, ch: usize, kr: u8) -> Result<usize, u16> {
        self.pin_index_in(self.chan_adf(ch), kr).ok_or(0x6A88)
    }

    /// Decrement-then-commit, then compare in constant time. Ok(true) on match (counter
    /// restored), Ok(false) on mismatch.
    fn try_pin(&mut self, i: usize, candidate: &[u8]) -> Result<bool, u16> {
        let left = self.nv.state.pins.get(i).map(|p| p.left).ok_or(0x6F00u16)?;
        if left == 0 {
            return Err(0x6983);
        }
        self.nv.write(|s| {
            if let Some(p) = s.pins.get_mut(i) {
                p.left = p.left.saturating_sub(1);
            }
        })?;
        self.nv.checkpoint()?;
        let ok = self
            .nv
            .state
            .pins
            .get(i)
            .is_some_and(|p| p.value.ct_eq(candidate));
        if ok {
            self.nv.write(|s| {
                if let Some(p) = s.pins.get_mut(i) {
                    p.left = p.max;
                }
            })?;
        }
        Ok(ok)
    }

    fn fail_sw(&self, i: usize) -> u16 {
        retries_sw(self.nv.state.pins.get(i).map_or(0, |p| p.left))
    }

    pub(crate) fn cmd_verify(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let adf = self.chan_adf(ch);
        let i = self.pin_index(ch, kr)?;
        if cmd.data.is_empty() {
            let pin = &self.nv.state.pins[i];
            let shown = if pin.use_universal && !pin.enabled {
                self.pin_index_in(adf, UNIVERSAL_PIN)
                    .and_then(|u| self.nv.state.pins.get(u))
                    .map_or(pin.left, |u| u.left)
            } else {
                pin.left
            };
            return if pin.left == 0 {
                Err(retries_sw(0))
            } else if self.key_ok(adf, kr) {
                Ok(Resp::ok())
            } else {
                Err(retries_sw(shown))
            };
        }
        if cmd.data.len() != 8 {
            return Err(0x6700);
        }
        if self.try_pin(i, &cmd.data)? {
            self.set_verified(adf, kr, true);
            Ok(Resp::ok())
        } else {
            self.set_verified(adf, kr, false);
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_change(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let adf = self.chan_adf(ch);
        let i = self.pin_index(ch, kr)?;
        if cmd.data.len() != 16 {
            return Err(0x6700);
        }
        let (old, new) = cmd.data.split_at(8);
        if !pin_format_ok(kr, new) {
            return Err(0x6A80);
        }
        let pin = &self.nv.state.pins[i];
        if !pin.enabled {
            return Err(0x6984);
        }
        if self.try_pin(i, old)? {
            let v = Secret8(new.to_vec());
            self.nv.write(|s| {
                if let Some(p) = s.pins.get_mut(i) {
                    p.value = v;
                }
            })?;
            self.set_verified(adf, kr, true);
            Ok(Resp::ok())
        } else {
            self.set_verified(adf, kr, false);
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_enable_disable(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let enable = cmd.ins == 0x28;
        // P1 = 91 on DISABLE: replace the PIN by the universal PIN (TS 102 221 §11.1.11).
        let universal = match (enable, cmd.p1) {
            (_, 0x00) => false,
            (false, 0x91) => true,
            _ => return Err(0x6B00),
        };
        let kr = cmd.p2;
        let adf = self.chan_adf(ch);
        let i = self.pin_index(ch, kr)?;
        if cmd.data.len() != 8 {
            return Err(0x6700);
        }
        if universal {
            if !matches!(kr, 0x01..=0x08) {
                return Err(0x6A86);
            }
            self.pin_index_in(None, UNIVERSAL_PIN).ok_or(0x6A88u16)?;
        }
        if is_adm(kr) {
            return Err(0x6985);
        }
        if self.nv.state.pins[i].enabled == enable {
            return Err(0x6985);
        }
        if self.try_pin(i, &cmd.data)? {
            self.nv.write(|s| {
                if let Some(p) = s.pins.get_mut(i) {
                    p.enabled = enable;
                    p.use_universal = universal;
                }
            })?;
            self.set_verified(adf, kr, true);
            Ok(Resp::ok())
        } else {
            self.set_verified(adf, kr, false);
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_unblock(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let adf = self.chan_adf(ch);
        let i = self.pin_index(ch, kr)?;
        let puk_left = self.nv.state.pins[i]
            .puk
            .as_ref()
            .map(|p| p.left)
            .ok_or(0x6A88u16)?;
        if cmd.data.is_empty() {
            return Err(retries_sw(puk_left));
        }
        if cmd.data.len() != 16 {
            return Err(0x6700);
        }
        let (puk, new) = cmd.data.split_at(8);
        if !pin_format_ok(kr, new) {
            return Err(0x6A80);
        }
        if puk_left == 0 {
            return Err(0x6983);
        }
        self.nv.write(|s| {
            if let Some(p) = s.pins.get_mut(i).and_then(|p| p.puk.as_mut()) {
                p.left = p.left.saturating_sub(1);
            }
        })?;
        self.nv.checkpoint()?;
        let ok = self.nv.state.pins[i]
            .puk
            .as_ref()
            .is_some_and(|p| p.value.ct_eq(puk));
        if !ok {
            return Err(retries_sw(
                self.nv.state.pins[i].puk.as_ref().map_or(0, |p| p.left),
            ));
        }
        let v = Secret8(new.to_vec());
        self.nv.write(|s| {
            if let Some(p) = s.pins.get_mut(i) {
                p.value = v;
                p.left = p.max;
                if let Some(k) = p.puk.as_mut() {
                    k.left = k.max;
                }
            }
        })?;
        self.set_verified(adf, kr, true);
        Ok(Resp::ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(pin_format_ok(0x01, b"1234\xFF\xFF\xFF\xFF"));
        assert!(pin_format_ok(0x01, b"12345678"));
        assert!(!pin_format_ok(0x01, b"123\xFF\xFF\xFF\xFF\xFF"));
        assert!(!pin_format_ok(0x01, b"12a4\xFF\xFF\xFF\xFF"));
        assert!(!pin_format_ok(0x01, b"1234\xFF1\xFF\xFF"));
        assert!(pin_format_ok(0x0A, &[0; 8]));
    }
}
