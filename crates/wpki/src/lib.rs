//! simota-wpki: an Alauda-style WPKI mobile-signature applet for the emulated UICC and its
//! MSSP-side client.
//!
//! * [`profile`]: ETSI MSS signature profile URIs (`mss:<name>:<op>:<loa>:<sscd>`), matching.
//! * [`protocol`]: the request/answer TLV protocol in the OTA secured data (see `PROTOCOL.md`),
//!   end-to-end protection, answer segmentation.
//! * [`keys`]: key groups, PIN/PUK, on-card key generation, signing, split-key RSA.
//! * [`applet`]: the sans-IO applet core: requests in, user interactions and answers out.
//! * [`state`]: the applet's persistent state and its image; [`text`]: dialogue texts;
//!   [`shown`]: checks that what the user is shown fits one proactive command and hides nothing.
//! * [`uicc_applet`]: the applet class for the emulated UICC (toolkit events, proactive
//!   dialogues, persistent field, SIM menu entry).
//! * [`client`]: the host (MSSP) side: request building, answer checking, verification.
//!
//! Cryptography is RustCrypto throughout (rsa, p256, p384, ecdsa, sha2, aes, cbc, cmac).

pub mod applet;
pub mod client;
pub mod keys;
pub mod profile;
pub mod protocol;
pub mod shown;
pub mod state;
pub mod text;
pub mod tlv;
pub mod uicc_applet;

pub use zeroize;
