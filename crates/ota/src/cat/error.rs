//! Errors of the CAT codec: every one names the object and the offset it was found at.

use apdu::tlv::TlvError;
use thiserror::Error;

/// Why CAT data could not be decoded or encoded. Offsets count from the first byte handed to
/// the `parse` function (for a proactive command: the `D0` tag).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatError {
    /// The TLV structure itself is broken (COMPREHENSION-TLV or BER-TLV framing).
    #[error("TLV framing: {0}")]
    Tlv(#[from] TlvError),
    /// The outer BER-TLV template tag is not the one expected.
    #[error(
        "offset {offset}: expected {expected} (tag {expected_tag:02X}), found tag {found:02X}"
    )]
    Template {
        /// Offset of the tag.
        offset: usize,
        /// What was expected.
        expected: &'static str,
        /// The tag expected.
        expected_tag: u8,
        /// The tag found.
        found: u8,
    },
    /// Bytes after the end of the outer template.
    #[error("offset {offset}: {len} byte(s) after the end of the {what}")]
    Trailing {
        /// Offset of the first extra byte.
        offset: usize,
        /// How many extra bytes.
        len: usize,
        /// The object they follow.
        what: &'static str,
    },
    /// A mandatory data object is absent.
    #[error("{context}: mandatory {object} data object (tag {tag:02X}) is missing")]
    Missing {
        /// The message being decoded.
        context: &'static str,
        /// The missing object.
        object: &'static str,
        /// Its tag (without CR).
        tag: u8,
    },
    /// A data object is present but its value is malformed.
    #[error("offset {offset}: {object}: {reason}")]
    BadValue {
        /// Offset of the object's tag.
        offset: usize,
        /// The object.
        object: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A value cannot be encoded as asked (for example a character outside the GSM alphabet).
    #[error("cannot encode {object}: {reason}")]
    Encode {
        /// The object.
        object: &'static str,
        /// What is wrong.
        reason: String,
    },
}
