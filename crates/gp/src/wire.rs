//! Small wire helpers shared by SCP02 and SCP03: the class byte a MAC covers and the split of a
//! wrapped command's data field into body and MAC.

use crate::error::GpError;
use apdu::CommandApdu;

/// The class byte as C-MACs cover it: secure-messaging bit (b3) set, logical channel bits
/// zero (GPCS E.4.4, Amendment D §6.2.4).
pub fn mac_cla(cla: u8) -> u8 {
    (cla & 0xF0 & !0x08) | 0x04
}

/// A wrapped command's data field: the (maybe encrypted) body and the trailing MAC.
pub struct Wrapped<'a> {
    /// Data before the MAC.
    pub body: &'a [u8],
    /// The MAC (8 or 16 bytes).
    pub mac: &'a [u8],
}

impl<'a> Wrapped<'a> {
    /// Split off a MAC of `mac_len` bytes; the command must carry the SM bit in CLA.
    pub fn split(cmd: &'a CommandApdu, mac_len: usize) -> Result<Wrapped<'a>, GpError> {
        if cmd.cla & 0x04 == 0 {
            return Err(GpError::BadValue {
                field: "CLA",
                offset: 0,
                value: cmd.cla as u32,
                reason: "secure messaging bit (b3) not set where the session needs a C-MAC",
            });
        }
        let n = cmd.data.len();
        if n < mac_len {
            return Err(GpError::Truncated {
                field: "C-MAC",
                offset: 5 + n,
                len: 5 + n,
            });
        }
        let (body, mac) = cmd.data.split_at(n - mac_len);
        Ok(Wrapped { body, mac })
    }
}
