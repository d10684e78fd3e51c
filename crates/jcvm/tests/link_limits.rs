//! The linker's limits (JCVM Spec 3.0.5 §6.9 Class component, §7.5 instance fields): a
//! superclass chain whose instance fields need more than 65535 cells is a `LinkError` naming
//! the class, never a wrapped count (which would make objects overlap) or a panic; a chain
//! just under the limit links.

use jcvm::cap::{ClassInfo, ClassRef};
use jcvm::CapFile;

fn wallet() -> CapFile {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/jcsim-wallet.cap"
    ))
    .unwrap();
    CapFile::from_zip(&b).unwrap()
}

/// The Wallet with `n` more classes appended, each declaring 255 instance cells, each the
/// subclass of the one before; the first extends the Wallet's own applet class.
fn with_chain(n: u16) -> CapFile {
    let mut cap = wallet();
    let base = cap.classes[0].clone();
    let top = cap.classes.iter().map(|c| c.offset).max().unwrap();
    let mut parent = base.offset;
    for i in 0..n {
        let offset = top + 1000 + i;
        cap.classes.push(ClassInfo {
            offset,
            super_class: Some(ClassRef::Internal(parent)),
            declared_instance_size: 255,
            first_reference_token: 0xFF,
            reference_count: 0,
            interfaces: Vec::new(),
            ..base.clone()
        });
        parent = offset;
    }
    cap
}

#[test]
fn instance_fields_over_65535_cells_are_refused_at_link() {
    let declared_by_base = u32::from(wallet().classes[0].declared_instance_size);
    // 257 × 255 = 65535: fits only if the Wallet's class declares nothing; 258 never fits.
    let e = jcvm::link::link(with_chain(258), 0, jcvm::jcre::PACKAGE_CONTEXT).unwrap_err();
    assert!(e.0.contains("exceed 65535"), "{e:?}");
    assert!(e.0.starts_with("class at "), "names the class: {e:?}");
    // A chain whose total stays within 65535 cells links.
    let n = ((65535 - declared_by_base) / 255 - 1) as u16;
    assert!(jcvm::link::link(with_chain(n), 0, jcvm::jcre::PACKAGE_CONTEXT).is_ok());
}
