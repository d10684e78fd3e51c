//! ENVELOPE commands from the terminal to the UICC (TS 102 223 §7; TS 31.111 §7): SMS-PP
//! data download (`D1`), menu selection (`D3`), event download (`D6`), others kept raw.

use super::objects::{
    parse_objects, Address, DataObject, DeviceId, DeviceIdentities, EventList, EventType, ItemId,
    Objs, SmsTpdu,
};
use super::proactive::{emit_template, template_header, template_len};
use super::{tags, CatError};
use apdu::tlv::{CompTlv, LenForm};

/// What an envelope carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// SMS-PP data download (`D1`, TS 31.111 §7.1.1): optional RP originating (SC) address
    /// and the SMS-DELIVER TPDU.
    SmsPpDownload {
        /// Service centre address.
        address: Option<Address>,
        /// The SMS-DELIVER TPDU (TS 23.040).
        tpdu: Vec<u8>,
    },
    /// Menu selection (`D3`, TS 102 223 §7.2).
    MenuSelection {
        /// The chosen item.
        item_id: u8,
        /// The user asked for help on it.
        help_request: bool,
    },
    /// Event download (`D6`, TS 102 223 §7.5): the event and its event-specific objects.
    EventDownload {
        /// The event list (one event).
        events: Vec<EventType>,
        /// Event-specific objects (location status, language, …).
        other: Vec<CompTlv>,
    },
    /// Any other envelope template, objects kept.
    Other {
        /// The template tag.
        tag: u8,
        /// Its objects (device identities included).
        objects: Vec<CompTlv>,
    },
}

/// An ENVELOPE data field (BER-TLV template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    tag: u8,
    devices: Option<DeviceIdentities>,
    kind: EnvelopeKind,
    objects: Vec<CompTlv>,
    len_form: LenForm,
}

impl Envelope {
    /// Menu selection from the keypad (`01`) to the UICC.
    pub fn menu_selection(item_id: u8, help_request: bool) -> Self {
        Self::build(
            DeviceIdentities::new(DeviceId::Keypad, DeviceId::Uicc),
            EnvelopeKind::MenuSelection {
                item_id,
                help_request,
            },
        )
    }

    /// Event download of one event; the source is the display (`02`) for idle screen
    /// available and the terminal (`82`) otherwise (TS 102 223 §7.5).
    pub fn event_download(event: EventType, other: Vec<CompTlv>) -> Self {
        let src = if event == EventType::IdleScreenAvailable {
            DeviceId::Display
        } else {
            DeviceId::Terminal
        };
        Self::build(
            DeviceIdentities::new(src, DeviceId::Uicc),
            EnvelopeKind::EventDownload {
                events: vec![event],
                other,
            },
        )
    }

    /// Build with explicit device identities. (To build an SMS-PP download ENVELOPE, use
    /// [`crate::envelope::SmsPpDownload`], which also checks the short-APDU size limit.)
    pub fn build(devices: DeviceIdentities, kind: EnvelopeKind) -> Self {
        let (tag, objects) = match &kind {
            EnvelopeKind::SmsPpDownload { address, tpdu } => {
                let mut v = vec![devices.to_tlv()];
                // TS 31.124 §27.22.5 sequences send the address with CR = 0 (`06`).
                v.extend(address.as_ref().map(|a| {
                    let mut t = a.to_tlv();
                    t.tag.cr = false;
                    t
                }));
                v.push(SmsTpdu(tpdu.clone()).to_tlv());
                (tags::SMS_PP_DOWNLOAD, v)
            }
            EnvelopeKind::MenuSelection {
                item_id,
                help_request,
            } => {
                let mut v = vec![devices.to_tlv(), ItemId(*item_id).to_tlv()];
                if *help_request {
                    v.push(CompTlv::new(tags::HELP_REQUEST, false, Vec::new()));
                }
                (tags::MENU_SELECTION, v)
            }
            EnvelopeKind::EventDownload { events, other } => {
                let mut v = vec![EventList(events.clone()).to_tlv(), devices.to_tlv()];
                v.extend(other.iter().cloned());
                (tags::EVENT_DOWNLOAD, v)
            }
            EnvelopeKind::Other { tag, objects } => (*tag, objects.clone()),
        };
        Envelope {
            tag,
            devices: Some(devices),
            kind,
            objects,
            len_form: LenForm::Minimal,
        }
    }

    /// Parse an ENVELOPE data field.
    pub fn parse(b: &[u8]) -> Result<Self, CatError> {
        let (tag, len_form, start, end) = template_header(b, "envelope")?;
        let objs = parse_objects(b.get(start..end).unwrap_or_default(), start)?;
        let mut o = Objs::new(&objs, "envelope");
        let (devices, kind) = match tag {
            tags::SMS_PP_DOWNLOAD => {
                let d = o.require()?;
                let address = o.take()?;
                let tpdu = o.require::<SmsTpdu>()?.0;
                (Some(d), EnvelopeKind::SmsPpDownload { address, tpdu })
            }
            tags::MENU_SELECTION => {
                let d = o.require()?;
                let item_id = o.require::<ItemId>()?.0;
                let help_request = o.flag(tags::HELP_REQUEST, "help request")?;
                (
                    Some(d),
                    EnvelopeKind::MenuSelection {
                        item_id,
                        help_request,
                    },
                )
            }
            tags::EVENT_DOWNLOAD => {
                let events = o.require::<EventList>()?.0;
                let d = o.require()?;
                (
                    Some(d),
                    EnvelopeKind::EventDownload {
                        events,
                        other: Vec::new(),
                    },
                )
            }
            _ => (
                o.take()?,
                EnvelopeKind::Other {
                    tag,
                    objects: Vec::new(),
                },
            ),
        };
        let rest = o.rest();
        let kind = match kind {
            EnvelopeKind::EventDownload { events, .. } => EnvelopeKind::EventDownload {
                events,
                other: rest,
            },
            EnvelopeKind::Other { tag, .. } => EnvelopeKind::Other {
                tag,
                objects: objs.iter().map(|l| l.tlv.clone()).collect(),
            },
            k => k,
        };
        let objects = objs.into_iter().map(|l| l.tlv).collect();
        Ok(Envelope {
            tag,
            devices,
            kind,
            objects,
            len_form,
        })
    }

    /// The template tag (`D1`, `D3`, `D6`, …).
    pub fn tag(&self) -> u8 {
        self.tag
    }
    /// Device identities.
    pub fn devices(&self) -> Option<DeviceIdentities> {
        self.devices
    }
    /// The typed content.
    pub fn kind(&self) -> &EnvelopeKind {
        &self.kind
    }
    /// The objects as sent.
    pub fn objects(&self) -> &[CompTlv] {
        &self.objects
    }
    /// The envelope bytes (the ENVELOPE C-APDU data field).
    pub fn emit(&self) -> Vec<u8> {
        emit_template(self.tag, &self.objects, self.len_form)
    }
    /// Number of bytes [`Envelope::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        template_len(&self.objects, self.len_form)
    }
}
