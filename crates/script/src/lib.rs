//! `script`: APDU scripts for simota — one script, any card.
//!
//! * [`native`]: the line-based `.apdu` format, a superset of pcsc-tools `scriptor` input
//!   (interop notes §5.2) with pySim-style expectations (§5.4): `=> PATTERN` where `?` is a
//!   nibble and `*` any bytes, captures `=> $name=…`, `set`, `include`, and terminal
//!   directives (`terminal-profile`, `user`, `fetch-all`, `sms-pp`, `menu`).
//! * [`apdutool`]: Java Card SDK `apdutool` `.scr` scripts (interop notes §5.1).
//! * [`runner`]: executes a script over any [`transport::Transport`], recording the wire and
//!   giving ISO 7816-4 case-4 semantics through [`transport::T0Adapter`] where an expectation
//!   wants the data.
//! * [`report`]: text, scriptor and apdutool transcripts, JSON Lines, JUnit XML.
//! * [`toolkit`]: the seam to the terminal (CAT/OTA) that executes terminal directives.

pub mod apdutool;
pub mod ast;
pub mod error;
pub mod native;
pub mod pattern;
pub mod report;
pub mod runner;
pub mod toolkit;

pub use ast::{Format, Script, Stmt, StmtKind};
pub use error::{Loc, ParseError, ScriptError};
pub use pattern::Pattern;
pub use report::TranscriptFormat;
pub use runner::{Check, Outcome, RunOptions, Runner, ScriptRun, Step};
pub use toolkit::{Por, Toolkit, ToolkitCommand, ToolkitError, ToolkitOutcome};

/// Parse script text in the given format (`include` reads through `loader`).
pub fn parse_str(
    name: &str,
    text: &str,
    format: Format,
    loader: &mut dyn native::Loader,
) -> Result<Script, ScriptError> {
    let stmts = match format {
        Format::Native => native::parse(name, text, loader)?,
        Format::Apdutool => apdutool::parse(name, text)?,
    };
    Ok(Script {
        name: name.to_string(),
        format,
        stmts,
    })
}

/// Read and parse a script file; the format comes from `format` or else the file extension.
pub fn load(path: &str, format: Option<Format>) -> Result<Script, ScriptError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Io {
        path: path.to_string(),
        source,
    })?;
    parse_str(
        path,
        &text,
        format.unwrap_or_else(|| Format::from_path(path)),
        &mut native::FsLoader,
    )
}
