//! GSM SIM mode: the 3GPP TS 51.011 command set with class `A0`, on the same file system, PINs,
//! CAT engine and MILENAGE keys as the UICC side.
//!
//! * Commands (§9.2): SELECT (by FID only, answering `9Fxx`; GET RESPONSE returns the §9.2.1
//!   layout built by [`dir_response`] / [`ef_response`]), STATUS, READ/UPDATE BINARY,
//!   READ/UPDATE RECORD, SEEK, INCREASE, VERIFY/CHANGE/DISABLE/ENABLE/UNBLOCK CHV,
//!   INVALIDATE/REHABILITATE, RUN GSM ALGORITHM, SLEEP, and (TS 51.014) TERMINAL PROFILE,
//!   ENVELOPE, FETCH, TERMINAL RESPONSE. Response data is left for GET RESPONSE (`A0 C0`) and
//!   announced with `9Fxx` when the command carries no Le; with an Le it comes back directly.
//! * Selection (§6.5): the MF, the current DF, its parent, any DF under the parent, any file
//!   under the current DF. ADFs and BER-TLV EFs do not exist for a GSM terminal (`9404`).
//! * Codes (§9.3): CHV1 is PIN1 (key reference `01`); CHV2 is a global PIN `02` if the profile
//!   has one, else PIN2 (`81`) of the card's GSM ADF (the first ADF with `[[auth]]` keys). Both
//!   share their values, counters and verification state with the UICC side. UNBLOCK CHV uses
//!   P2 `00` for CHV1 and `02` for CHV2 (§9.2.13). As an extension VERIFY CHV also takes the ADM
//!   key references `0A`–`0E` in P2.
//! * Access conditions (§9.3): the EF.ARR rule of a file, read back as levels: `0` ALW, `1` CHV1,
//!   `2` CHV2, `A`–`E` ADM (key reference `0A`–`0E`), `F` NEV ([`access_condition`]).
//! * RUN GSM ALGORITHM (§9.2.16) on the GSM ADF's MILENAGE keys: SRES = c2(RES) and
//!   Kc = c3(CK, IK) (TS 33.102 §6.8.1.2; the GSM-MILENAGE of TS 55.205 §4 with SRES#1), only
//!   with DF.GSM as the current directory (`9400` otherwise) and CHV1 satisfied (`9804`).
//! * Status words (§9.4): the shared handlers' TS 102 221 words are translated by
//!   [`gsm_status`].

use crate::access::{allowed, Operation};
use crate::card::{Card, Resp, R};
use crate::fs::{EfStructure, Node, NodeId, NodeKind, MF};
use crate::milenage::{c2, c3};
use crate::nv::Content;
use apdu::CommandApdu;

/// FID of DF.GSM (TS 51.011 §10.7).
pub const DF_GSM: u16 = 0x7F20;

/// TS 51.011 §9.4 status words.
pub mod sw {
    /// `9240` memory problem.
    pub const MEMORY_PROBLEM: u16 = 0x9240;
    /// `9400` no EF selected.
    pub const NO_EF_SELECTED: u16 = 0x9400;
    /// `9402` out of range (invalid address).
    pub const OUT_OF_RANGE: u16 = 0x9402;
    /// `9404` file ID not found / pattern not found.
    pub const NOT_FOUND: u16 = 0x9404;
    /// `9408` file is inconsistent with the command.
    pub const INCONSISTENT: u16 = 0x9408;
    /// `9802` no CHV initialized.
    pub const NO_CHV: u16 = 0x9802;
    /// `9804` access condition not fulfilled / unsuccessful CHV verification, attempts left.
    pub const ACCESS: u16 = 0x9804;
    /// `9808` in contradiction with CHV status.
    pub const CHV_STATUS: u16 = 0x9808;
    /// `9810` in contradiction with invalidation status.
    pub const INVALIDATION: u16 = 0x9810;
    /// `9840` unsuccessful verification, no attempt left / CHV blocked.
    pub const BLOCKED: u16 = 0x9840;
    /// `9850` INCREASE cannot be performed, maximum value reached.
    pub const MAX_REACHED: u16 = 0x9850;
    /// `6700` incorrect parameter P3.
    pub const WRONG_P3: u16 = 0x6700;
    /// `6B00` incorrect parameter P1 or P2.
    pub const WRONG_P1P2: u16 = 0x6B00;
    /// `6D00` unknown instruction code.
    pub const UNKNOWN_INS: u16 = 0x6D00;
    /// `6F00` technical problem with no diagnostic given.
    pub const TECHNICAL: u16 = 0x6F00;
}

/// The TS 51.011 §9.4 status word for a status word of the shared TS 102 221 handlers.
pub fn gsm_status(s: u16) -> u16 {
    match s {
        0x9000 | 0x9300 | 0x6700 | 0x6B00 | 0x6D00 | 0x6E00 | 0x6F00 => s,
        _ if matches!(s >> 8, 0x91 | 0x92 | 0x94 | 0x98 | 0x9F) => s,
        0x6A82 | 0x6282 => sw::NOT_FOUND,
        0x6986 => sw::NO_EF_SELECTED,
        0x6981 => sw::INCONSISTENT,
        0x6982 => sw::ACCESS,
        0x6283 => sw::INVALIDATION,
        0x6984 | 0x6985 => sw::CHV_STATUS,
        0x6A83 => sw::OUT_OF_RANGE,
        0x63C0 | 0x6983 => sw::BLOCKED,
        0x63C1..=0x63CF => sw::ACCESS,
        0x6A80 | 0x6A81 | 0x6A86 | 0x6A87 | 0x6A88 => sw::WRONG_P1P2,
        0x6400 | 0x6500 | 0x6581 | 0x6A84 => sw::MEMORY_PROBLEM,
        _ => sw::TECHNICAL,
    }
}

/// The TS 51.011 §9.3 access condition level an EF.ARR rule amounts to for `op`: `0` ALW,
/// `1` CHV1, `2` CHV2 (key reference `chv2`), `A`–`E` ADM (key reference `0A`–`0E`), `F` NEV
/// (also for a rule no single code satisfies).
pub fn access_condition(rule: &[u8], op: Operation, chv2: u8) -> u8 {
    if allowed(rule, op, &|_| false) {
        return 0x0;
    }
    if allowed(rule, op, &|k| k == 0x01) {
        return 0x1;
    }
    if allowed(rule, op, &|k| k == chv2) {
        return 0x2;
    }
    (0x0A..=0x0E)
        .find(|&a| allowed(rule, op, &|k| k == a))
        .unwrap_or(0xF)
}

/// Whether a GSM terminal sees the node at all (no ADFs, no BER-TLV EFs).
fn visible(n: &Node) -> bool {
    !matches!(
        n.kind,
        NodeKind::Adf { .. } | NodeKind::Ef(EfStructure::BerTlv { .. })
    )
}

/// Status of one code for a DF response (§9.2.1 bytes 19–22): b8 = initialised, b4–b1 =
/// attempts left; `00` when the code does not exist.
fn code_status(left: Option<u8>) -> u8 {
    left.map_or(0, |l| 0x80 | l.min(0x0F))
}

/// The codes a DF response reports (§9.2.1): CHV1, UNBLOCK CHV1, CHV2, UNBLOCK CHV2 (tries
/// left, `None` when absent), whether CHV1 is disabled, and the number of codes on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// CHV1 and UNBLOCK CHV1 attempts left.
    pub chv1: (Option<u8>, Option<u8>),
    /// CHV2 and UNBLOCK CHV2 attempts left.
    pub chv2: (Option<u8>, Option<u8>),
    /// CHV1 disabled (file characteristics b8).
    pub chv1_disabled: bool,
    /// Number of CHVs, UNBLOCK CHVs and administrative codes.
    pub count: u8,
}

/// The GET RESPONSE data of the MF or a DF (TS 51.011 §9.2.1, 22 bytes): free memory
/// (reported as `FFFF`), FID, type (`01` MF, `02` DF), file characteristics (clock stop
/// allowed, 3 V and 1.8 V technology, b8 = CHV1 disabled), counts of child DFs and EFs, the
/// number of codes and the CHV / UNBLOCK CHV status bytes.
pub fn dir_response(fid: u16, is_mf: bool, dfs: u8, efs: u8, codes: &CodeInfo) -> Vec<u8> {
    let f = fid.to_be_bytes();
    let chars = 0x31 | if codes.chv1_disabled { 0x80 } else { 0x00 };
    vec![
        0x00,
        0x00,
        0xFF,
        0xFF,
        f[0],
        f[1],
        if is_mf { 0x01 } else { 0x02 },
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x09,
        chars,
        dfs,
        efs,
        codes.count,
        0x00,
        code_status(codes.chv1.0),
        code_status(codes.chv1.1),
        code_status(codes.chv2.0),
        code_status(codes.chv2.1),
    ]
}

/// The GET RESPONSE data of an EF (TS 51.011 §9.2.1, 15 bytes): file size, FID, type `04`,
/// the INCREASE-allowed bit of cyclic EFs, access conditions (`ac` = READ/SEEK, UPDATE,
/// INCREASE, REHABILITATE, INVALIDATE levels), file status (b1 = not invalidated) and the
/// structure (`00` transparent, `01` linear fixed, `03` cyclic) with the record length.
pub fn ef_response(fid: u16, s: EfStructure, ac: [u8; 5], active: bool) -> Vec<u8> {
    let size = (s.size().min(0xFFFF) as u16).to_be_bytes();
    let f = fid.to_be_bytes();
    let (structure, rl) = match s {
        EfStructure::LinearFixed { record_len, .. } => (0x01, record_len),
        EfStructure::Cyclic { record_len, .. } => (0x03, record_len),
        _ => (0x00, 0),
    };
    let [read, update, increase, rehab, inval] = ac.map(|a| a & 0x0F);
    let inc_allowed = structure == 0x03 && increase != 0xF;
    vec![
        0x00,
        0x00,
        size[0],
        size[1],
        f[0],
        f[1],
        0x04,
        if inc_allowed { 0x40 } else { 0x00 },
        (read << 4) | update,
        (increase << 4) | 0x0F,
        (rehab << 4) | inval,
        u8::from(active),
        0x02,
        structure,
        rl.min(0xFF) as u8,
    ]
}

fn p1p2_zero(cmd: &CommandApdu) -> Result<(), u16> {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        Err(sw::WRONG_P1P2)
    } else {
        Ok(())
    }
}

fn sw_bytes(s: u16) -> Vec<u8> {
    s.to_be_bytes().to_vec()
}

impl Card {
    /// The ADF whose PIN2 is CHV2 and whose MILENAGE keys RUN GSM ALGORITHM uses: the first
    /// ADF with `[[auth]]` keys, else the first ADF of the tree.
    pub(crate) fn gsm_adf(&self) -> Option<NodeId> {
        self.profile.auth.first().map(|a| a.adf).or_else(|| {
            self.profile
                .tree
                .nodes
                .iter()
                .position(|n| n.aid().is_some())
        })
    }

    /// The key reference of CHV1 (`01`) or CHV2 (`02` if declared, else `81`).
    fn chv_key_ref(&self, n: u8) -> u8 {
        match n {
            1 => 0x01,
            _ if self.profile.pins.iter().any(|p| p.key_ref == 0x02) => 0x02,
            _ => 0x81,
        }
    }

    fn code_info(&self) -> CodeInfo {
        let adf = self.gsm_adf();
        let state = |kr: u8| {
            self.pin_index_in(adf, kr)
                .and_then(|i| self.nv.state.pins.get(i))
        };
        let p1 = state(0x01);
        let p2 = state(self.chv_key_ref(2));
        let pair = |p: Option<&crate::nv::PinState>| {
            (
                p.map(|p| p.left),
                p.and_then(|p| p.puk.as_ref().map(|k| k.left)),
            )
        };
        let count =
            |p: Option<&crate::nv::PinState>| p.map_or(0, |p| 1 + u8::from(p.puk.is_some()));
        let adm = self
            .nv
            .state
            .pins
            .iter()
            .filter(|p| matches!(p.key_ref, 0x0A..=0x0E))
            .count()
            .min(15) as u8;
        CodeInfo {
            chv1: pair(p1),
            chv2: pair(p2),
            chv1_disabled: p1.is_none_or(|p| !p.enabled),
            count: count(p1) + count(p2) + adm,
        }
    }

    /// The §9.2.1 response data for a node.
    pub(crate) fn gsm_response(&self, id: NodeId) -> Vec<u8> {
        let tree = &self.profile.tree;
        let Some(n) = tree.node(id) else {
            return Vec::new();
        };
        match n.ef() {
            Some(s) => {
                let chv2 = self.chv_key_ref(2);
                let rule: &[u8] = match n.arr {
                    None => &[0x80, 0x01, 0x7F, 0x90, 0x00],
                    Some(arr) => match self.nv.state.files.get(arr.file).map(|f| &f.content) {
                        Some(Content::Records(r)) => r
                            .get((arr.record as usize).saturating_sub(1))
                            .map(Vec::as_slice)
                            .unwrap_or(&[]),
                        _ => &[],
                    },
                };
                let ac = |op| access_condition(rule, op, chv2);
                let inc = if matches!(s, EfStructure::Cyclic { .. }) {
                    ac(Operation::Increase)
                } else {
                    0xF
                };
                ef_response(
                    n.fid,
                    s,
                    [
                        ac(Operation::Read),
                        ac(Operation::Update),
                        inc,
                        ac(Operation::Activate),
                        ac(Operation::Deactivate),
                    ],
                    self.is_active(id),
                )
            }
            None => {
                let (mut dfs, mut efs) = (0u8, 0u8);
                for c in n.children.iter().filter_map(|&c| tree.node(c)) {
                    if !visible(c) {
                        continue;
                    }
                    if c.is_dir() {
                        dfs = dfs.saturating_add(1);
                    } else {
                        efs = efs.saturating_add(1);
                    }
                }
                dir_response(n.fid, id == MF, dfs, efs, &self.code_info())
            }
        }
    }

    /// Resolve a FID by the TS 51.011 §6.5 selection rules from the channel's current DF.
    fn gsm_find(&self, ch: usize, fid: u16) -> Result<NodeId, u16> {
        let tree = &self.profile.tree;
        let cur = self.chan(ch)?.df;
        if fid == 0x3F00 {
            return Ok(MF);
        }
        let shown = |id: &NodeId| tree.node(*id).is_some_and(visible);
        if let Some(x) = tree.child(cur, fid).filter(shown) {
            return Ok(x);
        }
        if tree.node(cur).is_some_and(|n| n.fid == fid) {
            return Ok(cur);
        }
        if let Some(p) = tree.node(cur).and_then(|n| n.parent) {
            if tree.node(p).is_some_and(|n| n.fid == fid) {
                return Ok(p);
            }
            if let Some(x) = tree
                .child(p, fid)
                .filter(|x| shown(x) && tree.nodes[*x].is_dir())
            {
                return Ok(x);
            }
        }
        Err(sw::NOT_FOUND)
    }

    /// A class `A0` command from the terminal (basic channel): GET RESPONSE, or dispatch and
    /// the T=0 answer (`9Fxx` when data waits for GET RESPONSE).
    pub(crate) fn gsm_process(&mut self, cmd: &CommandApdu) -> Vec<u8> {
        if cmd.extended {
            return sw_bytes(sw::WRONG_P3);
        }
        if cmd.ins == 0xC0 {
            return self.gsm_get_response(cmd);
        }
        if let Some(Some(c)) = self.chans.get_mut(0) {
            c.pending.clear();
        }
        let r = self.gsm_dispatch(0, cmd);
        if let Err(s) = self.nv.end_apdu() {
            return sw_bytes(gsm_status(s));
        }
        let mut r = match r {
            Ok(r) => r,
            Err(s) => return sw_bytes(s),
        };
        if r.sw == 0x9000 {
            if let Some(n) = self.cat.proactive_pending() {
                r.sw = 0x9100 | (n.min(0xFF) as u16);
            }
        }
        if r.data.is_empty() {
            return sw_bytes(r.sw);
        }
        match cmd.le {
            None => {
                let n = (r.data.len().min(256) & 0xFF) as u16;
                if let Some(Some(c)) = self.chans.get_mut(0) {
                    c.pending = r.data;
                }
                sw_bytes(0x9F00 | n)
            }
            Some(ne) => {
                let mut out = r.data;
                out.truncate(ne as usize);
                out.extend_from_slice(&r.sw.to_be_bytes());
                out
            }
        }
    }

    /// GET RESPONSE (§9.2.18): P3 at most the bytes waiting (`00` = all of them).
    fn gsm_get_response(&mut self, cmd: &CommandApdu) -> Vec<u8> {
        if let Err(s) = p1p2_zero(cmd) {
            return sw_bytes(s);
        }
        if !cmd.data.is_empty() {
            return sw_bytes(sw::WRONG_P3);
        }
        let proactive = self.cat.proactive_pending();
        let Some(Some(c)) = self.chans.get_mut(0) else {
            return sw_bytes(sw::TECHNICAL);
        };
        if c.pending.is_empty() {
            return sw_bytes(sw::TECHNICAL);
        }
        let ne = cmd.le.unwrap_or(256) as usize;
        if ne > c.pending.len() && ne != 256 {
            return sw_bytes(sw::WRONG_P3);
        }
        let mut out = std::mem::take(&mut c.pending);
        out.truncate(ne);
        let s = proactive.map_or(0x9000, |n| 0x9100 | (n.min(0xFF) as u16));
        out.extend_from_slice(&s.to_be_bytes());
        out
    }

    /// Run one class `A0` command (not GET RESPONSE) on channel `ch` and translate its status
    /// word; also the entry point for `A0` commands in RFM scripts.
    pub(crate) fn gsm_dispatch(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let cat = matches!(cmd.ins, 0x10 | 0x12 | 0x14 | 0xC2);
        if !cat {
            self.gsm_key_adf = self.gsm_adf();
        }
        let r = self.gsm_command(ch, cmd);
        self.gsm_key_adf = None;
        match r {
            Ok(mut resp) => {
                resp.sw = gsm_status(resp.sw);
                Ok(resp)
            }
            Err(s) if cat && matches!(s, 0x6985 | 0x6A80) => Err(sw::TECHNICAL),
            Err(s) => Err(gsm_status(s)),
        }
    }

    fn gsm_command(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        match cmd.ins {
            0xA4 => self.gsm_select(ch, cmd),
            0xF2 => {
                p1p2_zero(cmd)?;
                if !cmd.data.is_empty() {
                    return Err(sw::WRONG_P3);
                }
                let df = self.chan(ch)?.df;
                Ok(Resp::data(self.gsm_response(df)))
            }
            0xB0 => self.gsm_read_binary(ch, cmd),
            0xD6 => self.gsm_update_binary(ch, cmd),
            0xB2 => self.gsm_read_record(ch, cmd),
            0xDC => {
                if !matches!(cmd.p2, 0x02..=0x04) {
                    return Err(sw::WRONG_P1P2);
                }
                self.cmd_update_record(ch, cmd)
            }
            0xA2 => self.gsm_seek(ch, cmd),
            0x32 => {
                p1p2_zero(cmd)?;
                if cmd.data.len() != 3 {
                    return Err(sw::WRONG_P3);
                }
                self.cmd_increase(ch, cmd)
            }
            0x20 | 0x24 | 0x26 | 0x28 | 0x2C => self.gsm_chv(ch, cmd),
            0x04 | 0x44 => {
                p1p2_zero(cmd)?;
                if !cmd.data.is_empty() {
                    return Err(sw::WRONG_P3);
                }
                self.chan(ch)?.ef.ok_or(sw::NO_EF_SELECTED)?;
                self.cmd_activation(ch, cmd)
            }
            0x88 => self.gsm_run_algorithm(ch, cmd),
            0xFA => {
                p1p2_zero(cmd)?;
                Ok(Resp::ok())
            }
            0x10 | 0x12 | 0x14 | 0xC2 => self.cat_apdu(cmd),
            _ => Err(sw::UNKNOWN_INS),
        }
    }

    fn gsm_select(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        p1p2_zero(cmd)?;
        let fid: [u8; 2] = cmd.data.as_slice().try_into().map_err(|_| sw::WRONG_P3)?;
        let id = self.gsm_find(ch, u16::from_be_bytes(fid))?;
        self.drop_applet(ch);
        self.set_current(ch, id)?;
        Ok(Resp::data(self.gsm_response(id)))
    }

    fn gsm_read_binary(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 & 0x80 != 0 {
            return Err(sw::WRONG_P1P2);
        }
        if !cmd.data.is_empty() {
            return Err(sw::WRONG_P3);
        }
        let off = u16::from_be_bytes([cmd.p1, cmd.p2]) as usize;
        let (id, s) = self.ef_checked(ch, None, Operation::Read, |s| {
            matches!(s, EfStructure::Transparent { .. })
        })?;
        let size = s.size();
        if off >= size {
            return Err(sw::OUT_OF_RANGE);
        }
        let n = cmd.le.unwrap_or(256) as usize;
        if off + n > size {
            return Err(sw::WRONG_P3);
        }
        match self.nv.state.files.get(id).map(|f| &f.content) {
            Some(Content::Bytes(b)) => Ok(Resp::data(
                b.get(off..off + n).ok_or(sw::TECHNICAL)?.to_vec(),
            )),
            _ => Err(sw::TECHNICAL),
        }
    }

    fn gsm_update_binary(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 & 0x80 != 0 {
            return Err(sw::WRONG_P1P2);
        }
        if cmd.data.is_empty() {
            return Err(sw::WRONG_P3);
        }
        let off = u16::from_be_bytes([cmd.p1, cmd.p2]) as usize;
        let (id, s) = self.ef_checked(ch, None, Operation::Update, |s| {
            matches!(s, EfStructure::Transparent { .. })
        })?;
        let size = s.size();
        if off >= size {
            return Err(sw::OUT_OF_RANGE);
        }
        let end = off + cmd.data.len();
        if end > size {
            return Err(sw::WRONG_P3);
        }
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

    fn gsm_read_record(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let mode = cmd.p2;
        if !matches!(mode, 0x02..=0x04) {
            return Err(sw::WRONG_P1P2);
        }
        if !cmd.data.is_empty() {
            return Err(sw::WRONG_P3);
        }
        let (id, s) = self.ef_checked(ch, None, Operation::Read, |s| s.record_dims().is_some())?;
        let (rl, _) = s.record_dims().ok_or(sw::INCONSISTENT)?;
        if cmd.le.unwrap_or(256) as usize != rl {
            return Err(sw::WRONG_P3);
        }
        let r = self.record_number(ch, s, cmd.p1, mode, mode != 0x04)?;
        let rec = self
            .records(id)?
            .get(r - 1)
            .cloned()
            .ok_or(sw::OUT_OF_RANGE)?;
        if mode != 0x04 || cmd.p1 == 0 {
            self.chan_mut(ch)?.rec = Some(r);
        }
        Ok(Resp::data(rec))
    }

    /// SEEK (§9.2.7): P2 = type (`0x` type 1, `1x` type 2 answering the record number) and
    /// mode (`x0` from the beginning, `x1` from the end, `x2` next, `x3` previous); the
    /// pattern matches the start of a record of a linear fixed EF.
    fn gsm_seek(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        let (ty, mode) = (cmd.p2 >> 4, cmd.p2 & 0x0F);
        if cmd.p1 != 0 || ty > 1 || mode > 3 {
            return Err(sw::WRONG_P1P2);
        }
        if cmd.data.is_empty() || cmd.data.len() > 16 {
            return Err(sw::WRONG_P3);
        }
        let (id, s) = self.ef_checked(ch, None, Operation::Read, |s| {
            matches!(s, EfStructure::LinearFixed { .. })
        })?;
        let (rl, n) = s.record_dims().ok_or(sw::INCONSISTENT)?;
        if cmd.data.len() > rl {
            return Err(sw::WRONG_P3);
        }
        let cur = self.chan(ch)?.rec;
        let order: Vec<usize> = match mode {
            0 => (1..=n).collect(),
            1 => (1..=n).rev().collect(),
            2 => (cur.map_or(1, |c| c + 1)..=n).collect(),
            _ => (1..cur.unwrap_or(n + 1)).rev().collect(),
        };
        let recs = self.records(id)?;
        let hit = order.into_iter().find(|&r| {
            recs.get(r - 1)
                .is_some_and(|rec| rec.starts_with(&cmd.data))
        });
        let r = hit.ok_or(sw::NOT_FOUND)?;
        self.chan_mut(ch)?.rec = Some(r);
        if ty == 1 {
            Ok(Resp::data(vec![r as u8]))
        } else {
            Ok(Resp::ok())
        }
    }

    /// VERIFY / CHANGE / DISABLE / ENABLE / UNBLOCK CHV (§9.2.9–§9.2.13) on the shared PINs.
    fn gsm_chv(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 {
            return Err(sw::WRONG_P1P2);
        }
        let kr = match (cmd.ins, cmd.p2) {
            (0x2C, 0x00) => self.chv_key_ref(1),
            (0x2C, 0x02) => self.chv_key_ref(2),
            (0x2C, _) => return Err(sw::WRONG_P1P2),
            (0x26 | 0x28, 0x01) => self.chv_key_ref(1),
            (0x26 | 0x28, _) => return Err(sw::WRONG_P1P2),
            (_, n @ (0x01 | 0x02)) => self.chv_key_ref(n),
            (0x20, k @ 0x0A..=0x0E) => k,
            _ => return Err(sw::WRONG_P1P2),
        };
        let want = if matches!(cmd.ins, 0x24 | 0x2C) {
            16
        } else {
            8
        };
        if cmd.data.len() != want {
            return Err(sw::WRONG_P3);
        }
        let adf = self.gsm_key_adf;
        let pin = self
            .pin_index_in(adf, kr)
            .and_then(|i| self.nv.state.pins.get(i))
            .ok_or(sw::NO_CHV)?;
        match cmd.ins {
            0x2C if pin.puk.is_none() => return Err(sw::NO_CHV),
            0x2C => {}
            0x28 if pin.enabled => return Err(sw::CHV_STATUS),
            0x28 => {}
            _ if !pin.enabled => return Err(sw::CHV_STATUS),
            _ => {}
        }
        let ucmd = CommandApdu {
            cla: 0x00,
            ins: cmd.ins,
            p1: 0x00,
            p2: kr,
            data: cmd.data.clone(),
            le: None,
            extended: false,
        };
        match cmd.ins {
            0x20 => self.cmd_verify(ch, &ucmd),
            0x24 => self.cmd_change(ch, &ucmd),
            0x2C => self.cmd_unblock(ch, &ucmd),
            _ => self.cmd_enable_disable(ch, &ucmd),
        }
    }

    /// RUN GSM ALGORITHM (§9.2.16): RAND → SRES ‖ Kc from the GSM ADF's MILENAGE.
    fn gsm_run_algorithm(&mut self, ch: usize, cmd: &CommandApdu) -> R {
        p1p2_zero(cmd)?;
        let rand: [u8; 16] = cmd.data.as_slice().try_into().map_err(|_| sw::WRONG_P3)?;
        let df = self.chan(ch)?.df;
        let tree = &self.profile.tree;
        let in_gsm = tree
            .node(df)
            .is_some_and(|n| n.fid == DF_GSM && n.parent == Some(MF));
        if !in_gsm {
            return Err(sw::NO_EF_SELECTED);
        }
        let adf = self.gsm_adf();
        if !self.key_ok(adf, 0x01) {
            return Err(sw::ACCESS);
        }
        let auth = self
            .profile
            .auth
            .iter()
            .find(|a| Some(a.adf) == adf)
            .ok_or(sw::TECHNICAL)?;
        let o = auth.milenage.f2345(&rand);
        let mut out = c2(&o.res).to_vec();
        out.extend_from_slice(&c3(&o.ck, &o.ik));
        Ok(Resp::data(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_from_arr_rules() {
        let h = |s: &str| apdu::hex::decode(s).unwrap();
        // read PIN1, update ADM1 (deactivate/activate ADM1 too)
        let r = h("800101A406830101950108 80011AA40683010A950108");
        assert_eq!(access_condition(&r, Operation::Read, 0x81), 0x1);
        assert_eq!(access_condition(&r, Operation::Update, 0x81), 0xA);
        assert_eq!(access_condition(&r, Operation::Deactivate, 0x81), 0xA);
        // read always, update never
        let r = h("8001019000 8001029700");
        assert_eq!(access_condition(&r, Operation::Read, 0x81), 0x0);
        assert_eq!(access_condition(&r, Operation::Update, 0x81), 0xF);
        // update PIN2
        let r = h("800102A406830181950108");
        assert_eq!(access_condition(&r, Operation::Update, 0x81), 0x2);
        assert_eq!(access_condition(&r, Operation::Read, 0x81), 0xF);
    }

    #[test]
    fn status_translation() {
        for (u, g) in [
            (0x6A82, 0x9404),
            (0x6986, 0x9400),
            (0x6981, 0x9408),
            (0x6982, 0x9804),
            (0x63C2, 0x9804),
            (0x63C0, 0x9840),
            (0x6983, 0x9840),
            (0x6283, 0x9810),
            (0x6A83, 0x9402),
            (0x6A86, 0x6B00),
            (0x6581, 0x9240),
            (0x9850, 0x9850),
            (0x9F0F, 0x9F0F),
            (0x1234, 0x6F00),
        ] {
            assert_eq!(gsm_status(u), g, "{u:04X}");
        }
    }

    #[test]
    fn response_layouts() {
        let codes = CodeInfo {
            chv1: (Some(3), Some(10)),
            chv2: (Some(3), Some(10)),
            chv1_disabled: true,
            count: 4,
        };
        // The DF.GSM response of a real sysmoISIM-SJA2 (pySim docs/smpp-ota-tool.rst).
        assert_eq!(
            dir_response(0x7F20, false, 6, 0x35, &codes),
            apdu::hex::decode("0000ffff7f2002000000000009b106350400838a838a").unwrap()
        );
        let ef = ef_response(
            0x6F07,
            EfStructure::Transparent { size: 9 },
            [1, 4, 0xF, 4, 4],
            true,
        );
        assert_eq!(
            ef,
            apdu::hex::decode("000000096F0704 00 14FF44 01 02 00 00").unwrap()
        );
        let ef = ef_response(
            0x6F39,
            EfStructure::Cyclic {
                record_len: 3,
                records: 5,
            },
            [1, 1, 1, 4, 4],
            false,
        );
        assert_eq!(
            ef,
            apdu::hex::decode("0000000F6F3904 40 111F44 00 02 03 03").unwrap()
        );
    }
}
