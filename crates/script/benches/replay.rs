//! Script replay throughput in process: APDUs per second including expectation checks,
//! against a fixed-answer card (runner overhead only) and the emulated UICC.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use script::{native::FsLoader, parse_str, Format, RunOptions, Runner};
use transport::{ResetKind, Transport, TransportError};

/// Answers READ BINARY with the ICCID and everything else with 9000.
struct Fixed;
impl Transport for Fixed {
    fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(if c.get(1) == Some(&0xB0) {
            vec![
                0x98, 0x88, 0x12, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF5, 0x90, 0x00,
            ]
        } else {
            vec![0x90, 0x00]
        })
    }
    fn reset(&mut self, _: ResetKind) -> Result<Vec<u8>, TransportError> {
        Ok(vec![0x3B, 0x00])
    }
    fn atr(&self) -> Vec<u8> {
        vec![0x3B, 0x00]
    }
    fn name(&self) -> String {
        "fixed".into()
    }
}

const N: usize = 1000;

fn script_text() -> String {
    let mut s = String::new();
    for i in 0..N / 2 {
        s.push_str("00 B0 82 00 0A => 98 88 12 01 * 10 F5 90 00\n");
        s.push_str(if i % 2 == 0 {
            "00 20 00 01 => 9000\n"
        } else {
            "00 A4 00 0C 02 2F E2 => 90 00\n"
        });
    }
    s
}

fn bench(c: &mut Criterion) {
    let script = parse_str("bench.apdu", &script_text(), Format::Native, &mut FsLoader)
        .expect("bench script parses");
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("fixed-card", |b| {
        let mut card = Fixed;
        b.iter(|| {
            let run = Runner::new(&mut card, RunOptions::default()).run(&script);
            assert_eq!(run.failures(), 0);
            run.steps.len()
        })
    });
    g.bench_function("emulated-uicc", |b| {
        let mut card = transport::Emulator::default_card().expect("default card");
        b.iter(|| {
            let run = Runner::new(&mut card, RunOptions::default()).run(&script);
            assert_eq!(run.failures(), 0);
            run.steps.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
