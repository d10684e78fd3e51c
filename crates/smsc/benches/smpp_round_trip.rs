//! Benchmark (a plain bench binary, `cargo bench -p simota-smsc`): OTA round trips per second
//! through SMPP on loopback — submit_sm (RFM SELECT EF.ICCID + READ BINARY, AES-128 cipher +
//! CMAC, counter higher) → card → PoR deliver_sm → deliver_sm_resp — with 1 and 16 ESME
//! sessions, each session on its own cards; the resident memory an untouched, a live and a
//! parked touched card costs (`SMSC_BENCH_TOUCH` cards touched for the last, default
//! 10 000, of a 100 000-card fleet with 256 live cards); the time to start a server for
//! 100 000 cards.
//!
//! `SMSC_BENCH_PROFILE=N` runs only N single-session round trips over 100 warm cards and
//! exits (for a profiler: `perf record -g`).
//!
//! Then one session with a window of 10 outstanding submit_sm, as OTA platforms bind.
//!
//! With `SMPP2SIM=HOST:PORT` (tools/bench-smpp2sim sets it) the same ESME then measures
//! pySim-smpp2sim.py at that address — one card behind PC/SC, so one card and rising
//! counters — and prints simota's single-session rate as a ratio to it.

use ota::sms::{split_command, ConcatRef};
use ota::{ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Keyset, Spi, Tar};
use smsc::fleet::profile_factory;
use smsc::pdu::{Bind, Body, Pdu, ShortMessage, ESM_UDHI};
use smsc::{FleetConfig, Server, ServerConfig};
use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

const BASE: u64 = 491_700_000_000;

fn keys() -> Keyset {
    let h = |s: &str| apdu::hex::decode(s).expect("hex");
    Keyset::new()
        .with_kic(
            CipherAlgorithm::AesCbc,
            &h("000102030405060708090A0B0C0D0E0F"),
            1,
        )
        .and_then(|k| {
            k.with_kid(
                ChecksumAlgorithm::AesCmac,
                &h("101112131415161718191A1B1C1D1E1F"),
                1,
            )
        })
        .expect("keyset")
}

/// A store that keeps no template: rows are whole states (the baseline of the persistent
/// measurement).
struct WholeRows(std::sync::Arc<smsc::RedbStore>);

impl smsc::FleetStore for WholeRows {
    fn load(&self, index: u64) -> Result<Option<Vec<u8>>, smsc::FleetStoreError> {
        self.0.load(index)
    }
    fn save(&self, index: u64, state: &[u8]) -> Result<(), smsc::FleetStoreError> {
        self.0.save(index, state)
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// bind_transceiver as test/test.
fn bind_transceiver() -> Body {
    Body::BindTransceiver(Bind {
        system_id: "test".into(),
        password: "test".into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    })
}

/// A submit_sm to `card` carrying the RFM `data` in one command packet (AES cipher + CMAC,
/// counter `counter`).
fn submit(keys: &Keyset, data: &[u8], card: u64, counter: u64) -> Body {
    let p = CommandPacket::new(
        Spi::from_u16(0x1619),
        keys,
        Tar([0xB0, 0, 0]),
        Counter::new(counter).expect("counter"),
        data.to_vec(),
    )
    .seal(keys)
    .expect("seal");
    let ud = split_command(&p, ConcatRef::Eight(1))
        .expect("split")
        .remove(0);
    Body::SubmitSm(ShortMessage {
        source_addr: "12".into(),
        destination_addr: (BASE + card).to_string(),
        esm_class: ESM_UDHI,
        protocol_id: 0x7F,
        data_coding: 0xF6,
        short_message: ud,
        ..Default::default()
    })
}

fn recv(r: &mut impl Read) -> Pdu {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).expect("read");
    let mut b = vec![0u8; u32::from_be_bytes(len) as usize];
    b[..4].copy_from_slice(&len);
    r.read_exact(&mut b[4..]).expect("read");
    Pdu::parse(&b).expect("pdu")
}

/// One ESME: bind, then `n` round trips over `cards` consecutive cards from `first`; the
/// counters of round `round` start above those of earlier rounds.
fn esme(a: SocketAddr, first: u64, cards: u64, n: u64, round: u64) {
    let keys = keys();
    let mut w = TcpStream::connect(a).expect("connect");
    w.set_nodelay(true).expect("nodelay");
    let mut r = BufReader::new(w.try_clone().expect("clone"));
    let bind = bind_transceiver();
    w.write_all(&Pdu::new(1, bind).emit()).expect("write");
    assert_eq!(recv(&mut r).status, 0);
    let data = apdu::hex::decode("00A4000C022FE2 00B000000A").expect("hex");
    for k in 0..n {
        let sm = submit(
            &keys,
            &data,
            first + k % cards,
            round * 1_000_000 + k / cards + 1,
        );
        w.write_all(&Pdu::new(k as u32 + 2, sm).emit())
            .expect("write");
        assert_eq!(recv(&mut r).status, 0, "submit_sm_resp");
        let d = recv(&mut r);
        assert!(matches!(d.body, Body::DeliverSm(_)), "{d:?}");
        w.write_all(&Pdu::new(d.sequence, Body::DeliverSmResp).emit())
            .expect("write");
    }
}

/// A windowed ESME, as OTA platforms bind (SMPP 3.4 §2.6): one session with up to `window`
/// submit_sm outstanding; a reader thread answers each PoR deliver_sm at once. `n` round
/// trips over `cards` consecutive cards from `first`, counters of round `round`.
fn esme_windowed(a: SocketAddr, first: u64, cards: u64, n: u64, round: u64, window: u64) {
    use std::sync::{Arc, Condvar, Mutex};
    let keys = keys();
    let w = TcpStream::connect(a).expect("connect");
    w.set_nodelay(true).expect("nodelay");
    let mut r = BufReader::new(w.try_clone().expect("clone"));
    let w = Arc::new(Mutex::new(w));
    let bind = bind_transceiver();
    w.lock()
        .expect("w")
        .write_all(&Pdu::new(1, bind).emit())
        .expect("write");
    assert_eq!(recv(&mut r).status, 0);
    // (outstanding submit_sm, PoRs received)
    let state = Arc::new((Mutex::new((0u64, 0u64)), Condvar::new()));
    let reader = {
        let (w, state) = (w.clone(), state.clone());
        std::thread::spawn(move || loop {
            let p = recv(&mut r);
            let (m, cv) = &*state;
            match p.body {
                Body::SubmitSmResp(_) => {
                    assert_eq!(p.status, 0, "submit_sm_resp");
                    m.lock().expect("m").0 -= 1;
                    cv.notify_all();
                }
                Body::DeliverSm(_) => {
                    w.lock()
                        .expect("w")
                        .write_all(&Pdu::new(p.sequence, Body::DeliverSmResp).emit())
                        .expect("write");
                    let mut g = m.lock().expect("m");
                    g.1 += 1;
                    if g.1 == n {
                        return;
                    }
                }
                other => panic!("{other:?}"),
            }
        })
    };
    let data = apdu::hex::decode("00A4000C022FE2 00B000000A").expect("hex");
    for k in 0..n {
        let sm = submit(
            &keys,
            &data,
            first + k % cards,
            round * 1_000_000 + k / cards + 1,
        );
        {
            let (m, cv) = &*state;
            let mut g = m.lock().expect("m");
            while g.0 >= window {
                g = cv.wait(g).expect("cv");
            }
            g.0 += 1;
        }
        w.lock()
            .expect("w")
            .write_all(&Pdu::new(k as u32 + 2, sm).emit())
            .expect("write");
    }
    reader.join().expect("reader");
}

/// The baseline ESME: `n` round trips to the one card behind pySim-smpp2sim, counters from
/// `first_counter`. smpp2sim sends the PoR deliver_sm before the submit_sm_resp; either order
/// is taken; data coding 04, as pySim's smpp-ota-tool.py sends (smpp2sim's `dcs_is_8bit`
/// raises on the class-2 `F6`). Returns round trips per second.
fn smpp2sim_rate(a: SocketAddr, n: u64, first_counter: u64) -> f64 {
    let keys = keys();
    let mut w = TcpStream::connect(a).expect("connect smpp2sim");
    w.set_nodelay(true).expect("nodelay");
    let mut r = BufReader::new(w.try_clone().expect("clone"));
    let bind = bind_transceiver();
    w.write_all(&Pdu::new(1, bind).emit()).expect("write");
    assert_eq!(recv(&mut r).status, 0, "bind");
    let data = apdu::hex::decode("00A4000C022FE2 00B000000A").expect("hex");
    let t = Instant::now();
    for k in 0..n {
        let p = CommandPacket::new(
            Spi::from_u16(0x1619),
            &keys,
            Tar([0xB0, 0, 0]),
            Counter::new(first_counter + k).expect("counter"),
            data.clone(),
        )
        .seal(&keys)
        .expect("seal");
        let ud = split_command(&p, ConcatRef::Eight(1))
            .expect("split")
            .remove(0);
        let sm = Body::SubmitSm(ShortMessage {
            source_addr: "12".into(),
            destination_addr: BASE.to_string(),
            esm_class: ESM_UDHI,
            protocol_id: 0x7F,
            // 04 (8-bit), as smpp-ota-tool.py sends: smpp2sim fails on F6 (its dcs_is_8bit).
            data_coding: 0x04,
            short_message: ud,
            ..Default::default()
        });
        w.write_all(&Pdu::new(k as u32 + 2, sm).emit())
            .expect("write");
        let (mut resp, mut por) = (false, false);
        while !(resp && por) {
            let d = recv(&mut r);
            match d.body {
                Body::DeliverSm(_) => {
                    por = true;
                    w.write_all(&Pdu::new(d.sequence, Body::DeliverSmResp).emit())
                        .expect("write");
                }
                Body::SubmitSmResp(_) => {
                    assert_eq!(d.status, 0, "submit_sm_resp");
                    resp = true;
                }
                _ => {}
            }
        }
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        fleet: FleetConfig {
            cards: 100_000,
            msisdn_base: BASE,
        },
        ..Default::default()
    };
    let rss0 = rss_kib();
    let t = Instant::now();
    let s = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).expect("bind");
    let startup = t.elapsed();
    let rss1 = rss_kib();
    let a = s.local_addr().expect("addr");
    std::thread::spawn(move || s.serve());
    println!(
        "start-up, 100000 cards: {:.3} ms, RSS +{} KiB = {:.1} bytes per untouched card",
        startup.as_secs_f64() * 1e3,
        rss1.saturating_sub(rss0),
        rss1.saturating_sub(rss0) as f64 * 1024.0 / 100_000.0
    );

    // SMSC_BENCH_PROFILE=N: only N single-session round trips (see the top).
    if let Some(n) = std::env::var("SMSC_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        esme(a, 0, 100, 100, 1);
        let t = Instant::now();
        esme(a, 0, 100, n, 2);
        let dt = t.elapsed().as_secs_f64();
        println!("{n} single-session round trips: {:.0}/s", n as f64 / dt);
        return;
    }

    // Touch 1000 cards (one message each) and measure the resident memory they add.
    let before = rss_kib();
    let t = Instant::now();
    esme(a, 0, 1000, 1000, 0);
    let first = t.elapsed().as_secs_f64();
    let after = rss_kib();
    let live_kib = after.saturating_sub(before) as f64 / 1000.0;
    println!(
        "1000 cards touched, all live (first message each, card created): {first:.2} s, RSS +{} KiB, {:.1} KiB per live card",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / 1000.0
    );

    let mut single = 0.0;
    for (sessions, per) in [(1u64, 4000u64), (16, 500)] {
        let run = |per: u64, round: u64| {
            let hs: Vec<_> = (0..sessions)
                .map(|j| std::thread::spawn(move || esme(a, 10_000 + j * 100, 100, per, round)))
                .collect();
            for h in hs {
                h.join().expect("esme");
            }
        };
        // Warm-up (untimed): one message per card creates the cards.
        run(100, 1);
        // Three timed runs; the median is the result (a core busy with something else for
        // a moment shows as one slow run, not as the result).
        let n = sessions * per;
        let mut rates: Vec<f64> = (2..5)
            .map(|round| {
                let t = Instant::now();
                run(per, round);
                n as f64 / t.elapsed().as_secs_f64()
            })
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "OTA round trips through SMPP, {sessions} session(s), {n} per run, {} warm cards: median {:.0}/s (runs {:.0}, {:.0}, {:.0}/s)",
            sessions * 100,
            rates[1],
            rates[0],
            rates[1],
            rates[2]
        );
        if sessions == 1 {
            single = rates[1];
        }
    }

    // Persistent (`--state`): every acknowledged message is one fsynced redb commit of the
    // card's row — a delta from the fleet's template, and for comparison the whole state
    // (a store that keeps no template).
    for delta in [true, false] {
        let dir = std::env::temp_dir().join(format!("simota-bench-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let redb = std::sync::Arc::new(smsc::RedbStore::open(&dir).expect("store"));
        let store: std::sync::Arc<dyn smsc::FleetStore> = if delta {
            redb.clone()
        } else {
            std::sync::Arc::new(WholeRows(redb.clone()))
        };
        let cfg = ServerConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            fleet: FleetConfig {
                cards: 100_000,
                msisdn_base: BASE,
            },
            ..Default::default()
        };
        let s = Server::bind_with_store(
            cfg,
            profile_factory(uicc::Profile::default_profile()),
            Some(store),
        )
        .expect("bind");
        let a = s.local_addr().expect("addr");
        std::thread::spawn(move || s.serve());
        esme(a, 0, 100, 100, 1);
        let t = Instant::now();
        esme(a, 0, 100, 1000, 2);
        let dt = t.elapsed().as_secs_f64();
        let row = smsc::FleetStore::load(&*redb, 50)
            .ok()
            .flatten()
            .map_or(0, |r| r.len());
        println!(
            "OTA round trips through SMPP with --state (fsync per message), 1 session, rows as {}: 1000 in {dt:.2} s = {:.0}/s; a card's row {row} bytes",
            if delta { "deltas" } else { "whole states" },
            1000.0 / dt
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // One session with a window of 10 outstanding submit_sm (the same 100 warm cards as the
    // first single-session run).
    let t = Instant::now();
    esme_windowed(a, 10_000, 100, 8000, 5, 10);
    let dt = t.elapsed().as_secs_f64();
    println!(
        "OTA round trips through SMPP, 1 session, window 10: 8000 in {dt:.2} s = {:.0}/s",
        8000.0 / dt
    );

    if let Ok(addr) = std::env::var("SMPP2SIM") {
        let a: SocketAddr = addr.parse().expect("SMPP2SIM=HOST:PORT");
        // The served card starts fresh: counters 1.. (10 warm-up round trips).
        smpp2sim_rate(a, 10, 1);
        let rate = smpp2sim_rate(a, 300, 11);
        println!(
            "pySim-smpp2sim (one card through pcscd + vpcd), 1 session: {rate:.0}/s; \
             simota smsc 1 session: {single:.0}/s = {:.0}x",
            single / rate
        );
    }

    // Parking: a 100 000-card fleet with 256 live cards; touch N cards once each. Every card
    // beyond the 256 most recent is parked (its state kept as a delta, the card dropped).
    let n: u64 = std::env::var("SMSC_BENCH_TOUCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        fleet: FleetConfig {
            cards: 100_000,
            msisdn_base: BASE,
        },
        live_cards: 256,
        ..Default::default()
    };
    let s = Server::bind(cfg, profile_factory(uicc::Profile::default_profile())).expect("bind");
    let fleet = s.fleet();
    let a = s.local_addr().expect("addr");
    std::thread::spawn(move || s.serve());
    let before = rss_kib();
    let t = Instant::now();
    esme(a, 0, n, n, 0);
    let dt = t.elapsed().as_secs_f64();
    let after = rss_kib();
    let (parked, bytes) = fleet.parked().unwrap_or_default();
    println!(
        "{n} cards touched, 256 live: {dt:.1} s ({:.2} ms per card made and parked), RSS +{} KiB = {:.2} KiB per touched card; {parked} parked, their deltas {:.0} bytes per card; less 256 live cards at {live_kib:.0} KiB: {:.2} KiB per parked card",
        dt * 1e3 / n as f64,
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / n as f64,
        bytes as f64 / parked.max(1) as f64,
        (after.saturating_sub(before) as f64 - 256.0 * live_kib).max(0.0) / parked.max(1) as f64
    );
}
