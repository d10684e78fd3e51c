//! Extended-length APDUs (ISO/IEC 7816-4 §5.1; JC API 3.0.5 `javacardx.apdu.ExtendedLength`,
//! `APDU`): test-vectors/cap/simota-extlen.cap (source in test-vectors/cap/src/extlen)
//! implements ExtendedLength and gets the command data at offset 7, receives it in as many
//! `receiveBytes` as it takes and answers more than 256 bytes; an applet that does not
//! implement it (the Wallet) is not called for an extended command: 6700.

use jcvm::jcre::{Command, MemEnv};
use jcvm::vm::Vm;
use jcvm::CapFile;

const EXTLEN: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x58, 0x01];

fn cap(name: &str) -> CapFile {
    let b = std::fs::read(format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    CapFile::from_zip(&b).unwrap()
}

fn installed(file: &str, aid: &[u8], params: &[u8]) -> (MemEnv, Vm) {
    let mut env = MemEnv::new();
    let mut vm = Vm::load(cap(file), aid, &[]).unwrap();
    let mut b = vec![aid.len() as u8];
    b.extend_from_slice(aid);
    b.push(0);
    b.push(params.len() as u8);
    b.extend_from_slice(params);
    vm.install(&mut env, 0, &b).unwrap();
    assert!(vm.select(&mut env));
    (env, vm)
}

fn run(
    env: &mut MemEnv,
    vm: &mut Vm,
    ins: u8,
    p12: u16,
    data: &[u8],
    ne: usize,
    extended: bool,
) -> (Vec<u8>, u16) {
    let [p1, p2] = p12.to_be_bytes();
    let c = Command {
        cla: 0x80,
        ins,
        p1,
        p2,
        data,
        ne,
        channel: 0,
    };
    let r = vm.process_apdu(env, &c, false, extended);
    (r.data, r.sw)
}

#[test]
fn an_extended_length_applet_gets_and_answers_long_data() {
    let (mut env, mut vm) = installed("simota-extlen.cap", EXTLEN, &[]);
    // 1500 bytes in, the same 1500 bytes out.
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(
        run(&mut env, &mut vm, 0x30, 0, &data, 65536, true),
        (data.clone(), 0x9000)
    );
    // Nc, the data offset (7) and Ne as the applet sees them.
    let (d, sw) = run(&mut env, &mut vm, 0x32, 0, &[0xAA; 300], 1000, true);
    assert_eq!((d, sw), (vec![0x01, 0x2C, 0x00, 0x07, 0x03, 0xE8], 0x9000));
    // The same command in short form: offset 5, Ne 256 for Le 00.
    let (d, sw) = run(&mut env, &mut vm, 0x32, 0, &[0xAA; 200], 256, false);
    assert_eq!((d, sw), (vec![0x00, 0xC8, 0x00, 0x05, 0x01, 0x00], 0x9000));
    // More than 256 bytes out: fine in an extended command …
    let (d, sw) = run(&mut env, &mut vm, 0x34, 0x0400, &[], 65536, true);
    assert_eq!(sw, 0x9000);
    assert_eq!(d.len(), 1024);
    assert!(d.iter().enumerate().all(|(i, &b)| b == i as u8));
    // … not in a short one: setOutgoingLength(1024) throws APDUException.BAD_LENGTH,
    // uncaught: 6F00. 256 still works.
    assert_eq!(
        run(&mut env, &mut vm, 0x34, 0x0400, &[], 256, false).1,
        0x6F00
    );
    let (d, sw) = run(&mut env, &mut vm, 0x34, 0x0100, &[], 256, false);
    assert_eq!((d.len(), sw), (256, 0x9000));
    // The applet's own limit (2048): its ISOException.
    assert_eq!(
        run(&mut env, &mut vm, 0x30, 0, &[0; 3000], 0, true).1,
        0x6700
    );
}

#[test]
fn applets_without_extended_length_never_see_an_extended_command() {
    let wallet = [
        0xD1, 0x56, 0x00, 0x01, 0x32, 0x0A, 0x64, 0x65, 0x6D, 0x9F, 0x01,
    ];
    let (mut env, mut vm) = installed("jcsim-wallet.cap", &wallet, &[1, 2, 3, 4]);
    // GET BALANCE as an extended command: the JCRE answers 6700; as a short one it works.
    assert_eq!(
        run(&mut env, &mut vm, 0x50, 0, &[], 2, true),
        (vec![], 0x6700)
    );
    assert_eq!(
        run(&mut env, &mut vm, 0x50, 0, &[], 2, false),
        (vec![0, 0], 0x9000)
    );
    assert!(!vm.applet_takes_extended_length());
}
