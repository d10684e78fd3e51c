//! Encoders for the EF contents a profile derives from its `[subscriber]` values: the home
//! PLMN (TS 24.008 §10.5.1.3 as used by TS 31.102 §4.2.5x), EF.SPN (TS 31.102 §4.2.12) and the
//! ISIM identities (TS 31.103 §4.2.2–4.2.4, derived as TS 23.003 §13.3–13.4 says).

/// The home PLMN of an IMSI: MCC (3 digits) and MNC (`mnc_len` = 2 or 3 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plmn {
    /// Mobile country code, 3 digits.
    pub mcc: String,
    /// Mobile network code, 2 or 3 digits.
    pub mnc: String,
}

impl Plmn {
    /// Split an IMSI (digits only, checked by the caller) into MCC and MNC.
    pub fn from_imsi(imsi: &str, mnc_len: usize) -> Option<Plmn> {
        let mnc_len = if mnc_len == 3 { 3 } else { 2 };
        Some(Plmn {
            mcc: imsi.get(..3)?.to_string(),
            mnc: imsi.get(3..3 + mnc_len)?.to_string(),
        })
    }

    /// The 3-byte PLMN encoding (MCC2 MCC1, MNC3 MCC3, MNC2 MNC1; MNC3 = F for 2 digits).
    pub fn encode(&self) -> [u8; 3] {
        let d = |s: &str, i: usize| s.as_bytes().get(i).map_or(0xF, |c| c.wrapping_sub(b'0'));
        let (m, n) = (self.mcc.as_str(), self.mnc.as_str());
        let mnc3 = if n.len() == 3 { d(n, 2) } else { 0xF };
        [
            (d(m, 1) << 4) | d(m, 0),
            (mnc3 << 4) | d(m, 2),
            (d(n, 1) << 4) | d(n, 0),
        ]
    }

    /// The IMS home network domain name (TS 23.003 §13.2):
    /// `ims.mnc<MNC, 3 digits>.mcc<MCC>.3gppnetwork.org`.
    pub fn ims_domain(&self) -> String {
        format!("ims.mnc{:0>3}.mcc{}.3gppnetwork.org", self.mnc, self.mcc)
    }
}

/// Characters whose GSM 7-bit default alphabet code (TS 23.038 §6.2.1) equals their ASCII
/// code, so they can be stored unpacked in an SPN as they are.
fn gsm7_same_as_ascii(c: char) -> bool {
    c.is_ascii_alphanumeric() || " !\"#%&'()*+,-./:;<=>?".contains(c)
}

/// EF.SPN (TS 31.102 §4.2.12): display condition 01, then the name in the GSM 7-bit default
/// alphabet, unpacked, padded with FF to 17 bytes. `Err` names the offending character.
pub fn encode_spn(name: &str) -> Result<Vec<u8>, String> {
    if name.chars().count() > 16 {
        return Err("spn must be at most 16 characters".into());
    }
    if let Some(c) = name.chars().find(|&c| !gsm7_same_as_ascii(c)) {
        return Err(format!(
            "spn character {c:?} is not in the GSM default alphabet subset simota encodes (letters, digits, space, punctuation)"
        ));
    }
    let mut v = vec![0x01];
    v.extend_from_slice(name.as_bytes());
    v.resize(17, 0xFF);
    Ok(v)
}

/// A TS 31.103 §4.2.2–4.2.4 NAI / URI TLV: tag 80, length, UTF-8 text.
pub fn nai_tlv(text: &str) -> Result<Vec<u8>, String> {
    let len = u8::try_from(text.len())
        .ok()
        .filter(|&l| l < 0x80)
        .ok_or_else(|| format!("{text:?} is longer than 127 bytes"))?;
    let mut v = vec![0x80, len];
    v.extend_from_slice(text.as_bytes());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plmn_and_names() {
        let p = Plmn::from_imsi("001010123456789", 2).unwrap();
        assert_eq!(p.encode(), [0x00, 0xF1, 0x10]);
        assert_eq!(p.ims_domain(), "ims.mnc001.mcc001.3gppnetwork.org");
        let p3 = Plmn::from_imsi("310260123456789", 3).unwrap();
        assert_eq!(p3.encode(), [0x13, 0x00, 0x62]);
        assert_eq!(
            apdu::hex::encode(&encode_spn("simota").unwrap()),
            "0173696D6F7461FFFFFFFFFFFFFFFFFFFF"
        );
        assert!(encode_spn("caf\u{e9}").unwrap_err().contains("'\u{e9}'"));
        assert!(encode_spn("a_b").is_err());
        assert_eq!(nai_tlv("ab").unwrap(), vec![0x80, 2, b'a', b'b']);
        assert!(nai_tlv(&"x".repeat(200)).is_err());
    }
}
