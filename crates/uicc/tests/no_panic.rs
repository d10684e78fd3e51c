//! Random and mutated APDUs never panic and always get a status word (the fuzz target's
//! property, run as a property test in CI).

use proptest::prelude::*;
use uicc::{Card, Profile};

/// Commands worth mutating: one of each family the card handles.
const TEMPLATES: &[&str] = &[
    "00A4000402 2FE2 00",
    "00A4080C04 7FF0 6F07",
    "00A4040C10 A0000000871002FF44FFFF8900000100",
    "00B0000009",
    "00D6000001 00",
    "00B2010404",
    "00DC010404 11F2FF00",
    "00A2010402 19F1 00",
    "8032000001 05 00",
    "80F2000000",
    "0020000108 31323334FFFFFFFF",
    "002C000110 3132333435363738 31313131FFFFFFFF",
    "0070000001",
    "00040000",
    "80CB000002 DF20 00",
    "80DB010004 8102ABCD",
    "00880081 22 10 23553CBE9637A89D218AE64DAE47BF35 10 AA689C6483538000EB318659D78C64C3 00",
    "00A4040009 F073696D6F74610101",
];

fn check(card: &mut Card, apdu: &[u8]) -> Result<(), TestCaseError> {
    let r = card.process(apdu);
    prop_assert!(r.len() >= 2, "no status word for {:02X?}", apdu);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(seq in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..20)) {
        let mut card = Card::new(Profile::default_profile()).unwrap();
        for a in &seq {
            check(&mut card, a)?;
        }
    }

    #[test]
    fn mutated_templates(ops in proptest::collection::vec((0..TEMPLATES.len(), 0usize..48, any::<u8>(), any::<bool>()), 1..24)) {
        let mut card = Card::new(Profile::default_profile()).unwrap();
        for (t, pos, val, truncate) in ops {
            let mut a = apdu::hex::decode(TEMPLATES[t]).unwrap();
            if truncate {
                a.truncate(pos);
            } else if let Some(b) = a.get_mut(pos) {
                *b = val;
            }
            check(&mut card, &a)?;
        }
    }
}
