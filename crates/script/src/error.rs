//! Script errors: where (file:line:column), the offending line, a caret under the column, and
//! what was expected.

use std::fmt;
use std::sync::Arc;
use thiserror::Error;

/// A position in a script file (1-based line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The file name as given (or as resolved for includes).
    pub file: Arc<str>,
    /// The 1-based line number where the statement starts.
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A syntax error in a script, rendered like a compiler diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file the error is in.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The text of the (logical) line.
    pub text: String,
    /// What was expected and what was found.
    pub message: String,
}

impl ParseError {
    /// Build an error at byte offset `offset` of `text`.
    pub fn at(
        file: &str,
        line: usize,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let offset = offset.min(text.len());
        let column = text.get(..offset).map_or(offset, |s| s.chars().count()) + 1;
        ParseError {
            file: file.to_string(),
            line,
            column,
            text: text.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        let shown: String = self
            .text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        writeln!(f, "  {shown}")?;
        write!(f, "  {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

impl std::error::Error for ParseError {}

/// Anything that stops a script from being loaded.
#[derive(Debug, Error)]
pub enum ScriptError {
    /// A syntax error.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_column() {
        let e = ParseError::at(
            "t.apdu",
            3,
            "00 A4 0G",
            7,
            "expected a hex digit, found `G`",
        );
        assert_eq!(e.column, 8);
        assert_eq!(
            e.to_string(),
            "t.apdu:3:8: expected a hex digit, found `G`\n  00 A4 0G\n         ^"
        );
    }
}
