//! Build+parse throughput per CPU-second (not wall-clock), for comparing with
//! `openssl speed`, which also times CPU (user) time by default. Reads this thread's on-CPU
//! time from `/proc/thread-self/schedstat` (Linux), so other processes on a busy machine do
//! not distort the figure much (they still share caches and the memory bus).
//!
//! ```text
//! cargo run --release -p simota-ota --example throughput [aes|3des|all] [--openssl]
//! ```
//!
//! Each algorithm runs 5 batches; the median and the best batch are printed, for
//! `seal_into` followed by: `CommandPacket::open_into` (reuses the received packet's data
//! buffer: no allocation), `CommandPacket::open` (one allocation, the returned data), and
//! the step-by-step `SecuredCommand::parse` → `decipher` → `verify` (two allocations: the
//! step API keeps the deciphered buffer and copies the data out of it).
//!
//! Ratio to OpenSSL (the method of the issue, "within 2× of OpenSSL's cost for the same
//! cipher and MAC bytes"): a build+parse pushes `2 × (ciphered + MACed)` bytes through
//! the block cipher — 2 × (48 + 50) = 196 for a 32-byte payload with an 8-byte CC (the
//! ciphered part is CNTR..padding, the MAC covers CPL..PCNTR ‖ data ‖ padding; ×2 for
//! building and parsing). OpenSSL's cost for those bytes is taken from the 64-byte column
//! of `openssl speed -evp aes-128-cbc` (resp. `des-ede3-cbc`), the block size closest to
//! one OTA packet: `openssl_ns = 196 / (bytes per second) × 1e9`, and
//! `ratio = our ns per build+parse / openssl_ns`. With `--openssl` the example runs
//! `openssl speed -evp <cipher> -bytes 64 -seconds 3` itself right after our batches and
//! prints the ratio (same session, same load).

use ota::{
    ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, SecuredCommand, Spi, Tar,
};
use std::process::Command;

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

const BATCHES: usize = 5;

/// Median and best ns per iteration of `f` over [`BATCHES`] batches of `iters`.
fn measure(
    iters: u32,
    mut f: impl FnMut() -> Result<usize, ota::OtaError>,
) -> Result<(f64, f64), ota::OtaError> {
    let mut sink = 0usize;
    for _ in 0..iters / 10 {
        sink = sink.wrapping_add(f()?);
    }
    let mut ns = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t0 = std::time::Instant::now();
        let c0 = cpu_ns();
        for _ in 0..iters {
            sink = sink.wrapping_add(f()?);
        }
        let wall = t0.elapsed().as_nanos() as f64;
        let cpu = match (c0, cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64,
            _ => wall,
        };
        ns.push(cpu / f64::from(iters));
    }
    std::hint::black_box(sink);
    ns.sort_by(f64::total_cmp);
    Ok((ns[BATCHES / 2], ns[0]))
}

/// OpenSSL's bytes per second in the 64-byte column for `cipher`, if `openssl` is there.
fn openssl_64(cipher: &str) -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-evp", cipher, "-bytes", "64", "-seconds", "3"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Last line: "<NAME>  <n>k" (thousands of bytes per second).
    let last = text.lines().rev().find(|l| l.trim_end().ends_with('k'))?;
    let k: f64 = last
        .split_whitespace()
        .last()?
        .trim_end_matches('k')
        .parse()
        .ok()?;
    Some(k * 1000.0)
}

fn run(
    name: &str,
    ka: CipherAlgorithm,
    kd: ChecksumAlgorithm,
    iters: u32,
    openssl: Option<&str>,
) -> Result<(), ota::OtaError> {
    let keys = Keyset::new()
        .with_kic(ka, &[0x11; 16], 1)?
        .with_kid(kd, &[0x22; 16], 1)?;
    let pkt = CommandPacket::new(
        Spi::from_u16(0x1619),
        &keys,
        Tar([0xB0, 0x00, 0x10]),
        Counter::new(100)?,
        (0..32u8).collect(),
    );
    let mut buf = Vec::with_capacity(128);
    // Bytes through the cipher and the MAC per build+parse (both directions).
    pkt.seal_into(&keys, &mut buf)?;
    let ciphered = buf.len() - 10;
    let mac_in = buf.len() - 8;
    let per_packet = 2 * (ciphered + mac_in);
    let (open_med, open_best) = measure(iters, || {
        pkt.seal_into(&keys, &mut buf)?;
        Ok(CommandPacket::open(&buf, &keys)?.data.len())
    })?;
    let mut rx = CommandPacket::new(
        Spi::from_u16(0),
        &keys,
        Tar([0; 3]),
        Counter::new(0)?,
        vec![],
    );
    let (into_med, into_best) = measure(iters, || {
        pkt.seal_into(&keys, &mut buf)?;
        CommandPacket::open_into(&buf, &keys, &mut rx)?;
        Ok(rx.data.len())
    })?;
    let (steps_med, steps_best) = measure(iters, || {
        pkt.seal_into(&keys, &mut buf)?;
        let p = SecuredCommand::parse(&buf)?
            .decipher(&keys)?
            .verify(&keys)?;
        Ok(p.data.len())
    })?;
    println!("{name} ({per_packet} cipher+MAC bytes per build+parse), CPU time per build+parse:");
    for (what, med, best) in [
        ("seal_into + open_into", into_med, into_best),
        ("seal_into + open     ", open_med, open_best),
        ("seal_into + steps    ", steps_med, steps_best),
    ] {
        println!(
            "  {what}: median {med:.0} ns = {:.0}/s per core (best {best:.0} ns = {:.0}/s)",
            1e9 / med,
            1e9 / best
        );
    }
    if let Some(cipher) = openssl {
        match openssl_64(cipher) {
            Some(bps) => {
                let ossl = per_packet as f64 / bps * 1e9;
                println!(
                    "  openssl speed -evp {cipher}, 64-byte column: {:.1} MB/s -> {ossl:.0} ns \
                     for {per_packet} bytes; ratio (median) open_into {:.2}x, open {:.2}x, \
                     steps {:.2}x",
                    bps / 1e6,
                    into_med / ossl,
                    open_med / ossl,
                    steps_med / ossl
                );
            }
            None => println!("  openssl speed -evp {cipher}: not available"),
        }
    }
    Ok(())
}

fn main() -> Result<(), ota::OtaError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_openssl = args.iter().any(|a| a == "--openssl");
    // `--iters N` overrides the AES batch size (3DES uses N / 20), e.g. for callgrind.
    let iters = args
        .iter()
        .position(|a| a == "--iters")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(400_000u32);
    let only = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<u32>().is_err())
        .map_or("all", |s| s.as_str());
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average: {}", l.trim());
    }
    if only != "3des" {
        run(
            "AES-128 CBC + CMAC, 32-byte payload",
            CipherAlgorithm::AesCbc,
            ChecksumAlgorithm::AesCmac,
            iters,
            with_openssl.then_some("aes-128-cbc"),
        )?;
    }
    if only != "aes" {
        run(
            "3DES-2key CBC + CBC-MAC, 32-byte payload",
            CipherAlgorithm::TripleDes2Cbc,
            ChecksumAlgorithm::TripleDes2Mac,
            (iters / 20).max(1),
            with_openssl.then_some("des-ede3-cbc"),
        )?;
    }
    Ok(())
}
