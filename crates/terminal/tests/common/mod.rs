//! Shared by the Java SIM Toolkit applet tests: the default card with one CAP's applet
//! classes registered and the applet `aid` installed (instance AID = class AID), behind the
//! emulator.

use transport::Emulator;

/// The default profile's card with `test-vectors/cap/<file>` installed as `aid`.
pub fn card_with_cap(file: &str, aid: &[u8]) -> Emulator {
    let b = std::fs::read(format!(
        "{}/../../test-vectors/cap/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let cap = jcvm::CapFile::from_zip(&b).unwrap();
    let mut registry = uicc::AppletRegistry::builtin();
    for c in uicc::java_applet::JavaAppletClass::from_cap(cap).unwrap() {
        registry.register(c);
    }
    let mut card = uicc::Card::with_options(
        uicc::Profile::default_profile(),
        uicc::CardOptions {
            store: Box::new(uicc::MemoryStore::new()),
            registry,
            rng: None,
        },
    )
    .unwrap();
    card.install_applet(aid, aid, &[], uicc::nv::life_cycle::SELECTABLE, false)
        .unwrap();
    Emulator::new(card)
}
