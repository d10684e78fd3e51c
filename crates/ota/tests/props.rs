//! Property tests over every KIc algorithm × KID algorithm × SPI × payload length 0–120.
//!
//! Bit-flip property: restricted to packets with a CC or RC. Without one, a flipped bit of
//! the data (or, when ciphered, of the ciphertext) yields different but well-formed data
//! that nothing can detect — that is what "no RC/CC/DS" means. Packets that are ciphered
//! and protected only by CRC16 are left out of the exhaustive flip as well: a flipped
//! ciphertext bit garbles a whole block, which a 16-bit CRC misses with probability 2^-16,
//! so over the hundreds of thousands of flips run here a false "verified" is expected and
//! would not be a bug. (A CRC detects every single-bit error in plain data, so unciphered
//! CRC16 packets stay in.)

use ota::sms::{reassemble, split_command, ConcatRef};
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, IntegrityMode, Keyset, PorSecurity,
    RemoteScript, ResponsePacket, ResponseStatus, SecuredCommand, SecuredResponse, SmsPpDownload,
    Spi, Tar,
};
use proptest::prelude::*;

fn key_len(
    c: Option<CipherAlgorithm>,
    k: Option<ChecksumAlgorithm>,
    aes_len: usize,
) -> (usize, usize) {
    let kl = |n: usize| match n {
        0 => 8,
        1 => 16,
        2 => 24,
        _ => aes_len,
    };
    let cl = match c {
        None => 0,
        Some(CipherAlgorithm::DesCbc | CipherAlgorithm::DesEcb) => kl(0),
        Some(CipherAlgorithm::TripleDes2Cbc) => kl(1),
        Some(CipherAlgorithm::TripleDes3Cbc) => kl(2),
        Some(CipherAlgorithm::AesCbc) => kl(3),
    };
    let dl = match k {
        None | Some(ChecksumAlgorithm::Crc16 | ChecksumAlgorithm::Crc32) => 0,
        Some(ChecksumAlgorithm::DesMac) => kl(0),
        Some(ChecksumAlgorithm::TripleDes2Mac) => kl(1),
        Some(ChecksumAlgorithm::TripleDes3Mac) => kl(2),
        Some(ChecksumAlgorithm::AesCmac) => kl(3),
    };
    (cl, dl)
}

#[derive(Debug, Clone)]
struct Case {
    keys: Keyset,
    pkt: CommandPacket,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![
            Just(None),
            proptest::sample::select(CipherAlgorithm::ALL.to_vec()).prop_map(Some)
        ],
        prop_oneof![
            Just(None),
            proptest::sample::select(ChecksumAlgorithm::ALL.to_vec()).prop_map(Some)
        ],
        proptest::sample::select(vec![16usize, 24, 32]),
        proptest::collection::vec(any::<u8>(), 64),
        (0u8..16, 0u8..16),
        (any::<u8>(), any::<u8>(), any::<bool>()),
        (any::<[u8; 3]>(), 0u64..=0xFF_FFFF_FFFF),
        proptest::collection::vec(any::<u8>(), 0..=120),
    )
        .prop_map(
            |(c, k, aes_len, keymat, (ki, di), (s1, s2, cipher_wish), (tar, cntr), data)| {
                let (cl, dl) = key_len(c, k, aes_len);
                let mut keys = Keyset::new();
                if let Some(c) = c {
                    keys = keys.with_kic(c, &keymat[..cl], ki).unwrap();
                }
                if let Some(k) = k {
                    keys = keys.with_kid(k, &keymat[32..32 + dl], di).unwrap();
                }
                let mut spi = Spi::from_bytes([s1, s2]);
                spi.ciphering = c.is_some() && cipher_wish;
                spi.integrity = k.map_or(IntegrityMode::None, |k| k.mode());
                let pkt =
                    CommandPacket::new(spi, &keys, Tar(tar), Counter::new(cntr).unwrap(), data);
                Case { keys, pkt }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn command_round_trips(c in case()) {
        let b = c.pkt.seal(&c.keys).unwrap();
        prop_assert_eq!(CommandPacket::open(&b, &c.keys).unwrap(), c.pkt.clone());
        // Through SMS segmentation as well (one or more TP-UDs, reassembled out of order).
        let mut uds = split_command(&b, ConcatRef::Sixteen(0x1234)).unwrap();
        uds.reverse();
        let refs: Vec<&[u8]> = uds.iter().map(|u| u.as_slice()).collect();
        let r = reassemble(&refs).unwrap();
        prop_assert!(r.is_command_packet());
        prop_assert_eq!(CommandPacket::open(&r.payload, &c.keys).unwrap(), c.pkt);
    }

    #[test]
    fn por_round_trips(
        c in case(),
        status in any::<u8>(),
        ciph in any::<bool>(),
        integ in any::<bool>(),
    ) {
        let sec = PorSecurity {
            ciphering: ciph && c.keys.kic_alg().is_some(),
            integrity: if integ { c.keys.kid_alg().map_or(IntegrityMode::None, |k| k.mode()) } else { IntegrityMode::None },
        };
        let p = ResponsePacket::new(c.pkt.tar, c.pkt.counter, ResponseStatus::from_byte(status))
            .with_data(c.pkt.data.clone());
        let ud = p.seal(sec, &c.keys).unwrap();
        prop_assert_eq!(&ud[..3], &[2, 0x71, 0]);
        prop_assert_eq!(ResponsePacket::open(&ud, sec, &c.keys).unwrap(), p);
    }

    #[test]
    fn protected_packets_never_accept_a_flipped_bit(c in case()) {
        let spi = c.pkt.spi;
        prop_assume!(spi.integrity != IntegrityMode::None);
        prop_assume!(!(spi.ciphering && c.keys.kid_alg() == Some(ChecksumAlgorithm::Crc16)));
        let b = c.pkt.seal(&c.keys).unwrap();
        for bit in 0..b.len() * 8 {
            let mut m = b.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            let r = CommandPacket::open(&m, &c.keys);
            prop_assert!(r.is_err(), "bit {} flipped in {:02X?} was accepted: {:?}", bit, b, r);
        }
    }

    #[test]
    fn protected_pors_never_accept_a_flipped_bit(c in case(), ciph in any::<bool>()) {
        let Some(k) = c.keys.kid_alg() else { return Ok(()) };
        let sec = PorSecurity { ciphering: ciph && c.keys.kic_alg().is_some(), integrity: k.mode() };
        prop_assume!(!(sec.ciphering && k == ChecksumAlgorithm::Crc16));
        let p = ResponsePacket::new(c.pkt.tar, c.pkt.counter, ResponseStatus::PorOk).with_data(c.pkt.data.clone());
        let ud = p.seal(sec, &c.keys).unwrap();
        for bit in 0..ud.len() * 8 {
            let mut m = ud.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(ResponsePacket::open(&m, sec, &c.keys).is_err(), "bit {}", bit);
        }
    }

    #[test]
    fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
        let keys = Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[7; 16], 1).unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[9; 16], 1).unwrap();
        if let Ok(s) = SecuredCommand::parse(&b) {
            if let Ok(d) = s.decipher(&keys) {
                let _ = d.check_integrity(&keys);
            }
        }
        for sec in [PorSecurity::NONE, PorSecurity { ciphering: true, integrity: IntegrityMode::Cc }] {
            if let Ok(s) = SecuredResponse::parse(&b) {
                let _ = s.decipher(sec, &keys).map(|d| d.check_integrity(&keys));
            }
        }
        let _ = RemoteScript::parse(&b);
        let _ = ota::RemoteResponse::parse(&b);
        let _ = ota::sms::Tpdu::parse(&b);
        let _ = ota::sms::SmsDeliverReport::parse(&b, true);
        let _ = SmsPpDownload::parse(&b);
        let _ = ota::sms::udh::Udh::parse(&b);
    }
}

/// Exhaustive round trip: every KIc algorithm (and none) × every KID algorithm (and none) ×
/// every counter mode × ciphering on/off × payload length 0–120 (SPI2 and reserved bits vary
/// with the length).
#[test]
fn every_algorithm_spi_and_length_round_trips() {
    let mut n = 0u32;
    let kics: Vec<Option<CipherAlgorithm>> = std::iter::once(None)
        .chain(CipherAlgorithm::ALL.into_iter().map(Some))
        .collect();
    let kids: Vec<Option<ChecksumAlgorithm>> = std::iter::once(None)
        .chain(ChecksumAlgorithm::ALL.into_iter().map(Some))
        .collect();
    let keymat: Vec<u8> = (0..64u8).map(|x| x.wrapping_mul(37) ^ 0x5A).collect();
    for &c in &kics {
        for &k in &kids {
            let (cl, dl) = key_len(c, k, 16);
            let mut keys = Keyset::new();
            if let Some(c) = c {
                keys = keys.with_kic(c, &keymat[..cl], 1).unwrap();
            }
            if let Some(k) = k {
                keys = keys.with_kid(k, &keymat[32..32 + dl], 2).unwrap();
            }
            for counter_bits in 0u8..4 {
                for ciphering in [false, true] {
                    if ciphering && c.is_none() {
                        continue;
                    }
                    for len in 0..=120usize {
                        let spi2 = [0x00, 0x19, 0x39, 0xFF][len % 4];
                        let reserved = [0u8, 0xE0][len % 2];
                        let mut spi = Spi::from_bytes([reserved | counter_bits << 3, spi2]);
                        spi.ciphering = ciphering;
                        spi.integrity = k.map_or(IntegrityMode::None, |k| k.mode());
                        let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
                        let pkt = CommandPacket::new(
                            spi,
                            &keys,
                            Tar([0xB0, 0x00, len as u8]),
                            Counter::new(len as u64 * 1000).unwrap(),
                            data,
                        );
                        let b = pkt.seal(&keys).unwrap();
                        assert_eq!(
                            CommandPacket::open(&b, &keys).unwrap(),
                            pkt,
                            "{c:?} {k:?} {spi}"
                        );
                        n += 1;
                    }
                }
            }
        }
    }
    assert_eq!(n, 7 * 4 * 121 * (1 + 2 * 5));
}
