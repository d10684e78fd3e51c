//! Issue 18 acceptance: a large committed set of good OpenSSL RSA-2048 keys raises nothing —
//! no ROCA fingerprint, no shared prime across the whole set (batch GCD), no small factor, no
//! close primes, no policy finding, no duplicate, and unbiased MSB statistics.
//! The set is made by `tools/gen-openssl-rsa-moduli` (gzip'd keyaudit CSV).

use flate2::read::GzDecoder;
use keyaudit::{audit, read, Options};
use std::io::Read;
use std::path::PathBuf;

const FILE: &str = "openssl-rsa2048-bulk.csv.gz";

#[test]
fn bulk_openssl_keys_raise_nothing() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/keyaudit")
        .join(FILE);
    let mut text = Vec::new();
    GzDecoder::new(std::fs::File::open(&path).expect("bulk vector file"))
        .read_to_end(&mut text)
        .expect("gzip");
    // The header comment states the count: "# N RSA-2048 public keys ...".
    let stated: usize = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.strip_prefix("# "))
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("count in the header");
    let keys = read::parse(FILE, &text).expect("parse");
    assert_eq!(keys.len(), stated);
    assert!(keys.len() >= 1000, "{}", keys.len());
    let r = audit(
        &keys,
        &Options {
            msb: true,
            ..Options::default()
        },
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let msb = r.msb.expect("statistics");
    assert!(!msb.biased, "{msb:?}");
}
