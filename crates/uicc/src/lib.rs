//! `uicc`: the emulated UICC of simota.
//!
//! A sans-IO card ([`Card::process`] takes a C-APDU and returns the R-APDU; [`Card::reset`]
//! returns the ATR) that behaves like a real UICC closely enough for PC/SC and SIM tools:
//!
//! * ETSI TS 102 221: ATR, T=0 response handling (`61xx`, `6Cxx`, GET RESPONSE), logical
//!   channels 0–19 (§11.1.17), the file system with MF/DF/ADF and transparent, linear fixed,
//!   cyclic and BER-TLV EFs (§8, §11.1, §11.3), FCP templates (§11.1.1.3), EF.ARR access rules
//!   (§9.2), PINs (§9.5, §11.1.9–13), status words (§10.2).
//! * 3GPP TS 31.102 §7.1.2 AUTHENTICATE with MILENAGE (TS 35.206) and TS 33.102 Annex C
//!   sequence-number handling ([`milenage`]).
//! * 3GPP TS 51.011 GSM SIM mode: the class `A0` command set on the same files and PINs,
//!   RUN GSM ALGORITHM from MILENAGE via c2/c3 ([`gsm_sim`]).
//! * Card profiles in TOML ([`Profile`]), with a built-in USIM profile.
//! * An applet runtime shaped like Java Card / TS 102 241 ([`applet`]).
//! * A persistent store with atomic per-APDU commits, JavaCard-style transactions and a
//!   tearing hook ([`store`], [`Card::tear_after_writes`]).
//!
//! The card never touches files, sockets or clocks except through its [`Store`] and its
//! injected [`rng::RandomSource`].

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod access;
pub mod applet;
pub mod atr;
pub mod card;
pub mod cat;
mod cmd_auth;
mod cmd_fs;
mod cmd_pin;
pub mod fs;
pub mod gsm_sim;
mod hexser;
pub mod isd;
pub mod java_applet;
pub mod menu_applet;
pub mod milenage;
pub mod nv;
pub mod ota_concat;
pub mod ota_receiver;
pub mod profile;
pub mod ram;
pub mod remote;
pub mod rfm;
pub mod rng;
pub mod store;
pub mod subscriber;
pub mod toolkit;
pub mod txn;

pub use applet::{Applet, AppletClass, AppletContext, AppletRegistry, ToolkitEvent};
pub use card::{Card, CardError, CardOptions};
pub use nv::NvState;
pub use profile::{Profile, ProfileError};
pub use remote::RemoteSession;
pub use store::{FileStore, MemoryStore, Store, StoreError};
