//! SCP03 (GPCS v2.3 Amendment D v1.1.2): session keys and cryptograms by the KDF of §6.2.1
//! (NIST SP 800-108 counter mode, AES-CMAC), pseudo-random card challenge (§6.2.2.1), C-MAC
//! with MAC chaining (§6.2.4), R-MAC (§6.2.5), C-DECRYPTION (§6.2.6) and R-ENCRYPTION
//! (§6.2.7) with the encryption counter, in S8 and S16 modes, AES-128/192/256.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto;
use crate::error::GpError;
use crate::level::SecurityLevel;
use crate::wire::{mac_cla, Wrapped};
use apdu::{CommandApdu, ResponseApdu, StatusWord};

/// The SCP03 "i" parameter (Amendment D v1.1.2 §5.1, Table 5-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scp03Params(pub u8);

impl Scp03Params {
    /// i = `70`: S8 mode, pseudo-random card challenge, R-MAC and R-ENCRYPTION support.
    pub const I70: Scp03Params = Scp03Params(0x70);
    /// i = `71`: as `70` in S16 mode.
    pub const I71: Scp03Params = Scp03Params(0x71);

    /// S16 mode (b1): 16-byte challenges, cryptograms and MACs.
    pub fn s16(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// Challenge, cryptogram and MAC length: 8 (S8) or 16 (S16).
    pub fn s(self) -> usize {
        if self.s16() {
            16
        } else {
            8
        }
    }
    /// Pseudo-random card challenge (b5).
    pub fn pseudo_random(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// R-MAC support (b6).
    pub fn r_mac(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// R-ENCRYPTION support (b7).
    pub fn r_enc(self) -> bool {
        self.0 & 0x40 != 0
    }
}

/// Derivation constants (Amendment D Table 6-1).
const CARD_CRYPTOGRAM: u8 = 0x00;
const HOST_CRYPTOGRAM: u8 = 0x01;
const CARD_CHALLENGE: u8 = 0x02;
const S_ENC: u8 = 0x04;
const S_MAC: u8 = 0x06;
const S_RMAC: u8 = 0x07;

/// The three SCP03 session keys (Amendment D §6.2.1), zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Scp03SessionKeys {
    /// S-ENC.
    pub enc: Vec<u8>,
    /// S-MAC.
    pub mac: Vec<u8>,
    /// S-RMAC.
    pub rmac: Vec<u8>,
}

impl std::fmt::Debug for Scp03SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scp03SessionKeys(..)")
    }
}

impl Scp03SessionKeys {
    /// Derive S-ENC, S-MAC and S-RMAC with context `host challenge ‖ card challenge`.
    pub fn derive(
        enc: &[u8],
        mac: &[u8],
        host_challenge: &[u8],
        card_challenge: &[u8],
    ) -> Result<Self, GpError> {
        let ctx = [host_challenge, card_challenge].concat();
        Ok(Scp03SessionKeys {
            enc: crypto::scp03_kdf(enc, S_ENC, &ctx, enc.len())?,
            mac: crypto::scp03_kdf(mac, S_MAC, &ctx, mac.len())?,
            rmac: crypto::scp03_kdf(mac, S_RMAC, &ctx, mac.len())?,
        })
    }

    /// The card cryptogram (Amendment D §6.2.2.2), `s` bytes.
    pub fn card_cryptogram(&self, hc: &[u8], cc: &[u8], s: usize) -> Result<Vec<u8>, GpError> {
        crypto::scp03_kdf(&self.mac, CARD_CRYPTOGRAM, &[hc, cc].concat(), s)
    }

    /// The host cryptogram (Amendment D §6.2.2.3), `s` bytes.
    pub fn host_cryptogram(&self, hc: &[u8], cc: &[u8], s: usize) -> Result<Vec<u8>, GpError> {
        crypto::scp03_kdf(&self.mac, HOST_CRYPTOGRAM, &[hc, cc].concat(), s)
    }
}

/// The pseudo-random card challenge (Amendment D §6.2.2.1): the KDF with the static ENC key
/// over `sequence counter (3 bytes) ‖ AID of the selected security domain`, `s` bytes.
pub fn pseudo_random_challenge(
    static_enc: &[u8],
    seq: u32,
    aid: &[u8],
    s: usize,
) -> Result<Vec<u8>, GpError> {
    let ctx = [&seq.to_be_bytes()[1..], aid].concat();
    crypto::scp03_kdf(static_enc, CARD_CHALLENGE, &ctx, s)
}

/// An open SCP03 session; the same type serves the host and the card side.
#[derive(Debug, Clone)]
pub struct Scp03Session {
    keys: Scp03SessionKeys,
    params: Scp03Params,
    level: SecurityLevel,
    chaining: [u8; 16],
    counter: u128,
}

/// Error status words carry neither R-MAC nor R-ENCRYPTION (Amendment D §6.2.5).
fn protected_sw(sw: StatusWord) -> bool {
    sw == StatusWord::OK || matches!(sw.sw1(), 0x62 | 0x63)
}

impl Scp03Session {
    pub(crate) fn new(
        keys: Scp03SessionKeys,
        params: Scp03Params,
        level: SecurityLevel,
        ext_auth_mac: [u8; 16],
    ) -> Result<Self, GpError> {
        if level.r_enc() && !params.r_enc() || level.r_mac() && !params.r_mac() {
            return Err(GpError::Level {
                level: level.bits(),
                reason: "the card's i parameter does not offer R-MAC / R-ENCRYPTION",
            });
        }
        Ok(Scp03Session {
            keys,
            params,
            level,
            chaining: ext_auth_mac,
            counter: 0,
        })
    }

    /// The security level of the session.
    pub fn level(&self) -> SecurityLevel {
        self.level
    }

    /// The C-MAC (full 16 bytes) over a command with the MAC chaining value `chain`.
    pub(crate) fn cmac(
        s_mac: &[u8],
        chain: &[u8; 16],
        [cla, ins, p1, p2]: [u8; 4],
        lc: usize,
        body: &[u8],
    ) -> Result<[u8; 16], GpError> {
        let header = [mac_cla(cla), ins, p1, p2, lc as u8];
        crypto::aes_cmac(s_mac, &[chain, &header, body])
    }

    /// The ICV for C-DECRYPTION (counter, top bit clear) or R-ENCRYPTION (first byte
    /// `80`), the encrypted counter block of Amendment D §6.2.6 / §6.2.7.
    fn icv(&self, counter: u128, response: bool) -> Result<[u8; 16], GpError> {
        let mut b = counter.to_be_bytes();
        if response {
            b[0] = 0x80;
        } else {
            b[0] &= 0x7F;
        }
        let e = crypto::aes_cbc_encrypt(&self.keys.enc, &[0; 16], &b)?;
        let mut out = [0u8; 16];
        out.copy_from_slice(&e);
        Ok(out)
    }

    /// Host side: protect a command (C-DECRYPTION first, then the C-MAC over the result).
    pub fn wrap(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        if !self.level.c_mac() {
            return Ok(cmd.clone());
        }
        let s = self.params.s();
        let mut counter = self.counter;
        let body = if self.level.c_dec() {
            counter += 1;
            if cmd.data.is_empty() {
                Vec::new()
            } else {
                let icv = self.icv(counter, false)?;
                crypto::aes_cbc_encrypt(&self.keys.enc, &icv, &crypto::pad80(&cmd.data, 16))?
            }
        } else {
            cmd.data.clone()
        };
        let lc = body.len() + s;
        if lc > 255 {
            return Err(GpError::TooLong { len: lc });
        }
        let mac = Self::cmac(
            &self.keys.mac,
            &self.chaining,
            [cmd.cla, cmd.ins, cmd.p1, cmd.p2],
            lc,
            &body,
        )?;
        self.chaining = mac;
        self.counter = counter;
        let mut data = body;
        data.extend_from_slice(&mac[..s]);
        let le = cmd.le.map(|_| 256);
        Ok(CommandApdu::new(
            mac_cla(cmd.cla) | (cmd.cla & 0x03),
            cmd.ins,
            cmd.p1,
            cmd.p2,
            data,
            le,
        ))
    }

    /// Card side: check the C-MAC and decrypt the data. On error the session is unchanged
    /// (the caller closes the channel and answers 6982): a replayed or reordered command
    /// fails here because the MAC chaining value has moved on.
    pub fn unwrap_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        if !self.level.c_mac() {
            return Ok(cmd.clone());
        }
        let s = self.params.s();
        let w = Wrapped::split(cmd, s)?;
        let mac = Self::cmac(
            &self.keys.mac,
            &self.chaining,
            [cmd.cla, cmd.ins, cmd.p1, cmd.p2],
            cmd.data.len(),
            w.body,
        )?;
        if !bool::from(mac[..s].ct_eq(w.mac)) {
            return Err(GpError::Mac("C-MAC"));
        }
        let mut counter = self.counter;
        let plain = if self.level.c_dec() {
            counter += 1;
            if w.body.is_empty() {
                Vec::new()
            } else {
                let icv = self.icv(counter, false)?;
                let p = crypto::aes_cbc_decrypt(&self.keys.enc, &icv, w.body)
                    .map_err(|_| GpError::Padding("C-DECRYPTION"))?;
                crypto::unpad80(&p)
                    .ok_or(GpError::Padding("C-DECRYPTION"))?
                    .to_vec()
            }
        } else {
            w.body.to_vec()
        };
        self.chaining = mac;
        self.counter = counter;
        Ok(CommandApdu::new(
            cmd.cla & !0x04,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            plain,
            cmd.le,
        ))
    }

    fn rmac(&self, data: &[u8], sw: StatusWord) -> Result<[u8; 16], GpError> {
        crypto::aes_cmac(&self.keys.rmac, &[&self.chaining, data, &sw.to_bytes()])
    }

    /// Card side: R-ENCRYPTION of the data, then the R-MAC, when the level asks for them and
    /// the status word is not an error.
    pub fn wrap_response(&mut self, rsp: ResponseApdu) -> Result<ResponseApdu, GpError> {
        if !self.level.r_mac() || !protected_sw(rsp.sw) {
            return Ok(rsp);
        }
        let mut data = if self.level.r_enc() && !rsp.data.is_empty() {
            let icv = self.icv(self.counter, true)?;
            crypto::aes_cbc_encrypt(&self.keys.enc, &icv, &crypto::pad80(&rsp.data, 16))?
        } else {
            rsp.data
        };
        let m = self.rmac(&data, rsp.sw)?;
        data.extend_from_slice(&m[..self.params.s()]);
        Ok(ResponseApdu::new(data, rsp.sw))
    }

    /// Host side: check the R-MAC and decrypt R-ENCRYPTED data.
    pub fn unwrap_response(&mut self, rsp: &ResponseApdu) -> Result<ResponseApdu, GpError> {
        if !self.level.r_mac() || !protected_sw(rsp.sw) {
            return Ok(rsp.clone());
        }
        let s = self.params.s();
        let n = rsp.data.len();
        if n < s {
            return Err(GpError::Truncated {
                field: "R-MAC",
                offset: n,
                len: n,
            });
        }
        let (data, mac) = rsp.data.split_at(n - s);
        let m = self.rmac(data, rsp.sw)?;
        if !bool::from(m[..s].ct_eq(mac)) {
            return Err(GpError::Mac("R-MAC"));
        }
        let plain = if self.level.r_enc() && !data.is_empty() {
            let icv = self.icv(self.counter, true)?;
            let p = crypto::aes_cbc_decrypt(&self.keys.enc, &icv, data)
                .map_err(|_| GpError::Padding("R-ENCRYPTION"))?;
            crypto::unpad80(&p)
                .ok_or(GpError::Padding("R-ENCRYPTION"))?
                .to_vec()
        } else {
            data.to_vec()
        };
        Ok(ResponseApdu::new(plain, rsp.sw))
    }
}
