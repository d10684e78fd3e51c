//! The vpcd protocol of vsmartcard (interop notes §4.1): serve a card to pcscd's virtual reader
//! `libifdvpcd`, and the reader side of the same protocol for tests.
//!
//! Framing both ways: a 2-byte big-endian length, then the payload. From vpcd, a 1-byte
//! payload is a control byte (`00` power off, `01` power on, `02` reset, `04` get ATR); any
//! other payload is a C-APDU. The card answers GET ATR and APDUs only. By default vpcd listens
//! on 127.0.0.1:35963 (slot 0; slot n on 35963 + n) and the card connects; in reversed mode
//! the card listens and vpcd connects.
//!
//! Power off → power on is a cold boundary (the card is cold-reset, volatile state cleared);
//! `02` is a warm reset. GET ATR is answered at any time, powered or not, because pcscd polls
//! card presence with it.

use crate::{ResetKind, Transport, TransportError};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// vpcd's default port for slot 0 (0x8C7B).
pub const DEFAULT_PORT: u16 = 35963;
/// Control byte: power off.
pub const CTRL_POWER_OFF: u8 = 0x00;
/// Control byte: power on.
pub const CTRL_POWER_ON: u8 = 0x01;
/// Control byte: reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control byte: get ATR.
pub const CTRL_GET_ATR: u8 = 0x04;

/// How often blocking calls wake up to look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Something that happened while serving, for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpcdEvent {
    /// Trying to reach vpcd at this address.
    Connecting(String),
    /// Waiting for vpcd (it refused; pcscd is probably not running or idle).
    Waiting(String),
    /// Listening for vpcd (reversed mode).
    Listening(String),
    /// A vpcd connection is up (TCP only: vpcd may not have accepted it yet).
    Connected(String),
    /// vpcd sent its first frame on this connection: pcscd is now talking to the card.
    Ready,
    /// The connection ended.
    Disconnected(String),
    /// Power on (cold reset).
    PowerOn,
    /// Power off.
    PowerOff,
    /// Warm reset.
    Reset,
    /// An APDU was answered: command and response lengths.
    Apdu(usize, usize),
    /// A control byte we do not know (ignored).
    UnknownControl(u8),
}

/// Reads length-prefixed frames from a stream with a read timeout, keeping partial data.
#[derive(Debug, Default)]
struct FrameReader {
    buf: Vec<u8>,
}

impl FrameReader {
    /// The next complete frame, `Ok(None)` on timeout, `Err(UnexpectedEof)` when closed.
    fn next(&mut self, s: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
        loop {
            if self.buf.len() >= 2 {
                let n = u16::from_be_bytes([self.buf[0], self.buf[1]]) as usize;
                if self.buf.len() >= 2 + n {
                    let frame = self.buf[2..2 + n].to_vec();
                    self.buf.drain(..2 + n);
                    return Ok(Some(frame));
                }
            }
            let mut tmp = [0u8; 4096];
            quickack(s);
            match s.read(&mut tmp) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed",
                    ))
                }
                Ok(k) => self.buf.extend_from_slice(&tmp[..k]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Ask Linux to acknowledge incoming segments at once (TCP_QUICKACK is not sticky, so this is
/// renewed before every read). vpcd sends a frame's length and payload in two writes without
/// TCP_NODELAY; with delayed ACKs each APDU would wait ~40 ms for Nagle to release the payload.
fn quickack(s: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::net::sockopt::set_tcp_quickack(s, true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = s;
}

/// Write one frame.
fn write_frame(s: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let n = u16::try_from(payload.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("vpcd frame of {} bytes exceeds 65535", payload.len()),
        )
    })?;
    let mut f = Vec::with_capacity(2 + payload.len());
    f.extend_from_slice(&n.to_be_bytes());
    f.extend_from_slice(payload);
    s.write_all(&f)
}

/// Serve `card` on one established vpcd connection until it closes or `stop` is set.
/// Returns `Ok(())` when stopped, `Err` with the reason when the connection ended.
pub fn serve_connection<T: Transport + ?Sized>(
    stream: &mut TcpStream,
    card: &mut T,
    stop: &AtomicBool,
    events: &mut dyn FnMut(VpcdEvent),
) -> io::Result<()> {
    stream.set_read_timeout(Some(POLL))?;
    stream.set_nodelay(true)?;
    let mut reader = FrameReader::default();
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let Some(frame) = reader.next(stream)? else {
            continue;
        };
        if first {
            first = false;
            events(VpcdEvent::Ready);
        }
        match frame.as_slice() {
            [CTRL_POWER_OFF] => events(VpcdEvent::PowerOff),
            [CTRL_POWER_ON] => {
                // A failing reset leaves the previous ATR in place; the card stays "present".
                let _ = card.reset(ResetKind::Cold);
                events(VpcdEvent::PowerOn);
            }
            [CTRL_RESET] => {
                let _ = card.reset(ResetKind::Warm);
                events(VpcdEvent::Reset);
            }
            [CTRL_GET_ATR] => write_frame(stream, &card.atr())?,
            [other] => events(VpcdEvent::UnknownControl(*other)),
            capdu => {
                let r = card.transmit(capdu).unwrap_or_else(|_| vec![0x6F, 0x00]);
                events(VpcdEvent::Apdu(capdu.len(), r.len()));
                write_frame(stream, &r)?;
            }
        }
    }
    Ok(())
}

/// Where and how to meet vpcd.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// vpcd's address (client mode) or the address to listen on (reversed mode).
    pub addr: String,
    /// Reversed mode: listen and let vpcd connect.
    pub listen: bool,
    /// Pause between reconnection attempts.
    pub retry: Duration,
}

impl ServeConfig {
    /// Client mode towards `addr`, retrying every 500 ms.
    pub fn connect(addr: impl Into<String>) -> Self {
        ServeConfig {
            addr: addr.into(),
            listen: false,
            retry: Duration::from_millis(500),
        }
    }
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let step = left.min(POLL);
        std::thread::sleep(step);
        left = left.saturating_sub(step);
    }
}

fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: no address")))
}

/// Serve `card` until `stop` is set: connect to vpcd (reconnecting whenever pcscd restarts or
/// is not up yet), or in reversed mode accept vpcd connections one after the other. Each new
/// connection starts from a cold card.
pub fn serve<T: Transport + ?Sized>(
    cfg: &ServeConfig,
    card: &mut T,
    stop: &AtomicBool,
    events: &mut dyn FnMut(VpcdEvent),
) -> io::Result<()> {
    let addr = resolve(&cfg.addr)?;
    if cfg.listen {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        events(VpcdEvent::Listening(listener.local_addr()?.to_string()));
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut s, peer)) => {
                    s.set_nonblocking(false)?;
                    events(VpcdEvent::Connected(peer.to_string()));
                    let _ = card.reset(ResetKind::Cold);
                    let end = serve_connection(&mut s, card, stop, events);
                    events(VpcdEvent::Disconnected(
                        end.err()
                            .map_or_else(|| "stopped".into(), |e| e.to_string()),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    let mut waiting = false;
    events(VpcdEvent::Connecting(addr.to_string()));
    while !stop.load(Ordering::Relaxed) {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(mut s) => {
                waiting = false;
                events(VpcdEvent::Connected(addr.to_string()));
                let _ = card.reset(ResetKind::Cold);
                let end = serve_connection(&mut s, card, stop, events);
                events(VpcdEvent::Disconnected(
                    end.err()
                        .map_or_else(|| "stopped".into(), |e| e.to_string()),
                ));
            }
            Err(e) => {
                if !waiting {
                    events(VpcdEvent::Waiting(format!("{addr}: {e}")));
                    waiting = true;
                }
            }
        }
        sleep_unless_stopped(cfg.retry, stop);
    }
    Ok(())
}

/// The reader side of the protocol (what pcscd's vpcd does): a [`Transport`] that drives a
/// card served over vpcd. Used in tests and to reach `vicc`-style cards directly.
#[derive(Debug)]
pub struct VpcdReader {
    stream: TcpStream,
    reader: FrameReader,
    atr: Vec<u8>,
    name: String,
    timeout: Duration,
}

impl VpcdReader {
    /// Wait for a card to connect on `listener` (vpcd's default mode) and power it on.
    pub fn accept(listener: &TcpListener) -> Result<Self, TransportError> {
        let (s, peer) = listener.accept().map_err(io_err)?;
        Self::start(s, format!("vpcd card at {peer}"))
    }
    /// Connect to a card listening at `addr` (reversed mode) and power it on.
    pub fn connect(addr: &str) -> Result<Self, TransportError> {
        let a = resolve(addr).map_err(io_err)?;
        let s = TcpStream::connect_timeout(&a, Duration::from_secs(5)).map_err(io_err)?;
        Self::start(s, format!("vpcd card at {addr}"))
    }
    fn start(stream: TcpStream, name: String) -> Result<Self, TransportError> {
        stream.set_nodelay(true).map_err(io_err)?;
        stream.set_read_timeout(Some(POLL)).map_err(io_err)?;
        let mut r = VpcdReader {
            stream,
            reader: FrameReader::default(),
            atr: Vec::new(),
            name,
            timeout: Duration::from_secs(10),
        };
        r.reset(ResetKind::Cold)?;
        Ok(r)
    }
    /// Send a raw control byte (no answer expected except for GET ATR).
    pub fn control(&mut self, ctrl: u8) -> Result<(), TransportError> {
        write_frame(&mut self.stream, &[ctrl]).map_err(io_err)
    }
    fn request(&mut self, payload: &[u8]) -> Result<Vec<u8>, TransportError> {
        write_frame(&mut self.stream, payload).map_err(io_err)?;
        let start = std::time::Instant::now();
        loop {
            match self.reader.next(&mut self.stream) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) if start.elapsed() < self.timeout => continue,
                Ok(None) => return Err(TransportError::Timeout(self.timeout.as_millis() as u64)),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(TransportError::CardRemoved(format!(
                        "{}: connection closed",
                        self.name
                    )))
                }
                Err(e) => return Err(io_err(e)),
            }
        }
    }
    /// Ask the card for its ATR (control `04`).
    pub fn get_atr(&mut self) -> Result<Vec<u8>, TransportError> {
        self.request(&[CTRL_GET_ATR])
    }
}

fn io_err(e: io::Error) -> TransportError {
    TransportError::Io(e.to_string())
}

impl Transport for VpcdReader {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        if capdu.len() == 1 {
            return Err(TransportError::BadCommand(
                "a 1-byte APDU cannot cross vpcd (it reads as a control byte)".into(),
            ));
        }
        let r = self.request(capdu)?;
        if r.len() < 2 {
            return Err(TransportError::Protocol(format!(
                "R-APDU of {} byte(s) has no SW1 SW2",
                r.len()
            )));
        }
        Ok(r)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        match kind {
            ResetKind::Cold => {
                self.control(CTRL_POWER_OFF)?;
                self.control(CTRL_POWER_ON)?;
            }
            ResetKind::Warm => self.control(CTRL_RESET)?,
        }
        self.atr = self.get_atr()?;
        Ok(self.atr.clone())
    }
    fn atr(&self) -> Vec<u8> {
        self.atr.clone()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A card that counts cold and warm resets and echoes the reset counters.
    struct Counting {
        cold: u8,
        warm: u8,
    }
    impl Transport for Counting {
        fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(vec![c[1], self.cold, self.warm, 0x90, 0x00])
        }
        fn reset(&mut self, k: ResetKind) -> Result<Vec<u8>, TransportError> {
            match k {
                ResetKind::Cold => self.cold += 1,
                ResetKind::Warm => self.warm += 1,
            }
            Ok(self.atr())
        }
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x02, 0x14, 0x50]
        }
        fn name(&self) -> String {
            "counting".into()
        }
    }

    #[test]
    fn client_mode_roundtrip_and_reconnect() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let cfg = ServeConfig {
            addr,
            listen: false,
            retry: Duration::from_millis(20),
        };
        let h = std::thread::spawn(move || {
            let mut card = Counting { cold: 0, warm: 0 };
            let mut log = Vec::new();
            serve(&cfg, &mut card, &st, &mut |e| log.push(e)).unwrap();
            log
        });
        {
            let mut r = VpcdReader::accept(&listener).unwrap();
            assert_eq!(r.atr(), [0x3B, 0x02, 0x14, 0x50]);
            // connect (cold) + VpcdReader's cold reset
            assert_eq!(r.transmit(&[0, 0xB0, 0, 0]).unwrap(), [0xB0, 2, 0, 0x90, 0]);
            r.reset(ResetKind::Warm).unwrap();
            assert_eq!(r.transmit(&[0, 0xB0, 0, 0]).unwrap(), [0xB0, 2, 1, 0x90, 0]);
            assert_eq!(r.get_atr().unwrap(), [0x3B, 0x02, 0x14, 0x50]);
            assert!(r.transmit(&[0]).is_err());
        }
        // pcscd "restarts": the card reconnects by itself.
        let mut r = VpcdReader::accept(&listener).unwrap();
        assert_eq!(r.transmit(&[0, 0xCA, 0, 0]).unwrap()[0], 0xCA);
        stop.store(true, Ordering::Relaxed);
        drop(r);
        let log = h.join().unwrap();
        assert_eq!(
            log.iter()
                .filter(|e| matches!(e, VpcdEvent::Connected(_)))
                .count(),
            2
        );
        assert!(log.contains(&VpcdEvent::Reset));
    }

    #[test]
    fn reversed_mode() {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap().to_string();
        drop(probe);
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let cfg = ServeConfig {
            addr: addr.clone(),
            listen: true,
            retry: Duration::from_millis(20),
        };
        let h = std::thread::spawn(move || {
            let mut card = Counting { cold: 0, warm: 0 };
            serve(&cfg, &mut card, &st, &mut |_| {})
        });
        let mut r = None;
        for _ in 0..50 {
            if let Ok(x) = VpcdReader::connect(&addr) {
                r = Some(x);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut r = r.unwrap();
        assert_eq!(r.transmit(&[0, 0x70, 0, 0, 1]).unwrap()[0], 0x70);
        stop.store(true, Ordering::Relaxed);
        drop(r);
        h.join().unwrap().unwrap();
    }

    #[test]
    fn split_frames_are_reassembled() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let h = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut card = Counting { cold: 0, warm: 0 };
            let _ = serve_connection(&mut s, &mut card, &st, &mut |_| {});
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(&[0x00]).unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        c.write_all(&[0x04, 0x00, 0xA4, 0x00, 0x00]).unwrap();
        let mut b = [0u8; 7];
        c.read_exact(&mut b).unwrap();
        assert_eq!(b, [0, 5, 0xA4, 0, 0, 0x90, 0]);
        stop.store(true, Ordering::Relaxed);
        drop(c);
        h.join().unwrap();
    }
}
