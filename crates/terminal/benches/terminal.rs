//! Benchmarks: the CAT codec, the terminal's sans-IO answer path, and a whole OTA round trip
//! (AES-128 cipher + CMAC, PoR ciphered + CC) through the terminal and a minimal in-process
//! card (the test mock's OTA receiver, built from the `ota` codecs).

use criterion::{criterion_group, criterion_main, Criterion};
use ota::cat::ProactiveCommand;
use ota::{ChecksumAlgorithm, CipherAlgorithm, Counter, Keyset, Spi, Tar};
use std::hint::black_box;
use terminal::{OtaRequest, Terminal, UserAnswer};

#[allow(dead_code)]
#[path = "../src/mock.rs"]
mod mock;

fn h(s: &str) -> Vec<u8> {
    apdu::hex::decode(s).expect("hex")
}

fn codec(c: &mut Criterion) {
    let menu = h("D03B810301250082028182850C546F6F6C6B6974204D656E758F07014974656D20318F07024974656D20328F07034974656D20338F07044974656D2034");
    c.bench_function("cat: parse+emit SET UP MENU (61 bytes)", |b| {
        b.iter(|| {
            ProactiveCommand::parse(black_box(&menu))
                .map(|p| p.emit().len())
                .unwrap_or(0)
        })
    });
    let d1 = h("d147820283818604001032548b3b400290217ff6227052000000002d02700000281516191212b0000127fa28a5bac69d3c5e9df2c7155dfdde449c826b236215566530787b30e8be5d");
    c.bench_function("cat: parse SMS-PP download ENVELOPE (73 bytes)", |b| {
        b.iter(|| {
            ota::cat::Envelope::parse(black_box(&d1))
                .map(|e| e.objects().len())
                .unwrap_or(0)
        })
    });
    let tr = h("8103012300820282818301008D06043132333435");
    c.bench_function("cat: parse TERMINAL RESPONSE (GET INPUT)", |b| {
        b.iter(|| {
            ota::cat::TerminalResponse::parse(black_box(&tr))
                .map(|r| r.objects().len())
                .unwrap_or(0)
        })
    });
    let input = h("D01B8103012300820281828D0C04456E74657220313233343591020505");
    c.bench_function("terminal: respond to GET INPUT with typed text", |b| {
        let mut t = Terminal::default();
        b.iter(|| {
            t.push_answer(UserAnswer::Text("12345".into()));
            let a = t.respond(black_box(&input)).expect("answer");
            t.clear_records();
            a.response.emit().len()
        })
    });
}

fn round_trip(c: &mut Criterion) {
    let k = h("000102030405060708090a0b0c0d0e0f");
    let keys = Keyset::new()
        .with_kic(CipherAlgorithm::AesCbc, &k, 1)
        .and_then(|ks| ks.with_kid(ChecksumAlgorithm::AesCmac, &k, 1))
        .expect("keys");
    let mut card = mock::MockCard::new(keys.clone());
    let mut t = Terminal::default();
    // SPI 0619, no counter check: ciphered + CC; PoR always, ciphered + CC, via ENVELOPE.
    let req = OtaRequest {
        keys: &keys,
        spi: Spi::from_bytes([0x06, 0x19]),
        tar: Tar([0xB0, 0x00, 0x10]),
        counter: Counter::from_bytes([0, 0, 0, 0, 1]),
        data: h("00D6000001AA"),
        concat_ref: 1,
    };
    c.bench_function(
        "ota round trip: terminal + mock card, AES cipher+CMAC, PoR ciphered+CC",
        |b| {
            b.iter(|| {
                card.received.clear();
                card.log.clear();
                card.envelopes.clear();
                let o = t
                    .deliver_sms_pp(&mut card, black_box(&req))
                    .expect("delivered");
                o.por.is_some()
            })
        },
    );
}

criterion_group!(benches, codec, round_trip);
criterion_main!(benches);
