//! An open secure channel session of either protocol, with the four operations both sides
//! need (GPCS v2.3 §10.7 secure messaging): the host wraps commands and unwraps responses, the
//! card unwraps commands and wraps responses.

use crate::error::GpError;
use crate::keys::{self, KeyKind};
use crate::level::SecurityLevel;
use crate::scp02::Scp02Session;
use crate::scp03::Scp03Session;
use apdu::{CommandApdu, ResponseApdu};
use zeroize::Zeroizing;

/// An authenticated secure channel session (SCP02 or SCP03).
#[derive(Debug, Clone)]
pub enum Session {
    /// SCP02 (GPCS Annex E).
    Scp02(Scp02Session),
    /// SCP03 (Amendment D); `dek` is the static DEK used for PUT KEY.
    Scp03(Scp03Session, Zeroizing<Vec<u8>>),
}

impl Session {
    /// The security level the session was opened at.
    pub fn level(&self) -> SecurityLevel {
        match self {
            Session::Scp02(s) => s.level(),
            Session::Scp03(s, _) => s.level(),
        }
    }

    /// `2` or `3`.
    pub fn version(&self) -> u8 {
        match self {
            Session::Scp02(_) => 2,
            Session::Scp03(..) => 3,
        }
    }

    /// The cipher of the session's keys.
    pub fn key_kind(&self) -> KeyKind {
        match self {
            Session::Scp02(_) => KeyKind::Des3,
            Session::Scp03(..) => KeyKind::Aes,
        }
    }

    /// Host side: protect a command.
    pub fn wrap(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        match self {
            Session::Scp02(s) => s.wrap(cmd),
            Session::Scp03(s, _) => s.wrap(cmd),
        }
    }

    /// Host side: check and strip the protection of a response.
    pub fn unwrap_response(&mut self, rsp: &ResponseApdu) -> Result<ResponseApdu, GpError> {
        match self {
            Session::Scp02(s) => s.unwrap_response(rsp),
            Session::Scp03(s, _) => s.unwrap_response(rsp),
        }
    }

    /// Card side: check and strip the protection of a command (state unchanged on error).
    pub fn unwrap_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        match self {
            Session::Scp02(s) => s.unwrap_command(cmd),
            Session::Scp03(s, _) => s.unwrap_command(cmd),
        }
    }

    /// Card side: protect a response.
    pub fn wrap_response(&mut self, rsp: ResponseApdu) -> Result<ResponseApdu, GpError> {
        match self {
            Session::Scp02(s) => s.wrap_response(rsp),
            Session::Scp03(s, _) => s.wrap_response(rsp),
        }
    }

    /// Encrypt a key value for PUT KEY with this session's DEK (SCP02: session DEK, 3DES-ECB;
    /// SCP03: static DEK, AES-CBC).
    pub fn encrypt_key(&self, key: &[u8]) -> Result<Vec<u8>, GpError> {
        match self {
            Session::Scp02(s) => keys::dek_encrypt(KeyKind::Des3, s.dek(), key),
            Session::Scp03(_, dek) => keys::dek_encrypt(KeyKind::Aes, dek, key),
        }
    }

    /// Decrypt a PUT KEY key component block, keeping `len` bytes.
    pub fn decrypt_key(&self, block: &[u8], len: usize) -> Result<Vec<u8>, GpError> {
        match self {
            Session::Scp02(s) => keys::dek_decrypt(KeyKind::Des3, s.dek(), block, len),
            Session::Scp03(_, dek) => keys::dek_decrypt(KeyKind::Aes, dek, block, len),
        }
    }
}
