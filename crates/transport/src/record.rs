//! A recording tap: wraps a transport and logs every exchange (and reset) with wall-clock
//! timestamps and durations, for transcripts, JSON Lines and GSMTAP pcap traces.

use crate::{ResetKind, Transport, TransportError};
use std::time::{Duration, SystemTime};

/// What an [`Exchange`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// A C-APDU / R-APDU pair.
    Apdu,
    /// A reset; `response` holds the ATR.
    Reset(ResetKind),
}

/// One logged exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// APDU or reset.
    pub kind: ExchangeKind,
    /// The C-APDU bytes (empty for resets).
    pub command: Vec<u8>,
    /// The R-APDU bytes or the ATR; empty when the transport failed.
    pub response: Vec<u8>,
    /// The transport error text, if the exchange failed.
    pub error: Option<String>,
    /// When the command was sent.
    pub at: SystemTime,
    /// How long the card took.
    pub duration: Duration,
}

/// Wraps a transport and keeps a log of everything that crossed it.
#[derive(Debug)]
pub struct Recorder<T> {
    inner: T,
    log: Vec<Exchange>,
}

impl<T: Transport> Recorder<T> {
    /// Start recording on `inner`.
    pub fn new(inner: T) -> Self {
        Recorder {
            inner,
            log: Vec::new(),
        }
    }
    /// Everything recorded so far.
    pub fn log(&self) -> &[Exchange] {
        &self.log
    }
    /// Take the log, leaving it empty.
    pub fn take_log(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.log)
    }
    /// The wrapped transport.
    pub fn inner(&mut self) -> &mut T {
        &mut self.inner
    }
    /// Unwrap, dropping the log.
    pub fn into_inner(self) -> T {
        self.inner
    }

    fn record(
        &mut self,
        kind: ExchangeKind,
        command: &[u8],
        at: SystemTime,
        r: &Result<Vec<u8>, TransportError>,
        start: std::time::Instant,
    ) {
        let duration = start.elapsed();
        let (response, error) = match r {
            Ok(v) => (v.clone(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        self.log.push(Exchange {
            kind,
            command: command.to_vec(),
            response,
            error,
            at,
            duration,
        });
    }
}

impl<T: Transport> Transport for Recorder<T> {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        let at = SystemTime::now();
        let start = std::time::Instant::now();
        let r = self.inner.transmit(capdu);
        self.record(ExchangeKind::Apdu, capdu, at, &r, start);
        r
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        let at = SystemTime::now();
        let start = std::time::Instant::now();
        let r = self.inner.reset(kind);
        self.record(ExchangeKind::Reset(kind), &[], at, &r, start);
        r
    }
    fn atr(&self) -> Vec<u8> {
        self.inner.atr()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;
    impl Transport for Echo {
        fn transmit(&mut self, c: &[u8]) -> Result<Vec<u8>, TransportError> {
            if c.is_empty() {
                return Err(TransportError::Protocol("empty".into()));
            }
            Ok([c, &[0x90, 0x00]].concat())
        }
        fn reset(&mut self, _: ResetKind) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x3B, 0x00])
        }
        fn atr(&self) -> Vec<u8> {
            vec![0x3B, 0x00]
        }
        fn name(&self) -> String {
            "echo".into()
        }
    }

    #[test]
    fn logs_everything() {
        let mut r = Recorder::new(Echo);
        r.reset(ResetKind::Cold).unwrap();
        r.transmit(&[1, 2, 3, 4]).unwrap();
        assert!(r.transmit(&[]).is_err());
        let log = r.take_log();
        assert_eq!(log.len(), 3);
        assert_eq!(log[0].kind, ExchangeKind::Reset(ResetKind::Cold));
        assert_eq!(log[0].response, [0x3B, 0x00]);
        assert_eq!(log[1].response, [1, 2, 3, 4, 0x90, 0x00]);
        assert!(log[2].error.is_some());
        assert!(r.log().is_empty());
        // The typed helper goes through the same tap.
        let resp = r
            .exchange(&apdu::CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(2)))
            .unwrap();
        assert_eq!(resp.data, [0, 0xB0, 0, 0, 2]);
        assert_eq!(resp.sw, apdu::StatusWord::OK);
        assert_eq!(r.log().len(), 1);
        assert!(r.log()[0].duration <= std::time::Duration::from_secs(5));
    }
}
