//! Concatenated short messages (TS 23.040 §9.2.3.24.1 IE 00, §9.2.3.24.8 IE 08) for
//! secured packets (TS 31.115 §4.2, §6): a command packet too long for one SMS is split
//! across segments; the security header IE (`70 00`, or `71 00` for a PoR) appears only in
//! the first segment's UDH, next to the concatenation IE. \[UNSURE\] IE order inside the UDH
//! varies between implementations: we emit the security IE first and parse by IEI.

use super::udh::{
    InformationElement, Udh, IEI_COMMAND_PACKET, IEI_CONCAT_16, IEI_CONCAT_8, IEI_RESPONSE_PACKET,
};
use crate::error::{OtaError, Result};

/// Maximum TP-UD octets of one 8-bit short message.
pub const MAX_UD: usize = 140;

/// A concatenation reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConcatRef {
    /// IE 00, 8-bit reference.
    Eight(u8),
    /// IE 08, 16-bit reference.
    Sixteen(u16),
}

impl ConcatRef {
    fn ie(self, total: u8, seq: u8) -> InformationElement {
        match self {
            ConcatRef::Eight(r) => InformationElement::new(IEI_CONCAT_8, vec![r, total, seq]),
            ConcatRef::Sixteen(r) => {
                let [a, b] = r.to_be_bytes();
                InformationElement::new(IEI_CONCAT_16, vec![a, b, total, seq])
            }
        }
    }
    fn ie_len(self) -> usize {
        match self {
            ConcatRef::Eight(_) => 5,
            ConcatRef::Sixteen(_) => 6,
        }
    }
}

/// Split `payload` into TP-UDs of at most 140 octets. `first_ies` go into the first
/// segment's UDH only. If everything fits one message, no concatenation IE is added.
pub fn split(
    payload: &[u8],
    first_ies: &[InformationElement],
    reference: ConcatRef,
) -> Result<Vec<Vec<u8>>> {
    let first_udh = Udh {
        ies: first_ies.to_vec(),
    };
    if first_udh.buffer_len() + payload.len() <= MAX_UD {
        let mut ud = first_udh.emit()?;
        ud.extend_from_slice(payload);
        return Ok(vec![ud]);
    }
    let first_room = MAX_UD
        .checked_sub(first_udh.buffer_len() + reference.ie_len())
        .filter(|&r| r > 0)
        .ok_or(OtaError::InvalidValue {
            field: "UDH",
            reason: "first segment UDH leaves no room for data".into(),
        })?;
    let later_room = MAX_UD - 1 - reference.ie_len();
    let rest = payload.len().saturating_sub(first_room);
    let total = 1 + rest.div_ceil(later_room);
    let total_u8 = u8::try_from(total).map_err(|_| OtaError::InvalidValue {
        field: "payload",
        reason: format!(
            "{} bytes need {total} segments, more than 255",
            payload.len()
        ),
    })?;
    let mut out = Vec::with_capacity(total);
    let (first, mut rest) = payload.split_at(first_room.min(payload.len()));
    let mut ies = first_ies.to_vec();
    ies.push(reference.ie(total_u8, 1));
    let mut ud = Udh { ies }.emit()?;
    ud.extend_from_slice(first);
    out.push(ud);
    for seq in 2..=total_u8 {
        let (chunk, r) = rest.split_at(later_room.min(rest.len()));
        rest = r;
        let mut ud = Udh {
            ies: vec![reference.ie(total_u8, seq)],
        }
        .emit()?;
        ud.extend_from_slice(chunk);
        out.push(ud);
    }
    Ok(out)
}

/// Split a command packet (from CPL on) into TP-UDs: `02 70 00 …` when it fits one SMS,
/// otherwise segments whose first UDH holds `70 00` and the concatenation IE.
pub fn split_command(packet: &[u8], reference: ConcatRef) -> Result<Vec<Vec<u8>>> {
    split(
        packet,
        &[InformationElement::new(IEI_COMMAND_PACKET, vec![])],
        reference,
    )
}

/// The result of reassembly: the first segment's IEs (without the concatenation IE) and the
/// joined payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// IEs of the first segment other than the concatenation IE.
    pub ies: Vec<InformationElement>,
    /// The payload with all UDHs removed.
    pub payload: Vec<u8>,
}

impl Reassembled {
    /// The equivalent single-message TP-UD (UDH of `ies`, then the payload), e.g.
    /// `02 70 00 CPL …` for a command packet.
    pub fn to_user_data(&self) -> Result<Vec<u8>> {
        let mut v = Udh {
            ies: self.ies.clone(),
        }
        .emit()?;
        v.extend_from_slice(&self.payload);
        Ok(v)
    }
    /// True when the first segment carried the command packet IE `70`.
    pub fn is_command_packet(&self) -> bool {
        self.ies.iter().any(|ie| ie.iei == IEI_COMMAND_PACKET)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConcatInfo {
    reference: ConcatRef,
    total: u8,
    seq: u8,
}

fn concat_info(udh: &Udh) -> Result<Option<ConcatInfo>> {
    for ie in &udh.ies {
        match (ie.iei, ie.data.as_slice()) {
            (IEI_CONCAT_8, &[r, total, seq]) => {
                return Ok(Some(ConcatInfo {
                    reference: ConcatRef::Eight(r),
                    total,
                    seq,
                }))
            }
            (IEI_CONCAT_16, &[a, b, total, seq]) => {
                return Ok(Some(ConcatInfo {
                    reference: ConcatRef::Sixteen(u16::from_be_bytes([a, b])),
                    total,
                    seq,
                }))
            }
            (IEI_CONCAT_8 | IEI_CONCAT_16, d) => {
                return Err(OtaError::Malformed {
                    field: "concatenation IE",
                    offset: 1,
                    reason: format!("IE {:02X} has {} data bytes", ie.iei, d.len()),
                })
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Stateful reassembly of one concatenated message, segment by segment (as a card receives
/// them, one ENVELOPE each). Out-of-order segments are accepted; a duplicate sequence
/// number, a different reference or total, a security header IE outside segment 1, or a
/// bad sequence number is an error.
#[derive(Debug, Clone, Default)]
pub struct Reassembler {
    reference: Option<ConcatRef>,
    total: u8,
    parts: Vec<Option<(Vec<InformationElement>, Vec<u8>)>>,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Reassembler::default()
    }

    /// Add one TP-UD (with UDH). Returns the whole message when it is complete; a UD without
    /// a concatenation IE is complete by itself (only if nothing is pending).
    pub fn push(&mut self, ud: &[u8]) -> Result<Option<Reassembled>> {
        let (udh, used) = Udh::parse(ud)?;
        let body = ud.get(used..).unwrap_or(&[]).to_vec();
        let Some(ci) = concat_info(&udh)? else {
            if self.reference.is_some() {
                return Err(OtaError::Malformed {
                    field: "UDH",
                    offset: 0,
                    reason: "unsegmented message while a concatenated one is pending".into(),
                });
            }
            return Ok(Some(Reassembled {
                ies: udh.ies,
                payload: body,
            }));
        };
        if ci.total == 0 || ci.seq == 0 || ci.seq > ci.total {
            return Err(OtaError::Malformed {
                field: "concatenation IE",
                offset: 1,
                reason: format!("sequence {} of {} is out of range", ci.seq, ci.total),
            });
        }
        match self.reference {
            None => {
                self.reference = Some(ci.reference);
                self.total = ci.total;
                self.parts = vec![None; usize::from(ci.total)];
            }
            Some(r) if r != ci.reference || self.total != ci.total => {
                return Err(OtaError::Malformed {
                    field: "concatenation IE",
                    offset: 1,
                    reason: format!(
                        "reference/total {:?}/{} differ from the pending message's {:?}/{}",
                        ci.reference, ci.total, r, self.total
                    ),
                })
            }
            Some(_) => {}
        }
        let sec = udh
            .ies
            .iter()
            .any(|ie| matches!(ie.iei, IEI_COMMAND_PACKET | IEI_RESPONSE_PACKET));
        if sec && ci.seq != 1 {
            return Err(OtaError::Malformed {
                field: "UDH",
                offset: 1,
                reason: format!(
                    "security header IE in segment {} (only allowed in segment 1)",
                    ci.seq
                ),
            });
        }
        let slot = self
            .parts
            .get_mut(usize::from(ci.seq - 1))
            .ok_or(OtaError::Malformed {
                field: "concatenation IE",
                offset: 1,
                reason: format!("sequence {} beyond total {}", ci.seq, self.total),
            })?;
        if slot.is_some() {
            return Err(OtaError::Malformed {
                field: "concatenation IE",
                offset: 1,
                reason: format!("duplicate segment {} of {}", ci.seq, ci.total),
            });
        }
        let ies: Vec<_> = udh
            .ies
            .into_iter()
            .filter(|ie| !matches!(ie.iei, IEI_CONCAT_8 | IEI_CONCAT_16))
            .collect();
        *slot = Some((ies, body));
        if self.parts.iter().all(Option::is_some) {
            let parts = std::mem::take(&mut self.parts);
            self.reference = None;
            let mut ies = Vec::new();
            let mut payload = Vec::new();
            for (i, (pi, body)) in parts.into_iter().flatten().enumerate() {
                if i == 0 {
                    ies = pi;
                }
                payload.extend_from_slice(&body);
            }
            return Ok(Some(Reassembled { ies, payload }));
        }
        Ok(None)
    }

    /// Sequence numbers still missing (empty when nothing is pending).
    pub fn missing(&self) -> Vec<u8> {
        self.parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_none())
            .map(|(i, _)| (i + 1) as u8)
            .collect()
    }
}

/// Reassemble a complete set of TP-UDs (any order). Missing segments, duplicates and
/// inconsistent references are errors.
pub fn reassemble(uds: &[&[u8]]) -> Result<Reassembled> {
    let mut r = Reassembler::new();
    for (i, ud) in uds.iter().enumerate() {
        if let Some(done) = r.push(ud)? {
            if i + 1 != uds.len() {
                return Err(OtaError::Malformed {
                    field: "segments",
                    offset: i + 1,
                    reason: format!(
                        "{} segment(s) left after the message was complete",
                        uds.len() - i - 1
                    ),
                });
            }
            return Ok(done);
        }
    }
    Err(OtaError::Malformed {
        field: "segments",
        offset: uds.len(),
        reason: format!("missing segment(s) {:?}", r.missing()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_message_is_027000() {
        let uds = split_command(&[0xAA; 137], ConcatRef::Eight(1)).unwrap();
        assert_eq!(uds.len(), 1);
        assert_eq!(&uds[0][..3], &[2, 0x70, 0]);
        assert_eq!(uds[0].len(), 140);
    }

    #[test]
    fn two_segments_layout() {
        let p: Vec<u8> = (0..200u16).map(|x| x as u8).collect();
        let uds = split_command(&p, ConcatRef::Eight(7)).unwrap();
        assert_eq!(uds.len(), 2);
        assert_eq!(&uds[0][..8], &[7, 0x70, 0, 0, 3, 7, 2, 1]);
        assert_eq!(&uds[1][..6], &[5, 0, 3, 7, 2, 2]);
        assert!(uds.iter().all(|u| u.len() <= MAX_UD));
        let r = reassemble(&[&uds[1], &uds[0]]).unwrap();
        assert_eq!(r.payload, p);
        assert!(r.is_command_packet());
        let e = reassemble(&[&uds[0]]).unwrap_err();
        assert!(e.to_string().contains("missing segment(s) [2]"), "{e}");
        let e = reassemble(&[&uds[0], &uds[0]]).unwrap_err();
        assert!(e.to_string().contains("duplicate segment 1"), "{e}");
        let mut bad = uds[1].clone();
        bad.splice(0..1, [7, 0x70, 0]);
        bad[0] = 7;
        let e = reassemble(&[&uds[0], &bad]).unwrap_err();
        assert!(e.to_string().contains("only allowed in segment 1"), "{e}");
    }

    proptest! {
        #[test]
        fn split_reassemble_round_trip(
            len in 0usize..2000,
            r16 in any::<bool>(),
            r in any::<u16>(),
            rot in any::<usize>(),
        ) {
            let p: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let reference = if r16 { ConcatRef::Sixteen(r) } else { ConcatRef::Eight(r as u8) };
            let mut uds = split_command(&p, reference).unwrap();
            prop_assert!(uds.iter().all(|u| u.len() <= MAX_UD));
            let n = uds.len();
            uds.rotate_left(rot % n);
            let refs: Vec<&[u8]> = uds.iter().map(|u| u.as_slice()).collect();
            let back = reassemble(&refs).unwrap();
            prop_assert!(back.is_command_packet());
            prop_assert_eq!(back.payload, p);
            if n > 1 {
                prop_assert!(reassemble(&refs[1..]).is_err());
            }
        }
    }
}
