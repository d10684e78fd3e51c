//! Build+parse throughput of SCP80 command packets (32-byte payload): AES-128 (cipher + CMAC)
//! and 3DES 2-key (cipher + CBC-MAC), keysets prepared once. `<alg>` is seal_into + the
//! step-by-step parse → decipher → verify; `<alg>_open_into` is seal_into + the
//! allocation-free `CommandPacket::open_into`.
//!
//! Under `cargo bench` (the binary gets `--bench`) the run ends with the OpenSSL comparison
//! of issue 12 item 16, measured in the same run: our CPU time per build+parse
//! (`seal_into` + `open_into`, 32-byte payload, SPI 16 19: ciphered, CC) against OpenSSL's
//! CPU time for the same operations on the same byte counts, from `openssl speed -mr`:
//!
//! * AES-128: AES-128-CBC encryption of the 48 ciphered bytes + decryption of 48 + two
//!   CMACs (`-cmac aes-128-cbc`) of the 50 MACed bytes (CPL..PCNTR ‖ data ‖ padding);
//! * 3DES 2-key: DES-EDE3-CBC encryption of 48 + decryption of 48 + two CBC-MACs, each
//!   costed as a DES-EDE3-CBC encryption of the 56 zero-padded bytes (OpenSSL has no
//!   CBC-MAC primitive; 2-key and 3-key EDE cost the same).
//!
//! `ratio = ours / openssl`, where each OpenSSL term is `CPU seconds / operations` of its
//! `+R:` line (3 s runs). A second, stricter ratio costs all the bytes (2 × (48 + 50)) at
//! OpenSSL's bulk CBC rate (64-byte column), which leaves out OpenSSL's per-message CMAC
//! set-up.

use criterion::{black_box, criterion_group, Criterion, Throughput};
use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, SecuredCommand, Spi, Tar,
};

fn bench_alg(
    c: &mut Criterion,
    name: &str,
    ka: CipherAlgorithm,
    kd: ChecksumAlgorithm,
    klen: usize,
) {
    let keys = Keyset::new()
        .with_kic(ka, &vec![0x11; klen], 1)
        .and_then(|k| k.with_kid(kd, &vec![0x22; klen], 1))
        .expect("keyset");
    let pkt = CommandPacket::new(
        Spi::from_u16(0x1619),
        &keys,
        Tar([0xB0, 0x00, 0x10]),
        Counter::new(100).expect("counter"),
        (0..32u8).collect(),
    );
    let mut g = c.benchmark_group("command_build_parse");
    g.throughput(Throughput::Elements(1));
    let mut buf = Vec::with_capacity(128);
    g.bench_function(name, |b| {
        b.iter(|| {
            pkt.seal_into(black_box(&keys), &mut buf).expect("seal");
            let d = SecuredCommand::parse(&buf)
                .and_then(|s| s.decipher(&keys))
                .expect("decipher");
            let p = d.verify(&keys).expect("verify");
            black_box(p.data.len())
        })
    });
    let name_into = format!("{name}_open_into");
    let mut rx = pkt.clone();
    g.bench_function(&name_into, |b| {
        b.iter(|| {
            pkt.seal_into(black_box(&keys), &mut buf).expect("seal");
            CommandPacket::open_into(&buf, &keys, &mut rx).expect("open");
            black_box(rx.data.len())
        })
    });
    let name_seal = format!("{name}_seal_only");
    g.bench_function(&name_seal, |b| {
        b.iter(|| {
            pkt.seal_into(black_box(&keys), &mut buf).expect("seal");
            black_box(buf.len())
        })
    });
    let sealed = pkt.seal(&keys).expect("seal");
    let name_open = format!("{name}_open_only");
    g.bench_function(&name_open, |b| {
        b.iter(|| {
            let p = CommandPacket::open(black_box(&sealed), &keys).expect("open");
            black_box(p.data.len())
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_alg(
        c,
        "aes128_cbc_cmac_32B",
        CipherAlgorithm::AesCbc,
        ChecksumAlgorithm::AesCmac,
        16,
    );
    bench_alg(
        c,
        "3des2_cbc_mac_32B",
        CipherAlgorithm::TripleDes2Cbc,
        ChecksumAlgorithm::TripleDes2Mac,
        16,
    );
}

/// This thread's CPU time in ns (Linux `schedstat`), or wall time where that is missing:
/// on a loaded machine it keeps other processes out of our figure, as `openssl speed`'s
/// CPU-time figures do for its own.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Median CPU ns per build+parse (`seal_into` + `open_into`) over 7 batches.
fn ours_ns(ka: CipherAlgorithm, kd: ChecksumAlgorithm, iters: u32) -> f64 {
    let keys = Keyset::new()
        .with_kic(ka, &[0x11; 16], 1)
        .and_then(|k| k.with_kid(kd, &[0x22; 16], 1))
        .expect("keyset");
    let pkt = CommandPacket::new(
        Spi::from_u16(0x1619),
        &keys,
        Tar([0xB0, 0x00, 0x10]),
        Counter::new(100).expect("counter"),
        (0..32u8).collect(),
    );
    let mut buf = Vec::with_capacity(128);
    let mut rx = pkt.clone();
    let mut once = || {
        pkt.seal_into(black_box(&keys), &mut buf).expect("seal");
        CommandPacket::open_into(&buf, &keys, &mut rx).expect("open");
        black_box(rx.data.len());
    };
    for _ in 0..iters / 10 {
        once();
    }
    let mut ns: Vec<f64> = (0..7)
        .map(|_| {
            let (t, c) = (std::time::Instant::now(), cpu_ns());
            for _ in 0..iters {
                once();
            }
            let d = match (c, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64,
                _ => t.elapsed().as_nanos() as f64,
            };
            d / f64::from(iters)
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    ns[3]
}

/// OpenSSL's CPU ns per operation for `openssl speed -mr <args> -bytes <n> -seconds 3`,
/// from its `+R:<count>:<name>:<cpu seconds>` line.
fn openssl_ns(args: &[&str], bytes: usize) -> Option<f64> {
    let n = bytes.to_string();
    let out = std::process::Command::new("openssl")
        .arg("speed")
        .arg("-mr")
        .args(args)
        .args(["-bytes", &n, "-seconds", "3"])
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let r = text.lines().find(|l| l.starts_with("+R:"))?;
    let mut f = r.split(':');
    let count: f64 = f.nth(1)?.parse().ok()?;
    let secs: f64 = f.nth(1)?.parse().ok()?;
    (count > 0.0).then_some(secs * 1e9 / count)
}

fn openssl_comparison() {
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("openssl comparison (load average {})", l.trim());
    }
    let rows = [
        (
            "AES-128 CBC + CMAC",
            CipherAlgorithm::AesCbc,
            ChecksumAlgorithm::AesCmac,
            "aes-128-cbc",
            ["-cmac", "aes-128-cbc"],
            50usize,
            200_000u32,
        ),
        (
            "3DES-2key CBC + CBC-MAC",
            CipherAlgorithm::TripleDes2Cbc,
            ChecksumAlgorithm::TripleDes2Mac,
            "des-ede3-cbc",
            ["-evp", "des-ede3-cbc"],
            56,
            20_000,
        ),
    ];
    for (name, ka, kd, evp, mac, mac_bytes, iters) in rows {
        let ours = ours_ns(ka, kd, iters);
        let parts = (
            openssl_ns(&["-evp", evp], 48),
            openssl_ns(&["-evp", evp, "-decrypt"], 48),
            openssl_ns(&mac, mac_bytes),
            openssl_ns(&["-evp", evp], 64),
        );
        let (Some(enc), Some(dec), Some(m), Some(bulk64)) = parts else {
            println!("  {name}: ours {ours:.0} ns; openssl speed not available");
            continue;
        };
        let ossl = enc + dec + 2.0 * m;
        let bulk = bulk64 / 64.0 * f64::from(2 * (48 + 50));
        println!(
            "  {name}: ours {ours:.0} ns per build+parse; openssl enc48 {enc:.0} + dec48 \
             {dec:.0} + 2 x mac{mac_bytes} {m:.0} = {ossl:.0} ns -> ratio {:.2}x \
             (bytes at bulk CBC rate: {bulk:.0} ns -> {:.2}x)",
            ours / ossl,
            ours / bulk
        );
    }
}

criterion_group!(ota_benches, benches);

fn main() {
    ota_benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        openssl_comparison();
    }
}
