//! Loading an executable load file (GPCS v2.3 §11.5.2.3.1 INSTALL [for load], §11.6 LOAD,
//! load file data block): the CAP components in the order GP requires, wrapped in the
//! `C4` load file data block, cut into LOAD blocks.

use crate::commands::INS_INSTALL;
use crate::commands::INS_LOAD;
use crate::error::GpError;
use apdu::CommandApdu;

/// CAP component tags in the order they go into the load file (JCVM Specification §6.1;
/// GPCS §C.2): Header, Directory, Import, Applet, Class, Method, StaticField, Export,
/// ConstantPool, RefLocation. The Descriptor (11) and Debug (12) components are not loaded.
pub const LOAD_ORDER: [u8; 10] = [1, 2, 4, 3, 6, 7, 8, 10, 5, 9];

/// Build the load file data block (`C4 ‖ BER length ‖ components`) from CAP components given
/// as `(tag, component bytes including its tag and size)` in any order. The Header,
/// Directory, Import, Class, Method, StaticField, ConstantPool and RefLocation components
/// are required; Applet and Export are optional.
pub fn load_file_data_block(components: &[(u8, &[u8])]) -> Result<Vec<u8>, GpError> {
    let mut body = Vec::new();
    for tag in LOAD_ORDER {
        match components.iter().find(|(t, _)| *t == tag) {
            Some((_, c)) => {
                if c.first() != Some(&tag) {
                    return Err(GpError::BadValue {
                        field: "CAP component tag",
                        offset: 0,
                        value: c.first().copied().unwrap_or(0) as u32,
                        reason: "does not match the component it is given as",
                    });
                }
                body.extend_from_slice(c);
            }
            None if matches!(tag, 3 | 10) => {}
            None => {
                return Err(GpError::BadValue {
                    field: "CAP component",
                    offset: 0,
                    value: tag as u32,
                    reason: "missing (a load file needs Header, Directory, Import, Class, Method, StaticField, ConstantPool and RefLocation)",
                })
            }
        }
    }
    let mut out = vec![0xC4];
    match body.len() {
        n @ 0..=0x7F => out.push(n as u8),
        n @ 0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n @ 0x100..=0xFFFF => {
            out.push(0x82);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            return Err(GpError::BadLength {
                field: "load file",
                len: n,
                expected: "at most 65535 bytes",
            })
        }
    }
    out.extend(body);
    Ok(out)
}

/// INSTALL [for load] of `load_file` into the security domain `sd` (empty = the ISD).
pub fn install_for_load(load_file: &[u8], sd: &[u8]) -> CommandApdu {
    let mut d = vec![load_file.len() as u8];
    d.extend_from_slice(load_file);
    d.push(sd.len() as u8);
    d.extend_from_slice(sd);
    d.extend_from_slice(&[0, 0, 0]);
    CommandApdu::new(0x80, INS_INSTALL, 0x02, 0x00, d, Some(256))
}

/// The LOAD commands carrying `block` in pieces of at most `size` bytes (P2 = block number,
/// P1 `80` on the last).
pub fn load_commands(block: &[u8], size: usize) -> Result<Vec<CommandApdu>, GpError> {
    if size == 0 || size > 255 {
        return Err(GpError::BadLength {
            field: "LOAD block size",
            len: size,
            expected: "1..=255",
        });
    }
    let chunks: Vec<&[u8]> = block.chunks(size).collect();
    if chunks.len() > 256 {
        return Err(GpError::BadLength {
            field: "load file",
            len: block.len(),
            expected: "at most 256 LOAD blocks",
        });
    }
    let n = chunks.len();
    Ok(chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let p1 = if i + 1 == n { 0x80 } else { 0x00 };
            CommandApdu::new(0x80, INS_LOAD, p1, i as u8, c.to_vec(), Some(256))
        })
        .collect())
}

/// INSTALL [for personalization] of the application `aid` (GPCS §11.5.2.3.3, Table 11-47):
/// the security domain then routes the following STORE DATA commands to it.
pub fn install_for_personalization(aid: &[u8]) -> CommandApdu {
    let mut d = vec![0, 0, aid.len() as u8];
    d.extend_from_slice(aid);
    d.extend_from_slice(&[0, 0, 0]);
    CommandApdu::new(0x80, INS_INSTALL, 0x20, 0x00, d, Some(256))
}

/// INSTALL [for install and make selectable] of `module` from `load_file` as `aid` with
/// `privileges` and the application specific parameters `params` (in `C9`).
pub fn install_for_install(
    load_file: &[u8],
    module: &[u8],
    aid: &[u8],
    privileges: &[u8],
    params: &[u8],
) -> CommandApdu {
    let mut d = Vec::new();
    for lv in [load_file, module, aid, privileges] {
        d.push(lv.len() as u8);
        d.extend_from_slice(lv);
    }
    let mut ip = vec![0xC9, params.len() as u8];
    ip.extend_from_slice(params);
    d.push(ip.len() as u8);
    d.extend(ip);
    d.push(0);
    CommandApdu::new(0x80, INS_INSTALL, 0x0C, 0x00, d, Some(256))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(tag: u8, info: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&(info.len() as u16).to_be_bytes());
        v.extend_from_slice(info);
        v
    }

    #[test]
    fn order_and_missing_components() {
        let comps: Vec<(u8, Vec<u8>)> = [9u8, 5, 8, 7, 6, 3, 4, 2, 1]
            .iter()
            .map(|&t| (t, comp(t, &[t; 2])))
            .collect();
        let refs: Vec<(u8, &[u8])> = comps.iter().map(|(t, c)| (*t, c.as_slice())).collect();
        let b = load_file_data_block(&refs).unwrap();
        let order: Vec<u8> = b[2..].chunks(5).map(|c| c[0]).collect();
        assert_eq!(order, [1, 2, 4, 3, 6, 7, 8, 5, 9]);
        let without_method: Vec<(u8, &[u8])> =
            refs.iter().copied().filter(|(t, _)| *t != 7).collect();
        let e = load_file_data_block(&without_method).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        let cmds = load_commands(&b, 16).unwrap();
        assert_eq!(cmds.len(), b.len().div_ceil(16));
        assert_eq!(cmds.last().unwrap().p1, 0x80);
        assert_eq!(cmds[1].p2, 1);
    }
}
