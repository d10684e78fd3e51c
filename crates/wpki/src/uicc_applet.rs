//! Glue: the WPKI applet as an applet class of the emulated UICC (`uicc::Applet`, shaped like
//! `javacard.framework.Applet` + `uicc.toolkit.ToolkitInterface`).
//!
//! * Persistent state: the [`WpkiState`] image in the instance's persistent field `state`,
//!   written through [`AppletContext::put`] at every point the core asks for durability (so the
//!   PIN counter decrement is its own non-volatile write, before the comparison).
//! * Install parameters (the applet-specific part of the TS 102 226 `C9` parameters), TLVs:
//!   `C1 10 <end-to-end key>`, `C2 01 <flags>` (bit 0: require end-to-end protection).
//! * Requests arrive as the deciphered secured data of an OTA message for the applet's TAR
//!   ([`ToolkitEvent::SecuredData`]). A request that needs the user starts a proactive session
//!   through the toolkit API (TS 102 241 `ProactiveHandler`): DISPLAY TEXT (high priority, wait
//!   for the user), GET INPUT (hidden, digits) and SELECT ITEM; each TERMINAL RESPONSE comes
//!   back as [`ToolkitEvent::TerminalResponse`] and resumes the core. The answer is returned
//!   when the session ends, so the OTA receiver sends it as the PoR (through SEND SHORT
//!   MESSAGE after a session, in the ENVELOPE response otherwise).
//! * TERMINAL PROFILE (EVENT_PROFILE_DOWNLOAD): whether the phone displays UCS2 texts; a
//!   request whose text would need UCS2 on a phone without it is refused when it is read.
//! * SIM menu: one SET UP MENU entry ("Mobile ID", registered at install); MENU SELECTION
//!   opens the applet's menu (change/unblock/activate PIN, language).
//! * For personalisation and tests, after SELECT the same request can be sent in an APDU:
//!   `80 E0 00 00 Lc <request> Le`, answered with the answer message. There is no proactive
//!   session inside an APDU, so dialogue steps are answered as the terminal failing them
//!   (result `0D` "terminal could not perform the dialogue"; no PIN try is used).
//! * When the toolkit cannot start a command (no TERMINAL PROFILE, command not supported by
//!   the terminal, handler busy), the step is resumed the same way.

use crate::applet::Interaction;
use crate::applet::{AppletConfig, StateSink, Step, UserResult, WpkiApplet};
use crate::protocol::E2eKey;
use crate::state::WpkiState;
use crate::tlv;
use apdu::StatusWord;
use ota::cat::profile::bits;
use ota::cat::{GeneralResult, TerminalProfile};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use uicc::applet::{Apdu, AppletContext, ToolkitEvent};
use uicc::toolkit::event;
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
        Box::new(WpkiCardApplet {
            core: None,
            ucs2_display: None,
        })
    }
}

/// One applet instance on the card: the sans-IO core, loaded lazily from the persistent field.
struct WpkiCardApplet {
    core: Option<WpkiApplet>,
    /// "UCS2 display" of the last TERMINAL PROFILE (`None`: none seen; assumed available).
    ucs2_display: Option<bool>,
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
        let config = AppletConfig {
            require_e2e: params.require_e2e,
            ucs2_display: self.ucs2_display.unwrap_or(true),
            ..AppletConfig::default()
        };
        self.core = Some(WpkiApplet::new(state, config));
        Ok(())
    }

    fn rng(ctx: &mut AppletContext<'_>) -> ChaCha20Rng {
        let mut seed = Zeroizing::new([0u8; 32]);
        ctx.random(&mut *seed);
        ChaCha20Rng::from_seed(*seed)
    }

    /// Drive the core from `start` (a request, a resume, a menu) until it needs a proactive
    /// command the toolkit accepted, or ends. `with_toolkit = false` (APDU interface): every
    /// dialogue step fails as "terminal unable". Returns what `process_toolkit` returns: the
    /// answer when the session ends with one, else nothing.
    fn drive(
        &mut self,
        ctx: &mut AppletContext<'_>,
        with_toolkit: bool,
        start: impl FnOnce(&mut WpkiApplet, &mut ChaCha20Rng, &mut dyn StateSink) -> Step,
    ) -> Result<Option<Vec<u8>>, StatusWord> {
        self.load(ctx)?;
        let mut rng = Self::rng(ctx);
        let core = self.core.as_mut().ok_or(StatusWord(0x6F00))?;
        let mut sink = CtxSink { ctx, error: None };
        let mut step = start(core, &mut rng, &mut sink);
        // Bounded: every failed dialogue step moves the core towards its end.
        let mut out = None;
        for _ in 0..16 {
            match step {
                Step::Answer(a) => {
                    out = Some(a);
                    break;
                }
                Step::Done => break,
                Step::Interact(i) => {
                    if with_toolkit && propose(sink.ctx, &i).is_ok() {
                        break;
                    }
                    step = core.resume(UserResult::TerminalError, &mut rng, &mut sink);
                }
            }
        }
        if let Some(sw) = sink.error {
            // The state in memory may be ahead of the card: reload it at the next event.
            self.core = None;
            return Err(sw);
        }
        Ok(out)
    }
}

/// Queue the proactive command for an interaction.
fn propose(
    ctx: &mut AppletContext<'_>,
    i: &Interaction,
) -> Result<u8, uicc::toolkit::ToolkitError> {
    let h = ctx.proactive_handler()?;
    match i {
        Interaction::Display { text, confirm } => h.display_text(text, *confirm),
        Interaction::Input {
            prompt,
            hidden,
            digits,
            min,
            max,
        } => h.get_input(prompt, *hidden, *digits, *min, *max),
        Interaction::Select { title, items } => {
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            h.select_item(title, &items)
        }
    }
}

/// Map the TERMINAL RESPONSE to what the user did (TS 102 223 §8.12 general results).
fn user_result(ctx: &AppletContext<'_>) -> UserResult {
    let Ok(r) = ctx.proactive_response() else {
        return UserResult::TerminalError;
    };
    match r.general_result() {
        GeneralResult::TerminatedByUser => UserResult::Cancelled,
        GeneralResult::BackwardMove => UserResult::Backward,
        GeneralResult::NoResponse => UserResult::NoResponse,
        g if g.is_performed() => match (r.command().1, r.item_identifier(), r.text()) {
            (0x24, Some(item), _) => UserResult::Selected(item),
            (0x23, _, Some(t)) => UserResult::Input(Zeroizing::new(t)),
            (0x23, _, None) => UserResult::Input(Zeroizing::new(String::new())),
            _ => UserResult::Ok,
        },
        _ => UserResult::TerminalError,
    }
}

/// Text of the applet's SET UP MENU entry.
pub const MENU_ENTRY_TEXT: &str = "Mobile ID";

impl Applet for WpkiCardApplet {
    fn install(&mut self, ctx: &mut AppletContext<'_>, params: &[u8]) -> Result<(), StatusWord> {
        let p = parse_params(params)?;
        let state = WpkiState {
            e2e_key: p.key.map(E2eKey::new),
            ..WpkiState::default()
        };
        ctx.put(STATE_FIELD, &state.to_bytes())?;
        let mut reg = ctx.registry();
        reg.init_menu_entry(MENU_ENTRY_TEXT, 0, false)?;
        reg.set_event(event::FORMATTED_SMS_PP_ENV)?;
        // The TERMINAL PROFILE says whether the phone can show UCS2 texts (crate::shown).
        reg.set_event(event::PROFILE_DOWNLOAD)?;
        self.core = None;
        Ok(())
    }

    fn deselect(&mut self, _ctx: &mut AppletContext<'_>) {
        if let Some(c) = self.core.as_mut() {
            if !c.in_session() {
                c.reset_session();
            }
        }
    }

    fn process(
        &mut self,
        ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord> {
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
        let answer = self
            .drive(ctx, false, |c, r, s| c.handle_request(&msg, r, s))?
            .ok_or(StatusWord(0x6F00))?;
        apdu.send(&answer);
        Ok(())
    }

    fn process_toolkit(
        &mut self,
        ctx: &mut AppletContext<'_>,
        ev: &ToolkitEvent<'_>,
    ) -> Result<Vec<u8>, StatusWord> {
        let out = match ev {
            ToolkitEvent::SecuredData(msg) => {
                self.drive(ctx, true, |c, r, s| c.handle_request(msg, r, s))?
            }
            ToolkitEvent::TerminalResponse(_) => {
                if !self.core.as_ref().is_some_and(WpkiApplet::in_session) {
                    return Ok(Vec::new());
                }
                let u = user_result(ctx);
                self.drive(ctx, true, |c, r, s| c.resume(u, r, s))?
            }
            ToolkitEvent::ProfileDownload(p) => {
                let on = TerminalProfile(p.to_vec()).has(bits::UCS2_DISPLAY);
                self.ucs2_display = Some(on);
                if let Some(c) = self.core.as_mut() {
                    c.set_ucs2_display(on);
                }
                None
            }
            ToolkitEvent::MenuSelection { help: false, .. } => {
                self.drive(ctx, true, |c, _, _| c.menu_start())?
            }
            _ => None,
        };
        Ok(out.unwrap_or_default())
    }
}

/// A registry with the built-in classes plus the WPKI applet class.
pub fn registry_with_wpki() -> uicc::AppletRegistry {
    let mut r = uicc::AppletRegistry::builtin();
    r.register(std::sync::Arc::new(WpkiAppletClass));
    r
}

/// The TOML lines that add the WPKI applet instance ([`WPKI_INSTANCE_AID`]) and its TAR to a
/// card profile (`[[applet]]` and `[[ota.tar]]`, target `applet`, key sets `keysets`), with
/// `key` as the end-to-end key in the install parameters.
pub fn profile_toml_fragment(tar: [u8; 3], keysets: &[u8], key: Option<&E2eKey>) -> String {
    let hex = apdu::hex::encode;
    let params = key
        .map(|k| format!("\nparams = \"C110{}\"", hex(k.bytes())))
        .unwrap_or_default();
    let ks: Vec<String> = keysets.iter().map(u8::to_string).collect();
    format!(
        "\n[[ota.tar]]\ntar = \"{}\"\ntarget = \"applet\"\napplet = \"{}\"\nkeysets = [{}]\n\n[[applet]]\nclass = \"{}\"\naid = \"{}\"{params}\n",
        hex(&tar),
        hex(WPKI_INSTANCE_AID),
        ks.join(", "),
        hex(WPKI_CLASS_AID),
        hex(WPKI_INSTANCE_AID),
    )
}

/// The built-in default profile with the WPKI applet on TAR [`crate::client::DEFAULT_TAR`]
/// (key set 1).
pub fn default_profile_with_wpki(
    key: Option<&E2eKey>,
) -> Result<uicc::Profile, uicc::ProfileError> {
    let mut s = uicc::profile::DEFAULT_PROFILE_TOML.to_string();
    s.push_str(&profile_toml_fragment(
        crate::client::DEFAULT_TAR,
        &[1],
        key,
    ));
    uicc::Profile::from_toml_str(&s)
}

/// The WPKI state stored in a card for the instance `aid` (read-only, for host tools: e.g. to
/// continue request ids above the last protected one).
pub fn stored_state(card: &uicc::Card, aid: &[u8]) -> Option<WpkiState> {
    stored_state_in(card.nv_state(), aid)
}

/// The WPKI state of the instance `aid` in a card's non-volatile state (e.g. read from a state
/// file before the card is built, to tell a wrong end-to-end key from another profile).
pub fn stored_state_in(nv: &uicc::NvState, aid: &[u8]) -> Option<WpkiState> {
    let a = nv.applets.iter().find(|a| a.aid == aid)?;
    WpkiState::from_bytes(&a.data.get(STATE_FIELD)?.0).ok()
}

/// A card random source seeded from the operating system (the emulator's default source is
/// deterministic per profile, which would repeat on-card keys across restarts).
pub fn os_random_source() -> Result<Box<dyn uicc::rng::RandomSource>, crate::client::ClientError> {
    struct Os(ChaCha20Rng);
    impl uicc::rng::RandomSource for Os {
        fn fill(&mut self, buf: &mut [u8]) {
            rand_core::Rng::fill_bytes(&mut self.0, buf);
        }
    }
    Ok(Box::new(Os(crate::client::os_rng()?)))
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
        assert_eq!(
            parse_params(&p),
            Ok(Params {
                key: Some([7; 16]),
                require_e2e: true
            })
        );
        assert_eq!(parse_params(&[0xC1, 0x01, 0x00]), Err(StatusWord(0x6A80)));
        assert_eq!(parse_params(&[0xC5, 0x00]), Err(StatusWord(0x6A80)));
    }
}
