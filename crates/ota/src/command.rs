//! Command packets in the SMS-PP form (3GPP TS 31.115 §4.2, ETSI TS 102 225 §5.1.1): build
//! ("seal") and receive in separately callable steps.
//!
//! Layout from CPL on (the UDH `02 70 00` that carries the CPI is handled by
//! [`crate::sms::concat`]):
//!
//! ```text
//! CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC(CHL-13) data padding
//!                                           '------------ ciphered when SPI1 b3 = 1 ------'
//! ```
//!
//! The RC/CC covers `CPL … PCNTR ‖ data ‖ padding` (not the UDH, not the RC/CC field);
//! padding (PCNTR zero bytes) is added only when ciphering, so that CNTR..end is a whole number
//! of cipher blocks. Receiving side, step by step:
//!
//! 1. [`SecuredCommand::parse`] — clear header (CPL, CHL, SPI, KIc, KID, TAR) and lengths;
//!    the card checks the TAR and the MSL against [`CommandHeader::spi`] here;
//! 2. [`SecuredCommand::decipher`] — deciphers CNTR..end; CNTR, PCNTR and the RC/CC become
//!    readable ([`DecipheredCommand::counter`]), so the counter policy
//!    ([`crate::CounterPolicy::check`]) can run before or after the next step;
//! 3. [`DecipheredCommand::check_integrity`] / [`DecipheredCommand::verify`] — RC/CC.

use crate::counter::{Counter, Tar};
use crate::error::{byte, take, OtaError, Result};
use crate::keyid::{Kic, Kid};
use crate::keyset::{Checksum, Keyset};
use crate::spi::{IntegrityMode, Spi};
use apdu::hex;
use subtle::ConstantTimeEq;

/// CHL when there is no RC/CC/DS: SPI(2)+KIc+KID+TAR(3)+CNTR(5)+PCNTR = 13.
pub const CHL_MIN: u8 = 13;

/// Offset of CNTR from the start of the packet (CPL): the ciphered part starts here.
pub const CNTR_OFFSET: usize = 10;

/// The clear part of a command packet header (TS 31.115 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandHeader {
    /// Command Packet Length: bytes after the CPL field.
    pub cpl: u16,
    /// Command Header Length: SPI..RC/CC/DS.
    pub chl: u8,
    /// Security Parameter Indicator.
    pub spi: Spi,
    /// Ciphering key identifier.
    pub kic: Kic,
    /// RC/CC key identifier.
    pub kid: Kid,
    /// Toolkit Application Reference.
    pub tar: Tar,
}

impl CommandHeader {
    /// Length of the RC/CC/DS field (`CHL − 13`).
    pub fn integrity_len(&self) -> usize {
        usize::from(self.chl.saturating_sub(CHL_MIN))
    }
}

/// Result of checking an RC/CC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrityOutcome {
    /// The SPI asks for no RC/CC/DS.
    None,
    /// The RC/CC matched.
    Verified,
    /// The RC/CC did not match.
    Failed,
}

impl IntegrityOutcome {
    /// `none`, `verified` or `failed`.
    pub fn name(self) -> &'static str {
        match self {
            IntegrityOutcome::None => "none",
            IntegrityOutcome::Verified => "verified",
            IntegrityOutcome::Failed => "failed",
        }
    }
}

/// The details of an RC/CC check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityCheck {
    /// RC, CC or none.
    pub mode: IntegrityMode,
    /// The received value.
    pub received: Vec<u8>,
    /// The value computed over the received packet.
    pub computed: Vec<u8>,
    /// Whether they match.
    pub outcome: IntegrityOutcome,
}

impl IntegrityCheck {
    /// `Ok(())` when verified or not required, else [`OtaError::IntegrityFailed`].
    pub fn into_result(self) -> Result<()> {
        match self.outcome {
            IntegrityOutcome::Failed => Err(OtaError::IntegrityFailed {
                kind: self.mode.name(),
                received: hex::encode(&self.received),
                computed: hex::encode(&self.computed),
            }),
            _ => Ok(()),
        }
    }
}

/// Compute the RC/CC over `parts` for comparison with `received` (None when the mode asks
/// for none). `field`/`hl` name the header length field for error messages.
pub(crate) fn compute_integrity(
    keys: &Keyset,
    mode: IntegrityMode,
    kid: Kid,
    parts: &[&[u8]],
    received: &[u8],
    field: &'static str,
    hl: u8,
) -> Result<Option<Checksum>> {
    match mode {
        IntegrityMode::None => return Ok(None),
        IntegrityMode::Ds => {
            return Err(OtaError::Unsupported(
                "digital signature (SPI b2b1 = 11) is not supported".into(),
            ))
        }
        IntegrityMode::Rc | IntegrityMode::Cc => {}
    }
    keys.check_kid(kid, mode)?;
    let alg = keys.kid_alg_for(mode)?;
    if !alg.accepts_received_len(received.len()) {
        return Err(OtaError::IntegrityLength {
            field,
            value: hl,
            len: received.len(),
            kind: mode.name(),
            alg: alg.name(),
            expected: match alg.default_len() {
                2 => "exactly 2",
                4 => "exactly 4",
                _ => "4 or 8",
            },
        });
    }
    keys.checksum_for(mode, parts, received.len()).map(Some)
}

/// Build the [`IntegrityCheck`] report from a computed value.
pub(crate) fn integrity_report(
    mode: IntegrityMode,
    computed: Option<Checksum>,
    received: &[u8],
) -> IntegrityCheck {
    match computed {
        None => IntegrityCheck {
            mode,
            received: Vec::new(),
            computed: Vec::new(),
            outcome: IntegrityOutcome::None,
        },
        Some(c) => {
            let ok: bool = c.as_bytes().ct_eq(received).into();
            IntegrityCheck {
                mode,
                received: received.to_vec(),
                computed: c.as_bytes().to_vec(),
                outcome: if ok {
                    IntegrityOutcome::Verified
                } else {
                    IntegrityOutcome::Failed
                },
            }
        }
    }
}

/// Constant-time equality of two RC/CC values: up to 16 bytes are compared as one `u128`
/// (lengths are public; longer values fall back to the byte-wise `subtle` comparison).
fn ct_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y) = ([0u8; 16], [0u8; 16]);
    match (x.get_mut(..a.len()), y.get_mut(..b.len())) {
        (Some(xs), Some(ys)) => {
            xs.copy_from_slice(a);
            ys.copy_from_slice(b);
            u128::from_ne_bytes(x).ct_eq(&u128::from_ne_bytes(y)).into()
        }
        _ => a.ct_eq(b).into(),
    }
}

/// `Ok(())` when `computed` is None or equals `received` (constant time); allocates only on
/// failure.
pub(crate) fn integrity_result(
    mode: IntegrityMode,
    computed: Option<Checksum>,
    received: &[u8],
) -> Result<()> {
    match computed {
        Some(c) if !ct_equal(c.as_bytes(), received) => Err(OtaError::IntegrityFailed {
            kind: mode.name(),
            received: hex::encode(received),
            computed: hex::encode(c.as_bytes()),
        }),
        _ => Ok(()),
    }
}

/// Validate that the RC/CC/DS length from CHL/RHL is consistent with the SPI mode.
pub(crate) fn check_mode_len(
    mode: IntegrityMode,
    len: usize,
    field: &'static str,
    hl: u8,
    offset: usize,
) -> Result<()> {
    match (mode, len) {
        (IntegrityMode::None, 0) => Ok(()),
        (IntegrityMode::None, n) => Err(OtaError::Malformed {
            field,
            offset,
            reason: format!("{hl:#04x} leaves {n} byte(s) for RC/CC/DS but the SPI asks for none"),
        }),
        (m, 0) => Err(OtaError::Malformed {
            field,
            offset,
            reason: format!(
                "{hl:#04x} leaves no room for the {} the SPI asks for",
                m.name()
            ),
        }),
        _ => Ok(()),
    }
}

/// A received command packet whose clear header has been decoded and whose lengths are
/// consistent; nothing has been deciphered or verified yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecuredCommand<'a> {
    header: CommandHeader,
    bytes: &'a [u8],
}

impl<'a> SecuredCommand<'a> {
    /// Decode the clear header of a packet that starts at CPL and check CPL/CHL against the
    /// data present.
    pub fn parse(b: &'a [u8]) -> Result<Self> {
        let cpl_b = take(b, 0, 2, "CPL")?;
        let cpl = u16::from_be_bytes([cpl_b[0], cpl_b[1]]);
        let rest = b.len() - 2;
        if usize::from(cpl) != rest {
            return Err(OtaError::LengthMismatch {
                field: "CPL",
                offset: 0,
                value: usize::from(cpl),
                says: usize::from(cpl),
                actual: rest,
            });
        }
        let chl = byte(b, 2, "CHL")?;
        if chl < CHL_MIN {
            return Err(OtaError::HeaderTooShort {
                field: "CHL",
                offset: 2,
                value: chl,
                min: CHL_MIN,
            });
        }
        let spi_b = take(b, 3, 2, "SPI")?;
        let spi = Spi::from_bytes([spi_b[0], spi_b[1]]);
        let kic = Kic::from_byte(byte(b, 5, "KIc")?);
        let kid = Kid::from_byte(byte(b, 6, "KID")?);
        let tar = Tar::from_slice(take(b, 7, 3, "TAR")?)?;
        take(b, CNTR_OFFSET, 5, "CNTR")?;
        byte(b, 15, "PCNTR")?;
        let header = CommandHeader {
            cpl,
            chl,
            spi,
            kic,
            kid,
            tar,
        };
        let ilen = header.integrity_len();
        let avail = b.len().saturating_sub(16);
        if ilen > avail {
            return Err(OtaError::IntegrityTruncated {
                field: "CHL",
                value: chl,
                len: ilen,
                kind: spi.integrity.name(),
                available: avail,
            });
        }
        check_mode_len(spi.integrity, ilen, "CHL", chl, 2)?;
        Ok(SecuredCommand { header, bytes: b })
    }

    /// The decoded clear header.
    pub fn header(&self) -> &CommandHeader {
        &self.header
    }

    /// The whole packet from CPL on.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Decipher CNTR..end if the SPI says so (checking KIc against the keyset and the block
    /// alignment) and split CNTR, PCNTR, RC/CC and data.
    pub fn decipher(&self, keys: &Keyset) -> Result<DecipheredCommand> {
        let mut plain = Vec::new();
        self.decipher_region(keys, &mut plain)?;
        DecipheredCommand::split(self.header, self.bytes, plain)
    }

    /// Copy CNTR..end into `plain` (cleared first, allocation reused) and decipher it in
    /// place if the SPI says so.
    fn decipher_region(&self, keys: &Keyset, plain: &mut Vec<u8>) -> Result<()> {
        plain.clear();
        plain.extend_from_slice(self.bytes.get(CNTR_OFFSET..).unwrap_or(&[]));
        if self.header.spi.ciphering {
            keys.check_kic(self.header.kic)?;
            keys.decrypt(plain).map_err(|e| match e {
                OtaError::CipherLength {
                    len, alg, block, ..
                } => OtaError::CipherLength {
                    offset: CNTR_OFFSET,
                    len,
                    alg,
                    block,
                },
                e => e,
            })?;
        }
        Ok(())
    }

    /// Decipher into `plain`, split and verify (the steps of [`SecuredCommand::decipher`]
    /// and [`DecipheredCommand::verify`], same checks in the same order); on success `plain`
    /// holds exactly the secured data without padding.
    fn open_in_place(&self, keys: &Keyset, plain: &mut Vec<u8>) -> Result<Counter> {
        self.decipher_region(keys, plain)?;
        let (counter, pcntr) = split_fields(&self.header, plain)?;
        let ilen = self.header.integrity_len();
        let clear = self.bytes.get(..CNTR_OFFSET).unwrap_or(&[]);
        let received = plain.get(6..6 + ilen).unwrap_or(&[]);
        let rest = plain.get(6 + ilen..).unwrap_or(&[]);
        let c = compute_integrity(
            keys,
            self.header.spi.integrity,
            self.header.kid,
            &[clear, plain.get(..6).unwrap_or(&[]), rest],
            received,
            "CHL",
            self.header.chl,
        )?;
        integrity_result(self.header.spi.integrity, c, received)?;
        let end = plain.len().saturating_sub(usize::from(pcntr));
        plain.truncate(end);
        let start = (6 + ilen).min(plain.len());
        plain.drain(..start);
        Ok(counter)
    }
}

/// CNTR and PCNTR of a deciphered CNTR..end region, checking that PCNTR fits the data.
fn split_fields(header: &CommandHeader, plain: &[u8]) -> Result<(Counter, u8)> {
    let c = take(plain, 0, 5, "CNTR")?;
    let counter = Counter::from_bytes([c[0], c[1], c[2], c[3], c[4]]);
    let pcntr = byte(plain, 5, "PCNTR")?;
    let data_len = plain.len().saturating_sub(6 + header.integrity_len());
    if usize::from(pcntr) > data_len {
        return Err(OtaError::PaddingTooLong {
            pcntr,
            offset: 15,
            available: data_len,
        });
    }
    Ok((counter, pcntr))
}

/// A command packet after deciphering: CNTR, PCNTR, RC/CC and data are readable; the RC/CC
/// has not been checked yet.
#[derive(Clone, PartialEq, Eq)]
pub struct DecipheredCommand {
    header: CommandHeader,
    clear: [u8; CNTR_OFFSET],
    plain: Vec<u8>,
    counter: Counter,
    pcntr: u8,
}

impl std::fmt::Debug for DecipheredCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecipheredCommand")
            .field("header", &self.header)
            .field("counter", &self.counter)
            .field("pcntr", &self.pcntr)
            .field("integrity", &hex::encode(self.integrity_value()))
            .field("data", &hex::encode(self.data()))
            .finish()
    }
}

impl DecipheredCommand {
    fn split(header: CommandHeader, bytes: &[u8], plain: Vec<u8>) -> Result<Self> {
        let mut clear = [0u8; CNTR_OFFSET];
        clear.copy_from_slice(take(bytes, 0, CNTR_OFFSET, "header")?);
        let (counter, pcntr) = split_fields(&header, &plain)?;
        Ok(DecipheredCommand {
            header,
            clear,
            plain,
            counter,
            pcntr,
        })
    }

    /// The clear header.
    pub fn header(&self) -> &CommandHeader {
        &self.header
    }
    /// CNTR.
    pub fn counter(&self) -> Counter {
        self.counter
    }
    /// PCNTR.
    pub fn pcntr(&self) -> u8 {
        self.pcntr
    }
    /// The received RC/CC/DS field.
    pub fn integrity_value(&self) -> &[u8] {
        self.plain
            .get(6..6 + self.header.integrity_len())
            .unwrap_or(&[])
    }
    /// Secured data including the padding.
    pub fn data_with_padding(&self) -> &[u8] {
        self.plain
            .get(6 + self.header.integrity_len()..)
            .unwrap_or(&[])
    }
    /// Secured data with the PCNTR padding bytes removed.
    pub fn data(&self) -> &[u8] {
        let d = self.data_with_padding();
        d.get(..d.len().saturating_sub(usize::from(self.pcntr)))
            .unwrap_or(&[])
    }
    /// The padding bytes.
    pub fn padding(&self) -> &[u8] {
        let d = self.data_with_padding();
        d.get(d.len().saturating_sub(usize::from(self.pcntr))..)
            .unwrap_or(&[])
    }

    fn compute(&self, keys: &Keyset) -> Result<Option<Checksum>> {
        let cntr_pcntr = self.plain.get(..6).unwrap_or(&[]);
        compute_integrity(
            keys,
            self.header.spi.integrity,
            self.header.kid,
            &[&self.clear, cntr_pcntr, self.data_with_padding()],
            self.integrity_value(),
            "CHL",
            self.header.chl,
        )
    }

    /// Compute and compare the RC/CC (TS 102 225 §5.1.3) with the keyset's KID algorithm.
    /// Errors only for what prevents the check (DS, missing or mismatching KID, impossible
    /// length); a mismatch is reported as [`IntegrityOutcome::Failed`].
    pub fn check_integrity(&self, keys: &Keyset) -> Result<IntegrityCheck> {
        let c = self.compute(keys)?;
        Ok(integrity_report(
            self.header.spi.integrity,
            c,
            self.integrity_value(),
        ))
    }

    /// Check the RC/CC and return the packet; a mismatch is [`OtaError::IntegrityFailed`].
    pub fn verify(&self, keys: &Keyset) -> Result<CommandPacket> {
        let c = self.compute(keys)?;
        integrity_result(self.header.spi.integrity, c, self.integrity_value())?;
        Ok(self.to_packet())
    }

    /// The packet without checking the RC/CC.
    pub fn to_packet(&self) -> CommandPacket {
        CommandPacket {
            spi: self.header.spi,
            kic: self.header.kic,
            kid: self.header.kid,
            tar: self.header.tar,
            counter: self.counter,
            data: self.data().to_vec(),
        }
    }
}

/// A command packet as typed values (TS 31.115 §4.2); `data` is the secured data without
/// padding (for RFM/RAM, the remote APDU script).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommandPacket {
    /// Security Parameter Indicator.
    pub spi: Spi,
    /// KIc byte as sent (the algorithm actually used comes from the keyset).
    pub kic: Kic,
    /// KID byte as sent.
    pub kid: Kid,
    /// Toolkit Application Reference.
    pub tar: Tar,
    /// CNTR.
    pub counter: Counter,
    /// Secured data (application message), without padding.
    pub data: Vec<u8>,
}

impl CommandPacket {
    /// A packet whose KIc/KID bytes are taken from the keyset.
    pub fn new(spi: Spi, keys: &Keyset, tar: Tar, counter: Counter, data: Vec<u8>) -> Self {
        CommandPacket {
            spi,
            kic: keys.kic(),
            kid: keys.kid(),
            tar,
            counter,
            data,
        }
    }

    /// Build the packet from CPL on: pad, compute the RC/CC over CPL..padding, cipher
    /// CNTR..end (TS 31.115 §4.2; padding included in the CC, as real cards verify).
    pub fn seal(&self, keys: &Keyset) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_into(keys, &mut out)?;
        Ok(out)
    }

    /// [`CommandPacket::seal`] appending to `out` (which is cleared first).
    pub fn seal_into(&self, keys: &Keyset, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        let ilen = integrity_len_for(self.spi.integrity, keys)?;
        let bs = if self.spi.ciphering {
            keys.block_size().ok_or(OtaError::KeyMissing {
                which: "KIc",
                what: "ciphering",
            })?
        } else {
            1
        };
        let body = 6 + ilen + self.data.len();
        let pad = (bs - body % bs) % bs;
        let chl = CHL_MIN + ilen as u8;
        let cpl = u16::try_from(1 + usize::from(chl) + self.data.len() + pad).map_err(|_| {
            OtaError::InvalidValue {
                field: "data",
                reason: format!("{} bytes do not fit a 16-bit CPL", self.data.len()),
            }
        })?;
        // One zero-filled resize, then the fields in place: the RC/CC slot and the padding
        // stay zero, the data is copied once.
        let cc_at = CNTR_OFFSET + 6;
        let data_at = cc_at + ilen;
        out.resize(2 + usize::from(cpl), 0);
        let mut hdr = [0u8; CNTR_OFFSET + 6];
        hdr[..2].copy_from_slice(&cpl.to_be_bytes());
        hdr[2] = chl;
        hdr[3..5].copy_from_slice(&self.spi.to_bytes());
        hdr[5] = self.kic.to_byte();
        hdr[6] = self.kid.to_byte();
        hdr[7..10].copy_from_slice(&self.tar.0);
        hdr[10..15].copy_from_slice(&self.counter.to_bytes());
        hdr[15] = pad as u8;
        let (head, tail) = out.split_at_mut(data_at);
        head[..cc_at].copy_from_slice(&hdr);
        tail[..self.data.len()].copy_from_slice(&self.data);
        if ilen > 0 {
            let c = keys.checksum_for(self.spi.integrity, &[&hdr, tail], ilen)?;
            head[cc_at..].copy_from_slice(c.as_bytes());
        }
        if self.spi.ciphering {
            keys.encrypt(&mut out[CNTR_OFFSET..])?;
        }
        Ok(())
    }

    /// Parse, decipher and verify in one go (see the module doc for the separate steps).
    pub fn open(b: &[u8], keys: &Keyset) -> Result<CommandPacket> {
        let sc = SecuredCommand::parse(b)?;
        let mut data = Vec::with_capacity(b.len().saturating_sub(CNTR_OFFSET));
        let counter = sc.open_in_place(keys, &mut data)?;
        Ok(CommandPacket {
            spi: sc.header.spi,
            kic: sc.header.kic,
            kid: sc.header.kid,
            tar: sc.header.tar,
            counter,
            data,
        })
    }

    /// [`CommandPacket::open`] into an existing packet, reusing the allocation of
    /// `out.data` (for receiving many packets without allocating). On error `out.data` is
    /// left empty and the other fields unchanged.
    pub fn open_into(b: &[u8], keys: &Keyset, out: &mut CommandPacket) -> Result<()> {
        let r = SecuredCommand::parse(b).and_then(|sc| {
            let counter = sc.open_in_place(keys, &mut out.data)?;
            Ok((sc.header, counter))
        });
        match r {
            Ok((h, counter)) => {
                out.spi = h.spi;
                out.kic = h.kic;
                out.kid = h.kid;
                out.tar = h.tar;
                out.counter = counter;
                Ok(())
            }
            Err(e) => {
                out.data.clear();
                Err(e)
            }
        }
    }
}

/// RC/CC length to emit for a mode, checking that the keyset can produce it.
pub(crate) fn integrity_len_for(mode: IntegrityMode, keys: &Keyset) -> Result<usize> {
    match mode {
        IntegrityMode::None => Ok(0),
        IntegrityMode::Ds => Err(OtaError::Unsupported(
            "digital signature (SPI b2b1 = 11) is not supported".into(),
        )),
        m => Ok(keys.kid_alg_for(m)?.default_len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyset::{ChecksumAlgorithm, CipherAlgorithm};

    fn keys() -> Keyset {
        Keyset::new()
            .with_kic(CipherAlgorithm::AesCbc, &[0x11; 16], 1)
            .unwrap()
            .with_kid(ChecksumAlgorithm::AesCmac, &[0x22; 16], 1)
            .unwrap()
    }

    /// Seal without ciphering with a CC of `n` bytes (CHL = 13 + n), the MAC computed right.
    fn with_cc_len(n: usize) -> Vec<u8> {
        let k = keys();
        let data = [0x00u8, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00];
        let mut out = Vec::new();
        let cpl = (1 + 13 + n + data.len()) as u16;
        out.extend_from_slice(&cpl.to_be_bytes());
        out.push(13 + n as u8);
        out.extend_from_slice(&[0x12, 0x00, 0x12, 0x12, 0xB0, 0x00, 0x00]);
        out.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
        let cc = k.checksum(&[&out[..], &data], n).unwrap();
        out.extend_from_slice(cc.as_bytes());
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn received_cc_must_be_4_or_8_bytes() {
        // Regression (`simota fuzz ota`, class hdr.chl-lie): a 1-byte CC was checked, so a
        // forger needed at most 256 tries.
        let k = keys();
        for n in [1, 2, 3, 5, 7, 16] {
            let p = with_cc_len(n);
            let e = CommandPacket::open(&p, &k).unwrap_err();
            assert_eq!(
                e.por_status(),
                crate::ResponseStatus::UnidentifiedSecurityError,
                "{n}"
            );
        }
        for n in [4, 8] {
            assert!(CommandPacket::open(&with_cc_len(n), &k).is_ok(), "{n}");
        }
    }

    #[test]
    fn open_into_matches_open_and_steps() {
        let k = keys();
        let mut rx = CommandPacket::new(
            Spi::from_u16(0),
            &k,
            Tar([0; 3]),
            Counter::new(0).unwrap(),
            vec![9; 100],
        );
        for (spi, n) in [(0x1619, 32usize), (0x1621, 0), (0x1200, 17), (0x1605, 15)] {
            let pkt = CommandPacket::new(
                Spi::from_u16(spi),
                &k,
                Tar([0xB0, 0x00, 0x10]),
                Counter::new(7).unwrap(),
                (0..n as u8).collect(),
            );
            let sealed = pkt.seal(&k).unwrap();
            let a = CommandPacket::open(&sealed, &k).unwrap();
            let b = SecuredCommand::parse(&sealed)
                .unwrap()
                .decipher(&k)
                .unwrap()
                .verify(&k)
                .unwrap();
            CommandPacket::open_into(&sealed, &k, &mut rx).unwrap();
            assert_eq!(a, pkt);
            assert_eq!(a, b);
            assert_eq!(rx, a);
        }
    }

    #[test]
    fn open_into_clears_data_on_error() {
        let k = keys();
        let pkt = CommandPacket::new(
            Spi::from_u16(0x1619),
            &k,
            Tar([0xB0, 0x00, 0x10]),
            Counter::new(7).unwrap(),
            vec![0x5A; 32],
        );
        let mut sealed = pkt.seal(&k).unwrap();
        let mut rx = pkt.clone();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        let e = CommandPacket::open_into(&sealed, &k, &mut rx).unwrap_err();
        assert_eq!(e, CommandPacket::open(&sealed, &k).unwrap_err());
        assert!(matches!(e, OtaError::IntegrityFailed { .. }), "{e:?}");
        assert!(rx.data.is_empty());
        assert_eq!(rx.counter, pkt.counter);
    }

    #[test]
    fn ct_equal_is_equality() {
        assert!(ct_equal(&[1, 2, 3], &[1, 2, 3]));
        assert!(!ct_equal(&[1, 2, 3], &[1, 2, 4]));
        assert!(!ct_equal(&[1, 2], &[1, 2, 0]));
        assert!(ct_equal(&[], &[]));
        assert!(ct_equal(&[7; 20], &[7; 20]));
        assert!(!ct_equal(&[7; 20], &[[7; 19].as_slice(), &[8]].concat()));
        assert!(!ct_equal(&[0; 16], &[[0; 15].as_slice(), &[1]].concat()));
    }
}
