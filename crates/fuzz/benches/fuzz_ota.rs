//! `simota fuzz ota` engine throughput against the in-process emulated card (default
//! profile, AES-128 keyset KVN 1, TAR B00000): cases per second on one core.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fuzz::{Config, EmulatedDut, Fuzzer};
use ota::Keyset;

fn aes_keys() -> Keyset {
    fuzz::dut::default_profile_keyset(1).unwrap()
}

fn bench(c: &mut Criterion) {
    const CASES: u64 = 2000;
    let mut g = c.benchmark_group("fuzz_ota");
    g.throughput(Throughput::Elements(CASES));
    g.sample_size(10);
    let mut seed = 0u64;
    g.bench_function("aes_default_profile_2000_cases", |b| {
        b.iter(|| {
            seed += 1;
            let dut = EmulatedDut::from_profile(uicc::Profile::default_profile()).unwrap();
            let mut cfg = Config::new(aes_keys(), [0xB0, 0x00, 0x00], seed);
            cfg.iterations = Some(CASES);
            cfg.state_check_every = 0;
            let mut f = Fuzzer::new(cfg, dut);
            let s = f.run(&mut |_| {}).unwrap();
            assert_eq!(s.cases, CASES);
            s.findings_total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
