//! A pcap writer for GSMTAP traces (interop notes §7.4): classic libpcap format, LINKTYPE_RAW
//! (101), each record an IPv4 + UDP datagram from 127.0.0.1 to 127.0.0.1:4729 carrying one
//! GSMTAP SIM record. Wireshark/tshark dissect it as GSMTAP → `gsm_sim` without configuration.

use crate::gsmtap::{self, GsmtapError, GSMTAP_PORT};
use crate::Exchange;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

/// LINKTYPE_RAW: packets start with the IP header.
pub const LINKTYPE_RAW: u32 = 101;
/// Source UDP port used in traces (arbitrary, per GSMTAP practice).
pub const SOURCE_PORT: u16 = 41729;

/// Writes a pcap stream.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    ip_id: u16,
    /// Exchanges that could not be represented (extended length, failed), with reasons.
    pub skipped: Vec<String>,
}

/// The IPv4 header checksum (RFC 791 §3.1).
fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in h.chunks(2) {
        let w = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(w));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header (microsecond timestamps, snaplen 65535, LINKTYPE_RAW).
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&0xA1B2_C3D4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&LINKTYPE_RAW.to_le_bytes())?;
        Ok(PcapWriter {
            out,
            ip_id: 0,
            skipped: Vec::new(),
        })
    }

    /// Write one UDP/GSMTAP packet with the given payload and timestamp.
    pub fn packet(&mut self, at: SystemTime, payload: &[u8]) -> io::Result<()> {
        let udp_len = 8 + payload.len();
        let total = 20 + udp_len;
        if total > 65535 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "GSMTAP payload too large for one datagram",
            ));
        }
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&self.ip_id.to_be_bytes());
        self.ip_id = self.ip_id.wrapping_add(1);
        ip[6] = 0x40; // don't fragment
        ip[8] = 64;
        ip[9] = 17; // UDP
        ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
        let ck = ip_checksum(&ip);
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut udp = [0u8; 8];
        udp[0..2].copy_from_slice(&SOURCE_PORT.to_be_bytes());
        udp[2..4].copy_from_slice(&GSMTAP_PORT.to_be_bytes());
        udp[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
        // UDP checksum 0: none (allowed for IPv4).
        let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        self.out.write_all(&(d.as_secs() as u32).to_le_bytes())?;
        self.out.write_all(&d.subsec_micros().to_le_bytes())?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.out.write_all(&(total as u32).to_le_bytes())?;
        self.out.write_all(&ip)?;
        self.out.write_all(&udp)?;
        self.out.write_all(payload)
    }

    /// Write an exchange as GSMTAP record(s); exchanges that cannot be represented are
    /// listed in [`PcapWriter::skipped`] instead.
    pub fn exchange(&mut self, x: &Exchange) -> io::Result<()> {
        match gsmtap::records(x) {
            Ok(recs) => {
                for r in recs {
                    self.packet(x.at, &r.bytes)?;
                }
                Ok(())
            }
            Err(
                e @ (GsmtapError::Extended(_) | GsmtapError::Malformed(_) | GsmtapError::Failed(_)),
            ) => {
                self.skipped.push(e.to_string());
                Ok(())
            }
        }
    }

    /// Flush and return the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExchangeKind;
    use std::time::Duration;

    #[test]
    fn layout() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let x = Exchange {
            kind: ExchangeKind::Apdu,
            command: vec![0, 0xA4, 0, 4, 2, 0x3F, 0],
            response: vec![0x61, 0x21],
            error: None,
            at: UNIX_EPOCH + Duration::from_micros(1_500_000),
            duration: Duration::ZERO,
        };
        w.exchange(&x).unwrap();
        let b = w.finish().unwrap();
        assert_eq!(&b[..4], [0xD4, 0xC3, 0xB2, 0xA1]);
        assert_eq!(&b[20..24], 101u32.to_le_bytes());
        let rec = &b[24..];
        assert_eq!(&rec[0..8], [1, 0, 0, 0, 0x20, 0xA1, 0x07, 0]);
        let len = 20 + 8 + 16 + 9;
        assert_eq!(&rec[8..12], (len as u32).to_le_bytes());
        let ip = &rec[16..36];
        assert_eq!(ip_checksum(ip), 0, "checksum verifies");
        assert_eq!(&rec[38..40], 4729u16.to_be_bytes());
        assert_eq!(rec.len(), 16 + len);
    }
}
