//! Card throughput: in-process SELECT EF + READ BINARY pairs, and UPDATE BINARY with a state
//! file next to a plain write + fsync + rename of the same state bytes (the baseline).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::io::Write;
use uicc::{Card, FileStore, Profile};

fn select_read(c: &mut Criterion) {
    let mut card = Card::new(Profile::default_profile()).unwrap();
    let select = apdu::hex::decode("00A4080C047FF06FAD").unwrap();
    let read = apdu::hex::decode("00B0000004").unwrap();
    let mut g = c.benchmark_group("in_process");
    g.throughput(Throughput::Elements(2));
    g.bench_function("select_ef_read_binary_pair", |b| {
        b.iter(|| {
            let r1 = card.process(black_box(&select));
            let r2 = card.process(black_box(&read));
            black_box((r1, r2))
        })
    });
    g.finish();
}

fn update_with_state_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut card = Card::with_store(
        Profile::default_profile(),
        Box::new(FileStore::open(&path).unwrap()),
    )
    .unwrap();
    assert_eq!(
        card.process(&apdu::hex::decode("00A4080C047FF06F7B").unwrap()),
        vec![0x90, 0x00]
    );
    let bytes = card.nv_state().to_bytes();
    let mut g = c.benchmark_group("state_file");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let mut n = 0u8;
    g.bench_function("update_binary", |b| {
        b.iter(|| {
            n = n.wrapping_add(1);
            let r = card.process(&[0x00, 0xD6, 0x00, 0x00, 0x01, n]);
            assert_eq!(r, vec![0x90, 0x00]);
        })
    });
    // Baseline: the same number of bytes, written, fsynced and renamed into place.
    let base = dir.path().join("baseline.json");
    let tmp = dir.path().join("baseline.json.tmp");
    g.bench_function("write_fsync_rename_baseline", |b| {
        b.iter(|| {
            let mut f = std::fs::File::create(&tmp).unwrap();
            f.write_all(&bytes).unwrap();
            f.sync_all().unwrap();
            std::fs::rename(&tmp, &base).unwrap();
            std::fs::File::open(dir.path()).unwrap().sync_all().unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, select_read, update_with_state_file);
criterion_main!(benches);
