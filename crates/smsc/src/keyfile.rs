//! Per-card OTA keys from a keyfile, the way operators import them into their OTA
//! platform: a CSV file with a header row. Keys given for a card replace the profile's keys
//! of that key set version (KVN, TS 102 225 §5.1.2) for that card only; every other card
//! keeps the profile's. Two layouts, chosen by the header:
//!
//! * **one key set per row** (the header has a `KVN` column):
//!   `ICCID|MSISDN|INDEX, KVN, KIC, KID[, KIK][, KIC_ALGORITHM, KID_ALGORITHM]`;
//! * **pySim's card_key_provider layout** (no `KVN` column): `ICCID` and `KIC1`, `KID1`,
//!   `KIK1`, `KIC2`, … (the digit is the KVN; pySim's `contrib/csv-to-pgsql.py` and
//!   `pySim-shell --csv` files). Other columns (`IMSI`, `PIN1`, `KI`, …) are ignored, and
//!   so are empty cells.
//!
//! Column names are case-insensitive; cells may be double-quoted. A card is named by
//! `ICCID` (its derived ICCID, [`crate::fleet`]), `MSISDN` or `INDEX`; the KVN must be one
//! of the profile's key sets (its algorithms, counter and TAR rules apply) and the
//! algorithms default to the profile's for that KVN. Every bad cell is an error naming the
//! file, the line and the column. Keys are zeroized when dropped.

use crate::fleet::FleetConfig;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uicc::profile::OtaKeyset;
use zeroize::Zeroizing;

/// A keyfile problem: file, line and column (1-based; column 0 = the whole line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {reason}", path.display())]
pub struct KeyFileError {
    /// The keyfile.
    pub path: PathBuf,
    /// Line.
    pub line: usize,
    /// Column (field number, from 1).
    pub column: usize,
    /// What is wrong, naming the column.
    pub reason: String,
}

/// The per-card key sets of a keyfile, by card index.
#[derive(Default)]
pub struct KeyFile {
    cards: BTreeMap<u64, Vec<OtaKeyset>>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("cards", &self.cards.len())
            .finish_non_exhaustive()
    }
}

/// Split one CSV line into cells (double quotes group, `""` is a quote).
fn cells(line: &str) -> Result<Vec<Zeroizing<String>>, usize> {
    let mut out = Vec::new();
    let mut cur = Zeroizing::new(String::new());
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => quoted = true,
            (',', false) => {
                out.push(Zeroizing::new(cur.trim().to_string()));
                cur.clear();
            }
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err(out.len() + 1);
    }
    out.push(Zeroizing::new(cur.trim().to_string()));
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Iccid,
    Msisdn,
    Index,
    Kvn,
    Kic(u8),
    Kid(u8),
    Kik(u8),
    KicAlg(u8),
    KidAlg(u8),
    Other,
}

/// The column a header cell names (`n` = 0: the KVN is in the `KVN` column).
fn column(name: &str) -> Col {
    let n = name.to_ascii_uppercase();
    let numbered = |p: &str| -> Option<u8> {
        let d = n.strip_prefix(p)?;
        if d.is_empty() {
            return Some(0);
        }
        d.parse().ok().filter(|v| (1..=15).contains(v))
    };
    match n.as_str() {
        "ICCID" => return Col::Iccid,
        "MSISDN" => return Col::Msisdn,
        "INDEX" => return Col::Index,
        "KVN" => return Col::Kvn,
        "KIC_ALGORITHM" => return Col::KicAlg(0),
        "KID_ALGORITHM" => return Col::KidAlg(0),
        _ => {}
    }
    if let Some(k) = n
        .strip_suffix("_ALGORITHM")
        .and_then(|b| b.strip_prefix("KIC"))
    {
        if let Ok(v) = k.parse::<u8>() {
            return Col::KicAlg(v);
        }
    }
    if let Some(k) = n
        .strip_suffix("_ALGORITHM")
        .and_then(|b| b.strip_prefix("KID"))
    {
        if let Ok(v) = k.parse::<u8>() {
            return Col::KidAlg(v);
        }
    }
    if let Some(v) = numbered("KIC") {
        return Col::Kic(v);
    }
    if let Some(v) = numbered("KID") {
        return Col::Kid(v);
    }
    if let Some(v) = numbered("KIK") {
        return Col::Kik(v);
    }
    Col::Other
}

/// One cell of a row: its column, the column's name, its value and where it is.
struct Cell {
    col: Col,
    name: String,
    value: Zeroizing<String>,
    /// (line, column).
    at: (usize, usize),
}

/// Key bytes, zeroized on drop.
type Key = Zeroizing<Vec<u8>>;

/// One key set being read from a row.
#[derive(Default)]
struct Partial {
    kic: Option<(Key, (usize, usize))>,
    kid: Option<(Key, (usize, usize))>,
    kik: Option<Zeroizing<Vec<u8>>>,
    kic_alg: Option<String>,
    kid_alg: Option<String>,
}

impl KeyFile {
    /// Read a keyfile for a fleet of cards made from `base`: TOML when its name ends in
    /// `.toml`, else CSV.
    pub fn load(
        path: &Path,
        fleet: FleetConfig,
        base: &uicc::Profile,
    ) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyFileError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            reason: e.to_string(),
        })?;
        let text = Zeroizing::new(text);
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            KeyFile::parse_toml(&text, path, fleet, base)
        } else {
            KeyFile::parse_csv(&text, path, fleet, base)
        }
    }

    /// Parse CSV `text` (`path` names it in errors).
    pub fn parse_csv(
        text: &str,
        path: &Path,
        fleet: FleetConfig,
        base: &uicc::Profile,
    ) -> Result<Self, KeyFileError> {
        let err = |line: usize, column: usize, reason: String| KeyFileError {
            path: path.to_path_buf(),
            line,
            column,
            reason,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let Some((hline, header)) = lines.next() else {
            return Err(err(1, 0, "empty keyfile: expected a header row".into()));
        };
        let names = cells(header).map_err(|c| err(hline, c, "unterminated quote".into()))?;
        let cols: Vec<Col> = names.iter().map(|n| column(n)).collect();
        let per_row = cols.contains(&Col::Kvn);
        let selectors = cols
            .iter()
            .filter(|c| matches!(c, Col::Iccid | Col::Msisdn | Col::Index))
            .count();
        if selectors != 1 {
            return Err(err(
                hline,
                0,
                format!(
                    "header {:?}: expected exactly one of the columns ICCID, MSISDN, INDEX",
                    header
                ),
            ));
        }
        if !cols.iter().any(|c| matches!(c, Col::Kic(_) | Col::Kid(_))) {
            return Err(err(
                hline,
                0,
                "header: no key columns (KVN,KIC,KID or pySim's KIC1,KID1,...)".into(),
            ));
        }
        let mut out = KeyFile::default();
        let mut seen: BTreeMap<(u64, u8), usize> = BTreeMap::new();
        for (line, row) in lines {
            let cs = cells(row).map_err(|c| err(line, c, "unterminated quote".into()))?;
            if cs.len() != cols.len() {
                return Err(err(
                    line,
                    0,
                    format!("{} cells, the header has {}", cs.len(), cols.len()),
                ));
            }
            let row: Vec<Cell> = cols
                .iter()
                .zip(cs)
                .enumerate()
                .map(|(k, (col, value))| Cell {
                    col: *col,
                    name: names[k].to_ascii_uppercase(),
                    value,
                    at: (line, k + 1),
                })
                .collect();
            out.add_row(&mut seen, line, &row, per_row, &err, fleet, base)?;
        }
        Ok(out)
    }

    /// Read a TOML keyfile: one `[[card]]` table per card and key set, with `iccid`,
    /// `msisdn` or `index`, and `kvn`, `kic`, `kid`, optional `kik`, `kic_algorithm`,
    /// `kid_algorithm` (the one-key-set-per-row layout of the CSV form).
    pub fn parse_toml(
        text: &str,
        path: &Path,
        fleet: FleetConfig,
        base: &uicc::Profile,
    ) -> Result<Self, KeyFileError> {
        use toml::Spanned;
        let line_col = |off: usize| {
            let before = &text[..off.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        };
        let err = |line: usize, column: usize, reason: String| KeyFileError {
            path: path.to_path_buf(),
            line,
            column,
            reason,
        };
        #[derive(serde::Deserialize)]
        struct Doc {
            #[serde(default)]
            card: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| {
            let (l, c) = e.span().map_or((0, 0), |s| line_col(s.start));
            // The message may quote the input: keep only its first line, which does not.
            let msg = e.message().lines().next().unwrap_or("").to_string();
            err(l, c, msg)
        })?;
        let mut out = KeyFile::default();
        let mut seen: BTreeMap<(u64, u8), usize> = BTreeMap::new();
        for table in &doc.card {
            let (line, _) = line_col(table.span().start);
            let mut row = Vec::new();
            for (k, v) in table.get_ref() {
                let at = line_col(v.span().start);
                let name = k.get_ref().to_ascii_uppercase();
                let col = match name.as_str() {
                    "ICCID" | "MSISDN" | "INDEX" | "KVN" | "KIC" | "KID" | "KIK"
                    | "KIC_ALGORITHM" | "KID_ALGORITHM" => column(&name),
                    _ => {
                        let (l, c) = line_col(k.span().start);
                        return Err(err(l, c, format!("unknown key {:?}", k.get_ref())));
                    }
                };
                let value = match v.get_ref() {
                    toml::Value::String(s) => Zeroizing::new(s.clone()),
                    toml::Value::Integer(i) if matches!(col, Col::Index | Col::Kvn) => {
                        Zeroizing::new(i.to_string())
                    }
                    _ => {
                        let want = if matches!(col, Col::Index | Col::Kvn) {
                            "a number"
                        } else {
                            "a string"
                        };
                        return Err(err(at.0, at.1, format!("{name}: expected {want}")));
                    }
                };
                row.push(Cell {
                    col,
                    name,
                    value,
                    at,
                });
            }
            let selectors = row
                .iter()
                .filter(|c| matches!(c.col, Col::Iccid | Col::Msisdn | Col::Index))
                .count();
            if selectors != 1 {
                return Err(err(
                    line,
                    0,
                    "[[card]]: expected exactly one of iccid, msisdn, index".into(),
                ));
            }
            out.add_row(&mut seen, line, &row, true, &err, fleet, base)?;
        }
        Ok(out)
    }

    /// Add the key sets of one row (`line`: the row, for errors about the whole row).
    #[allow(clippy::too_many_arguments)]
    fn add_row(
        &mut self,
        seen: &mut BTreeMap<(u64, u8), usize>,
        line: usize,
        row: &[Cell],
        per_row: bool,
        err: &dyn Fn(usize, usize, String) -> KeyFileError,
        fleet: FleetConfig,
        base: &uicc::Profile,
    ) -> Result<(), KeyFileError> {
        let mut card = None;
        let mut row_kvn = None;
        let mut sets: BTreeMap<u8, Partial> = BTreeMap::new();
        for c in row {
            let (name, cell) = (&c.name, c.value.as_str());
            if cell.is_empty() {
                continue;
            }
            let bad = |why: String| err(c.at.0, c.at.1, format!("{name}: {why}"));
            match c.col {
                Col::Iccid => card = Some(fleet.route_iccid(cell).map_err(bad)?),
                Col::Msisdn => {
                    card =
                        Some(fleet.route(cell).ok_or_else(|| {
                            bad(format!("{cell:?} is not an MSISDN of this fleet"))
                        })?)
                }
                Col::Index => {
                    let i: u64 = cell
                        .parse()
                        .map_err(|_| bad(format!("{cell:?} is not a number")))?;
                    if i >= fleet.cards {
                        return Err(bad(format!("card {i}, the fleet has {}", fleet.cards)));
                    }
                    card = Some(i)
                }
                Col::Kvn => {
                    let v: u8 = cell
                        .parse()
                        .ok()
                        .filter(|v| (1..=15).contains(v))
                        .ok_or_else(|| bad(format!("{cell:?}: expected 1..=15")))?;
                    row_kvn = Some((v, c.at));
                }
                Col::Kic(v) | Col::Kid(v) | Col::Kik(v) => {
                    if v == 0 && !per_row {
                        return Err(bad("no KVN column: name it KIC1, KID1, ...".into()));
                    }
                    let key = Zeroizing::new(
                        apdu::hex::decode(cell)
                            .map_err(|_| bad("not hex (key digits hidden)".into()))?,
                    );
                    let p = sets.entry(v).or_default();
                    match c.col {
                        Col::Kic(_) => p.kic = Some((key, c.at)),
                        Col::Kid(_) => p.kid = Some((key, c.at)),
                        _ => p.kik = Some(key),
                    }
                }
                Col::KicAlg(v) => sets.entry(v).or_default().kic_alg = Some(cell.into()),
                Col::KidAlg(v) => sets.entry(v).or_default().kid_alg = Some(cell.into()),
                Col::Other => {}
            }
        }
        let Some(card) = card else {
            return Err(err(
                line,
                0,
                "no card named (empty ICCID/MSISDN/INDEX)".into(),
            ));
        };
        for (slot, p) in sets {
            let (kvn, kvn_at) = match (slot, row_kvn) {
                (0, Some(k)) => k,
                (0, None) => return Err(err(line, 0, "KVN: empty".into())),
                (v, _) => (
                    v,
                    p.kic.as_ref().or(p.kid.as_ref()).map_or((line, 0), |k| k.1),
                ),
            };
            let at = |a: (usize, usize), why: String| err(a.0, a.1, why);
            let Some(prof) = base.ota_keysets.iter().find(|k| k.kvn == kvn) else {
                return Err(at(
                    kvn_at,
                    format!(
                        "KVN {kvn} is not a key set of the profile (it has {:?})",
                        base.ota_keysets.iter().map(|k| k.kvn).collect::<Vec<_>>()
                    ),
                ));
            };
            if let Some(prev) = seen.insert((card, kvn), line) {
                return Err(at(
                    kvn_at,
                    format!("card {card} KVN {kvn} already given on line {prev}"),
                ));
            }
            let (Some((kic, kic_at)), Some((kid, kid_at))) = (p.kic, p.kid) else {
                return Err(at(
                    kvn_at,
                    format!("KVN {kvn}: both KIC and KID are needed"),
                ));
            };
            let kic_alg = p.kic_alg.unwrap_or_else(|| prof.kic_algorithm.clone());
            let kid_alg = p.kid_alg.unwrap_or_else(|| prof.kid_algorithm.clone());
            let cipher = uicc::ram::cipher_alg(&kic_alg)
                .ok_or_else(|| at(kic_at, format!("KIC algorithm {kic_alg:?} unknown")))?;
            let check = uicc::ram::checksum_alg(&kid_alg)
                .ok_or_else(|| at(kid_at, format!("KID algorithm {kid_alg:?} unknown")))?;
            ota::Keyset::new()
                .with_kic(cipher, &kic, kvn)
                .map_err(|e| at(kic_at, format!("KIC (KVN {kvn}): {e}")))?
                .with_kid(check, &kid, kvn)
                .map_err(|e| at(kid_at, format!("KID (KVN {kvn}): {e}")))?;
            self.cards.entry(card).or_default().push(OtaKeyset {
                kvn,
                kic: kic.to_vec(),
                kid: kid.to_vec(),
                kik: p.kik.map(|k| k.to_vec()),
                kic_algorithm: kic_alg,
                kid_algorithm: kid_alg,
            });
        }
        Ok(())
    }

    /// How many cards have keys of their own.
    pub fn cards(&self) -> usize {
        self.cards.len()
    }

    /// The key sets of card `index`, if the keyfile gives any.
    pub fn keysets(&self, index: u64) -> Option<&[OtaKeyset]> {
        self.cards.get(&index).map(Vec::as_slice)
    }

    /// Put card `index`'s key sets into its profile (replacing those KVNs).
    pub fn apply(&self, index: u64, profile: &mut uicc::Profile) {
        for k in self.keysets(index).unwrap_or_default() {
            if let Some(slot) = profile.ota_keysets.iter_mut().find(|p| p.kvn == k.kvn) {
                *slot = k.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> FleetConfig {
        FleetConfig {
            cards: 10,
            msisdn_base: 491_700_000_000,
        }
    }

    fn parse(text: &str) -> Result<KeyFile, KeyFileError> {
        KeyFile::parse_csv(
            text,
            Path::new("keys.csv"),
            fleet(),
            &uicc::Profile::default_profile(),
        )
    }

    const K16: &str = "00112233445566778899AABBCCDDEEFF";

    #[test]
    fn both_layouts_read() {
        let iccid3 = crate::CardIdentity::new(3, 491_700_000_000).iccid;
        let f = parse(&format!(
            "ICCID,KVN,KIC,KID,KIK\n{iccid3},1,{K16},{K16},\n\n# comment\n{iccid3},2,{K16},{K16},{K16}\n"
        ))
        .unwrap();
        assert_eq!(f.cards(), 1);
        let k = f.keysets(3).unwrap();
        assert_eq!((k[0].kvn, k[1].kvn), (1, 2));
        assert_eq!(k[0].kic_algorithm, "aes-cbc");
        assert_eq!(
            k[1].kik.as_deref(),
            Some(&apdu::hex::decode(K16).unwrap()[..])
        );
        // pySim's layout: quoted, extra columns, empty cells, lower-case names.
        let f = parse(&format!(
            "\"imsi\",\"iccid\",\"kic1\",\"kid1\",\"kik1\",\"kic3\",\"kid3\"\n\"001010000000004\",\"{}\",\"{K16}\",\"{K16}\",\"\",\"\",\"\"\n",
            crate::CardIdentity::new(4, 491_700_000_000).iccid
        ))
        .unwrap();
        assert_eq!(f.keysets(4).unwrap().len(), 1);
        let f = parse(&format!("MSISDN,KVN,KIC,KID\n491700000009,1,{K16},{K16}\n")).unwrap();
        assert!(f.keysets(9).is_some());
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let e = |t: &str| parse(t).unwrap_err().to_string();
        let h = "INDEX,KVN,KIC,KID\n";
        assert_eq!(
            e(&format!("{h}1,1,{K16},XYZ\n")),
            "keys.csv:2:4: KID: not hex (key digits hidden)"
        );
        assert_eq!(
            e(&format!("{h}12,1,{K16},{K16}\n")),
            "keys.csv:2:1: INDEX: card 12, the fleet has 10"
        );
        assert!(
            e(&format!("{h}1,7,{K16},{K16}\n")).starts_with("keys.csv:2:2: KVN 7 is not a key set")
        );
        assert!(e(&format!("{h}1,1,0011,{K16}\n")).starts_with("keys.csv:2:3: KIC (KVN 1):"));
        assert_eq!(
            e(&format!("{h}1,1,{K16},{K16}\n1,1,{K16},{K16}\n")),
            "keys.csv:3:2: card 1 KVN 1 already given on line 2"
        );
        assert!(e(&format!("{h}1,1,{K16}\n")).starts_with("keys.csv:2:0: 3 cells"));
        assert!(e("KIC1,KID1\n").contains("exactly one of the columns ICCID, MSISDN, INDEX"));
        assert!(e("ICCID,KIC1,KID1\n8988211000000000071,a,b\n")
            .starts_with("keys.csv:2:1: ICCID: ICCID 8988211000000000071: Luhn"));
        assert!(e(&format!("MSISDN,KIC1,KID1\n4917,{K16},{K16}\n"))
            .starts_with("keys.csv:2:1: MSISDN:"));
        // A bad key never shows its digits.
        assert!(!e(&format!("{h}1,1,{K16}ZZ,{K16}\n")).contains("AABB"));
    }

    #[test]
    fn toml_keyfile_and_its_errors() {
        let t = |text: &str| {
            KeyFile::parse_toml(
                text,
                Path::new("keys.toml"),
                fleet(),
                &uicc::Profile::default_profile(),
            )
        };
        let f = t(&format!(
            "[[card]]\nindex = 2\nkvn = 1\nkic = \"{K16}\"\nkid = \"{K16}\"\n\n[[card]]\nmsisdn = \"491700000003\"\nkvn = 2\nkic = \"{K16}\"\nkid = \"{K16}\"\nkik = \"{K16}\"\n"
        ))
        .unwrap();
        assert_eq!(f.cards(), 2);
        assert_eq!(f.keysets(3).unwrap()[0].kic_algorithm, "3des2");
        let e = |text: &str| t(text).unwrap_err().to_string();
        assert_eq!(
            e(&format!(
                "[[card]]\nindex = 2\nkvn = 1\nkic = \"{K16}\"\nkid = \"zz\"\n"
            )),
            "keys.toml:5:7: KID: not hex (key digits hidden)"
        );
        assert_eq!(
            e("[[card]]\nindex = 2\ncolour = 1\n"),
            "keys.toml:3:1: unknown key \"colour\""
        );
        assert!(
            e("[[card]]\nkvn = 1\n").starts_with("keys.toml:1:0: [[card]]: expected exactly one")
        );
        assert!(
            e("[[card]\n").starts_with("keys.toml:1:"),
            "{}",
            e("[[card]\n")
        );
    }
}
