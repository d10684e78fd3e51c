//! Library packages and Shareable interface objects on the emulated card (JCVM Spec 3.0.5
//! §4.5, §6.14; JCRE Spec 3.0.5 §6.2.4, §6.2.7, ch. 7; GPCS §11.2, §11.6): the CAPs of
//! test-vectors/cap/src/shareable loaded with GP INSTALL [for load] / LOAD in an SCP03
//! session and installed, then driven by APDUs.

use apdu::hex::decode;
use apdu::{CommandApdu, ResponseApdu};
use gp::commands;
use gp::{Diversification, HostHandshake, KeyKind, SecurityLevel, Session, StaticKeys};
use std::sync::{Arc, Mutex};
use uicc::{Card, NvState, Profile, Store, StoreError};

const ISD: &str = "A000000151000000";
const LIB: &str = "F073696D6F74614C";
const SERVER_PKG: &str = "F073696D6F746153";
const SERVER: &str = "F073696D6F74615301";
const CLIENT_PKG: &str = "F073696D6F746143";
const CLIENT: &str = "F073696D6F74614301";
const CLIENT2: &str = "F073696D6F74614302";

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

fn select(card: &mut Card, aid: &str) -> ResponseApdu {
    let sel = CommandApdu::new(0x00, 0xA4, 0x04, 0x00, decode(aid).unwrap(), Some(256));
    send(card, &sel)
}

fn session(card: &mut Card) -> Session {
    assert_eq!(select(card, ISD).sw.0, 0x9000);
    let keys = StaticKeys::single(0x30, KeyKind::Aes, &gp::DEFAULT_TEST_KEY).unwrap();
    let host = HostHandshake::new(keys, Diversification::None, &[0x11; 8]).unwrap();
    let r = send(card, &host.command());
    let auth = host.on_response(&r).unwrap();
    let (ea, s) = auth.external_authenticate(SecurityLevel::C_MAC).unwrap();
    assert_eq!(send(card, &ea).sw.0, 0x9000);
    s
}

fn transact(card: &mut Card, s: &mut Session, cmd: &CommandApdu) -> u16 {
    let w = s.wrap(cmd).unwrap();
    let r = send(card, &w);
    s.unwrap_response(&r).unwrap().sw.0
}

/// The load file data block of a CAP file of test-vectors/cap/.
fn block(name: &str) -> Vec<u8> {
    let p = format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let entries = jcvm::zip::read_entries(&std::fs::read(p).unwrap()).unwrap();
    let comps: Vec<(u8, Vec<u8>)> = entries
        .into_iter()
        .filter(|e| e.name.ends_with(".cap") && !e.name.ends_with("Debug.cap"))
        .filter_map(|e| Some((*e.data.first()?, e.data)))
        .collect();
    let refs: Vec<(u8, &[u8])> = comps.iter().map(|(t, c)| (*t, c.as_slice())).collect();
    gp::load::load_file_data_block(&refs).unwrap()
}

/// INSTALL [for load] and LOAD of a CAP: the status of the last LOAD.
fn load(card: &mut Card, s: &mut Session, pkg: &str, name: &str) -> u16 {
    let ifl = gp::load::install_for_load(&decode(pkg).unwrap(), &[]);
    assert_eq!(transact(card, s, &ifl), 0x9000);
    let mut sw = 0;
    for l in gp::load::load_commands(&block(name), 200).unwrap() {
        sw = transact(card, s, &l);
        if sw != 0x9000 {
            break;
        }
    }
    sw
}

fn install(card: &mut Card, s: &mut Session, pkg: &str, aid: &str) -> u16 {
    let aid = decode(aid).unwrap();
    let inst = gp::load::install_for_install(&decode(pkg).unwrap(), &aid, &aid, &[0x00], &[]);
    transact(card, s, &inst)
}

fn cmd(card: &mut Card, ins: u8, p1: u8, data: &[u8]) -> (String, u16) {
    let c = CommandApdu::new(0x80, ins, p1, 0x00, data.to_vec(), Some(256));
    let r = send(card, &c);
    (apdu::hex::encode(&r.data), r.sw.0)
}

/// A store holding the last committed state.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Option<NvState>>>);

impl Store for Shared {
    fn load(&mut self) -> Result<Option<NvState>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }
    fn commit(&mut self, state: &NvState) -> Result<(), StoreError> {
        *self.0.lock().unwrap() = Some(state.clone());
        Ok(())
    }
}

/// A card with the library, the server and the client loaded and installed.
fn loaded() -> Card {
    loaded_in(Box::new(Shared::default()))
}

fn loaded_in(store: Box<dyn Store>) -> Card {
    let mut c = Card::with_store(Profile::default_profile(), store).unwrap();
    let mut s = session(&mut c);
    // The client before its library: refused at LOAD, nothing stored.
    let before = c.nv_state().clone();
    assert_eq!(
        load(&mut c, &mut s, CLIENT_PKG, "simota-shclient.cap"),
        0x6A88
    );
    assert_eq!(c.nv_state(), &before);
    assert_eq!(load(&mut c, &mut s, LIB, "simota-shlib.cap"), 0x9000);
    assert_eq!(
        load(&mut c, &mut s, SERVER_PKG, "simota-shserver.cap"),
        0x9000
    );
    assert_eq!(
        load(&mut c, &mut s, CLIENT_PKG, "simota-shclient.cap"),
        0x9000
    );
    assert_eq!(install(&mut c, &mut s, SERVER_PKG, SERVER), 0x9000);
    assert_eq!(install(&mut c, &mut s, CLIENT_PKG, CLIENT), 0x9000);
    c
}

#[test]
fn library_import_and_shareable_calls_across_packages() {
    let mut c = loaded();
    assert_eq!(select(&mut c, CLIENT).sw.0, 0x9000);
    // The library's static method and static counter.
    assert_eq!(cmd(&mut c, 0x50, 0, b"abc"), ("78620001".into(), 0x9000));
    assert_eq!(cmd(&mut c, 0x50, 0, b"abc"), ("78620002".into(), 0x9000));
    // bump(5) runs in the server's context; getPreviousContextAID() is the client, copied
    // into the APDU buffer (a global array) by the server.
    assert_eq!(cmd(&mut c, 0x20, 5, &[]), (format!("0005{CLIENT}"), 0x9000));
    // Firewall: the server's own array handed to the client (SecurityException: 6F00, or
    // 6982 where the client catches it), the server writing the client's own array.
    assert_eq!(cmd(&mut c, 0x30, 0, &[]).1, 0x6F00);
    assert_eq!(cmd(&mut c, 0x31, 0, &[]).1, 0x6982);
    assert_eq!(cmd(&mut c, 0x32, 0, &[]).1, 0x6F00);
    // No object for another parameter: null (the client answers 6985).
    assert_eq!(cmd(&mut c, 0x21, 1, &[]).1, 0x6985);
    // A transaction spanning the call: bump(7) rolled back by abortTransaction.
    assert_eq!(cmd(&mut c, 0x40, 7, &[]), ("0005".into(), 0x9000));
    // The server sees its total and its last caller; after a reset too.
    assert_eq!(select(&mut c, SERVER).sw.0, 0x9000);
    assert_eq!(cmd(&mut c, 0x01, 0, &[]), ("0005".into(), 0x9000));
    assert_eq!(cmd(&mut c, 0x02, 0, &[]), (CLIENT.into(), 0x9000));
    c.reset();
    assert_eq!(select(&mut c, CLIENT).sw.0, 0x9000);
    assert_eq!(cmd(&mut c, 0x20, 1, &[]), (format!("0006{CLIENT}"), 0x9000));
    assert_eq!(select(&mut c, SERVER).sw.0, 0x9000);
    assert_eq!(cmd(&mut c, 0x01, 0, &[]), ("0006".into(), 0x9000));

    // A second instance of the client package: the library's static counter is one image
    // on the card (persistent, shared by every instance importing the library).
    let mut s = session(&mut c);
    let inst = gp::load::install_for_install(
        &decode(CLIENT_PKG).unwrap(),
        &decode(CLIENT).unwrap(),
        &decode(CLIENT2).unwrap(),
        &[0x00],
        &[],
    );
    assert_eq!(transact(&mut c, &mut s, &inst), 0x9000);
    assert_eq!(select(&mut c, CLIENT2).sw.0, 0x9000);
    assert_eq!(cmd(&mut c, 0x50, 0, b"abc"), ("78620003".into(), 0x9000));
    assert_eq!(
        cmd(&mut c, 0x20, 2, &[]),
        (format!("0008{CLIENT2}"), 0x9000)
    );
    assert_eq!(select(&mut c, CLIENT).sw.0, 0x9000);
    assert_eq!(cmd(&mut c, 0x50, 0, b"abc"), ("78620004".into(), 0x9000));
}

#[test]
fn a_library_cannot_be_deleted_while_imported() {
    let mut c = loaded();
    let mut s = session(&mut c);
    let lib = decode(LIB).unwrap();
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&lib, false)),
        0x6985
    );
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&lib, true)),
        0x6985
    );
    let client = decode(CLIENT_PKG).unwrap();
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&client, true)),
        0x9000
    );
    // Still imported by the server.
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&lib, false)),
        0x6985
    );
    let server = decode(SERVER_PKG).unwrap();
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&server, true)),
        0x9000
    );
    assert_eq!(
        transact(&mut c, &mut s, &commands::delete_aid(&lib, false)),
        0x9000
    );
    assert!(c.nv_state().isd.load_files.is_empty());
    let gone = [decode(SERVER).unwrap(), decode(CLIENT).unwrap()];
    assert!(c.nv_state().applets.iter().all(|a| !gone.contains(&a.aid)));
}

/// Power lost at every NV write of a Shareable call: after the reset the server's total is
/// the old or the new one (each write atomic), and for a call inside a transaction that the
/// client aborts, always the old one.
#[test]
fn tearing_inside_a_shareable_call() {
    let base = Shared::default();
    let mut c = loaded_in(Box::new(base.clone()));
    c.commit_nv().unwrap();
    drop(c);
    let snapshot = base.0.lock().unwrap().clone();
    for (ins, allowed) in [(0x20u8, &["0000", "0005"][..]), (0x40, &["0000"][..])] {
        let mut torn = 0;
        for k in 1..200 {
            let store = Shared(Arc::new(Mutex::new(snapshot.clone())));
            let mut c =
                Card::with_store(Profile::default_profile(), Box::new(store.clone())).unwrap();
            assert_eq!(select(&mut c, CLIENT).sw.0, 0x9000);
            c.tear_after_writes(k);
            let r = c.process(&[0x80, ins, 0x05, 0x00, 0x00]);
            if !c.power_lost() {
                assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
                break;
            }
            torn += 1;
            drop(c);
            let mut c = Card::with_store(Profile::default_profile(), Box::new(store)).unwrap();
            assert_eq!(select(&mut c, SERVER).sw.0, 0x9000);
            let (total, sw) = cmd(&mut c, 0x01, 0, &[]);
            assert_eq!(sw, 0x9000);
            assert!(
                allowed.contains(&total.as_str()),
                "INS {ins:02X}, tear at write {k}: total {total}"
            );
        }
        assert!(torn > 2, "INS {ins:02X}: only {torn} writes");
    }
}
