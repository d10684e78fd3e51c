//! Java Card applets from CAP files on the emulated card: [`JavaAppletClass`] is the
//! [`AppletClass`] of one applet of a linked CAP package (class AID = the applet AID of its
//! Applet component), [`JavaApplet`] runs an instance in the `jcvm` interpreter. The
//! instance's heap (objects, static fields, the registered applet) lives in its NV data
//! (keys `o<id>`, `s<pkg>`, `applet`), every persistent write one [`AppletContext::put`]:
//! JCSystem transactions are the card's NV transactions and the tearing hook covers every
//! write. `install(bArray)` gets the GlobalPlatform install data (JC API
//! `Applet.install`, GPCS §11.5.2.3.2): instance AID, privileges (one byte, 00) and the
//! application parameters (`C9` contents), each length-prefixed.
//!
//! Library packages and Shareable interface objects (JCVM Spec §4.5, JCRE Spec §6.2.4): a CAP
//! links against the card's loaded packages ([`card_packages`]); the primitive static image
//! of each package is one per card (NV `isd.package_statics`). While an instance processes a
//! command the others are reachable from its environment: `getAppletShareableInterfaceObject`
//! and interface calls on the proxies it gives run in the server instance's VM over the same
//! NV (inside the caller's transaction; the server rereads NV before its next entry when the
//! call was inside one).
//!
//! SIM Toolkit (3GPP TS 43.019 `sim.toolkit`, ETSI TS 102 241 `uicc.toolkit`): an applet
//! implementing `sim.toolkit.ToolkitInterface` (or handing out a `uicc.toolkit` one from
//! `getShareableInterfaceObject(null, 1)`) gets the card's toolkit events as
//! `processToolkit(event)` — MENU SELECTION (`D3`:
//! EVENT_MENU_SELECTION / _HELP_REQUEST), EVENT DOWNLOAD (`D6`: the event's code of TS 43.019
//! `ToolkitConstants`), TERMINAL PROFILE (EVENT_PROFILE_DOWNLOAD), unformatted SMS-PP
//! (EVENT_UNFORMATTED_SMS_PP_ENV) and unrecognized envelopes (EVENT_UNRECOGNIZED_ENVELOPE).
//! The `sim.toolkit` natives reach the card's CAT engine through [`jcvm::api::toolkit::ToolkitHost`],
//! which the VM's environment implements over [`crate::toolkit`]: `ToolkitRegistry` is the
//! card's toolkit registry (menu entries within the install parameters, events), and
//! `ProactiveHandler.send()` queues the command in the proactive session and suspends the
//! applet until its TERMINAL RESPONSE arrives (the card's continuation model,
//! [`crate::toolkit`], with the applet's Java stack kept in between).

use crate::applet::ToolkitEvent;
use crate::applet::{Apdu, Applet, AppletClass, AppletContext};
use crate::toolkit::{event, ToolkitError};
use apdu::StatusWord;
use jcvm::api::toolkit::{reason, ToolkitHost};
use jcvm::jcre::{Command, ToolkitOutcome};
use jcvm::link::{self, Package};
use jcvm::natives::Throw;
use jcvm::sio::{RemoteCall, RemoteObject, RemoteReturn};
use jcvm::vm::{Env, Vm};
use jcvm::CapFile;
use std::sync::Arc;

/// The class of one applet of a CAP package.
pub struct JavaAppletClass {
    /// The applet's package (index 0) and the card's library packages it imports.
    packages: Vec<Package>,
    index: usize,
    aid: Vec<u8>,
    name: String,
}

/// The applet classes of the CAP packages loaded by GP LOAD (the ISD's load files) that
/// hold `class_aid`: the class, linked, or `None`.
pub fn class_from_load_files(
    files: &[crate::nv::LoadFileNv],
    class_aid: &[u8],
) -> Option<Arc<dyn AppletClass>> {
    let f = files
        .iter()
        .find(|f| f.modules.iter().any(|m| m == class_aid))?;
    let cap = CapFile::from_load_file(&f.data).ok()?;
    let card = card_packages(files, Some(&f.aid));
    JavaAppletClass::from_cap_with(cap, &card)
        .ok()?
        .into_iter()
        .find(|c| c.class_aid() == class_aid)
}

/// The CAP packages of the card's load files (but `except`), for linking the imports of
/// another (JCVM Spec §4.5: library packages loaded earlier).
pub fn card_packages(files: &[crate::nv::LoadFileNv], except: Option<&[u8]>) -> Vec<Arc<CapFile>> {
    files
        .iter()
        .filter(|f| Some(f.aid.as_slice()) != except)
        .filter_map(|f| CapFile::from_load_file(&f.data).ok())
        .map(Arc::new)
        .collect()
}

impl JavaAppletClass {
    /// One class per applet of `cap`, linked (a link error names the import or entry).
    pub fn from_cap(cap: CapFile) -> Result<Vec<Arc<dyn AppletClass>>, String> {
        JavaAppletClass::from_cap_with(cap, &[])
    }

    /// Like [`JavaAppletClass::from_cap`], its imports resolved against the built-in API
    /// packages and the card's packages `card` (libraries it imports are linked with it).
    pub fn from_cap_with(
        cap: CapFile,
        card: &[Arc<CapFile>],
    ) -> Result<Vec<Arc<dyn AppletClass>>, String> {
        let packages = link::link_with_card(cap, jcvm::jcre::PACKAGE_CONTEXT, card)
            .map_err(|e| e.to_string())?;
        let package = &packages[0];
        let pkg_name = package
            .cap
            .header
            .name
            .clone()
            .unwrap_or_else(|| jcvm::cap::hex(&package.cap.header.package.aid));
        Ok(package
            .cap
            .applets
            .iter()
            .enumerate()
            .map(|(index, a)| {
                Arc::new(JavaAppletClass {
                    packages: packages.clone(),
                    index,
                    aid: a.aid.clone(),
                    name: format!("Java Card applet {} of {pkg_name}", jcvm::cap::hex(&a.aid)),
                }) as Arc<dyn AppletClass>
            })
            .collect())
    }
}

impl AppletClass for JavaAppletClass {
    fn class_aid(&self) -> &[u8] {
        &self.aid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn create(&self) -> Box<dyn Applet> {
        Box::new(JavaApplet {
            packages: self.packages.clone(),
            index: self.index,
            vm: None,
            stale: false,
        })
    }
}

/// A running Java Card applet instance (its VM is rebuilt from NV after every reset).
pub struct JavaApplet {
    packages: Vec<Package>,
    index: usize,
    vm: Option<Vm>,
    /// Another instance called in inside a transaction: NV may have been rolled back
    /// since, the VM rereads it before its next entry.
    stale: bool,
}

/// The card environment of the VM: the instance's NV data through its context.
struct CtxEnv<'a, 'b> {
    ctx: &'a mut AppletContext<'b>,
}

impl Env for CtxEnv<'_, '_> {
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16> {
        self.ctx.put(key, value).map_err(|s| s.0)
    }
    fn load(&self) -> Vec<(String, Vec<u8>)> {
        self.ctx.entries()
    }
    fn begin_transaction(&mut self) -> Result<(), u16> {
        self.ctx.begin_transaction().map_err(|s| s.0)
    }
    fn commit_transaction(&mut self) -> Result<(), u16> {
        self.ctx.commit_transaction().map_err(|s| s.0)
    }
    fn abort_transaction(&mut self) -> Result<(), u16> {
        self.ctx.abort_transaction().map_err(|s| s.0)
    }
    fn in_transaction(&self) -> bool {
        self.ctx.in_transaction()
    }
    fn random(&mut self, out: &mut [u8]) {
        self.ctx.random(out)
    }
    fn checkpoint(&mut self) -> Result<(), u16> {
        self.ctx.checkpoint().map_err(|s| s.0)
    }
    fn toolkit(&mut self) -> Option<&mut dyn ToolkitHost> {
        Some(self)
    }
    fn persist_package_statics(&mut self, package: &[u8], image: &[u8]) -> Result<(), u16> {
        let k = jcvm::cap::hex(package);
        let v = crate::nv::AppletValue(image.to_vec());
        self.ctx.nv.write(|s| {
            s.isd.package_statics.insert(k, v);
        })
    }
    fn package_statics(&self, package: &[u8]) -> Option<Vec<u8>> {
        self.ctx
            .nv
            .state
            .isd
            .package_statics
            .get(&jcvm::cap::hex(package))
            .map(|v| v.0.clone())
    }
    fn applet_exists(&self, aid: &[u8]) -> bool {
        self.ctx.peers.as_ref().is_some_and(|p| p.contains_key(aid))
    }
    fn shareable(
        &mut self,
        server: &[u8],
        client: &[u8],
        param: u8,
    ) -> Result<Option<RemoteObject>, Throw> {
        self.with_server(server, |vm, env| vm.shareable_for(env, client, param))
            .unwrap_or(Ok(None))
    }
    fn invoke_shareable(&mut self, call: &RemoteCall) -> Result<RemoteReturn, Throw> {
        self.with_server(&call.server, |vm, env| vm.invoke_shareable(env, call))
            .unwrap_or_else(|| Err(Throw::security()))
    }
}

impl CtxEnv<'_, '_> {
    /// Runs `f` in the VM of Java Card instance `server` (JCRE Spec §6.2.4: the call into
    /// a Shareable interface object is a context switch to the server's), with the server's
    /// NV data over the same card NV (so inside the caller's transaction). `None` when
    /// there is no such Java Card instance (or it is the caller itself, which is not in
    /// the table while it runs).
    fn with_server<T>(
        &mut self,
        server: &[u8],
        f: impl FnOnce(&mut Vm, &mut dyn Env) -> Result<T, Throw>,
    ) -> Option<Result<T, Throw>> {
        let ctx = &mut *self.ctx;
        let srv = ctx.peers.as_deref_mut()?.get_mut(server)?.java()?;
        let mut sctx = AppletContext {
            nv: &mut *ctx.nv,
            aid: server,
            rng: &mut *ctx.rng,
            verified: ctx.verified,
            toolkit: None,
            peers: None,
        };
        let in_tx = sctx.in_transaction();
        let r = match srv.vm(&mut sctx) {
            Ok(vm) => f(vm, &mut CtxEnv { ctx: &mut sctx }),
            Err(sw) => Err(Throw::Fault(sw.0)),
        };
        if matches!(r, Err(Throw::Fault(0x6581))) {
            // Power lost inside the server: its memory is stale; rebuilt from NV.
            srv.vm = None;
        } else if in_tx {
            srv.stale = true;
        }
        Some(r)
    }
}

/// The `ToolkitException` reason of a toolkit error of the card.
fn toolkit_reason(e: ToolkitError) -> i16 {
    match e {
        ToolkitError::HandlerNotAvailable => reason::HANDLER_NOT_AVAILABLE,
        ToolkitError::CommandNotSupported(_) => reason::COMMAND_NOT_ALLOWED,
        ToolkitError::BadCommand(_) => reason::BAD_INPUT_PARAMETER,
        ToolkitError::Registry(_) => reason::REGISTRY_ERROR,
        ToolkitError::Unavailable(_) => reason::UNAVAILABLE_ELEMENT,
    }
}

/// A menu entry's text: an alpha identifier (TS 102 223 §8.2, TS 102 221 Annex A).
fn alpha_text(b: &[u8]) -> Result<String, i16> {
    ota::cat::AlphaText::from_bytes(b.to_vec(), 0, "menu entry")
        .map(|a| a.text())
        .map_err(|_| reason::BAD_INPUT_PARAMETER)
}

/// Events this card delivers to `processToolkit` (the others are EVENT_NOT_SUPPORTED): the
/// profile download, unformatted SMS-PP, event downloads (MT call … browsing status) and
/// unrecognized envelopes. Menu selection is registered through menu entries.
fn event_supported(ev: u8) -> bool {
    matches!(
        ev,
        event::PROFILE_DOWNLOAD | event::UNFORMATTED_SMS_PP_ENV | 12..=18 | 20..=23 | 25..=29
    ) || ev == event::UNRECOGNIZED_ENVELOPE
}

impl ToolkitHost for CtxEnv<'_, '_> {
    fn terminal_profile(&self) -> Option<Vec<u8>> {
        self.ctx
            .toolkit
            .as_deref()
            .and_then(|io| io.proactive.profile().map(|p| p.0.clone()))
    }

    fn proactive_available(&self) -> bool {
        self.ctx
            .toolkit
            .as_deref()
            .is_some_and(|io| io.proactive.available)
    }

    fn send_proactive(
        &mut self,
        command_type: u8,
        qualifier: u8,
        destination: u8,
        objects: &[u8],
    ) -> Result<(), i16> {
        let objs =
            apdu::tlv::CompTlv::parse_all(objects).map_err(|_| reason::BAD_INPUT_PARAMETER)?;
        let h = self.ctx.proactive_handler().map_err(toolkit_reason)?;
        h.init(command_type, qualifier, destination);
        for o in objs {
            if o.tag.three_byte {
                return Err(reason::BAD_INPUT_PARAMETER);
            }
            let tag = o.tag.value as u8 | if o.tag.cr { 0x80 } else { 0 };
            h.append_tlv(tag, &o.value);
        }
        h.send().map(|_| ()).map_err(toolkit_reason)
    }

    fn post_envelope_response(&mut self, data: &[u8]) -> Result<(), i16> {
        let r = self.ctx.envelope_response().map_err(toolkit_reason)?;
        r.append(data);
        r.post();
        Ok(())
    }

    fn init_menu_entry(&mut self, text: &[u8], next_action: u8, help: bool) -> Result<u8, i16> {
        let text = alpha_text(text)?;
        let reg = self.ctx.registry();
        let p = reg.params();
        if reg.menu_entries().len() >= p.menu_slots.len() {
            return Err(reason::REGISTRY_ERROR);
        }
        if text.chars().count() > usize::from(p.max_text_len) {
            return Err(reason::ALLOWED_LENGTH_EXCEEDED);
        }
        self.ctx
            .registry()
            .init_menu_entry(&text, next_action, help)
            .map_err(toolkit_reason)
    }

    fn change_menu_entry(
        &mut self,
        id: u8,
        text: &[u8],
        _next_action: u8,
        _help: bool,
    ) -> Result<(), i16> {
        let text = alpha_text(text)?;
        let reg = self.ctx.registry();
        if !reg.menu_entries().iter().any(|m| m.id == id) {
            return Err(reason::MENU_ENTRY_NOT_FOUND);
        }
        if text.chars().count() > usize::from(reg.params().max_text_len) {
            return Err(reason::ALLOWED_LENGTH_EXCEEDED);
        }
        self.ctx
            .registry()
            .change_menu_entry(id, &text)
            .map_err(toolkit_reason)
    }

    fn set_menu_entry_enabled(&mut self, id: u8, enabled: bool) -> Result<(), i16> {
        if !self
            .ctx
            .registry()
            .menu_entries()
            .iter()
            .any(|m| m.id == id)
        {
            return Err(reason::MENU_ENTRY_NOT_FOUND);
        }
        self.ctx
            .registry()
            .set_menu_entry_enabled(id, enabled)
            .map_err(toolkit_reason)
    }

    fn set_event(&mut self, ev: u8) -> Result<(), i16> {
        if !event_supported(ev) {
            return Err(reason::EVENT_NOT_SUPPORTED);
        }
        self.ctx.registry().set_event(ev).map_err(toolkit_reason)
    }

    fn clear_event(&mut self, ev: u8) -> Result<(), i16> {
        self.ctx.registry().clear_event(ev).map_err(toolkit_reason)
    }

    fn is_event_set(&self, ev: u8) -> bool {
        self.ctx
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .any(|t| t.aid == self.ctx.aid && t.events.contains(&ev))
    }
}

/// The `sim.toolkit` event code and envelope of a card toolkit event (`None`: not for
/// `processToolkit`).
fn toolkit_event(ctx: &AppletContext<'_>, ev: &ToolkitEvent<'_>) -> Option<(u8, bool)> {
    let has_env = ctx.envelope().is_ok();
    Some(match ev {
        ToolkitEvent::MenuSelection { help: false, .. } => (event::MENU_SELECTION, false),
        ToolkitEvent::MenuSelection { help: true, .. } => {
            (event::MENU_SELECTION_HELP_REQUEST, false)
        }
        ToolkitEvent::EventDownload { event: code, .. } => {
            (event::for_event_download(*code)?, false)
        }
        ToolkitEvent::ProfileDownload(_) => (event::PROFILE_DOWNLOAD, false),
        ToolkitEvent::UnformattedSmsPp(_) => (event::UNFORMATTED_SMS_PP_ENV, has_env),
        ToolkitEvent::Envelope { .. } => (event::UNRECOGNIZED_ENVELOPE, has_env),
        _ => return None,
    })
}

impl JavaApplet {
    fn vm(&mut self, ctx: &mut AppletContext<'_>) -> Result<&mut Vm, StatusWord> {
        if self.vm.is_none() {
            let vm = Vm::new(self.packages.clone(), ctx.aid(), &ctx.entries())
                .map_err(|_| StatusWord(0x6F00))?;
            self.vm = Some(vm);
            self.stale = false;
        }
        let vm = self.vm.as_mut().ok_or(StatusWord(0x6F00))?;
        if self.stale {
            self.stale = false;
            vm.refresh(&CtxEnv { ctx })
                .map_err(|_| StatusWord(0x6F00))?;
        }
        Ok(vm)
    }
}

impl Applet for JavaApplet {
    fn java(&mut self) -> Option<&mut JavaApplet> {
        Some(self)
    }

    fn install(&mut self, ctx: &mut AppletContext<'_>, params: &[u8]) -> Result<(), StatusWord> {
        let aid = ctx.aid().to_vec();
        if params.len() > 255 {
            return Err(StatusWord(0x6A80));
        }
        let mut b = vec![aid.len() as u8];
        b.extend_from_slice(&aid);
        b.extend_from_slice(&[1, 0, params.len() as u8]);
        b.extend_from_slice(params);
        let mut vm =
            Vm::new(self.packages.clone(), &aid, &ctx.entries()).map_err(|_| StatusWord(0x6F00))?;
        let r = vm.install(&mut CtxEnv { ctx }, self.index, &b);
        self.vm = Some(vm);
        r.map_err(StatusWord)
    }

    fn select(&mut self, ctx: &mut AppletContext<'_>) -> bool {
        let Ok(vm) = self.vm(ctx) else {
            return false;
        };
        vm.select(&mut CtxEnv { ctx })
    }

    fn deselect(&mut self, ctx: &mut AppletContext<'_>) {
        if let Ok(vm) = self.vm(ctx) {
            vm.deselect(&mut CtxEnv { ctx });
        }
    }

    fn process(
        &mut self,
        ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord> {
        let cmd = apdu.command().clone();
        let c = Command {
            cla: cmd.cla,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: &cmd.data,
            ne: cmd.ne(),
            channel: apdu.channel(),
        };
        let selecting = apdu.selecting_applet();
        let vm = self.vm(ctx)?;
        let r = vm.process_apdu(&mut CtxEnv { ctx }, &c, selecting, cmd.extended);
        if r.sw == 0x6581 {
            // Power lost mid-command: the VM's memory is stale; rebuild it from NV.
            self.vm = None;
        }
        apdu.send(&r.data);
        if r.sw == 0x9000 {
            Ok(())
        } else {
            Err(StatusWord(r.sw))
        }
    }

    fn process_toolkit(
        &mut self,
        ctx: &mut AppletContext<'_>,
        ev: &ToolkitEvent<'_>,
    ) -> Result<Vec<u8>, StatusWord> {
        let outcome = if let ToolkitEvent::TerminalResponse(tr) = ev {
            let vm = self.vm(ctx)?;
            if !vm.toolkit_waiting() {
                return Ok(Vec::new());
            }
            vm.resume_toolkit(&mut CtxEnv { ctx }, tr)
        } else {
            let Some((code, response_allowed)) = toolkit_event(ctx, ev) else {
                return Ok(Vec::new());
            };
            let envelope = ctx.envelope().ok().map(|e| (e.tag(), e.raw()));
            let vm = self.vm(ctx)?;
            if !vm.is_toolkit_applet() {
                return Ok(Vec::new());
            }
            // An applet waiting in send() is not entered again (its TERMINAL RESPONSE is still
            // to come) — except by a new TERMINAL PROFILE: the terminal restarted, the wait
            // is abandoned.
            if vm.toolkit_waiting() && !matches!(ev, ToolkitEvent::ProfileDownload(_)) {
                return Ok(Vec::new());
            }
            let env_ref = envelope.as_ref().map(|(t, b)| (*t, b.as_slice()));
            vm.process_toolkit(&mut CtxEnv { ctx }, code, env_ref, response_allowed)
        };
        match outcome {
            ToolkitOutcome::Done | ToolkitOutcome::Waiting => Ok(Vec::new()),
            ToolkitOutcome::Failed(sw) => {
                if sw == 0x6581 {
                    self.vm = None;
                }
                Err(StatusWord(sw))
            }
        }
    }
}
