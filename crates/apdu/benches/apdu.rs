//! APDU parse+emit throughput (issue target: ≥ 20 million short APDUs per second per core).
//!
//! `owned`: `CommandApdu::parse` (copies the data field) + `emit_into` a reused vector.
//! `owned parse_into`: the same, parsing into a reused `CommandApdu` (no allocation).
//! `borrowed`: `CommandApduRef::parse` (no copy) + `emit_to_slice` into a stack buffer — the
//! allocation-free path for hot loops.

use apdu::{CommandApdu, CommandApduRef};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const SELECT_MF: [u8; 7] = [0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00];
const READ_BINARY: [u8; 5] = [0x00, 0xB0, 0x00, 0x00, 0x00];
const ENVELOPE: [u8; 11] = [
    0x80, 0xC2, 0x00, 0x00, 0x06, 0xD1, 0x04, 0x82, 0x02, 0x83, 0x81,
];

fn parse_emit(c: &mut Criterion) {
    let mut g = c.benchmark_group("apdu");
    g.throughput(Throughput::Elements(1));
    for (name, apdu) in [
        ("case3 SELECT", &SELECT_MF[..]),
        ("case2 READ BINARY", &READ_BINARY[..]),
        ("case3 ENVELOPE", &ENVELOPE[..]),
    ] {
        let mut out = Vec::with_capacity(64);
        g.bench_function(format!("owned parse+emit {name}"), |b| {
            b.iter(|| {
                let a = CommandApdu::parse(black_box(apdu)).unwrap();
                out.clear();
                a.emit_into(&mut out).unwrap();
                black_box(out.len())
            })
        });
        let mut reused = CommandApdu::new(0, 0, 0, 0, Vec::with_capacity(64), None);
        g.bench_function(format!("owned parse_into+emit {name}"), |b| {
            b.iter(|| {
                reused.parse_into(black_box(apdu)).unwrap();
                out.clear();
                reused.emit_into(&mut out).unwrap();
                black_box(out.len())
            })
        });
        g.bench_function(format!("borrowed parse+emit {name}"), |b| {
            let mut buf = [0u8; 64];
            b.iter(|| {
                let a = CommandApduRef::parse(black_box(apdu)).unwrap();
                black_box(a.emit_to_slice(&mut buf))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse_emit);
criterion_main!(benches);
