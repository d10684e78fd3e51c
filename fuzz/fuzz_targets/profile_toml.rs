//! Feeds random text to `Profile::from_toml_str`; valid profiles must also build a card.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match uicc::Profile::from_toml_str(text) {
        Ok(p) => {
            if let Ok(mut card) = uicc::Card::new(p) {
                let _ = card.process(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00, 0x00]);
            }
        }
        Err(e) => assert!(e.position().is_some(), "text errors carry a position"),
    }
});
