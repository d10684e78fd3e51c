//! The script syntax tree shared by both input formats.

use crate::error::Loc;
use crate::pattern::Pattern;
use std::collections::HashMap;
use std::sync::Arc;
use transport::ResetKind;

/// A piece of a hex template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// The value of a variable, substituted when the statement runs.
    Var(String),
}

/// Hex with `$name` references, expanded at run time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HexTemplate {
    /// The pieces in order.
    pub pieces: Vec<Piece>,
}

impl HexTemplate {
    /// A template of literal bytes.
    pub fn literal(b: Vec<u8>) -> Self {
        HexTemplate {
            pieces: vec![Piece::Bytes(b)],
        }
    }
    /// The bytes, if the template has no variables.
    pub fn as_literal(&self) -> Option<&[u8]> {
        match self.pieces.as_slice() {
            [] => Some(&[]),
            [Piece::Bytes(b)] => Some(b),
            _ => None,
        }
    }
    /// Expand with the current variables; `Err(name)` names an undefined variable.
    pub fn expand(&self, vars: &HashMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
        if let Some(b) = self.as_literal() {
            return Ok(b.to_vec());
        }
        let mut out = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::Var(n) => out.extend_from_slice(vars.get(n).ok_or_else(|| n.clone())?),
            }
        }
        Ok(out)
    }
}

/// An expectation: an optional capture variable and a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `$name=` — where to store the captured bytes.
    pub capture: Option<String>,
    /// The pattern the response must match.
    pub pattern: Pattern,
}

/// A scripted answer of the user to the next proactive command (the terminal's "user").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAnswer {
    /// Press OK / accept.
    Ok,
    /// Cancel (session terminated by the user).
    Cancel,
    /// Backward move.
    Back,
    /// No response from the user.
    Timeout,
    /// Type this text.
    Input(String),
    /// Select this item identifier.
    Item(u8),
}

/// Expected proof of receipt of an SMS-PP OTA message (TS 102 225 §5.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PorExpect {
    /// The response status code (TS 102 225 table 5.5; `00` = PoR OK).
    pub status: u8,
    /// A pattern for the additional response data (for RFM/RAM: the remote APDU results).
    pub data: Option<Pattern>,
}

/// An SMS-PP OTA message to deliver by ENVELOPE (TS 102 225 / TS 31.115).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPpDirective {
    /// The keyset name or number known to the terminal/OTA side.
    pub keyset: String,
    /// The TAR (3 bytes).
    pub tar: HexTemplate,
    /// The secured data (e.g. remote APDUs) before securing.
    pub data: HexTemplate,
    /// The SPI, when overridden (`spi=1621`).
    pub spi: Option<[u8; 2]>,
    /// Other `key=value` options, passed through to the toolkit.
    pub options: Vec<(String, String)>,
    /// The PoR expectation (`=> por STATUS [pattern]`).
    pub expect: Option<PorExpect>,
}

/// Directives executed by the terminal (CAT) through [`crate::Toolkit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolkitDirective {
    /// `terminal-profile HEX`: send TERMINAL PROFILE.
    TerminalProfile(HexTemplate),
    /// `user …`: queue an answer for the next proactive command needing the user.
    User(UserAnswer),
    /// `fetch-all`: run the proactive loop until the card has nothing pending.
    FetchAll,
    /// `sms-pp …`: deliver an OTA message by SMS-PP download.
    SmsPp(SmsPpDirective),
    /// `menu N`: MENU SELECTION envelope for item N.
    Menu(u8),
}

impl ToolkitDirective {
    /// The directive keyword, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            ToolkitDirective::TerminalProfile(_) => "terminal-profile",
            ToolkitDirective::User(_) => "user",
            ToolkitDirective::FetchAll => "fetch-all",
            ToolkitDirective::SmsPp(_) => "sms-pp",
            ToolkitDirective::Menu(_) => "menu",
        }
    }
}

/// What a statement does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StmtKind {
    /// Send a C-APDU, optionally checking the response.
    Apdu {
        /// The command bytes (with variables).
        command: HexTemplate,
        /// The expectation, if any.
        expect: Option<Expect>,
    },
    /// Reset the card (native `reset`, apdutool `powerup;`), optionally checking the ATR.
    Reset {
        /// Cold or warm.
        kind: ResetKind,
        /// ATR pattern.
        expect: Option<Expect>,
    },
    /// apdutool `powerup;` (a cold reset).
    PowerUp,
    /// apdutool `powerdown;`.
    PowerDown,
    /// `set NAME HEX`.
    Set {
        /// The variable.
        name: String,
        /// Its new value.
        value: HexTemplate,
    },
    /// `echo "text"`.
    Echo(String),
    /// `delay MS`.
    Delay(u64),
    /// apdutool `output on|off;`.
    Output(bool),
    /// apdutool `contacted;` / `contactless;` (recorded, no effect).
    Interface(String),
    /// `exit`: stop the script here.
    Exit,
    /// A terminal (CAT/OTA) directive.
    Toolkit(ToolkitDirective),
}

/// One statement with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// Source position.
    pub loc: Loc,
    /// The statement as written (comments stripped, continuation lines joined).
    pub source: Arc<str>,
    /// What it does.
    pub kind: StmtKind,
}

/// Which input syntax a script uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The native line format (a superset of pcsc-tools `scriptor` input).
    Native,
    /// Java Card SDK `apdutool` (`.scr`).
    Apdutool,
}

impl Format {
    /// Guess from the file name: `.scr` is apdutool, anything else native.
    pub fn from_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".scr") {
            Format::Apdutool
        } else {
            Format::Native
        }
    }
}

/// A parsed script (includes already inlined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The script's name (its path as given).
    pub name: String,
    /// The syntax it was read in.
    pub format: Format,
    /// The statements in order.
    pub stmts: Vec<Stmt>,
}
