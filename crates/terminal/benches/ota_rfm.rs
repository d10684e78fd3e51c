//! Benchmark: one OTA RFM round trip through the terminal and the in-process emulated UICC
//! (`uicc::Card` behind `transport::Emulator`): AES-128 ciphering + AES-CMAC, counter mode
//! "higher", one UPDATE BINARY (EF.UMPC by SFI in the MF session of TAR B00000), PoR
//! required, ciphered + CC, in the ENVELOPE response. Each iteration builds and secures the
//! packet, wraps it into SMS-DELIVER and ENVELOPE, runs the card's OTA receiver (checks,
//! decipher, CMAC, counter, RFM, non-volatile commit, PoR sealing) and decodes and verifies
//! the PoR.
//!
//! Three measurements: wall time with the default `MemoryStore` (a snapshot of the whole
//! non-volatile state at every commit), wall time with a store that keeps no snapshot, and
//! on-CPU time of the bench thread with `MemoryStore` (per-core cost even when other
//! processes share the machine).

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, Keyset, Spi, Tar};
use std::hint::black_box;
use terminal::{OtaRequest, Terminal};
use transport::Emulator;

/// A store that accepts every commit without keeping a snapshot (the cost of persistence
/// left out, to show the OTA path itself).
struct CountingStore(u64);

impl uicc::Store for CountingStore {
    fn load(&mut self) -> Result<Option<uicc::NvState>, uicc::StoreError> {
        Ok(None)
    }
    fn commit(&mut self, _: &uicc::NvState) -> Result<(), uicc::StoreError> {
        self.0 += 1;
        Ok(())
    }
}

/// On-CPU time of the benchmark thread (Linux `/proc/thread-self/schedstat`, first field, in
/// nanoseconds): the cost per core even when other processes share the machine. Falls back to
/// 0 elsewhere (then only the wall-time group is meaningful).
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn rfm_round_trip_cpu(c: &mut Criterion<CpuTime>) {
    let card = uicc::Card::new(uicc::Profile::default_profile()).expect("default card");
    round_trip(c, card, "MemoryStore, CPU time");
}

fn rfm_round_trip(c: &mut Criterion) {
    let card = uicc::Card::new(uicc::Profile::default_profile()).expect("default card");
    round_trip(c, card, "MemoryStore snapshot per commit");
    let card = uicc::Card::with_store(uicc::Profile::default_profile(), Box::new(CountingStore(0)))
        .expect("default card");
    round_trip(c, card, "commit without snapshot");
}

fn round_trip<M: Measurement + 'static>(c: &mut Criterion<M>, card: uicc::Card, store: &str) {
    let mut emu = Emulator::new(card);
    let mut term = Terminal::default();
    term.terminal_profile(&mut emu).expect("terminal profile");
    let keys = Keyset::new()
        .with_kic(
            CipherAlgorithm::AesCbc,
            &apdu::hex::decode("000102030405060708090A0B0C0D0E0F").expect("hex"),
            1,
        )
        .and_then(|k| {
            k.with_kid(
                ChecksumAlgorithm::AesCmac,
                &apdu::hex::decode("101112131415161718191A1B1C1D1E1F").expect("hex"),
                1,
            )
        })
        .expect("keyset");
    let data = apdu::hex::decode("00D6880004 01020304").expect("hex");
    let mut n = 0u64;
    let mut g = c.benchmark_group("ota");
    // Equal-sized samples: the CPU-time clock only advances at scheduler events.
    g.sampling_mode(criterion::SamplingMode::Flat);
    g.bench_function(
        format!("RFM round trip (AES-128 cipher+CMAC, 1 UPDATE BINARY, PoR ciphered+CC; {store})"),
        |b| {
            b.iter(|| {
                n += 1;
                let req = OtaRequest {
                    keys: &keys,
                    spi: Spi::from_u16(0x1619),
                    tar: Tar([0xB0, 0x00, 0x00]),
                    counter: Counter::new(n).expect("counter"),
                    data: data.clone(),
                    concat_ref: 0,
                };
                let out = term
                    .deliver_sms_pp(&mut emu, black_box(&req))
                    .expect("deliver");
                let por = out.por.expect("PoR");
                assert_eq!(por.status(), Some(ota::ResponseStatus::PorOk));
                black_box(por)
            })
        },
    );
    g.finish();
}

criterion_group!(benches, rfm_round_trip);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(CpuTime);
    targets = rfm_round_trip_cpu
}
criterion_main!(benches, cpu);
