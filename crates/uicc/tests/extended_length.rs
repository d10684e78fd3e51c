//! Extended-length commands (ISO/IEC 7816-4 §5.1) reach a Java Card applet that implements
//! `javacardx.apdu.ExtendedLength` through the card (test-vectors/cap/simota-extlen.cap from
//! a profile's `[[applet]] cap`), and the answer of more than 256 bytes comes back whole; the
//! same command to an applet without it is 6700.

use uicc::{Card, Profile};

fn card() -> Card {
    let text = format!(
        "{}\n[[applet]]\ncap = \"simota-extlen.cap\"\naid = \"F073696D6F74615801\"\n\
         [[applet]]\ncap = \"jcsim-wallet.cap\"\naid = \"D1560001320A64656D9F01\"\nparams = \"01020304\"\n",
        Profile::default_profile().to_toml()
    );
    let dir = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap"
    ));
    Card::new(Profile::from_toml_str_in(&text, &dir).unwrap()).unwrap()
}

fn h(s: &str) -> Vec<u8> {
    apdu::hex::decode(s).unwrap()
}

#[test]
fn extended_commands_reach_extended_length_applets() {
    let mut c = card();
    assert_eq!(c.process(&h("00A4040009F073696D6F74615801")), h("9000"));
    // Echo 1000 bytes: 80 10 00 00 | 00 03E8 | data | Le 0000 (65536).
    let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let mut apdu = h("8030000000 03E8");
    apdu.extend_from_slice(&data);
    apdu.extend_from_slice(&[0x00, 0x00]);
    let r = c.process(&apdu);
    assert_eq!(&r[r.len() - 2..], &[0x90, 0x00]);
    assert_eq!(&r[..r.len() - 2], data.as_slice());
    // 600 bytes asked for with an extended Le (no data): 80 14 0258 | 00 0258.
    let r = c.process(&h("8034025800 0258"));
    assert_eq!(r.len(), 602, "{:02X?}", &r[r.len() - 2..]);
    // The Wallet does not implement ExtendedLength: GET BALANCE in extended form is 6700.
    assert_eq!(c.process(&h("00A404000BD1560001320A64656D9F01")), h("9000"));
    assert_eq!(c.process(&h("8050000000 0002")), h("6700"));
    assert_eq!(c.process(&h("8050000002")), h("00009000"));
}
