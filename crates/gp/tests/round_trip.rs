//! Host ↔ card property tests: for SCP02 (i = 15, 55) and SCP03 (AES-128/192/256, S8 and S16)
//! at every security level, whatever the host wraps the card unwraps to the same command, and
//! whatever the card wraps the host unwraps to the same response; replayed, reordered or
//! tampered commands are refused and leave the card's session usable; PUT KEY round-trips.

use apdu::{CommandApdu, ResponseApdu};
use gp::put_key::{self, PutKeyRequest};
use gp::{
    card_initialize_update, CardProtocol, Diversification, GpError, HostHandshake, KeyKind,
    Scp02Params, Scp03Params, SecurityLevel, Session, StaticKeys,
};
use proptest::prelude::*;

const AID: [u8; 8] = [0xA0, 0, 0, 0x01, 0x51, 0, 0, 0];

#[derive(Debug, Clone, Copy)]
enum Proto {
    Scp02(u8),
    Scp03 { key_len: usize, s16: bool },
}

fn master(p: Proto) -> StaticKeys {
    match p {
        Proto::Scp02(_) => {
            StaticKeys::new(0x20, KeyKind::Des3, &[0x40; 16], &[0x41; 16], &[0x42; 16])
        }
        Proto::Scp03 { key_len, .. } => StaticKeys::new(
            0x30,
            KeyKind::Aes,
            &vec![0x40; key_len],
            &vec![0x41; key_len],
            &vec![0x42; key_len],
        ),
    }
    .unwrap()
}

/// Open a session on both sides; `div` diversifies the card's keys with the KDD.
fn open(
    p: Proto,
    level: SecurityLevel,
    div: Diversification,
    seq: u32,
) -> Result<(Session, Session), GpError> {
    let kdd = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let m = master(p);
    let card_keys = m.diversify(div, &kdd)?;
    let (hc, proto): (Vec<u8>, CardProtocol) = match p {
        Proto::Scp02(i) => (vec![7; 8], CardProtocol::Scp02(Scp02Params(i))),
        Proto::Scp03 { s16, .. } => (
            vec![7; if s16 { 16 } else { 8 }],
            CardProtocol::Scp03(Scp03Params::I70),
        ),
    };
    let host = HostHandshake::new(m, div, &hc)?.with_scp02_params(match p {
        Proto::Scp02(i) => Scp02Params(i),
        _ => Scp02Params::I55,
    });
    let iu = host.command();
    let (r, card) = card_initialize_update(&iu, &card_keys, proto, kdd, seq, &AID, &[9; 16])?;
    let auth = host.on_response(&ResponseApdu::new(r.emit(), 0x9000u16))?;
    let (ea, host_s) = auth.external_authenticate(level)?;
    let card_s = card.external_authenticate(&ea)?;
    Ok((host_s, card_s))
}

fn protos() -> impl Strategy<Value = Proto> {
    prop_oneof![
        Just(Proto::Scp02(0x15)),
        Just(Proto::Scp02(0x55)),
        (
            prop_oneof![Just(16usize), Just(24), Just(32)],
            any::<bool>()
        )
            .prop_map(|(key_len, s16)| Proto::Scp03 { key_len, s16 }),
    ]
}

fn levels(p: Proto) -> Vec<SecurityLevel> {
    SecurityLevel::EVERY
        .into_iter()
        .filter(|l| !(matches!(p, Proto::Scp02(_)) && l.r_enc()))
        .collect()
}

fn command() -> impl Strategy<Value = CommandApdu> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..200),
        any::<bool>(),
    )
        .prop_map(|(ins, p1, p2, data, le)| {
            CommandApdu::new(0x80, ins, p1, p2, data, le.then_some(256))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn wrap_unwrap_both_ways(
        p in protos(),
        li in 0usize..6,
        cmds in proptest::collection::vec((command(), proptest::collection::vec(any::<u8>(), 0..120)), 1..5),
    ) {
        let ls = levels(p);
        let level = ls[li % ls.len()];
        let (mut host, mut card) = open(p, level, Diversification::None, 5).unwrap();
        for (cmd, rdata) in cmds {
            let w = host.wrap(&cmd).unwrap();
            if level.c_dec() && !cmd.data.is_empty() {
                prop_assert_ne!(&w.data[..cmd.data.len().min(w.data.len())], &cmd.data[..]);
            }
            let got = card.unwrap_command(&w).unwrap();
            prop_assert_eq!((got.cla, got.ins, got.p1, got.p2, &got.data), (cmd.cla, cmd.ins, cmd.p1, cmd.p2, &cmd.data));
            let rsp = ResponseApdu::new(rdata.clone(), 0x9000u16);
            let wr = card.wrap_response(rsp.clone()).unwrap();
            if level.r_mac() {
                prop_assert!(wr.data.len() > rdata.len());
            }
            let back = host.unwrap_response(&wr).unwrap();
            prop_assert_eq!(back, rsp);
        }
    }

    #[test]
    fn replayed_or_tampered_commands_are_refused(
        p in protos(),
        li in 1usize..6,
        a in command(),
        b in command(),
        flip in any::<prop::sample::Index>(),
    ) {
        let ls = levels(p);
        let level = ls[1 + (li - 1) % (ls.len() - 1)];
        let (mut host, mut card) = open(p, level, Diversification::None, 9).unwrap();
        let wa = host.wrap(&a).unwrap();
        card.unwrap_command(&wa).unwrap();
        // Replay of a: refused.
        prop_assert!(card.unwrap_command(&wa).is_err());
        // Tampered b: refused, and the untampered b still goes through afterwards.
        let wb = host.wrap(&b).unwrap();
        let mut bad = wb.clone();
        let i = flip.index(bad.data.len());
        bad.data[i] ^= 0x01;
        prop_assert!(card.unwrap_command(&bad).is_err());
        let got = card.unwrap_command(&wb).unwrap();
        prop_assert_eq!(got.data, b.data);
    }
}

#[test]
fn wrong_keys_fail_ext_auth_without_saying_which() {
    for p in [
        Proto::Scp02(0x55),
        Proto::Scp03 {
            key_len: 16,
            s16: false,
        },
    ] {
        let kdd = [0; 10];
        let card_keys = master(p);
        let mut host_keys = master(p);
        // (Not 0x41 for 0x40: DES ignores the parity bit.)
        host_keys.enc = gp::Key::new(card_keys.kind, &[0x55; 16]).unwrap();
        host_keys.mac = host_keys.enc.clone();
        let hc = vec![3u8; 8];
        let proto = match p {
            Proto::Scp02(i) => CardProtocol::Scp02(Scp02Params(i)),
            _ => CardProtocol::Scp03(Scp03Params::I70),
        };
        let host = HostHandshake::new(host_keys, Diversification::None, &hc).unwrap();
        let (r, card) =
            card_initialize_update(&host.command(), &card_keys, proto, kdd, 1, &AID, &[1; 16])
                .unwrap();
        let rsp = ResponseApdu::new(r.emit(), 0x9000u16);
        assert_eq!(host.on_response(&rsp).unwrap_err(), GpError::CardCryptogram);
        // A forged EXTERNAL AUTHENTICATE (right shape, wrong bytes).
        let forged = CommandApdu::new(0x84, 0x82, 0x01, 0, vec![0u8; 16], None);
        assert_eq!(
            card.external_authenticate(&forged).unwrap_err(),
            GpError::HostAuthentication
        );
    }
}

#[test]
fn diversified_cards_accept_master_keys_with_the_scheme() {
    for (p, div) in [
        (Proto::Scp02(0x55), Diversification::Emv),
        (Proto::Scp02(0x15), Diversification::Visa2),
        (
            Proto::Scp03 {
                key_len: 16,
                s16: false,
            },
            Diversification::Kdf3,
        ),
        (
            Proto::Scp03 {
                key_len: 32,
                s16: true,
            },
            Diversification::Kdf3,
        ),
    ] {
        let (mut h, mut c) = open(p, SecurityLevel::C_DEC_C_MAC, div, 3).unwrap();
        let cmd = CommandApdu::new(0x80, 0xCA, 0, 0x66, vec![1, 2, 3], None);
        assert_eq!(
            c.unwrap_command(&h.wrap(&cmd).unwrap()).unwrap().data,
            cmd.data
        );
        // Different key per key id, different from the master.
        let m = master(p);
        let d = m.diversify(div, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap();
        assert_ne!(d.enc, m.enc);
        assert_ne!(d.enc, d.mac);
        let d2 = m.diversify(div, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 11]).unwrap();
        // VISA2 ignores KDD bytes 2, 3, 8, 9; EMV and KDF3 use byte 9.
        if div == Diversification::Visa2 {
            assert_eq!(d.enc, d2.enc);
        } else {
            assert_ne!(d.enc, d2.enc);
        }
    }
    // EMV/VISA2 are 3DES-only, KDF3 AES-only.
    assert!(master(Proto::Scp03 {
        key_len: 16,
        s16: false
    })
    .diversify(Diversification::Emv, &[0; 10])
    .is_err());
    assert!(master(Proto::Scp02(0x55))
        .diversify(Diversification::Kdf3, &[0; 10])
        .is_err());
}

#[test]
fn put_key_round_trip_and_bad_kcv() {
    for (p, len) in [
        (Proto::Scp02(0x55), 16),
        (
            Proto::Scp03 {
                key_len: 16,
                s16: false,
            },
            16,
        ),
        (
            Proto::Scp03 {
                key_len: 16,
                s16: false,
            },
            24,
        ),
        (
            Proto::Scp03 {
                key_len: 32,
                s16: false,
            },
            32,
        ),
    ] {
        let (mut h, mut c) = open(p, SecurityLevel::C_DEC_C_MAC, Diversification::None, 1).unwrap();
        let kind = h.key_kind();
        let new = StaticKeys::new(
            0x31,
            kind,
            &vec![0x11; len],
            &vec![0x22; len],
            &vec![0x33; len],
        )
        .unwrap();
        let cmd = put_key::build(&h, 0, &new).unwrap();
        let got = c.unwrap_command(&h.wrap(&cmd).unwrap()).unwrap();
        let req = PutKeyRequest::parse(&c, &got).unwrap();
        assert_eq!(req.keys, new);
        assert_eq!(req.replace, 0);
        assert_eq!(req.response().unwrap().len(), 10);
        // A flipped KCV byte is refused.
        let mut bad = cmd.clone();
        let last = bad.data.len() - 1;
        bad.data[last] ^= 1;
        let err = PutKeyRequest::parse(&c, &bad).unwrap_err();
        assert!(err.to_string().contains("KCV"), "{err}");
        // Truncated anywhere: a clear error, never a panic.
        for n in 0..cmd.data.len() {
            let mut t = cmd.clone();
            t.data.truncate(n);
            assert!(PutKeyRequest::parse(&c, &t).is_err());
        }
    }
}

#[test]
fn put_key_without_the_aes_length_byte_is_accepted() {
    // GPCS Table 11-71 form (pySim): `88 10 <16 encrypted bytes> 03 <KCV>` per key.
    let (h, c) = open(
        Proto::Scp03 {
            key_len: 16,
            s16: false,
        },
        SecurityLevel::C_MAC,
        Diversification::None,
        1,
    )
    .unwrap();
    let keys = [[0x11u8; 16], [0x22; 16], [0x33; 16]];
    let mut data = vec![0x31];
    for k in &keys {
        data.extend_from_slice(&[0x88, 0x10]);
        data.extend_from_slice(&h.encrypt_key(k).unwrap());
        data.push(3);
        data.extend_from_slice(&gp::keys::kcv(KeyKind::Aes, k).unwrap());
    }
    let cmd = CommandApdu::new(0x80, 0xD8, 0, 0x81, data, Some(256));
    let req = PutKeyRequest::parse(&c, &cmd).unwrap();
    assert_eq!(req.keys.enc.bytes(), &keys[0]);
    assert_eq!(req.keys.dek.bytes(), &keys[2]);
}
