//! Keysets from TOML, so keys need not be typed on every command line:
//!
//! ```toml
//! [keyset.sja5]
//! kic_alg = "3des2"            # none | des-cbc | 3des2 | 3des3 | des-ecb | aes-cbc
//! kic = "c21dd66acac13cb3bc8b331b24afb57b"
//! kic_index = 3
//! kid_alg = "3des2-mac"        # none | des-mac | 3des2-mac | 3des3-mac | aes-cmac | crc16 | crc32
//! kid = "12110c78e678c25408233076aa033615"
//! kid_index = 3
//! counter = 0                  # integer, or a "0x…" string
//! counter_file = "sja5.cntr"   # optional: file holding the next CNTR, kept up to date
//! ```
//!
//! Parsing is pure (the caller reads the file). Key strings are zeroized after use.

use crate::counter::Counter;
use crate::error::{OtaError, Result};
use crate::keyset::{ChecksumAlgorithm, CipherAlgorithm, Keyset};
use serde::Deserialize;
use std::collections::BTreeMap;
use zeroize::{Zeroize, Zeroizing};

/// A key string from the file, zeroized on drop.
#[derive(Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kic_alg: Option<String>,
    kic: Option<Secret>,
    kic_index: Option<u8>,
    kid_alg: Option<String>,
    kid: Option<Secret>,
    kid_index: Option<u8>,
    counter: Option<toml::Value>,
    counter_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    keyset: BTreeMap<String, Entry>,
}

/// A keyset read from a file, with its starting counter.
#[derive(Debug, Clone)]
pub struct NamedKeyset {
    /// The keys.
    pub keyset: Keyset,
    /// The counter from the file (0 if absent).
    pub counter: Counter,
    /// `counter_file = "…"`: a file holding the next CNTR that senders read and write back
    /// after each packet (relative to the keyset file's directory; see `terminal::counter_file`).
    pub counter_file: Option<String>,
}

/// A parsed keyset file.
#[derive(Debug, Clone, Default)]
pub struct KeysetFile {
    /// Keysets by name.
    pub keysets: BTreeMap<String, NamedKeyset>,
}

fn bad(name: &str, field: &str, reason: impl std::fmt::Display) -> OtaError {
    OtaError::InvalidValue {
        field: "keyset file",
        reason: format!("[keyset.{name}] {field}: {reason}"),
    }
}

/// Parse a counter given as decimal or `0x` hex text.
pub fn parse_counter(s: &str) -> Result<Counter> {
    let t = s.trim();
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        t.parse::<u64>()
    }
    .map_err(|e| OtaError::InvalidValue {
        field: "counter",
        reason: format!("{s:?}: {e}"),
    })?;
    Counter::new(v)
}

fn key_bytes(name: &str, field: &str, s: Option<&Secret>) -> Result<Zeroizing<Vec<u8>>> {
    match s {
        None => Ok(Zeroizing::new(Vec::new())),
        Some(s) => apdu::hex::decode(&s.0)
            .map(Zeroizing::new)
            .map_err(|e| bad(name, field, e)),
    }
}

impl KeysetFile {
    /// Parse TOML text.
    pub fn parse(text: &str) -> Result<Self> {
        let f: File = toml::from_str(text).map_err(|e| OtaError::InvalidValue {
            field: "keyset file",
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        let mut keysets = BTreeMap::new();
        for (name, e) in f.keyset {
            let mut ks = Keyset::new();
            let kic_alg = e.kic_alg.as_deref().unwrap_or("none");
            if !kic_alg.eq_ignore_ascii_case("none") {
                let alg: CipherAlgorithm =
                    kic_alg.parse().map_err(|err| bad(&name, "kic_alg", err))?;
                let key = key_bytes(&name, "kic", e.kic.as_ref())?;
                ks = ks
                    .with_kic(alg, &key, e.kic_index.unwrap_or(0))
                    .map_err(|err| bad(&name, "kic", err))?;
            } else {
                ks.kic_index = e.kic_index.unwrap_or(0) & 15;
            }
            let kid_alg = e.kid_alg.as_deref().unwrap_or("none");
            if !kid_alg.eq_ignore_ascii_case("none") {
                let alg: ChecksumAlgorithm =
                    kid_alg.parse().map_err(|err| bad(&name, "kid_alg", err))?;
                let key = key_bytes(&name, "kid", e.kid.as_ref())?;
                ks = ks
                    .with_kid(alg, &key, e.kid_index.unwrap_or(0))
                    .map_err(|err| bad(&name, "kid", err))?;
            } else {
                ks.kid_index = e.kid_index.unwrap_or(0) & 15;
            }
            let counter = match &e.counter {
                None => Counter::default(),
                Some(toml::Value::Integer(i)) => u64::try_from(*i)
                    .map_err(|_| bad(&name, "counter", "negative"))
                    .and_then(|v| Counter::new(v).map_err(|err| bad(&name, "counter", err)))?,
                Some(toml::Value::String(s)) => {
                    parse_counter(s).map_err(|err| bad(&name, "counter", err))?
                }
                Some(_) => return Err(bad(&name, "counter", "must be an integer or a string")),
            };
            keysets.insert(
                name,
                NamedKeyset {
                    keyset: ks,
                    counter,
                    counter_file: e.counter_file,
                },
            );
        }
        Ok(KeysetFile { keysets })
    }

    /// Look a keyset up by name.
    pub fn get(&self, name: &str) -> Result<&NamedKeyset> {
        self.keysets
            .get(name)
            .ok_or_else(|| OtaError::InvalidValue {
                field: "keyset",
                reason: format!(
                    "no [keyset.{name}] in the file (have: {})",
                    self.keysets.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let f = KeysetFile::parse(
            r#"
            [keyset.a]
            kic_alg = "aes-cbc"
            kic = "200102030405060708090a0b0c0d0e0f"
            kic_index = 2
            kid_alg = "aes-cmac"
            kid = "201102030405060708090a0b0c0d0e0f"
            kid_index = 2
            counter = "0x64"
            counter_file = "a.cntr"
            [keyset.crc]
            kid_alg = "crc32"
            kid_index = 1
            "#,
        )
        .unwrap();
        let a = f.get("a").unwrap();
        assert_eq!(a.keyset.kic().to_byte(), 0x22);
        assert_eq!(a.counter.value(), 100);
        assert_eq!(a.counter_file.as_deref(), Some("a.cntr"));
        assert_eq!(f.get("crc").unwrap().counter_file, None);
        assert_eq!(f.get("crc").unwrap().keyset.kid().to_byte(), 0x15);
        assert!(f.get("x").unwrap_err().to_string().contains("have: a, crc"));
        let e = KeysetFile::parse("[keyset.b]\nkic_alg = \"3des2\"\nkic = \"0011\"\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("[keyset.b] kic: KIc key for 3des2 must be 16 bytes, got 2"),
            "{e}"
        );
        assert!(KeysetFile::parse("[keyset.b]\nkic_algo = \"x\"\n").is_err());
    }
}
