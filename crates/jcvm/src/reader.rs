//! A bounds-checked big-endian cursor over one CAP component; its errors name the component
//! and the offset (counted from the component's tag byte).

use crate::error::CapError;

/// Cursor over a component's bytes (`tag u1, size u2, info[size]`).
pub struct Reader<'a> {
    /// Component name used in errors.
    pub component: &'static str,
    b: &'a [u8],
    /// Current offset from the tag byte.
    pub pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at offset `pos` of the component bytes `b`.
    pub fn new(component: &'static str, b: &'a [u8], pos: usize) -> Self {
        Reader { component, b, pos }
    }

    /// An error at `offset`.
    pub fn err_at(&self, offset: usize, what: impl Into<String>) -> CapError {
        CapError::Component {
            component: self.component,
            offset,
            what: what.into(),
        }
    }

    /// An error at the current offset.
    pub fn err(&self, what: impl Into<String>) -> CapError {
        self.err_at(self.pos, what)
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }

    /// Takes `n` bytes, naming `field` if they run past the end.
    pub fn bytes(&mut self, n: usize, field: &str) -> Result<&'a [u8], CapError> {
        let s = self
            .pos
            .checked_add(n)
            .and_then(|e| self.b.get(self.pos..e))
            .ok_or_else(|| {
                self.err(format!(
                    "{field}: {n} bytes needed, {} left",
                    self.remaining()
                ))
            })?;
        self.pos += n;
        Ok(s)
    }

    /// Reads a `u1`.
    pub fn u1(&mut self, field: &str) -> Result<u8, CapError> {
        Ok(self.bytes(1, field)?[0])
    }

    /// Reads a big-endian `u2`.
    pub fn u2(&mut self, field: &str) -> Result<u16, CapError> {
        let s = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }

    /// Reads a big-endian `u4`.
    pub fn u4(&mut self, field: &str) -> Result<u32, CapError> {
        let s = self.bytes(4, field)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Reads `length u1, bytes[length]` (an AID or a name), checking `min..=max`.
    pub fn lv(&mut self, field: &str, min: usize, max: usize) -> Result<Vec<u8>, CapError> {
        let at = self.pos;
        let n = self.u1(field)? as usize;
        if n < min || n > max {
            return Err(self.err_at(at, format!("{field} length {n} not in {min}..={max}")));
        }
        Ok(self.bytes(n, field)?.to_vec())
    }
}
