//! The emulated card's issuer security domain driven by the `gp` host: SELECT, SCP02 and
//! SCP03 at every level, card management only inside an authenticated session at the
//! profile's minimum level, GP status words for SM errors, PUT KEY / DELETE key durable and
//! tear-safe, GET STATUS / GET DATA / STORE DATA, and the full NV state unchanged by every
//! refused command.

use apdu::hex::decode;
use apdu::{CommandApdu, ResponseApdu};
use gp::commands::{self, RegistryEntry, StatusScope};
use gp::{Diversification, HostHandshake, KeyKind, SecurityLevel, Session, StaticKeys};
use std::sync::{Arc, Mutex};
use uicc::{Card, NvState, Profile, Store, StoreError};

const ISD: &str = "A000000151000000";

fn card() -> Card {
    Card::new(Profile::default_profile()).unwrap()
}

/// Send, fetching `61xx` data with GET RESPONSE as pySim's T=0 transport does: with the
/// command's own class byte (`80 C0`, `84 C0`).
fn send(card: &mut Card, cmd: &CommandApdu) -> ResponseApdu {
    let r = card.process(&cmd.emit().unwrap());
    let mut r = ResponseApdu::parse(&r).unwrap();
    while r.sw.sw1() == 0x61 {
        let more = card.process(&[cmd.cla, 0xC0, 0, 0, r.sw.sw2()]);
        let more = ResponseApdu::parse(&more).unwrap();
        r.data.extend(more.data);
        r.sw = more.sw;
    }
    r
}

fn select_isd(card: &mut Card) -> ResponseApdu {
    let sel = CommandApdu::new(0x00, 0xA4, 0x04, 0x00, decode(ISD).unwrap(), Some(256));
    send(card, &sel)
}

fn test_keys(kvn: u8, kind: KeyKind) -> StaticKeys {
    StaticKeys::single(kvn, kind, &gp::DEFAULT_TEST_KEY).unwrap()
}

/// Open a session; `Err(sw)` if the card refuses EXTERNAL AUTHENTICATE.
fn open(
    card: &mut Card,
    keys: StaticKeys,
    level: SecurityLevel,
    hc_len: usize,
) -> Result<Session, u16> {
    let host = HostHandshake::new(keys, Diversification::None, &vec![0x11; hc_len]).unwrap();
    let r = send(card, &host.command());
    let auth = host.on_response(&r).map_err(|_| r.sw.0)?;
    let (ea, s) = auth.external_authenticate(level).unwrap();
    let r = send(card, &ea);
    if r.sw.0 != 0x9000 {
        return Err(r.sw.0);
    }
    Ok(s)
}

fn transact(card: &mut Card, s: &mut Session, cmd: &CommandApdu) -> ResponseApdu {
    let w = s.wrap(cmd).unwrap();
    let r = send(card, &w);
    s.unwrap_response(&r).unwrap()
}

fn nv(card: &Card) -> NvState {
    card.nv_state().clone()
}

#[test]
fn select_answers_the_fci() {
    let mut c = card();
    let r = select_isd(&mut c);
    assert_eq!(r.sw.0, 0x9000);
    assert_eq!(r.data[0], 0x6F);
    assert_eq!(&r.data[2..4], &[0x84, 0x08]);
    assert_eq!(r.data[4..12], decode(ISD).unwrap()[..]);
    // Partial AID selects it too.
    let sel = CommandApdu::new(
        0x00,
        0xA4,
        0x04,
        0x00,
        decode("A0000001510000").unwrap(),
        None,
    );
    let r = send(&mut c, &sel);
    assert_eq!((r.sw.0, r.data[0]), (0x9000, 0x6F));
    // The GP 2.1.1 ISD AID that pySim-shell's ADF.ISD probes for selects the same ISD.
    let sel = CommandApdu::new(
        0x00,
        0xA4,
        0x04,
        0x00,
        decode("A000000003000000").unwrap(),
        Some(256),
    );
    let r = send(&mut c, &sel);
    assert_eq!(r.sw.0, 0x9000);
    assert_eq!(r.data[4..12], decode(ISD).unwrap()[..]);
    // pySim fetches the 61xx answer of INITIALIZE UPDATE with `80 C0` (the command's class).
    let r = c.process(&decode("80503000080102030405060708").unwrap());
    assert_eq!(r[0], 0x61, "{r:02X?}");
    let r = c.process(&[0x80, 0xC0, 0x00, 0x00, r[1]]);
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00], "{r:02X?}");
    assert_eq!(r.len(), 2 + 0x1D + 3, "{r:02X?}");
}

#[test]
fn scp03_and_scp02_every_level_get_status() {
    let cases: Vec<(StaticKeys, usize, Vec<SecurityLevel>)> = vec![
        (
            test_keys(0x30, KeyKind::Aes),
            8,
            SecurityLevel::EVERY.to_vec(),
        ),
        (
            test_keys(0x30, KeyKind::Aes),
            16,
            SecurityLevel::EVERY.to_vec(),
        ),
        (test_keys(0x00, KeyKind::Aes), 8, vec![SecurityLevel::ALL]),
        (
            test_keys(0x20, KeyKind::Des3),
            8,
            SecurityLevel::EVERY[..5].to_vec(),
        ),
    ];
    for (keys, hc, levels) in cases {
        for level in levels {
            if level == SecurityLevel::NONE {
                continue; // below the default minimum: covered by its own test
            }
            let mut c = card();
            select_isd(&mut c);
            let mut s = open(&mut c, keys.clone(), level, hc).unwrap();
            for scope in [StatusScope::Isd, StatusScope::LoadFiles] {
                let r = transact(&mut c, &mut s, &commands::get_status(scope, false));
                assert_eq!(r.sw.0, 0x9000, "{level} {scope:?}");
                let e = RegistryEntry::parse_all(&r.data).unwrap();
                if scope == StatusScope::Isd {
                    assert_eq!(e[0].aid, decode(ISD).unwrap());
                    assert_eq!(e[0].life_cycle, 0x0F);
                } else {
                    assert!(!e.is_empty());
                }
            }
            let r = transact(&mut c, &mut s, &commands::get_data(0x00E0));
            assert_eq!(r.data[0], 0xE0, "{level}");
        }
    }
}

#[test]
fn no_management_without_a_session_or_below_the_minimum_level() {
    let mut c = card();
    select_isd(&mut c);
    let before = nv(&c);
    for cmd in [
        commands::get_status(StatusScope::Applications, false),
        commands::delete_key(0x20),
        commands::set_status(0x80, 0x7F, &[]),
        commands::store_data(0, true, &[1, 2, 3]),
    ] {
        assert_eq!(send(&mut c, &cmd).sw.0, 0x6982);
    }
    // A session at level 00 is below the default minimum (01, C-MAC).
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::NONE,
        8,
    )
    .unwrap();
    let r = transact(&mut c, &mut s, &commands::delete_key(0x20));
    assert_eq!(r.sw.0, 0x6982);
    // Only the INITIALIZE UPDATE sequence counter moved.
    let mut after = nv(&c);
    after.isd.keysets[0].seq = before.isd.keysets[0].seq;
    assert_eq!(after, before);
    // GET DATA of card data, CPLC and key information works without a session.
    for (tag, first) in [(0x0066u16, 0x66u8), (0x9F7F, 0x9F), (0x00E0, 0xE0)] {
        let mut c = card();
        select_isd(&mut c);
        let r = send(&mut c, &commands::get_data(tag));
        assert_eq!((r.sw.0, r.data[0]), (0x9000, first));
    }
}

#[test]
fn minimum_level_from_the_profile() {
    let text = Profile::default_profile().to_toml().replacen(
        "\n[subscriber]\n",
        "\n[isd]\nmin_level = 0x03\n\n[subscriber]\n",
        1,
    );
    let mut c = Card::new(Profile::from_toml_str(&text).unwrap()).unwrap();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let r = transact(
        &mut c,
        &mut s,
        &commands::get_status(StatusScope::Isd, false),
    );
    assert_eq!(r.sw.0, 0x6982);
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_DEC_C_MAC,
        8,
    )
    .unwrap();
    let r = transact(
        &mut c,
        &mut s,
        &commands::get_status(StatusScope::Isd, false),
    );
    assert_eq!(r.sw.0, 0x9000);
}

#[test]
fn wrong_host_cryptogram_is_6300_and_nothing_changes() {
    for scp02 in [false, true] {
        let mut c = card();
        select_isd(&mut c);
        let keys = if scp02 {
            test_keys(0x20, KeyKind::Des3)
        } else {
            test_keys(0x30, KeyKind::Aes)
        };
        let host = HostHandshake::new(keys, Diversification::None, &[0x22; 8]).unwrap();
        let r = send(&mut c, &host.command());
        let (mut ea, _) = host
            .on_response(&r)
            .unwrap()
            .external_authenticate(SecurityLevel::C_MAC)
            .unwrap();
        let before = nv(&c);
        ea.data[0] ^= 0x01; // wrong host cryptogram
        assert_eq!(send(&mut c, &ea).sw.0, 0x6300);
        assert_eq!(nv(&c), before);
        // The MAC alone wrong: the same answer.
        let host = HostHandshake::new(
            if scp02 {
                test_keys(0x20, KeyKind::Des3)
            } else {
                test_keys(0x30, KeyKind::Aes)
            },
            Diversification::None,
            &[0x23; 8],
        )
        .unwrap();
        let r = send(&mut c, &host.command());
        let (mut ea, _) = host
            .on_response(&r)
            .unwrap()
            .external_authenticate(SecurityLevel::C_MAC)
            .unwrap();
        let n = ea.data.len();
        ea.data[n - 1] ^= 0x01;
        let before = nv(&c);
        assert_eq!(send(&mut c, &ea).sw.0, 0x6300);
        assert_eq!(nv(&c), before);
        // No session: management still refused; a second EXTERNAL AUTHENTICATE has no
        // pending INITIALIZE UPDATE.
        assert_eq!(send(&mut c, &ea).sw.0, 0x6985);
        assert_eq!(
            send(&mut c, &commands::get_status(StatusScope::Isd, false))
                .sw
                .0,
            0x6982
        );
        // Wrong static keys: the host already refuses the card cryptogram.
        let host = HostHandshake::new(
            StaticKeys::single(
                if scp02 { 0x20 } else { 0x30 },
                if scp02 { KeyKind::Des3 } else { KeyKind::Aes },
                &[0x55; 16],
            )
            .unwrap(),
            Diversification::None,
            &[0x24; 8],
        )
        .unwrap();
        let r = send(&mut c, &host.command());
        assert_eq!(
            host.on_response(&r).unwrap_err(),
            gp::GpError::CardCryptogram
        );
    }
}

#[test]
fn bad_mac_and_replay_close_the_session_and_change_nothing() {
    for (keys, level) in [
        (
            test_keys(0x30, KeyKind::Aes),
            SecurityLevel::C_DEC_C_MAC_R_MAC,
        ),
        (test_keys(0x20, KeyKind::Des3), SecurityLevel::C_DEC_C_MAC),
    ] {
        let mut c = card();
        select_isd(&mut c);
        let mut s = open(&mut c, keys.clone(), level, 8).unwrap();
        let store = commands::store_data(0, true, &[9; 20]);
        let w = s.wrap(&store).unwrap();
        assert_eq!(send(&mut c, &w).sw.0, 0x9000);
        let before = nv(&c);
        // Replay: the MAC chaining value has moved on.
        assert_eq!(send(&mut c, &w).sw.0, 0x6982);
        assert_eq!(nv(&c), before);
        // The session is closed: even a correctly wrapped next command is refused.
        let w2 = s.wrap(&commands::delete_key(0x20)).unwrap();
        assert_eq!(send(&mut c, &w2).sw.0, 0x6982);
        assert_eq!(nv(&c), before);
        // A new session; a flipped MAC byte is refused the same way.
        let mut s = open(&mut c, keys.clone(), level, 8).unwrap();
        let mut w = s.wrap(&commands::delete_key(0x20)).unwrap();
        let n = w.data.len();
        w.data[n - 1] ^= 0x80;
        let before = nv(&c);
        assert_eq!(send(&mut c, &w).sw.0, 0x6982);
        assert_eq!(nv(&c), before);
        // Too short to carry a MAC: 6988.
        let mut s = open(&mut c, keys, level, 8).unwrap();
        let _ = &mut s;
        let short = CommandApdu::new(0x84, 0xF2, 0x80, 0x02, vec![1, 2], None);
        assert_eq!(send(&mut c, &short).sw.0, 0x6988);
    }
}

#[test]
fn put_key_then_open_with_the_new_keys_and_delete_the_old() {
    let mut c = card();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_DEC_C_MAC,
        8,
    )
    .unwrap();
    let new = StaticKeys::new(0x31, KeyKind::Aes, &[0x61; 16], &[0x62; 16], &[0x63; 16]).unwrap();
    let pk = gp::put_key::build(&s, 0, &new).unwrap();
    let r = transact(&mut c, &mut s, &pk);
    assert_eq!(r.sw.0, 0x9000);
    let mut want = vec![0x31];
    for k in new.kcvs().unwrap() {
        want.extend_from_slice(&k);
    }
    assert_eq!(r.data, want);
    // Delete the old key set, then the new keys open a session; the old do not.
    let r = transact(&mut c, &mut s, &commands::delete_key(0x30));
    assert_eq!(r.sw.0, 0x9000);
    select_isd(&mut c);
    assert!(open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8
    )
    .is_err());
    let mut s = open(&mut c, new.clone(), SecurityLevel::C_MAC, 8).unwrap();
    let r = transact(&mut c, &mut s, &commands::get_data(0x00E0));
    assert_eq!(r.sw.0, 0x9000);
    assert!(r.data.windows(4).any(|w| w == [1, 0x31, 0x88, 16]));
    // SCP02 PUT KEY replacing KVN 20 with 21.
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x20, KeyKind::Des3),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let new2 = StaticKeys::new(0x21, KeyKind::Des3, &[0x71; 16], &[0x72; 16], &[0x73; 16]).unwrap();
    let pk = gp::put_key::build(&s, 0x20, &new2).unwrap();
    let r = transact(&mut c, &mut s, &pk);
    assert_eq!(r.sw.0, 0x9000);
    select_isd(&mut c);
    open(&mut c, new2, SecurityLevel::C_MAC, 8).unwrap();
    // Refused: a bad KCV leaves the key sets as they are.
    select_isd(&mut c);
    let mut s = open(&mut c, new, SecurityLevel::C_MAC, 8).unwrap();
    let other = StaticKeys::new(0x32, KeyKind::Aes, &[1; 16], &[2; 16], &[3; 16]).unwrap();
    let mut cmd = gp::put_key::build(&s, 0, &other).unwrap();
    let n = cmd.data.len();
    cmd.data[n - 1] ^= 1;
    let before = nv(&c);
    let r = transact(&mut c, &mut s, &cmd);
    assert_eq!(r.sw.0, 0x6A80);
    assert_eq!(nv(&c), before);
}

/// A store that keeps every committed state.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<NvState>>>);

impl Store for Recording {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        Ok(self.0.lock().unwrap().last().cloned())
    }
    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(state.clone());
        Ok(())
    }
}

#[test]
fn put_key_is_durable_and_tear_safe() {
    let new = StaticKeys::new(0x31, KeyKind::Aes, &[0x61; 16], &[0x62; 16], &[0x63; 16]).unwrap();
    for tear in 0..3u64 {
        let store = Recording::default();
        let mut c = Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
        select_isd(&mut c);
        let mut s = open(
            &mut c,
            test_keys(0x30, KeyKind::Aes),
            SecurityLevel::C_MAC,
            8,
        )
        .unwrap();
        let before = nv(&c);
        let w = s.wrap(&gp::put_key::build(&s, 0, &new).unwrap()).unwrap();
        c.tear_after_writes(tear);
        let out = c.process(&w.emit().unwrap());
        let torn = c.power_lost();
        drop(c);
        // Restart from the store: the key set is there exactly when the APDU answered.
        let mut c = Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
        let has = c.nv_state().isd.keysets.iter().any(|k| k.kvn == 0x31);
        if torn {
            assert!(out.is_empty(), "torn APDU answered {out:?}");
            assert!(!has);
            assert_eq!(c.nv_state(), &before);
        } else {
            assert_eq!(&out[out.len() - 2..], &[0x90, 0x00]);
            assert!(has);
            select_isd(&mut c);
            open(&mut c, new.clone(), SecurityLevel::C_MAC, 8).unwrap();
        }
    }
}

#[test]
fn store_data_in_order_and_card_lock() {
    let mut c = card();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    assert_eq!(
        transact(&mut c, &mut s, &commands::store_data(0, false, &[1]))
            .sw
            .0,
        0x9000
    );
    let before = nv(&c);
    assert_eq!(
        transact(&mut c, &mut s, &commands::store_data(2, true, &[3]))
            .sw
            .0,
        0x6A86
    );
    assert_eq!(nv(&c), before);
    assert_eq!(
        transact(&mut c, &mut s, &commands::store_data(1, true, &[2]))
            .sw
            .0,
        0x9000
    );
    assert_eq!(c.nv_state().isd.store_data, vec![vec![1], vec![2]]);
    // SET STATUS of the card: lock and unlock.
    assert_eq!(
        transact(&mut c, &mut s, &commands::set_status(0x80, 0x7F, &[]))
            .sw
            .0,
        0x9000
    );
    let r = transact(
        &mut c,
        &mut s,
        &commands::get_status(StatusScope::Isd, false),
    );
    assert_eq!(
        RegistryEntry::parse_all(&r.data).unwrap()[0].life_cycle,
        0x7F
    );
    assert_eq!(
        transact(&mut c, &mut s, &commands::set_status(0x80, 0x0F, &[]))
            .sw
            .0,
        0x9000
    );
}

#[test]
fn selecting_something_else_ends_the_session() {
    let mut c = card();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let mf = CommandApdu::new(0x00, 0xA4, 0x00, 0x0C, vec![0x3F, 0x00], None);
    assert_eq!(send(&mut c, &mf).sw.0, 0x9000);
    let w = s
        .wrap(&commands::get_status(StatusScope::Isd, false))
        .unwrap();
    // The ISD is no longer selected: the file system refuses secure messaging.
    assert_ne!(send(&mut c, &w).sw.0, 0x9000);
}

#[test]
fn delete_key_in_pysim_form_with_key_id_first() {
    let mut c = card();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let del = CommandApdu::new(
        0x80,
        0xE4,
        0x00,
        0x00,
        vec![0xD0, 0x01, 0x01, 0xD2, 0x01, 0x20],
        Some(256),
    );
    assert_eq!(transact(&mut c, &mut s, &del).sw.0, 0x9000);
    assert!(!c.nv_state().isd.keysets.iter().any(|k| k.kvn == 0x20));
}

fn comp(tag: u8, info: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&(info.len() as u16).to_be_bytes());
    v.extend_from_slice(info);
    v
}

/// A synthetic load file: Header (magic DECAFFED), Applet (one applet AID), and the other
/// required components with filler contents (the card does not run them yet).
fn load_file() -> Vec<u8> {
    let applet_aid = decode("0102030405060708").unwrap();
    let mut applet = vec![1, applet_aid.len() as u8];
    applet.extend_from_slice(&applet_aid);
    applet.extend_from_slice(&[0x00, 0x10]);
    let comps: Vec<(u8, Vec<u8>)> = vec![
        (
            1,
            comp(1, &decode("DECAFFED 01 02 04 00 01 05 0102030405").unwrap()),
        ),
        (2, comp(2, &[0; 30])),
        (3, comp(3, &applet)),
        (4, comp(4, &[0; 8])),
        (5, comp(5, &[0; 40])),
        (6, comp(6, &[0; 20])),
        (7, comp(7, &[0; 100])),
        (8, comp(8, &[0; 10])),
        (9, comp(9, &[0; 12])),
    ];
    let refs: Vec<(u8, &[u8])> = comps.iter().map(|(t, c)| (*t, c.as_slice())).collect();
    gp::load::load_file_data_block(&refs).unwrap()
}

#[test]
fn load_stores_the_file_and_get_status_lists_it() {
    let pkg = decode("0102030405").unwrap();
    let mut c = card();
    select_isd(&mut c);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let block = load_file();
    let loads = gp::load::load_commands(&block, 64).unwrap();
    assert!(loads.len() > 2);

    // Out of order: 6A86, the load is abandoned and NV is unchanged.
    let before = nv(&c);
    let ifl = gp::load::install_for_load(&pkg, &[]);
    assert_eq!(transact(&mut c, &mut s, &ifl).sw.0, 0x9000);
    assert_eq!(transact(&mut c, &mut s, &loads[0]).sw.0, 0x9000);
    assert_eq!(transact(&mut c, &mut s, &loads[2]).sw.0, 0x6A86);
    assert_eq!(transact(&mut c, &mut s, &loads[1]).sw.0, 0x6985);
    assert_eq!(nv(&c), before);

    // A block that is not a load file (no Header component): 6A80, nothing stored.
    assert_eq!(transact(&mut c, &mut s, &ifl).sw.0, 0x9000);
    let junk = CommandApdu::new(
        0x80,
        0xE8,
        0x80,
        0x00,
        vec![0xC4, 0x03, 0x02, 0x00, 0x00],
        None,
    );
    assert_eq!(transact(&mut c, &mut s, &junk).sw.0, 0x6A80);
    assert_eq!(nv(&c), before);

    // In order: stored, listed with its module, INSTALL of its applet answers 6A88 (its
    // components are zeros: no CAP the Java Card VM can link, so no such applet class; the
    // real CAP installs in crates/cli/tests/gp.rs), and DELETE removes it.
    assert_eq!(transact(&mut c, &mut s, &ifl).sw.0, 0x9000);
    for l in &loads {
        assert_eq!(transact(&mut c, &mut s, l).sw.0, 0x9000);
    }
    let r = transact(
        &mut c,
        &mut s,
        &commands::get_status(StatusScope::LoadFilesAndModules, false),
    );
    let e = RegistryEntry::parse_all(&r.data).unwrap();
    let f = e.iter().find(|e| e.aid == pkg).expect("load file listed");
    assert_eq!(f.modules, vec![decode("0102030405060708").unwrap()]);
    assert_eq!(c.nv_state().isd.load_files[0].data, block[4..].to_vec());
    // The same AID again: 6985.
    assert_eq!(transact(&mut c, &mut s, &ifl).sw.0, 0x6985);
    let inst = gp::load::install_for_install(
        &pkg,
        &decode("0102030405060708").unwrap(),
        &decode("010203040506070801").unwrap(),
        &[0x00],
        &[],
    );
    assert_eq!(transact(&mut c, &mut s, &inst).sw.0, 0x6A88);
    let r = transact(&mut c, &mut s, &commands::delete_aid(&pkg, false));
    assert_eq!(r.sw.0, 0x9000);
    assert!(c.nv_state().isd.load_files.is_empty());
    // Without a session: 6982.
    select_isd(&mut c);
    assert_eq!(send(&mut c, &ifl).sw.0, 0x6982);
}

#[test]
fn a_state_file_from_before_the_isd_resumes_with_the_profile_key_sets() {
    let dir = std::env::temp_dir().join(format!("simota-isd-old-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.json");
    let _ = std::fs::remove_file(&path);
    {
        let store = uicc::FileStore::open(&path).unwrap();
        let c = Card::with_store(Profile::default_profile(), Box::new(store)).unwrap();
        drop(c);
    }
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("isd");
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    let store = uicc::FileStore::open(&path).unwrap();
    let mut c = Card::with_store(Profile::default_profile(), Box::new(store)).unwrap();
    assert_eq!(c.nv_state().isd.keysets.len(), 2);
    select_isd(&mut c);
    open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
}

const DEMO: &str = "F073696D6F74610101";
const MENU: &str = "F073696D6F74614D01";

fn select(card: &mut Card, aid: &str) -> ResponseApdu {
    let sel = CommandApdu::new(0x00, 0xA4, 0x04, 0x00, decode(aid).unwrap(), Some(256));
    send(card, &sel)
}

fn aes_session(c: &mut Card) -> Session {
    select_isd(c);
    open(c, test_keys(0x30, KeyKind::Aes), SecurityLevel::C_MAC, 8).unwrap()
}

#[test]
fn install_for_personalization_routes_store_data_to_the_applet() {
    let mut c = card();
    let mut s = aes_session(&mut c);
    let perso = gp::load::install_for_personalization(&decode(DEMO).unwrap());
    assert_eq!(transact(&mut c, &mut s, &perso).sw.0, 0x9000);
    let r = transact(&mut c, &mut s, &commands::store_data(0, false, &[1, 2, 3]));
    assert_eq!(r.sw.0, 0x9000);
    let r = transact(&mut c, &mut s, &commands::store_data(1, true, &[4, 5]));
    assert_eq!(r.sw.0, 0x9000);
    // The blocks went to the applet, not to the ISD's own store.
    assert!(c.nv_state().isd.store_data.is_empty());
    // After the last block, STORE DATA is the ISD's own again.
    let r = transact(&mut c, &mut s, &commands::store_data(0, true, &[9]));
    assert_eq!(r.sw.0, 0x9000);
    assert_eq!(c.nv_state().isd.store_data, vec![vec![9]]);
    // The applet holds what was personalised (its GET DATA, INS 52).
    assert_eq!(select(&mut c, DEMO).sw.0, 0x9000);
    let r = send(
        &mut c,
        &CommandApdu::new(0x80, 0x52, 0, 0, vec![], Some(256)),
    );
    assert_eq!((r.sw.0, r.data), (0x9000, vec![1, 2, 3, 4, 5]));
}

#[test]
fn install_for_personalization_refuses_unknown_and_non_store_data_applets() {
    let mut c = card();
    let mut s = aes_session(&mut c);
    let before = nv(&c);
    // Not an installed application: 6A88, nothing routed, nothing changed.
    let perso = gp::load::install_for_personalization(&decode("F0010203040506").unwrap());
    assert_eq!(transact(&mut c, &mut s, &perso).sw.0, 0x6A88);
    // The ISD itself is not an application it personalises this way.
    let perso = gp::load::install_for_personalization(&decode(ISD).unwrap());
    assert_eq!(transact(&mut c, &mut s, &perso).sw.0, 0x6A88);
    // Malformed: the AID LV runs past the data.
    let bad = CommandApdu::new(0x80, 0xE6, 0x20, 0x00, vec![0, 0, 9, 0xF0], None);
    assert_eq!(transact(&mut c, &mut s, &bad).sw.0, 0x6A80);
    assert_eq!(nv(&c), before);
    // STORE DATA after the refusal is the ISD's own.
    let r = transact(&mut c, &mut s, &commands::store_data(0, true, &[7]));
    assert_eq!(r.sw.0, 0x9000);
    assert_eq!(c.nv_state().isd.store_data, vec![vec![7]]);
    // The menu applet does not take STORE DATA: 6A80, its state unchanged.
    let before = nv(&c);
    let perso = gp::load::install_for_personalization(&decode(MENU).unwrap());
    assert_eq!(transact(&mut c, &mut s, &perso).sw.0, 0x9000);
    let r = transact(&mut c, &mut s, &commands::store_data(0, true, &[1]));
    assert_eq!(r.sw.0, 0x6A80);
    assert_eq!(nv(&c), before);
    // No personalization without a session.
    let mut c = card();
    select_isd(&mut c);
    let perso = gp::load::install_for_personalization(&decode(DEMO).unwrap());
    assert_eq!(send(&mut c, &perso).sw.0, 0x6982);
}

#[test]
fn card_locked_allows_only_the_isd_to_be_selected() {
    let mut c = card();
    assert_eq!(select(&mut c, DEMO).sw.0, 0x9000);
    let mut s = aes_session(&mut c);
    let r = transact(&mut c, &mut s, &commands::set_status(0x80, 0x7F, &[]));
    assert_eq!(r.sw.0, 0x9000);
    // GPCS §5.1.1.4: applications cannot be selected, the ISD can.
    assert_eq!(select(&mut c, DEMO).sw.0, 0x6A82);
    assert_eq!(select(&mut c, MENU).sw.0, 0x6A82);
    // Still locked after a reset.
    c.reset();
    assert_eq!(select(&mut c, DEMO).sw.0, 0x6A82);
    assert_eq!(select_isd(&mut c).sw.0, 0x9000);
    let mut s = open(
        &mut c,
        test_keys(0x30, KeyKind::Aes),
        SecurityLevel::C_MAC,
        8,
    )
    .unwrap();
    let r = transact(&mut c, &mut s, &commands::set_status(0x80, 0x0F, &[]));
    assert_eq!(r.sw.0, 0x9000);
    // Unlocked: selectable again.
    assert_eq!(select(&mut c, DEMO).sw.0, 0x9000);
    assert_eq!(select(&mut c, MENU).sw.0, 0x9000);
}
