//! The issuer security domain on the card's own interface (GlobalPlatform Card Specification
//! v2.3 §9–§11, Amendment D): SELECT of AID `A000000151000000` answers the FCI (§11.9.3.1),
//! INITIALIZE UPDATE / EXTERNAL AUTHENTICATE open an SCP02 or SCP03 session with the key sets
//! held in the NV state ([`crate::nv::IsdNv`], from the profile's `[isd]` table; default
//! SCP03 KVN 30 AES-128 and SCP02 KVN 20 3DES, all keys `40..4F`), and card management then
//! needs that session at the profile's minimum security level:
//!
//! * GET STATUS, DELETE (AID, or key set `D2 kvn`), SET STATUS (P1 `80`: card life cycle; `40`
//!   applications), INSTALL [for install / make selectable] of registered applet classes —
//!   the same handlers the RAM path over OTA uses ([`crate::ram`]);
//! * PUT KEY of SCP key sets (DEK-encrypted keys, KCVs checked and returned), durable and
//!   tear-safe like every NV write;
//! * STORE DATA (blocks kept in NV, in order);
//! * INSTALL [for personalization] (P1 `20`, GPCS §11.5.2.3.3) of an installed applet: the
//!   following STORE DATA commands go to that applet's `process` (unwrapped, their answer
//!   wrapped again) until the block with P1 b8 (last block) or another INSTALL; an AID that
//!   is no installed applet answers `6A88`, a locked one `6985`, and an applet that does
//!   not take STORE DATA (answers `6D00`/`6E00`) `6A80`;
//! * INSTALL [for load] and LOAD store an executable load file (written to NV with the last
//!   block; out-of-order blocks abandon the load with `6A86`, a block that is not a load
//!   file `6A80`), GET STATUS lists it with the applet AIDs of its Applet component, DELETE
//!   removes it; INSTALL [for install] of one of its applets creates the instance in the
//!   Java Card VM ([`crate::java_applet`]; a CAP whose imports this card lacks answers
//!   `6A88`, like an unknown class). A CAP importing a package that is neither built in nor
//!   loaded before is refused at the last LOAD block (`6A88`, JCVM Spec §4.5); DELETE of a
//!   load file another loaded package imports answers `6985`;
//! * GET DATA of CPLC (`9F7F`), the key information template (`00E0`) and card data
//!   (`0066`) also without a session.
//!
//! Errors: a command without a session (or below the minimum level) gets `6982`; a C-MAC or
//! decryption failure closes the session and answers `6982`, a wrapped command too short to
//! hold its MAC `6988`; a wrong host cryptogram (or EXTERNAL AUTHENTICATE MAC) `6300`
//! without saying which, and nothing in NV changes except the INITIALIZE UPDATE sequence
//! counter.

use crate::card::{Card, Resp, R};
use crate::nv::IsdKeysetNv;
use crate::ram::{KeyBytes, ISD_AID};
use apdu::{CommandApdu, ResponseApdu};
use gp::put_key::PutKeyRequest;
use gp::{CardAuthenticator, CardProtocol, GpError, KeyKind, SecurityLevel, Session, StaticKeys};

/// Volatile ISD state of one logical channel on which the ISD is selected.
#[derive(Default)]
pub(crate) struct IsdChan {
    /// INITIALIZE UPDATE answered, waiting for EXTERNAL AUTHENTICATE.
    pending: Option<CardAuthenticator>,
    /// The open secure channel session.
    session: Option<Session>,
    /// A load in progress: INSTALL [for load] accepted, LOAD blocks so far.
    loading: Option<Loading>,
    /// INSTALL [for personalization] accepted: the application the following STORE DATA
    /// commands go to (GPCS §11.5.2.3.3), until the last block or another INSTALL.
    personalizing: Option<Vec<u8>>,
}

/// A load in progress (volatile until the last block: a torn or abandoned load leaves NV as
/// it was).
struct Loading {
    aid: Vec<u8>,
    next_block: u8,
    data: Vec<u8>,
}

/// The executable module AIDs of a load file data block (`C4 len components`): the Applet
/// component (tag 3: count, then per applet AID length, AID, install method offset; JCVM
/// Specification §6.5). Malformed blocks are refused.
fn load_file_modules(block: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), u16> {
    let (body, rest) = match block {
        [0xC4, 0x82, h, l, rest @ ..] => (u16::from_be_bytes([*h, *l]) as usize, rest),
        [0xC4, 0x81, l, rest @ ..] => (*l as usize, rest),
        [0xC4, l, rest @ ..] if *l < 0x80 => (*l as usize, rest),
        _ => return Err(0x6A80),
    };
    if rest.len() != body {
        return Err(0x6A80);
    }
    let mut modules = Vec::new();
    let mut p = 0;
    let mut seen_header = false;
    while p < rest.len() {
        let (tag, size) = match rest.get(p..p + 3) {
            Some([t, h, l]) => (*t, u16::from_be_bytes([*h, *l]) as usize),
            _ => return Err(0x6A80),
        };
        let info = rest.get(p + 3..p + 3 + size).ok_or(0x6A80u16)?;
        if tag == 1 {
            seen_header = info.starts_with(&[0xDE, 0xCA, 0xFF, 0xED]);
        }
        if tag == 3 {
            let (&n, mut a) = info.split_first().ok_or(0x6A80u16)?;
            for _ in 0..n {
                let (&l, r) = a.split_first().ok_or(0x6A80u16)?;
                let aid = r.get(..l as usize).ok_or(0x6A80u16)?;
                modules.push(aid.to_vec());
                a = r.get(l as usize + 2..).ok_or(0x6A80u16)?;
            }
        }
        p += 3 + size;
    }
    if !seen_header {
        // The Header component (magic DECAFFED) must come first in a CAP's load file.
        return Err(0x6A80);
    }
    Ok((rest.to_vec(), modules))
}

impl std::fmt::Debug for IsdChan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsdChan")
            .field("pending", &self.pending.is_some())
            .field("session", &self.session.as_ref().map(|s| s.level()))
            .finish()
    }
}

const GP_OID: [u8; 7] = [0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x01];

fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut v = tag.to_vec();
    if value.len() > 0x7F {
        v.push(0x81);
    }
    v.push(value.len() as u8);
    v.extend_from_slice(value);
    v
}

/// The card recognition data (GPCS Table H-1): GP OID, GP 2.3 version, the card identification
/// scheme and one secure channel OID per protocol the key sets offer.
fn recognition_data(keysets: &[IsdKeysetNv]) -> Vec<u8> {
    let mut inner = tlv(&[0x06], &GP_OID);
    inner.extend(tlv(
        &[0x60],
        &tlv(
            &[0x06],
            &[0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x02, 0x02, 0x03, 0x01],
        ),
    ));
    inner.extend(tlv(
        &[0x63],
        &tlv(&[0x06], &[0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x03]),
    ));
    let mut seen = Vec::new();
    for k in keysets {
        if !seen.contains(&(k.scp, k.i)) {
            seen.push((k.scp, k.i));
            inner.extend(tlv(
                &[0x64],
                &tlv(
                    &[0x06],
                    &[0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B, 0x04, k.scp, k.i],
                ),
            ));
        }
    }
    tlv(&[0x73], &inner)
}

fn keyset_of(k: &IsdKeysetNv) -> Result<(StaticKeys, CardProtocol), u16> {
    let (kind, proto) = match k.scp {
        2 => (KeyKind::Des3, CardProtocol::Scp02(gp::Scp02Params(k.i))),
        _ => (KeyKind::Aes, CardProtocol::Scp03(gp::Scp03Params(k.i))),
    };
    let keys = StaticKeys::new(k.kvn, kind, &k.enc.0, &k.mac.0, &k.dek.0).map_err(|_| 0x6F00u16)?;
    Ok((keys, proto))
}

/// The status word for a failed unwrap: structural errors 6988, everything that touches a
/// key (MAC, padding after decryption) 6982.
fn sm_error_sw(e: &GpError) -> u16 {
    match e {
        GpError::Truncated { .. } | GpError::BadValue { .. } => 0x6988,
        _ => 0x6982,
    }
}

impl Card {
    /// The ISD's FCI for SELECT (GPCS §11.9.3.1, Table 11-52).
    pub(crate) fn isd_fci(&self) -> Vec<u8> {
        let mut a5 = recognition_data(&self.nv.state.isd.keysets);
        a5.extend(tlv(&[0x9F, 0x65], &[0xFF]));
        let mut inner = tlv(&[0x84], ISD_AID);
        inner.extend(tlv(&[0xA5], &a5));
        tlv(&[0x6F], &inner)
    }

    /// Whether the card life cycle is CARD_LOCKED (`7F`) or TERMINATED (`FF`): only the
    /// ISD can then be selected (GPCS §5.1.1.4, §5.1.1.5).
    pub(crate) fn card_locked(&self) -> bool {
        matches!(self.nv.state.isd.card_life_cycle, 0x7F | 0xFF)
    }

    /// Mark the ISD selected on channel `ch` (no session yet).
    pub(crate) fn isd_select(&mut self, ch: usize) {
        self.isd_chans.insert(ch, IsdChan::default());
    }

    /// Whether the ISD is selected on channel `ch`.
    pub(crate) fn isd_selected(&self, ch: usize) -> bool {
        self.isd_chans.contains_key(&ch)
    }

    /// Forget the ISD selection (and any session) of channel `ch`.
    pub(crate) fn isd_deselect(&mut self, ch: usize) {
        self.isd_chans.remove(&ch);
    }

    /// One command to the ISD selected on channel `ch`.
    pub(crate) fn isd_process(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.cla & 0x80 == 0 {
            return Err(0x6E00);
        }
        match cmd.ins {
            0x50 => return self.isd_initialize_update(ch, cmd),
            0x82 => return self.isd_external_authenticate(ch, cmd),
            _ => {}
        }
        let min = SecurityLevel::parse(self.profile.isd.min_level).unwrap_or(SecurityLevel::C_MAC);
        let st = self.isd_chans.get_mut(&ch).ok_or(0x6985u16)?;
        let plain = match st.session.as_mut() {
            Some(s) => match s.unwrap_command(cmd) {
                Ok(p) => p,
                Err(e) => {
                    st.session = None;
                    st.pending = None;
                    return Err(sm_error_sw(&e));
                }
            },
            None if cmd.cla & 0x04 != 0 => return Err(0x6982),
            None => cmd.clone(),
        };
        let session = st.session.clone();
        let authorised = session.as_ref().is_some_and(|s| s.level().covers(min));
        let r = self.isd_command(ch, &plain, session.as_ref(), authorised);
        let Some(st) = self.isd_chans.get_mut(&ch) else {
            return r;
        };
        let Some(s) = st.session.as_mut() else {
            return r;
        };
        let (data, sw) = match r {
            Ok(resp) => (resp.data, resp.sw),
            Err(sw) => (Vec::new(), sw),
        };
        let wrapped = s
            .wrap_response(ResponseApdu::new(data, sw))
            .map_err(|_| 0x6F00u16)?;
        if wrapped.data.is_empty() && wrapped.sw.0 != 0x9000 {
            return Err(wrapped.sw.0);
        }
        Ok(Resp {
            data: wrapped.data,
            sw: wrapped.sw.0,
            exact: false,
        })
    }

    fn isd_initialize_update(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p2 != 0 {
            return Err(0x6A86);
        }
        let keysets = &self.nv.state.isd.keysets;
        let idx = if cmd.p1 == 0 {
            if keysets.is_empty() {
                return Err(0x6A88);
            }
            0
        } else {
            keysets
                .iter()
                .position(|k| k.kvn == cmd.p1)
                .ok_or(0x6A88u16)?
        };
        let k = keysets[idx].clone();
        let max = if k.scp == 2 { 0xFFFF } else { 0xFF_FFFF };
        if k.seq >= max {
            return Err(0x6A84);
        }
        let seq = k.seq + 1;
        let (keys, proto) = keyset_of(&k)?;
        let mut random = [0u8; 16];
        self.rng.fill(&mut random);
        let (resp, auth) = gp::card_initialize_update(
            cmd,
            &keys,
            proto,
            self.profile.isd.kdd,
            seq,
            ISD_AID,
            &random,
        )
        .map_err(|_| 0x6A80u16)?;
        self.nv.write(|s| {
            if let Some(x) = s.isd.keysets.get_mut(idx) {
                x.seq = seq;
            }
        })?;
        let st = self.isd_chans.entry(ch).or_default();
        st.session = None;
        st.pending = Some(auth);
        Ok(Resp::data(resp.emit()))
    }

    fn isd_external_authenticate(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let st = self.isd_chans.get_mut(&ch).ok_or(0x6985u16)?;
        st.session = None;
        let pending = st.pending.take().ok_or(0x6985u16)?;
        match pending.external_authenticate(cmd) {
            Ok(s) => {
                st.session = Some(s);
                Ok(Resp::ok())
            }
            Err(GpError::HostAuthentication) => Err(0x6300),
            Err(GpError::BadValue { .. }) => Err(0x6A86),
            Err(_) => Err(0x6300),
        }
    }

    /// A plain (unwrapped) ISD command; `authorised` = a session at the minimum level is open.
    fn isd_command(
        &mut self,
        ch: usize,
        cmd: &CommandApdu,
        session: Option<&Session>,
        authorised: bool,
    ) -> R {
        if cmd.ins == 0xCA {
            return self.isd_get_data(cmd).map(Resp::data);
        }
        if !matches!(cmd.ins, 0xF2 | 0xE4 | 0xF0 | 0xD8 | 0xE2 | 0xE6 | 0xE8) {
            return Err(0x6D00);
        }
        if !authorised {
            return Err(0x6982);
        }
        if cmd.ins == 0xE6 {
            // Any INSTALL ends a personalization in progress.
            if let Some(c) = self.isd_chans.get_mut(&ch) {
                c.personalizing = None;
            }
        }
        let out = match cmd.ins {
            0xF2 => self.gp_get_status(cmd),
            0xE4 if matches!(cmd.data.first(), Some(0xD0 | 0xD2)) => self.isd_delete_key(cmd),
            0xE4 if !self.is_load_file_delete(cmd) => self.gp_delete(cmd),
            0xF0 if cmd.p1 == 0x80 => self.isd_set_card_status(cmd),
            0xF0 => self.gp_set_status(cmd),
            0xD8 => match session {
                Some(s) => self.isd_put_key(s, cmd),
                None => Err(0x6982),
            },
            0xE2 => match self
                .isd_chans
                .get(&ch)
                .and_then(|c| c.personalizing.clone())
            {
                Some(aid) => return self.isd_personalize(ch, &aid, cmd),
                None => self.isd_store_data(cmd),
            },
            0xE6 if cmd.p1 == 0x20 => self.isd_install_for_personalization(ch, cmd),
            0xE6 if cmd.p1 == 0x02 => self.isd_install_for_load(ch, cmd),
            0xE8 => self.isd_load(ch, cmd),
            0xE4 => self.isd_delete_load_file(cmd),
            _ => self.gp_install(cmd),
        }?;
        Ok(Resp::data(out))
    }

    /// INSTALL [for personalization] (GPCS §11.5.2.3.3, Table 11-47): LV load file AID
    /// (empty), LV module AID (empty), LV application AID, then the empty privileges,
    /// parameters and token LVs. The application must be an installed applet (`6A88`
    /// otherwise) and not locked (`6985`).
    fn isd_install_for_personalization(
        &mut self,
        ch: usize,
        cmd: &CommandApdu,
    ) -> Result<Vec<u8>, u16> {
        let d = &cmd.data;
        let mut at = 0usize;
        let mut fields = Vec::new();
        while at < d.len() {
            let n = d[at] as usize;
            fields.push(d.get(at + 1..at + 1 + n).ok_or(0x6A80u16)?.to_vec());
            at += 1 + n;
        }
        if fields.len() < 3 || fields.len() > 6 {
            return Err(0x6A80);
        }
        let aid = fields.swap_remove(2);
        if !(5..=16).contains(&aid.len()) {
            return Err(0x6A80);
        }
        let lc = self
            .nv
            .state
            .applets
            .iter()
            .find(|a| a.aid == aid)
            .map(|a| a.life_cycle)
            .ok_or(0x6A88u16)?;
        if lc & crate::nv::life_cycle::LOCKED_BIT != 0 {
            return Err(0x6985);
        }
        let st = self.isd_chans.get_mut(&ch).ok_or(0x6985u16)?;
        st.personalizing = Some(aid);
        Ok(vec![0x00])
    }

    /// A STORE DATA during personalization: the applet's `process` answers it; the last
    /// block (P1 b8) ends the personalization. An applet without STORE DATA gets `6A80`.
    fn isd_personalize(&mut self, ch: usize, aid: &[u8], cmd: &CommandApdu) -> R {
        if cmd.p1 & 0x80 != 0 {
            if let Some(c) = self.isd_chans.get_mut(&ch) {
                c.personalizing = None;
            }
        }
        match self.applet_process(ch, aid, cmd, false) {
            Err(0x6D00 | 0x6E00) => Err(0x6A80),
            r => r,
        }
    }

    /// INSTALL [for install]: is the load file (first LV) one of the loaded CAPs?
    pub(crate) fn is_load_file_delete(&self, cmd: &CommandApdu) -> bool {
        match cmd.data.as_slice() {
            [0x4F, n, aid @ ..] if *n as usize == aid.len() => {
                self.nv.state.isd.load_files.iter().any(|f| f.aid == aid)
            }
            _ => false,
        }
    }

    /// INSTALL [for load] (GPCS §11.5.2.3.1): LV load file AID, LV SD AID, LV hash, LV load
    /// parameters, LV token. Starts a load on this channel.
    pub(crate) fn isd_install_for_load(
        &mut self,
        ch: usize,
        cmd: &CommandApdu,
    ) -> Result<Vec<u8>, u16> {
        let d = &cmd.data;
        let mut at = 0usize;
        let mut fields = Vec::new();
        for _ in 0..5 {
            let n = *d.get(at).ok_or(0x6A80u16)? as usize;
            fields.push(d.get(at + 1..at + 1 + n).ok_or(0x6A80u16)?.to_vec());
            at += 1 + n;
        }
        if at != d.len() {
            return Err(0x6A80);
        }
        let aid = fields.swap_remove(0);
        if !(5..=16).contains(&aid.len()) {
            return Err(0x6A80);
        }
        let sd = &fields[0];
        if !sd.is_empty() && sd.as_slice() != ISD_AID {
            return Err(0x6A88);
        }
        let exists = self.nv.state.isd.load_files.iter().any(|f| f.aid == aid)
            || self.registry().find(&aid).is_some();
        if exists {
            return Err(0x6985);
        }
        let st = self.isd_chans.get_mut(&ch).ok_or(0x6985u16)?;
        st.loading = Some(Loading {
            aid,
            next_block: 0,
            data: Vec::new(),
        });
        Ok(vec![0x00])
    }

    /// LOAD (GPCS §11.6): blocks numbered from 0 in P2, P1 `80` on the last. Out-of-order
    /// blocks abandon the load (`6A86`); the file reaches NV only with the last block.
    pub(crate) fn isd_load(&mut self, ch: usize, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let st = self.isd_chans.get_mut(&ch).ok_or(0x6985u16)?;
        let Some(l) = st.loading.as_mut() else {
            return Err(0x6985);
        };
        if cmd.p2 != l.next_block || !matches!(cmd.p1, 0x00 | 0x80) {
            st.loading = None;
            return Err(0x6A86);
        }
        l.data.extend_from_slice(&cmd.data);
        l.next_block = l.next_block.wrapping_add(1);
        if cmd.p1 == 0x00 {
            return Ok(Vec::new());
        }
        let Some(l) = st.loading.take() else {
            return Err(0x6985);
        };
        let (data, modules) = load_file_modules(&l.data)?;
        // JCVM Spec §4.5: a package importing one the card lacks (neither a built-in API
        // package nor a package loaded before) is refused.
        if let Ok(cap) = jcvm::CapFile::from_load_file(&data) {
            let card: Vec<Vec<u8>> =
                crate::java_applet::card_packages(&self.nv.state.isd.load_files, None)
                    .iter()
                    .map(|c| c.header.package.aid.clone())
                    .collect();
            let card: Vec<&[u8]> = card.iter().map(|a| a.as_slice()).collect();
            if !jcvm::link::missing_imports(&cap, &card).is_empty() {
                return Err(0x6A88);
            }
        }
        let entry = crate::nv::LoadFileNv {
            aid: l.aid,
            modules,
            data,
        };
        self.nv.write(|s| s.isd.load_files.push(entry))?;
        Ok(vec![0x00])
    }

    /// DELETE of a load file (GPCS §11.2.2.3.1): refused with `6985` while instances of its
    /// applets exist, unless P2 says "delete related objects" (`80`): then those go first.
    pub(crate) fn isd_delete_load_file(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let aid = cmd.data.get(2..).ok_or(0x6A80u16)?.to_vec();
        // A library package another loaded package imports stays (JCVM Spec §4.5; GPCS
        // §11.2.2.3.1: 6985), even with "delete related objects".
        let files = &self.nv.state.isd.load_files;
        let package = files
            .iter()
            .find(|f| f.aid == aid)
            .and_then(|f| jcvm::CapFile::from_load_file(&f.data).ok())
            .map(|c| c.header.package.aid);
        if let Some(package) = &package {
            let imported = crate::java_applet::card_packages(files, Some(&aid))
                .iter()
                .any(|c| c.imports.iter().any(|i| &i.aid == package));
            if imported {
                return Err(0x6985);
            }
        }
        let modules: Vec<Vec<u8>> = self
            .nv
            .state
            .isd
            .load_files
            .iter()
            .filter(|f| f.aid == aid)
            .flat_map(|f| f.modules.clone())
            .filter(|m| self.registry().find(m).is_none())
            .collect();
        let instances: Vec<Vec<u8>> = self
            .nv
            .state
            .applets
            .iter()
            .filter(|a| modules.contains(&a.class_aid))
            .map(|a| a.aid.clone())
            .collect();
        if !instances.is_empty() && cmd.p2 & 0x80 == 0 {
            return Err(0x6985);
        }
        for i in instances {
            let mut d = vec![0x4F, i.len() as u8];
            d.extend_from_slice(&i);
            self.gp_delete(&CommandApdu::new(cmd.cla, 0xE4, 0x00, 0x00, d, None))?;
        }
        let statics = package.map(|p| jcvm::cap::hex(&p));
        self.nv.write(|s| {
            s.isd.load_files.retain(|f| f.aid != aid);
            if let Some(k) = &statics {
                s.isd.package_statics.remove(k);
            }
        })?;
        Ok(vec![0x00])
    }

    fn isd_get_data(&self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        match (cmd.p1, cmd.p2) {
            (0x00, 0x66) => Ok(tlv(&[0x66], &recognition_data(&self.nv.state.isd.keysets))),
            (0x9F, 0x7F) => {
                // CPLC (GPCS Table H-2): IC fabricator, type, OS id, dates… A fixed emulator
                // identity with the KDD's last 4 bytes as IC serial number.
                let mut c = [0u8; 42];
                c[0..2].copy_from_slice(&[0x53, 0x4D]);
                c[2..4].copy_from_slice(&[0x00, 0x01]);
                c[4..6].copy_from_slice(&[0x53, 0x4F]);
                c[10..12].copy_from_slice(&[0x60, 0x01]);
                c[12..16].copy_from_slice(&self.profile.isd.kdd[6..10]);
                Ok(tlv(&[0x9F, 0x7F], &c))
            }
            (0x00, 0xE0) => {
                let mut inner = Vec::new();
                for k in &self.nv.state.isd.keysets {
                    let t = if k.scp == 2 { 0x80 } else { 0x88 };
                    for (id, key) in [(1u8, &k.enc), (2, &k.mac), (3, &k.dek)] {
                        inner.extend_from_slice(&[0xC0, 0x04, id, k.kvn, t, key.0.len() as u8]);
                    }
                }
                Ok(tlv(&[0xE0], &inner))
            }
            _ => Err(0x6A88),
        }
    }

    fn isd_put_key(&mut self, session: &Session, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let req = PutKeyRequest::parse(session, cmd).map_err(|_| 0x6A80u16)?;
        let sets = &self.nv.state.isd.keysets;
        let new = &req.keys;
        let scp = session.version();
        let (pos, i) = if req.replace == 0 {
            if sets.iter().any(|k| k.kvn == new.kvn) {
                return Err(0x6A80);
            }
            (None, if scp == 2 { 0x55 } else { 0x70 })
        } else {
            let p = sets
                .iter()
                .position(|k| k.kvn == req.replace)
                .ok_or(0x6A88u16)?;
            if new.kvn != req.replace && sets.iter().any(|k| k.kvn == new.kvn) {
                return Err(0x6A80);
            }
            let i = if sets[p].scp == scp {
                sets[p].i
            } else if scp == 2 {
                0x55
            } else {
                0x70
            };
            (Some(p), i)
        };
        let entry = IsdKeysetNv {
            kvn: new.kvn,
            scp,
            i,
            enc: KeyBytes(new.enc.bytes().to_vec()),
            mac: KeyBytes(new.mac.bytes().to_vec()),
            dek: KeyBytes(new.dek.bytes().to_vec()),
            seq: 0,
        };
        let out = req.response().map_err(|_| 0x6F00u16)?;
        self.nv.write(|s| match pos {
            Some(p) => {
                if let Some(x) = s.isd.keysets.get_mut(p) {
                    *x = entry;
                }
            }
            None => s.isd.keysets.push(entry),
        })?;
        Ok(out)
    }

    fn isd_delete_key(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let kvn = match cmd.data.as_slice() {
            [0xD2, 0x01, kvn] => *kvn,
            [0xD2, 0x01, kvn, 0xD0, 0x01, _] | [0xD0, 0x01, _, 0xD2, 0x01, kvn] => *kvn,
            _ => return Err(0x6A80),
        };
        let sets = &self.nv.state.isd.keysets;
        let p = sets.iter().position(|k| k.kvn == kvn).ok_or(0x6A88u16)?;
        if sets.len() == 1 {
            // The last key set: deleting it would lock the ISD for good.
            return Err(0x6985);
        }
        self.nv.write(|s| {
            s.isd.keysets.remove(p);
        })?;
        Ok(vec![0x00])
    }

    fn isd_set_card_status(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let cur = self.nv.state.isd.card_life_cycle;
        let new = cmd.p2;
        if !matches!(new, 0x07 | 0x0F | 0x7F | 0xFF) {
            return Err(0x6A80);
        }
        if cur == 0xFF || (new < cur && !(cur == 0x7F && new == 0x0F)) {
            return Err(0x6985);
        }
        self.nv.write(|s| s.isd.card_life_cycle = new)?;
        Ok(Vec::new())
    }

    fn isd_store_data(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, u16> {
        let have = self.nv.state.isd.store_data.len();
        let block = cmd.p2 as usize;
        if block != 0 && block != have {
            // Blocks must come in order (GPCS §11.11.2.2).
            return Err(0x6A86);
        }
        let data = cmd.data.clone();
        self.nv.write(|s| {
            if block == 0 {
                s.isd.store_data.clear();
            }
            s.isd.store_data.push(data);
        })?;
        Ok(Vec::new())
    }
}
