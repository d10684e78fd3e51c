//! The floor under the AES build+parse benchmark: what the RustCrypto primitives alone cost
//! for the bytes of one 32-byte-payload packet (AES-CMAC over 50 bytes, AES-CBC over 48 bytes
//! each way, and one 48-byte allocation), CPU time per call.
//!
//! `cargo run --release -p simota-ota --example primitives`
use aes::Aes128;
use cipher::block_padding::NoPadding;
use cipher::crypto_common::InnerInit;
use cipher::generic_array::GenericArray;
use cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use cmac::{Cmac, CmacCore, Mac};
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
    let mut buf = [0u8; 58];
    let n = 3_000_000;
    time("cmac 50B", n, || {
        let mut m = Cmac::<&Aes128>::from_core(CmacCore::inner_init(black_box(&aes)));
        m.update(&buf[..16]);
        m.update(&buf[18..52]);
        black_box(m.finalize().into_bytes());
    });
    let proto = <Cmac<Aes128> as Mac>::new_from_slice(&[0x11; 16]).unwrap();
    time("cmac 50B clone proto", n, || {
        let mut m = black_box(&proto).clone();
        m.update(&buf[..16]);
        m.update(&buf[18..52]);
        black_box(m.finalize().into_bytes());
    });
    time("cmac 50B one slice", n, || {
        let mut m = Cmac::<&Aes128>::from_core(CmacCore::inner_init(black_box(&aes)));
        m.update(&buf[..50]);
        black_box(m.finalize().into_bytes());
    });
    time("cmac 50B core", n, || {
        use cmac::digest::core_api::{Buffer, FixedOutputCore, UpdateCore};
        let mut core = CmacCore::<&Aes128>::inner_init(black_box(&aes));
        let b = black_box(&buf);
        for c in b[..48].chunks_exact(16) {
            core.update_blocks(core::slice::from_ref(GenericArray::from_slice(c)));
        }
        let mut bb = Buffer::<CmacCore<&Aes128>>::default();
        bb.digest_blocks(&b[48..50], |_| {});
        let mut out = GenericArray::default();
        core.finalize_fixed_core(&mut bb, &mut out);
        black_box(out);
    });
    time("cmac 0B", n, || {
        let m = Cmac::<&Aes128>::from_core(CmacCore::inner_init(black_box(&aes)));
        black_box(m.finalize().into_bytes());
    });
    time("cmac 16B", n, || {
        let mut m = Cmac::<&Aes128>::from_core(CmacCore::inner_init(black_box(&aes)));
        m.update(&buf[..16]);
        black_box(m.finalize().into_bytes());
    });
    time("aes 1 block", n, || {
        use cipher::BlockEncrypt;
        let mut b = GenericArray::clone_from_slice(&buf[..16]);
        black_box(&aes).encrypt_block(&mut b);
        black_box(b);
    });
    time("cbc enc 48B", n, || {
        cbc::Encryptor::<&Aes128>::inner_iv_init(black_box(&aes), &GenericArray::default())
            .encrypt_padded_mut::<NoPadding>(&mut buf[10..58], 48)
            .unwrap();
        black_box(&buf);
    });
    time("cbc dec 48B", n, || {
        cbc::Decryptor::<&Aes128>::inner_iv_init(black_box(&aes), &GenericArray::default())
            .decrypt_padded_mut::<NoPadding>(&mut buf[10..58])
            .unwrap();
        black_box(&buf);
    });
    time("vec 48 alloc+copy+free", n, || {
        let v = black_box(&buf[10..58]).to_vec();
        black_box(v);
    });
}
