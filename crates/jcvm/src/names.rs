//! Names of the well-known API packages by AID (JC API spec; ETSI TS 102 241 / TS 143 019;
//! GlobalPlatform Card Spec), for display.

/// Known package AIDs (upper-case hex) and their names.
pub const KNOWN_PACKAGES: &[(&str, &str)] = &[
    ("A0000000620001", "java.lang"),
    ("A0000000620002", "java.io"),
    ("A0000000620003", "java.rmi"),
    ("A0000000620101", "javacard.framework"),
    ("A000000062010101", "javacard.framework.service"),
    ("A0000000620102", "javacard.security"),
    ("A0000000620201", "javacardx.crypto"),
    ("A0000000620209", "javacardx.apdu"),
    ("A0000000090003FFFFFFFF8910710001", "sim.access"),
    ("A0000000090003FFFFFFFF8910710002", "sim.toolkit"),
    ("A0000000090005FFFFFFFF8911000000", "uicc.access"),
    (
        "A0000000090005FFFFFFFF8911010000",
        "uicc.access.fileadministration",
    ),
    ("A0000000090005FFFFFFFF8912000000", "uicc.toolkit"),
    ("A0000000090005FFFFFFFF8913000000", "uicc.system"),
    ("A00000015100", "org.globalplatform"),
];

/// The name of the package with this AID, when it is a known API package.
pub fn package_name(aid: &[u8]) -> Option<&'static str> {
    let h = crate::cap::hex(aid);
    KNOWN_PACKAGES
        .iter()
        .find(|(a, _)| *a == h)
        .map(|(_, n)| *n)
}
