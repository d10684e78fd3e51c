//! Response patterns: hex where `?` matches one nibble and `*` any number of bytes, with
//! `$name` standing for the bytes of a variable. An APDU pattern ends with SW1 SW2.
//!
//! Captures: the bytes the wildcards matched (every `*` run and every byte containing a `?`),
//! concatenated in order; a pattern without wildcards captures the response data (without SW).

use std::collections::HashMap;

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatElem {
    /// One byte; bits set in `mask` must equal `value` (`?` nibbles clear their half of the mask).
    Byte {
        /// The expected bits.
        value: u8,
        /// Which bits are compared.
        mask: u8,
    },
    /// Any number of bytes (including none).
    Star,
    /// The current value of a variable, compared literally.
    Var(String),
}

/// A parsed pattern with its source text (for reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The elements in order.
    pub elems: Vec<PatElem>,
    /// The pattern as written, normalised to single spaces.
    pub text: String,
}

/// Why a pattern could not be parsed: byte offset within the parsed text and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternSyntax {
    /// Byte offset in the text given to [`Pattern::parse`].
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Length of a variable name starting at `b[0]` (letters, digits, `_`, `-`; first not a digit).
pub(crate) fn ident_len(b: &[u8]) -> usize {
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        let ok =
            c.is_ascii_alphabetic() || c == b'_' || (i > 0 && (c.is_ascii_digit() || c == b'-'));
        if !ok {
            break;
        }
        n = i + 1;
    }
    n
}

/// Parse `$name` or `${name}` at `b[i]` (which is `$`); returns the name and the index after it.
pub(crate) fn parse_var(text: &str, i: usize) -> Result<(String, usize), PatternSyntax> {
    let b = text.as_bytes();
    let braced = b.get(i + 1) == Some(&b'{');
    let start = if braced { i + 2 } else { i + 1 };
    let n = ident_len(b.get(start..).unwrap_or(&[]));
    if n == 0 {
        return Err(PatternSyntax {
            offset: start,
            message: "expected a variable name after `$`".into(),
        });
    }
    let name = text.get(start..start + n).unwrap_or_default().to_string();
    let mut end = start + n;
    if braced {
        if b.get(end) != Some(&b'}') {
            return Err(PatternSyntax {
                offset: end,
                message: "expected `}` closing the variable name".into(),
            });
        }
        end += 1;
    }
    Ok((name, end))
}

impl Pattern {
    /// Parse pattern text. With `needs_sw`, the pattern must end with two fixed bytes (SW1 SW2).
    pub fn parse(text: &str, needs_sw: bool) -> Result<Pattern, PatternSyntax> {
        let b = text.as_bytes();
        let mut elems = Vec::new();
        let mut pending: Option<(u8, u8, usize)> = None; // value, mask of the high nibble
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                if let Some((_, _, at)) = pending {
                    return Err(odd(at));
                }
                i += 1;
                continue;
            }
            if c == b'*' || c == b'$' {
                if let Some((_, _, at)) = pending {
                    return Err(odd(at));
                }
                if c == b'*' {
                    if elems.last() != Some(&PatElem::Star) {
                        elems.push(PatElem::Star);
                    }
                    i += 1;
                } else {
                    let (name, end) = parse_var(text, i)?;
                    elems.push(PatElem::Var(name));
                    i = end;
                }
                continue;
            }
            if c == b'0'
                && pending.is_none()
                && matches!(b.get(i + 1), Some(b'x' | b'X'))
                && b.get(i + 2)
                    .is_some_and(|d| d.is_ascii_hexdigit() || *d == b'?')
            {
                i += 2;
                continue;
            }
            let (v, m) = match (c, nibble(c)) {
                (_, Some(n)) => (n, 0xF),
                (b'?', None) => (0, 0),
                _ => {
                    let found = text.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                    return Err(PatternSyntax {
                        offset: i,
                        message: format!(
                            "expected a hex digit, `?`, `*` or `$variable`, found `{found}`"
                        ),
                    });
                }
            };
            match pending.take() {
                None => pending = Some((v, m, i)),
                Some((hv, hm, _)) => elems.push(PatElem::Byte {
                    value: hv << 4 | v,
                    mask: hm << 4 | m,
                }),
            }
            i += 1;
        }
        if let Some((_, _, at)) = pending {
            return Err(odd(at));
        }
        if elems.is_empty() {
            return Err(PatternSyntax {
                offset: 0,
                message: "expected a pattern such as `9000` or `* 9000`".into(),
            });
        }
        if needs_sw {
            let tail = elems
                .iter()
                .rev()
                .take_while(|e| matches!(e, PatElem::Byte { .. }))
                .count();
            let has_var = elems.iter().any(|e| matches!(e, PatElem::Var(_)));
            if tail < 2 && !has_var {
                return Err(PatternSyntax {
                    offset: text.len(),
                    message: "expected the pattern to end with the status word SW1 SW2 (e.g. `9000`, `61??`)".into(),
                });
            }
        }
        Ok(Pattern {
            elems,
            text: text.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    /// True when the pattern asks for response data (more than a bare status word).
    pub fn wants_data(&self) -> bool {
        self.elems.len() > 2
            || self
                .elems
                .iter()
                .any(|e| !matches!(e, PatElem::Byte { .. }))
    }

    /// True when the pattern refers to variables.
    pub fn has_vars(&self) -> bool {
        self.elems.iter().any(|e| matches!(e, PatElem::Var(_)))
    }

    /// Replace variables by their bytes; `Err(name)` for an undefined variable.
    pub fn resolve(&self, vars: &HashMap<String, Vec<u8>>) -> Result<Pattern, String> {
        let mut elems = Vec::with_capacity(self.elems.len());
        for e in &self.elems {
            match e {
                PatElem::Var(n) => {
                    let v = vars.get(n).ok_or_else(|| n.clone())?;
                    elems.extend(v.iter().map(|&value| PatElem::Byte { value, mask: 0xFF }));
                }
                other => elems.push(other.clone()),
            }
        }
        Ok(Pattern {
            elems,
            text: self.text.clone(),
        })
    }

    /// Match `resp` (variables must be resolved first); on success return the captured bytes.
    pub fn match_capture(&self, resp: &[u8]) -> Option<Vec<u8>> {
        let mut spans = Vec::new();
        if !match_elems(&self.elems, resp, Some(&mut spans)) {
            return None;
        }
        if spans.is_empty() {
            return Some(
                resp.get(..resp.len().saturating_sub(2))
                    .unwrap_or_default()
                    .to_vec(),
            );
        }
        let mut out = Vec::new();
        for (a, b) in spans {
            out.extend_from_slice(resp.get(a..b).unwrap_or_default());
        }
        Some(out)
    }

    /// True when `resp` matches (variables must be resolved first).
    pub fn matches(&self, resp: &[u8]) -> bool {
        match_elems(&self.elems, resp, None)
    }
}

fn odd(at: usize) -> PatternSyntax {
    PatternSyntax {
        offset: at,
        message: "odd number of hex digits (a byte needs two nibbles)".into(),
    }
}

fn byte_ok(e: &PatElem, b: u8) -> bool {
    match e {
        PatElem::Byte { value, mask } => b & mask == *value & mask,
        _ => false,
    }
}

/// Match a run of fixed elements at `resp[at..]`.
fn fixed_at(seg: &[PatElem], resp: &[u8], at: usize) -> bool {
    seg.iter()
        .enumerate()
        .all(|(k, e)| resp.get(at + k).is_some_and(|&b| byte_ok(e, b)))
}

fn push_wild(seg: &[PatElem], at: usize, spans: &mut Option<&mut Vec<(usize, usize)>>) {
    if let Some(spans) = spans {
        for (k, e) in seg.iter().enumerate() {
            if let PatElem::Byte { mask, .. } = e {
                if *mask != 0xFF {
                    spans.push((at + k, at + k + 1));
                }
            }
        }
    }
}

fn push_span(a: usize, b: usize, spans: &mut Option<&mut Vec<(usize, usize)>>) {
    if let Some(spans) = spans {
        if a < b {
            spans.push((a, b));
        }
    }
}

/// Glob matching with fixed-length segments between stars: the first segment is anchored at
/// the start, the last at the end, the middle ones take the leftmost fit (which is exact for
/// this pattern class). Wildcard spans are recorded when `spans` is given.
fn match_elems(
    elems: &[PatElem],
    resp: &[u8],
    mut spans: Option<&mut Vec<(usize, usize)>>,
) -> bool {
    let stars = elems.iter().filter(|e| **e == PatElem::Star).count();
    if stars == 0 {
        if elems.len() != resp.len() || !fixed_at(elems, resp, 0) {
            return false;
        }
        push_wild(elems, 0, &mut spans);
        return true;
    }
    let mut segs = elems.split(|e| *e == PatElem::Star);
    let first = segs.next().unwrap_or_default();
    let last = elems
        .rsplit(|e| *e == PatElem::Star)
        .next()
        .unwrap_or_default();
    let fixed_len = elems.len() - stars;
    if resp.len() < fixed_len || !fixed_at(first, resp, 0) {
        return false;
    }
    let end_start = resp.len() - last.len();
    if !fixed_at(last, resp, end_start) {
        return false;
    }
    push_wild(first, 0, &mut spans);
    let mut pos = first.len();
    for seg in segs.take(stars - 1) {
        let mut found = None;
        let mut at = pos;
        while at + seg.len() <= end_start {
            if fixed_at(seg, resp, at) {
                found = Some(at);
                break;
            }
            at += 1;
        }
        let Some(at) = found else { return false };
        push_span(pos, at, &mut spans);
        push_wild(seg, at, &mut spans);
        pos = at + seg.len();
    }
    push_span(pos, end_start, &mut spans);
    push_wild(last, end_start, &mut spans);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s, true).unwrap()
    }

    #[test]
    fn exact_and_nibbles() {
        assert!(p("9000").matches(&[0x90, 0x00]));
        assert!(!p("9000").matches(&[0x01, 0x90, 0x00]));
        assert!(p("61??").matches(&[0x61, 0x21]));
        assert!(p("63C?").matches(&[0x63, 0xC3]));
        assert!(!p("63C?").matches(&[0x63, 0xD3]));
        assert!(p("6?82").matches(&[0x6A, 0x82]));
    }

    #[test]
    fn stars() {
        assert!(p("* 9000").matches(&[0x90, 0x00]));
        assert!(p("*9000").matches(&[1, 2, 3, 0x90, 0x00]));
        assert!(p("3F00* 9000").matches(&[0x3F, 0x00, 0x90, 0x00]));
        assert!(p("62 * 83 02 3F 00 * 9000").matches(&[0x62, 9, 9, 0x83, 2, 0x3F, 0, 7, 0x90, 0]));
        assert!(!p("62 * 83 02 3F 01 * 9000").matches(&[0x62, 9, 9, 0x83, 2, 0x3F, 0, 7, 0x90, 0]));
        assert!(!p("*9000").matches(&[0x6A, 0x82]));
        assert!(!p("0102*0203 9000").matches(&[1, 2, 3, 0x90, 0]));
    }

    #[test]
    fn captures() {
        assert_eq!(p("*9000").match_capture(&[1, 2, 0x90, 0]).unwrap(), [1, 2]);
        assert_eq!(p("61??").match_capture(&[0x61, 0x21]).unwrap(), [0x21]);
        assert_eq!(
            p("62*9000").match_capture(&[0x62, 5, 0x90, 0]).unwrap(),
            [5]
        );
        assert_eq!(
            p("0102 9000").match_capture(&[1, 2, 0x90, 0]).unwrap(),
            [1, 2]
        );
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(Pattern::parse("90 0", true).unwrap_err().offset, 3);
        assert_eq!(Pattern::parse("9G00", true).unwrap_err().offset, 1);
        assert!(Pattern::parse("9000 *", true)
            .unwrap_err()
            .message
            .contains("status word"));
        assert!(Pattern::parse("*", false).is_ok());
        assert!(Pattern::parse("", true).is_err());
    }

    #[test]
    fn variables() {
        let mut vars = HashMap::new();
        vars.insert("x".to_string(), vec![0xAB]);
        let pat = p("$x * 9000");
        assert!(pat.has_vars());
        assert!(pat.resolve(&vars).unwrap().matches(&[0xAB, 1, 0x90, 0]));
        assert_eq!(pat.resolve(&HashMap::new()).unwrap_err(), "x");
    }

    proptest! {
        #[test]
        fn literal_pattern_matches_itself(data in proptest::collection::vec(any::<u8>(), 2..40)) {
            let text = apdu::hex::encode(&data);
            prop_assert!(p(&text).matches(&data));
            let star = format!("* {}", apdu::hex::encode(&data[data.len() - 2..]));
            prop_assert!(p(&star).matches(&data));
        }

        #[test]
        fn never_panics(text in "[0-9A-F?* $x]{0,20}", data in proptest::collection::vec(any::<u8>(), 0..10)) {
            if let Ok(pat) = Pattern::parse(&text, false) {
                let _ = pat.match_capture(&data);
            }
        }
    }
}
