//! RAM over OTA of a Java Card CAP (TS 102 226 §5.3 / GlobalPlatform §11.5–§11.6): INSTALL
//! [for load] and the LOAD blocks arrive in several SMS-PP messages (TS 102 225 secured
//! packets through the terminal simulator), INSTALL [for install] creates the applet in the
//! Java Card VM, and the applet answers over the card's own interface; a reset abandons a load;
//! DELETE of the load file over OTA follows GP's related-objects rule.

use apdu::hex::decode as h;
use ota::{ChecksumAlgorithm, CipherAlgorithm, CompactResponse, Counter, Keyset, Spi, Tar};
use terminal::{OtaRequest, Terminal};
use transport::{Emulator, Transport};
use uicc::{Card, Profile};

const ISD: Tar = Tar([0x00, 0x00, 0x00]);
const WALLET_APPLET: &str = "D1560001320A64656D9F01";

fn aes() -> Keyset {
    Keyset::new()
        .with_kic(
            CipherAlgorithm::AesCbc,
            &h("000102030405060708090A0B0C0D0E0F").unwrap(),
            1,
        )
        .unwrap()
        .with_kid(
            ChecksumAlgorithm::AesCmac,
            &h("101112131415161718191A1B1C1D1E1F").unwrap(),
            1,
        )
        .unwrap()
}

fn setup() -> (Emulator, Terminal) {
    let mut e = Emulator::new(Card::new(Profile::default_profile()).unwrap());
    let mut t = Terminal::default();
    t.terminal_profile(&mut e).unwrap();
    (e, t)
}

/// One RAM message (ciphered + CC, counter `cntr`) holding the C-APDUs `cmds` as a compact
/// script (TS 102 226 §5.1.1: T=0 form, no Le); the compact response of its PoR.
fn ram(
    e: &mut Emulator,
    t: &mut Terminal,
    cntr: u64,
    cmds: &[apdu::CommandApdu],
) -> CompactResponse {
    let mut script = Vec::new();
    for c in cmds {
        let mut c = c.clone();
        c.le = None;
        c.emit_into(&mut script).unwrap();
    }
    let k = aes();
    let r = OtaRequest {
        keys: &k,
        spi: Spi::from_u16(0x1619),
        tar: ISD,
        counter: Counter::new(cntr).unwrap(),
        data: script,
        concat_ref: cntr as u8,
    };
    let o = t.deliver_sms_pp(e, &r).unwrap();
    let por = o.por.expect("a PoR").packet.expect("PoR decodes");
    assert_eq!(por.status, ota::ResponseStatus::PorOk, "message {cntr}");
    CompactResponse::parse(&por.data).unwrap()
}

fn tx(e: &mut Emulator, apdu: &str) -> Vec<u8> {
    e.transmit(&h(apdu).unwrap()).unwrap()
}

fn wallet() -> gp::cap::CapFile {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/jcsim-wallet.cap"
    ))
    .unwrap();
    gp::cap::CapFile::parse(&bytes).unwrap()
}

#[test]
fn a_cap_loaded_over_ota_in_several_messages_runs() {
    let (mut e, mut t) = setup();
    let cap = wallet();
    let block = cap.load_file_data_block().unwrap();
    let loads = gp::load::load_commands(&block, 200).unwrap();
    assert!(loads.len() >= 4, "{} blocks", loads.len());
    let pkg = cap.package_aid.clone();

    // Message 1: INSTALL [for load]. Then two LOAD blocks per message.
    let r = ram(&mut e, &mut t, 1, &[gp::load::install_for_load(&pkg, &[])]);
    assert_eq!(r.sw.0 >> 8, 0x61, "{r:?}");
    let mut cntr = 2;
    let n = loads.chunks(2).count();
    for (i, pair) in loads.chunks(2).enumerate() {
        assert!(
            e.card().nv_state().isd.load_files.is_empty(),
            "only with the last block"
        );
        let r = ram(&mut e, &mut t, cntr, pair);
        // LOAD answers nothing until the last block, then its one byte (kept for GET
        // RESPONSE: 6101).
        let sw = if i + 1 == n { 0x6101 } else { 0x9000 };
        assert_eq!((r.count as usize, r.sw.0), (pair.len(), sw), "{r:?}");
        cntr += 1;
    }
    assert!(e
        .card()
        .nv_state()
        .isd
        .load_files
        .iter()
        .any(|f| f.aid == pkg));

    // INSTALL [for install and make selectable]: the PIN 01020304 in C9.
    let applet = h(WALLET_APPLET).unwrap();
    let inst =
        gp::load::install_for_install(&pkg, &applet, &applet, &[0x00], &h("01020304").unwrap());
    let r = ram(&mut e, &mut t, cntr, &[inst]);
    assert_eq!(r.sw.0 >> 8, 0x61, "{r:?}");

    // The applet runs: SELECT, VERIFY, CREDIT 100, DEBIT 30, balance 70.
    assert_eq!(
        tx(&mut e, &format!("00A404000B{WALLET_APPLET}")),
        h("9000").unwrap()
    );
    assert_eq!(tx(&mut e, "802000000401020304"), h("9000").unwrap());
    assert_eq!(tx(&mut e, "803000000164"), h("9000").unwrap());
    assert_eq!(tx(&mut e, "80400000011E"), h("9000").unwrap());
    assert_eq!(tx(&mut e, "8050000002"), h("00469000").unwrap());

    // DELETE of the load file over OTA: refused while its applet exists; with related
    // objects (P2 80) both go.
    let mut del = vec![0x4F, pkg.len() as u8];
    del.extend_from_slice(&pkg);
    let d = |p2| apdu::CommandApdu::new(0x80, 0xE4, 0x00, p2, del.clone(), Some(256));
    let r = ram(&mut e, &mut t, cntr + 1, &[d(0x00)]);
    assert_eq!(r.sw.0, 0x6985);
    let r = ram(&mut e, &mut t, cntr + 2, &[d(0x80)]);
    assert_eq!(r.sw.0 >> 8, 0x61, "{r:?}");
    assert!(e.card().nv_state().isd.load_files.is_empty());
    assert_eq!(
        tx(&mut e, &format!("00A404000B{WALLET_APPLET}")),
        h("6A82").unwrap()
    );
}

#[test]
fn load_blocks_out_of_order_or_after_a_reset_are_refused() {
    let (mut e, mut t) = setup();
    let cap = wallet();
    let loads = gp::load::load_commands(&cap.load_file_data_block().unwrap(), 200).unwrap();
    let pkg = cap.package_aid.clone();
    // LOAD without INSTALL [for load]: 6985.
    let r = ram(&mut e, &mut t, 1, &loads[..1]);
    assert_eq!(r.sw.0, 0x6985);
    // Block 1 before block 0: 6A86, and the load is abandoned.
    ram(&mut e, &mut t, 2, &[gp::load::install_for_load(&pkg, &[])]);
    let r = ram(&mut e, &mut t, 3, &loads[1..2]);
    assert_eq!(r.sw.0, 0x6A86);
    let r = ram(&mut e, &mut t, 4, &loads[..1]);
    assert_eq!(r.sw.0, 0x6985);
    // A reset between messages abandons the load too; nothing reached NV.
    ram(&mut e, &mut t, 5, &[gp::load::install_for_load(&pkg, &[])]);
    ram(&mut e, &mut t, 6, &loads[..1]);
    e.reset(transport::ResetKind::Cold).unwrap();
    t.terminal_profile(&mut e).unwrap();
    let r = ram(&mut e, &mut t, 7, &loads[1..2]);
    assert_eq!(r.sw.0, 0x6985);
    assert!(e.card().nv_state().isd.load_files.is_empty());
}
