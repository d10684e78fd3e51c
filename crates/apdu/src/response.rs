//! Response APDUs: body data followed by the status word SW1 SW2 (ISO/IEC 7816-4 §5.1).

use crate::sw::StatusWord;
use thiserror::Error;

/// An R-APDU that is too short to carry a status word.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("offset {len}: R-APDU needs at least SW1 SW2 (2 bytes), got {len}")]
pub struct ResponseError {
    /// Number of bytes received.
    pub len: usize,
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ResponseApdu {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// SW1 SW2.
    pub sw: StatusWord,
}

impl ResponseApdu {
    /// A response with data and status word.
    pub fn new(data: impl Into<Vec<u8>>, sw: impl Into<StatusWord>) -> Self {
        ResponseApdu {
            data: data.into(),
            sw: sw.into(),
        }
    }

    /// A data-less response carrying only a status word.
    pub fn status(sw: impl Into<StatusWord>) -> Self {
        ResponseApdu {
            data: Vec::new(),
            sw: sw.into(),
        }
    }

    /// Parse `data ‖ SW1 ‖ SW2`.
    pub fn parse(b: &[u8]) -> Result<Self, ResponseError> {
        if b.len() < 2 {
            return Err(ResponseError { len: b.len() });
        }
        let (data, sw) = b.split_at(b.len() - 2);
        Ok(ResponseApdu {
            data: data.to_vec(),
            sw: StatusWord::new(sw[0], sw[1]),
        })
    }

    /// Append `data ‖ SW1 ‖ SW2` to `out`.
    pub fn emit_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
    }

    /// `data ‖ SW1 ‖ SW2` as a new vector.
    pub fn emit(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.data.len() + 2);
        self.emit_into(&mut v);
        v
    }

    /// Number of bytes [`ResponseApdu::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        self.data.len() + 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let r = ResponseApdu::parse(&[1, 2, 0x90, 0]).unwrap();
        assert_eq!(r.data, [1, 2]);
        assert_eq!(r.sw, StatusWord::OK);
        assert_eq!(r.emit(), [1, 2, 0x90, 0]);
        assert_eq!(ResponseApdu::parse(&[0x90]), Err(ResponseError { len: 1 }));
    }
}
