//! Redundancy checks for SCP80 RC mode (ETSI TS 102 225 §5.1.3, KID b4b3 `00` CRC16,
//! `01` CRC32).
//!
//! * CRC32 is the ISO 3309 / zlib CRC (reflected polynomial 0xEDB88320, init and final XOR
//!   0xFFFFFFFF); the 4-byte value is sent big-endian.
//! * CRC16 — \[UNSURE\], no implementation was available to confirm it — is the ISO/IEC 13239
//!   16-bit FCS (polynomial 0x1021 reflected = 0x8408, init 0xFFFF, final XOR 0xFFFF; known as
//!   CRC-16/X-25, check value 0x906E over "123456789"), sent big-endian.

const fn table32() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const fn table16() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0x8408 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static T32: [u32; 256] = table32();
static T16: [u16; 256] = table16();

/// Incremental CRC32 (zlib); feed parts with [`Crc32::update`].
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

impl Crc32 {
    /// A fresh state.
    pub fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = T32[usize::from((self.0 as u8) ^ b)] ^ (self.0 >> 8);
        }
    }
    /// The final value.
    pub fn finish(self) -> u32 {
        self.0 ^ 0xFFFF_FFFF
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

/// Incremental CRC16 (ISO/IEC 13239 FCS, CRC-16/X-25).
#[derive(Debug, Clone, Copy)]
pub struct Crc16(u16);

impl Crc16 {
    /// A fresh state.
    pub fn new() -> Self {
        Crc16(0xFFFF)
    }
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = T16[usize::from((self.0 as u8) ^ b)] ^ (self.0 >> 8);
        }
    }
    /// The final value.
    pub fn finish(self) -> u16 {
        self.0 ^ 0xFFFF
    }
}

impl Default for Crc16 {
    fn default() -> Self {
        Self::new()
    }
}

/// CRC32 (zlib) of one buffer.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// CRC16 (ISO/IEC 13239, X-25) of one buffer.
pub fn crc16(data: &[u8]) -> u16 {
    let mut c = Crc16::new();
    c.update(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_check_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc16(b"123456789"), 0x906E);
        assert_eq!(crc32(b""), 0);
        let mut c = Crc32::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.finish(), 0xCBF4_3926);
    }
}
