//! Reading a Java Card CAP file (JCVM Specification 2.2/3.0 §6: a ZIP archive of component
//! files `…/javacard/Header.cap`, `Directory.cap`, …) into what GlobalPlatform loading needs:
//! the package AID (Header component §6.3), the applet AIDs (Applet component §6.5) and the
//! load file data block ([`crate::load::load_file_data_block`]). Needs the `cap` feature.

use std::io::Read;

use crate::error::GpError;

/// Component file names and their tags (JCVM Specification Table 6-1).
const NAMES: [(&str, u8); 12] = [
    ("Header.cap", 1),
    ("Directory.cap", 2),
    ("Applet.cap", 3),
    ("Import.cap", 4),
    ("ConstantPool.cap", 5),
    ("Class.cap", 6),
    ("Method.cap", 7),
    ("StaticField.cap", 8),
    ("RefLocation.cap", 9),
    ("Export.cap", 10),
    ("Descriptor.cap", 11),
    ("Debug.cap", 12),
];

/// A parsed CAP file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapFile {
    /// Package AID (the load file AID).
    pub package_aid: Vec<u8>,
    /// Package version (major, minor).
    pub version: (u8, u8),
    /// Applet AIDs of the Applet component (empty for a library package).
    pub applets: Vec<Vec<u8>>,
    /// Components by tag, each with its tag and size bytes.
    pub components: Vec<(u8, Vec<u8>)>,
}

fn bad(msg: impl Into<String>) -> GpError {
    GpError::Cap(msg.into())
}

impl CapFile {
    /// Parse the bytes of a `.cap` file.
    pub fn parse(bytes: &[u8]) -> Result<CapFile, GpError> {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| bad(format!("not a ZIP archive: {e}")))?;
        let mut components: Vec<(u8, Vec<u8>)> = Vec::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
            let name = f
                .name()
                .map_err(|e| bad(format!("entry {i}: name: {e}")))?
                .to_string();
            let Some(&(file, tag)) = NAMES
                .iter()
                .find(|(n, _)| name.ends_with(&format!("javacard/{n}")))
            else {
                continue;
            };
            let mut data = Vec::new();
            f.read_to_end(&mut data)
                .map_err(|e| bad(format!("{name}: {e}")))?;
            match data.as_slice() {
                [t, h, l, rest @ ..] if *t == tag => {
                    let size = u16::from_be_bytes([*h, *l]) as usize;
                    if size != rest.len() {
                        return Err(bad(format!(
                            "{file}: size field says {size} bytes, the file holds {}",
                            rest.len()
                        )));
                    }
                }
                [t, ..] => {
                    return Err(bad(format!(
                        "{file}: offset 0: tag {t} where {tag} belongs"
                    )))
                }
                [] => return Err(bad(format!("{file}: empty"))),
            }
            if components.iter().any(|(t, _)| *t == tag) {
                return Err(bad(format!("{file} appears twice")));
            }
            components.push((tag, data));
        }
        let header = components
            .iter()
            .find(|(t, _)| *t == 1)
            .map(|(_, d)| d.as_slice())
            .ok_or_else(|| bad("no Header.cap component"))?;
        // tag(1) size(2) magic(4) minor(1) major(1) flags(1) package: minor major AID_length AID
        let (version, package_aid) = match header {
            [_, _, _, 0xDE, 0xCA, 0xFF, 0xED, _, _, _, minor, major, n, rest @ ..] => {
                let aid = rest
                    .get(..*n as usize)
                    .ok_or_else(|| bad("Header.cap: offset 12: package AID truncated"))?;
                if !(5..=16).contains(&aid.len()) {
                    return Err(bad(format!(
                        "Header.cap: offset 12: package AID of {} bytes (5..16 allowed)",
                        aid.len()
                    )));
                }
                ((*major, *minor), aid.to_vec())
            }
            _ => return Err(bad("Header.cap: offset 3: magic DECAFFED missing")),
        };
        let mut applets = Vec::new();
        if let Some((_, d)) = components.iter().find(|(t, _)| *t == 3) {
            let info = &d[3..];
            let (&count, mut rest) = info
                .split_first()
                .ok_or_else(|| bad("Applet.cap: offset 3: count missing"))?;
            for i in 0..count {
                let (&n, r) = rest
                    .split_first()
                    .ok_or_else(|| bad(format!("Applet.cap: applet {i} truncated")))?;
                let aid = r
                    .get(..n as usize)
                    .ok_or_else(|| bad(format!("Applet.cap: applet {i} AID truncated")))?;
                applets.push(aid.to_vec());
                rest = r.get(n as usize + 2..).ok_or_else(|| {
                    bad(format!("Applet.cap: applet {i} install offset truncated"))
                })?;
            }
        }
        Ok(CapFile {
            package_aid,
            version,
            applets,
            components,
        })
    }

    /// The load file data block (`C4 …`) in GP order.
    pub fn load_file_data_block(&self) -> Result<Vec<u8>, GpError> {
        let refs: Vec<(u8, &[u8])> = self
            .components
            .iter()
            .map(|(t, d)| (*t, d.as_slice()))
            .collect();
        crate::load::load_file_data_block(&refs)
    }
}
