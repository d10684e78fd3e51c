//! Smoke run against the default emulated card: `cargo run -p simota-fuzz --example smoke -- N SEED`.
use fuzz::{Config, EmulatedDut, Fuzzer};
use ota::{ChecksumAlgorithm, CipherAlgorithm, Keyset};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let kic: Vec<u8> = (0x00..0x10).collect();
    let kid: Vec<u8> = (0x10..0x20).collect();
    let keys = Keyset::new()
        .with_kic(CipherAlgorithm::AesCbc, &kic, 1)
        .unwrap()
        .with_kid(ChecksumAlgorithm::AesCmac, &kid, 1)
        .unwrap();
    let dut = EmulatedDut::from_profile(uicc::Profile::default_profile()).unwrap();
    let mut cfg = Config::new(keys, [0xB0, 0, 0], seed);
    cfg.iterations = Some(n);
    let mut f = Fuzzer::new(cfg, dut);
    let s = f.run(&mut |_| {}).unwrap();
    print!("{}", fuzz::report::summary_table(&s));
    for r in &s.recorded {
        println!(
            "--- case {} {} {}",
            r.finding.case,
            r.finding.class,
            r.finding.kind()
        );
        println!("    path {:?}", r.finding.path);
        for v in &r.finding.violations {
            println!(
                "    {}: expected {} / observed {}",
                v.kind, v.expected, v.observed
            );
        }
    }
    for e in &s.state_failures {
        println!("state: {e}");
    }
}
