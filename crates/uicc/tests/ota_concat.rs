//! Concatenated OTA command packets through `Card::process` (module `uicc::ota_concat`):
//! a stale partial message must never poison a new one (issue 12 item 6, found by
//! `simota fuzz ota`: PoR 06 on segment 1 of a correct 3-segment packet after a case that
//! sent one segment twice), a segment that does not fit is refused with 6A80, and a reset
//! or an unsegmented message discards the partial message.

use ota::sms::{split_command, ConcatRef, SmsAddress, SmsDeliver, Timestamp};
use ota::{CommandPacket, Counter, SmsPpDownload, Spi, Tar};
use uicc::{Card, Profile};

/// SPI 16 01: ciphered, CC, counter higher; PoR always, in clear, in the ENVELOPE response.
const SPI: [u8; 2] = [0x16, 0x01];

fn card() -> Card {
    Card::new(Profile::default_profile()).unwrap()
}

/// The ENVELOPEs of a correct RFM packet (TAR B00000, KVN 1) with CNTR `cntr` whose script
/// is `selects` SELECT MF commands, split with concatenation reference `r`.
fn envelopes(card: &Card, cntr: u64, selects: usize, r: u8) -> Vec<Vec<u8>> {
    let keys = card.ota_keyset(1).unwrap();
    let data = [0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00].repeat(selects);
    let packet = CommandPacket::new(
        Spi::from_bytes(SPI),
        &keys,
        Tar([0xB0, 0x00, 0x00]),
        Counter::new(cntr).unwrap(),
        data,
    )
    .seal(&keys)
    .unwrap();
    split_command(&packet, ConcatRef::Eight(r))
        .unwrap()
        .into_iter()
        .map(|ud| {
            let oa = SmsAddress::digits(0x81, 0x01, "1234").unwrap();
            let tpdu = SmsDeliver::data_download(oa, Timestamp([0; 7]), ud, true)
                .unwrap()
                .emit()
                .unwrap();
            let d1 = SmsPpDownload::new(tpdu).emit().unwrap();
            let mut apdu = vec![0x80, 0xC2, 0x00, 0x00, d1.len() as u8];
            apdu.extend_from_slice(&d1);
            apdu
        })
        .collect()
}

/// Send (completing `61xx` with GET RESPONSE, T=0); returns (data, SW).
fn tx(c: &mut Card, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut r = c.process(apdu);
    if r.len() == 2 && r[0] == 0x61 {
        r = c.process(&[0x00, 0xC0, 0x00, 0x00, r[1]]);
    }
    let n = r.len();
    (
        r[..n - 2].to_vec(),
        u16::from_be_bytes([r[n - 2], r[n - 1]]),
    )
}

/// The PoR status of an ENVELOPE answer (`02 71 00 RPL RHL TAR CNTR PCNTR status …`).
fn por_status(data: &[u8]) -> Option<u8> {
    (data.get(..3) == Some(&[0x02, 0x71, 0x00][..])).then(|| data[15])
}

/// Deliver a whole message; returns the PoR status of its last segment.
fn send_all(c: &mut Card, env: &[Vec<u8>]) -> Option<u8> {
    let mut last = None;
    for (i, e) in env.iter().enumerate() {
        let (data, sw) = tx(c, e);
        assert_eq!(sw, 0x9000, "segment {} of {}", i + 1, env.len());
        if i + 1 < env.len() {
            assert!(data.is_empty(), "no PoR before the last segment");
        }
        last = por_status(&data);
    }
    last
}

#[test]
fn a_stale_partial_message_does_not_poison_a_new_one_with_the_same_reference() {
    let mut c = card();
    let old = envelopes(&c, 1, 40, 0x9F);
    let new = envelopes(&c, 2, 40, 0x9F);
    assert_eq!(old.len(), 3);
    assert_eq!(new.len(), 3);
    // The fuzz case that poisoned the card: segment 2 arrives twice (concat.duplicate-segment).
    assert_eq!(tx(&mut c, &old[0]), (vec![], 0x9000));
    assert_eq!(tx(&mut c, &old[1]), (vec![], 0x9000));
    let duplicate = tx(&mut c, &old[1]).1;
    // Nothing is pending any more: segment 3 is not part of an OTA message.
    assert_eq!(tx(&mut c, &old[2]), (vec![], 0x9000));
    assert_eq!(
        c.ota_counter(1).value(),
        0,
        "the broken message did nothing"
    );
    // The next correct message, same reference and total, is accepted.
    assert_eq!(send_all(&mut c, &new), Some(0x00));
    assert_eq!(c.ota_counter(1).value(), 2);
    assert_eq!(duplicate, 0x6A80, "a duplicate segment is refused");
}

#[test]
fn segment_one_restarts_a_partial_message() {
    let mut c = card();
    let old = envelopes(&c, 1, 40, 0x9F);
    let new = envelopes(&c, 2, 40, 0x9F);
    // stale: segments 1 and 2 of the old message …
    tx(&mut c, &old[0]);
    tx(&mut c, &old[1]);
    // … then the new message from its segment 1.
    assert_eq!(send_all(&mut c, &new), Some(0x00));
    assert_eq!(c.ota_counter(1).value(), 2);
    // Only segments 2 and 3 of the old one: they fit nothing.
    assert_eq!(tx(&mut c, &old[1]), (vec![], 0x9000));
    assert_eq!(tx(&mut c, &old[2]), (vec![], 0x9000));
    assert_eq!(c.ota_counter(1).value(), 2);
}

#[test]
fn a_segment_that_does_not_fit_is_refused_and_discards_the_partial_message() {
    let c0 = card();
    let a = envelopes(&c0, 1, 40, 0x10);
    let b = envelopes(&c0, 2, 40, 0x11);
    // another reference, out of order
    for bad in [&b[1], &a[2]] {
        let mut c = card();
        tx(&mut c, &a[0]);
        assert_eq!(tx(&mut c, bad).1, 0x6A80);
        // the rest of `a` no longer completes anything
        assert_eq!(tx(&mut c, &a[1]), (vec![], 0x9000));
        assert_eq!(tx(&mut c, &a[2]), (vec![], 0x9000));
        assert_eq!(c.ota_counter(1).value(), 0);
        // and a whole message still goes through
        assert_eq!(send_all(&mut c, &b), Some(0x00));
    }
}

#[test]
fn reset_and_an_unsegmented_message_discard_the_partial_message() {
    let c0 = card();
    let a = envelopes(&c0, 1, 40, 0x20);
    let single = envelopes(&c0, 2, 2, 0x21);
    assert_eq!(single.len(), 1);
    let mut c = card();
    tx(&mut c, &a[0]);
    tx(&mut c, &a[1]);
    c.reset();
    assert_eq!(tx(&mut c, &a[2]), (vec![], 0x9000));
    assert_eq!(c.ota_counter(1).value(), 0);
    let mut c = card();
    tx(&mut c, &a[0]);
    tx(&mut c, &a[1]);
    assert_eq!(send_all(&mut c, &single), Some(0x00));
    assert_eq!(tx(&mut c, &a[2]), (vec![], 0x9000));
    assert_eq!(c.ota_counter(1).value(), 2);
}
