//! Remote command scripts (ETSI TS 102 226 §5) as the card runs them for RFM (§6: the file
//! system, through a [`RemoteSession`]) and RAM (§7: the issuer security domain,
//! [`crate::ram`]).
//!
//! * Compact format (§5.1): concatenated `CLA INS P1 P2 P3 [data]`; the response is
//!   `number of executed commands ‖ SW1 SW2 ‖ data of the last command`.
//! * Expanded format (§5.2): `AA`/`AE` Command Scripting template with `22` C-APDU TLVs
//!   (`81` immediate action, `82` error action and `83` script chaining TLVs are accepted and
//!   counted; any other tag stops the script with Bad Format `90 01 01`); the response is
//!   `AB`/`AF` with `80` (number of executed command TLVs) and one `23` R-APDU TLV
//!   (data ‖ SW) per executed C-APDU. [UNSURE] the indefinite `AF` response also carries `80`
//!   here.
//!
//! Commands run with T=0 semantics, like a real card's OTA interpreter: a command that
//! returns data without an Le keeps it for a following GET RESPONSE (`C0`) and reports
//! `61xx` (`9Fxx` for class `A0`). Execution stops after the first command whose SW1 is not
//! `90`, `91`, `92`, `9F`, `61`, `62` or `63` ([UNSURE]: TS 102 226 §5.1.2 wording not seen);
//! the count includes that command.

use crate::card::Card;
use crate::fs::NodeId;
use crate::remote::RemoteSession;
use apdu::{CommandApduRef, ResponseApdu, StatusWord};
use ota::remote::{ExpandedResponse, ScriptCommand, ScriptResponse};
use ota::{CompactResponse, RemoteScript};

/// Whether execution continues after a command with this status word.
fn continues(sw: u16) -> bool {
    matches!(sw >> 8, 0x90 | 0x91 | 0x92 | 0x9F | 0x61 | 0x62 | 0x63)
}

/// Executes one C-APDU (raw bytes, known to parse) and returns its data and status word.
pub(crate) type Exec<'e> = dyn FnMut(&mut Card, &[u8]) -> (Vec<u8>, u16) + 'e;

/// T=0 emulation around an executor: pending GET RESPONSE data.
struct T0 {
    pending: Vec<u8>,
}

impl T0 {
    fn run(&mut self, card: &mut Card, raw: &[u8], exec: &mut Exec<'_>) -> (Vec<u8>, u16) {
        let cmd = match CommandApduRef::parse(raw) {
            Ok(c) => c,
            Err(_) => return (Vec::new(), 0x6700),
        };
        if cmd.ins == 0xC0 && (cmd.cla & 0x80 == 0 || cmd.cla == 0xA0) {
            if self.pending.is_empty() {
                return (Vec::new(), 0x6985);
            }
            let ne = cmd.le.unwrap_or(256).min(256) as usize;
            let rest = self.pending.split_off(ne.min(self.pending.len()));
            let out = std::mem::replace(&mut self.pending, rest);
            let sw = if self.pending.is_empty() {
                0x9000
            } else {
                0x6100 | (self.pending.len().min(256) & 0xFF) as u16
            };
            return (out, sw);
        }
        self.pending.clear();
        let (data, sw) = exec(card, raw);
        if cmd.le.is_none() && !data.is_empty() && sw == 0x9000 {
            let n = (data.len().min(256) & 0xFF) as u16;
            self.pending = data;
            let sw1 = if cmd.cla == 0xA0 { 0x9F00 } else { 0x6100 };
            return (Vec::new(), sw1 | n);
        }
        (data, sw)
    }
}

impl Card {
    /// Run a compact or expanded script with `exec` and build the response in the same
    /// format.
    pub(crate) fn run_script(&mut self, script: &[u8], exec: &mut Exec<'_>) -> Vec<u8> {
        let mut t0 = T0 {
            pending: Vec::new(),
        };
        match RemoteScript::parse(script) {
            Ok(RemoteScript::Compact(s)) => {
                let mut count = 0u8;
                let mut last = (Vec::new(), 0x9000u16);
                let mut raw = Vec::with_capacity(261);
                for c in &s.commands {
                    raw.clear();
                    c.emit_into(&mut raw);
                    last = t0.run(self, &raw, exec);
                    count = count.saturating_add(1);
                    if !continues(last.1) {
                        break;
                    }
                }
                CompactResponse {
                    count,
                    sw: StatusWord(last.1),
                    data: last.0,
                }
                .emit()
            }
            Ok(RemoteScript::Expanded(s)) => {
                let mut count = 0u8;
                let mut items = vec![ScriptResponse::Count(0)];
                for it in &s.items {
                    match it {
                        ScriptCommand::CApdu(a) => {
                            let raw = a.emit().unwrap_or_default();
                            let (d, sw) = t0.run(self, &raw, exec);
                            count = count.saturating_add(1);
                            items.push(ScriptResponse::RApdu(ResponseApdu::new(d, sw)));
                            if !continues(sw) {
                                break;
                            }
                        }
                        ScriptCommand::ImmediateAction(_)
                        | ScriptCommand::ErrorAction(_)
                        | ScriptCommand::ScriptChaining(_) => count = count.saturating_add(1),
                        ScriptCommand::Other(..) => {
                            items.push(ScriptResponse::BadFormat(0x01));
                            break;
                        }
                    }
                }
                items[0] = ScriptResponse::Count(count);
                ExpandedResponse {
                    indefinite: s.indefinite,
                    items,
                }
                .emit()
            }
            Err(_) => {
                if matches!(script.first(), Some(0xAA | 0xAE)) {
                    ExpandedResponse {
                        indefinite: script.first() == Some(&0xAE),
                        items: vec![ScriptResponse::Count(0), ScriptResponse::BadFormat(0x02)],
                    }
                    .emit()
                } else {
                    CompactResponse {
                        count: 0,
                        sw: StatusWord(0x6700),
                        data: Vec::new(),
                    }
                    .emit()
                }
            }
        }
    }

    /// RFM: run `script` against the file system in a session starting at `adf` (or the
    /// MF) with the key references `access` granted. Writes are committed by the caller.
    pub(crate) fn rfm_run(&mut self, script: &[u8], adf: Option<NodeId>, access: &[u8]) -> Vec<u8> {
        let mut session = RemoteSession::new(adf, access);
        let mut exec = |card: &mut Card, raw: &[u8]| {
            let mut r = card.remote_apdu(&mut session, raw);
            let n = r.len();
            if n < 2 {
                return (Vec::new(), 0x6F00);
            }
            let sw = u16::from_be_bytes([r[n - 2], r[n - 1]]);
            r.truncate(n - 2);
            (r, sw)
        };
        self.run_script(script, &mut exec)
    }
}
