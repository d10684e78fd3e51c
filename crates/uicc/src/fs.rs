//! The static shape of the TS 102 221 file tree (§8): MF, DFs, ADFs and EFs with their
//! identifiers, structures, SFIs and security-attribute references, plus the FCP template
//! (§11.1.1.3) built from that shape and the current non-volatile state.

use crate::nv::{Content, NvFile};

/// Index of a node in [`Tree::nodes`].
pub type NodeId = usize;

/// The structure of an EF (TS 102 221 §8.2), with its fixed dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EfStructure {
    /// Transparent EF of `size` bytes.
    Transparent {
        /// File size in bytes.
        size: usize,
    },
    /// Linear fixed EF.
    LinearFixed {
        /// Record length.
        record_len: usize,
        /// Number of records.
        records: usize,
    },
    /// Cyclic EF.
    Cyclic {
        /// Record length.
        record_len: usize,
        /// Number of records.
        records: usize,
    },
    /// BER-TLV structured EF with room for `size` bytes of data objects.
    BerTlv {
        /// Maximum total size of the data objects.
        size: usize,
    },
}

impl EfStructure {
    /// File descriptor byte (TS 102 221 §11.1.1.4.3), shareable bit set by the caller.
    pub fn fdb(self) -> u8 {
        match self {
            EfStructure::Transparent { .. } => 0x01,
            EfStructure::LinearFixed { .. } => 0x02,
            EfStructure::Cyclic { .. } => 0x06,
            EfStructure::BerTlv { .. } => 0x39,
        }
    }

    /// Record length and count for record EFs.
    pub fn record_dims(self) -> Option<(usize, usize)> {
        match self {
            EfStructure::LinearFixed {
                record_len,
                records,
            }
            | EfStructure::Cyclic {
                record_len,
                records,
            } => Some((record_len, records)),
            _ => None,
        }
    }

    /// The data size in bytes (tag 80).
    pub fn size(self) -> usize {
        match self {
            EfStructure::Transparent { size } | EfStructure::BerTlv { size } => size,
            EfStructure::LinearFixed {
                record_len,
                records,
            }
            | EfStructure::Cyclic {
                record_len,
                records,
            } => record_len * records,
        }
    }
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// The MF or a DF.
    Df,
    /// An application DF with its AID (TS 102 221 §8.3).
    Adf {
        /// The full AID.
        aid: Vec<u8>,
    },
    /// An elementary file.
    Ef(EfStructure),
}

/// Reference to the EF.ARR record holding a file's access rules (FCP tag 8B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrRef {
    /// FID of the EF.ARR as shown in the FCP.
    pub fid: u16,
    /// The EF.ARR node.
    pub file: NodeId,
    /// Record number (1-based).
    pub record: u8,
}

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// File identifier.
    pub fid: u16,
    /// Human name (EF.IMSI, ADF.USIM, …).
    pub name: String,
    /// Parent directory (None for the MF).
    pub parent: Option<NodeId>,
    /// Kind and structure.
    pub kind: NodeKind,
    /// Short file identifier (1–30), EFs only.
    pub sfi: Option<u8>,
    /// Security attributes reference.
    pub arr: Option<ArrRef>,
    /// Shareable (FDB bit 7).
    pub shareable: bool,
    /// Children (directories only).
    pub children: Vec<NodeId>,
}

impl Node {
    /// True for MF, DF and ADF.
    pub fn is_dir(&self) -> bool {
        !matches!(self.kind, NodeKind::Ef(_))
    }

    /// The EF structure, if an EF.
    pub fn ef(&self) -> Option<EfStructure> {
        match self.kind {
            NodeKind::Ef(s) => Some(s),
            _ => None,
        }
    }

    /// The AID, if an ADF.
    pub fn aid(&self) -> Option<&[u8]> {
        match &self.kind {
            NodeKind::Adf { aid } => Some(aid),
            _ => None,
        }
    }
}

/// The file tree; node 0 is the MF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// All nodes; children refer to them by index.
    pub nodes: Vec<Node>,
}

/// The MF's node id.
pub const MF: NodeId = 0;

impl Tree {
    /// A node by id.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// A direct child of `dir` with this FID.
    pub fn child(&self, dir: NodeId, fid: u16) -> Option<NodeId> {
        self.nodes
            .get(dir)?
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes.get(c).is_some_and(|n| n.fid == fid))
    }

    /// The EF with this SFI directly under `dir`.
    pub fn by_sfi(&self, dir: NodeId, sfi: u8) -> Option<NodeId> {
        self.nodes
            .get(dir)?
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes.get(c).is_some_and(|n| n.sfi == Some(sfi)))
    }

    /// The ADF whose AID equals `aid`.
    pub fn adf_by_aid(&self, aid: &[u8]) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.aid() == Some(aid))
    }

    /// The directory a node lives in (itself for directories).
    pub fn dir_of(&self, id: NodeId) -> NodeId {
        match self.nodes.get(id) {
            Some(n) if n.is_dir() => id,
            Some(n) => n.parent.unwrap_or(MF),
            None => MF,
        }
    }

    /// The path of FIDs from the MF to `id` (inclusive).
    pub fn path(&self, id: NodeId) -> Vec<u16> {
        let mut v = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            match self.nodes.get(c) {
                Some(n) => {
                    v.push(n.fid);
                    cur = n.parent;
                }
                None => break,
            }
            if v.len() > self.nodes.len() {
                break;
            }
        }
        v.reverse();
        v
    }
}

/// The key references a PIN status template lists for a directory (C6, TS 102 221 §9.5.2):
/// `(key_ref, enabled, usage qualifier)` in the order given; a usage qualifier (tag 95, e.g.
/// `08` = use the universal PIN) precedes its key reference in the template.
pub type PinStatusList = Vec<(u8, bool, Option<u8>)>;

fn push_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    push_len(out, value.len());
    out.extend_from_slice(value);
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

/// Build the FCP template (tag 62) of a node: 82, 83, 84 (ADF), A5 (MF), 8A, 8B, C6 (dirs),
/// 80 (EF size), 81 (dir total size), 88 (SFI).
pub fn fcp(
    tree: &Tree,
    id: NodeId,
    nv: &NvFile,
    pins: &PinStatusList,
    free_memory: u32,
) -> Vec<u8> {
    let Some(n) = tree.node(id) else {
        return Vec::new();
    };
    let mut b = Vec::with_capacity(48);
    let share = if n.shareable { 0x40 } else { 0x00 };
    match n.kind {
        NodeKind::Ef(s) => match s.record_dims() {
            Some((rl, nr)) => push_tlv(
                &mut b,
                0x82,
                &[share | s.fdb(), 0x21, (rl >> 8) as u8, rl as u8, nr as u8],
            ),
            None => push_tlv(&mut b, 0x82, &[share | s.fdb(), 0x21]),
        },
        _ => push_tlv(&mut b, 0x82, &[share | 0x38, 0x21]),
    }
    push_tlv(&mut b, 0x83, &n.fid.to_be_bytes());
    if let Some(aid) = n.aid() {
        push_tlv(&mut b, 0x84, aid);
    }
    if id == crate::fs::MF {
        // UICC characteristics (clock stop allowed, no preferred level; 3 V and 1.8 V) and
        // the available memory.
        let mut a5 = Vec::new();
        push_tlv(&mut a5, 0x80, &[0x71]);
        push_tlv(&mut a5, 0x83, &free_memory.to_be_bytes());
        push_tlv(&mut b, 0xA5, &a5);
    }
    push_tlv(&mut b, 0x8A, &[nv.lcsi]);
    if let Some(arr) = n.arr {
        let f = arr.fid.to_be_bytes();
        push_tlv(&mut b, 0x8B, &[f[0], f[1], arr.record]);
    }
    match n.kind {
        NodeKind::Ef(s) => {
            let size = match (&nv.content, s) {
                (Content::Bytes(v), EfStructure::BerTlv { .. }) => s.size().max(v.len()),
                _ => s.size(),
            };
            push_tlv(&mut b, 0x80, &(size.min(0xFFFF) as u16).to_be_bytes());
            match n.sfi {
                Some(sfi) => push_tlv(&mut b, 0x88, &[sfi << 3]),
                None => push_tlv(&mut b, 0x88, &[]),
            }
        }
        _ => {
            let mut c6 = Vec::new();
            let mut ps = 0u8;
            for (i, (_, en, _)) in pins.iter().enumerate().take(8) {
                if *en {
                    ps |= 0x80 >> i;
                }
            }
            push_tlv(&mut c6, 0x90, &[ps]);
            for (kr, _, uq) in pins.iter().take(8) {
                if let Some(q) = uq {
                    push_tlv(&mut c6, 0x95, &[*q]);
                }
                push_tlv(&mut c6, 0x83, &[*kr]);
            }
            push_tlv(&mut b, 0xC6, &c6);
            let total: usize = n
                .children
                .iter()
                .filter_map(|&c| tree.node(c)?.ef())
                .map(|s| s.size())
                .sum();
            push_tlv(&mut b, 0x81, &(total.min(0xFFFF) as u16).to_be_bytes());
        }
    }
    let mut out = Vec::with_capacity(b.len() + 3);
    out.push(0x62);
    push_len(&mut out, b.len());
    out.extend_from_slice(&b);
    out
}
