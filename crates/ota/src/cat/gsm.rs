//! The one seam to the GSM 7-bit default alphabet of [`crate::gsm7`] (3GPP TS 23.038
//! §6.2.1): septet coding and packing, as `cat` needs them.

/// Characters → septets (extension characters as `1B xx`); the error says which character
/// has no GSM 7-bit coding.
pub(crate) fn encode(s: &str) -> Result<Vec<u8>, String> {
    crate::gsm7::encode(s).map_err(|e| e.to_string())
}

/// Septets → characters.
pub(crate) fn decode(septets: &[u8]) -> String {
    crate::gsm7::decode(septets)
}

/// Pack septets 8-into-7 (TS 23.038 §6.1.2.1.1), no fill bits.
pub(crate) fn pack(septets: &[u8]) -> Vec<u8> {
    crate::gsm7::pack(septets, 0)
}

/// Unpack `count` septets; `count` never exceeds what `bytes` holds (callers compute it as
/// `len * 8 / 7`), so a shortfall yields fewer septets rather than an error.
pub(crate) fn unpack(bytes: &[u8], count: usize) -> Vec<u8> {
    let fit = count.min(bytes.len().saturating_mul(8) / 7);
    crate::gsm7::unpack(bytes, fit, 0).unwrap_or_default()
}
