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

/// The default [`ServerConfig::window`].
pub const DEFAULT_WINDOW: usize = 100;

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
    /// The window: deliver_sm / data_sm the SMSC has sent to a session and not yet had
    /// answered (SMPP 3.4 §2.6). At the window, a new submit_sm / submit_multi / data_sm whose
    /// PoR would go to that session gets ESME_RTHROTTLED (0x58) and its card is not touched.
    pub window: usize,
    /// The fleet.
    pub fleet: FleetConfig,
    /// Cards live at once (made, with their phone); the least recently used beyond are
    /// parked ([`Fleet::with_live_limit`]).
    pub live_cards: usize,
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
            .field("window", &self.window)
            .field("fleet", &self.fleet)
            .field("live_cards", &self.live_cards)
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
            window: DEFAULT_WINDOW,
            fleet: FleetConfig::default(),
            live_cards: crate::fleet::DEFAULT_LIVE_CARDS,
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
    writer: Arc<Mutex<Wire>>,
    seq: Arc<AtomicU32>,
}

struct Shared {
    config: ServerConfig,
    fleet: Arc<Fleet>,
    active: AtomicUsize,
    next_session: AtomicU64,
    next_message: AtomicU64,
    /// The concatenation reference of the next message the SMSC splits.
    next_concat_ref: std::sync::atomic::AtomicU8,
    receivers: Mutex<Vec<Outlet>>,
    messages: Mutex<MessageLog>,
}

/// How many messages the server remembers for query_sm (the oldest are forgotten first).
pub const MESSAGE_LOG_LEN: usize = 100_000;

/// The outcome of one message the server issued a message_id for (§4.8.2 fields).
struct MessageRecord {
    source: String,
    state: u8,
    final_date: String,
    error_code: u8,
}

/// The last [`MESSAGE_LOG_LEN`] messages, by message_id.
#[derive(Default)]
struct MessageLog {
    map: std::collections::HashMap<u64, MessageRecord>,
    order: std::collections::VecDeque<u64>,
}

impl Shared {
    /// Issue a message_id for a message from `source` that reached the cards in `done`
    /// (all its destinations that were accepted) and remember its outcome: DELIVERED when
    /// every card took it, UNDELIVERABLE (with the first failure's TP-FCS) when one did not,
    /// REJECTED when no destination was accepted.
    fn log_message(&self, source: &str, done: &[&Delivered]) -> String {
        let n = self.next_message.fetch_add(1, Ordering::Relaxed);
        let failed = done.iter().find(|d| d.state != pdu::state::DELIVERED);
        let (state, error_code) = match (done.is_empty(), failed) {
            (true, _) => (pdu::state::REJECTED, 0),
            (false, Some(d)) => (d.state, d.error_code),
            (false, None) => (pdu::state::DELIVERED, 0),
        };
        let rec = MessageRecord {
            source: source.into(),
            state,
            final_date: absolute_time(SystemTime::now()),
            error_code,
        };
        if let Ok(mut log) = self.messages.lock() {
            log.map.insert(n, rec);
            log.order.push_back(n);
            while log.order.len() > MESSAGE_LOG_LEN {
                if let Some(old) = log.order.pop_front() {
                    log.map.remove(&old);
                }
            }
        }
        format!("{n:x}")
    }

    /// The query_sm_resp for `q`, or `None` (ESME_RQUERYFAIL) when the message_id was not
    /// issued here (or is forgotten) or source_addr is not the message's.
    fn query(&self, q: &pdu::QuerySm) -> Option<pdu::QuerySmResp> {
        let id = q.message_id.as_str();
        if id.is_empty() || id.len() > 16 || !id.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let n = u64::from_str_radix(id, 16).ok()?;
        let log = self.messages.lock().ok()?;
        let rec = log.map.get(&n).filter(|r| r.source == q.source_addr)?;
        Some(pdu::QuerySmResp {
            message_id: q.message_id.clone(),
            final_date: rec.final_date.clone(),
            message_state: rec.state,
            error_code: rec.error_code,
        })
    }
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
        let fleet = Arc::new(
            Fleet::with_store(config.fleet, factory, store).with_live_limit(config.live_cards),
        );
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                config,
                fleet,
                active: AtomicUsize::new(0),
                next_session: AtomicU64::new(1),
                next_message: AtomicU64::new(1),
                next_concat_ref: std::sync::atomic::AtomicU8::new(1),
                receivers: Mutex::new(Vec::new()),
                messages: Mutex::new(MessageLog::default()),
            }),
        })
    }

    /// The fleet behind the server (to watch live and parked cards).
    pub fn fleet(&self) -> Arc<Fleet> {
        self.shared.fleet.clone()
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

/// A session's outgoing side. While the session handles one incoming PDU, what it sends
/// is held and goes out in one write when it is done (a submit_sm_resp and its PoR
/// deliver_sm in one TCP segment: one wake-up of the ESME, not two); at any other time —
/// another session delivering to this receiver while this one waits for input — a PDU goes
/// out at once.
struct Wire {
    stream: TcpStream,
    held: Vec<u8>,
    hold: bool,
    /// deliver_sm / data_sm sent on this session and not yet answered (SMPP 3.4 §2.6: the
    /// window of outstanding requests).
    unacked: usize,
}

impl Wire {
    fn new(stream: TcpStream) -> Wire {
        Wire {
            stream,
            held: Vec::new(),
            hold: false,
            unacked: 0,
        }
    }
}

fn lock_wire(w: &Mutex<Wire>) -> io::Result<std::sync::MutexGuard<'_, Wire>> {
    w.lock()
        .map_err(|_| io::Error::other("writer lock poisoned"))
}

fn send(w: &Mutex<Wire>, p: &Pdu) -> io::Result<()> {
    let b = p.emit();
    let mut s = lock_wire(w)?;
    if s.hold {
        s.held.extend_from_slice(&b);
        Ok(())
    } else {
        s.stream.write_all(&b)
    }
}

/// Send a request the ESME must answer (deliver_sm, data_sm): counted against the window
/// until its response comes ([`answered`]).
fn send_request(w: &Mutex<Wire>, p: &Pdu) -> io::Result<()> {
    lock_wire(w)?.unacked += 1;
    send(w, p)
}

/// The ESME answered one of our requests (or nacked it).
fn answered(w: &Mutex<Wire>) -> io::Result<()> {
    let mut s = lock_wire(w)?;
    s.unacked = s.unacked.saturating_sub(1);
    Ok(())
}

/// Hold what the session sends until [`release`].
fn hold(w: &Mutex<Wire>) -> io::Result<()> {
    lock_wire(w)?.hold = true;
    Ok(())
}

/// Write what was held, in one write, and send at once from now on.
fn release(w: &Mutex<Wire>) -> io::Result<()> {
    let mut s = lock_wire(w)?;
    s.hold = false;
    if s.held.is_empty() {
        return Ok(());
    }
    let held = std::mem::take(&mut s.held);
    let r = s.stream.write_all(&held);
    // Keep the buffer's allocation for the next PDU.
    s.held = held;
    s.held.clear();
    r
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
    let writer = Arc::new(Mutex::new(Wire::new(stream.try_clone()?)));
    let r = session_loop(sh, id, io::BufReader::new(stream), &writer);
    // Whatever the way out (unbind, framing lost), what was held goes out first.
    let f = release(&writer);
    r.and(f)
}

fn session_loop(
    sh: &Shared,
    id: u64,
    mut reader: io::BufReader<TcpStream>,
    writer: &Arc<Mutex<Wire>>,
) -> io::Result<()> {
    let out_seq = Arc::new(AtomicU32::new(1));
    let mut bound = Bound::Open;
    let verbose = sh.config.verbose;
    loop {
        // Answers to the previous PDU go out before the session waits for the next one.
        release(writer)?;
        let next = read_pdu(&mut reader)?;
        hold(writer)?;
        let bytes = match next {
            None => return Ok(()),
            Some(Err(n)) => {
                if verbose {
                    eprintln!("smsc: session {id}: command_length {n}: framing lost, closing");
                }
                send(writer, &nack(0, status::RINVCMDLEN))?;
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
                send(writer, &nack(seq, e.status()))?;
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
                    writer,
                    &reply(
                        st,
                        Body::BindResp {
                            command_id: cid | cmd::RESP,
                            system_id: SMSC_SYSTEM_ID.into(),
                        },
                    ),
                )?;
            }
            Body::EnquireLink => send(writer, &reply(status::ROK, Body::EnquireLinkResp))?,
            Body::Unbind => {
                send(writer, &reply(status::ROK, Body::UnbindResp))?;
                return Ok(());
            }
            Body::SubmitSm(m) => {
                if !matches!(bound, Bound::Tx | Bound::Trx) {
                    send(
                        writer,
                        &reply(status::RINVBNDSTS, Body::SubmitSmResp(String::new())),
                    )?;
                    continue;
                }
                if throttled(sh, id, writer, &out_seq, bound) {
                    send(
                        writer,
                        &reply(status::RTHROTTLED, Body::SubmitSmResp(String::new())),
                    )?;
                    continue;
                }
                let out = Out {
                    sh,
                    session: id,
                    writer,
                    seq: &out_seq,
                    bound,
                };
                let submitted = SystemTime::now();
                let job = Job::from_sm(&m);
                match deliver(sh, id, &job) {
                    Err(st) => send(writer, &reply(st, Body::SubmitSmResp(String::new())))?,
                    Ok(d) => {
                        let mid = sh.log_message(&m.source_addr, &[&d]);
                        send(writer, &reply(status::ROK, Body::SubmitSmResp(mid.clone())))?;
                        out.after_delivery(
                            &job,
                            &d,
                            &mid,
                            submitted,
                            m.registered_delivery,
                            false,
                        )?;
                    }
                }
            }
            Body::SubmitMulti(sm) => {
                let resp = |st: u32, message_id: String, unsuccess: Vec<pdu::UnsuccessSme>| {
                    reply(
                        st,
                        Body::SubmitMultiResp {
                            message_id,
                            unsuccess,
                        },
                    )
                };
                if !matches!(bound, Bound::Tx | Bound::Trx) {
                    send(writer, &resp(status::RINVBNDSTS, String::new(), vec![]))?;
                    continue;
                }
                if throttled(sh, id, writer, &out_seq, bound) {
                    send(writer, &resp(status::RTHROTTLED, String::new(), vec![]))?;
                    continue;
                }
                if sm.dests.is_empty() || sm.dests.len() > 254 {
                    send(writer, &resp(status::RINVNUMDESTS, String::new(), vec![]))?;
                    continue;
                }
                let m = &sm.message;
                if let Err(st) = check_message(m.esm_class, m.protocol_id, m.payload(), &m.tlvs) {
                    send(writer, &resp(st, String::new(), vec![]))?;
                    continue;
                }
                let submitted = SystemTime::now();
                let mut unsuccess = Vec::new();
                let mut done = Vec::new();
                for dest in &sm.dests {
                    let (ton, npi, addr) = match dest {
                        pdu::DestAddress::Sme { ton, npi, addr } => (*ton, *npi, addr.clone()),
                        pdu::DestAddress::DistributionList(name) => {
                            // No distribution lists are defined on this SMSC.
                            unsuccess.push(pdu::UnsuccessSme {
                                ton: 0,
                                npi: 0,
                                addr: name.clone(),
                                error: status::RINVDLNAME,
                            });
                            continue;
                        }
                    };
                    let mut one = m.clone();
                    one.dest_addr_ton = ton;
                    one.dest_addr_npi = npi;
                    one.destination_addr = addr.clone();
                    match deliver(sh, id, &Job::from_sm(&one)) {
                        Ok(d) => done.push((one, d)),
                        Err(error) => unsuccess.push(pdu::UnsuccessSme {
                            ton,
                            npi,
                            addr,
                            error,
                        }),
                    }
                }
                let ds: Vec<&Delivered> = done.iter().map(|(_, d)| d).collect();
                let mid = sh.log_message(&m.source_addr, &ds);
                send(writer, &resp(status::ROK, mid.clone(), unsuccess))?;
                let out = Out {
                    sh,
                    session: id,
                    writer,
                    seq: &out_seq,
                    bound,
                };
                for (one, d) in &done {
                    let job = Job::from_sm(one);
                    out.after_delivery(&job, d, &mid, submitted, m.registered_delivery, false)?;
                }
            }
            Body::DataSm(dm) => {
                let resp = |st: u32, message_id: String| {
                    reply(
                        st,
                        Body::DataSmResp {
                            message_id,
                            tlvs: Vec::new(),
                        },
                    )
                };
                if !matches!(bound, Bound::Tx | Bound::Trx) {
                    send(writer, &resp(status::RINVBNDSTS, String::new()))?;
                    continue;
                }
                if throttled(sh, id, writer, &out_seq, bound) {
                    send(writer, &resp(status::RTHROTTLED, String::new()))?;
                    continue;
                }
                let submitted = SystemTime::now();
                let job = Job::from_data_sm(&dm);
                match deliver(sh, id, &job) {
                    // §4.7.2: a delivery that failed at the card is ESME_RDELIVERYFAILURE.
                    Err(status::RSUBMITFAIL) => {
                        send(writer, &resp(status::RDELIVERYFAILURE, String::new()))?
                    }
                    Err(st) => send(writer, &resp(st, String::new()))?,
                    Ok(d) => {
                        let mid = sh.log_message(&dm.source_addr, &[&d]);
                        send(writer, &resp(status::ROK, mid.clone()))?;
                        let out = Out {
                            sh,
                            session: id,
                            writer,
                            seq: &out_seq,
                            bound,
                        };
                        out.after_delivery(
                            &job,
                            &d,
                            &mid,
                            submitted,
                            dm.registered_delivery,
                            true,
                        )?;
                    }
                }
            }
            Body::QuerySm(q) => {
                if !matches!(bound, Bound::Tx | Bound::Trx) {
                    let r = reply(status::RINVBNDSTS, Body::QuerySmResp(Default::default()));
                    send(writer, &r)?;
                    continue;
                }
                let r = match sh.query(&q) {
                    Some(a) => reply(status::ROK, Body::QuerySmResp(a)),
                    None => reply(status::RQUERYFAIL, Body::QuerySmResp(Default::default())),
                };
                send(writer, &r)?;
            }
            // Responses to our deliver_sm / data_sm, and nacks of them: one less outstanding.
            Body::DeliverSmResp | Body::DataSmResp { .. } | Body::GenericNack => answered(writer)?,
            Body::EnquireLinkResp
            | Body::UnbindResp
            | Body::BindResp { .. }
            | Body::SubmitSmResp(_)
            | Body::SubmitMultiResp { .. }
            | Body::QuerySmResp(_) => {}
            Body::DeliverSm(_) => {
                send(writer, &reply(status::RINVCMDID, Body::GenericNack))?;
            }
            Body::Other { command_id, .. } => {
                if command_id & cmd::RESP == 0 {
                    if verbose {
                        eprintln!("smsc: session {id}: command_id {command_id:#010X} not served");
                    }
                    send(writer, &nack(seq, status::RINVCMDID))?;
                }
            }
        }
    }
}

/// One message to one card, whichever operation carried it (submit_sm, one destination of
/// a submit_multi, data_sm).
struct Job<'a> {
    source_ton: u8,
    source_npi: u8,
    source: &'a str,
    dest_ton: u8,
    dest_npi: u8,
    dest: &'a str,
    esm_class: u8,
    protocol_id: u8,
    data_coding: u8,
    ud: &'a [u8],
    tlvs: &'a [Tlv],
}

impl<'a> Job<'a> {
    fn from_sm(m: &'a ShortMessage) -> Job<'a> {
        Job {
            source_ton: m.source_addr_ton,
            source_npi: m.source_addr_npi,
            source: &m.source_addr,
            dest_ton: m.dest_addr_ton,
            dest_npi: m.dest_addr_npi,
            dest: &m.destination_addr,
            esm_class: m.esm_class,
            protocol_id: m.protocol_id,
            data_coding: m.data_coding,
            ud: m.payload(),
            tlvs: &m.tlvs,
        }
    }

    /// data_sm has no protocol_id field (§4.7.1): what it carries to a card is SIM data
    /// download (TS 23.040 §9.2.3.9 PID `7F`), the only kind of SMS the cards take.
    fn from_data_sm(m: &'a pdu::DataSm) -> Job<'a> {
        Job {
            source_ton: m.source_addr_ton,
            source_npi: m.source_addr_npi,
            source: &m.source_addr,
            dest_ton: m.dest_addr_ton,
            dest_npi: m.dest_addr_npi,
            dest: &m.destination_addr,
            esm_class: m.esm_class,
            protocol_id: 0x7F,
            data_coding: m.data_coding,
            ud: m.payload(),
            tlvs: &m.tlvs,
        }
    }
}

/// What one card did with one message.
struct Delivered {
    msisdn: String,
    /// message_state (§5.2.28): DELIVERED (RP-ACK) or UNDELIVERABLE (RP-ERROR).
    state: u8,
    /// The TP-FCS of an RP-ERROR, else 0.
    error_code: u8,
    por: Option<Vec<u8>>,
    mo: Vec<crate::fleet::MoMessage>,
}

/// The checks of the message itself (not its destination): esm_class UDHI, protocol_id
/// `7F`, user data present (more than 140 bytes are split by [`segments`]).
fn check_message(esm_class: u8, protocol_id: u8, ud: &[u8], tlvs: &[Tlv]) -> Result<(), u32> {
    let sar = tlvs.iter().any(|t| t.tag == pdu::tag::SAR_SEGMENT_SEQNUM);
    if esm_class & pdu::ESM_UDHI == 0 && !sar {
        return Err(status::RINVESMCLASS);
    }
    if protocol_id != 0x7F {
        // Only SIM data download (TS 23.040 §9.2.3.9) reaches the card in this version.
        return Err(status::RSUBMITFAIL);
    }
    if ud.is_empty() {
        return Err(status::RINVMSGLEN);
    }
    Ok(())
}

/// What the phone receives for one message: its TP-UD as it is when it fits one SMS (≤ 140
/// octets) or comes as a segment (sar_* TLVs, [`crate::sar`]); longer user data (a
/// message_payload, or a short_message of 141–254 octets) split into a concatenated SMS as
/// a real SMSC does (TS 23.040 §9.2.3.24.1, 8-bit reference `reference`): the first segment
/// keeps the message's own UDH IEs (e.g. `70 00`, TS 31.115 §4.2), every segment gets the
/// concatenation IE. Errors: ESME_RINVMSGLEN (a UDH that already holds a concatenation IE,
/// more than 255 segments), ESME_RSUBMITFAIL (a malformed UDH), and [`crate::sar::with_sar`]'s.
fn segments(ud: &[u8], udhi: bool, tlvs: &[Tlv], reference: u8) -> Result<Vec<Vec<u8>>, u32> {
    use ota::sms::udh::{Udh, IEI_CONCAT_16, IEI_CONCAT_8};
    let sar = tlvs.iter().any(|t| {
        matches!(
            t.tag,
            pdu::tag::SAR_MSG_REF_NUM | pdu::tag::SAR_TOTAL_SEGMENTS | pdu::tag::SAR_SEGMENT_SEQNUM
        )
    });
    if sar || ud.len() <= ota::sms::concat::MAX_UD {
        return crate::sar::with_sar(ud, udhi, tlvs).map(|u| vec![u]);
    }
    let (ies, body) = if udhi {
        let (u, n) = Udh::parse(ud).map_err(|_| status::RSUBMITFAIL)?;
        (u.ies, &ud[n..])
    } else {
        (Vec::new(), ud)
    };
    if ies
        .iter()
        .any(|ie| ie.iei == IEI_CONCAT_8 || ie.iei == IEI_CONCAT_16)
    {
        return Err(status::RINVMSGLEN);
    }
    ota::sms::concat::split(body, &ies, ota::sms::ConcatRef::Eight(reference))
        .map_err(|_| status::RINVMSGLEN)
}

/// Run one message against its card: what it did, or the command_status to answer.
fn deliver(sh: &Shared, session: u64, job: &Job) -> Result<Delivered, u32> {
    if sh.fleet.route(job.dest).is_none() {
        return Err(status::RINVDSTADR);
    }
    check_message(job.esm_class, job.protocol_id, job.ud, job.tlvs)?;
    let reference = sh.next_concat_ref.fetch_add(1, Ordering::Relaxed);
    let uds = segments(
        job.ud,
        job.esm_class & pdu::ESM_UDHI != 0,
        job.tlvs,
        reference,
    )?;
    let r = match sh.fleet.with_card(job.dest, |c| {
        (c.deliver_segments(&uds), c.id.msisdn.clone())
    }) {
        Ok(r) => r,
        Err(FleetError::UnknownMsisdn(_)) => return Err(status::RINVDSTADR),
        Err(e) => {
            if sh.config.verbose {
                eprintln!("smsc: session {session}: {e}");
            }
            return Err(status::RSYSERR);
        }
    };
    let (r, msisdn) = r;
    match r {
        Ok(d) => {
            if sh.config.verbose {
                let sws: Vec<String> = d.envelope_sws.iter().map(|s| format!("{s:04X}")).collect();
                eprintln!(
                    "smsc: session {session}: to {msisdn}: ENVELOPE {} PoR {}",
                    sws.join(" "),
                    d.por
                        .as_ref()
                        .map_or("none".into(), |p| apdu::hex::encode(p))
                );
            }
            Ok(Delivered {
                msisdn,
                state: if d.rp_error.is_some() {
                    pdu::state::UNDELIVERABLE
                } else {
                    pdu::state::DELIVERED
                },
                error_code: d.rp_error.unwrap_or(0),
                por: d.por,
                mo: d.mo,
            })
        }
        Err(e) => {
            if sh.config.verbose {
                eprintln!("smsc: session {session}: to {msisdn}: {e}");
            }
            Err(status::RSUBMITFAIL)
        }
    }
}

/// Where a session's deliver_sm / data_sm go.
struct Out<'a> {
    sh: &'a Shared,
    session: u64,
    writer: &'a Arc<Mutex<Wire>>,
    seq: &'a Arc<AtomicU32>,
    bound: Bound,
}

impl Out<'_> {
    fn send(&self, body: Body) -> io::Result<()> {
        deliver_to(
            self.sh,
            self.session,
            self.writer,
            self.seq,
            self.bound,
            body,
        )
    }

    /// After the response: the PoR (as data_sm when the message came as data_sm, else
    /// deliver_sm), the card's other MO messages (deliver_sm), the delivery receipt.
    fn after_delivery(
        &self,
        job: &Job,
        d: &Delivered,
        mid: &str,
        submitted: SystemTime,
        registered_delivery: u8,
        as_data_sm: bool,
    ) -> io::Result<()> {
        if let Some(ud) = &d.por {
            let body = if as_data_sm {
                Body::DataSm(pdu::DataSm {
                    source_addr_ton: 1,
                    source_addr_npi: 1,
                    source_addr: d.msisdn.clone(),
                    dest_addr_ton: job.source_ton,
                    dest_addr_npi: job.source_npi,
                    destination_addr: job.source.into(),
                    esm_class: pdu::ESM_UDHI,
                    data_coding: job.data_coding,
                    tlvs: vec![Tlv {
                        tag: pdu::tag::MESSAGE_PAYLOAD,
                        value: ud.clone(),
                    }],
                    ..Default::default()
                })
            } else {
                let (short_message, tlvs) = sm_or_payload(ud.clone());
                Body::DeliverSm(ShortMessage {
                    source_addr_ton: 1,
                    source_addr_npi: 1,
                    source_addr: d.msisdn.clone(),
                    dest_addr_ton: job.source_ton,
                    dest_addr_npi: job.source_npi,
                    destination_addr: job.source.into(),
                    esm_class: pdu::ESM_UDHI,
                    protocol_id: 0x7F,
                    data_coding: job.data_coding,
                    short_message,
                    tlvs,
                    ..Default::default()
                })
            };
            self.send(body)?;
        }
        for mo in &d.mo {
            let (short_message, tlvs) = sm_or_payload(mo.ud.clone());
            self.send(Body::DeliverSm(ShortMessage {
                source_addr_ton: 1,
                source_addr_npi: 1,
                source_addr: d.msisdn.clone(),
                dest_addr_ton: mo.ton,
                dest_addr_npi: mo.npi,
                destination_addr: mo.destination.clone(),
                esm_class: if mo.udhi { pdu::ESM_UDHI } else { 0 },
                protocol_id: mo.pid,
                data_coding: mo.dcs,
                short_message,
                tlvs,
                ..Default::default()
            }))?;
        }
        // §5.2.17: bits 1..0 = 01 asks for a receipt on final outcome, success or not;
        // 10 on failure only.
        let ask = registered_delivery & 0x03;
        let failed = d.state != pdu::state::DELIVERED;
        if ask == 0x01 || (ask == 0x02 && failed) {
            self.send(receipt(job, d, mid, submitted))?;
        }
        Ok(())
    }
}

/// User data as short_message when it fits (≤ 254 bytes), else as message_payload.
fn sm_or_payload(ud: Vec<u8>) -> (Vec<u8>, Vec<Tlv>) {
    if ud.len() <= 254 {
        (ud, Vec::new())
    } else {
        (
            Vec::new(),
            vec![Tlv {
                tag: pdu::tag::MESSAGE_PAYLOAD,
                value: ud,
            }],
        )
    }
}

/// `YYMMDDhhmm` in UTC (SMPP 3.4 Appendix B receipt dates).
fn receipt_date(t: SystemTime) -> String {
    absolute_time(t)[..10].to_string()
}

/// SMPP absolute time `YYMMDDhhmmsstnnp` in UTC (§7.1.1: tenths 0, quarter hours 00, `+`).
fn absolute_time(t: SystemTime) -> String {
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
        "{:02}{m:02}{d:02}{:02}{:02}{:02}000+",
        y % 100,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The delivery receipt for message `mid` to one card (§4.6.1 esm_class xx0001xx, Appendix
/// B text, TLVs receipted_message_id §5.3.2.12 and message_state §5.3.2.35).
fn receipt(job: &Job, d: &Delivered, mid: &str, submitted: SystemTime) -> Body {
    let (stat, err) = if d.state == pdu::state::DELIVERED {
        ("DELIVRD", 0)
    } else {
        ("UNDELIV", d.error_code)
    };
    let text = format!(
        "id:{mid} sub:001 dlvrd:{:03} submit date:{} done date:{} stat:{stat} err:{err:03} text:",
        u8::from(d.state == pdu::state::DELIVERED),
        receipt_date(submitted),
        receipt_date(SystemTime::now())
    );
    let mut rid = mid.as_bytes().to_vec();
    rid.push(0);
    Body::DeliverSm(ShortMessage {
        source_addr_ton: job.dest_ton,
        source_addr_npi: job.dest_npi,
        source_addr: job.dest.into(),
        dest_addr_ton: job.source_ton,
        dest_addr_npi: job.source_npi,
        destination_addr: job.source.into(),
        esm_class: pdu::ESM_DELIVERY_RECEIPT,
        short_message: text.into_bytes(),
        tlvs: vec![
            Tlv {
                tag: pdu::tag::RECEIPTED_MESSAGE_ID,
                value: rid,
            },
            Tlv {
                tag: pdu::tag::MESSAGE_STATE,
                value: vec![d.state],
            },
        ],
        ..Default::default()
    })
}

/// Where a session's PoRs go: the session itself when it is a transceiver, else the first
/// other bound receiver.
fn por_target(
    sh: &Shared,
    session: u64,
    writer: &Arc<Mutex<Wire>>,
    seq: &Arc<AtomicU32>,
    bound: Bound,
) -> Option<(Arc<Mutex<Wire>>, Arc<AtomicU32>)> {
    if matches!(bound, Bound::Trx) {
        return Some((writer.clone(), seq.clone()));
    }
    sh.receivers.lock().ok().and_then(|r| {
        r.iter()
            .find(|o| o.session != session)
            .map(|o| (o.writer.clone(), o.seq.clone()))
    })
}

/// Whether a new message must wait: the session its PoR would go to has
/// [`ServerConfig::window`] deliver_sm / data_sm unanswered. The ESME gets ESME_RTHROTTLED
/// and the card is not touched, so resubmitting later works.
fn throttled(
    sh: &Shared,
    session: u64,
    writer: &Arc<Mutex<Wire>>,
    seq: &Arc<AtomicU32>,
    bound: Bound,
) -> bool {
    por_target(sh, session, writer, seq, bound)
        .and_then(|(w, _)| lock_wire(&w).ok().map(|g| g.unacked))
        .is_some_and(|n| n >= sh.config.window)
}

/// Send a deliver_sm to the submitting session when it can receive, else to the first
/// other bound receiver.
fn deliver_to(
    sh: &Shared,
    session: u64,
    writer: &Arc<Mutex<Wire>>,
    seq: &Arc<AtomicU32>,
    bound: Bound,
    body: Body,
) -> io::Result<()> {
    match por_target(sh, session, writer, seq, bound) {
        Some((w, s)) => {
            let p = Pdu::new(s.fetch_add(1, Ordering::Relaxed), body);
            // A receiver that went away loses this PoR; the submitter's session is unaffected.
            let r = send_request(&w, &p);
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
        let abs = absolute_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_317_507));
        assert_eq!(abs, "261203170507000+");
    }
}
