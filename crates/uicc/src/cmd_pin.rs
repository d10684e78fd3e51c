//! PIN commands (TS 102 221 §11.1.9–§11.1.13): VERIFY, CHANGE, DISABLE, ENABLE, UNBLOCK.
//!
//! Every attempt first decrements the retry counter and commits it to the store, and only
//! then compares (in constant time); a success restores the counter. A power cut at any point
//! therefore never grants a free try. Verification status is volatile and cleared at reset.

use crate::card::{Card, Resp, R};
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

impl Card {
    fn pin_index(&self, kr: u8) -> Result<usize, u16> {
        self.nv
            .state
            .pins
            .iter()
            .position(|p| p.key_ref == kr)
            .ok_or(0x6A88)
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

    pub(crate) fn cmd_verify(&mut self, _ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let i = self.pin_index(kr)?;
        let pin = &self.nv.state.pins[i];
        if cmd.data.is_empty() {
            return if pin.left == 0 {
                Err(retries_sw(0))
            } else if self.verified[kr as usize] || !pin.enabled {
                Ok(Resp::ok())
            } else {
                Err(retries_sw(pin.left))
            };
        }
        if cmd.data.len() != 8 {
            return Err(0x6700);
        }
        if self.try_pin(i, &cmd.data)? {
            self.verified[kr as usize] = true;
            Ok(Resp::ok())
        } else {
            self.verified[kr as usize] = false;
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_change(&mut self, _ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let i = self.pin_index(kr)?;
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
            self.verified[kr as usize] = true;
            Ok(Resp::ok())
        } else {
            self.verified[kr as usize] = false;
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_enable_disable(&mut self, _ch: usize, cmd: &CommandApdu) -> R {
        let enable = cmd.ins == 0x28;
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let i = self.pin_index(kr)?;
        if cmd.data.len() != 8 {
            return Err(0x6700);
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
                }
            })?;
            self.verified[kr as usize] = true;
            Ok(Resp::ok())
        } else {
            self.verified[kr as usize] = false;
            Err(self.fail_sw(i))
        }
    }

    pub(crate) fn cmd_unblock(&mut self, _ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let kr = cmd.p2;
        let i = self.pin_index(kr)?;
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
        self.verified[kr as usize] = true;
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
