//! simota's Java Card VM pieces, sans-IO. Today: the CAP file reader — the ZIP container and
//! the components of JCVM Specification 3.0.5 chapter 6 (also JC 2.1.x/2.2.x CAPs) as typed
//! values, with structural verification: every offset, count and size checked against the
//! Directory and the component bounds, and a bad CAP refused with an error naming the
//! component and the offset.

pub mod api;
pub mod bytecode;
pub mod cap;
pub mod error;
pub mod names;
pub mod reader;
pub mod zip;

pub use cap::CapFile;
pub use error::CapError;
