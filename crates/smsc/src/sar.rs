//! Segments sent with the sar_* TLVs (SMPP 3.4 §5.3.2.22–24: sar_msg_ref_num,
//! sar_total_segments, sar_segment_seqnum) become what the phone receives over the air: a
//! short message whose UDH carries the concatenation IE (TS 23.040 §9.2.3.24.1 IE `00`,
//! 8-bit reference, when sar_msg_ref_num ≤ 255; §9.2.3.24.8 IE `08`, 16-bit, otherwise).
//!
//! The SMSC does not reassemble: like a real network it delivers each segment as its own
//! SMS-PP download, and the card (`uicc::ota_concat`) joins them. A segment with UDHI set
//! keeps its UDH (e.g. `70 00` in the first segment, TS 31.115 §4.2) and gets the
//! concatenation IE appended; one without gets a new UDH holding only that IE.

use crate::pdu::{status, tag, Tlv};
use ota::sms::udh::{InformationElement, Udh, IEI_CONCAT_16, IEI_CONCAT_8};

/// The TP-UD the phone receives for user data `ud` (with a UDH when `udhi`) and the PDU's
/// TLVs: `ud` unchanged without sar_* TLVs; otherwise with the concatenation IE. Errors are
/// command_status values: ESME_RMISSINGOPTPARAM (only some of the three TLVs),
/// ESME_RINVOPTPARAMVAL (a TLV of the wrong size, total or sequence number 0, sequence
/// above the total, or a UDH that already has a concatenation IE), ESME_RSUBMITFAIL (a
/// malformed UDH), ESME_RINVMSGLEN (more than 140 bytes with the IE).
pub fn with_sar(ud: &[u8], udhi: bool, tlvs: &[Tlv]) -> Result<Vec<u8>, u32> {
    let find = |t: u16| tlvs.iter().find(|x| x.tag == t).map(|x| x.value.as_slice());
    let (r, n, s) = match (
        find(tag::SAR_MSG_REF_NUM),
        find(tag::SAR_TOTAL_SEGMENTS),
        find(tag::SAR_SEGMENT_SEQNUM),
    ) {
        (None, None, None) => return Ok(ud.to_vec()),
        (Some(r), Some(n), Some(s)) => (r, n, s),
        _ => return Err(status::RMISSINGOPTPARAM),
    };
    let (reference, total, seq) = match (r, n, s) {
        (&[a, b], &[total], &[seq]) if total > 0 && seq > 0 && seq <= total => {
            (u16::from_be_bytes([a, b]), total, seq)
        }
        _ => return Err(status::RINVOPTPARAMVAL),
    };
    let (mut udh, body) = if udhi {
        let (u, n) = Udh::parse(ud).map_err(|_| status::RSUBMITFAIL)?;
        (u, &ud[n..])
    } else {
        (Udh::default(), ud)
    };
    if udh.find(IEI_CONCAT_8).is_some() || udh.find(IEI_CONCAT_16).is_some() {
        return Err(status::RINVOPTPARAMVAL);
    }
    udh.ies.push(match u8::try_from(reference) {
        Ok(r8) => InformationElement::new(IEI_CONCAT_8, vec![r8, total, seq]),
        Err(_) => {
            let [a, b] = reference.to_be_bytes();
            InformationElement::new(IEI_CONCAT_16, vec![a, b, total, seq])
        }
    });
    let mut out = udh.emit().map_err(|_| status::RINVMSGLEN)?;
    out.extend_from_slice(body);
    if out.len() > ota::sms::concat::MAX_UD {
        return Err(status::RINVMSGLEN);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sar(r: &[u8], n: u8, s: u8) -> Vec<Tlv> {
        vec![
            Tlv {
                tag: tag::SAR_MSG_REF_NUM,
                value: r.to_vec(),
            },
            Tlv {
                tag: tag::SAR_TOTAL_SEGMENTS,
                value: vec![n],
            },
            Tlv {
                tag: tag::SAR_SEGMENT_SEQNUM,
                value: vec![s],
            },
        ]
    }

    #[test]
    fn concatenation_ie_added_to_the_udh_or_a_new_one() {
        // No sar_*: unchanged.
        assert_eq!(
            with_sar(&[2, 0x70, 0, 9], true, &[]),
            Ok(vec![2, 0x70, 0, 9])
        );
        // First segment: IE 00 appended after 70 00.
        assert_eq!(
            with_sar(&[2, 0x70, 0, 9], true, &sar(&[0, 7], 3, 1)),
            Ok(vec![7, 0x70, 0, 0, 3, 7, 3, 1, 9])
        );
        // A later segment without UDH: a new UDH, 16-bit reference.
        assert_eq!(
            with_sar(&[9, 9], false, &sar(&[1, 2], 3, 2)),
            Ok(vec![6, 8, 4, 1, 2, 3, 2, 9, 9])
        );
    }

    #[test]
    fn bad_sar_values_are_refused() {
        let partial = &sar(&[0, 7], 3, 1)[..2];
        assert_eq!(
            with_sar(&[1], false, partial),
            Err(status::RMISSINGOPTPARAM)
        );
        for (r, n, s) in [
            (&[7u8][..], 3, 1),
            (&[0, 7][..], 0, 1),
            (&[0, 7], 3, 0),
            (&[0, 7], 3, 4),
        ] {
            assert_eq!(
                with_sar(&[1], false, &sar(r, n, s)),
                Err(status::RINVOPTPARAMVAL),
                "{r:?} {n} {s}"
            );
        }
        // A UDH that already concatenates.
        assert_eq!(
            with_sar(&[5, 0, 3, 1, 2, 1, 9], true, &sar(&[0, 7], 2, 1)),
            Err(status::RINVOPTPARAMVAL)
        );
        // A UDH running past the data.
        assert_eq!(
            with_sar(&[9, 0x70], true, &sar(&[0, 7], 2, 1)),
            Err(status::RSUBMITFAIL)
        );
        // 140 bytes plus the IE do not fit.
        assert_eq!(
            with_sar(&[0xAB; 140], false, &sar(&[0, 7], 2, 2)),
            Err(status::RINVMSGLEN)
        );
    }
}
