//! Hostile input never panics: random and mutated bytes through the readers, arbitrary small
//! RSA parameters and EC points through the audit.

use keyaudit::{audit, read, BigUint, Curve, KeyKind, Options, PublicKey};
use proptest::prelude::*;

fn der_spki() -> Vec<u8> {
    let pem = std::fs::read(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../test-vectors/keyaudit/roca/pubkey01.pem"),
    )
    .unwrap();
    der::pem::decode_vec(&pem).unwrap().1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn readers_do_not_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read::parse("x", &data);
    }

    #[test]
    fn mutated_der_does_not_panic(pos in 0usize..294, byte in any::<u8>(), cut in 0usize..294) {
        let mut d = der_spki();
        let p = pos % d.len();
        d[p] = byte;
        d.truncate(cut.max(1));
        let _ = read::parse("x.der", &d);
    }

    #[test]
    fn audit_does_not_panic(ns in proptest::collection::vec((any::<u64>(), any::<u32>()), 1..20),
                            point in proptest::collection::vec(any::<u8>(), 0..70)) {
        let mut keys: Vec<PublicKey> = ns
            .iter()
            .enumerate()
            .map(|(i, (n, e))| PublicKey {
                label: format!("k{i}"),
                kind: KeyKind::Rsa { n: BigUint::from(*n), e: BigUint::from(*e) },
            })
            .collect();
        keys.push(PublicKey {
            label: "ec".into(),
            kind: KeyKind::Ec { curve: Curve::Named("1.2.840.10045.3.1.7".into()), point },
        });
        let r = audit(&keys, &Options { msb: true, ..Options::default() });
        prop_assert_eq!(r.keys, keys.len());
    }
}
