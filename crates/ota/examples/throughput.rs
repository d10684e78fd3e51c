//! Build+parse throughput per CPU-second (not wall-clock), for comparing with
//! `openssl speed`, which also times CPU use by default. Reads this thread's on-CPU time
//! from `/proc/thread-self/schedstat` (Linux), so other processes on a busy machine do not
//! distort the figure.
//!
//! `cargo run --release -p simota-ota --example throughput`

use ota::{ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, Spi, Tar};
use std::time::Instant;

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn run(
    name: &str,
    ka: CipherAlgorithm,
    kd: ChecksumAlgorithm,
    iters: u32,
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
    let (w0, c0) = (Instant::now(), cpu_ns());
    let mut sink = 0usize;
    for _ in 0..iters {
        pkt.seal_into(&keys, &mut buf)?;
        let p = CommandPacket::open(&buf, &keys)?;
        sink = sink.wrapping_add(p.data.len());
    }
    let wall = w0.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall,
    };
    let rate = f64::from(iters) / cpu;
    println!(
        "{name}: {iters} build+parse in {cpu:.3} s CPU ({wall:.3} s wall) = {rate:.0}/s per core; \
         {per_packet} cipher+MAC bytes per packet = {:.1} MB/s [{sink}]",
        rate * per_packet as f64 / 1e6
    );
    Ok(())
}

fn main() -> Result<(), ota::OtaError> {
    // Optional filter: `aes` or `3des` runs only that algorithm (for profiling).
    let only = std::env::args().nth(1).unwrap_or_default();
    if only != "3des" {
        run(
            "AES-128 CBC + CMAC, 32-byte payload",
            CipherAlgorithm::AesCbc,
            ChecksumAlgorithm::AesCmac,
            2_000_000,
        )?;
    }
    if only != "aes" {
        run(
            "3DES-2key CBC + CBC-MAC, 32-byte payload",
            CipherAlgorithm::TripleDes2Cbc,
            ChecksumAlgorithm::TripleDes2Mac,
            100_000,
        )?;
    }
    Ok(())
}
