//! Every CAP of test-vectors/cap/ links, each applet installs (instance AID = applet AID)
//! and answers SELECT. HelloSTK (a `sim.toolkit` applet, TS 43.019) links with every native
//! it calls; its install needs the card's toolkit registry (crates/jcvm/tests/toolkit.rs and
//! crates/terminal/tests/hellostk.rs run it).

use jcvm::jcre::{Command, MemEnv};
use jcvm::vm::Vm;
use jcvm::CapFile;

fn load(name: &str) -> CapFile {
    let p = format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    CapFile::from_zip(&std::fs::read(p).unwrap()).unwrap()
}

/// GP install data: instance AID, privileges (one byte 00), empty application parameters.
pub fn install_data(aid: &[u8], params: &[u8]) -> Vec<u8> {
    let mut b = vec![aid.len() as u8];
    b.extend_from_slice(aid);
    b.extend_from_slice(&[1, 0, params.len() as u8]);
    b.extend_from_slice(params);
    b
}

fn select(name: &str) -> Vec<(Vec<u8>, u16, String)> {
    let cap = load(name);
    let mut out = Vec::new();
    for (i, a) in cap.applets.iter().enumerate() {
        let mut env = MemEnv::new();
        let mut vm = Vm::load(cap.clone(), &a.aid, &[]).unwrap();
        let missing = vm.packages[0].missing_natives.join(", ");
        if let Err(sw) = vm.install(&mut env, i, &install_data(&a.aid, &[])) {
            // Only an API method this card lacks may stop an install: a crypto native
            // (javacard.security / javacardx.crypto, still to come), named in the fault.
            let fault = vm.last_fault.clone().unwrap_or_default();
            assert_eq!(sw, 0x6F00, "{name}: install {sw:04X} {fault}");
            assert!(
                !missing.is_empty() && fault.ends_with("is not implemented"),
                "{name}: {fault}"
            );
            for m in vm.packages[0].missing_natives.iter() {
                assert!(
                    m.starts_with("javacard/security/") || m.starts_with("javacardx/crypto/"),
                    "{name}: {m}"
                );
            }
            println!("{name}: not installed, {fault}; natives missing: {missing}");
            continue;
        }
        assert!(vm.select(&mut env), "{name}: select refused");
        let mut sel = vec![0x00, 0xA4, 0x04, 0x00, a.aid.len() as u8];
        sel.extend_from_slice(&a.aid);
        let c = Command {
            cla: 0,
            ins: 0xA4,
            p1: 4,
            p2: 0,
            data: &a.aid,
            ne: 0,
            channel: 0,
        };
        let r = vm.process(&mut env, &c, true);
        if r.sw != 0x9000 {
            println!("{name}: fault {:?}", vm.last_fault);
        }
        out.push((r.data, r.sw, missing));
    }
    out
}

#[test]
fn every_cap_installs_and_answers_select() {
    for name in [
        "jcsim-wallet.cap",
        "gppro-Empty_0102030405_2.2.1.cap",
        "jcsim-ExceptionTests.cap",
        "caprunner-javatest.cap",
        "jcsim-SHADigest.cap",
        "jcsim-rsaapplet.cap",
        "jcsim-rsa-decrypt-pkcs1.cap",
    ] {
        for (data, sw, missing) in select(name) {
            println!(
                "{name}: SELECT {} {sw:04X}; natives missing: {missing}",
                jcvm::cap::hex(&data)
            );
            // GPPro's Empty: its process() is `CryptoException.throwIt(0x6666)` for every
            // command, SELECT included; uncaught and not an ISOException, that is 6F00
            // (JCRE Spec 3.0.5 §3.3).
            // caprunner's javatest: process() ends in
            // `ISOException.throwIt(SW_FUNC_NOT_SUPPORTED)` (6A81) for every command.
            let want = match name {
                "gppro-Empty_0102030405_2.2.1.cap" => 0x6F00,
                "caprunner-javatest.cap" => 0x6A81,
                _ => 0x9000,
            };
            assert_eq!(sw, want, "{name}");
        }
    }
}

#[test]
fn hellostk_links_with_every_native_and_needs_a_toolkit_registry() {
    let cap = load("pysim-test_javacard.cap");
    let aid = cap.applets[0].aid.clone();
    let mut vm = Vm::load(cap, &aid, &[]).unwrap();
    assert!(
        vm.packages[0].missing_natives.is_empty(),
        "{:?}",
        vm.packages[0].missing_natives
    );
    // Without a card toolkit (MemEnv has none), ToolkitRegistry.initMenuEntry throws
    // ToolkitException.REGISTRY_ERROR in the constructor: install fails with 6F00.
    let mut env = MemEnv::new();
    assert_eq!(
        vm.install(&mut env, 0, &install_data(&aid, &[])),
        Err(0x6F00)
    );
}
