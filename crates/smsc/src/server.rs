//! The SMPP server: one thread per ESME session (std threads — the workspace has no async
//! runtime), sessions bounded by [`ServerConfig::max_sessions`].
//!
//! Per session (SMPP 3.4 §2.2 session states): OPEN → bind_* → BOUND_TX/RX/TRX → unbind →
//! closed. Every request gets its response or a generic_nack (§4.3) and the session lives
//! on, except when command_length itself is impossible (< 16 or > [`MAX_PDU_LEN`]): the
//! framing is lost, so the server answers generic_nack ESME_RINVCMDLEN and closes.

use crate::fleet::{CardFactory, Fleet, FleetConfig, FleetError};
use crate::pdu::{self, cmd, status, Body, Pdu, ShortMessage, Tlv, HEADER_LEN, MAX_PDU_LEN};
use crate::store::FleetStore;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use subtle::ConstantTimeEq;

/// The SMSC's own system_id in bind responses.
pub const SMSC_SYSTEM_ID: &str = "simota";

/// Server settings.
#[derive(Clone)]
pub struct ServerConfig {
    /// Address to listen on (default 127.0.0.1:2775).
    pub listen: SocketAddr,
    /// system_id an ESME must bind with.
    pub system_id: String,
    /// Its password.
    pub password: String,
    /// Sessions served at once; further connections are closed at once.
    pub max_sessions: usize,
    /// The fleet.
    pub fleet: FleetConfig,
    /// Log sessions and messages to stderr.
    pub verbose: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("system_id", &self.system_id)
            .field("password", &"<hidden>")
            .field("max_sessions", &self.max_sessions)
            .field("fleet", &self.fleet)
            .finish()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2775)),
            system_id: "test".into(),
            password: "test".into(),
            max_sessions: 64,
            fleet: FleetConfig::default(),
            verbose: false,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The default credentials on a non-loopback address.
    #[error(
        "--listen {0}: the default credentials test/test are accepted only on a loopback \
         address; set --system-id and --password to listen on {0}"
    )]
    DefaultCredentials(SocketAddr),
    /// An empty system_id or password, or one longer than SMPP allows (15 / 8 characters).
    #[error("{0}")]
    Credentials(String),
    /// Socket error.
    #[error("--listen {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: io::Error,
    },
}

/// Bound state of a session (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Open,
    Tx,
    Rx,
    Trx,
}

/// A session that can receive deliver_sm.
struct Outlet {
    session: u64,
    writer: Arc<Mutex<TcpStream>>,
    seq: Arc<AtomicU32>,
}

struct Shared {
    config: ServerConfig,
    fleet: Fleet,
    active: AtomicUsize,
    next_session: AtomicU64,
    next_message: AtomicU64,
    receivers: Mutex<Vec<Outlet>>,
}

/// A listening SMSC.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listen", &self.listener.local_addr().ok())
            .finish()
    }
}

impl Server {
    /// Check the settings and listen. Refuses the default credentials `test`/`test` on any
    /// address that is not loopback.
    pub fn bind(config: ServerConfig, factory: CardFactory) -> Result<Server, ServerError> {
        Server::bind_with_store(config, factory, None)
    }

    /// [`Server::bind`] with the cards' state in `store` (`None`: memory only): cards resume
    /// from their saved state, and a card's changed state is saved before the message that
    /// changed it is acknowledged (submit_sm_resp and PoR deliver_sm).
    pub fn bind_with_store(
        config: ServerConfig,
        factory: CardFactory,
        store: Option<Arc<dyn FleetStore>>,
    ) -> Result<Server, ServerError> {
        if config.system_id.is_empty() || config.system_id.len() > 15 {
            return Err(ServerError::Credentials(
                "--system-id: 1 to 15 characters (SMPP 3.4 §4.1.1)".into(),
            ));
        }
        if config.password.is_empty() || config.password.len() > 8 {
            return Err(ServerError::Credentials(
                "--password: 1 to 8 characters (SMPP 3.4 §4.1.1)".into(),
            ));
        }
        if !config.listen.ip().is_loopback()
            && config.system_id == "test"
            && config.password == "test"
        {
            return Err(ServerError::DefaultCredentials(config.listen));
        }
        let listener = TcpListener::bind(config.listen).map_err(|source| ServerError::Io {
            addr: config.listen,
            source,
        })?;
        let fleet = Fleet::with_store(config.fleet, factory, store);
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                config,
                fleet,
                active: AtomicUsize::new(0),
                next_session: AtomicU64::new(1),
                next_message: AtomicU64::new(1),
                receivers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The address actually listened on (port 0 → the port chosen).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accept and serve sessions until the listener fails.
    pub fn serve(self) -> io::Result<()> {
        for conn in self.listener.incoming() {
            let stream = match conn {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => continue, // e.g. EMFILE: keep serving the sessions we have
            };
            let sh = self.shared.clone();
            if sh.active.fetch_add(1, Ordering::SeqCst) >= sh.config.max_sessions {
                sh.active.fetch_sub(1, Ordering::SeqCst);
                if sh.config.verbose {
                    eprintln!(
                        "smsc: session refused: {} sessions open",
                        sh.config.max_sessions
                    );
                }
                drop(stream);
                continue;
            }
            let id = sh.next_session.fetch_add(1, Ordering::Relaxed);
            std::thread::spawn(move || {
                let _ = session(&sh, id, stream);
                if let Ok(mut r) = sh.receivers.lock() {
                    r.retain(|o| o.session != id);
                }
                sh.active.fetch_sub(1, Ordering::SeqCst);
                if sh.config.verbose {
                    eprintln!("smsc: session {id} closed");
                }
            });
        }
        Ok(())
    }
}

fn send(w: &Mutex<TcpStream>, p: &Pdu) -> io::Result<()> {
    let b = p.emit();
    let mut s = w
        .lock()
        .map_err(|_| io::Error::other("writer lock poisoned"))?;
    s.write_all(&b)
}

/// Read one PDU's bytes. `Ok(None)` at a clean end of stream; `Err` on a broken stream.
/// `Ok(Some(Err(len)))` when command_length is impossible.
fn read_pdu(r: &mut impl Read) -> io::Result<Option<Result<Vec<u8>, u32>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = u32::from_be_bytes(len);
    if (n as usize) < HEADER_LEN || n as usize > MAX_PDU_LEN {
        return Ok(Some(Err(n)));
    }
    let mut b = vec![0u8; n as usize];
    b[..4].copy_from_slice(&len);
    r.read_exact(&mut b[4..])?;
    Ok(Some(Ok(b)))
}

fn nack(seq: u32, st: u32) -> Pdu {
    Pdu {
        status: st,
        sequence: seq,
        body: Body::GenericNack,
    }
}

fn session(sh: &Shared, id: u64, stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    let out_seq = Arc::new(AtomicU32::new(1));
    let mut reader = io::BufReader::new(stream);
    let mut bound = Bound::Open;
    let verbose = sh.config.verbose;
    loop {
        let bytes = match read_pdu(&mut reader)? {
            None => return Ok(()),
            Some(Err(n)) => {
                if verbose {
                    eprintln!("smsc: session {id}: command_length {n}: framing lost, closing");
                }
                send(&writer, &nack(0, status::RINVCMDLEN))?;
                return Ok(());
            }
            Some(Ok(b)) => b,
        };
        let pdu = match Pdu::parse(&bytes) {
            Ok(p) => p,
            Err(e) => {
                let seq = pdu::Header::parse(&bytes)
                    .map(|(h, _)| h.sequence)
                    .unwrap_or(0);
                if verbose {
                    eprintln!("smsc: session {id}: bad PDU: {e}");
                }
                send(&writer, &nack(seq, e.status()))?;
                continue;
            }
        };
        let seq = pdu.sequence;
        let reply = |st: u32, body: Body| Pdu {
            status: st,
            sequence: seq,
            body,
        };
        match pdu.body {
            Body::BindTransmitter(b) | Body::BindReceiver(b) | Body::BindTransceiver(b) => {
                let (kind, cid) = match bytes.get(4..8) {
                    Some([0, 0, 0, 1]) => (Bound::Rx, cmd::BIND_RECEIVER),
                    Some([0, 0, 0, 2]) => (Bound::Tx, cmd::BIND_TRANSMITTER),
                    _ => (Bound::Trx, cmd::BIND_TRANSCEIVER),
                };
                let st = if bound != Bound::Open {
                    status::RALYBND
                } else if !bool::from(b.system_id.as_bytes().ct_eq(sh.config.system_id.as_bytes()))
                {
                    status::RINVSYSID
                } else if !bool::from(b.password.as_bytes().ct_eq(sh.config.password.as_bytes())) {
                    status::RINVPASWD
                } else {
                    status::ROK
                };
                if st == status::ROK {
                    bound = kind;
                    if matches!(kind, Bound::Rx | Bound::Trx) {
                        if let Ok(mut r) = sh.receivers.lock() {
                            r.push(Outlet {
                                session: id,
                                writer: writer.clone(),
                                seq: out_seq.clone(),
                            });
                        }
                    }
                }
                if verbose {
                    eprintln!(
                        "smsc: session {id}: bind {kind:?} as {:?}: status {st:#04X}",
                        b.system_id
                    );
                }
                send(
                    &writer,
                    &reply(
                        st,
                        Body::BindResp {
                            command_id: cid | cmd::RESP,
                            system_id: SMSC_SYSTEM_ID.into(),
                        },
                    ),
                )?;
            }
            Body::EnquireLink => send(&writer, &reply(status::ROK, Body::EnquireLinkResp))?,
            Body::Unbind => {
                send(&writer, &reply(status::ROK, Body::UnbindResp))?;
                return Ok(());
            }
            Body::SubmitSm(m) => {
                if !matches!(bound, Bound::Tx | Bound::Trx) {
                    send(
                        &writer,
                        &reply(status::RINVBNDSTS, Body::SubmitSmResp(String::new())),
                    )?;
                    continue;
                }
                let submitted = SystemTime::now();
                let (st, mid, por) = submit(sh, id, &m);
                send(&writer, &reply(st, Body::SubmitSmResp(mid.clone())))?;
                if let Some((from, ud)) = por {
                    deliver_por(sh, id, &writer, &out_seq, bound, &m, from, ud)?;
                }
                // §5.2.17: bits 1..0 = 01 asks for a receipt on final outcome, success or not.
                if st == status::ROK && m.registered_delivery & 0x03 == 0x01 {
                    let body = receipt(&m, &mid, submitted);
                    deliver_to(sh, id, &writer, &out_seq, bound, body)?;
                }
            }
            // Responses to our deliver_sm, and nacks of them: nothing to do.
            Body::DeliverSmResp
            | Body::GenericNack
            | Body::EnquireLinkResp
            | Body::UnbindResp
            | Body::BindResp { .. }
            | Body::SubmitSmResp(_) => {}
            Body::DeliverSm(_) => {
                send(&writer, &reply(status::RINVCMDID, Body::GenericNack))?;
            }
            Body::Other { command_id, .. } => {
                if command_id & cmd::RESP == 0 {
                    if verbose {
                        eprintln!("smsc: session {id}: command_id {command_id:#010X} not served");
                    }
                    send(&writer, &nack(seq, status::RINVCMDID))?;
                }
            }
        }
    }
}

type Por = Option<(String, Vec<u8>)>;

/// Run one submit_sm against its card: (command_status, message_id, PoR to send back).
fn submit(sh: &Shared, session: u64, m: &ShortMessage) -> (u32, String, Por) {
    let fail = |st: u32| (st, String::new(), None);
    if sh.fleet.route(&m.destination_addr).is_none() {
        return fail(status::RINVDSTADR);
    }
    if m.esm_class & pdu::ESM_UDHI == 0 {
        return fail(status::RINVESMCLASS);
    }
    if m.protocol_id != 0x7F {
        // Only SIM data download (TS 23.040 §9.2.3.9) reaches the card in this version.
        return fail(status::RSUBMITFAIL);
    }
    let ud = m.payload();
    if ud.is_empty() || ud.len() > 140 {
        return fail(status::RINVMSGLEN);
    }
    let r = match sh.fleet.with_card(&m.destination_addr, |c| {
        (c.deliver(ud), c.id.msisdn.clone())
    }) {
        Ok(r) => r,
        Err(FleetError::UnknownMsisdn(_)) => return fail(status::RINVDSTADR),
        Err(e) => {
            if sh.config.verbose {
                eprintln!("smsc: session {session}: {e}");
            }
            return fail(status::RSYSERR);
        }
    };
    let (r, msisdn) = r;
    let mid = format!("{:x}", sh.next_message.fetch_add(1, Ordering::Relaxed));
    match r {
        Ok(d) => {
            if sh.config.verbose {
                let sws: Vec<String> = d.envelope_sws.iter().map(|s| format!("{s:04X}")).collect();
                eprintln!(
                    "smsc: session {session}: message {mid} to {msisdn}: ENVELOPE {} PoR {}",
                    sws.join(" "),
                    d.por
                        .as_ref()
                        .map_or("none".into(), |p| apdu::hex::encode(p))
                );
            }
            (status::ROK, mid, d.por.map(|p| (msisdn, p)))
        }
        Err(e) => {
            if sh.config.verbose {
                eprintln!("smsc: session {session}: to {msisdn}: {e}");
            }
            fail(status::RSUBMITFAIL)
        }
    }
}

/// Send a card's PoR as deliver_sm (see [`deliver_to`]).
#[allow(clippy::too_many_arguments)]
fn deliver_por(
    sh: &Shared,
    session: u64,
    writer: &Arc<Mutex<TcpStream>>,
    seq: &Arc<AtomicU32>,
    bound: Bound,
    m: &ShortMessage,
    from: String,
    ud: Vec<u8>,
) -> io::Result<()> {
    let (short_message, tlvs) = if ud.len() <= 254 {
        (ud, Vec::new())
    } else {
        (
            Vec::new(),
            vec![Tlv {
                tag: pdu::tag::MESSAGE_PAYLOAD,
                value: ud,
            }],
        )
    };
    let body = Body::DeliverSm(ShortMessage {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: from,
        dest_addr_ton: m.source_addr_ton,
        dest_addr_npi: m.source_addr_npi,
        destination_addr: m.source_addr.clone(),
        esm_class: pdu::ESM_UDHI,
        protocol_id: 0x7F,
        data_coding: m.data_coding,
        short_message,
        tlvs,
        ..Default::default()
    });
    deliver_to(sh, session, writer, seq, bound, body)
}

/// `YYMMDDhhmm` in UTC (SMPP 3.4 Appendix B receipt dates).
fn receipt_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{:02}{m:02}{d:02}{:02}{:02}",
        y % 100,
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The delivery receipt for message `mid` (§4.6.1 esm_class xx0001xx, Appendix B text,
/// TLVs receipted_message_id §5.3.2.12 and message_state §5.3.2.35 = DELIVERED).
fn receipt(m: &ShortMessage, mid: &str, submitted: SystemTime) -> Body {
    let text = format!(
        "id:{mid} sub:001 dlvrd:001 submit date:{} done date:{} stat:DELIVRD err:000 text:",
        receipt_date(submitted),
        receipt_date(SystemTime::now())
    );
    let mut rid = mid.as_bytes().to_vec();
    rid.push(0);
    Body::DeliverSm(ShortMessage {
        source_addr_ton: m.dest_addr_ton,
        source_addr_npi: m.dest_addr_npi,
        source_addr: m.destination_addr.clone(),
        dest_addr_ton: m.source_addr_ton,
        dest_addr_npi: m.source_addr_npi,
        destination_addr: m.source_addr.clone(),
        esm_class: pdu::ESM_DELIVERY_RECEIPT,
        short_message: text.into_bytes(),
        tlvs: vec![
            Tlv {
                tag: pdu::tag::RECEIPTED_MESSAGE_ID,
                value: rid,
            },
            Tlv {
                tag: pdu::tag::MESSAGE_STATE,
                value: vec![pdu::MESSAGE_STATE_DELIVERED],
            },
        ],
        ..Default::default()
    })
}

/// Send a deliver_sm to the submitting session when it can receive, else to the first
/// other bound receiver.
fn deliver_to(
    sh: &Shared,
    session: u64,
    writer: &Arc<Mutex<TcpStream>>,
    seq: &Arc<AtomicU32>,
    bound: Bound,
    body: Body,
) -> io::Result<()> {
    let target = if matches!(bound, Bound::Trx) {
        Some((writer.clone(), seq.clone()))
    } else {
        sh.receivers.lock().ok().and_then(|r| {
            r.iter()
                .find(|o| o.session != session)
                .map(|o| (o.writer.clone(), o.seq.clone()))
        })
    };
    match target {
        Some((w, s)) => {
            let p = Pdu::new(s.fetch_add(1, Ordering::Relaxed), body);
            // A receiver that went away loses this PoR; the submitter's session is unaffected.
            let r = send(&w, &p);
            if Arc::ptr_eq(&w, writer) {
                r
            } else {
                Ok(())
            }
        }
        None => {
            if sh.config.verbose {
                eprintln!("smsc: session {session}: deliver_sm dropped: no receiver bound");
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn receipt_dates_are_utc_civil() {
        let at = |s: u64| receipt_date(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "7001010000");
        // 2000-02-29 12:34 UTC (leap day) and 2026-12-03 17:05 UTC.
        assert_eq!(at(951_827_640), "0002291234");
        assert_eq!(at(1_796_317_500), "2612031705");
    }
}
