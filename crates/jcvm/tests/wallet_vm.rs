//! The Java Card SDK Wallet sample (test-vectors/cap/jcsim-wallet.cap) run by the VM
//! against an in-memory NV: install with a PIN, select, verify, credit, debit, balance,
//! wrong PIN tries until blocked; transactions and tearing.

use jcvm::jcre::{Command, MemEnv};
use jcvm::vm::Vm;
use jcvm::CapFile;

const AID: &[u8] = &[
    0xD1, 0x56, 0x00, 0x01, 0x32, 0x0A, 0x64, 0x65, 0x6D, 0x9F, 0x01,
];

fn cap() -> CapFile {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/jcsim-wallet.cap"
    ))
    .unwrap();
    CapFile::from_zip(&b).unwrap()
}

fn install_data(params: &[u8]) -> Vec<u8> {
    let mut b = vec![AID.len() as u8];
    b.extend_from_slice(AID);
    b.push(0);
    b.push(params.len() as u8);
    b.extend_from_slice(params);
    b
}

fn cmd(env: &mut MemEnv, vm: &mut Vm, ins: u8, data: &[u8], ne: usize) -> (Vec<u8>, u16) {
    let c = Command {
        cla: 0x80,
        ins,
        p1: 0,
        p2: 0,
        data,
        ne,
        channel: 0,
    };
    let r = vm.process(env, &c, false);
    (r.data, r.sw)
}

fn installed() -> (MemEnv, Vm) {
    let mut env = MemEnv::new();
    let mut vm = Vm::load(cap(), AID, &[]).unwrap();
    vm.install(&mut env, 0, &install_data(&[1, 2, 3, 4]))
        .unwrap();
    assert!(vm.select(&mut env));
    (env, vm)
}

#[test]
fn wallet_verify_credit_debit_balance() {
    let (mut env, mut vm) = installed();
    assert_eq!(cmd(&mut env, &mut vm, 0x50, &[], 2), (vec![0, 0], 0x9000));
    assert_eq!(
        cmd(&mut env, &mut vm, 0x30, &[5], 0).1,
        0x6301,
        "credit needs the PIN"
    );
    assert_eq!(cmd(&mut env, &mut vm, 0x20, &[1, 2, 3, 4], 0).1, 0x9000);
    assert_eq!(cmd(&mut env, &mut vm, 0x30, &[100], 0).1, 0x9000);
    assert_eq!(cmd(&mut env, &mut vm, 0x40, &[30], 0).1, 0x9000);
    assert_eq!(cmd(&mut env, &mut vm, 0x50, &[], 2), (vec![0, 70], 0x9000));
    assert_eq!(
        cmd(&mut env, &mut vm, 0x40, &[71], 0).1,
        0x6A85,
        "negative balance"
    );
    assert_eq!(
        cmd(&mut env, &mut vm, 0x30, &[0x80], 0).1,
        0x6A83,
        "amount > 127"
    );
    assert_eq!(cmd(&mut env, &mut vm, 0x30, &[1, 2], 0).1, 0x6700);
    assert_eq!(cmd(&mut env, &mut vm, 0x60, &[], 0).1, 0x6D00);
    // The heap survives a restart: a new VM from the NV contents.
    let mut vm2 = Vm::load(cap(), AID, &env.entries()).unwrap();
    assert!(vm2.select(&mut env));
    assert_eq!(cmd(&mut env, &mut vm2, 0x50, &[], 2), (vec![0, 70], 0x9000));
    assert_eq!(
        cmd(&mut env, &mut vm2, 0x30, &[1], 0).1,
        0x6301,
        "PIN validation is not persistent"
    );
}

#[test]
fn wallet_pin_blocks_after_three_wrong_tries() {
    let (mut env, mut vm) = installed();
    for _ in 0..3 {
        assert_eq!(cmd(&mut env, &mut vm, 0x20, &[9, 9, 9, 9], 0).1, 0x6300);
    }
    assert_eq!(
        cmd(&mut env, &mut vm, 0x20, &[1, 2, 3, 4], 0).1,
        0x6300,
        "blocked"
    );
    vm.deselect(&mut env);
    assert!(!vm.select(&mut env), "select refuses a blocked wallet");
}
