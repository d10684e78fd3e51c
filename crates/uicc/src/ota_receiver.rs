//! The OTA receiver (ETSI TS 102 225 / 3GPP TS 31.115 over SMS-PP, TS 31.111 §7.1.1): an
//! ENVELOPE (SMS-PP DOWNLOAD) carries an SMS-DELIVER (PID `7F`, class 2 8-bit) whose UDH holds
//! IE `70` (command packet); concatenated packets are reassembled across ENVELOPEs
//! ([`crate::ota_concat`], volatile: segment 1 restarts, a segment that does not fit is
//! refused with `6A80` and discards the partial message). The secured packet is checked in
//! this order, each check with its PoR status:
//!
//! | # | check | status | PoR security |
//! |---|---|---|---|
//! | 1 | header decodes (CPL/CHL/lengths), SPI not reserved/DS, KIc/KID coding | 06 | none |
//! | 2 | TAR known (profile TARs, installed applets' TARs; locked applet = unknown) | 09 | none |
//! | 3 | SPI1 meets the TAR's minimum security level | 0A | none |
//! | 4 | a key set for the KIc/KID key index exists, is allowed for the TAR and matches the coded algorithms | 06 | none |
//! | 5 | deciphering (block length, padding counter) | 05 | none |
//! | 6 | RC/CC | 01 | none |
//! | 7 | counter (ota `CounterPolicy`: low 02, high 03, blocked 04); the PoR's CNTR is then the card's counter | 02/03/04 | as requested |
//! | 8 | executed (RFM, RAM, or the applet) | 00 | as requested |
//!
//! The counter is checked after the RC/CC so that an unauthenticated packet learns nothing
//! about the stored counter and cannot make the card answer with keys it did not prove. A
//! rejected packet has no side effect; an accepted one stores its counter in the same
//! non-volatile commit as the effects of its commands (the ENVELOPE's end-of-APDU commit).
//!
//! The PoR follows SPI2: none / always / on error only; ciphered or not; RC/CC or not; in
//! the ENVELOPE response data (SMS-DELIVER-REPORT; `61xx` for T=0) or as SMS-SUBMIT(s) in
//! proactive SEND SHORT MESSAGE commands (concatenated when long; when the terminal profile
//! lacks SEND SHORT MESSAGE the PoR falls back to the ENVELOPE response). When an applet
//! answers an OTA message by starting a proactive session, its PoR is sent through SEND
//! SHORT MESSAGE when the session ends.

use crate::applet::ToolkitEvent;
use crate::card::{Card, Resp, R};
use crate::nv::CounterBytes;
use crate::toolkit::event;
use ota::cat::Address;
use ota::sms::udh::{InformationElement, IEI_COMMAND_PACKET, IEI_RESPONSE_PACKET};
use ota::sms::{split, Charset, ConcatRef, SmsAddress, SmsDeliver, SmsSubmit, Udh};
use ota::{
    Counter, CounterMode, CounterPolicy, IntegrityMode, Keyset, PorRequest, PorTransport,
    ResponsePacket, ResponseStatus, SecuredCommand, Spi, Tar,
};

/// What a TAR addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TarTarget {
    /// Remote file management starting at the MF (or at an ADF), with the key references
    /// the TAR's access domain grants.
    Rfm {
        /// The ADF the session starts in (`None`: the MF).
        adf: Option<crate::fs::NodeId>,
        /// Granted key references.
        access: Vec<u8>,
    },
    /// Remote application management: the issuer security domain.
    Ram,
    /// An applet instance.
    Applet(Vec<u8>),
}

/// A resolved TAR: target, allowed key sets and minimum security level.
#[derive(Debug, Clone)]
pub(crate) struct TarEntry {
    pub(crate) target: TarTarget,
    pub(crate) keysets: Vec<u8>,
    pub(crate) msl: Option<u8>,
}

/// Where and how a PoR goes.
#[derive(Debug, Clone)]
pub(crate) struct PorTarget {
    pub(crate) tar: Tar,
    pub(crate) counter: Counter,
    pub(crate) spi: Spi,
    /// The key set version proven by the packet's RC/CC (`None`: PoR sent unsecured).
    pub(crate) kvn: Option<u8>,
    pub(crate) originator: SmsAddress,
    pub(crate) sc: Option<Address>,
}

/// The result of checking and running one secured packet.
enum Processed {
    Por {
        status: ResponseStatus,
        data: Vec<u8>,
        secured: bool,
    },
    Deferred,
}

/// TS 102 226 TAR-from-AID rule: bytes 13–15 of an instance AID of 15+ bytes.
pub fn tar_from_aid(aid: &[u8]) -> Option<[u8; 3]> {
    aid.get(12..15).map(|t| [t[0], t[1], t[2]])
}

impl Card {
    /// Resolve a TAR: the profile's `[[ota.tar]]` entries first, then the TARs of installed
    /// toolkit applets.
    pub(crate) fn resolve_tar(&self, tar: [u8; 3]) -> Option<TarEntry> {
        if let Some(t) = self.profile.ota_tars.iter().find(|t| t.tar == tar) {
            let target = match t.target.as_str() {
                "rfm-uicc" | "rfm-mf" | "rfm-sim" => TarTarget::Rfm {
                    adf: None,
                    access: t.access.clone().unwrap_or_else(|| vec![0x0A]),
                },
                "rfm-adf" => TarTarget::Rfm {
                    adf: t.adf,
                    access: t.access.clone().unwrap_or_else(|| vec![0x0A]),
                },
                "ram" | "isd" => TarTarget::Ram,
                "applet" => {
                    let aid = t.applet.clone()?;
                    if !self.applet_active(&aid) {
                        return None;
                    }
                    TarTarget::Applet(aid)
                }
                _ => return None,
            };
            return Some(TarEntry {
                target,
                keysets: t.keysets.clone(),
                msl: t.min_security,
            });
        }
        let t = self
            .nv
            .state
            .ota
            .toolkit
            .iter()
            .find(|t| t.params.tars.contains(&tar))?;
        if !self.applet_active(&t.aid) {
            return None;
        }
        Some(TarEntry {
            target: TarTarget::Applet(t.aid.clone()),
            keysets: Vec::new(),
            msl: t.params.msl,
        })
    }

    /// ENVELOPE (SMS-PP DOWNLOAD).
    pub(crate) fn ota_sms_pp(
        &mut self,
        sc: Option<Address>,
        tpdu: &[u8],
        objects: &[apdu::tlv::CompTlv],
    ) -> R {
        let deliver = SmsDeliver::parse(tpdu).map_err(|_| 0x6A80u16)?;
        // Formatted (TS 31.115): IE 70, or a later segment continuing the partial message.
        let formatted = deliver.udhi
            && deliver.dcs.charset() == Charset::EightBit
            && match Udh::parse(&deliver.ud) {
                Ok((udh, _)) => {
                    udh.find(IEI_COMMAND_PACKET).is_some() || self.cat.segments.continues(&udh)
                }
                Err(_) => false,
            };
        if !formatted {
            // Any other message ends a partial concatenated one (module `ota_concat`).
            self.cat.segments.discard();
            let mut posted = Vec::new();
            for aid in self.toolkit_applets(event::UNFORMATTED_SMS_PP_ENV) {
                let o = self.toolkit_call(
                    &aid,
                    &ToolkitEvent::UnformattedSmsPp(tpdu),
                    Some(crate::toolkit::EnvelopeHandler::new(0xD1, objects.to_vec())),
                    None,
                );
                if let Some(p) = o.posted {
                    posted = p;
                }
            }
            return Ok(Resp::data(posted));
        }
        // Segment 1 restarts, a segment that does not fit is refused (6A80) and discards
        // the partial message (module `ota_concat`).
        let whole = self.cat.segments.push(&deliver.ud).map_err(|_| 0x6A80u16)?;
        let Some(whole) = whole else {
            return Ok(Resp::ok());
        };
        if !whole.is_command_packet() {
            return Err(0x6A80);
        }
        let packet = whole.payload;
        if packet.len() < 10 {
            // Not even a TAR to answer to.
            return Err(0x6A80);
        }
        let spi = Spi::from_bytes([packet[3], packet[4]]);
        let tar = Tar([packet[7], packet[8], packet[9]]);
        let mut target = PorTarget {
            tar,
            counter: Counter::default(),
            spi,
            kvn: None,
            originator: deliver.oa.clone(),
            sc,
        };
        match self.ota_process(&packet, &mut target) {
            Processed::Deferred => Ok(Resp::ok()),
            Processed::Por {
                status,
                data,
                secured,
            } => self.send_por(&target, status, data, secured),
        }
    }

    /// Checks 1–8 of the module table.
    fn ota_process(&mut self, packet: &[u8], t: &mut PorTarget) -> Processed {
        use ResponseStatus as S;
        let fail = |status| Processed::Por {
            status,
            data: Vec::new(),
            secured: false,
        };
        // 1. header
        let sc = match SecuredCommand::parse(packet) {
            Ok(s) => s,
            Err(_) => return fail(S::UnidentifiedSecurityError),
        };
        let h = *sc.header();
        if !h.spi.ciphering {
            if let Some(c) = packet.get(10..15) {
                t.counter = Counter::from_bytes([c[0], c[1], c[2], c[3], c[4]]);
            }
        }
        if h.spi.reserved1 != 0
            || h.spi.integrity == IntegrityMode::Ds
            || h.spi.por_integrity == IntegrityMode::Ds
            || h.spi.por == PorRequest::Reserved
        {
            return fail(S::UnidentifiedSecurityError);
        }
        // 2. TAR
        let Some(entry) = self.resolve_tar(h.tar.0) else {
            return fail(S::TarUnknown);
        };
        // 3. MSL
        if let Some(msl) = entry.msl {
            if !h.spi.satisfies_msl(msl) {
                return fail(S::InsufficientSecurityLevel);
            }
        }
        // 4. key set
        let kvn_c = h.spi.ciphering.then_some(h.kic.key_index);
        let kvn_i = (h.spi.integrity != IntegrityMode::None).then_some(h.kid.key_index);
        let kvn = match (kvn_c, kvn_i) {
            (Some(a), Some(b)) if a != b => return fail(S::UnidentifiedSecurityError),
            (Some(a), _) | (None, Some(a)) => Some(a),
            (None, None) => None,
        };
        let key_index = match kvn {
            Some(k) => {
                if !entry.keysets.is_empty() && !entry.keysets.contains(&k) {
                    return fail(S::UnidentifiedSecurityError);
                }
                match self.keyset_index(k) {
                    Some(i) => Some(i),
                    None => return fail(S::UnidentifiedSecurityError),
                }
            }
            None => None,
        };
        let counted = matches!(h.spi.counter, CounterMode::Higher | CounterMode::OneHigher);
        if counted && kvn.is_none() {
            return fail(S::UnidentifiedSecurityError);
        }
        let checked = {
            let none = Keyset::new();
            let ks = key_index
                .and_then(|i| self.cat.keysets.get(i))
                .map(|(_, k)| k)
                .unwrap_or(&none);
            // 5. decipher, 6. RC/CC
            sc.decipher(ks).map(|dec| {
                let counter = dec.counter();
                (counter, dec.verify(ks))
            })
        };
        let cmd = match checked {
            Err(e) => return fail(e.por_status()),
            Ok((counter, verified)) => {
                t.counter = counter;
                match verified {
                    Ok(c) => c,
                    Err(e) => return fail(e.por_status()),
                }
            }
        };
        t.kvn = kvn;
        // 7. counter
        let slot = kvn.unwrap_or(0);
        let stored = self.ota_counter(slot);
        if let Err(status) = self
            .counter_policy()
            .check(h.spi.counter, stored, cmd.counter)
        {
            // A refused counter (02/03/04): the PoR's CNTR field (TS 102 225 response packet)
            // is the card's own counter, so the sending entity learns which CNTR comes next.
            // Only an authenticated sender gets here, and the PoR is secured as SPI2 asks.
            t.counter = stored;
            return Processed::Por {
                status,
                data: Vec::new(),
                secured: status != S::UnidentifiedSecurityError,
            };
        }
        // 8. accepted: store the counter, run the commands (one commit at the APDU's end).
        // The stored counter never goes backwards: in mode 01 (no replay check) a lower CNTR
        // is accepted but not stored, or captured mode-10 packets could be replayed later
        // (finding of `simota fuzz ota`, class cntr.mode01-lower).
        if h.spi.counter != CounterMode::NoCounter && cmd.counter.value() > stored.value() {
            let v = CounterBytes(cmd.counter.to_bytes().to_vec());
            if self
                .nv
                .write_ota(|o| {
                    o.counters.insert(slot, v);
                })
                .is_err()
            {
                return fail(S::InsufficientMemory);
            }
        }
        let data = match entry.target {
            TarTarget::Rfm { adf, access } => self.rfm_run(&cmd.data, adf, &access),
            TarTarget::Ram => self.ram_run(&cmd.data),
            TarTarget::Applet(aid) => {
                let o = self.toolkit_call(&aid, &ToolkitEvent::SecuredData(&cmd.data), None, None);
                if o.queued > 0 {
                    self.cat.deferred = Some(crate::cat::DeferredPor {
                        owner: aid,
                        ctx: t.clone(),
                    });
                    return Processed::Deferred;
                }
                match o.result {
                    Ok(v) => v,
                    Err(sw) => sw.to_be_bytes().to_vec(),
                }
            }
        };
        Processed::Por {
            status: S::PorOk,
            data,
            secured: true,
        }
    }

    /// The counter policy in force (replays answered 02; see `ota::CounterPolicy`).
    pub(crate) fn counter_policy(&self) -> CounterPolicy {
        CounterPolicy::STANDARD
    }

    /// Build the PoR TP-UD (`02 71 00 …`); falls back to an unsecured PoR when the key set
    /// cannot provide the requested security.
    fn por_ud(
        &mut self,
        t: &PorTarget,
        status: ResponseStatus,
        data: Vec<u8>,
        secured: bool,
    ) -> Vec<u8> {
        let p = ResponsePacket::new(t.tar, t.counter, status).with_data(data);
        if secured {
            if let Some(i) = t.kvn.and_then(|k| self.keyset_index(k)) {
                if let Some((_, k)) = self.cat.keysets.get(i) {
                    if let Ok(ud) = p.seal(t.spi.por_security(), k) {
                        return ud;
                    }
                }
            }
        }
        p.seal_unsecured().unwrap_or_default()
    }

    fn send_por(
        &mut self,
        t: &PorTarget,
        status: ResponseStatus,
        data: Vec<u8>,
        secured: bool,
    ) -> R {
        let wanted = match t.spi.por {
            PorRequest::Always => true,
            PorRequest::OnError => status != ResponseStatus::PorOk,
            PorRequest::None | PorRequest::Reserved => false,
        };
        if !wanted {
            return Ok(Resp::ok());
        }
        let ud = self.por_ud(t, status, data, secured);
        if t.spi.por_transport == PorTransport::Submit && self.cat.supports(0x13) {
            self.queue_por_submit(t, &ud);
            return Ok(Resp::ok());
        }
        Ok(Resp::data(ud))
    }

    /// The PoR of a deferred (applet session) OTA message: always via SEND SHORT MESSAGE.
    pub(crate) fn send_deferred_por(&mut self, t: PorTarget, data: Vec<u8>) {
        if matches!(
            t.spi.por,
            PorRequest::None | PorRequest::Reserved | PorRequest::OnError
        ) {
            return;
        }
        let ud = self.por_ud(&t, ResponseStatus::PorOk, data, true);
        self.queue_por_submit(&t, &ud);
    }

    /// Split a PoR TP-UD into SMS-SUBMITs to the originator and queue them.
    fn queue_por_submit(&mut self, t: &PorTarget, ud: &[u8]) {
        let payload = match Udh::parse(ud) {
            Ok((_, used)) => ud.get(used..).unwrap_or(&[]),
            Err(_) => return,
        };
        self.cat.message_ref = self.cat.message_ref.wrapping_add(1);
        let r = self.cat.message_ref;
        let Ok(parts) = split(
            payload,
            &[InformationElement::new(IEI_RESPONSE_PACKET, vec![])],
            ConcatRef::Eight(r),
        ) else {
            return;
        };
        let mut tpdus = Vec::with_capacity(parts.len());
        for (i, part) in parts.into_iter().enumerate() {
            let mr = self.cat.message_ref.wrapping_add(i as u8);
            match SmsSubmit::ota(mr, t.originator.clone(), part).and_then(|s| s.emit()) {
                Ok(b) => tpdus.push(b),
                Err(_) => return,
            }
        }
        self.cat.message_ref = self.cat.message_ref.wrapping_add(tpdus.len() as u8);
        self.queue_send_sms(t.sc.clone(), tpdus);
    }
}
