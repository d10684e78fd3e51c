//! Java Card VM throughput on the emulated card: the SDK Wallet's CREDIT (+ DEBIT, to keep the
//! balance in range) as APDU pairs per second, against the built-in Rust DemoApplet's
//! INCREMENT (a persistent counter in a transaction) as the comparable Rust applet; and raw
//! bytecodes per second of the interpreter (caprunner's Test.testSomeIf on an odd argument,
//! an endless loop stopped by the bytecode budget).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use uicc::java_applet::JavaAppletClass;
use uicc::{AppletRegistry, Card, CardOptions, MemoryStore, Profile};

fn cap(name: &str) -> jcvm::CapFile {
    let p = format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    jcvm::CapFile::from_zip(&std::fs::read(p).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    apdu::hex::decode(s).unwrap()
}

fn wallet_vs_rust(c: &mut Criterion) {
    let mut reg = AppletRegistry::builtin();
    for k in JavaAppletClass::from_cap(cap("jcsim-wallet.cap")).unwrap() {
        reg.register(k);
    }
    let mut card = Card::with_options(
        Profile::default_profile(),
        CardOptions {
            store: Box::new(MemoryStore::new()),
            registry: reg,
            rng: None,
        },
    )
    .unwrap();
    let aid = hex("D1560001320A64656D9F01");
    card.install_applet(
        &aid,
        &aid,
        &[1, 2, 3, 4],
        uicc::nv::life_cycle::SELECTABLE,
        false,
    )
    .unwrap();
    assert_eq!(
        card.process(&hex("00A404000BD1560001320A64656D9F01")),
        vec![0x90, 0x00]
    );
    assert_eq!(card.process(&hex("802000000401020304")), vec![0x90, 0x00]);
    let credit = hex("803000000101");
    let debit = hex("804000000101");
    let mut g = c.benchmark_group("jcvm");
    g.throughput(Throughput::Elements(2));
    g.bench_function("wallet_credit_debit_pair", |b| {
        b.iter(|| {
            let r1 = card.process(black_box(&credit));
            let r2 = card.process(black_box(&debit));
            assert_eq!(r1, [0x90, 0x00]);
            black_box((r1, r2))
        })
    });
    // The Rust DemoApplet on the same card: INCREMENT twice.
    let demo = hex("00A4040009F073696D6F74610101");
    let mut rust = Card::new(Profile::default_profile()).unwrap();
    assert_eq!(rust.process(&demo), vec![0x90, 0x00]);
    let inc = hex("8054000000");
    g.bench_function("rust_demo_increment_pair", |b| {
        b.iter(|| {
            let r1 = rust.process(black_box(&inc));
            let r2 = rust.process(black_box(&inc));
            black_box((r1, r2))
        })
    });
    g.finish();
}

fn bytecodes(c: &mut Criterion) {
    let cap = cap("caprunner-javatest.cap");
    let aid = cap.applets[0].aid.clone();
    let mut env = jcvm::jcre::MemEnv::new();
    let mut vm = jcvm::vm::Vm::load(cap.clone(), &aid, &[]).unwrap();
    let mut ba = vec![aid.len() as u8];
    ba.extend_from_slice(&aid);
    ba.extend_from_slice(&[1, 0, 0]);
    vm.install(&mut env, 0, &ba).unwrap();
    let code = [29u8, 5, 73, 97, 6, 29, 6, 69, 120];
    let d = cap.descriptor.as_ref().unwrap();
    let off = d
        .classes
        .iter()
        .flat_map(|k| k.methods.iter())
        .find(|m| {
            jcvm::link::method_header(&cap.method.info, m.method_offset as usize)
                .is_some_and(|h| cap.method.info[h.code..].starts_with(&code))
        })
        .unwrap()
        .method_offset;
    const N: u64 = 100_000;
    vm.budget = N;
    let this = jcvm::heap::Slot::R(vm.applet);
    let mut g = c.benchmark_group("jcvm");
    g.throughput(Throughput::Elements(N));
    g.bench_function("bytecodes_endless_loop", |b| {
        b.iter(|| {
            let r = vm.call_static(&mut env, 0, off, &[this, jcvm::heap::Slot::S(7)]);
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, wallet_vs_rust, bytecodes);
criterion_main!(benches);
