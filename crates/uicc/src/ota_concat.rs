//! The card's reassembly of concatenated SMS-PP command packets (3GPP TS 23.040
//! §9.2.3.24.1 IE 00 and §9.2.3.24.8 IE 08; TS 31.115 §4.2; TS 31.111 §7.1.1): each segment
//! arrives in its own ENVELOPE (SMS-PP DOWNLOAD), and the card holds at most one partial
//! message in volatile memory. The rule:
//!
//! * a segment with sequence number 1 always starts a new message: any partial message is
//!   discarded, even one with the same reference (a stale partial from an earlier, broken
//!   delivery must not swallow the segments of a new one);
//! * a later segment must be the next one of the partial message: same reference, same
//!   total, sequence number one above the last one received, no security header IE
//!   (`70`/`71`); anything else (another reference or total, out of order, a duplicate, no
//!   partial message at all, sequence 0 or above the total) is refused (the ENVELOPE answers
//!   `6A80`, spec digest D.8) and the partial message is discarded;
//! * an unsegmented message (no concatenation IE) and a card reset discard any partial one.

use ota::sms::udh::{
    InformationElement, Udh, IEI_COMMAND_PACKET, IEI_CONCAT_16, IEI_CONCAT_8, IEI_RESPONSE_PACKET,
};
use ota::sms::{ConcatRef, Reassembled};

/// The concatenation IE of one segment (TS 23.040 §9.2.3.24.1 / §9.2.3.24.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Reference (8- or 16-bit IE).
    pub reference: ConcatRef,
    /// Number of segments of the message.
    pub total: u8,
    /// This segment's sequence number (from 1).
    pub seq: u8,
}

/// The concatenation IE of a UDH, if it has one (`Err` with the reason when it is malformed).
pub fn segment_info(udh: &Udh) -> Result<Option<SegmentInfo>, String> {
    for ie in &udh.ies {
        let info = match (ie.iei, ie.data.as_slice()) {
            (IEI_CONCAT_8, &[r, total, seq]) => SegmentInfo {
                reference: ConcatRef::Eight(r),
                total,
                seq,
            },
            (IEI_CONCAT_16, &[a, b, total, seq]) => SegmentInfo {
                reference: ConcatRef::Sixteen(u16::from_be_bytes([a, b])),
                total,
                seq,
            },
            (IEI_CONCAT_8 | IEI_CONCAT_16, d) => {
                return Err(format!(
                    "concatenation IE {:02X} has {} data bytes",
                    ie.iei,
                    d.len()
                ))
            }
            _ => continue,
        };
        return Ok(Some(info));
    }
    Ok(None)
}

/// Why a segment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// The UDH or its concatenation IE does not decode.
    #[error("UDH: {0}")]
    Malformed(String),
    /// Sequence 0, or above the total.
    #[error("concatenation IE: sequence {seq} of {total} is out of range")]
    OutOfRange {
        /// Sequence number.
        seq: u8,
        /// Total.
        total: u8,
    },
    /// A later segment that is not the next one of the partial message.
    #[error("concatenation IE: segment {seq} of {total} (reference {reference:?}) does not continue {pending}")]
    DoesNotFit {
        /// Its reference.
        reference: ConcatRef,
        /// Its total.
        total: u8,
        /// Its sequence number.
        seq: u8,
        /// What was pending.
        pending: String,
    },
    /// A security header IE (`70`/`71`) outside segment 1.
    #[error("UDH: security header IE in segment {0} (only allowed in segment 1)")]
    HeaderOutsideFirst(u8),
}

#[derive(Debug, Clone)]
struct Partial {
    reference: ConcatRef,
    total: u8,
    /// Segments received so far (1..=received).
    received: u8,
    ies: Vec<InformationElement>,
    payload: Vec<u8>,
}

/// At most one partial concatenated message (volatile: cleared at reset).
#[derive(Debug, Clone, Default)]
pub struct SegmentBuffer {
    partial: Option<Partial>,
}

impl SegmentBuffer {
    /// Whether a partial message waits for its next segment.
    pub fn pending(&self) -> bool {
        self.partial.is_some()
    }

    /// Drop the partial message, if any.
    pub fn discard(&mut self) {
        self.partial = None;
    }

    /// Whether `udh` continues the partial message (a later segment with a concatenation
    /// IE while one is pending): such a segment belongs to the OTA receiver even without
    /// IE `70`.
    pub fn continues(&self, udh: &Udh) -> bool {
        self.partial.is_some() && matches!(segment_info(udh), Ok(Some(s)) if s.seq != 1)
    }

    /// Add the TP-UD of one segment (UDH included). Returns the whole message when it is
    /// complete (an unsegmented TP-UD is complete by itself). On `Err` the partial message
    /// has been discarded.
    pub fn push(&mut self, ud: &[u8]) -> Result<Option<Reassembled>, SegmentError> {
        let r = self.push_inner(ud);
        if r.is_err() {
            self.partial = None;
        }
        r
    }

    fn push_inner(&mut self, ud: &[u8]) -> Result<Option<Reassembled>, SegmentError> {
        let (udh, used) = Udh::parse(ud).map_err(|e| SegmentError::Malformed(e.to_string()))?;
        let body = ud.get(used..).unwrap_or(&[]);
        let Some(si) = segment_info(&udh).map_err(SegmentError::Malformed)? else {
            self.partial = None;
            return Ok(Some(Reassembled {
                ies: udh.ies,
                payload: body.to_vec(),
            }));
        };
        if si.total == 0 || si.seq == 0 || si.seq > si.total {
            return Err(SegmentError::OutOfRange {
                seq: si.seq,
                total: si.total,
            });
        }
        let ies: Vec<InformationElement> = udh
            .ies
            .into_iter()
            .filter(|ie| !matches!(ie.iei, IEI_CONCAT_8 | IEI_CONCAT_16))
            .collect();
        if si.seq == 1 {
            self.partial = Some(Partial {
                reference: si.reference,
                total: si.total,
                received: 1,
                ies,
                payload: body.to_vec(),
            });
        } else {
            if ies
                .iter()
                .any(|ie| matches!(ie.iei, IEI_COMMAND_PACKET | IEI_RESPONSE_PACKET))
            {
                return Err(SegmentError::HeaderOutsideFirst(si.seq));
            }
            let p = match self.partial.as_mut() {
                Some(p)
                    if p.reference == si.reference
                        && p.total == si.total
                        && si.seq == p.received + 1 =>
                {
                    p
                }
                other => {
                    return Err(SegmentError::DoesNotFit {
                        reference: si.reference,
                        total: si.total,
                        seq: si.seq,
                        pending: match other {
                            Some(p) => format!(
                                "the partial message (reference {:?}, {} segments, {} received)",
                                p.reference, p.total, p.received
                            ),
                            None => "anything (no partial message)".into(),
                        },
                    })
                }
            };
            p.received = si.seq;
            p.payload.extend_from_slice(body);
        }
        if self.partial.as_ref().is_some_and(|p| p.received == p.total) {
            let p = self.partial.take().unwrap_or_else(|| unreachable!());
            return Ok(Some(Reassembled {
                ies: p.ies,
                payload: p.payload,
            }));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota::sms::split_command;

    fn segs(len: usize, r: u8, fill: u8) -> Vec<Vec<u8>> {
        split_command(&vec![fill; len], ConcatRef::Eight(r)).unwrap()
    }

    #[test]
    fn in_order_segments_complete() {
        let s = segs(300, 5, 0xAA);
        assert_eq!(s.len(), 3);
        let mut b = SegmentBuffer::default();
        assert_eq!(b.push(&s[0]).unwrap(), None);
        assert_eq!(b.push(&s[1]).unwrap(), None);
        let w = b.push(&s[2]).unwrap().unwrap();
        assert_eq!(w.payload, vec![0xAA; 300]);
        assert!(w.is_command_packet());
        assert!(!b.pending());
    }

    #[test]
    fn segment_one_restarts_even_with_the_same_reference() {
        let old = segs(300, 5, 0x11);
        let new = segs(300, 5, 0x22);
        let mut b = SegmentBuffer::default();
        b.push(&old[0]).unwrap();
        b.push(&old[1]).unwrap();
        // The stale partial (segments 1–2 of the old message) must not absorb the new one.
        assert_eq!(b.push(&new[0]).unwrap(), None);
        assert_eq!(b.push(&new[1]).unwrap(), None);
        assert_eq!(b.push(&new[2]).unwrap().unwrap().payload, vec![0x22; 300]);
    }

    #[test]
    fn a_segment_that_does_not_fit_is_refused_and_discards() {
        let a = segs(300, 5, 0x11);
        let other = segs(300, 6, 0x22);
        for (bad, what) in [
            (&other[1], "DoesNotFit"),
            (&a[2], "DoesNotFit"),
            (&a[0], "restart"),
        ] {
            let mut b = SegmentBuffer::default();
            b.push(&a[0]).unwrap();
            let r = b.push(bad);
            if what == "restart" {
                assert_eq!(r.unwrap(), None);
                assert!(b.pending());
                continue;
            }
            let e = r.unwrap_err();
            assert!(matches!(e, SegmentError::DoesNotFit { .. }), "{e}");
            assert!(e.to_string().contains("does not continue"), "{e}");
            assert!(!b.pending(), "the partial message is discarded");
            // and the next segment of the old message no longer fits either
            assert!(b.push(&a[1]).is_err());
        }
        // duplicate
        let mut b = SegmentBuffer::default();
        b.push(&a[0]).unwrap();
        b.push(&a[1]).unwrap();
        assert!(b.push(&a[1]).is_err());
        assert!(!b.pending());
        // a later segment with nothing pending
        assert!(SegmentBuffer::default().push(&a[1]).is_err());
    }

    #[test]
    fn unsegmented_message_discards_the_partial() {
        let a = segs(300, 5, 0x11);
        let single = segs(20, 9, 0x33);
        assert_eq!(single.len(), 1);
        let mut b = SegmentBuffer::default();
        b.push(&a[0]).unwrap();
        assert_eq!(b.push(&single[0]).unwrap().unwrap().payload, vec![0x33; 20]);
        assert!(!b.pending());
    }

    #[test]
    fn out_of_range_and_header_in_later_segment() {
        let mut b = SegmentBuffer::default();
        let e = b.push(&[5, 0, 3, 1, 2, 0, 0xAA]).unwrap_err();
        assert_eq!(e, SegmentError::OutOfRange { seq: 0, total: 2 });
        let e = b.push(&[5, 0, 3, 1, 2, 3, 0xAA]).unwrap_err();
        assert_eq!(e, SegmentError::OutOfRange { seq: 3, total: 2 });
        b.push(&[7, 0x70, 0, 0, 3, 1, 2, 1, 0xAA]).unwrap();
        let e = b.push(&[7, 0x70, 0, 0, 3, 1, 2, 2, 0xBB]).unwrap_err();
        assert_eq!(e, SegmentError::HeaderOutsideFirst(2));
        assert!(!b.pending());
        let e = b.push(&[4, 0, 2, 1, 2, 0xAA]).unwrap_err();
        assert!(matches!(e, SegmentError::Malformed(_)), "{e}");
    }
}
