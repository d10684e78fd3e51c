//! Readers: public keys from PEM or DER (SubjectPublicKeyInfo, RFC 5280 4.1.2.7; PKCS#1
//! `RSAPublicKey`, RFC 8017 A.1.1; PKCS#10 requests, RFC 2986; X.509 certificates, RFC 5280),
//! CSV of hex moduli (`modulus[,exponent]`, both hex) and directories of such files.
//!
//! Bad input is an error naming the file and the byte offset; nothing is skipped silently.

use crate::key::{Curve, KeyKind, PublicKey};
use der::asn1::ObjectIdentifier;
use der::{Decode, Tag, Tagged};
use num_bigint::BigUint;
use spki::SubjectPublicKeyInfoOwned;
use std::path::Path;
use x509_cert::request::CertReq;
use x509_cert::Certificate;

/// Unreadable input: which file, where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: offset {offset}: {msg}")]
pub struct ReadError {
    /// The file (or name given to [`parse`]).
    pub file: String,
    /// Byte offset in the file.
    pub offset: usize,
    /// What was wrong.
    pub msg: String,
}

const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";

/// Read every key in a file, or recursively in a directory (sorted by path).
pub fn read_path(path: &Path) -> Result<Vec<PublicKey>, ReadError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| ReadError {
        file: name.clone(),
        offset: 0,
        msg: e.to_string(),
    };
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort();
        let mut out = Vec::new();
        for p in entries {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n.ends_with(".md"));
            if !hidden {
                out.extend(read_path(&p)?);
            }
        }
        return Ok(out);
    }
    let data = std::fs::read(path).map_err(io)?;
    parse(&name, &data)
}

/// Parse the keys in one file's contents; `name` labels the keys and errors.
pub fn parse(name: &str, data: &[u8]) -> Result<Vec<PublicKey>, ReadError> {
    let err = |offset: usize, msg: String| ReadError {
        file: name.to_string(),
        offset,
        msg,
    };
    if data.is_empty() {
        return Err(err(0, "empty file".into()));
    }
    if find(data, b"-----BEGIN ", 0).is_some() {
        return parse_pem(name, data);
    }
    let text_like = data
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if data[0] == 0x30 && !text_like {
        let kind = parse_der(None, data).map_err(|(o, m)| err(o, m))?;
        return Ok(vec![PublicKey {
            label: name.to_string(),
            kind,
        }]);
    }
    let text = std::str::from_utf8(data).map_err(|e| {
        err(
            e.valid_up_to(),
            "neither PEM, DER (SEQUENCE) nor UTF-8 text".into(),
        )
    })?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with("key ") && first.contains(" group ") || first.trim() == "no keys" {
        return Err(err(
            0,
            "a `simota wpki keys` listing names keys but holds no public key: export each with \
             `simota wpki keygen --out K.pem` (or audit a run with `simota keyaudit --generate N`)"
                .into(),
        ));
    }
    parse_csv(name, text)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn parse_pem(name: &str, data: &[u8]) -> Result<Vec<PublicKey>, ReadError> {
    let err = |offset: usize, msg: String| ReadError {
        file: name.to_string(),
        offset,
        msg,
    };
    let mut out = Vec::new();
    let mut pos = 0;
    let mut blocks = Vec::new();
    while let Some(start) = find(data, b"-----BEGIN ", pos) {
        let end_tag = find(data, b"-----END ", start)
            .ok_or_else(|| err(start, "PEM block without an END line".into()))?;
        let end = find(data, b"-----", end_tag + 9)
            .map(|e| e + 5)
            .ok_or_else(|| err(end_tag, "unterminated PEM END line".into()))?;
        blocks.push((start, &data[start..end]));
        pos = end;
    }
    let many = blocks.len() > 1;
    for (i, (start, block)) in blocks.into_iter().enumerate() {
        let (label, der) =
            der::pem::decode_vec(block).map_err(|e| err(start, format!("PEM: {e}")))?;
        let expect = match label {
            "PUBLIC KEY" => Some(Kind::Spki),
            "RSA PUBLIC KEY" => Some(Kind::Pkcs1),
            "CERTIFICATE" | "X509 CERTIFICATE" => Some(Kind::Cert),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Some(Kind::Csr),
            other => {
                return Err(err(
                    start,
                    format!("PEM label `{other}`: not a public key, certificate or request"),
                ))
            }
        };
        let kind = parse_der(expect, &der)
            .map_err(|(o, m)| err(start, format!("{label} (DER offset {o}): {m}")))?;
        out.push(PublicKey {
            label: if many {
                format!("{name}#{}", i + 1)
            } else {
                name.to_string()
            },
            kind,
        });
    }
    Ok(out)
}

#[derive(Clone, Copy)]
enum Kind {
    Spki,
    Pkcs1,
    Cert,
    Csr,
}

fn der_off(e: &der::Error) -> usize {
    e.position().map(|p| u32::from(p) as usize).unwrap_or(0)
}

/// Decode a DER structure of the expected kind, or any of them when `None`.
fn parse_der(expect: Option<Kind>, der: &[u8]) -> Result<KeyKind, (usize, String)> {
    let one = |k: Kind| -> Result<KeyKind, (usize, String)> {
        let d = |e: der::Error| (der_off(&e), e.to_string());
        match k {
            Kind::Spki => spki_key(&SubjectPublicKeyInfoOwned::from_der(der).map_err(d)?),
            Kind::Pkcs1 => rsa_key(der),
            Kind::Cert => {
                let c = Certificate::from_der(der).map_err(d)?;
                spki_key(c.tbs_certificate().subject_public_key_info())
            }
            Kind::Csr => spki_key(&CertReq::from_der(der).map_err(d)?.info.public_key),
        }
    };
    match expect {
        Some(k) => one(k),
        None => {
            let mut last = None;
            for k in [Kind::Cert, Kind::Csr, Kind::Spki, Kind::Pkcs1] {
                match one(k) {
                    Ok(v) => return Ok(v),
                    Err(e) => last = Some(e),
                }
            }
            let (o, m) = last.unwrap_or((0, String::new()));
            Err((
                o,
                format!("not a certificate, request, SubjectPublicKeyInfo or PKCS#1 key ({m})"),
            ))
        }
    }
}

fn rsa_key(der: &[u8]) -> Result<KeyKind, (usize, String)> {
    let k = pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|e| (der_off(&e), format!("RSAPublicKey: {e}")))?;
    Ok(KeyKind::Rsa {
        n: BigUint::from_bytes_be(k.modulus.as_bytes()),
        e: BigUint::from_bytes_be(k.public_exponent.as_bytes()),
    })
}

fn spki_key(s: &SubjectPublicKeyInfoOwned) -> Result<KeyKind, (usize, String)> {
    let oid = s.algorithm.oid.to_string();
    let bits = s.subject_public_key.raw_bytes();
    match oid.as_str() {
        RSA => rsa_key(bits),
        EC => {
            let curve = match &s.algorithm.parameters {
                None => return Err((0, "EC key without curve parameters".into())),
                Some(p) if p.tag() == Tag::ObjectIdentifier => Curve::Named(
                    ObjectIdentifier::from_bytes(p.value())
                        .map_err(|e| (0, format!("EC curve OID: {e}")))?
                        .to_string(),
                ),
                Some(p) if p.tag() == Tag::Sequence => Curve::Explicit,
                Some(p) if p.tag() == Tag::Null => Curve::Implicit,
                Some(p) => return Err((0, format!("EC parameters: unexpected tag {}", p.tag()))),
            };
            Ok(KeyKind::Ec {
                curve,
                point: bits.to_vec(),
            })
        }
        _ => Ok(KeyKind::Other { algorithm: oid }),
    }
}

fn hex_field(
    name: &str,
    field: &str,
    text: &str,
    line: usize,
    offset: usize,
) -> Result<BigUint, ReadError> {
    let t = text.trim();
    let lead = text.len() - text.trim_start().len();
    let body = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let skip = lead + (t.len() - body.len());
    if body.is_empty() {
        return Err(ReadError {
            file: name.into(),
            offset: offset + skip,
            msg: format!("line {line}: {field}: empty"),
        });
    }
    if let Some((i, c)) = body.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(ReadError {
            file: name.into(),
            offset: offset + skip + i,
            msg: format!("line {line}: {field}: expected a hex digit, found {c:?}"),
        });
    }
    BigUint::parse_bytes(body.as_bytes(), 16).ok_or_else(|| ReadError {
        file: name.into(),
        offset: offset + skip,
        msg: format!("line {line}: {field}: not a hex number"),
    })
}

fn parse_csv(name: &str, text: &str) -> Result<Vec<PublicKey>, ReadError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += raw.len();
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if out.is_empty() && t.to_ascii_lowercase().starts_with("modulus") {
            continue; // header
        }
        let mut fields = line.splitn(3, ',');
        let m = fields.next().unwrap_or("");
        let n = hex_field(name, "modulus", m, line_no, start)?;
        let e = match fields.next() {
            Some(f) => hex_field(name, "exponent", f, line_no, start + m.len() + 1)?,
            None => BigUint::from(65537u32),
        };
        if let Some(extra) = fields.next() {
            return Err(ReadError {
                file: name.into(),
                offset: start + line.len() - extra.len(),
                msg: format!("line {line_no}: more than two fields (modulus[,exponent])"),
            });
        }
        out.push(PublicKey {
            label: format!("{name}:{line_no}"),
            kind: KeyKind::Rsa { n, e },
        });
    }
    if out.is_empty() {
        return Err(ReadError {
            file: name.into(),
            offset: 0,
            msg: "no keys (expected PEM, DER or CSV `modulus[,exponent]` in hex)".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_errors() {
        let k = parse("m.csv", b"modulus,exponent\n# c\nC5,3\n0xd7\n").unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].label, "m.csv:3");
        assert_eq!(
            k[0].kind,
            KeyKind::Rsa {
                n: BigUint::from(0xc5u8),
                e: BigUint::from(3u8)
            }
        );
        let e = parse("m.csv", b"c5\nc5g7\n").unwrap_err();
        assert_eq!((e.offset, e.msg.contains("'g'")), (5, true), "{e}");
        let e = parse("m.csv", b"c5,3,4\n").unwrap_err();
        assert!(e.msg.contains("more than two"), "{e}");
        let e = parse("k.txt", b"key 0 group 0 Rsa2048 usage 0x03\n").unwrap_err();
        assert!(e.msg.contains("wpki keys"), "{e}");
        let e = parse("k.der", &[0x30, 0x82, 0x01]).unwrap_err();
        assert!(e.to_string().starts_with("k.der: offset"), "{e}");
        let e = parse(
            "k.pem",
            b"-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err();
        assert!(e.msg.contains("PRIVATE KEY"), "{e}");
    }
}
