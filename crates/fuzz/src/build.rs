//! Byte-level builders for every layer of an OTA message, with a knob for each lie a
//! mutation may tell: the command packet (TS 102 225 §5.1.1 / TS 31.115 §4.2), the
//! SMS-DELIVER TPDU and its UDH incl. concatenation (TS 23.040 §9.2.2.1, §9.2.3.24), and the
//! SMS-PP DOWNLOAD ENVELOPE (TS 31.111 §7.1.1, TS 102 223 §7.1).
//!
//! The builders never fail on a lie: a length that does not match is simply written as
//! asked. Only real impossibilities (a keyset without the key a step needs) are errors.

use ota::sms::udh::{IEI_COMMAND_PACKET, IEI_CONCAT_16, IEI_CONCAT_8};
use ota::{Keyset, OtaError};

/// The largest TP-UD of one SMS (TS 23.040 §9.2.3.16, 8-bit data).
pub const MAX_UD: usize = 140;

/// A command packet and the lies to tell in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketSpec {
    /// SPI as sent.
    pub spi: [u8; 2],
    /// KIc byte as sent.
    pub kic: u8,
    /// KID byte as sent.
    pub kid: u8,
    /// TAR.
    pub tar: [u8; 3],
    /// CNTR as sent.
    pub cntr: [u8; 5],
    /// Secured data (the remote APDU script), without padding.
    pub data: Vec<u8>,
    /// Really cipher CNTR..end (normally what the SPI says).
    pub cipher: bool,
    /// Length of the RC/CC field actually present (normally 8 for a CC).
    pub mac_len: usize,
    /// CPL to write instead of the true one.
    pub cpl: Option<u16>,
    /// CHL to write instead of `13 + mac_len`.
    pub chl: Option<u8>,
    /// PCNTR to write instead of the true padding count.
    pub pcntr: Option<u8>,
    /// Padding bytes to add instead of "up to the cipher block".
    pub pad: Option<usize>,
    /// XOR into the RC/CC after computing it: (index, mask).
    pub flip_cc: Option<(usize, u8)>,
    /// XOR into the packet after ciphering: (index from CNTR on, modulo the ciphered
    /// length; mask).
    pub flip_after: Option<(usize, u8)>,
    /// Bytes removed from the end after ciphering.
    pub drop_tail: usize,
    /// Bytes appended after ciphering.
    pub trailing: Vec<u8>,
}

impl PacketSpec {
    /// A packet for `keys` with no lies: SPI, KIc/KID from the keyset, CC length 8 when the
    /// SPI asks for a CC (4 for CRC32, 2 for CRC16).
    pub fn new(spi: [u8; 2], keys: &Keyset, tar: [u8; 3], cntr: [u8; 5], data: Vec<u8>) -> Self {
        let s = ota::Spi::from_bytes(spi);
        let mac_len = match s.integrity {
            ota::IntegrityMode::None | ota::IntegrityMode::Ds => 0,
            _ => keys.kid_alg().map_or(0, |a| a.default_len()),
        };
        PacketSpec {
            spi,
            kic: keys.kic().to_byte(),
            kid: keys.kid().to_byte(),
            tar,
            cntr,
            data,
            cipher: s.ciphering,
            mac_len,
            cpl: None,
            chl: None,
            pcntr: None,
            pad: None,
            flip_cc: None,
            flip_after: None,
            drop_tail: 0,
            trailing: Vec::new(),
        }
    }

    /// Build the packet from CPL on: pad, compute the RC/CC with `mac_keys` over
    /// `CPL … PCNTR ‖ data ‖ padding` (as sent, lies included), cipher CNTR..end with
    /// `cipher_keys`, then apply the post-cipher edits.
    pub fn seal(&self, cipher_keys: &Keyset, mac_keys: &Keyset) -> Result<Vec<u8>, OtaError> {
        let bs = if self.cipher {
            cipher_keys.block_size().ok_or(OtaError::KeyMissing {
                which: "KIc",
                what: "ciphering",
            })?
        } else {
            1
        };
        let body = 6 + self.mac_len + self.data.len();
        let pad = self.pad.unwrap_or((bs - body % bs) % bs);
        let total = (16 + self.mac_len + self.data.len() + pad + self.trailing.len())
            .saturating_sub(self.drop_tail);
        let cpl = self
            .cpl
            .unwrap_or(u16::try_from(total.saturating_sub(2)).unwrap_or(u16::MAX));
        let chl = self
            .chl
            .unwrap_or(u8::try_from(13 + self.mac_len).unwrap_or(u8::MAX));
        let pcntr = self.pcntr.unwrap_or(u8::try_from(pad).unwrap_or(u8::MAX));
        let mut out = Vec::with_capacity(total + 16);
        out.extend_from_slice(&cpl.to_be_bytes());
        out.push(chl);
        out.extend_from_slice(&self.spi);
        out.push(self.kic);
        out.push(self.kid);
        out.extend_from_slice(&self.tar);
        out.extend_from_slice(&self.cntr);
        out.push(pcntr);
        let cc_at = out.len();
        out.resize(cc_at + self.mac_len, 0);
        out.extend_from_slice(&self.data);
        out.resize(out.len() + pad, 0);
        if self.mac_len > 0 {
            let (head, tail) = out.split_at_mut(cc_at + self.mac_len);
            let (clear, cc) = head.split_at_mut(cc_at);
            match mac_keys.checksum(&[clear, tail], self.mac_len) {
                Ok(c) => cc.copy_from_slice(c.as_bytes()),
                Err(_) => {
                    // A length the algorithm refuses (a lie): the leftmost bytes of the
                    // full-length value, zero-extended.
                    let full = mac_keys.kid_alg().map_or(8, |a| a.default_len());
                    let c = mac_keys.checksum(&[clear, tail], full)?;
                    for (i, b) in cc.iter_mut().enumerate() {
                        *b = c.as_bytes().get(i).copied().unwrap_or(0);
                    }
                }
            }
            if let Some((i, m)) = self.flip_cc {
                if let Some(b) = cc.get_mut(i % self.mac_len) {
                    *b ^= m.max(1);
                }
            }
        }
        if self.cipher {
            if let Some(region) = out.get_mut(ota::command::CNTR_OFFSET..) {
                if region.len() % bs == 0 {
                    cipher_keys.encrypt(region)?;
                } else {
                    // Padding lie that breaks the block alignment: cipher the aligned part.
                    let n = region.len() - region.len() % bs;
                    if let Some(r) = region.get_mut(..n) {
                        cipher_keys.encrypt(r)?;
                    }
                }
            }
        }
        if let Some((i, m)) = self.flip_after {
            let n = out.len().saturating_sub(ota::command::CNTR_OFFSET);
            if n > 0 {
                if let Some(b) = out.get_mut(ota::command::CNTR_OFFSET + i % n) {
                    *b ^= m.max(1);
                }
            }
        }
        out.extend_from_slice(&self.trailing);
        out.truncate(out.len().saturating_sub(self.drop_tail));
        Ok(out)
    }
}

/// Concatenation of a command packet over several SMS (TS 23.040 §9.2.3.24.1/.8; TS 31.115
/// §4.2: the `70 00` IE only in the first segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcatSpec {
    /// Reference number.
    pub reference: u16,
    /// Use IE `08` (16-bit reference) instead of `00`.
    pub ref16: bool,
    /// Payload bytes per segment (at most what fits).
    pub chunk: usize,
    /// Order in which segments are delivered (indices into the natural order; indices may
    /// repeat or be missing).
    pub order: Vec<usize>,
    /// Total-segments value to write instead of the true one.
    pub total: Option<u8>,
    /// (segment index, sequence number to write instead of the true one).
    pub seq: Option<(usize, u8)>,
    /// (segment index, reference to write instead).
    pub other_ref: Option<(usize, u16)>,
}

/// The TP-UD and TPDU of an SMS-DELIVER (TS 23.040 §9.2.2.1), with lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsSpec {
    /// First octet (`40`: SMS-DELIVER, UDHI).
    pub first_octet: u8,
    /// TP-OA as raw bytes (length in digits, TON/NPI, BCD).
    pub oa: Vec<u8>,
    /// TP-PID (`7F`: (U)SIM data download).
    pub pid: u8,
    /// TP-DCS (`F6`: class 2, 8-bit).
    pub dcs: u8,
    /// TP-SCTS.
    pub scts: [u8; 7],
    /// The command packet IE `70` data (`Some(vec![])` normally; `None` drops the IE).
    pub cpi: Option<Vec<u8>>,
    /// Extra IEs placed before (`true`) or after the CPI.
    pub extra_ies: Vec<(bool, u8, Vec<u8>)>,
    /// Added to the true UDHL.
    pub udhl_delta: i16,
    /// Added to the true TP-UDL.
    pub udl_delta: i16,
    /// Concatenation, if any.
    pub concat: Option<ConcatSpec>,
}

impl Default for SmsSpec {
    fn default() -> Self {
        SmsSpec {
            first_octet: 0x40,
            oa: vec![0x04, 0x81, 0x21, 0x43],
            pid: 0x7F,
            dcs: 0xF6,
            scts: [0x62, 0x11, 0x62, 0x21, 0x43, 0x05, 0x00],
            cpi: Some(Vec::new()),
            extra_ies: Vec::new(),
            udhl_delta: 0,
            udl_delta: 0,
            concat: None,
        }
    }
}

fn lie(v: usize, delta: i16) -> u8 {
    let x = v as i64 + i64::from(delta);
    x.clamp(0, 255) as u8
}

impl SmsSpec {
    fn udh(&self, ies: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (iei, d) in ies {
            body.push(*iei);
            body.push(d.len().min(255) as u8);
            body.extend_from_slice(d);
        }
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(lie(body.len(), self.udhl_delta));
        out.extend_from_slice(&body);
        out
    }

    fn ies(&self, first: bool, concat: Option<(u16, bool, u8, u8)>) -> Vec<(u8, Vec<u8>)> {
        let mut v = Vec::new();
        for (before, iei, d) in &self.extra_ies {
            if *before && first {
                v.push((*iei, d.clone()));
            }
        }
        if first {
            if let Some(c) = &self.cpi {
                v.push((IEI_COMMAND_PACKET, c.clone()));
            }
        }
        if let Some((r, r16, total, seq)) = concat {
            if r16 {
                let rb = r.to_be_bytes();
                v.push((IEI_CONCAT_16, vec![rb[0], rb[1], total, seq]));
            } else {
                v.push((IEI_CONCAT_8, vec![r as u8, total, seq]));
            }
        }
        for (before, iei, d) in &self.extra_ies {
            if !*before && first {
                v.push((*iei, d.clone()));
            }
        }
        v
    }

    /// The TP-UDs carrying `packet`, in delivery order.
    pub fn user_data(&self, packet: &[u8]) -> Vec<Vec<u8>> {
        let Some(c) = &self.concat else {
            let mut ud = self.udh(&self.ies(true, None));
            ud.extend_from_slice(packet);
            return vec![ud];
        };
        let chunk = c.chunk.max(1);
        let parts: Vec<&[u8]> = packet.chunks(chunk).collect();
        let total = c.total.unwrap_or(parts.len().min(255) as u8);
        let mut segs = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            let mut seq = (i + 1).min(255) as u8;
            if let Some((si, s)) = c.seq {
                if si == i {
                    seq = s;
                }
            }
            let mut r = c.reference;
            if let Some((ri, o)) = c.other_ref {
                if ri == i {
                    r = o;
                }
            }
            let mut ud = self.udh(&self.ies(i == 0, Some((r, c.ref16, total, seq))));
            ud.extend_from_slice(p);
            segs.push(ud);
        }
        c.order
            .iter()
            .filter_map(|&i| segs.get(i).cloned())
            .collect()
    }

    /// The SMS-DELIVER TPDU around one TP-UD.
    pub fn tpdu(&self, ud: &[u8]) -> Vec<u8> {
        let mut t = Vec::with_capacity(ud.len() + 24);
        t.push(self.first_octet);
        t.extend_from_slice(&self.oa);
        t.push(self.pid);
        t.push(self.dcs);
        t.extend_from_slice(&self.scts);
        t.push(lie(ud.len(), self.udl_delta));
        t.extend_from_slice(ud);
        t
    }
}

/// How many packet bytes fit in one segment of a concatenated message whose first UDH is
/// `70 00` + an 8-bit concatenation IE (UDHL + 2 + 5 = 8 bytes).
pub fn concat_chunk() -> usize {
    MAX_UD - 8
}

/// The SMS-PP DOWNLOAD ENVELOPE (TS 31.111 §7.1.1.2) around a TPDU, with lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSpec {
    /// Device identities TLV, raw (`82 02 83 81`).
    pub devices: Vec<u8>,
    /// Address (service centre) TLV, raw, if any.
    pub address: Option<Vec<u8>>,
    /// SMS TPDU tag (`8B`, or `0B` without the comprehension-required flag).
    pub tpdu_tag: u8,
    /// Leave the SMS TPDU TLV out.
    pub omit_tpdu: bool,
    /// Added to the true SMS TPDU TLV length.
    pub tpdu_len_delta: i16,
    /// Added to the true `D1` length.
    pub len_delta: i16,
    /// Raw TLVs appended after the TPDU.
    pub extra: Vec<u8>,
    /// Bytes cut from the end of the APDU data (Lc adjusted).
    pub truncate: usize,
    /// Send Le = 00 (case 4) so that a T=1 card answers the PoR at once.
    pub le: bool,
}

impl Default for EnvelopeSpec {
    fn default() -> Self {
        EnvelopeSpec {
            devices: vec![0x82, 0x02, 0x83, 0x81],
            address: None,
            tpdu_tag: 0x8B,
            omit_tpdu: false,
            tpdu_len_delta: 0,
            len_delta: 0,
            extra: Vec::new(),
            truncate: 0,
            le: true,
        }
    }
}

fn push_len(out: &mut Vec<u8>, n: u8) {
    if n >= 0x80 {
        out.push(0x81);
    }
    out.push(n);
}

impl EnvelopeSpec {
    /// The ENVELOPE C-APDU (`80 C2 00 00 Lc D1 …` [`00`]); the data is capped at 255 bytes.
    pub fn apdu(&self, tpdu: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(tpdu.len() + 16);
        body.extend_from_slice(&self.devices);
        if let Some(a) = &self.address {
            body.extend_from_slice(a);
        }
        if !self.omit_tpdu {
            body.push(self.tpdu_tag);
            push_len(&mut body, lie(tpdu.len(), self.tpdu_len_delta));
            body.extend_from_slice(tpdu);
        }
        body.extend_from_slice(&self.extra);
        let mut data = Vec::with_capacity(body.len() + 3);
        data.push(0xD1);
        push_len(&mut data, lie(body.len(), self.len_delta));
        data.extend_from_slice(&body);
        data.truncate(data.len().saturating_sub(self.truncate).min(255));
        let mut apdu = Vec::with_capacity(data.len() + 6);
        apdu.extend_from_slice(&[0x80, 0xC2, 0x00, 0x00, data.len() as u8]);
        apdu.extend_from_slice(&data);
        if self.le {
            apdu.push(0x00);
        }
        apdu
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota::{ChecksumAlgorithm, CipherAlgorithm, CommandPacket, Counter, Spi, Tar};

    fn aes() -> Keyset {
        Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[1; 16], 1)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[2; 16], 1)
            .unwrap()
    }

    #[test]
    fn honest_packet_equals_ota_seal() {
        let k = aes();
        for (spi, data) in [
            ([0x16, 0x19], vec![0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00]),
            ([0x12, 0x09], vec![1, 2, 3]),
            ([0x06, 0x21], vec![]),
        ] {
            let c = Counter::new(5).unwrap();
            let spec = PacketSpec::new(spi, &k, [0xB0, 0, 0], c.to_bytes(), data.clone());
            let mine = spec.seal(&k, &k).unwrap();
            let theirs = CommandPacket::new(Spi::from_bytes(spi), &k, Tar([0xB0, 0, 0]), c, data)
                .seal(&k)
                .unwrap();
            assert_eq!(mine, theirs);
            assert!(CommandPacket::open(&mine, &k).is_ok());
        }
    }

    #[test]
    fn flipped_cc_fails_verification() {
        let k = aes();
        let mut spec = PacketSpec::new([0x16, 0x19], &k, [0xB0, 0, 0], [0, 0, 0, 0, 1], vec![1]);
        spec.flip_cc = Some((3, 0x10));
        let p = spec.seal(&k, &k).unwrap();
        let e = CommandPacket::open(&p, &k).unwrap_err();
        assert_eq!(e.por_status(), ota::ResponseStatus::RcCcDsFailed);
    }

    #[test]
    fn sms_and_envelope_decode_with_ota() {
        let sms = SmsSpec::default();
        let uds = sms.user_data(&[0x00, 0x0D, 1, 2]);
        assert_eq!(uds.len(), 1);
        assert_eq!(&uds[0][..3], &[0x02, 0x70, 0x00]);
        let tpdu = sms.tpdu(&uds[0]);
        let d = ota::sms::SmsDeliver::parse(&tpdu).unwrap();
        assert_eq!(d.ud, uds[0]);
        let apdu = EnvelopeSpec::default().apdu(&tpdu);
        let e = ota::SmsPpDownload::parse(&apdu[5..apdu.len() - 1]).unwrap();
        assert_eq!(e.tpdu, tpdu);
    }

    #[test]
    fn concatenation_reassembles_with_ota() {
        let packet: Vec<u8> = (0..300u16).map(|i| i as u8).collect();
        let sms = SmsSpec {
            concat: Some(ConcatSpec {
                reference: 9,
                ref16: false,
                chunk: concat_chunk(),
                order: vec![0, 1, 2],
                total: None,
                seq: None,
                other_ref: None,
            }),
            ..SmsSpec::default()
        };
        let uds = sms.user_data(&packet);
        assert_eq!(uds.len(), 3);
        assert!(uds.iter().all(|u| u.len() <= MAX_UD));
        let refs: Vec<&[u8]> = uds.iter().map(|u| u.as_slice()).collect();
        let r = ota::sms::reassemble(&refs).unwrap();
        assert!(r.is_command_packet());
        assert_eq!(r.payload, packet);
    }
}
