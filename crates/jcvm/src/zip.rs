//! A small ZIP reader for CAP files (PKWARE APPNOTE 6.3: end of central directory §4.3.16,
//! central directory §4.3.12, local file header §4.3.7), stored and deflated entries only.
//! Every field is bounds-checked; errors name the field and its offset in the archive.

use crate::error::CapError;

/// Largest uncompressed entry accepted (a CAP component is at most 64 KiB plus its header).
pub const MAX_ENTRY: usize = 1 << 20;

/// One file of the archive, already decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// Path inside the archive, `/`-separated.
    pub name: String,
    /// Uncompressed bytes.
    pub data: Vec<u8>,
}

fn zerr(offset: usize, what: impl Into<String>) -> CapError {
    CapError::Zip {
        offset,
        what: what.into(),
    }
}

fn u16_at(b: &[u8], off: usize, field: &str) -> Result<u16, CapError> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| zerr(off, format!("{field} past the end of the archive")))
}

fn u32_at(b: &[u8], off: usize, field: &str) -> Result<u32, CapError> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| zerr(off, format!("{field} past the end of the archive")))
}

/// Reads every file entry of a ZIP archive (directories skipped).
pub fn read_entries(b: &[u8]) -> Result<Vec<ZipEntry>, CapError> {
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes.
    if b.len() < 22 {
        return Err(zerr(
            0,
            "archive shorter than an end-of-central-directory record",
        ));
    }
    let lowest = b.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=b.len() - 22)
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4B, 0x05, 0x06])
        .ok_or_else(|| zerr(0, "no end-of-central-directory record (not a ZIP file)"))?;
    let count = u16_at(b, eocd + 10, "total entry count")? as usize;
    let cd_size = u32_at(b, eocd + 12, "central directory size")? as usize;
    let cd_off = u32_at(b, eocd + 16, "central directory offset")? as usize;
    if cd_off.checked_add(cd_size).is_none_or(|e| e > eocd) {
        return Err(zerr(
            eocd + 16,
            "central directory runs past its end record",
        ));
    }
    let mut out = Vec::with_capacity(count.min(64));
    let mut p = cd_off;
    for _ in 0..count {
        if u32_at(b, p, "central directory signature")? != 0x0201_4B50 {
            return Err(zerr(p, "bad central directory signature"));
        }
        let method = u16_at(b, p + 10, "compression method")?;
        let csize = u32_at(b, p + 20, "compressed size")? as usize;
        let usize_ = u32_at(b, p + 24, "uncompressed size")? as usize;
        let nlen = u16_at(b, p + 28, "name length")? as usize;
        let xlen = u16_at(b, p + 30, "extra length")? as usize;
        let clen = u16_at(b, p + 32, "comment length")? as usize;
        let local = u32_at(b, p + 42, "local header offset")? as usize;
        let name_bytes = b
            .get(p + 46..p + 46 + nlen)
            .ok_or_else(|| zerr(p + 46, "entry name past the end of the archive"))?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        p += 46 + nlen + xlen + clen;
        if name.ends_with('/') {
            continue;
        }
        if u32_at(b, local, "local header signature")? != 0x0403_4B50 {
            return Err(zerr(
                local,
                format!("bad local header signature for {name}"),
            ));
        }
        let lnlen = u16_at(b, local + 26, "local name length")? as usize;
        let lxlen = u16_at(b, local + 28, "local extra length")? as usize;
        let start = local + 30 + lnlen + lxlen;
        let raw = start
            .checked_add(csize)
            .and_then(|e| b.get(start..e))
            .ok_or_else(|| zerr(start, format!("data of {name} past the end of the archive")))?;
        if usize_ > MAX_ENTRY {
            return Err(zerr(
                p,
                format!("{name}: uncompressed size {usize_} too large"),
            ));
        }
        let data = match method {
            0 => raw.to_vec(),
            8 => miniz_oxide::inflate::decompress_to_vec_with_limit(raw, usize_)
                .map_err(|e| zerr(start, format!("{name}: bad deflate data ({:?})", e.status)))?,
            m => {
                return Err(zerr(
                    local + 8,
                    format!("{name}: unsupported compression method {m}"),
                ))
            }
        };
        if data.len() != usize_ {
            return Err(zerr(
                start,
                format!(
                    "{name}: {} bytes, central directory says {usize_}",
                    data.len()
                ),
            ));
        }
        out.push(ZipEntry { name, data });
    }
    Ok(out)
}
