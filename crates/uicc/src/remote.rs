//! Remote file management sessions (ETSI TS 102 226 §5, RFM): the OTA receiver executes the
//! commands of a secured packet against the file system with its own selection state (starting
//! at the MF, or at the ADF its TAR designates) and with the access rights the TAR's access
//! domain grants, instead of the PINs verified on the terminal's channels.
//!
//! [`Card::remote_apdu`] does not commit: the OTA receiver commits the command effects together
//! with the counter update (or rolls everything back) through the card's transaction layer.

use crate::card::{Card, Chan};
use crate::fs::{NodeId, MF};
use apdu::CommandApdu;

/// The state of one RFM session: current DF/ADF/EF and the granted key references.
#[derive(Debug, Clone)]
pub struct RemoteSession {
    chan: Chan,
    granted: [bool; 256],
}

impl RemoteSession {
    /// A session starting at `adf` (or the MF), where the key references in `granted` (for
    /// example `0x0A` for ADM1) count as verified.
    pub fn new(adf: Option<NodeId>, granted: &[u8]) -> RemoteSession {
        let mut g = [false; 256];
        for &k in granted {
            g[k as usize] = true;
        }
        let chan = Chan {
            df: adf.unwrap_or(MF),
            adf,
            ..Chan::default()
        };
        RemoteSession { chan, granted: g }
    }
}

impl Card {
    /// Execute one C-APDU of an RFM script in `session` and return data ‖ SW (no `61xx`
    /// procedure: response data is returned directly, cut to Ne when Le is present). The
    /// class byte's channel bits are ignored; class `A0` runs the TS 51.011 command set
    /// ([`crate::gsm_sim`]). Non-volatile writes are left uncommitted.
    pub fn remote_apdu(&mut self, session: &mut RemoteSession, capdu: &[u8]) -> Vec<u8> {
        let cmd = match CommandApdu::parse(capdu) {
            Ok(c) => c,
            Err(_) => return vec![0x67, 0x00],
        };
        let class = cmd.class();
        let gsm = class.kind == apdu::class::ClassKind::Gsm;
        if !class.has_channel() && !gsm {
            return vec![0x6E, 0x00];
        }
        if matches!(cmd.ins, 0x70 | 0xC0 | 0x10 | 0x12 | 0x14 | 0xC2) {
            return vec![0x6D, 0x00];
        }
        let saved_chan = self.chans[0].replace(session.chan.clone());
        let saved_verified = std::mem::replace(&mut self.verified, session.granted);
        let saved_local = std::mem::take(&mut self.verified_local);
        let r = if gsm {
            self.gsm_dispatch(0, &cmd)
        } else {
            self.dispatch_fs(0, &cmd, class.is_proprietary())
        };
        session.granted = std::mem::replace(&mut self.verified, saved_verified);
        self.verified_local = saved_local;
        if let Some(c) = std::mem::replace(&mut self.chans[0], saved_chan) {
            session.chan = c;
        }
        match r {
            Ok(mut resp) => {
                if let Some(ne) = cmd.le {
                    resp.data.truncate(ne as usize);
                }
                let mut out = resp.data;
                out.extend_from_slice(&resp.sw.to_be_bytes());
                out
            }
            Err(sw) => sw.to_be_bytes().to_vec(),
        }
    }
}
