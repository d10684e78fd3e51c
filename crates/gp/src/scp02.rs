//! SCP02 (GPCS v2.3 Annex E): session keys (E.4.1), authentication cryptograms (E.4.2),
//! C-MAC with ICV chaining and optional ICV encryption (E.4.4), C-DECRYPTION (E.4.6), R-MAC
//! (E.4.5), and the session DEK for PUT KEY (E.4.7). Both directions: the host wraps commands
//! and checks responses, the card checks commands and MACs responses.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto;
use crate::error::GpError;
use crate::level::SecurityLevel;
use crate::wire::{mac_cla, Wrapped};
use apdu::{CommandApdu, ResponseApdu, StatusWord};

fn protected_sw(sw: StatusWord) -> bool {
    sw == StatusWord::OK || matches!(sw.sw1(), 0x62 | 0x63)
}

/// The SCP02 "i" parameter (GPCS v2.3 Table E-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scp02Params(pub u8);

impl Scp02Params {
    /// i = `15`: explicit initiation, C-MAC on the modified APDU, ICV zero at the start and
    /// encrypted for each later C-MAC, three secure channel keys.
    pub const I15: Scp02Params = Scp02Params(0x15);
    /// i = `55`: as `15` with a well-known pseudo-random card challenge.
    pub const I55: Scp02Params = Scp02Params(0x55);

    /// Three secure channel keys (b1) rather than one base key.
    pub fn three_keys(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// The C-MAC is computed on the unmodified APDU (b2).
    pub fn mac_on_unmodified(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// ICV encryption for the C-MAC session (b5).
    pub fn icv_encryption(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// The card challenge comes from a well-known pseudo-random algorithm (b7).
    pub fn pseudo_random(self) -> bool {
        self.0 & 0x40 != 0
    }
}

/// Derivation constants of GPCS v2.3 Table E-2.
const C_MAC: [u8; 2] = [0x01, 0x01];
const R_MAC: [u8; 2] = [0x01, 0x02];
const S_ENC: [u8; 2] = [0x01, 0x82];
const DEK: [u8; 2] = [0x01, 0x81];

/// The four SCP02 session keys (GPCS E.4.1), zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Scp02SessionKeys {
    /// S-ENC: cryptograms and C-DECRYPTION.
    pub enc: [u8; 16],
    /// C-MAC session key.
    pub cmac: [u8; 16],
    /// R-MAC session key.
    pub rmac: [u8; 16],
    /// Session DEK: key encryption for PUT KEY.
    pub dek: [u8; 16],
}

impl std::fmt::Debug for Scp02SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scp02SessionKeys(..)")
    }
}

fn derive(key: &[u8], constant: [u8; 2], seq: u16) -> Result<[u8; 16], GpError> {
    let mut data = [0u8; 16];
    data[..2].copy_from_slice(&constant);
    data[2..4].copy_from_slice(&seq.to_be_bytes());
    let v = crypto::des3_cbc_encrypt(key, &[0; 8], &data)?;
    let mut out = [0u8; 16];
    out.copy_from_slice(&v);
    Ok(out)
}

impl Scp02SessionKeys {
    /// Derive the session keys from the static keys and the sequence counter (GPCS E.4.1:
    /// 3DES-CBC, zero ICV, over `constant ‖ counter ‖ 12 × 00`).
    pub fn derive(enc: &[u8], mac: &[u8], dek: &[u8], seq: u16) -> Result<Self, GpError> {
        Ok(Scp02SessionKeys {
            enc: derive(enc, S_ENC, seq)?,
            cmac: derive(mac, C_MAC, seq)?,
            rmac: derive(mac, R_MAC, seq)?,
            dek: derive(dek, DEK, seq)?,
        })
    }

    /// The card cryptogram (GPCS E.4.2.1): full 3DES MAC with S-ENC over
    /// `host challenge ‖ sequence counter ‖ card challenge`.
    pub fn card_cryptogram(
        &self,
        host_challenge: &[u8; 8],
        seq: u16,
        card_challenge: &[u8; 6],
    ) -> Result<[u8; 8], GpError> {
        let mut d = Vec::with_capacity(16);
        d.extend_from_slice(host_challenge);
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(card_challenge);
        crypto::mac_3des(&self.enc, &[0; 8], &d)
    }

    /// The host cryptogram (GPCS E.4.2.2): full 3DES MAC with S-ENC over
    /// `sequence counter ‖ card challenge ‖ host challenge`.
    pub fn host_cryptogram(
        &self,
        host_challenge: &[u8; 8],
        seq: u16,
        card_challenge: &[u8; 6],
    ) -> Result<[u8; 8], GpError> {
        let mut d = Vec::with_capacity(16);
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(card_challenge);
        d.extend_from_slice(host_challenge);
        crypto::mac_3des(&self.enc, &[0; 8], &d)
    }
}

/// The pseudo-random card challenge of i = `55` (GPCS E.4.2.1): the first 6 bytes of the
/// full 3DES MAC, with the C-MAC session key of the current sequence counter, over the AID of
/// the selected application.
pub fn pseudo_random_challenge(
    static_mac: &[u8],
    seq: u16,
    aid: &[u8],
) -> Result<[u8; 6], GpError> {
    let k = derive(static_mac, C_MAC, seq)?;
    let m = crypto::mac_3des(&k, &[0; 8], aid)?;
    let mut c = [0u8; 6];
    c.copy_from_slice(&m[..6]);
    Ok(c)
}

/// An open SCP02 session: the session keys, the security level and the MAC chaining values.
/// The same type serves the host (`wrap`, `unwrap_response`) and the card (`unwrap_command`,
/// `wrap_response`): both sides run the same chaining.
#[derive(Debug, Clone)]
pub struct Scp02Session {
    keys: Scp02SessionKeys,
    params: Scp02Params,
    level: SecurityLevel,
    /// ICV for the next C-MAC (already encrypted when the i parameter asks for it).
    icv: [u8; 8],
    /// ICV for the next R-MAC (the previous R-MAC, initially zero).
    ricv: [u8; 8],
    /// Header and plain data of the last command, for the R-MAC of its response.
    last: Vec<u8>,
}

impl Scp02Session {
    /// A session right after a verified EXTERNAL AUTHENTICATE whose C-MAC was `ext_auth_mac`.
    pub(crate) fn new(
        keys: Scp02SessionKeys,
        params: Scp02Params,
        level: SecurityLevel,
        ext_auth_mac: [u8; 8],
    ) -> Result<Self, GpError> {
        if level.r_enc() {
            return Err(GpError::Level {
                level: level.bits(),
                reason: "SCP02 has no R-ENCRYPTION",
            });
        }
        let mut s = Scp02Session {
            keys,
            params,
            level,
            icv: [0; 8],
            ricv: [0; 8],
            last: Vec::new(),
        };
        s.chain(ext_auth_mac)?;
        Ok(s)
    }

    /// The security level of the session.
    pub fn level(&self) -> SecurityLevel {
        self.level
    }

    /// The session DEK (3DES-ECB key for PUT KEY key values).
    pub fn dek(&self) -> &[u8] {
        &self.keys.dek
    }

    fn chain(&mut self, mac: [u8; 8]) -> Result<(), GpError> {
        self.icv = if self.params.icv_encryption() {
            crypto::des_ecb_block(&self.keys.cmac, &mac)?
        } else {
            mac
        };
        Ok(())
    }

    /// C-MAC input: the header as the MAC sees it and the plain data.
    fn mac_input(&self, cmd: &CommandApdu) -> Vec<u8> {
        let mut d = Vec::with_capacity(5 + cmd.data.len());
        if self.params.mac_on_unmodified() {
            d.extend_from_slice(&[cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data.len() as u8]);
        } else {
            d.extend_from_slice(&[
                mac_cla(cmd.cla),
                cmd.ins,
                cmd.p1,
                cmd.p2,
                (cmd.data.len() + 8) as u8,
            ]);
        }
        d.extend_from_slice(&cmd.data);
        d
    }

    /// The C-MAC of EXTERNAL AUTHENTICATE (ICV zero), used by both handshakes.
    pub(crate) fn ext_auth_mac(
        keys: &Scp02SessionKeys,
        params: Scp02Params,
        header_and_data: &CommandApdu,
    ) -> Result<[u8; 8], GpError> {
        let tmp = Scp02Session {
            keys: keys.clone(),
            params,
            level: SecurityLevel::C_MAC,
            icv: [0; 8],
            ricv: [0; 8],
            last: Vec::new(),
        };
        crypto::mac_retail(&keys.cmac, &[0; 8], &tmp.mac_input(header_and_data))
    }

    fn remember(&mut self, cmd: &CommandApdu) {
        self.last.clear();
        self.last
            .extend_from_slice(&[cmd.cla & !0x04, cmd.ins, cmd.p1, cmd.p2]);
        self.last.push(cmd.data.len() as u8);
        self.last.extend_from_slice(&cmd.data);
    }

    /// Host side: protect a command at the session's level (C-MAC over the plain command,
    /// then C-DECRYPTION of the data, GPCS E.4.4 and E.4.6).
    pub fn wrap(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        self.remember(cmd);
        if !self.level.c_mac() {
            return Ok(cmd.clone());
        }
        if cmd.data.len() + 8 > 255 {
            return Err(GpError::TooLong {
                len: cmd.data.len() + 8,
            });
        }
        let mac = crypto::mac_retail(&self.keys.cmac, &self.icv, &self.mac_input(cmd))?;
        let mut data = if self.level.c_dec() && !cmd.data.is_empty() {
            crypto::des3_cbc_encrypt(&self.keys.enc, &[0; 8], &crypto::pad80(&cmd.data, 8))?
        } else {
            cmd.data.clone()
        };
        data.extend_from_slice(&mac);
        if data.len() > 255 {
            return Err(GpError::TooLong { len: data.len() });
        }
        self.chain(mac)?;
        let le = cmd.le.map(|_| 256);
        Ok(CommandApdu::new(
            cmd.cla | 0x04,
            cmd.ins,
            cmd.p1,
            cmd.p2,
            data,
            le,
        ))
    }

    /// Card side: check and strip the protection of a command. On error the session state is
    /// unchanged (the caller closes the channel, GPCS E.4.4: 6982).
    pub fn unwrap_command(&mut self, cmd: &CommandApdu) -> Result<CommandApdu, GpError> {
        if !self.level.c_mac() {
            self.remember(cmd);
            return Ok(cmd.clone());
        }
        let w = Wrapped::split(cmd, 8)?;
        let plain = if self.level.c_dec() && !w.body.is_empty() {
            let p = crypto::des3_cbc_decrypt(&self.keys.enc, &[0; 8], w.body)
                .map_err(|_| GpError::Padding("C-DECRYPTION"))?;
            crypto::unpad80(&p)
                .ok_or(GpError::Padding("C-DECRYPTION"))?
                .to_vec()
        } else {
            w.body.to_vec()
        };
        let le = cmd.le;
        let out = CommandApdu::new(cmd.cla & !0x04, cmd.ins, cmd.p1, cmd.p2, plain, le);
        let mac = crypto::mac_retail(&self.keys.cmac, &self.icv, &self.mac_input(&out))?;
        if !bool::from(mac.ct_eq(w.mac)) {
            return Err(GpError::Mac("C-MAC"));
        }
        self.chain(mac)?;
        self.remember(&out);
        Ok(out)
    }

    fn rmac_of(&self, data: &[u8], sw: [u8; 2]) -> Result<[u8; 8], GpError> {
        let mut d = self.last.clone();
        d.push(data.len() as u8);
        d.extend_from_slice(data);
        d.extend_from_slice(&sw);
        crypto::mac_retail(&self.keys.rmac, &self.ricv, &d)
    }

    /// Card side: append the R-MAC (GPCS E.4.5) when the level asks for it (not to error
    /// status words: simota applies Amendment D's rule to SCP02 too, on both sides). The R-MAC covers
    /// the last command's header and plain data, the response data and SW1 SW2; its ICV is
    /// the previous R-MAC.
    pub fn wrap_response(&mut self, rsp: ResponseApdu) -> Result<ResponseApdu, GpError> {
        if !self.level.r_mac() || !protected_sw(rsp.sw) {
            return Ok(rsp);
        }
        let m = self.rmac_of(&rsp.data, rsp.sw.to_bytes())?;
        self.ricv = m;
        let mut data = rsp.data;
        data.extend_from_slice(&m);
        Ok(ResponseApdu::new(data, rsp.sw))
    }

    /// Host side: check and strip the R-MAC of a response.
    pub fn unwrap_response(&mut self, rsp: &ResponseApdu) -> Result<ResponseApdu, GpError> {
        if !self.level.r_mac() || !protected_sw(rsp.sw) {
            return Ok(rsp.clone());
        }
        let n = rsp.data.len();
        if n < 8 {
            return Err(GpError::Truncated {
                field: "R-MAC",
                offset: n,
                len: n,
            });
        }
        let (data, mac) = rsp.data.split_at(n - 8);
        let m = self.rmac_of(data, rsp.sw.to_bytes())?;
        if !bool::from(m.ct_eq(mac)) {
            return Err(GpError::Mac("R-MAC"));
        }
        self.ricv = m;
        Ok(ResponseApdu::new(data.to_vec(), rsp.sw))
    }
}
