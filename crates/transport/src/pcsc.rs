//! PC/SC readers through the system's PC/SC service (pcsc-lite on Linux, WinSCard on Windows),
//! using the `pcsc` crate. Only built with the cargo feature `pcsc`.
//!
//! The ATR is read from the card status (`SCardStatus`), because vpcd does not answer the ATR
//! attribute (interop notes §4.1). Cold reset is `SCardReconnect(UNPOWER_CARD)`, warm reset
//! `SCardReconnect(RESET_CARD)`.

use crate::{ResetKind, Transport, TransportError};
use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use std::ffi::{CStr, CString};
use std::time::Duration;

/// Which protocol to ask for when connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// Let the reader and card choose (T=0 or T=1).
    #[default]
    Any,
    /// T=0 only.
    T0,
    /// T=1 only.
    T1,
}

impl Protocol {
    fn flags(self) -> Protocols {
        match self {
            Protocol::Any => Protocols::ANY,
            Protocol::T0 => Protocols::T0,
            Protocol::T1 => Protocols::T1,
        }
    }
}

/// Connection options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectOptions {
    /// Exclusive access (other applications cannot use the card meanwhile).
    pub exclusive: bool,
    /// The protocol to use.
    pub protocol: Protocol,
}

/// Map a PC/SC error to a transport error, naming the reader.
fn map_err(reader: &str, e: pcsc::Error) -> TransportError {
    use pcsc::Error as E;
    match e {
        E::NoSmartcard | E::RemovedCard | E::UnpoweredCard | E::UnresponsiveCard | E::ResetCard => {
            TransportError::CardRemoved(format!("{reader}: {e}"))
        }
        E::ReaderUnavailable
        | E::UnknownReader
        | E::NoReadersAvailable
        | E::NoService
        | E::ServiceStopped => TransportError::ReaderGone(format!("{reader}: {e}")),
        E::Timeout => TransportError::Timeout(0),
        other => TransportError::Io(format!("{reader}: {other}")),
    }
}

/// The names of the readers PC/SC knows (empty when there are none).
pub fn list_readers() -> Result<Vec<String>, TransportError> {
    let ctx = Context::establish(Scope::User).map_err(|e| map_err("PC/SC", e))?;
    match ctx.list_readers_owned() {
        Ok(v) => Ok(v
            .into_iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(map_err("PC/SC", e)),
    }
}

/// A reader's name and whether a card is in it (with the ATR when one is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The PC/SC reader name.
    pub name: String,
    /// A card is present.
    pub present: bool,
    /// The ATR of the present card, if PC/SC reports it.
    pub atr: Vec<u8>,
}

/// List readers with card presence and ATR (one `SCardGetStatusChange` round).
pub fn reader_status() -> Result<Vec<ReaderInfo>, TransportError> {
    let ctx = Context::establish(Scope::User).map_err(|e| map_err("PC/SC", e))?;
    let names = match ctx.list_readers_owned() {
        Ok(v) => v,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(map_err("PC/SC", e)),
    };
    let mut states: Vec<ReaderState> = names
        .iter()
        .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::from_millis(0), &mut states)
        .map_err(|e| map_err("PC/SC", e))?;
    Ok(states
        .iter()
        .map(|s| ReaderInfo {
            name: s.name().to_string_lossy().into_owned(),
            present: s.event_state().contains(State::PRESENT),
            atr: if s.event_state().contains(State::PRESENT) {
                s.atr().to_vec()
            } else {
                Vec::new()
            },
        })
        .collect())
}

/// Resolve `NAME|INDEX` against the reader list: an index, an exact name, or a unique
/// case-insensitive substring ([`crate::readers::resolve_reader_in`]).
pub fn resolve_reader(spec: &str) -> Result<String, TransportError> {
    crate::readers::resolve_reader_in(spec, &list_readers()?)
}

/// A card in a PC/SC reader.
pub struct PcscCard {
    ctx: Context,
    card: Option<Card>,
    reader: CString,
    name: String,
    opts: ConnectOptions,
    atr: Vec<u8>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscCard")
            .field("reader", &self.name)
            .field("atr", &self.atr)
            .finish()
    }
}

impl PcscCard {
    /// Connect to the card in `reader` (a name from [`list_readers`]).
    pub fn connect(reader: &str, opts: ConnectOptions) -> Result<Self, TransportError> {
        let ctx = Context::establish(Scope::User).map_err(|e| map_err(reader, e))?;
        let cname = CString::new(reader)
            .map_err(|_| TransportError::ReaderGone(format!("{reader:?}: NUL in name")))?;
        let share = if opts.exclusive {
            ShareMode::Exclusive
        } else {
            ShareMode::Shared
        };
        let card = ctx
            .connect(&cname, share, opts.protocol.flags())
            .map_err(|e| map_err(reader, e))?;
        let mut c = PcscCard {
            ctx,
            card: Some(card),
            reader: cname,
            name: reader.to_string(),
            opts,
            atr: Vec::new(),
            buf: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        };
        c.atr = c.read_atr()?;
        Ok(c)
    }

    /// Wait up to `timeout` for a card in `reader`, then connect.
    pub fn wait_and_connect(
        reader: &str,
        opts: ConnectOptions,
        timeout: Duration,
    ) -> Result<Self, TransportError> {
        let ctx = Context::establish(Scope::User).map_err(|e| map_err(reader, e))?;
        let cname = CString::new(reader)
            .map_err(|_| TransportError::ReaderGone(format!("{reader:?}: NUL in name")))?;
        let mut st = [ReaderState::new(cname, State::UNAWARE)];
        let deadline = std::time::Instant::now() + timeout;
        loop {
            ctx.get_status_change(Some(Duration::from_millis(0)), &mut st)
                .map_err(|e| map_err(reader, e))?;
            if st[0].event_state().contains(State::PRESENT) {
                break;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(TransportError::Timeout(timeout.as_millis() as u64));
            }
            st[0].sync_current_state();
            match ctx.get_status_change(Some(left), &mut st) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(map_err(reader, e)),
            }
            if st[0].event_state().contains(State::PRESENT) {
                break;
            }
        }
        Self::connect(reader, opts)
    }

    /// The active protocol as text (`T=0`, `T=1`, or `raw`).
    pub fn protocol(&self) -> Option<&'static str> {
        let card = self.card.as_ref()?;
        let st = card.status2_owned().ok()?;
        match st.protocol2()? {
            pcsc::Protocol::T0 => Some("T=0"),
            pcsc::Protocol::T1 => Some("T=1"),
            pcsc::Protocol::RAW => Some("raw"),
        }
    }

    fn card(&self) -> Result<&Card, TransportError> {
        self.card
            .as_ref()
            .ok_or_else(|| TransportError::CardRemoved(format!("{}: disconnected", self.name)))
    }

    fn read_atr(&self) -> Result<Vec<u8>, TransportError> {
        let st = self
            .card()?
            .status2_owned()
            .map_err(|e| map_err(&self.name, e))?;
        Ok(st.atr().to_vec())
    }

    /// Disconnect, leaving the card powered (`SCardDisconnect(LEAVE_CARD)`).
    pub fn disconnect(&mut self) -> Result<(), TransportError> {
        if let Some(c) = self.card.take() {
            c.disconnect(Disposition::LeaveCard)
                .map_err(|(_, e)| map_err(&self.name, e))?;
        }
        Ok(())
    }

    /// Whether the PC/SC context is still valid (pcscd still running).
    pub fn is_valid(&self) -> bool {
        self.ctx.is_valid().is_ok()
    }

    /// The reader name as a C string.
    pub fn reader(&self) -> &CStr {
        &self.reader
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        let _ = self.disconnect();
    }
}

impl Transport for PcscCard {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let card = self
            .card
            .as_ref()
            .ok_or_else(|| TransportError::CardRemoved(format!("{}: disconnected", self.name)))?;
        let r = card
            .transmit(capdu, &mut self.buf)
            .map_err(|e| map_err(&self.name, e))?;
        if r.len() < 2 {
            return Err(TransportError::Protocol(format!(
                "{}: R-APDU of {} byte(s) has no SW1 SW2",
                self.name,
                r.len()
            )));
        }
        Ok(r.to_vec())
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        let disp = match kind {
            ResetKind::Cold => Disposition::UnpowerCard,
            ResetKind::Warm => Disposition::ResetCard,
        };
        let share = if self.opts.exclusive {
            ShareMode::Exclusive
        } else {
            ShareMode::Shared
        };
        let proto = self.opts.protocol.flags();
        let name = self.name.clone();
        let card = self
            .card
            .as_mut()
            .ok_or_else(|| TransportError::CardRemoved(format!("{name}: disconnected")))?;
        card.reconnect(share, proto, disp)
            .map_err(|e| map_err(&name, e))?;
        self.atr = self.read_atr()?;
        Ok(self.atr.clone())
    }
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}
