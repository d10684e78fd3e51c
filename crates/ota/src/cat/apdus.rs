//! The CAT APDUs (TS 102 221 §10.1.2 / TS 102 223 §5–7): TERMINAL PROFILE (`10`), FETCH
//! (`12`), TERMINAL RESPONSE (`14`), ENVELOPE (`C2`). Class `80` for a UICC, `A0` for a
//! GSM SIM (TS 51.011).

use super::{Envelope, TerminalProfile, TerminalResponse};
use apdu::CommandApdu;

/// INS of TERMINAL PROFILE.
pub const INS_TERMINAL_PROFILE: u8 = 0x10;
/// INS of FETCH.
pub const INS_FETCH: u8 = 0x12;
/// INS of TERMINAL RESPONSE.
pub const INS_TERMINAL_RESPONSE: u8 = 0x14;
/// INS of ENVELOPE.
pub const INS_ENVELOPE: u8 = 0xC2;

/// TERMINAL PROFILE `CLA 10 00 00 Lc profile`.
pub fn terminal_profile(cla: u8, p: &TerminalProfile) -> CommandApdu {
    CommandApdu::new(cla, INS_TERMINAL_PROFILE, 0, 0, p.bytes().to_vec(), None)
}

/// FETCH `CLA 12 00 00 Le` with Le = the length announced by `91xx` (`00` = 256).
pub fn fetch(cla: u8, le: u8) -> CommandApdu {
    CommandApdu::new(
        cla,
        INS_FETCH,
        0,
        0,
        Vec::new(),
        Some(if le == 0 { 256 } else { u32::from(le) }),
    )
}

/// TERMINAL RESPONSE `CLA 14 00 00 Lc objects`.
pub fn terminal_response(cla: u8, r: &TerminalResponse) -> CommandApdu {
    CommandApdu::new(cla, INS_TERMINAL_RESPONSE, 0, 0, r.emit(), None)
}

/// ENVELOPE `CLA C2 00 00 Lc template` — with Le `00` when `expect_data` (a UICC over T=1
/// may then return the response data directly, e.g. a PoR).
pub fn envelope(cla: u8, e: &Envelope, expect_data: bool) -> CommandApdu {
    CommandApdu::new(
        cla,
        INS_ENVELOPE,
        0,
        0,
        e.emit(),
        expect_data.then_some(256),
    )
}
