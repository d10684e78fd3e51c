//! Build+parse throughput of SCP80 command packets (32-byte payload): AES-128 (cipher + CMAC)
//! and 3DES 2-key (cipher + CBC-MAC), keysets prepared once. `<alg>` is seal_into + the
//! step-by-step parse → decipher → verify; `<alg>_open_into` is seal_into + the
//! allocation-free `CommandPacket::open_into`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
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

criterion_group!(ota_benches, benches);
criterion_main!(ota_benches);
