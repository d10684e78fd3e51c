//! The card's non-volatile state as one serialisable value: file contents and life cycle
//! states, PIN/PUK values and counters, the AKA sequence-number arrays, OTA counters, and applet
//! instances with their persistent data. Everything volatile (channels, selections, verified
//! PINs, pending GET RESPONSE data) lives in the card, not here.

use crate::hexser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Version of the state layout written by this crate.
pub const NV_FORMAT: u32 = 1;

/// The whole non-volatile state of one card.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvState {
    /// Layout version ([`NV_FORMAT`]).
    pub format: u32,
    /// Fingerprint of the profile text this state was created from (a state file is only
    /// resumed with the same profile).
    pub profile_fingerprint: String,
    /// One entry per node of the profile's file tree, in tree order.
    pub files: Vec<NvFile>,
    /// PINs and their PUKs, in profile order.
    pub pins: Vec<PinState>,
    /// AKA sequence-number state per `[[auth]]` entry, in profile order.
    pub auth: Vec<SqnState>,
    /// OTA state (counters per key set version); used by the OTA receiver.
    pub ota: OtaNv,
    /// Installed applet instances.
    pub applets: Vec<AppletNv>,
    /// The issuer security domain: SCP02/SCP03 key sets and their sequence counters, the
    /// card life cycle state, STORE DATA blocks ([`crate::isd`]).
    #[serde(default)]
    pub isd: IsdNv,
}

/// Non-volatile state of the issuer security domain (GPCS v2.3 §7.3, §11.1.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsdNv {
    /// Secure channel key sets, in the order INITIALIZE UPDATE with KVN `00` tries them
    /// (the first is the default).
    pub keysets: Vec<IsdKeysetNv>,
    /// Card life cycle state (GPCS Table 11-3): `0F` SECURED, `7F` CARD_LOCKED, …
    pub card_life_cycle: u8,
    /// Data received by STORE DATA, one entry per block.
    #[serde(default, with = "hexser::records")]
    pub store_data: Vec<Vec<u8>>,
    /// Executable load files received by INSTALL [for load] and LOAD (GPCS §11.5.2.3.1,
    /// §11.6).
    #[serde(default)]
    pub load_files: Vec<LoadFileNv>,
    /// The primitive static field images of the Java Card packages, by package AID (hex):
    /// one per package, shared by its instances and the packages importing it (JCVM Spec
    /// §6.11; [`crate::java_applet`]).
    #[serde(default)]
    pub package_statics: BTreeMap<String, AppletValue>,
}

impl Default for IsdNv {
    fn default() -> Self {
        IsdNv {
            keysets: Vec::new(),
            card_life_cycle: 0x0F,
            store_data: Vec::new(),
            load_files: Vec::new(),
            package_statics: BTreeMap::new(),
        }
    }
}

/// One executable load file (a CAP file's components as loaded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadFileNv {
    /// Load file (package) AID from INSTALL [for load].
    #[serde(with = "hexser::bytes")]
    pub aid: Vec<u8>,
    /// Executable module (applet class) AIDs from the CAP's Applet component.
    #[serde(with = "hexser::records")]
    pub modules: Vec<Vec<u8>>,
    /// The load file data block (the components, without the `C4` wrapper).
    #[serde(with = "hexser::bytes")]
    pub data: Vec<u8>,
}

/// One SCP02 or SCP03 key set of the ISD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsdKeysetNv {
    /// Key version number.
    pub kvn: u8,
    /// Secure channel protocol: 2 or 3.
    pub scp: u8,
    /// The protocol's i parameter (SCP02 `15`/`55`, SCP03 `70`/…).
    pub i: u8,
    /// Static ENC key.
    pub enc: crate::ram::KeyBytes,
    /// Static MAC key.
    pub mac: crate::ram::KeyBytes,
    /// DEK.
    pub dek: crate::ram::KeyBytes,
    /// Sequence counter (SCP02: 16 bits; SCP03: 24 bits), incremented by every
    /// INITIALIZE UPDATE on this key set.
    pub seq: u32,
}

/// Life cycle status integer of a file (TS 102 221 §11.1.1.4.9).
pub mod lcsi {
    /// Operational state, activated.
    pub const ACTIVATED: u8 = 0x05;
    /// Operational state, deactivated.
    pub const DEACTIVATED: u8 = 0x04;
}

/// Non-volatile part of one file: its life cycle state and contents.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvFile {
    /// Life cycle status integer ([`lcsi`]).
    pub lcsi: u8,
    /// The contents.
    pub content: Content,
}

/// The contents of a file.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// A DF or ADF (no contents of its own).
    Directory,
    /// A transparent EF's bytes, or a BER-TLV EF's concatenated data objects.
    Bytes(#[serde(with = "hexser::bytes")] Vec<u8>),
    /// A record EF's records; for a cyclic EF, index 0 is record 1 (the most recent).
    Records(#[serde(with = "hexser::records")] Vec<Vec<u8>>),
}

/// An 8-byte secret (PIN, PUK, ADM value) that never prints and is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize)]
#[zeroize(drop)]
pub struct Secret8(#[serde(with = "hexser::bytes")] pub Vec<u8>);

impl Secret8 {
    /// Constant-time comparison with a candidate of any length.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.len() == other.len() && bool::from(self.0.as_slice().ct_eq(other))
    }
}

impl std::fmt::Debug for Secret8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret8(..)")
    }
}

/// One PIN (TS 102 221 §9.5): value, retry counter, enabled flag, and its PUK if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinState {
    /// Key reference (01–08 PIN Appl, 0A–0E ADM, 11 universal PIN, 81–88 second PIN Appl).
    pub key_ref: u8,
    /// The PIN value, padded with FF to 8 bytes.
    pub value: Secret8,
    /// Maximum retries.
    pub max: u8,
    /// Retries left (0 = blocked).
    pub left: u8,
    /// Whether verification is required (DISABLE / ENABLE PIN).
    pub enabled: bool,
    /// Disabled and replaced by the universal PIN (DISABLE with P1 = 91, TS 102 221
    /// §11.1.11): the universal PIN must be satisfied instead. Absent in older state files.
    #[serde(default)]
    pub use_universal: bool,
    /// The unblocking key, if the PIN has one.
    pub puk: Option<PukState>,
}

/// An unblock key (PUK) and its counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PukState {
    /// The PUK value (8 bytes).
    pub value: Secret8,
    /// Maximum retries.
    pub max: u8,
    /// Retries left (0 = blocked for good).
    pub left: u8,
}

/// The USIM's SEQ array (TS 33.102 Annex C.1.2): the highest accepted SEQ per IND value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqnState {
    /// SEQ_MS(i) for i = 0 .. 2^ind_bits - 1.
    pub seq: Vec<u64>,
}

/// OTA-related non-volatile data (filled in by the OTA receiver).
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtaNv {
    /// The replay counter (5 bytes) per key set version (TS 102 225 §5.1.1).
    pub counters: BTreeMap<u8, CounterBytes>,
    /// Key sets written by PUT KEY (GP §11.8), by key version number; they replace the
    /// profile's key set of the same version ([`crate::ram`]).
    #[serde(default)]
    pub keys: BTreeMap<u8, crate::ram::KeysetNv>,
    /// Toolkit registrations of applet instances (TS 102 241 registry, TS 102 226 install
    /// parameters): TARs, priority, menu entries, events ([`crate::toolkit`]).
    #[serde(default)]
    pub toolkit: Vec<crate::toolkit::ToolkitNv>,
}

/// A 5-byte OTA counter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterBytes(#[serde(with = "hexser::bytes")] pub Vec<u8>);

/// GlobalPlatform application life cycle state (GP Card Spec §5.3.1, coding of §11.1.1).
pub mod life_cycle {
    /// INSTALLED.
    pub const INSTALLED: u8 = 0x03;
    /// SELECTABLE.
    pub const SELECTABLE: u8 = 0x07;
    /// Bit set on top of the state when the application is LOCKED.
    pub const LOCKED_BIT: u8 = 0x80;
}

/// One applet instance (GP registry entry plus its persistent fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppletNv {
    /// Instance AID.
    #[serde(with = "hexser::bytes")]
    pub aid: Vec<u8>,
    /// Class (module) AID of the registered Rust applet class it was created from.
    #[serde(with = "hexser::bytes")]
    pub class_aid: Vec<u8>,
    /// GP life cycle state ([`life_cycle`]).
    pub life_cycle: u8,
    /// Whether it is implicitly selected on the basic channel after reset.
    pub default_selected: bool,
    /// Install parameters it was installed with.
    #[serde(with = "hexser::bytes")]
    pub params: Vec<u8>,
    /// Its persistent fields, by name.
    pub data: BTreeMap<String, AppletValue>,
}

/// One persistent applet field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppletValue(#[serde(with = "hexser::bytes")] pub Vec<u8>);

// Clone by hand so that `clone_from` reuses buffers: a store snapshotting the state at every
// commit (MemoryStore) then copies bytes instead of reallocating every file.
impl Clone for NvState {
    fn clone(&self) -> Self {
        NvState {
            format: self.format,
            profile_fingerprint: self.profile_fingerprint.clone(),
            files: self.files.clone(),
            pins: self.pins.clone(),
            auth: self.auth.clone(),
            ota: self.ota.clone(),
            applets: self.applets.clone(),
            isd: self.isd.clone(),
        }
    }
    fn clone_from(&mut self, o: &Self) {
        // Most commits change one file and a counter: copy only the parts that differ
        // (comparing allocates nothing; cloning the rest would reallocate every time).
        if self.files.len() == o.files.len() {
            for (a, b) in self.files.iter_mut().zip(&o.files) {
                sync(a, b);
            }
        } else {
            self.files.clone_from(&o.files);
        }
        self.sync_rest_from(o);
    }
}

/// Copy `b` into `a` only when they differ (comparing allocates nothing).
fn sync<T: Clone + PartialEq>(a: &mut T, b: &T) {
    if a != b {
        a.clone_from(b);
    }
}

impl NvState {
    /// Make `self` equal to `o` when `self` already equals `o` except perhaps for the files
    /// at indices `ids` (the store's previous snapshot and the card's list of files written
    /// since, as [`crate::Store::commit_changed`] is told): copies those files, and the
    /// non-file parts that differ.
    pub fn sync_files_from(&mut self, o: &NvState, ids: &[usize]) {
        if self.files.len() != o.files.len() {
            return self.clone_from(o);
        }
        for &i in ids {
            if let (Some(a), Some(b)) = (self.files.get_mut(i), o.files.get(i)) {
                a.clone_from(b);
            }
        }
        self.sync_rest_from(o);
    }

    fn sync_rest_from(&mut self, o: &NvState) {
        self.format = o.format;
        sync(&mut self.profile_fingerprint, &o.profile_fingerprint);
        sync(&mut self.pins, &o.pins);
        sync(&mut self.auth, &o.auth);
        sync(&mut self.ota, &o.ota);
        sync(&mut self.applets, &o.applets);
        sync(&mut self.isd, &o.isd);
    }
}

// Clone by hand so that `clone_from` (a snapshot after a counter update) copies the changed
// counter in place instead of reallocating the maps and the stored key sets.
impl Clone for OtaNv {
    fn clone(&self) -> Self {
        OtaNv {
            counters: self.counters.clone(),
            keys: self.keys.clone(),
            toolkit: self.toolkit.clone(),
        }
    }
    fn clone_from(&mut self, o: &Self) {
        let same_slots =
            self.counters.len() == o.counters.len() && self.counters.keys().eq(o.counters.keys());
        if same_slots {
            for (a, b) in self.counters.values_mut().zip(o.counters.values()) {
                if a != b {
                    a.0.clone_from(&b.0);
                }
            }
        } else {
            self.counters.clone_from(&o.counters);
        }
        sync(&mut self.keys, &o.keys);
        sync(&mut self.toolkit, &o.toolkit);
    }
}

impl Clone for NvFile {
    fn clone(&self) -> Self {
        NvFile {
            lcsi: self.lcsi,
            content: self.content.clone(),
        }
    }
    fn clone_from(&mut self, o: &Self) {
        self.lcsi = o.lcsi;
        self.content.clone_from(&o.content);
    }
}

impl Clone for Content {
    fn clone(&self) -> Self {
        match self {
            Content::Directory => Content::Directory,
            Content::Bytes(b) => Content::Bytes(b.clone()),
            Content::Records(r) => Content::Records(r.clone()),
        }
    }
    fn clone_from(&mut self, o: &Self) {
        match (self, o) {
            (Content::Bytes(a), Content::Bytes(b)) => a.clone_from(b),
            (Content::Records(a), Content::Records(b)) => a.clone_from(b),
            (s, o) => *s = o.clone(),
        }
    }
}

impl NvState {
    /// Serialise to the state-file form (JSON with hex strings).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data structures cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Parse the state-file form.
    pub fn from_bytes(b: &[u8]) -> Result<NvState, serde_json::Error> {
        serde_json::from_slice(b)
    }
}
