//! Text codings used by CAT data objects.
//!
//! * Text string (TS 102 223 §8.15): a data coding scheme byte (3GPP TS 23.038 §4, SMS
//!   coding) followed by the text: `00` GSM 7-bit default alphabet packed, `04` GSM default
//!   alphabet 8-bit (unpacked), `08` UCS2 (big-endian).
//! * Alpha coding (ETSI TS 102 221 Annex A), used by the alpha identifier and item objects:
//!   GSM default alphabet unpacked (b8 = 0, trailing `FF` padding), or one of the three UCS2
//!   forms introduced by `80`, `81` and `82`.

use super::gsm;
use super::CatError;

/// The character set a data coding scheme selects (3GPP TS 23.038 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextDcs {
    /// GSM 7-bit default alphabet, packed (`00`, and `F0`-group / general-group variants).
    Gsm7Packed,
    /// 8-bit data, shown as GSM default alphabet characters (`04`).
    Gsm8Bit,
    /// UCS2, big-endian (`08`).
    Ucs2,
    /// A coding this codec cannot render (compressed text, reserved groups).
    Other,
}

impl TextDcs {
    /// Classify a TS 23.038 DCS byte.
    pub fn of(dcs: u8) -> TextDcs {
        match dcs >> 4 {
            // General data coding, uncompressed (b5 = 0); b3..b2 = character set.
            0x0..=0x1 | 0x4..=0x5 => match (dcs >> 2) & 0x03 {
                0 => TextDcs::Gsm7Packed,
                1 => TextDcs::Gsm8Bit,
                2 => TextDcs::Ucs2,
                _ => TextDcs::Other,
            },
            // Data coding / message class: b3 = 0, b2 = message coding.
            0xF if dcs & 0x08 == 0 => {
                if dcs & 0x04 == 0 {
                    TextDcs::Gsm7Packed
                } else {
                    TextDcs::Gsm8Bit
                }
            }
            // Message waiting indication groups: C/D GSM 7-bit, E UCS2.
            0xC | 0xD => TextDcs::Gsm7Packed,
            0xE => TextDcs::Ucs2,
            _ => TextDcs::Other,
        }
    }

    /// The canonical DCS byte used when building (`00`, `04`, `08`).
    pub fn byte(self) -> Option<u8> {
        match self {
            TextDcs::Gsm7Packed => Some(0x00),
            TextDcs::Gsm8Bit => Some(0x04),
            TextDcs::Ucs2 => Some(0x08),
            TextDcs::Other => None,
        }
    }
}

/// A text string value (TS 102 223 §8.15): DCS byte plus encoded text, kept as sent.
///
/// A zero-length value is the *null text string* ([`TextString::null`]); it has no DCS byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextString {
    dcs: Option<u8>,
    data: Vec<u8>,
}

impl TextString {
    /// The null text string (empty value, TS 102 223 §8.15).
    pub fn null() -> Self {
        TextString {
            dcs: None,
            data: Vec::new(),
        }
    }

    /// Text coded in the GSM 7-bit default alphabet, packed (DCS `00`). When the packed
    /// septets leave 7 spare bits in the last octet, a CR pads it (TS 23.038 §6.1.2.3.1).
    pub fn gsm_packed(s: &str) -> Result<Self, CatError> {
        let mut septets = encode_gsm("text string", s)?;
        if septets.len() % 8 == 7 {
            septets.push(0x0D);
        }
        Ok(TextString {
            dcs: Some(0x00),
            data: gsm::pack(&septets),
        })
    }

    /// Text coded in the GSM default alphabet, one character per octet (DCS `04`).
    pub fn gsm_8bit(s: &str) -> Result<Self, CatError> {
        Ok(TextString {
            dcs: Some(0x04),
            data: encode_gsm("text string", s)?,
        })
    }

    /// Text coded in UCS2 big-endian (DCS `08`); characters beyond the BMP are written as
    /// UTF-16 surrogate pairs.
    pub fn ucs2(s: &str) -> Self {
        TextString {
            dcs: Some(0x08),
            data: s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        }
    }

    /// GSM 8-bit when every character is in the GSM alphabet, UCS2 otherwise.
    pub fn auto(s: &str) -> Self {
        TextString::gsm_8bit(s).unwrap_or_else(|_| TextString::ucs2(s))
    }

    /// The answer to a yes/no GET INKEY (TS 102 223 §6.8.5): DCS `04`, `01` yes / `00` no.
    pub fn yes_no(yes: bool) -> Self {
        TextString {
            dcs: Some(0x04),
            data: vec![u8::from(yes)],
        }
    }

    /// The yes/no answer this text string carries, if it is one (8-bit, one byte `00`/`01`).
    pub fn as_yes_no(&self) -> Option<bool> {
        match (self.charset(), self.data.as_slice()) {
            (TextDcs::Gsm8Bit, [0]) => Some(false),
            (TextDcs::Gsm8Bit, [1]) => Some(true),
            _ => None,
        }
    }

    /// Text with an explicit DCS byte and already-encoded octets (checked like a parse).
    pub fn from_raw(dcs: u8, data: Vec<u8>) -> Result<Self, CatError> {
        let t = TextString {
            dcs: Some(dcs),
            data,
        };
        t.text_at(0)?;
        Ok(t)
    }

    /// Decode a text string value; `offset` is the object's offset for errors.
    pub fn parse_value(v: &[u8], offset: usize) -> Result<Self, CatError> {
        let t = match v.split_first() {
            None => TextString::null(),
            Some((&dcs, rest)) => TextString {
                dcs: Some(dcs),
                data: rest.to_vec(),
            },
        };
        if t.charset() != TextDcs::Other {
            t.text_at(offset)?;
        }
        Ok(t)
    }

    /// Append the value bytes (DCS ‖ text).
    pub fn emit_value(&self, out: &mut Vec<u8>) {
        if let Some(d) = self.dcs {
            out.push(d);
            out.extend_from_slice(&self.data);
        }
    }

    /// The DCS byte (`None` for the null text string).
    pub fn dcs(&self) -> Option<u8> {
        self.dcs
    }

    /// The encoded text after the DCS byte.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Whether this is the null text string.
    pub fn is_null(&self) -> bool {
        self.dcs.is_none()
    }

    /// The character set of the DCS.
    pub fn charset(&self) -> TextDcs {
        self.dcs.map_or(TextDcs::Gsm8Bit, TextDcs::of)
    }

    /// The text. Fails only for DCS values this codec cannot render ([`TextDcs::Other`]).
    pub fn text(&self) -> Result<String, CatError> {
        self.text_at(0)
    }

    fn text_at(&self, offset: usize) -> Result<String, CatError> {
        let bad = |reason: String| CatError::BadValue {
            offset,
            object: "text string",
            reason,
        };
        match self.charset() {
            TextDcs::Gsm7Packed => {
                let n = self.data.len().saturating_mul(8) / 7;
                let mut septets = gsm::unpack(&self.data, n);
                if n.is_multiple_of(8) && septets.last() == Some(&0x0D) {
                    septets.pop();
                }
                Ok(gsm::decode(&septets))
            }
            TextDcs::Gsm8Bit => {
                if let Some(i) = self.data.iter().position(|&b| b & 0x80 != 0) {
                    return Err(bad(format!(
                        "8-bit GSM text byte {:02X} at text offset {i} has b8 set",
                        self.data[i]
                    )));
                }
                Ok(gsm::decode(&self.data))
            }
            TextDcs::Ucs2 => decode_ucs2(&self.data).map_err(bad),
            TextDcs::Other => Err(bad(format!(
                "data coding scheme {:02X} is not a GSM 7-bit, 8-bit or UCS2 coding",
                self.dcs.unwrap_or(0)
            ))),
        }
    }
}

/// Text in the TS 102 221 Annex A alpha coding, kept as sent (alpha identifier, item text).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AlphaText {
    data: Vec<u8>,
}

impl AlphaText {
    /// GSM default alphabet (unpacked) when possible, else UCS2 form `80`.
    pub fn new(s: &str) -> Self {
        match gsm::encode(s) {
            Ok(septets) => AlphaText { data: septets },
            Err(_) => AlphaText::ucs2(s),
        }
    }

    /// UCS2 form `80` (big-endian code units after the `80` byte).
    pub fn ucs2(s: &str) -> Self {
        let mut data = vec![0x80];
        data.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        AlphaText { data }
    }

    /// Encoded bytes as sent; checked like a parse.
    pub fn from_bytes(
        data: Vec<u8>,
        offset: usize,
        object: &'static str,
    ) -> Result<Self, CatError> {
        decode_alpha(&data).map_err(|reason| CatError::BadValue {
            offset,
            object,
            reason,
        })?;
        Ok(AlphaText { data })
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The text (always decodable: checked at construction).
    pub fn text(&self) -> String {
        decode_alpha(&self.data).unwrap_or_default()
    }
}

fn encode_gsm(object: &'static str, s: &str) -> Result<Vec<u8>, CatError> {
    gsm::encode(s).map_err(|reason| CatError::Encode { object, reason })
}

/// Decode UTF-16BE; an odd length or an unpaired surrogate is an error.
pub(crate) fn decode_ucs2(b: &[u8]) -> Result<String, String> {
    if !b.len().is_multiple_of(2) {
        return Err(format!("UCS2 text has an odd length ({} bytes)", b.len()));
    }
    let units = b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .enumerate()
        .map(|(i, r)| r.map_err(|_| format!("unpaired UTF-16 surrogate at text offset {}", 2 * i)))
        .collect()
}

/// Decode TS 102 221 Annex A alpha coding.
pub(crate) fn decode_alpha(b: &[u8]) -> Result<String, String> {
    match b.first() {
        Some(0x80) => {
            let mut rest = b.get(1..).unwrap_or_default();
            if rest.len() % 2 == 1 {
                match rest.split_last() {
                    Some((0xFF, head)) => rest = head,
                    _ => return Err("UCS2 (80) alpha has an odd length without FF padding".into()),
                }
            }
            // Trailing FFFF code units are padding.
            while rest.len() >= 2 && rest[rest.len() - 2..] == [0xFF, 0xFF] {
                rest = &rest[..rest.len() - 2];
            }
            decode_ucs2(rest)
        }
        Some(&form @ (0x81 | 0x82)) => {
            let hdr = if form == 0x81 { 3 } else { 4 };
            let count = *b
                .get(1)
                .ok_or("UCS2 alpha form is truncated before its length")?
                as usize;
            let base: u32 = if form == 0x81 {
                (*b.get(2).ok_or("UCS2 (81) alpha lacks its base pointer")? as u32) << 7
            } else {
                let p = b
                    .get(2..4)
                    .ok_or("UCS2 (82) alpha lacks its base pointer")?;
                u16::from_be_bytes([p[0], p[1]]) as u32
            };
            let chars = b.get(hdr..hdr + count).ok_or_else(|| {
                format!(
                    "UCS2 ({form:02X}) alpha announces {count} characters but {} follow",
                    b.len().saturating_sub(hdr)
                )
            })?;
            let mut s = String::new();
            let mut gsm_run = Vec::new();
            for &c in chars {
                if c & 0x80 == 0 {
                    gsm_run.push(c);
                } else {
                    s.push_str(&gsm::decode(&gsm_run));
                    gsm_run.clear();
                    let cp = base + (c & 0x7F) as u32;
                    s.push(
                        char::from_u32(cp)
                            .ok_or_else(|| format!("code point {cp:04X} is not a character"))?,
                    );
                }
            }
            s.push_str(&gsm::decode(&gsm_run));
            Ok(s)
        }
        _ => {
            let end = b.iter().rposition(|&x| x != 0xFF).map_or(0, |i| i + 1);
            let body = &b[..end];
            if let Some(i) = body.iter().position(|&x| x & 0x80 != 0) {
                return Err(format!(
                    "GSM alpha byte {:02X} at alpha offset {i} has b8 set",
                    body[i]
                ));
            }
            Ok(gsm::decode(body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packed_toolkit_test_3() {
        // TS 31.124 DISPLAY TEXT 1.4.1 (via oFono): "Toolkit Test 3" packed.
        let v = [
            0x00, 0xD4, 0xF7, 0x9B, 0xBD, 0x4E, 0xD3, 0x41, 0xD4, 0xF2, 0x9C, 0x0E, 0x9A, 0x01,
        ];
        let t = TextString::parse_value(&v, 0).unwrap();
        assert_eq!(t.text().unwrap(), "Toolkit Test 3");
        assert_eq!(
            TextString::gsm_packed("Toolkit Test 3").unwrap().data(),
            &v[1..]
        );
    }

    #[test]
    fn cr_padding() {
        let t = TextString::gsm_packed("1234567").unwrap();
        assert_eq!(t.data().len(), 7);
        assert_eq!(t.text().unwrap(), "1234567");
    }

    #[test]
    fn alpha_forms() {
        assert_eq!(decode_alpha(b"Menu\xff\xff").unwrap(), "Menu");
        assert_eq!(
            decode_alpha(&[0x80, 0x04, 0x17, 0x04, 0x14, 0xFF, 0xFF]).unwrap(),
            "ЗД"
        );
        // 81 form: 2 chars, base 0x08 << 7 = 0x0400; 0x97 -> 0x0417 'З', 'A' stays GSM.
        assert_eq!(decode_alpha(&[0x81, 0x02, 0x08, 0x97, 0x41]).unwrap(), "ЗA");
        assert_eq!(
            decode_alpha(&[0x82, 0x02, 0x04, 0x10, 0x87, 0x41]).unwrap(),
            "ЗA"
        );
        assert!(decode_alpha(&[0x82, 0x05, 0x04, 0x10, 0x87]).is_err());
        assert!(decode_alpha(&[0x80, 0x04]).is_err());
        assert!(decode_alpha(&[0x41, 0xC1]).is_err());
    }

    #[test]
    fn bad_ucs2_is_an_error() {
        assert!(TextString::parse_value(&[0x08, 0x00], 5).is_err());
        assert!(TextString::parse_value(&[0x08, 0xD8, 0x00], 5).is_err());
        assert!(TextString::parse_value(&[0x04, 0x80], 5).is_err());
        assert!(TextString::parse_value(&[0xF6, 0x80], 5).is_err());
        assert!(TextString::parse_value(&[0x24, 0x80], 5).is_ok());
    }

    fn gsm_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('@'),
                Just('€'),
                Just('{'),
                Just('Ω'),
                Just('ü'),
                Just(' '),
                proptest::char::range('a', 'z'),
                proptest::char::range('0', '9')
            ],
            0..40,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn text_roundtrips(s in gsm_text(), u in "\\PC{0,20}") {
            for t in [TextString::gsm_packed(&s).unwrap(), TextString::gsm_8bit(&s).unwrap(), TextString::ucs2(&u)] {
                let mut v = Vec::new();
                t.emit_value(&mut v);
                let back = TextString::parse_value(&v, 0).unwrap();
                prop_assert_eq!(&back, &t);
            }
            prop_assert_eq!(TextString::gsm_packed(&s).unwrap().text().unwrap(), s.clone());
            prop_assert_eq!(TextString::ucs2(&u).text().unwrap(), u.clone());
            prop_assert_eq!(AlphaText::new(&u).text(), u.clone());
            prop_assert_eq!(AlphaText::new(&s).text(), s);
        }
    }
}
