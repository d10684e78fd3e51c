//! Remote application management (ETSI TS 102 226 §7): the issuer security domain behind the
//! RAM TARs (`000000`, `B20100` in the default profile), with GlobalPlatform Card
//! Specification v2.2 commands as they arrive in RAM scripts:
//!
//! * GET STATUS (`80 F2`, §11.4): P1 `80` ISD, `40` applications, `20` executable load files
//!   (the registered applet classes), `10` load files with their modules; P2 `00` (legacy
//!   `len AID life-cycle privileges`) or `02` (`E3` TLVs: `4F` AID, `9F70` life cycle, `C5`
//!   privileges, `84` module AIDs); search criteria `4F xx`.
//! * INSTALL (`80 E6`, §11.5) [for install] (P1 `04`), [for make selectable] (`08`) and both
//!   (`0C`): instantiates a registered Rust applet class, or an applet of a loaded CAP (in
//!   the Java Card VM, [`crate::java_applet`]). Install parameters: `C9` (handed to the
//!   applet's `install`), optional `EF` (system parameters: its `CA` SIM toolkit parameters
//!   of TS 102 226 §8.2.1.3.2.1 are read, [`ToolkitParams::parse_sim`]; the rest ignored),
//!   optional `EA` with `80` UICC toolkit parameters
//!   ([`ToolkitParams`]: priority, menu entries, max text length, MSL, TARs). Without TARs the
//!   TAR is taken from bytes 13–15 of an AID of 15+ bytes (TS 102 226 §8.2.1.3.2.2).
//! * INSTALL [for load] (P1 `02`) and LOAD (`80 E8`, §11.6): a CAP's load file, in as many
//!   OTA messages as it takes (blocks in order, the state kept between messages on
//!   [`RAM_CHANNEL`] until the last block; a reset abandons the load), handled as on the
//!   card's own interface ([`crate::isd`]).
//! * DELETE (`80 E4`, §11.2): an applet instance (`4F` AID), or a load file (refused with
//!   `6985` while it has instances, unless P2 `80`); built-in classes cannot be deleted
//!   (`6985`).
//! * SET STATUS (`80 F0`, §11.10): P1 `40`, P2 `80` lock / `00` unlock / `07` selectable.
//! * PUT KEY (`80 D8`, §11.8): OTA key sets. P1 = KVN to replace (`00` = add), P2 = first key
//!   identifier (`01` KIc, `02` KID, `03` KIK; b8 = several keys). Data: new KVN, then per key
//!   `type (80 DES, 88 AES) ‖ len ‖ key ‖ KCV len ‖ KCV`. Key values are enciphered with the
//!   current KIK (3DES/AES-ECB) when the key set has one, in clear otherwise; the KCV
//!   (first 3 bytes of 3DES(00…00) / AES(01…01)) is checked. Response: KVN ‖ KCVs.
//! * GET DATA (`80 CA 00 E0`, §11.3): key information template `E0 { C0 04 id kvn type len }`.

use crate::card::Card;
use crate::hexser;
use crate::nv::{life_cycle, CounterBytes};
use crate::toolkit::{ToolkitNv, ToolkitParams};
use apdu::tlv::BerTlv;
use apdu::CommandApdu;
use cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use ota::{ChecksumAlgorithm, CipherAlgorithm, Keyset};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The ISD channel state ([`crate::isd::IsdChan`]) of commands that arrive by RAM over OTA
/// rather than on a logical channel: where a load in progress waits for its next LOAD block
/// from the next message.
pub(crate) const RAM_CHANNEL: usize = usize::MAX;

/// AID of the issuer security domain (GP default ISD AID).
pub const ISD_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00];

/// The GP Card Specification 2.1.1 ISD AID (`A000000003000000`), which older cards use and
/// tools probe for (pySim-shell's `ADF.ISD`): SELECT by this AID selects the same ISD, whose FCI
/// still names [`ISD_AID`].
pub const ISD_AID_GP211: &[u8] = &[0xA0, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00];

/// Key bytes that never print and are zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct KeyBytes(#[serde(with = "hexser::bytes")] pub Vec<u8>);

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyBytes({} bytes)", self.0.len())
    }
}

/// An OTA key set written by PUT KEY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysetNv {
    /// Ciphering key.
    pub kic: KeyBytes,
    /// Integrity key.
    pub kid: KeyBytes,
    /// Key encryption key.
    pub kik: Option<KeyBytes>,
    /// KIc algorithm (`ota` name, e.g. `aes-cbc`, `3des2`).
    pub kic_algorithm: String,
    /// KID algorithm (`ota` name, e.g. `aes-cmac`, `3des2-mac`).
    pub kid_algorithm: String,
}

/// A cipher algorithm name as written in profiles (`ota` names plus `3des-cbc2`,
/// `3des-cbc3`, `aes`).
pub fn cipher_alg(name: &str) -> Option<CipherAlgorithm> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "aes" | "aes-cbc" => CipherAlgorithm::AesCbc,
        "3des2" | "3des-cbc2" | "3des-2key" | "tdes2" => CipherAlgorithm::TripleDes2Cbc,
        "3des3" | "3des-cbc3" | "3des-3key" | "tdes3" => CipherAlgorithm::TripleDes3Cbc,
        "des" | "des-cbc" => CipherAlgorithm::DesCbc,
        "des-ecb" => CipherAlgorithm::DesEcb,
        _ => return None,
    })
}

/// A checksum algorithm name as written in profiles.
pub fn checksum_alg(name: &str) -> Option<ChecksumAlgorithm> {
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "aes-cmac" | "aes" | "cmac" => ChecksumAlgorithm::AesCmac,
        "3des2-mac" | "3des-cbc2" | "3des2" | "3des-2key" => ChecksumAlgorithm::TripleDes2Mac,
        "3des3-mac" | "3des-cbc3" | "3des3" | "3des-3key" => ChecksumAlgorithm::TripleDes3Mac,
        "des-mac" | "des-cbc" | "des" => ChecksumAlgorithm::DesMac,
        "crc16" => ChecksumAlgorithm::Crc16,
        "crc32" => ChecksumAlgorithm::Crc32,
        _ => return None,
    })
}

fn build_keyset(kvn: u8, kic_alg: &str, kic: &[u8], kid_alg: &str, kid: &[u8]) -> Option<Keyset> {
    let mut k = Keyset::new();
    if let Some(a) = cipher_alg(kic_alg) {
        k = k.with_kic(a, kic, kvn).ok()?;
    }
    if let Some(a) = checksum_alg(kid_alg) {
        let key = match a {
            ChecksumAlgorithm::Crc16 | ChecksumAlgorithm::Crc32 => &[][..],
            _ => kid,
        };
        k = k.with_kid(a, key, kvn).ok()?;
    }
    Some(k)
}

/// Key type byte (GP Table 11-16) for an algorithm family.
fn key_type(alg: &str) -> u8 {
    if alg.to_ascii_lowercase().starts_with("aes") {
        0x88
    } else {
        0x80
    }
}

/// Key check value: 3DES/DES(8 × 00) or AES(16 × 01), first 3 bytes.
fn kcv(kind: u8, key: &[u8]) -> Option<[u8; 3]> {
    let mut b = if kind == 0x88 {
        [1u8; 16].to_vec()
    } else {
        [0u8; 8].to_vec()
    };
    ecb(kind, key, &mut b, true)?;
    Some([b[0], b[1], b[2]])
}

/// ECB over whole blocks with a DES family or AES key.
fn ecb(kind: u8, key: &[u8], buf: &mut [u8], encrypt: bool) -> Option<()> {
    macro_rules! run {
        ($c:expr, $bs:expr) => {{
            let c = $c;
            if buf.len() % $bs != 0 {
                return None;
            }
            for chunk in buf.chunks_mut($bs) {
                let Ok(blk) = <&mut cipher::Array<u8, _>>::try_from(chunk) else {
                    return None;
                };
                if encrypt {
                    c.encrypt_block(blk)
                } else {
                    c.decrypt_block(blk)
                }
            }
            Some(())
        }};
    }
    match (kind, key.len()) {
        (0x88, 16) => run!(aes::Aes128::new_from_slice(key).ok()?, 16),
        (0x88, 24) => run!(aes::Aes192::new_from_slice(key).ok()?, 16),
        (0x88, 32) => run!(aes::Aes256::new_from_slice(key).ok()?, 16),
        (_, 8) => run!(des::Des::new_from_slice(key).ok()?, 8),
        (_, 16) => run!(des::TdesEde2::new_from_slice(key).ok()?, 8),
        (_, 24) => run!(des::TdesEde3::new_from_slice(key).ok()?, 8),
        _ => None,
    }
}

/// One GET STATUS entry: AID, life cycle, privileges, module AIDs.
type StatusRow = (Vec<u8>, u8, u8, Vec<Vec<u8>>);

/// A key set's material (profile or PUT KEY), before building an `ota::Keyset`.
struct Material {
    kic: Vec<u8>,
    kid: Vec<u8>,
    kik: Option<Vec<u8>>,
    kic_alg: String,
    kid_alg: String,
}

impl Drop for Material {
    fn drop(&mut self) {
        self.kic.zeroize();
        self.kid.zeroize();
        self.kik.zeroize();
    }
}

fn be_len(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&apdu::tlv::encode_len(v.len()));
    out
}

impl Card {
    /// The OTA key set the card holds now for key version `kvn` (the PUT KEY result, else the
    /// profile's), as the receiver uses it (TS 102 225 §5.1.2): the trusted path test tools
    /// take instead of repeating the profile's keys.
    pub fn ota_keyset(&self, kvn: u8) -> Option<Keyset> {
        let m = self.key_material(kvn)?;
        build_keyset(kvn, &m.kic_alg, &m.kic, &m.kid_alg, &m.kid)
    }

    /// The replay counter stored for key set `kvn` (TS 102 225 §5.1.1; 0 when none is).
    pub fn ota_counter(&self, kvn: u8) -> ota::Counter {
        self.nv
            .state
            .ota
            .counters
            .get(&kvn)
            .and_then(|c| <[u8; 5]>::try_from(c.0.as_slice()).ok())
            .map(ota::Counter::from_bytes)
            .unwrap_or_default()
    }

    fn key_material(&self, kvn: u8) -> Option<Material> {
        if let Some(k) = self.nv.state.ota.keys.get(&kvn) {
            return Some(Material {
                kic: k.kic.0.clone(),
                kid: k.kid.0.clone(),
                kik: k.kik.as_ref().map(|x| x.0.clone()),
                kic_alg: k.kic_algorithm.clone(),
                kid_alg: k.kid_algorithm.clone(),
            });
        }
        let k = self.profile.ota_keysets.iter().find(|k| k.kvn == kvn)?;
        Some(Material {
            kic: k.kic.clone(),
            kid: k.kid.clone(),
            kik: k.kik.clone(),
            kic_alg: k.kic_algorithm.clone(),
            kid_alg: k.kid_algorithm.clone(),
        })
    }

    /// Index in the key schedule cache of the OTA key set with key version `kvn` (PUT KEY
    /// result, else the profile's); the cache lives until the next PUT KEY or reset.
    pub(crate) fn keyset_index(&mut self, kvn: u8) -> Option<usize> {
        if let Some(i) = self.cat.keysets.iter().position(|(v, _)| *v == kvn) {
            return Some(i);
        }
        let m = self.key_material(kvn)?;
        let k = build_keyset(kvn, &m.kic_alg, &m.kic, &m.kid_alg, &m.kid)?;
        self.cat.keysets.push((kvn, k));
        Some(self.cat.keysets.len() - 1)
    }

    fn all_kvns(&self) -> Vec<u8> {
        let mut v: Vec<u8> = self.profile.ota_keysets.iter().map(|k| k.kvn).collect();
        v.extend(self.nv.state.ota.keys.keys());
        v.sort_unstable();
        v.dedup();
        v
    }

    /// RAM: run a script against the issuer security domain (one OTA message; a load's
    /// INSTALL [for load] and LOAD blocks may come in several).
    pub(crate) fn ram_run(&mut self, script: &[u8]) -> Vec<u8> {
        let mut exec = |card: &mut Card, raw: &[u8]| match CommandApdu::parse(raw) {
            Ok(cmd) => card.isd_apdu(&cmd),
            Err(_) => (Vec::new(), 0x6700),
        };
        self.run_script(script, &mut exec)
    }

    /// One GlobalPlatform command addressed to the ISD; returns (data, SW).
    pub(crate) fn isd_apdu(&mut self, cmd: &CommandApdu) -> (Vec<u8>, u16) {
        if cmd.cla & 0x80 == 0 && cmd.ins != 0xA4 {
            return (Vec::new(), 0x6E00);
        }
        let r = match cmd.ins {
            0xA4 => {
                if cmd.p1 == 0x04 && ISD_AID.starts_with(&cmd.data) && !cmd.data.is_empty() {
                    Ok(Vec::new())
                } else {
                    Err(0x6A82)
                }
            }
            0xF2 => self.gp_get_status(cmd),
            0xE6 if cmd.p1 == 0x02 => {
                // A load over OTA spans messages: its state lives on the RAM pseudo-channel
                // until the last LOAD block, another INSTALL [for load], or a reset.
                self.isd_chans.entry(RAM_CHANNEL).or_default();
                self.isd_install_for_load(RAM_CHANNEL, cmd)
            }
            0xE6 => self.gp_install(cmd),
            0xE8 => self.isd_load(RAM_CHANNEL, cmd),
            0xE4 if self.is_load_file_delete(cmd) => self.isd_delete_load_file(cmd),
            0xE4 => self.gp_delete(cmd),
            0xF0 => self.gp_set_status(cmd),
            0xD8 => self.gp_put_key(cmd),
            0xCA => self.gp_get_data(cmd),
            _ => Err(0x6D00),
        };
        match r {
            Ok(mut d) => {
                if let Some(ne) = cmd.le {
                    d.truncate(ne as usize);
                }
                (d, 0x9000)
            }
            Err(sw) => (Vec::new(), sw),
        }
    }

    pub(crate) fn gp_get_status(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let crit = BerTlv::parse_all(&cmd.data).map_err(|_| 0x6A80u16)?;
        let prefix = crit
            .iter()
            .find(|t| t.tag.0 == 0x4F)
            .map(|t| t.value_bytes())
            .ok_or(0x6A80u16)?;
        let tlv_format = match cmd.p2 & 0xFE {
            0x00 => false,
            0x02 => true,
            _ => return Err(0x6A86),
        };
        let mut rows: Vec<StatusRow> = Vec::new();
        match cmd.p1 {
            0x80 => rows.push((
                ISD_AID.to_vec(),
                self.nv.state.isd.card_life_cycle,
                0x9E,
                vec![],
            )),
            0x40 => {
                for a in &self.nv.state.applets {
                    rows.push((a.aid.clone(), a.life_cycle, 0x00, vec![]));
                }
            }
            0x20 | 0x10 => {
                for c in self.registry().classes() {
                    let m = if cmd.p1 == 0x10 {
                        vec![c.class_aid().to_vec()]
                    } else {
                        vec![]
                    };
                    rows.push((c.class_aid().to_vec(), 0x01, 0x00, m));
                }
                for f in &self.nv.state.isd.load_files {
                    let m = if cmd.p1 == 0x10 {
                        f.modules.clone()
                    } else {
                        vec![]
                    };
                    rows.push((f.aid.clone(), 0x01, 0x00, m));
                }
            }
            _ => return Err(0x6A86),
        }
        rows.retain(|r| r.0.starts_with(&prefix));
        if rows.is_empty() {
            return Err(0x6A88);
        }
        let mut out = Vec::new();
        for (aid, lc, priv_, modules) in rows {
            if tlv_format {
                let mut ch = vec![
                    BerTlv::primitive(0x4F, aid),
                    BerTlv::primitive(0x9F70, vec![lc]),
                ];
                if cmd.p1 != 0x20 && cmd.p1 != 0x10 {
                    ch.push(BerTlv::primitive(0xC5, vec![priv_]));
                }
                for m in modules {
                    ch.push(BerTlv::primitive(0x84, m));
                }
                out.extend(BerTlv::constructed(0xE3, ch).emit());
            } else {
                out.push(aid.len() as u8);
                out.extend_from_slice(&aid);
                out.push(lc);
                out.push(priv_);
                if cmd.p1 == 0x10 {
                    out.push(modules.len() as u8);
                    for m in modules {
                        out.push(m.len() as u8);
                        out.extend_from_slice(&m);
                    }
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn gp_install(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let d = &cmd.data;
        let mut at = 0usize;
        let mut lv = || -> Result<Vec<u8>, u16> {
            let n = usize::from(*d.get(at).ok_or(0x6A80u16)?);
            let v = d.get(at + 1..at + 1 + n).ok_or(0x6A80u16)?.to_vec();
            at += 1 + n;
            Ok(v)
        };
        match cmd.p1 {
            0x08 => {
                let _ = lv()?;
                let _ = lv()?;
                let aid = lv()?;
                self.set_life_cycle(&aid, |lc| {
                    (lc & life_cycle::LOCKED_BIT) | life_cycle::SELECTABLE
                })?;
                Ok(vec![0x00])
            }
            0x04 | 0x0C => {
                let load_file = lv()?;
                let module = lv()?;
                let aid = lv()?;
                let _privileges = lv()?;
                let params = lv()?;
                let class = if self.find_class(&module).is_some() {
                    module
                } else if self.find_class(&load_file).is_some() {
                    load_file
                } else {
                    return Err(0x6A88);
                };
                if !(5..=16).contains(&aid.len()) {
                    return Err(0x6A80);
                }
                let (c9, tk) = split_install_params(&params)?;
                let mut tk = tk.unwrap_or_default();
                if tk.tars.is_empty() {
                    if let Some(t) = crate::ota_receiver::tar_from_aid(&aid) {
                        tk.tars.push(t);
                    }
                }
                for t in &tk.tars {
                    if self.resolve_tar(*t).is_some()
                        || self.profile.ota_tars.iter().any(|p| p.tar == *t)
                    {
                        return Err(0x6A80);
                    }
                }
                let lc = if cmd.p1 == 0x0C {
                    life_cycle::SELECTABLE
                } else {
                    life_cycle::INSTALLED
                };
                let entry = ToolkitNv {
                    aid: aid.clone(),
                    params: tk,
                    events: Vec::new(),
                    menu: Vec::new(),
                };
                // The registration exists before `install` runs, so the applet can register
                // menu entries and events within its install parameters.
                self.nv.write(|s| {
                    s.ota.toolkit.retain(|t| t.aid != aid);
                    s.ota.toolkit.push(entry);
                })?;
                if let Err(sw) = self.install_applet(&class, &aid, &c9, lc, false) {
                    let _ = self.nv.write(|s| s.ota.toolkit.retain(|t| t.aid != aid));
                    return Err(sw);
                }
                Ok(vec![0x00])
            }
            _ => Err(0x6A86),
        }
    }

    fn set_life_cycle(&mut self, aid: &[u8], f: impl Fn(u8) -> u8) -> Result<(), u16> {
        let i = self
            .nv
            .state
            .applets
            .iter()
            .position(|a| a.aid == aid)
            .ok_or(0x6A88u16)?;
        self.nv.write(|s| {
            if let Some(a) = s.applets.get_mut(i) {
                a.life_cycle = f(a.life_cycle);
            }
        })
    }

    pub(crate) fn gp_delete(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        if cmd.p2 & 0x7F != 0 {
            return Err(0x6A86);
        }
        let tlvs = BerTlv::parse_all(&cmd.data).map_err(|_| 0x6A80u16)?;
        let aid = tlvs
            .iter()
            .find(|t| t.tag.0 == 0x4F)
            .map(|t| t.value_bytes())
            .ok_or(0x6A80u16)?;
        if self.registry().find(&aid).is_some() || aid.as_slice() == ISD_AID {
            return Err(0x6985);
        }
        if !self.nv.state.applets.iter().any(|a| a.aid == aid) {
            return Err(0x6A88);
        }
        for ch in 0..crate::card::CHANNELS {
            let sel = self.chans[ch]
                .as_ref()
                .and_then(|c| c.applet.as_ref())
                .is_some_and(|a| *a == aid);
            if sel {
                self.drop_applet(ch);
            }
        }
        if let Some(mut obj) = self.objs.remove(&aid) {
            let table = self.sat_table(None);
            let sat = move |k: u8| table[k as usize];
            let mut ctx = crate::applet::AppletContext {
                nv: &mut self.nv,
                aid: &aid,
                rng: &mut *self.rng,
                verified: &sat,
                toolkit: None,
                peers: None,
            };
            obj.uninstall(&mut ctx);
        }
        self.nv.write(|s| {
            s.applets.retain(|a| a.aid != aid);
            s.ota.toolkit.retain(|t| t.aid != aid);
        })?;
        Ok(vec![0x00])
    }

    pub(crate) fn gp_set_status(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        if cmd.p1 != 0x40 {
            return Err(0x6A86);
        }
        let aid = cmd.data.clone();
        match cmd.p2 {
            0x80 | 0x83 => self.set_life_cycle(&aid, |lc| lc | life_cycle::LOCKED_BIT)?,
            0x00 => self.set_life_cycle(&aid, |lc| lc & !life_cycle::LOCKED_BIT)?,
            0x07 => self.set_life_cycle(&aid, |lc| {
                (lc & life_cycle::LOCKED_BIT) | life_cycle::SELECTABLE
            })?,
            _ => return Err(0x6A86),
        }
        Ok(Vec::new())
    }

    fn gp_put_key(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let d = &cmd.data;
        let new_kvn = *d.first().ok_or(0x6A80u16)?;
        if !(1..=15).contains(&new_kvn) {
            return Err(0x6A80);
        }
        let old_kvn = cmd.p1 & 0x7F;
        let first_id = cmd.p2 & 0x7F;
        let multiple = cmd.p2 & 0x80 != 0;
        let exists = |k: u8| self.key_material(k).is_some();
        let base = if old_kvn == 0 {
            if exists(new_kvn) {
                return Err(0x6A80);
            }
            None
        } else {
            Some(self.key_material(old_kvn).ok_or(0x6A88u16)?)
        };
        let kik = base.as_ref().and_then(|m| m.kik.clone()).or_else(|| {
            // Adding a key set: keys are enciphered with the KIK of key set 1, if it has one.
            self.key_material(1).and_then(|m| m.kik.clone())
        });
        let mut kic = base.as_ref().map(|m| (m.kic.clone(), m.kic_alg.clone()));
        let mut kid = base.as_ref().map(|m| (m.kid.clone(), m.kid_alg.clone()));
        let mut new_kik = base.as_ref().and_then(|m| m.kik.clone());
        let mut at = 1usize;
        let mut id = first_id;
        let mut out = vec![new_kvn];
        while at < d.len() {
            let kind = *d.get(at).ok_or(0x6A80u16)?;
            let n = usize::from(*d.get(at + 1).ok_or(0x6A80u16)?);
            let mut key = d.get(at + 2..at + 2 + n).ok_or(0x6A80u16)?.to_vec();
            at += 2 + n;
            let cn = usize::from(*d.get(at).ok_or(0x6A80u16)?);
            let check = d.get(at + 1..at + 1 + cn).ok_or(0x6A80u16)?.to_vec();
            at += 1 + cn;
            if let Some(k) = &kik {
                let kk = if kind == 0x88 { 0x88 } else { 0x80 };
                let kik_kind = if k.len() == 16 && kind == 0x88 {
                    0x88
                } else {
                    kk
                };
                ecb(kik_kind, k, &mut key, false).ok_or(0x6A80u16)?;
            }
            let v = kcv(kind, &key).ok_or(0x6A80u16)?;
            if !check.is_empty() && check.as_slice() != v.as_slice() {
                return Err(0x6A80);
            }
            out.extend_from_slice(&v);
            let (ca, ma) = match (kind, key.len()) {
                (0x88, _) => ("aes-cbc", "aes-cmac"),
                (_, 24) => ("3des3", "3des3-mac"),
                (_, 16) => ("3des2", "3des2-mac"),
                _ => return Err(0x6A80),
            };
            match id {
                1 => kic = Some((key, ca.to_string())),
                2 => kid = Some((key, ma.to_string())),
                3 => new_kik = Some(key),
                _ => return Err(0x6A80),
            }
            id = id.saturating_add(1);
            if !multiple {
                break;
            }
        }
        let (Some((kic, kic_alg)), Some((kid, kid_alg))) = (kic, kid) else {
            return Err(0x6A80);
        };
        build_keyset(new_kvn, &kic_alg, &kic, &kid_alg, &kid).ok_or(0x6A80u16)?;
        let entry = KeysetNv {
            kic: KeyBytes(kic),
            kid: KeyBytes(kid),
            kik: new_kik.map(KeyBytes),
            kic_algorithm: kic_alg,
            kid_algorithm: kid_alg,
        };
        self.nv.write(|s| {
            if old_kvn != 0 && old_kvn != new_kvn {
                s.ota.keys.remove(&old_kvn);
            }
            s.ota.keys.insert(new_kvn, entry);
            s.ota
                .counters
                .entry(new_kvn)
                .or_insert_with(|| CounterBytes(vec![0; 5]));
        })?;
        self.cat.keysets.clear();
        Ok(out)
    }

    fn gp_get_data(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        match (cmd.p1, cmd.p2) {
            (0x00, 0xE0) => {
                let mut inner = Vec::new();
                for kvn in self.all_kvns() {
                    let Some(m) = self.key_material(kvn) else {
                        continue;
                    };
                    let keys = [(1u8, &m.kic_alg, m.kic.len()), (2, &m.kid_alg, m.kid.len())];
                    for (id, alg, len) in keys {
                        inner.extend_from_slice(&[0xC0, 0x04, id, kvn, key_type(alg), len as u8]);
                    }
                    if let Some(k) = &m.kik {
                        inner.extend_from_slice(&[
                            0xC0,
                            0x04,
                            3,
                            kvn,
                            key_type(&m.kic_alg),
                            k.len() as u8,
                        ]);
                    }
                }
                let mut out = vec![0xE0];
                out.extend(be_len(&inner));
                out.extend(inner);
                Ok(out)
            }
            (0x00, 0x42) | (0x00, 0x4F) => {
                let mut out = vec![cmd.p2, ISD_AID.len() as u8];
                out.extend_from_slice(ISD_AID);
                Ok(out)
            }
            _ => Err(0x6A88),
        }
    }
}

/// Split INSTALL install parameters into the `C9` value and the UICC toolkit parameters
/// (`EA { 80 … }`).
pub fn split_install_params(p: &[u8]) -> Result<(Vec<u8>, Option<ToolkitParams>), u16> {
    if p.is_empty() {
        return Ok((Vec::new(), None));
    }
    let tlvs = BerTlv::parse_all(p).map_err(|_| 0x6A80u16)?;
    let c9 = tlvs
        .iter()
        .find(|t| t.tag.0 == 0xC9)
        .map(|t| t.value_bytes())
        .ok_or(0x6A80u16)?;
    let mut tk = None;
    // SIM toolkit parameters (TS 102 226 §8.2.1.3.2.1): `EF { … CA … }`.
    if let Some(ef) = tlvs.iter().find(|t| t.tag.0 == 0xEF) {
        let inner = BerTlv::parse_all(&ef.value_bytes()).map_err(|_| 0x6A80u16)?;
        if let Some(ca) = inner.iter().find(|t| t.tag.0 == 0xCA) {
            tk = Some(ToolkitParams::parse_sim(&ca.value_bytes()).map_err(|_| 0x6A80u16)?);
        }
    }
    // UICC toolkit parameters (§8.2.1.3.2.2) take precedence.
    if let Some(ea) = tlvs.iter().find(|t| t.tag.0 == 0xEA) {
        // The inner TLVs are primitive context-specific tags 80/81/82 with plain values.
        let v = ea.value_bytes();
        let mut at = 0usize;
        while at < v.len() {
            let tag = v[at];
            let (n, used) = match v.get(at + 1) {
                Some(&0x81) => (usize::from(*v.get(at + 2).ok_or(0x6A80u16)?), 2),
                Some(&n) if n < 0x80 => (usize::from(n), 1),
                _ => return Err(0x6A80),
            };
            let s = at + 1 + used;
            let val = v.get(s..s + n).ok_or(0x6A80u16)?;
            if tag == 0x80 {
                tk = Some(ToolkitParams::parse(val).map_err(|_| 0x6A80u16)?);
            }
            at = s + n;
        }
    }
    Ok((c9, tk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcv_known_answers() {
        // DES KCV of the all-zero-plaintext with key 0123456789ABCDEF (classic value).
        let k = apdu::hex::decode("0123456789ABCDEF").unwrap();
        let v = kcv(0x80, &k).unwrap();
        let mut b = [0u8; 8];
        ecb(0x80, &k, &mut b, true).unwrap();
        assert_eq!(v, [b[0], b[1], b[2]]);
        assert_eq!(v, [0xD5, 0xD4, 0x4F]);
        assert!(kcv(0x88, &[0u8; 15]).is_none());
    }

    #[test]
    fn ota_keyset_and_counter_come_from_the_card() {
        let card = Card::new(crate::Profile::default_profile()).unwrap();
        let aes = card.ota_keyset(1).unwrap();
        assert_eq!(aes.kic_alg(), Some(ota::CipherAlgorithm::AesCbc));
        assert_eq!(aes.kid_alg(), Some(ota::ChecksumAlgorithm::AesCmac));
        assert_eq!(aes.kic().key_index, 1);
        let des = card.ota_keyset(2).unwrap();
        assert_eq!(des.kic_alg(), Some(ota::CipherAlgorithm::TripleDes2Cbc));
        assert!(card.ota_keyset(9).is_none());
        assert_eq!(card.ota_counter(1).value(), 0);
    }

    /// pySim's `install_cap … --install-parameters-stk 010001001505000000000000000000000000`
    /// (docs/cap-tutorial.rst) for HelloSTK: INSTALL [for install and make selectable] with
    /// `C9 00 EF 1C { C8 … C7 … CA 12 <SIM toolkit parameters> }`. The toolkit registration
    /// gets priority 01, five menu entries of up to 21 characters; after TERMINAL PROFILE the
    /// SET UP MENU lists "Hello, STK".
    #[test]
    fn pysim_hellostk_install_parameters() {
        let cap = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-vectors/cap/pysim-test_javacard.cap"
        ))
        .unwrap();
        let mut registry = crate::AppletRegistry::builtin();
        for c in
            crate::java_applet::JavaAppletClass::from_cap(jcvm::CapFile::from_zip(&cap).unwrap())
                .unwrap()
        {
            registry.register(c);
        }
        let mut card = Card::with_options(
            crate::Profile::default_profile(),
            crate::CardOptions {
                store: Box::new(crate::MemoryStore::new()),
                registry,
                rng: None,
            },
        )
        .unwrap();
        let aid = apdu::hex::decode("D07002CA44900101").unwrap();
        let params =
            apdu::hex::decode("c900ef1cc80200ffc70200ffca12010001001505000000000000000000000000")
                .unwrap();
        let mut d = Vec::new();
        for lv in [&aid[..5], &aid[..], &aid[..], &[0x00][..], &params[..]] {
            d.push(lv.len() as u8);
            d.extend_from_slice(lv);
        }
        d.push(0);
        let cmd = CommandApdu::new(0x80, 0xE6, 0x0C, 0x00, d, None);
        assert_eq!(card.gp_install(&cmd), Ok(vec![0x00]));
        let t = card
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .find(|t| t.aid == aid)
            .unwrap();
        assert_eq!((t.params.priority, t.params.max_text_len), (1, 0x15));
        assert_eq!(t.params.menu_slots.len(), 5);
        assert_eq!(t.menu.len(), 1);
        assert_eq!(t.menu[0].text, "Hello, STK");
        let tp = apdu::hex::decode("80100000141B61FF636101000C090000000000000000000000").unwrap();
        let r = card.process(&tp);
        assert_eq!(r[0], 0x91);
        let menu = card.process(&[0x80, 0x12, 0x00, 0x00, r[1]]);
        assert!(apdu::hex::encode(&menu).contains(&apdu::hex::encode(b"Hello, STK")));
    }

    #[test]
    fn install_params_split() {
        let p = apdu::hex::decode("C900 EA0C 800A 01000A0101010000 00 00").unwrap();
        let (c9, tk) = split_install_params(&p).unwrap();
        assert!(c9.is_empty());
        let tk = tk.unwrap();
        assert_eq!(tk.menu_slots, vec![(1, 1)]);
        assert!(split_install_params(&[0xEA, 0x00]).is_err());
        // pySim's install_cap for HelloSTK (docs/cap-tutorial.rst).
        let p =
            apdu::hex::decode("c900ef1cc80200ffc70200ffca12010001001505000000000000000000000000")
                .unwrap();
        let (c9, tk) = split_install_params(&p).unwrap();
        assert!(c9.is_empty());
        let tk = tk.unwrap();
        assert_eq!(
            (tk.priority, tk.max_text_len, tk.menu_slots.len()),
            (1, 0x15, 5)
        );
    }
}
