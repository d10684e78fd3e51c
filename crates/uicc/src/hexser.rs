//! Serde helpers that write byte strings as hex text (state files and profiles stay readable).

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// Decode hex text (spaces allowed) into bytes, naming the offset of the first bad character.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
    apdu::hex::decode(text).map_err(|e| e.to_string())
}

/// Upper-case hex without separators.
pub(crate) fn encode(b: &[u8]) -> String {
    apdu::hex::encode(b)
}

/// `#[serde(with = "hexser::bytes")]` for `Vec<u8>`.
pub(crate) mod bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        decode(&s).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "hexser::records")]` for `Vec<Vec<u8>>`.
pub(crate) mod records {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|r| encode(r)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<Vec<u8>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of hex strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = a.next_element::<String>()? {
                    out.push(decode(&s).map_err(A::Error::custom)?);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}
