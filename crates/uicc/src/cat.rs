//! The CAT engine (ETSI TS 102 223 / 3GPP TS 31.111, APDUs of TS 102 221 §10.1.2): TERMINAL
//! PROFILE (`80 10`), FETCH (`80 12`), TERMINAL RESPONSE (`80 14`) and ENVELOPE (`80 C2`).
//!
//! * TERMINAL PROFILE is stored and honoured: no proactive command is queued before it, and a
//!   command the profile does not declare is refused to the applet
//!   ([`crate::toolkit::ToolkitError::CommandNotSupported`]). Applets registered for
//!   EVENT_PROFILE_DOWNLOAD are triggered, then the SET UP MENU built from the toolkit registry
//!   is queued, and the SET UP EVENT LIST of the event-download events the applets registered
//!   (TS 102 241 §6.2 / TS 43.019: the framework, not the applet, issues it; sent again
//!   whenever the registered set changes).
//! * Proactive commands queued by applets (through [`crate::toolkit::ProactiveHandler`]) or by
//!   the card itself (SET UP MENU, SEND SHORT MESSAGE carrying a PoR) wait in a queue; a
//!   final `9000` of any command becomes `91xx` while one waits ([`CatState::proactive_pending`]).
//! * FETCH hands out the first queued command (again, until its TERMINAL RESPONSE arrives);
//!   `6Cxx` when Le is too short; `6985` when nothing is pending.
//! * TERMINAL RESPONSE is parsed (COMPREHENSION-TLV, `ota::cat`), checked against the fetched
//!   command (number and type; `6A80` otherwise, `6985` when nothing was fetched) and routed to
//!   the owning applet as [`ToolkitEvent::TerminalResponse`].
//! * ENVELOPE: SMS-PP DOWNLOAD `D1` (→ [`crate::ota_receiver`]), MENU SELECTION `D3`, EVENT
//!   DOWNLOAD `D6`; others go to applets registered for EVENT_UNRECOGNIZED_ENVELOPE (`6A80`
//!   when none). While a proactive session is open, `D1`/`D3`/`D6` answer `9300` (toolkit busy).
//!
//! Applets run as state machines: see [`crate::toolkit`] for the continuation model.

use crate::applet::{AppletContext, ToolkitEvent};
use crate::card::{Card, Resp, R};
use crate::nv::life_cycle;
use crate::toolkit::{
    event, EnvelopeHandler, ProactiveHandler, ProactiveResponseHandler, ToolkitIo,
};
use apdu::CommandApdu;
use ota::cat::proactive::{SendShortMessage, SetUpMenu};
use ota::cat::{
    Address, AlphaId, Command, Envelope, EnvelopeKind, Item, ProactiveCommand, TerminalProfile,
    TerminalResponse,
};
use std::collections::VecDeque;

/// Title of the SET UP MENU the card builds from the applets' menu entries.
pub const MENU_TITLE: &str = "simota";

/// A proactive command waiting for FETCH / TERMINAL RESPONSE.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    /// The applet that sent it (`None`: the card itself).
    pub(crate) owner: Option<Vec<u8>>,
    pub(crate) cmd: ProactiveCommand,
    pub(crate) bytes: Vec<u8>,
}

/// The PoR of an OTA message whose applet started a proactive session: sent through SEND
/// SHORT MESSAGE when the session ends.
#[derive(Debug, Clone)]
pub(crate) struct DeferredPor {
    pub(crate) owner: Vec<u8>,
    pub(crate) ctx: crate::ota_receiver::PorTarget,
}

/// Volatile CAT state (cleared at reset).
#[derive(Debug, Clone, Default)]
pub struct CatState {
    /// The last TERMINAL PROFILE received.
    pub terminal_profile: Option<Vec<u8>>,
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) outstanding: Option<Queued>,
    pub(crate) deferred: Option<DeferredPor>,
    /// The partial concatenated OTA message (`ota_concat`: segment 1 restarts it).
    pub(crate) segments: crate::ota_concat::SegmentBuffer,
    pub(crate) menu_sent: Option<Vec<(u8, String)>>,
    pub(crate) next_number: u8,
    pub(crate) message_ref: u8,
    /// The event-list codes of the last SET UP EVENT LIST queued.
    pub(crate) events_sent: Option<Vec<u8>>,
    /// Fingerprint of the toolkit registry when the menu was last synchronised.
    pub(crate) menu_fp: Option<u64>,
    /// OTA key sets with their key schedules, by KVN (cleared by PUT KEY and reset).
    pub(crate) keysets: Vec<(u8, ota::Keyset)>,
}

impl CatState {
    /// Length of the pending proactive command, if one waits for FETCH (announced `91xx`).
    pub fn proactive_pending(&self) -> Option<usize> {
        if self.outstanding.is_some() {
            return None;
        }
        self.queue.front().map(|q| q.bytes.len())
    }

    /// Whether a proactive session is open (a command is queued or awaits its response).
    pub fn busy(&self) -> bool {
        self.outstanding.is_some() || !self.queue.is_empty()
    }

    /// The applet owning the open proactive session, if any.
    fn session_owner(&self) -> Option<&Vec<u8>> {
        self.outstanding
            .as_ref()
            .and_then(|q| q.owner.as_ref())
            .or_else(|| self.queue.iter().find_map(|q| q.owner.as_ref()))
    }

    /// Queue a proactive command.
    pub(crate) fn push(&mut self, owner: Option<Vec<u8>>, cmd: ProactiveCommand) {
        let bytes = cmd.emit();
        self.queue.push_back(Queued { owner, cmd, bytes });
    }

    /// A fresh command number (1..=FE).
    pub(crate) fn number(&mut self) -> u8 {
        let n = self.next_number.max(1);
        self.next_number = if n >= 0xFE { 1 } else { n + 1 };
        n
    }

    /// The stored terminal profile.
    pub(crate) fn profile(&self) -> Option<TerminalProfile> {
        self.terminal_profile.clone().map(TerminalProfile)
    }

    /// Whether the terminal declared a proactive command.
    pub(crate) fn supports(&self, command_type: u8) -> bool {
        self.profile()
            .is_some_and(|p| crate::toolkit::profile_supports(&p, command_type))
    }
}

/// What one call of an applet's `process_toolkit` produced.
pub(crate) struct CallOutcome {
    pub(crate) result: Result<Vec<u8>, u16>,
    pub(crate) queued: usize,
    pub(crate) posted: Option<Vec<u8>>,
}

impl Card {
    /// Handle one CAT APDU (CLA 80 and INS 10/C2/12/14).
    pub(crate) fn cat_apdu(&mut self, cmd: &CommandApdu) -> R {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(0x6B00);
        }
        let r = match cmd.ins {
            0x10 => self.cat_terminal_profile(cmd),
            0x12 => self.cat_fetch(cmd),
            0x14 => self.cat_terminal_response(cmd),
            0xC2 => self.cat_envelope(cmd),
            _ => Err(0x6D00),
        };
        if !self.cat.busy() {
            self.sync_menu();
        }
        if !self.cat.busy() {
            self.sync_event_list();
        }
        r
    }

    fn cat_terminal_profile(&mut self, cmd: &CommandApdu) -> R {
        if cmd.data.is_empty() {
            return Err(0x6700);
        }
        self.cat.terminal_profile = Some(cmd.data.clone());
        self.cat.menu_sent = None;
        self.cat.menu_fp = None;
        self.cat.events_sent = None;
        for aid in self.toolkit_applets(event::PROFILE_DOWNLOAD) {
            let _ = self.toolkit_call(&aid, &ToolkitEvent::ProfileDownload(&cmd.data), None, None);
        }
        Ok(Resp::ok())
    }

    fn cat_fetch(&mut self, cmd: &CommandApdu) -> R {
        if !cmd.data.is_empty() {
            return Err(0x6700);
        }
        if self.cat.outstanding.is_none() {
            self.cat.outstanding = self.cat.queue.pop_front();
        }
        match &self.cat.outstanding {
            Some(q) => Ok(Resp::unit(q.bytes.clone())),
            None => Err(0x6985),
        }
    }

    fn cat_terminal_response(&mut self, cmd: &CommandApdu) -> R {
        let Some(out) = self.cat.outstanding.as_ref() else {
            return Err(0x6985);
        };
        let tr = TerminalResponse::parse(&cmd.data).map_err(|_| 0x6A80u16)?;
        let (d, want) = (tr.details(), out.cmd.details());
        if d.number != want.number || d.command_type != want.command_type {
            return Err(0x6A80);
        }
        let Some(out) = self.cat.outstanding.take() else {
            return Err(0x6985);
        };
        let Some(aid) = out.owner else {
            return Ok(Resp::ok());
        };
        let handler = ProactiveResponseHandler::new(tr);
        let o = self.toolkit_call(
            &aid,
            &ToolkitEvent::TerminalResponse(&cmd.data),
            None,
            Some(handler),
        );
        let still_owner = self.cat.session_owner() == Some(&aid);
        if o.queued == 0 && !still_owner {
            // The applet's session ended: a deferred PoR goes out now.
            if let Some(d) = self.cat.deferred.take_if(|d| d.owner == aid) {
                let data = match o.result {
                    Ok(v) => v,
                    Err(sw) => sw.to_be_bytes().to_vec(),
                };
                self.send_deferred_por(d.ctx, data);
            }
        }
        Ok(Resp::ok())
    }

    fn cat_envelope(&mut self, cmd: &CommandApdu) -> R {
        let tag = *cmd.data.first().ok_or(0x6700u16)?;
        if matches!(tag, 0xD1 | 0xD3 | 0xD6) && self.cat.busy() {
            return Err(0x9300);
        }
        let env = Envelope::parse(&cmd.data).map_err(|_| 0x6A80u16)?;
        if let EnvelopeKind::SmsPpDownload { address, tpdu } = env.kind() {
            return self.ota_sms_pp(address.clone(), tpdu, env.objects());
        }
        let objects = env.objects().to_vec();
        match env.kind() {
            EnvelopeKind::SmsPpDownload { .. } => Err(0x6A80),
            EnvelopeKind::MenuSelection {
                item_id,
                help_request,
            } => {
                let aid = self.menu_owner(*item_id).ok_or(0x6A80u16)?;
                let ev = ToolkitEvent::MenuSelection {
                    item: *item_id,
                    help: *help_request,
                };
                let o =
                    self.toolkit_call(&aid, &ev, Some(EnvelopeHandler::new(tag, objects)), None);
                Ok(Resp::data(o.posted.unwrap_or_default()))
            }
            EnvelopeKind::EventDownload { events, .. } => {
                let value = env_value(&cmd.data);
                let mut posted = Vec::new();
                for e in events {
                    let code = u8::from(*e);
                    let Some(tk) = event::for_event_download(code) else {
                        continue;
                    };
                    for aid in self.toolkit_applets(tk) {
                        let ev = ToolkitEvent::EventDownload {
                            event: code,
                            data: value,
                        };
                        let o = self.toolkit_call(
                            &aid,
                            &ev,
                            Some(EnvelopeHandler::new(tag, objects.clone())),
                            None,
                        );
                        if let Some(p) = o.posted {
                            posted = p;
                        }
                    }
                }
                Ok(Resp::data(posted))
            }
            EnvelopeKind::Other { .. } => {
                let apps = self.toolkit_applets(event::UNRECOGNIZED_ENVELOPE);
                if apps.is_empty() {
                    return Err(0x6A80);
                }
                let value = env_value(&cmd.data);
                let mut posted = Vec::new();
                for aid in apps {
                    let o = self.toolkit_call(
                        &aid,
                        &ToolkitEvent::Envelope { tag, data: value },
                        Some(EnvelopeHandler::new(tag, objects.clone())),
                        None,
                    );
                    if let Some(p) = o.posted {
                        posted = p;
                    }
                }
                Ok(Resp::data(posted))
            }
        }
    }

    /// Whether an applet instance may be triggered (installed, selectable, not locked).
    pub(crate) fn applet_active(&self, aid: &[u8]) -> bool {
        self.nv.state.applets.iter().any(|a| {
            a.aid == aid
                && a.life_cycle & life_cycle::LOCKED_BIT == 0
                && a.life_cycle & life_cycle::SELECTABLE == life_cycle::SELECTABLE
        }) && self.objs.contains_key(aid)
    }

    /// Active applets registered for `ev`, by priority (`01` first), then install order.
    pub(crate) fn toolkit_applets(&self, ev: u8) -> Vec<Vec<u8>> {
        let mut v: Vec<(u8, usize, Vec<u8>)> = self
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .enumerate()
            .filter(|(_, t)| t.events.contains(&ev) && self.applet_active(&t.aid))
            .map(|(i, t)| (t.params.priority, i, t.aid.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, _, a)| a).collect()
    }

    fn menu_owner(&self, item: u8) -> Option<Vec<u8>> {
        self.nv
            .state
            .ota
            .toolkit
            .iter()
            .find(|t| {
                t.menu.iter().any(|m| m.id == item && m.enabled) && self.applet_active(&t.aid)
            })
            .map(|t| t.aid.clone())
    }

    /// The menu the terminal should show: enabled entries of active applets, ordered by
    /// position preference (none last), then priority and identifier.
    pub(crate) fn current_menu(&self) -> Vec<(u8, String)> {
        let mut v: Vec<(u16, u8, u8, String)> = Vec::new();
        for t in &self.nv.state.ota.toolkit {
            if t.menu.is_empty() || !self.applet_active(&t.aid) {
                continue;
            }
            for m in t.menu.iter().filter(|m| m.enabled) {
                let pos = if m.position == 0 {
                    0x100
                } else {
                    u16::from(m.position)
                };
                v.push((pos, t.params.priority, m.id, m.text.clone()));
            }
        }
        v.sort();
        v.into_iter().map(|(_, _, id, t)| (id, t)).collect()
    }

    /// A cheap fingerprint of everything [`Card::current_menu`] depends on.
    fn menu_fingerprint(&self) -> u64 {
        // FNV-1a: not adversarial input, just change detection.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: &[u8]| {
            for &x in b {
                h ^= u64::from(x);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for t in &self.nv.state.ota.toolkit {
            eat(&t.aid);
            eat(&[t.params.priority, u8::from(self.applet_active(&t.aid))]);
            for m in &t.menu {
                eat(&[m.id, m.position, u8::from(m.enabled), 0xFF]);
                eat(m.text.as_bytes());
            }
        }
        h
    }

    /// Queue SET UP MENU when the menu differs from what the terminal has (and it supports
    /// SET UP MENU).
    pub(crate) fn sync_menu(&mut self) {
        if self.cat.terminal_profile.is_none() {
            return;
        }
        if self.nv.state.ota.toolkit.is_empty() && self.cat.menu_sent.is_none() {
            return;
        }
        let fp = self.menu_fingerprint();
        if self.cat.menu_sent.is_some() && self.cat.menu_fp == Some(fp) {
            return;
        }
        self.cat.menu_fp = Some(fp);
        let menu = self.current_menu();
        let sent_empty = self.cat.menu_sent.as_ref().is_none_or(|m| m.is_empty());
        if self.cat.menu_sent.as_ref() == Some(&menu) || (menu.is_empty() && sent_empty) {
            self.cat.menu_sent = Some(menu);
            return;
        }
        if !self.cat.supports(0x25) {
            return;
        }
        let items = menu.iter().map(|(id, t)| Item::new(*id, t)).collect();
        let n = self.cat.number();
        let cmd = ProactiveCommand::new(
            n,
            0x00,
            Command::SetUpMenu(SetUpMenu {
                alpha: AlphaId::new(MENU_TITLE),
                items,
                next_actions: None,
                icon: None,
                other: Vec::new(),
            }),
        );
        self.cat.push(None, cmd);
        self.cat.menu_sent = Some(menu);
    }

    /// The TS 102 223 §8.25 event-list codes the active applets registered (through their
    /// EVENT_EVENT_DOWNLOAD_* events), sorted.
    pub(crate) fn registered_event_list(&self) -> Vec<u8> {
        (0x00..=0x0Fu8)
            .filter(|&code| {
                event::for_event_download(code)
                    .is_some_and(|ev| !self.toolkit_applets(ev).is_empty())
            })
            .collect()
    }

    /// Queue SET UP EVENT LIST when the registered event downloads differ from what the
    /// terminal was told (and it supports the command).
    pub(crate) fn sync_event_list(&mut self) {
        if self.cat.terminal_profile.is_none() || !self.cat.supports(0x05) {
            return;
        }
        let list = self.registered_event_list();
        let sent = self.cat.events_sent.clone().unwrap_or_default();
        if list == sent {
            self.cat.events_sent = Some(list);
            return;
        }
        let n = self.cat.number();
        let events = list
            .iter()
            .map(|&c| ota::cat::objects::EventType::from(c))
            .collect();
        self.cat.push(
            None,
            ProactiveCommand::new(n, 0x00, Command::SetUpEventList(events)),
        );
        self.cat.events_sent = Some(list);
    }

    /// Queue SEND SHORT MESSAGE commands (owned by the card) for MO TPDUs.
    pub(crate) fn queue_send_sms(&mut self, address: Option<Address>, tpdus: Vec<Vec<u8>>) {
        for tpdu in tpdus {
            let n = self.cat.number();
            let cmd = ProactiveCommand::new(
                n,
                0x00,
                Command::SendShortMessage(SendShortMessage {
                    alpha: None,
                    address: address.clone(),
                    tpdu,
                    icon: None,
                    other: Vec::new(),
                }),
            );
            self.cat.push(None, cmd);
        }
    }

    /// Run `process_toolkit` of applet `aid` with the toolkit handlers; commands it queues
    /// join the proactive queue, owned by it.
    pub(crate) fn toolkit_call(
        &mut self,
        aid: &[u8],
        event: &ToolkitEvent<'_>,
        envelope: Option<EnvelopeHandler>,
        response: Option<ProactiveResponseHandler>,
    ) -> CallOutcome {
        let owner_ok = self.cat.session_owner().is_none_or(|o| o == aid);
        let available = self.cat.terminal_profile.is_some() && owner_ok;
        let first_number = self.cat.next_number.max(1);
        let mut io = ToolkitIo {
            proactive: ProactiveHandler::new(self.cat.profile(), first_number, available),
            response,
            envelope,
            envelope_response: Default::default(),
        };
        let table = self.sat_table(None);
        let sat = move |k: u8| table[k as usize];
        // Out of the table while it runs: the other instances are reachable from it
        // (Shareable interface objects).
        let Some(mut obj) = self.objs.remove(aid) else {
            return CallOutcome {
                result: Err(0x6F00),
                queued: 0,
                posted: None,
            };
        };
        let r = {
            let mut ctx = AppletContext {
                nv: &mut self.nv,
                aid,
                rng: &mut *self.rng,
                verified: &sat,
                toolkit: Some(&mut io),
                peers: Some(&mut self.objs),
            };
            obj.process_toolkit(&mut ctx, event)
        };
        self.objs.insert(aid.to_vec(), obj);
        if r.is_err() && self.nv.in_transaction() {
            let _ = self.nv.abort();
        }
        self.cat.next_number = io.proactive.next_number;
        let queued = io.proactive.queued.len();
        for c in io.proactive.queued.drain(..) {
            self.cat.push(Some(aid.to_vec()), c);
        }
        CallOutcome {
            result: r.map_err(|s| s.0),
            queued,
            posted: io.envelope_response.posted,
        }
    }
}

/// The value of a BER-TLV envelope (after tag and length); empty if malformed.
fn env_value(b: &[u8]) -> &[u8] {
    let off = match b.get(1) {
        Some(&0x81) => 3,
        Some(&0x82) => 4,
        Some(_) => 2,
        None => return &[],
    };
    b.get(off..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use crate::{Card, Profile};
    use proptest::prelude::*;

    fn envelope(data: &[u8]) -> Vec<u8> {
        let mut a = vec![0x80, 0xC2, 0x00, 0x00, data.len() as u8];
        a.extend_from_slice(data);
        a.push(0x00);
        a
    }

    /// An SMS-PP download ENVELOPE around a TP-UD (SMS-DELIVER, PID 7F, DCS F6).
    fn sms_pp(ud: &[u8]) -> Vec<u8> {
        let mut tpdu = vec![0x40, 0x04, 0x91, 0x21, 0x43, 0x7F, 0xF6];
        tpdu.extend_from_slice(&[0x42, 0x10, 0x10, 0, 0, 0, 0]);
        tpdu.push(ud.len() as u8);
        tpdu.extend_from_slice(ud);
        let mut d1 = vec![0xD1, (tpdu.len() + 6) as u8, 0x82, 0x02, 0x83, 0x81, 0x8B];
        d1.push(tpdu.len() as u8);
        d1.extend_from_slice(&tpdu);
        envelope(&d1)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Arbitrary envelopes, secured packets and CAT sequences never panic, and a packet
        /// the card rejects never changes its non-volatile state.
        #[test]
        fn arbitrary_cat_input_is_answered(
            raw in proptest::collection::vec(any::<u8>(), 0..120),
            packet in proptest::collection::vec(any::<u8>(), 0..120),
            tr in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut c = Card::new(Profile::default_profile()).unwrap();
            let r = c.process(&[0x80, 0x10, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF]);
            prop_assert!(r.len() >= 2);
            let before = c.nv_state().clone();
            let r = c.process(&envelope(&raw));
            prop_assert!(r.len() >= 2);
            let mut ud = vec![0x02, 0x70, 0x00];
            ud.extend_from_slice(&packet);
            let r = c.process(&sms_pp(&ud[..ud.len().min(140)]));
            prop_assert!(r.len() >= 2);
            // Random bytes cannot carry a valid CC for key set 1 or 2.
            prop_assert_eq!(c.nv_state(), &before);
            let mut t = vec![0x80, 0x14, 0x00, 0x00, tr.len() as u8];
            t.extend_from_slice(&tr);
            prop_assert!(c.process(&t).len() >= 2);
            prop_assert!(c.process(&[0x80, 0x12, 0x00, 0x00, 0x10]).len() >= 2);
        }
    }
}
