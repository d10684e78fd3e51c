//! APDU parse+emit throughput (issue target: ≥ 20 million short APDUs per second per core).

use apdu::CommandApdu;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn parse_emit(c: &mut Criterion) {
    let select = [0x00u8, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00];
    let mut g = c.benchmark_group("apdu");
    g.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(64);
    g.bench_function("parse+emit short case 3", |b| {
        b.iter(|| {
            let a = CommandApdu::parse(black_box(&select)).unwrap();
            out.clear();
            a.emit_into(&mut out).unwrap();
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, parse_emit);
criterion_main!(benches);
