//! Glue: the WPKI applet as an applet class of the emulated UICC (`uicc::Applet`, shaped like
//! `javacard.framework.Applet` + `uicc.toolkit.ToolkitInterface`).
//!
//! * Persistent state: the [`WpkiState`] image in the instance's persistent field `state`,
//!   written through [`AppletContext::put`] at every point the core asks for durability (so the
//!   PIN counter decrement is its own non-volatile write, before the comparison).
//! * Install parameters (the applet-specific part of the TS 102 226 `C9` parameters), TLVs:
//!   `C1 10 <end-to-end key>`, `C2 01 <flags>` (bit 0: require end-to-end protection).
//! * Requests arrive as the deciphered secured data of an OTA message for the applet's TAR
//!   ([`ToolkitEvent::SecuredData`]); the answer is returned as PoR data. For personalisation
//!   and tests the same request can be sent in an APDU: `80 E0 00 00 Lc <request> Le` after
//!   SELECT, answered with the answer message.
//! * User dialogues: the card runtime has no proactive-command API for applets yet, so a step
//!   that needs the user is resumed with [`UserResult::TerminalError`] and answered
//!   `0D` "terminal could not perform the dialogue" (no PIN try is used). Operations without
//!   a dialogue (KEYGEN, CERT PUT/GET, PUBLIC KEY GET, PROFILE QUERY, KEY LIST, GROUP SET,
//!   SPLIT KEY PUT, PIN STATUS, GET MORE) work fully.

use crate::applet::{AppletConfig, StateSink, Step, UserResult, WpkiApplet};
use crate::protocol::E2eKey;
use crate::state::WpkiState;
use crate::tlv;
use apdu::StatusWord;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use uicc::applet::{Apdu, AppletContext, ToolkitEvent};
use uicc::{Applet, AppletClass};
use zeroize::Zeroizing;

/// Class AID of the WPKI applet class (`F0 "simotaWP"`).
pub const WPKI_CLASS_AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x57, 0x50];
/// Instance AID suggested for the default profile.
pub const WPKI_INSTANCE_AID: &[u8] = &[0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x57, 0x50, 0x01];
/// INS of the proprietary WPKI REQUEST APDU (CLA 80).
pub const INS_WPKI_REQUEST: u8 = 0xE0;
/// Name of the persistent field holding the state image.
pub const STATE_FIELD: &str = "state";

/// The WPKI applet class, to register in the card's [`uicc::AppletRegistry`].
#[derive(Debug, Default, Clone, Copy)]
pub struct WpkiAppletClass;

impl AppletClass for WpkiAppletClass {
    fn class_aid(&self) -> &[u8] {
        WPKI_CLASS_AID
    }
    fn name(&self) -> &str {
        "simota WPKI mobile signature applet"
    }
    fn create(&self) -> Box<dyn Applet> {
        Box::new(WpkiCardApplet { core: None })
    }
}

/// One applet instance on the card: the sans-IO core, loaded lazily from the persistent field.
struct WpkiCardApplet {
    core: Option<WpkiApplet>,
}

/// Install parameters of the applet.
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    key: Option<[u8; 16]>,
    require_e2e: bool,
}

fn parse_params(p: &[u8]) -> Result<Params, StatusWord> {
    let mut out = Params::default();
    for t in tlv::parse_all(p, 0).map_err(|_| StatusWord(0x6A80))? {
        match (t.tag, t.value) {
            (0xC1, v) => out.key = Some(v.try_into().map_err(|_| StatusWord(0x6A80))?),
            (0xC2, [f]) => out.require_e2e = f & 1 != 0,
            _ => return Err(StatusWord(0x6A80)),
        }
    }
    Ok(out)
}

/// Persists through the applet context; the first failure (e.g. `6581` after a power cut) is
/// kept and reported as the command's status word.
struct CtxSink<'c, 'a> {
    ctx: &'c mut AppletContext<'a>,
    error: Option<StatusWord>,
}

impl StateSink for CtxSink<'_, '_> {
    fn persist(&mut self, state: &WpkiState) {
        if self.error.is_some() {
            return;
        }
        let img = state.to_bytes();
        if let Err(sw) = self.ctx.put(STATE_FIELD, &img) {
            self.error = Some(sw);
        }
    }
}

impl WpkiCardApplet {
    fn load(&mut self, ctx: &AppletContext<'_>) -> Result<(), StatusWord> {
        if self.core.is_some() {
            return Ok(());
        }
        let params = parse_params(ctx.install_params()).unwrap_or_default();
        let state = match ctx.get(STATE_FIELD) {
            Some(img) => WpkiState::from_bytes(img).map_err(|_| StatusWord(0x6F00))?,
            None => WpkiState::default(),
        };
        let config = AppletConfig { require_e2e: params.require_e2e, ..AppletConfig::default() };
        self.core = Some(WpkiApplet::new(state, config));
        Ok(())
    }

    /// Run one request to its answer (dialogues fail: no proactive API yet, see module docs).
    fn request(&mut self, ctx: &mut AppletContext<'_>, msg: &[u8]) -> Result<Vec<u8>, StatusWord> {
        self.load(ctx)?;
        let mut seed = Zeroizing::new([0u8; 32]);
        ctx.random(&mut *seed);
        let mut rng = ChaCha20Rng::from_seed(*seed);
        let core = self.core.as_mut().ok_or(StatusWord(0x6F00))?;
        let mut sink = CtxSink { ctx, error: None };
        let mut step = core.handle_request(msg, &mut rng, &mut sink);
        // Bounded: each resume either answers or asks for one more dialogue step.
        for _ in 0..8 {
            match step {
                Step::Interact(_) => step = core.resume(UserResult::TerminalError, &mut rng, &mut sink),
                _ => break,
            }
        }
        if let Some(sw) = sink.error {
            // The state in memory may be ahead of the card: reload it at the next command.
            self.core = None;
            return Err(sw);
        }
        match step {
            Step::Answer(a) => Ok(a),
            _ => Err(StatusWord(0x6F00)),
        }
    }
}

impl Applet for WpkiCardApplet {
    fn install(&mut self, ctx: &mut AppletContext<'_>, params: &[u8]) -> Result<(), StatusWord> {
        let p = parse_params(params)?;
        let state = WpkiState { e2e_key: p.key.map(E2eKey::new), ..WpkiState::default() };
        ctx.put(STATE_FIELD, &state.to_bytes())?;
        self.core = None;
        Ok(())
    }

    fn deselect(&mut self, _ctx: &mut AppletContext<'_>) {
        if let Some(c) = self.core.as_mut() {
            c.reset_session();
        }
    }

    fn process(&mut self, ctx: &mut AppletContext<'_>, apdu: &mut Apdu<'_>) -> Result<(), StatusWord> {
        if apdu.selecting_applet() {
            return Ok(());
        }
        if apdu.cla() & 0xF0 != 0x80 {
            return Err(StatusWord(0x6E00));
        }
        if apdu.ins() != INS_WPKI_REQUEST {
            return Err(StatusWord(0x6D00));
        }
        if apdu.p1() != 0 || apdu.p2() != 0 {
            return Err(StatusWord(0x6A86));
        }
        if apdu.data().is_empty() {
            return Err(StatusWord(0x6700));
        }
        let msg = apdu.data().to_vec();
        let answer = self.request(ctx, &msg)?;
        apdu.send(&answer);
        Ok(())
    }

    fn process_toolkit(&mut self, ctx: &mut AppletContext<'_>, event: &ToolkitEvent<'_>) -> Result<Vec<u8>, StatusWord> {
        match event {
            ToolkitEvent::SecuredData(msg) => self.request(ctx, msg),
            _ => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        assert_eq!(parse_params(&[]), Ok(Params::default()));
        let mut p = vec![0xC1, 0x10];
        p.extend([7u8; 16]);
        p.extend([0xC2, 0x01, 0x01]);
        assert_eq!(parse_params(&p), Ok(Params { key: Some([7; 16]), require_e2e: true }));
        assert_eq!(parse_params(&[0xC1, 0x01, 0x00]), Err(StatusWord(0x6A80)));
        assert_eq!(parse_params(&[0xC5, 0x00]), Err(StatusWord(0x6A80)));
    }
}
