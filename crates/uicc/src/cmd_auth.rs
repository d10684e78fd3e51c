//! AUTHENTICATE (INS 88) in a USIM ADF (TS 31.102 §7.1.2): 3G context (P2 81) with
//! RAND/AUTN → RES, CK, IK (tag DB) or AUTS (tag DC) on a sequence-number failure, 9862 on a
//! MAC failure; GSM context (P2 80) with RAND → SRES, Kc via c2/c3 (TS 33.102 §6.8.1.2).
//!
//! SQN handling follows TS 33.102 Annex C.2 in simplified form: SQN = SEQ (43 bits) ‖ IND
//! (`ind_bits`, default 5). The card keeps SEQ_MS(i) per IND value and accepts SQN when
//! SEQ > SEQ_MS(IND) and SEQ − max(SEQ_MS) ≤ Δ (default 2^28). On acceptance SEQ_MS(IND)
//! = SEQ. On failure the card answers AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S with SQN_MS the highest
//! accepted SQN (its SEQ and IND) and MAC-S = f1*(SQN_MS, RAND, AMF = 0000). No AMF
//! separation-bit check and no age limit L on SQN are applied. `sqn_check = "off"` accepts
//! every SQN.

use crate::card::{Card, Resp, R};
use crate::milenage::{c2, c3};
use crate::profile::SqnCheck;
use apdu::CommandApdu;
use subtle::ConstantTimeEq;

impl Card {
    pub(crate) fn cmd_authenticate(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(0x6B00);
        }
        let adf = self
            .chans
            .get(ch)
            .and_then(|c| c.as_ref())
            .and_then(|c| c.adf)
            .ok_or(0x6985u16)?;
        let ai = self
            .profile
            .auth
            .iter()
            .position(|a| a.adf == adf)
            .ok_or(0x6985u16)?;
        if !self.key_ok(Some(adf), 0x01) {
            return Err(0x6982);
        }
        let d = &cmd.data;
        let rand: [u8; 16] = match (d.first(), d.get(1..17)) {
            (Some(16), Some(r)) => r.try_into().map_err(|_| 0x6700u16)?,
            _ => return Err(if d.is_empty() { 0x6700 } else { 0x6A80 }),
        };
        let auth = &self.profile.auth[ai];
        match cmd.p2 {
            0x80 => {
                if d.len() != 17 {
                    return Err(0x6700);
                }
                let o = auth.milenage.f2345(&rand);
                let mut out = vec![0x04];
                out.extend_from_slice(&c2(&o.res));
                out.push(0x08);
                out.extend_from_slice(&c3(&o.ck, &o.ik));
                Ok(Resp::unit(out))
            }
            0x81 => {
                if d.len() != 34 || d[17] != 16 {
                    return Err(if d.len() != 34 { 0x6700 } else { 0x6A80 });
                }
                let autn = &d[18..34];
                let o = auth.milenage.f2345(&rand);
                let mut sqn = [0u8; 6];
                for (i, s) in sqn.iter_mut().enumerate() {
                    *s = autn[i] ^ o.ak[i];
                }
                let amf = [autn[6], autn[7]];
                let xmac = auth.milenage.f1(&rand, &sqn, &amf);
                if !bool::from(xmac.ct_eq(&autn[8..16])) {
                    return Err(0x9862);
                }
                let sqn_v =
                    u64::from_be_bytes([0, 0, sqn[0], sqn[1], sqn[2], sqn[3], sqn[4], sqn[5]]);
                let bits = auth.ind_bits as u32;
                let ind = (sqn_v & ((1u64 << bits) - 1)) as usize;
                let seq = sqn_v >> bits;
                let state = self.nv.state.auth.get(ai).ok_or(0x6F00u16)?;
                let (max_i, max_seq) = state
                    .seq
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, s)| **s)
                    .map(|(i, s)| (i, *s))
                    .unwrap_or((0, 0));
                let fresh = match auth.sqn_check {
                    SqnCheck::Off => true,
                    SqnCheck::AnnexC => {
                        let cur = state.seq.get(ind).copied().unwrap_or(u64::MAX);
                        seq > cur && seq.saturating_sub(max_seq) <= auth.delta
                    }
                };
                if !fresh {
                    let sqn_ms = (max_seq << bits) | max_i as u64;
                    let b = sqn_ms.to_be_bytes();
                    let sqn_ms: [u8; 6] = [b[2], b[3], b[4], b[5], b[6], b[7]];
                    let mac_s = auth.milenage.f1_star(&rand, &sqn_ms, &[0, 0]);
                    let mut out = vec![0xDC, 14];
                    out.extend(sqn_ms.iter().zip(o.ak_star.iter()).map(|(a, b)| a ^ b));
                    out.extend_from_slice(&mac_s);
                    return Ok(Resp::unit(out));
                }
                if auth.sqn_check == SqnCheck::AnnexC {
                    self.nv.write(|s| {
                        if let Some(slot) = s.auth.get_mut(ai).and_then(|a| a.seq.get_mut(ind)) {
                            *slot = seq;
                        }
                    })?;
                }
                let mut out = vec![0xDB, 8];
                out.extend_from_slice(&o.res);
                out.push(16);
                out.extend_from_slice(&o.ck);
                out.push(16);
                out.extend_from_slice(&o.ik);
                Ok(Resp::unit(out))
            }
            _ => Err(0x6A86),
        }
    }
}
