//! Java Card frames (JCVM Spec 3.0.5 §3.5): a method's local variables and operand stack
//! in 16-bit words, bounded by the method header's `max_locals` and `max_stack`.

use crate::cap::CapFile;
use crate::heap::{ObjId, Slot};
use crate::natives::Throw;
use std::sync::Arc;

/// Deepest call chain (frames) before `SystemException.NO_RESOURCE`.
pub const MAX_FRAMES: usize = 64;

/// One method activation.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Package index.
    pub pkg: usize,
    /// The package's CAP (its Method component holds the code).
    pub cap: Arc<CapFile>,
    /// Offset of the first bytecode in the Method info.
    pub code_start: usize,
    /// End (exclusive) of the method's bytecode.
    pub code_end: usize,
    /// Offset of the instruction executing (in the Method info).
    pub pc: usize,
    /// Local variables (arguments first).
    pub locals: Vec<Slot>,
    /// Operand stack.
    pub stack: Vec<Slot>,
    /// Operand stack limit in words.
    pub max_stack: usize,
    /// Firewall context of the caller, restored at return.
    pub caller_context: u8,
}

impl Frame {
    /// Pushes a word (SecurityException beyond `max_stack`: bytecode a verifier would refuse).
    #[inline]
    pub fn push(&mut self, v: Slot) -> Result<(), Throw> {
        if self.stack.len() >= self.max_stack {
            return Err(Throw::security());
        }
        self.stack.push(v);
        Ok(())
    }

    /// Pops a word (SecurityException on underflow).
    #[inline]
    pub fn pop(&mut self) -> Result<Slot, Throw> {
        self.stack.pop().ok_or_else(Throw::security)
    }

    /// Pushes a short.
    #[inline]
    pub fn push_s(&mut self, v: i16) -> Result<(), Throw> {
        self.push(Slot::S(v))
    }

    /// Pushes an int (high word first).
    #[inline]
    pub fn push_i(&mut self, v: i32) -> Result<(), Throw> {
        self.push(Slot::S((v >> 16) as i16))?;
        self.push(Slot::S(v as i16))
    }

    /// Pushes a reference.
    #[inline]
    pub fn push_r(&mut self, v: Option<ObjId>) -> Result<(), Throw> {
        self.push(Slot::R(v))
    }

    /// Pops a short (a reference here is ill-typed bytecode: SecurityException).
    #[inline]
    pub fn pop_s(&mut self) -> Result<i16, Throw> {
        match self.pop()? {
            Slot::S(v) => Ok(v),
            Slot::R(_) => Err(Throw::security()),
        }
    }

    /// Pops an int.
    #[inline]
    pub fn pop_i(&mut self) -> Result<i32, Throw> {
        let lo = self.pop_s()? as u16 as i32;
        let hi = self.pop_s()? as i32;
        Ok((hi << 16) | lo)
    }

    /// Pops a reference.
    #[inline]
    pub fn pop_r(&mut self) -> Result<Option<ObjId>, Throw> {
        match self.pop()? {
            Slot::R(v) => Ok(v),
            Slot::S(_) => Err(Throw::security()),
        }
    }

    /// Local `i` (SecurityException outside the frame).
    #[inline]
    pub fn local(&self, i: usize) -> Result<Slot, Throw> {
        self.locals.get(i).copied().ok_or_else(Throw::security)
    }

    /// Sets local `i`.
    #[inline]
    pub fn set_local(&mut self, i: usize, v: Slot) -> Result<(), Throw> {
        *self.locals.get_mut(i).ok_or_else(Throw::security)? = v;
        Ok(())
    }

    /// The code byte at `pc + o` (SecurityException past the method).
    #[inline]
    pub fn u1(&self, o: usize) -> Result<u8, Throw> {
        let p = self.pc + o;
        if p >= self.code_end {
            return Err(Throw::security());
        }
        self.cap
            .method
            .info
            .get(p)
            .copied()
            .ok_or_else(Throw::security)
    }

    /// A signed byte operand.
    #[inline]
    pub fn s1(&self, o: usize) -> Result<i16, Throw> {
        Ok(self.u1(o)? as i8 as i16)
    }

    /// An unsigned 16-bit operand.
    #[inline]
    pub fn u2(&self, o: usize) -> Result<u16, Throw> {
        Ok(u16::from_be_bytes([self.u1(o)?, self.u1(o + 1)?]))
    }

    /// A signed 16-bit operand.
    #[inline]
    pub fn s2(&self, o: usize) -> Result<i16, Throw> {
        Ok(self.u2(o)? as i16)
    }

    /// A signed 32-bit operand.
    #[inline]
    pub fn s4(&self, o: usize) -> Result<i32, Throw> {
        Ok(((self.u2(o)? as i32) << 16) | self.u2(o + 2)? as i32)
    }

    /// Jumps by `delta` from the current instruction (SecurityException outside the method).
    #[inline]
    pub fn branch(&mut self, delta: i32) -> Result<(), Throw> {
        let t = self.pc as i64 + delta as i64;
        if t < self.code_start as i64 || t >= self.code_end as i64 {
            return Err(Throw::security());
        }
        self.pc = t as usize;
        Ok(())
    }
}
