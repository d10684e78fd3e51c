//! Signature profile URIs (ETSI TS 102 204 "signature profile", MSS style):
//! `mss:<commercial name>:<pki operation>:<level of assurance>:<sscd>[?k=v&k=v]`.
//!
//! Every field may be empty (`mss::authn:loa3`); trailing fields may be left out. The level of
//! assurance is `loa2`, `loa3` or `loa4`, optionally refined with `.extension` (`loa3.bank`).
//!
//! Matching a requested profile against an offered one ([`MatchMode`]):
//! * `exact`: every field that the request names is equal (query extensions too);
//! * `minimum`: the offer is at least as good: LoA ≥, SSCD ≥;
//! * `better`: at least as good in both and strictly better in LoA or SSCD.
//!
//! Ordering used (documented choice, the MSS specs leave it to the operator):
//! LoA `loa2 < loa3 < loa4` (the `.extension` must be equal when the request names one);
//! SSCD `server < app < sim = se` — a key in a SIM or another secure element is the strongest
//! holder, an app keystore on the handset is weaker, a server-held key the weakest.
//! Empty fields in the request mean "any"; an empty field in the offer only satisfies an empty
//! (or absent) field in the request.
//!
//! Legacy `http://…` profile URIs are mapped to `mss:` profiles through [`LEGACY_PROFILES`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// Why a profile URI could not be parsed; `offset` counts characters from the start.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// The URI does not start with `mss:` and is not a known legacy URI.
    #[error("offset 0: profile URI must start with `mss:` (or be a known legacy http:// URI)")]
    Scheme,
    /// More than four `:`-separated fields after `mss:`.
    #[error(
        "offset {offset}: too many `:` fields (at most commercial name, operation, LoA, SSCD)"
    )]
    TooManyFields {
        /// Offset of the extra `:`.
        offset: usize,
    },
    /// An unknown PKI operation.
    #[error("offset {offset}: unknown pki operation `{value}` (sign authn encrypt pop popo consent anonymous digest)")]
    Operation {
        /// Offset of the field.
        offset: usize,
        /// The text found.
        value: String,
    },
    /// A malformed level of assurance.
    #[error("offset {offset}: level of assurance `{value}` is not loa2, loa3 or loa4 (optionally .extension)")]
    Loa {
        /// Offset of the field.
        offset: usize,
        /// The text found.
        value: String,
    },
    /// An unknown SSCD.
    #[error("offset {offset}: unknown sscd `{value}` (sim app se server)")]
    Sscd {
        /// Offset of the field.
        offset: usize,
        /// The text found.
        value: String,
    },
    /// A query parameter without `=` or with an empty key, or a bad character.
    #[error("offset {offset}: bad query parameter `{value}` (want key=value)")]
    Query {
        /// Offset of the parameter.
        offset: usize,
        /// The text found.
        value: String,
    },
    /// The commercial name contains a character outside `[A-Za-z0-9._-]`.
    #[error("offset {offset}: character {ch:?} not allowed in the commercial name")]
    Name {
        /// Offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
}

/// The PKI operation field of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Digital signature of user-visible content.
    Sign,
    /// Authentication (challenge signature).
    Authn,
    /// Decryption of data encrypted for the user ("encrypt" service).
    Encrypt,
    /// Proof of possession (certification request).
    Pop,
    /// Proof of possession of the private key for an existing certificate.
    Popo,
    /// Click-OK consent without PIN.
    Consent,
    /// Anonymous (pseudonymous) authentication.
    Anonymous,
    /// Signature of a server-supplied digest.
    Digest,
}

impl Operation {
    /// All operations, in the order of the specification text.
    pub const ALL: [Operation; 8] = [
        Operation::Sign,
        Operation::Authn,
        Operation::Encrypt,
        Operation::Pop,
        Operation::Popo,
        Operation::Consent,
        Operation::Anonymous,
        Operation::Digest,
    ];
    /// The URI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Sign => "sign",
            Operation::Authn => "authn",
            Operation::Encrypt => "encrypt",
            Operation::Pop => "pop",
            Operation::Popo => "popo",
            Operation::Consent => "consent",
            Operation::Anonymous => "anonymous",
            Operation::Digest => "digest",
        }
    }
}

impl FromStr for Operation {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or(())
    }
}

/// A level of assurance: `loa2`..`loa4` plus an optional `.extension`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loa {
    /// 2, 3 or 4.
    pub level: u8,
    /// Text after the first `.`, if any.
    pub extension: Option<String>,
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loa{}", self.level)?;
        if let Some(e) = &self.extension {
            write!(f, ".{e}")?;
        }
        Ok(())
    }
}

/// The signature creation device holding the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sscd {
    /// The SIM/UICC.
    Sim,
    /// An application keystore on the handset.
    App,
    /// Another secure element (eSE, microSD SE).
    Se,
    /// A server-side key (remote signing).
    Server,
}

impl Sscd {
    /// The URI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Sscd::Sim => "sim",
            Sscd::App => "app",
            Sscd::Se => "se",
            Sscd::Server => "server",
        }
    }
    /// Strength rank used for matching: sim = se (2) > app (1) > server (0).
    pub fn rank(self) -> u8 {
        match self {
            Sscd::Sim | Sscd::Se => 2,
            Sscd::App => 1,
            Sscd::Server => 0,
        }
    }
}

impl FromStr for Sscd {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "sim" => Ok(Sscd::Sim),
            "app" => Ok(Sscd::App),
            "se" => Ok(Sscd::Se),
            "server" => Ok(Sscd::Server),
            _ => Err(()),
        }
    }
}

/// A parsed signature profile. `None` fields were empty or absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Profile {
    /// Commercial (service) name.
    pub name: Option<String>,
    /// PKI operation.
    pub operation: Option<Operation>,
    /// Level of assurance.
    pub loa: Option<Loa>,
    /// Signature creation device.
    pub sscd: Option<Sscd>,
    /// Query extensions in their order (`ECC=true`, `RSAkeylen=2048`).
    pub query: Vec<(String, String)>,
}

/// How a requested profile is compared with an offered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    /// Equal in every field the request names.
    Exact,
    /// At least as good as requested.
    Minimum,
    /// Strictly better in LoA or SSCD, and not worse in the other.
    Better,
}

impl FromStr for MatchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(MatchMode::Exact),
            "minimum" => Ok(MatchMode::Minimum),
            "better" => Ok(MatchMode::Better),
            _ => Err(format!("match mode `{s}` is not exact, minimum or better")),
        }
    }
}

/// Legacy `http://…` profile URIs and the `mss:` profile each stands for.
pub const LEGACY_PROFILES: &[(&str, &str)] = &[
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#signature",
        "mss::sign:loa3:sim",
    ),
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#authentication",
        "mss::authn:loa3:sim",
    ),
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#consent",
        "mss::consent:loa2:sim",
    ),
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#digestive-signature",
        "mss::digest:loa3:sim",
    ),
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#PKCS7",
        "mss::sign:loa3:sim",
    ),
    (
        "http://mss.ficom.fi/TS102204/v1.0.0#PKCS1",
        "mss::authn:loa3:sim",
    ),
    ("http://alauda.mobi/digitalSignature", "mss::sign:loa3:sim"),
    ("http://alauda.mobi/nonRepudiation", "mss::sign:loa4:sim"),
    ("http://alauda.mobi/authentication", "mss::authn:loa3:sim"),
    ("http://alauda.mobi/encryption", "mss::encrypt:loa3:sim"),
    ("http://alauda.mobi/consent", "mss::consent:loa2:sim"),
    ("http://alauda.mobi/pop", "mss::pop:loa3:sim"),
];

fn parse_loa(s: &str, offset: usize) -> Result<Loa, ProfileError> {
    let err = || ProfileError::Loa {
        offset,
        value: s.to_string(),
    };
    let (base, ext) = match s.split_once('.') {
        Some((b, e)) => (b, Some(e)),
        None => (s, None),
    };
    let level = match base {
        "loa2" => 2,
        "loa3" => 3,
        "loa4" => 4,
        _ => return Err(err()),
    };
    if let Some(e) = ext {
        if e.is_empty()
            || !e
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(err());
        }
    }
    Ok(Loa {
        level,
        extension: ext.map(str::to_string),
    })
}

impl Profile {
    /// Parse an `mss:` URI or a legacy URI listed in [`LEGACY_PROFILES`].
    pub fn parse(uri: &str) -> Result<Profile, ProfileError> {
        if let Some((_, m)) = LEGACY_PROFILES.iter().find(|(l, _)| *l == uri) {
            return Profile::parse(m);
        }
        let rest = uri.strip_prefix("mss:").ok_or(ProfileError::Scheme)?;
        let base = 4usize;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut p = Profile::default();
        let mut off = base;
        for (i, field) in path.split(':').enumerate() {
            match i {
                0 => {
                    if let Some((k, ch)) = field
                        .char_indices()
                        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
                    {
                        return Err(ProfileError::Name {
                            offset: off + k,
                            ch,
                        });
                    }
                    p.name = (!field.is_empty()).then(|| field.to_string());
                }
                1 if !field.is_empty() => {
                    p.operation = Some(field.parse().map_err(|_| ProfileError::Operation {
                        offset: off,
                        value: field.to_string(),
                    })?);
                }
                2 if !field.is_empty() => p.loa = Some(parse_loa(field, off)?),
                3 if !field.is_empty() => {
                    p.sscd = Some(field.parse().map_err(|_| ProfileError::Sscd {
                        offset: off,
                        value: field.to_string(),
                    })?);
                }
                1..=3 => {}
                _ => {
                    return Err(ProfileError::TooManyFields {
                        offset: off.saturating_sub(1),
                    })
                }
            }
            off += field.len() + 1;
        }
        if let Some(q) = query {
            let mut qoff = base + path.len() + 1;
            for kv in q.split('&') {
                let bad = || ProfileError::Query {
                    offset: qoff,
                    value: kv.to_string(),
                };
                let (k, v) = kv.split_once('=').ok_or_else(bad)?;
                let ok = |s: &str| {
                    s.chars()
                        .all(|c| c.is_ascii_graphic() && !"&=?#".contains(c))
                };
                if k.is_empty() || !ok(k) || !ok(v) {
                    return Err(bad());
                }
                p.query.push((k.to_string(), v.to_string()));
                qoff += kv.len() + 1;
            }
        }
        Ok(p)
    }

    /// The value of a query extension (keys compare case-insensitively).
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Does `offer` satisfy this requested profile under `mode`? See the module docs.
    pub fn accepts(&self, offer: &Profile, mode: MatchMode) -> bool {
        if let Some(n) = &self.name {
            if offer.name.as_ref() != Some(n) {
                return false;
            }
        }
        if let Some(o) = self.operation {
            if offer.operation != Some(o) {
                return false;
            }
        }
        for (k, v) in &self.query {
            if !offer
                .query
                .iter()
                .any(|(ok, ov)| ok.eq_ignore_ascii_case(k) && ov.eq_ignore_ascii_case(v))
            {
                return false;
            }
        }
        let loa = match (&self.loa, &offer.loa) {
            (None, _) => Some(Ordering::Equal),
            (Some(_), None) => None,
            (Some(r), Some(o)) => {
                if r.extension.is_some() && r.extension != o.extension {
                    None
                } else {
                    Some(o.level.cmp(&r.level))
                }
            }
        };
        let sscd = match (self.sscd, offer.sscd) {
            (None, _) => Some(Ordering::Equal),
            (Some(_), None) => None,
            (Some(r), Some(o)) => Some(o.rank().cmp(&r.rank())),
        };
        let (Some(loa), Some(sscd)) = (loa, sscd) else {
            return false;
        };
        match mode {
            MatchMode::Exact => {
                loa == Ordering::Equal
                    && sscd == Ordering::Equal
                    && (self.sscd.is_none() || self.sscd == offer.sscd)
            }
            MatchMode::Minimum => loa != Ordering::Less && sscd != Ordering::Less,
            MatchMode::Better => {
                loa != Ordering::Less
                    && sscd != Ordering::Less
                    && (loa == Ordering::Greater || sscd == Ordering::Greater)
            }
        }
    }
}

impl fmt::Display for Profile {
    /// Prints the canonical form: trailing empty fields are dropped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = [
            self.name.clone().unwrap_or_default(),
            self.operation
                .map(|o| o.as_str().to_string())
                .unwrap_or_default(),
            self.loa.as_ref().map(|l| l.to_string()).unwrap_or_default(),
            self.sscd
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        ];
        let last = fields
            .iter()
            .rposition(|s| !s.is_empty())
            .map_or(0, |i| i + 1);
        let shown = if last == 0 { 1 } else { last };
        write!(f, "mss:{}", fields[..shown].join(":"))?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl FromStr for Profile {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        Profile::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_print_table() {
        let table = [
            ("mss:bank:sign:loa3:sim", "mss:bank:sign:loa3:sim"),
            ("mss::authn:loa3", "mss::authn:loa3"),
            ("mss::authn:loa3:", "mss::authn:loa3"),
            ("mss:", "mss:"),
            (
                "mss:x:sign:loa4.qes:se?ECC=true&RSAkeylen=2048",
                "mss:x:sign:loa4.qes:se?ECC=true&RSAkeylen=2048",
            ),
            ("mss:::loa2", "mss:::loa2"),
            ("http://alauda.mobi/consent", "mss::consent:loa2:sim"),
        ];
        for (input, printed) in table {
            let p = Profile::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.to_string(), printed, "{input}");
            assert_eq!(Profile::parse(printed).as_ref(), Ok(&p), "{input}");
        }
    }

    #[test]
    fn parse_errors_name_field_and_offset() {
        let table: [(&str, ProfileError); 7] = [
            ("urn:x", ProfileError::Scheme),
            (
                "mss:a:sing",
                ProfileError::Operation {
                    offset: 6,
                    value: "sing".into(),
                },
            ),
            (
                "mss:a:sign:loa5",
                ProfileError::Loa {
                    offset: 11,
                    value: "loa5".into(),
                },
            ),
            (
                "mss:a:sign:loa3.",
                ProfileError::Loa {
                    offset: 11,
                    value: "loa3.".into(),
                },
            ),
            (
                "mss:a:sign:loa3:usb",
                ProfileError::Sscd {
                    offset: 16,
                    value: "usb".into(),
                },
            ),
            (
                "mss:a:sign:loa3:sim:x",
                ProfileError::TooManyFields { offset: 19 },
            ),
            (
                "mss:a::?ECC",
                ProfileError::Query {
                    offset: 8,
                    value: "ECC".into(),
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(Profile::parse(input), Err(want), "{input}");
        }
        assert_eq!(
            Profile::parse("mss:a b"),
            Err(ProfileError::Name { offset: 5, ch: ' ' })
        );
    }

    #[test]
    fn matching_table() {
        use MatchMode::*;
        // (request, offer, exact, minimum, better)
        let table = [
            (
                "mss::sign:loa3:sim",
                "mss:op:sign:loa3:sim",
                true,
                true,
                false,
            ),
            (
                "mss::sign:loa3:sim",
                "mss:op:sign:loa4:sim",
                false,
                true,
                true,
            ),
            (
                "mss::sign:loa3:sim",
                "mss:op:sign:loa2:sim",
                false,
                false,
                false,
            ),
            (
                "mss::sign:loa3:sim",
                "mss:op:sign:loa3:se",
                false,
                true,
                false,
            ),
            (
                "mss::sign:loa3:app",
                "mss:op:sign:loa3:sim",
                false,
                true,
                true,
            ),
            (
                "mss::sign:loa3:app",
                "mss:op:sign:loa3:server",
                false,
                false,
                false,
            ),
            (
                "mss::sign:loa3:server",
                "mss:op:sign:loa3:app",
                false,
                true,
                true,
            ),
            (
                "mss::sign:loa3:sim",
                "mss:op:sign:loa4:app",
                false,
                false,
                false,
            ),
            (
                "mss::sign:loa3",
                "mss:op:sign:loa3:server",
                true,
                true,
                false,
            ),
            ("mss::sign", "mss:op:authn:loa4:sim", false, false, false),
            (
                "mss::authn:loa3",
                "mss:op:authn:loa4:sim",
                false,
                true,
                true,
            ),
            (
                "mss:op::loa3",
                "mss:other:authn:loa4:sim",
                false,
                false,
                false,
            ),
            (
                "mss::sign:loa3.qes",
                "mss::sign:loa3.qes:sim",
                true,
                true,
                false,
            ),
            (
                "mss::sign:loa3.qes",
                "mss::sign:loa4:sim",
                false,
                false,
                false,
            ),
            (
                "mss::sign:loa3",
                "mss::sign:loa3.qes:sim",
                true,
                true,
                false,
            ),
            ("mss::sign:loa3:sim", "mss::sign::sim", false, false, false),
            (
                "mss::sign::sim?ECC=true",
                "mss::sign:loa3:sim?ECC=TRUE",
                true,
                true,
                false,
            ),
            (
                "mss::sign::sim?ECC=true",
                "mss::sign:loa3:sim",
                false,
                false,
                false,
            ),
            ("mss:", "mss::sign:loa3:sim", true, true, false),
        ];
        for (req, off, e, m, b) in table {
            let r = Profile::parse(req).expect(req);
            let o = Profile::parse(off).expect(off);
            assert_eq!(r.accepts(&o, Exact), e, "exact {req} vs {off}");
            assert_eq!(r.accepts(&o, Minimum), m, "minimum {req} vs {off}");
            assert_eq!(r.accepts(&o, Better), b, "better {req} vs {off}");
        }
    }

    #[test]
    fn legacy_table_entries_all_parse() {
        for (l, m) in LEGACY_PROFILES {
            assert_eq!(Profile::parse(l), Profile::parse(m));
        }
    }

    fn arb_profile() -> impl Strategy<Value = Profile> {
        (
            proptest::option::of("[a-z0-9]{1,6}"),
            proptest::option::of(0usize..8),
            proptest::option::of((2u8..=4, proptest::option::of("[a-z]{1,4}"))),
            proptest::option::of(0usize..4),
            proptest::collection::vec(("[A-Za-z]{1,5}", "[a-z0-9]{0,4}"), 0..3),
        )
            .prop_map(|(n, o, l, s, q)| Profile {
                name: n,
                operation: o.map(|i| Operation::ALL[i]),
                loa: l.map(|(level, extension)| Loa { level, extension }),
                sscd: s.map(|i| [Sscd::Sim, Sscd::App, Sscd::Se, Sscd::Server][i]),
                query: q,
            })
    }

    proptest! {
        #[test]
        fn print_parse_round_trip(p in arb_profile()) {
            prop_assert_eq!(Profile::parse(&p.to_string()), Ok(p.clone()));
            prop_assert!(p.accepts(&p, MatchMode::Minimum));
            prop_assert!(!p.accepts(&p, MatchMode::Better));
        }
    }
}
