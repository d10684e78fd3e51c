//! Throughput of the crypto natives inside the VM: SHADigest (test-vectors/cap/
//! jcsim-SHADigest.cap) answering the SHA-1 of 128 bytes of command data, per APDU, next to
//! the bare SHA-1 of the same 128 bytes through `MessageDigest` (the cost a Rust applet pays);
//! rsa-decrypt-pkcs1 decrypting one 512-bit PKCS#1 block per APDU (CRT key set over APDUs),
//! next to the bare `Cipher` decryption.

use criterion::{black_box, criterion_group, Criterion, Throughput};
use jcvm::api::crypto::cipher::{self, Cipher};
use jcvm::api::crypto::digest::MessageDigest;
use jcvm::api::crypto::keys::{self, Component, KeyBuilder};
use jcvm::jcre::{Command, MemEnv};
use jcvm::vm::Vm;
use jcvm::CapFile;

fn h(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn installed(file: &str, aid: &[u8]) -> (MemEnv, Vm) {
    let b = std::fs::read(format!(
        "{}/../../test-vectors/cap/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut env = MemEnv::new();
    let mut vm = Vm::load(CapFile::from_zip(&b).unwrap(), aid, &[]).unwrap();
    let mut inst = vec![aid.len() as u8];
    inst.extend_from_slice(aid);
    inst.extend_from_slice(&[0, 0]);
    vm.install(&mut env, 0, &inst).unwrap();
    assert!(vm.select(&mut env));
    (env, vm)
}

fn command(ins: u8, p1: u8, data: &[u8], ne: usize) -> Command<'_> {
    Command {
        cla: 0x80,
        ins,
        p1,
        p2: 0,
        data,
        ne,
        channel: 0,
    }
}

const KEY: [&str; 5] = [
    "e637a10ecfe89aa2b6de3b9f4dfa5d92b92791dbdd0daa1cb7266467a57d87bf",
    "e068b273b7e5285f70da56b9d8130624f37c13b3348d0e6e47ac328d71a06ce1",
    "87e5429f59bf36b8e235a10052a97ddf04890522c20434ecaa7871407581fa45",
    "a564c4d180e1c685c1394ade2220b3509c9c0030fe3450447b52b0d78abd8041",
    "54a99e3944c048a9973ff85c21eaa7cc37dc03ced4a04ab4d910f8cf8a9a7a8d",
];
const CT: &str = "752531b14a42160af94db200ba59e9dba477d280596849f4b1225ab890d56d12b37c4f7d84e026d8dec16453eff27f66b764af6479e1efe34d4d2a1ba39e4f21";

fn benches(c: &mut Criterion) {
    let data = [0x5Au8; 128];
    let mut g = c.benchmark_group("jcvm_crypto");
    g.throughput(Throughput::Elements(1));

    let (mut env, mut vm) = installed("jcsim-SHADigest.cap", &h("EEEEEEEEEE00"));
    let cmd = command(0x31, 0, &data, 20);
    assert_eq!(vm.process(&mut env, &cmd, false).sw, 0x9000);
    g.bench_function("shadigest_apdu_128_bytes", |b| {
        b.iter(|| black_box(vm.process(&mut env, black_box(&cmd), false)))
    });
    let mut md = MessageDigest::get_instance(1).unwrap();
    let mut out = [0u8; 20];
    g.bench_function("sha1_native_128_bytes", |b| {
        b.iter(|| black_box(md.do_final(black_box(&data), &mut out).unwrap()))
    });

    let (mut env, mut vm) = installed("jcsim-rsa-decrypt-pkcs1.cap", &h("CCCCCCCCCC00"));
    for (p1, k) in KEY.iter().enumerate() {
        assert_eq!(
            vm.process(&mut env, &command(0x22, p1 as u8, &h(k), 0), false)
                .sw,
            0x9000
        );
    }
    let ct = h(CT);
    let cmd = command(0x30, 0, &ct, 64);
    assert_eq!(vm.process(&mut env, &cmd, false).sw, 0x9000);
    g.bench_function("rsa512_crt_pkcs1_decrypt_apdu", |b| {
        b.iter(|| black_box(vm.process(&mut env, black_box(&cmd), false)))
    });
    let mut key = KeyBuilder::build_key(keys::TYPE_RSA_CRT_PRIVATE, 512, false).unwrap();
    for (c, k) in [
        Component::P,
        Component::Q,
        Component::Dp1,
        Component::Dq1,
        Component::Pq,
    ]
    .into_iter()
    .zip(KEY)
    {
        key.set(c, &h(k)).unwrap();
    }
    let mut ciph = Cipher::get_instance(cipher::ALG_RSA_PKCS1).unwrap();
    ciph.init(&key, cipher::MODE_DECRYPT, &[]).unwrap();
    let mut out = [0u8; 64];
    let mut rng = |b: &mut [u8]| b.fill(1);
    g.bench_function("rsa512_crt_pkcs1_decrypt_native", |b| {
        b.iter(|| black_box(ciph.do_final(black_box(&ct), &mut out, &mut rng).unwrap()))
    });
    g.finish();
}

criterion_group!(crypto, benches);

fn main() {
    crypto();
    Criterion::default().configure_from_args().final_summary();
}
