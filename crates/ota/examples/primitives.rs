//! The floor under the AES build+parse benchmark: what the primitives alone cost for the
//! bytes of one 32-byte-payload packet (AES-CMAC over 50 bytes — ours from `ota::mac` and the
//! `cmac` crate's for comparison —, AES-CBC over 48 bytes each way, and one 48-byte
//! allocation), CPU time per call.
//!
//! `cargo run --release -p simota-ota --example primitives`
use aes::Aes128;
use cipher::block_padding::NoPadding;
use cipher::{Array, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use cmac::Mac;
use std::hint::black_box;

fn cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}

fn time(name: &str, n: u32, mut f: impl FnMut()) {
    for _ in 0..n / 10 {
        f();
    }
    let t = cpu_ns();
    for _ in 0..n {
        f();
    }
    let d = cpu_ns() - t;
    println!("{name}: {:.1} ns", d as f64 / f64::from(n));
}

fn main() {
    let aes = Aes128::new_from_slice(&[0x11; 16]).unwrap();
    let ours = ota::mac::Cmac::new(aes.clone());
    let mut buf = [0u8; 58];
    let n = 3_000_000;
    time("ota::mac::Cmac 50B (two slices)", n, || {
        let mut out = [0u8; 16];
        black_box(&ours).tag(&[&buf[..16], &buf[18..52]], &mut out);
        black_box(out);
    });
    let proto = <cmac::Cmac<Aes128> as cmac::KeyInit>::new_from_slice(&[0x11; 16]).unwrap();
    time("cmac crate 0.8 50B (clone of a keyed MAC)", n, || {
        let mut m = black_box(&proto).clone();
        m.update(&buf[..16]);
        m.update(&buf[18..52]);
        black_box(m.finalize().into_bytes());
    });
    time("aes 1 block", n, || {
        let mut b = Array::from([7u8; 16]);
        black_box(&aes).encrypt_block(&mut b);
        black_box(b);
    });
    time("cbc enc 48B", n, || {
        cbc::Encryptor::<&Aes128>::inner_iv_init(black_box(&aes), &Array::default())
            .encrypt_padded::<NoPadding>(&mut buf[10..58], 48)
            .unwrap();
        black_box(&buf);
    });
    time("cbc dec 48B", n, || {
        cbc::Decryptor::<&Aes128>::inner_iv_init(black_box(&aes), &Array::default())
            .decrypt_padded::<NoPadding>(&mut buf[10..58])
            .unwrap();
        black_box(&buf);
    });
    time("vec 48 alloc+copy+free", n, || {
        let v = black_box(&buf[10..58]).to_vec();
        black_box(v);
    });
}
