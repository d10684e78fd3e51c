//! simota's Java Card VM, sans-IO: the CAP file reader — the ZIP container and the
//! components of JCVM Specification 3.0.5 chapter 6 (also JC 2.1.x/2.2.x CAPs) as typed
//! values, with structural verification ([`cap`]); linking against the built-in API
//! packages ([`link`], token tables in [`api::tokens`]); the object heap ([`heap`]), the
//! interpreter ([`interp`], [`frames`]), the Rust natives of the API ([`natives`] is the
//! seam, [`api`] the implementations, [`api::toolkit`] the SIM Toolkit APIs `sim.toolkit` of
//! TS 43.019 and `uicc.toolkit` of TS 102 241 over the card's [`api::toolkit::ToolkitHost`])
//! and the JCRE entry points the card calls ([`jcre`]: install, select, deselect, process,
//! process_toolkit / resume_toolkit); library packages linked from the card's loaded
//! packages ([`link::link_with_card`]) and Shareable interface objects between instances
//! ([`sio`], JCRE Spec 3.0.5 §6.2.4).

pub mod api;
pub mod asm;
pub mod bytecode;
pub mod cap;
pub mod error;
pub mod frames;
pub mod heap;
pub mod interp;
pub mod jcre;
pub mod link;
pub mod names;
pub mod natives;
pub mod reader;
pub mod sio;
pub mod vm;
pub mod zip;

pub use cap::CapFile;
pub use error::CapError;
