//! Benchmarks of the terminal's sans-IO answer path.
use criterion::{criterion_group, criterion_main, Criterion};

fn respond(c: &mut Criterion) {
    let raw = apdu::hex::decode("D01B8103012300820281828D0C04456E74657220313233343591020505").unwrap_or_default();
    c.bench_function("respond GET INPUT", |b| {
        b.iter(|| {
            let mut t = terminal::Terminal::default();
            t.push_answer(terminal::UserAnswer::Text("12345".into()));
            t.respond(&raw).map(|a| a.response.emit().len()).unwrap_or(0)
        })
    });
}

criterion_group!(benches, respond);
criterion_main!(benches);
