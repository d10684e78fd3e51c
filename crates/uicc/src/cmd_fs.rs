//! File-system commands (TS 102 221 §11.1 and §11.3): SELECT, STATUS, READ/UPDATE BINARY,
//! READ/UPDATE RECORD, SEARCH RECORD, INCREASE, DEACTIVATE/ACTIVATE FILE, RETRIEVE/SET DATA.

use crate::access::{allowed, Operation};
use crate::card::{Card, Chan, Resp, R};
use crate::fs::{self, EfStructure, NodeId, NodeKind, MF};
use crate::nv::{lcsi, life_cycle, Content};
use apdu::CommandApdu;

/// SW for "file not found".
const NOT_FOUND: u16 = 0x6A82;

fn is_transparent(s: EfStructure) -> bool {
    matches!(s, EfStructure::Transparent { .. })
}

fn is_record(s: EfStructure) -> bool {
    s.record_dims().is_some()
}

fn is_cyclic(s: EfStructure) -> bool {
    matches!(s, EfStructure::Cyclic { .. })
}

fn is_bertlv(s: EfStructure) -> bool {
    matches!(s, EfStructure::BerTlv { .. })
}

/// Target of a SELECT by AID.
enum AidTarget {
    Adf(NodeId),
    Applet(Vec<u8>),
    /// The issuer security domain ([`crate::isd`]).
    Isd,
}

impl Card {
    pub(crate) fn chan(&self, ch: usize) -> Result<&Chan, u16> {
        self.chans.get(ch).and_then(|c| c.as_ref()).ok_or(0x6881)
    }

    pub(crate) fn chan_mut(&mut self, ch: usize) -> Result<&mut Chan, u16> {
        self.chans
            .get_mut(ch)
            .and_then(|c| c.as_mut())
            .ok_or(0x6881)
    }

    /// PIN status template entries for a directory's FCP: outside any ADF every key
    /// reference the card declares (once); in an ADF (or a DF under it) its application PINs (01–08, with usage qualifier
    /// 08 when replaced by the universal PIN), its own local PINs, and the universal PIN when
    /// it stands in for one of them (TS 102 221 §9.5.2).
    fn pin_status(&self, id: NodeId) -> fs::PinStatusList {
        let adf = self.adf_of_node(id);
        let pins = self.nv.state.pins.iter().zip(&self.profile.pins);
        let mut out: fs::PinStatusList = match adf {
            None => {
                let mut v: fs::PinStatusList = Vec::new();
                for (p, _) in pins {
                    if !v.iter().any(|e| e.0 == p.key_ref) {
                        v.push((p.key_ref, p.enabled, None));
                    }
                }
                v
            }
            Some(a) => pins
                .filter(|(p, c)| {
                    matches!(p.key_ref, 0x01..=0x08)
                        || (matches!(p.key_ref, 0x81..=0x88) && c.adf == Some(a))
                })
                .map(|(p, _)| {
                    let uq = (p.use_universal && !p.enabled).then_some(0x08);
                    (p.key_ref, p.enabled, uq)
                })
                .collect(),
        };
        if adf.is_some() && out.iter().any(|e| e.2.is_some()) {
            if let Some(u) = self
                .nv
                .state
                .pins
                .iter()
                .find(|p| p.key_ref == crate::cmd_pin::UNIVERSAL_PIN)
            {
                out.push((u.key_ref, u.enabled, None));
            }
        }
        out
    }

    pub(crate) fn fcp_of(&self, id: NodeId) -> Vec<u8> {
        match self.nv.state.files.get(id) {
            Some(f) => fs::fcp(&self.profile.tree, id, f, &self.pin_status(id), 0x0001_0000),
            None => Vec::new(),
        }
    }

    /// Check the access rule of `id` for `op` (6982 when not satisfied).
    pub(crate) fn check_access(&self, id: NodeId, op: Operation) -> Result<(), u16> {
        let node = self.profile.tree.node(id).ok_or(NOT_FOUND)?;
        let Some(arr) = node.arr else { return Ok(()) };
        let rule = match self.nv.state.files.get(arr.file).map(|f| &f.content) {
            Some(Content::Records(r)) => r
                .get(arr.record as usize - 1)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        };
        // Outside any ADF, a GSM (class A0) command resolves local key references (CHV2 =
        // PIN2) in the card's GSM ADF.
        let adf = self.adf_of_node(id).or(self.gsm_key_adf);
        if allowed(rule, op, &|k| self.key_ok(adf, k)) {
            Ok(())
        } else {
            Err(0x6982)
        }
    }

    pub(crate) fn is_active(&self, id: NodeId) -> bool {
        self.nv
            .state
            .files
            .get(id)
            .is_some_and(|f| f.lcsi & 0x05 == 0x05)
    }

    /// Make `id` current on channel `ch` (EF: its directory becomes the current DF).
    pub(crate) fn set_current(&mut self, ch: usize, id: NodeId) -> Result<(), u16> {
        let tree = &self.profile.tree;
        let node = tree.node(id).ok_or(NOT_FOUND)?;
        let dir = tree.dir_of(id);
        // The application (ADF) that contains the selection, if any.
        let mut adf = None;
        let mut cur = Some(dir);
        while let Some(c) = cur {
            if matches!(tree.nodes[c].kind, NodeKind::Adf { .. }) {
                adf = Some(c);
                break;
            }
            cur = tree.nodes[c].parent;
        }
        let is_ef = !node.is_dir();
        let c = self.chan_mut(ch)?;
        c.df = dir;
        if adf.is_some() {
            c.adf = adf;
        }
        c.ef = if is_ef { Some(id) } else { None };
        c.rec = None;
        Ok(())
    }

    /// Resolve a FID relative to the channel's current DF (TS 102 221 §8.4.1).
    pub(crate) fn find_fid(&self, c: &Chan, fid: u16) -> Option<NodeId> {
        let tree = &self.profile.tree;
        match fid {
            0x3F00 => return Some(MF),
            0x7FFF => return c.adf,
            _ => {}
        }
        let cur = c.df;
        if let Some(x) = tree.child(cur, fid) {
            return Some(x);
        }
        if tree.node(cur).is_some_and(|n| n.fid == fid) {
            return Some(cur);
        }
        let parent = tree.node(cur)?.parent?;
        if tree.node(parent).is_some_and(|n| n.fid == fid) {
            return Some(parent);
        }
        tree.child(parent, fid)
    }

    fn walk_path(&self, c: &Chan, start: NodeId, data: &[u8]) -> Result<NodeId, u16> {
        if data.is_empty() || !data.len().is_multiple_of(2) {
            return Err(0x6700);
        }
        let tree = &self.profile.tree;
        let mut cur = start;
        for (i, pair) in data.chunks_exact(2).enumerate() {
            let fid = u16::from_be_bytes([pair[0], pair[1]]);
            if !tree.node(cur).is_some_and(|n| n.is_dir()) {
                return Err(NOT_FOUND);
            }
            cur = match fid {
                0x3F00 if i == 0 && start == MF => MF,
                0x7FFF if i == 0 => c.adf.ok_or(NOT_FOUND)?,
                _ => tree.child(cur, fid).ok_or(NOT_FOUND)?,
            };
        }
        Ok(cur)
    }

    /// Candidate applications for SELECT by AID: ADFs listed in EF.DIR (in record order), then
    /// applet instances.
    fn aid_candidates(&self) -> Vec<(Vec<u8>, AidTarget)> {
        let tree = &self.profile.tree;
        let mut v = Vec::new();
        if let Some(dir) = tree.child(MF, 0x2F00) {
            if let Some(Content::Records(recs)) = self.nv.state.files.get(dir).map(|f| &f.content) {
                for r in recs {
                    if let Ok((t, _)) = apdu::tlv::BerTlv::parse_one(r) {
                        if t.tag.0 == 0x61 {
                            if let Some(aid) = t.find(0x4F) {
                                let aid = aid.value_bytes();
                                if let Some(id) = tree.adf_by_aid(&aid) {
                                    v.push((aid, AidTarget::Adf(id)));
                                }
                            }
                        }
                    }
                }
            }
        }
        for a in &self.nv.state.applets {
            if a.life_cycle & life_cycle::SELECTABLE == life_cycle::SELECTABLE {
                v.push((a.aid.clone(), AidTarget::Applet(a.aid.clone())));
            }
        }
        v.push((crate::ram::ISD_AID.to_vec(), AidTarget::Isd));
        v.push((crate::ram::ISD_AID_GP211.to_vec(), AidTarget::Isd));
        v
    }

    pub(crate) fn cmd_select(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let p2 = cmd.p2;
        if p2 & 0x80 != 0 || p2 & 0x60 == 0x20 || p2 & 0x60 == 0x60 {
            return Err(0x6A86);
        }
        let fcp = match p2 & 0x1C {
            0x00 | 0x04 => true,
            0x0C => false,
            _ => return Err(0x6A86),
        };
        let terminate = p2 & 0x60 == 0x40;
        let c = self.chan(ch)?.clone();
        let target = match cmd.p1 {
            0x00 => {
                if cmd.data.is_empty() {
                    MF
                } else if cmd.data.len() != 2 {
                    return Err(0x6700);
                } else {
                    let fid = u16::from_be_bytes([cmd.data[0], cmd.data[1]]);
                    self.find_fid(&c, fid).ok_or(NOT_FOUND)?
                }
            }
            0x01 => {
                if cmd.data.len() != 2 {
                    return Err(0x6700);
                }
                let fid = u16::from_be_bytes([cmd.data[0], cmd.data[1]]);
                let id = self.profile.tree.child(c.df, fid).ok_or(NOT_FOUND)?;
                if !self.profile.tree.nodes[id].is_dir() {
                    return Err(NOT_FOUND);
                }
                id
            }
            0x03 => {
                if !cmd.data.is_empty() {
                    return Err(0x6700);
                }
                self.profile
                    .tree
                    .node(c.df)
                    .and_then(|n| n.parent)
                    .ok_or(NOT_FOUND)?
            }
            0x04 => return self.select_aid(ch, cmd, fcp, terminate),
            0x08 => self.walk_path(&c, MF, &cmd.data)?,
            0x09 => self.walk_path(&c, c.df, &cmd.data)?,
            _ => return Err(0x6A86),
        };
        self.drop_applet(ch);
        self.set_current(ch, target)?;
        let sw = if self.is_active(target) {
            0x9000
        } else {
            0x6283
        };
        if fcp {
            Ok(Resp {
                data: self.fcp_of(target),
                sw,
                exact: true,
            })
        } else {
            Ok(Resp::sw(sw))
        }
    }

    fn select_aid(&mut self, ch: usize, cmd: &CommandApdu, fcp: bool, terminate: bool) -> R {
        if cmd.data.is_empty() || cmd.data.len() > 16 {
            return Err(0x6700);
        }
        let c = self.chan(ch)?.clone();
        let cands: Vec<(Vec<u8>, AidTarget)> = self
            .aid_candidates()
            .into_iter()
            .filter(|(aid, _)| aid.starts_with(&cmd.data))
            .collect();
        let current = cands.iter().position(|(_, t)| match t {
            AidTarget::Adf(id) => c.applet.is_none() && c.adf == Some(*id),
            AidTarget::Applet(a) => c.applet.as_deref() == Some(a.as_slice()),
            AidTarget::Isd => self.isd_selected(ch),
        });
        let idx = match cmd.p2 & 0x03 {
            0 => 0,
            1 => cands.len().checked_sub(1).ok_or(NOT_FOUND)?,
            2 => current.map_or(0, |i| i + 1),
            _ => match current {
                Some(i) => i.checked_sub(1).ok_or(NOT_FOUND)?,
                None => cands.len().checked_sub(1).ok_or(NOT_FOUND)?,
            },
        };
        let (_, target) = cands.into_iter().nth(idx).ok_or(NOT_FOUND)?;
        if self.card_locked() && !matches!(target, AidTarget::Isd) {
            // CARD_LOCKED (and TERMINATED): only the ISD can be selected (GPCS §5.1.1.4).
            return Err(NOT_FOUND);
        }
        match target {
            AidTarget::Adf(id) => {
                self.drop_applet(ch);
                if terminate {
                    let cm = self.chan_mut(ch)?;
                    if cm.adf == Some(id) {
                        cm.adf = None;
                        cm.df = MF;
                        cm.ef = None;
                        cm.rec = None;
                    }
                    return Ok(Resp::ok());
                }
                self.set_current(ch, id)?;
                self.chan_mut(ch)?.adf = Some(id);
                let sw = if self.is_active(id) { 0x9000 } else { 0x6283 };
                if fcp {
                    Ok(Resp {
                        data: self.fcp_of(id),
                        sw,
                        exact: true,
                    })
                } else {
                    Ok(Resp::sw(sw))
                }
            }
            AidTarget::Isd => {
                self.drop_applet(ch);
                if terminate {
                    return Ok(Resp::ok());
                }
                self.isd_select(ch);
                if fcp {
                    Ok(Resp::unit(self.isd_fci()))
                } else {
                    Ok(Resp::ok())
                }
            }
            AidTarget::Applet(aid) => {
                let lc = self
                    .nv
                    .state
                    .applets
                    .iter()
                    .find(|a| a.aid == aid)
                    .map(|a| a.life_cycle)
                    .unwrap_or(0);
                if lc & life_cycle::LOCKED_BIT != 0 {
                    return Err(0x6999);
                }
                self.drop_applet(ch);
                if terminate {
                    return Ok(Resp::ok());
                }
                if !self.applet_select(&aid) {
                    return Err(0x6999);
                }
                self.chan_mut(ch)?.applet = Some(aid.clone());
                let mut r = self.applet_process(ch, &aid, cmd, true)?;
                if !fcp {
                    r.data.clear();
                }
                Ok(r)
            }
        }
    }

    /// The EF a data command works on: by SFI (searched in the current DF, then made current)
    /// or the current EF. 6986 without a current EF.
    fn target_ef(&mut self, ch: usize, sfi: Option<u8>) -> Result<NodeId, u16> {
        let c = self.chan(ch)?;
        match sfi {
            Some(s) => {
                let id = self.profile.tree.by_sfi(c.df, s).ok_or(NOT_FOUND)?;
                self.set_current(ch, id)?;
                Ok(id)
            }
            None => c.ef.ok_or(0x6986),
        }
    }

    /// The target EF after the checks in the order a card makes them: an EF is selected
    /// (6986), its structure fits the command (6981), it is activated (6283), and the access
    /// condition holds (6982).
    pub(crate) fn ef_checked(
        &mut self,
        ch: usize,
        sfi: Option<u8>,
        op: Operation,
        fits: fn(EfStructure) -> bool,
    ) -> Result<(NodeId, EfStructure), u16> {
        let id = self.target_ef(ch, sfi)?;
        let s = self
            .profile
            .tree
            .node(id)
            .and_then(|n| n.ef())
            .ok_or(0x6986u16)?;
        if !fits(s) {
            return Err(0x6981);
        }
        if !self.is_active(id) {
            return Err(0x6283);
        }
        self.check_access(id, op)?;
        Ok((id, s))
    }

    fn binary_target(cmd: &CommandApdu) -> Result<(Option<u8>, usize), u16> {
        if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 {
                return Err(0x6B00);
            }
            let sfi = cmd.p1 & 0x1F;
            if sfi == 0 || sfi == 0x1F {
                return Err(0x6B00);
            }
            Ok((Some(sfi), cmd.p2 as usize))
        } else {
            Ok((None, (((cmd.p1 & 0x7F) as usize) << 8) | cmd.p2 as usize))
        }
    }

    pub(crate) fn cmd_read_binary(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (sfi, off) = Self::binary_target(cmd)?;
        let (id, s) = self.ef_checked(ch, sfi, Operation::Read, is_transparent)?;
        let EfStructure::Transparent { size } = s else {
            return Err(0x6981);
        };
        if off > size || (off == size && size > 0) {
            return Err(0x6B00);
        }
        let avail = size - off;
        let ne = cmd.le.unwrap_or(256) as usize;
        let wildcard = cmd.le.is_none() || ne == 256 || ne == 65536;
        let n = if ne > avail {
            if !wildcard {
                return Err(0x6C00 | (avail.min(256) & 0xFF) as u16);
            }
            avail
        } else {
            ne
        };
        match self.nv.state.files.get(id).map(|f| &f.content) {
            Some(Content::Bytes(b)) => {
                Ok(Resp::data(b.get(off..off + n).ok_or(0x6F00u16)?.to_vec()))
            }
            _ => Err(0x6F00),
        }
    }

    pub(crate) fn cmd_update_binary(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let (sfi, off) = Self::binary_target(cmd)?;
        if cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (id, s) = self.ef_checked(ch, sfi, Operation::Update, is_transparent)?;
        let EfStructure::Transparent { size } = s else {
            return Err(0x6981);
        };
        if off >= size {
            return Err(0x6B00);
        }
        let end = off
            .checked_add(cmd.data.len())
            .filter(|&e| e <= size)
            .ok_or(0x6700u16)?;
        let data = &cmd.data;
        self.nv.write_file(id, |f| {
            if let Content::Bytes(b) = &mut f.content {
                if let Some(dst) = b.get_mut(off..end) {
                    dst.copy_from_slice(data);
                }
            }
        })?;
        Ok(Resp::ok())
    }

    pub(crate) fn records(&self, id: NodeId) -> Result<&Vec<Vec<u8>>, u16> {
        match self.nv.state.files.get(id).map(|f| &f.content) {
            Some(Content::Records(r)) => Ok(r),
            _ => Err(0x6981),
        }
    }

    /// Resolve the record a READ/UPDATE RECORD addresses (1-based) and the new pointer.
    pub(crate) fn record_number(
        &self,
        ch: usize,
        s: EfStructure,
        p1: u8,
        mode: u8,
        moves: bool,
    ) -> Result<usize, u16> {
        let (_, n) = s.record_dims().ok_or(0x6981u16)?;
        let cyclic = matches!(s, EfStructure::Cyclic { .. });
        let cur = self.chan(ch)?.rec;
        let r = match mode {
            0x04 => {
                if p1 == 0 {
                    cur.ok_or(0x6A83u16)?
                } else {
                    p1 as usize
                }
            }
            0x02 => match cur {
                None => 1,
                Some(c) if c < n => c + 1,
                Some(_) if cyclic => 1,
                Some(_) => return Err(0x6A83),
            },
            0x03 => match cur {
                None => n,
                Some(c) if c > 1 => c - 1,
                Some(_) if cyclic => n,
                Some(_) => return Err(0x6A83),
            },
            _ => return Err(0x6A86),
        };
        if r == 0 || r > n {
            return Err(0x6A83);
        }
        let _ = moves;
        Ok(r)
    }

    fn record_target(cmd: &CommandApdu) -> (Option<u8>, u8) {
        let sfi = cmd.p2 >> 3;
        (if sfi == 0 { None } else { Some(sfi) }, cmd.p2 & 0x07)
    }

    pub(crate) fn cmd_read_record(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (sfi, mode) = Self::record_target(cmd);
        if sfi == Some(0x1F) {
            return Err(0x6A86);
        }
        let (id, s) = self.ef_checked(ch, sfi, Operation::Read, is_record)?;
        let r = self.record_number(ch, s, cmd.p1, mode, mode != 0x04)?;
        let rec = self.records(id)?.get(r - 1).cloned().ok_or(0x6A83u16)?;
        if mode != 0x04 || cmd.p1 == 0 {
            self.chan_mut(ch)?.rec = Some(r);
        }
        Ok(Resp::unit(rec))
    }

    pub(crate) fn cmd_update_record(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let (sfi, mode) = Self::record_target(cmd);
        if sfi == Some(0x1F) {
            return Err(0x6A86);
        }
        let (id, s) = self.ef_checked(ch, sfi, Operation::Update, is_record)?;
        let (rl, _) = s.record_dims().ok_or(0x6981u16)?;
        if cmd.data.len() != rl {
            return Err(0x6700);
        }
        let data = cmd.data.clone();
        if let EfStructure::Cyclic { .. } = s {
            if mode != 0x03 {
                return Err(0x6A86);
            }
            self.nv.write_file(id, |f| {
                if let Content::Records(r) = &mut f.content {
                    r.rotate_right(1);
                    if let Some(first) = r.first_mut() {
                        *first = data;
                    }
                }
            })?;
            self.chan_mut(ch)?.rec = Some(1);
            return Ok(Resp::ok());
        }
        let r = self.record_number(ch, s, cmd.p1, mode, true)?;
        self.nv.write_file(id, |f| {
            if let Content::Records(recs) = &mut f.content {
                if let Some(dst) = recs.get_mut(r - 1) {
                    *dst = data;
                }
            }
        })?;
        if mode != 0x04 || cmd.p1 == 0 {
            self.chan_mut(ch)?.rec = Some(r);
        }
        Ok(Resp::ok())
    }

    pub(crate) fn cmd_search_record(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let (sfi, mode) = Self::record_target(cmd);
        if cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (id, s) = self.ef_checked(ch, sfi, Operation::Read, is_record)?;
        let (rl, n) = s.record_dims().ok_or(0x6981u16)?;
        let cur = self.chan(ch)?.rec;
        let start_rec = |p1: u8| -> Result<usize, u16> {
            let r = if p1 == 0 {
                cur.unwrap_or(1)
            } else {
                p1 as usize
            };
            if r == 0 || r > n {
                Err(0x6A83)
            } else {
                Ok(r)
            }
        };
        // (first record, forward?, offset or value mode, pattern)
        let (first, forward, offset, value, pattern): (usize, bool, usize, Option<u8>, &[u8]) =
            match mode {
                0x04 | 0x05 => (start_rec(cmd.p1)?, mode == 0x04, 0, None, &cmd.data[..]),
                0x06 => {
                    if cmd.data.len() < 3 {
                        return Err(0x6700);
                    }
                    let ind = cmd.data[0];
                    let (first, fwd) = match ind & 0x07 {
                        0x04 => (start_rec(cmd.p1)?, true),
                        0x05 => (start_rec(cmd.p1)?, false),
                        0x06 => (cur.map_or(1, |c| c + 1), true),
                        0x07 => (cur.map_or(n, |c| c.saturating_sub(1)), false),
                        _ => return Err(0x6A80),
                    };
                    if ind & 0x08 != 0 {
                        (first, fwd, 0, Some(cmd.data[1]), &cmd.data[2..])
                    } else {
                        (first, fwd, cmd.data[1] as usize, None, &cmd.data[2..])
                    }
                }
                _ => return Err(0x6A86),
            };
        if pattern.len() > rl || offset >= rl {
            return Err(0x6700);
        }
        let recs = self.records(id)?;
        let order: Vec<usize> = if (1..=n).contains(&first) {
            if forward {
                (first..=n).collect()
            } else {
                (1..=first).rev().collect()
            }
        } else {
            Vec::new()
        };
        let mut hits = Vec::new();
        for r in order {
            let Some(rec) = recs.get(r - 1) else { continue };
            let from = match value {
                Some(v) => match rec.iter().position(|&b| b == v) {
                    Some(p) => p + 1,
                    None => continue,
                },
                None => offset,
            };
            let hay = rec.get(from..).unwrap_or(&[]);
            if hay.windows(pattern.len()).any(|w| w == pattern) {
                hits.push(r as u8);
            }
        }
        match hits.first() {
            Some(&h) => {
                self.chan_mut(ch)?.rec = Some(h as usize);
                Ok(Resp::data(hits))
            }
            None => Err(0x6282),
        }
    }

    pub(crate) fn cmd_increase(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(0x6B00);
        }
        if cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (id, s) = self.ef_checked(ch, None, Operation::Increase, is_cyclic)?;
        let EfStructure::Cyclic { record_len: rl, .. } = s else {
            return Err(0x6981);
        };
        if cmd.data.len() > rl {
            return Err(0x6700);
        }
        let cur = self.records(id)?.first().cloned().ok_or(0x6A83u16)?;
        // Big-endian addition of the right-aligned value.
        let mut sum = cur.clone();
        let mut carry = 0u16;
        for i in 0..rl {
            let pos = rl - 1 - i;
            let add = if i < cmd.data.len() {
                cmd.data[cmd.data.len() - 1 - i] as u16
            } else {
                0
            };
            let t = sum[pos] as u16 + add + carry;
            sum[pos] = (t & 0xFF) as u8;
            carry = t >> 8;
        }
        if carry != 0 {
            return Err(0x9850);
        }
        let new = sum.clone();
        self.nv.write_file(id, |f| {
            if let Content::Records(r) = &mut f.content {
                r.rotate_right(1);
                if let Some(first) = r.first_mut() {
                    *first = new;
                }
            }
        })?;
        self.chan_mut(ch)?.rec = Some(1);
        let mut out = sum;
        out.extend_from_slice(&cmd.data);
        Ok(Resp::unit(out))
    }

    pub(crate) fn cmd_status(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 > 0x02 {
            return Err(0x6B00);
        }
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        let c = self.chan(ch)?;
        let dir = c.df;
        match cmd.p2 {
            0x00 => Ok(Resp::unit(self.fcp_of(dir))),
            0x01 => {
                let aid = c
                    .adf
                    .and_then(|a| self.profile.tree.node(a))
                    .and_then(|n| n.aid())
                    .map(|a| a.to_vec());
                match aid {
                    Some(a) => {
                        let mut v = vec![0x84, a.len() as u8];
                        v.extend_from_slice(&a);
                        Ok(Resp::unit(v))
                    }
                    None => Ok(Resp::ok()),
                }
            }
            0x0C => Ok(Resp::ok()),
            _ => Err(0x6B00),
        }
    }

    pub(crate) fn cmd_activation(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let activate = cmd.ins == 0x44;
        let id = if cmd.data.is_empty() {
            if cmd.p1 != 0 || cmd.p2 != 0 {
                return Err(0x6B00);
            }
            let c = self.chan(ch)?;
            c.ef.unwrap_or(c.df)
        } else {
            let c = self.chan(ch)?.clone();
            let id = match cmd.p1 {
                0x00 if cmd.data.len() == 2 => self
                    .find_fid(&c, u16::from_be_bytes([cmd.data[0], cmd.data[1]]))
                    .ok_or(NOT_FOUND)?,
                0x00 => return Err(0x6700),
                0x08 => self.walk_path(&c, MF, &cmd.data)?,
                0x09 => self.walk_path(&c, c.df, &cmd.data)?,
                _ => return Err(0x6B00),
            };
            self.set_current(ch, id)?;
            id
        };
        if id == MF {
            return Err(0x6985);
        }
        self.check_access(
            id,
            if activate {
                Operation::Activate
            } else {
                Operation::Deactivate
            },
        )?;
        let want = if activate {
            lcsi::ACTIVATED
        } else {
            lcsi::DEACTIVATED
        };
        if self.nv.state.files.get(id).map(|f| f.lcsi) != Some(want) {
            self.nv.write_file(id, |f| {
                f.lcsi = want;
            })?;
        }
        Ok(Resp::ok())
    }

    fn bertlv_ef(&mut self, ch: usize, op: Operation) -> Result<(NodeId, usize), u16> {
        let (id, s) = self.ef_checked(ch, None, op, is_bertlv)?;
        match s {
            EfStructure::BerTlv { size } => Ok((id, size)),
            _ => Err(0x6981),
        }
    }

    /// RETRIEVE DATA (TS 102 221 §11.3.1): P1 00, data = the tag; answers the object's value,
    /// or for tag 5C the tag list DO `5C` of every object in the EF.
    pub(crate) fn cmd_retrieve_data(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        // P2 80 = first block (TS 102 221 §11.3.1, as pySim sends it), P2 00 with a tag = the
        // same (simota's earlier form); an object always fits one answer (no "next block").
        if cmd.p1 != 0x00 || !matches!(cmd.p2, 0x00 | 0x80) {
            return Err(0x6B00);
        }
        if cmd.data.is_empty() || cmd.data.len() > 3 {
            return Err(0x6700);
        }
        let (id, _) = self.bertlv_ef(ch, Operation::Read)?;
        let (tag, used) = apdu::tlv::ber::read_tag(&cmd.data, 0, 0).map_err(|_| 0x6A80u16)?;
        if used != cmd.data.len() {
            return Err(0x6A80);
        }
        let Some(Content::Bytes(b)) = self.nv.state.files.get(id).map(|f| &f.content) else {
            return Err(0x6F00);
        };
        let objs = apdu::tlv::BerTlv::parse_all(b).map_err(|_| 0x6F00u16)?;
        if tag == apdu::tlv::BerTag(0x5C) {
            // Tag list (TS 102 221 §11.3.1): the DO '5C' holding the tags of every object.
            let mut tags = Vec::new();
            for o in &objs {
                let mut t = Vec::new();
                o.emit_into(&mut t);
                let (_, n) = apdu::tlv::ber::read_tag(&t, 0, 0).map_err(|_| 0x6F00u16)?;
                tags.extend_from_slice(t.get(..n).unwrap_or(&[]));
            }
            let list = apdu::tlv::BerTlv::primitive(0x5C, tags);
            let mut out = Vec::new();
            list.emit_into(&mut out);
            return Ok(Resp::data(out));
        }
        let o = objs.iter().find(|o| o.tag == tag).ok_or(0x6A88u16)?;
        Ok(Resp::data(o.value_bytes()))
    }

    /// SET DATA (TS 102 221 §11.3.2): P1 00 P2 80 (or P1 01) = single block; data = one TLV. An empty
    /// value deletes the object.
    pub(crate) fn cmd_set_data(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        // P1 00 P2 80 = first block (TS 102 221 §11.3.2, as pySim sends it) or simota's earlier
        // P1 01 P2 00; the TLV comes in one block.
        if !matches!((cmd.p1, cmd.p2), (0x01, 0x00) | (0x00, 0x80)) {
            return Err(0x6B00);
        }
        if cmd.data.is_empty() {
            return Err(0x6700);
        }
        let (new, used) = apdu::tlv::BerTlv::parse_one(&cmd.data).map_err(|_| 0x6A80u16)?;
        if used != cmd.data.len() {
            return Err(0x6A80);
        }
        let (id, size) = self.bertlv_ef(ch, Operation::Update)?;
        let Some(Content::Bytes(b)) = self.nv.state.files.get(id).map(|f| &f.content) else {
            return Err(0x6F00);
        };
        let mut objs = apdu::tlv::BerTlv::parse_all(b).map_err(|_| 0x6F00u16)?;
        objs.retain(|o| o.tag != new.tag);
        if !new.value_bytes().is_empty() {
            objs.push(new);
        }
        let mut out = Vec::new();
        for o in &objs {
            o.emit_into(&mut out);
        }
        if out.len() > size {
            return Err(0x6A84);
        }
        self.nv.write_file(id, |f| {
            f.content = Content::Bytes(out);
        })?;
        Ok(Resp::ok())
    }
}
