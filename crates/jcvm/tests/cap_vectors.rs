//! Every CAP of test-vectors/cap/ parses; package, applet and import AIDs as the converter
//! wrote them (read from the component bytes of each file, see test-vectors/cap/README.md).

use jcvm::cap::hex;
use jcvm::{CapError, CapFile};
use std::path::PathBuf;

fn load(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test-vectors/cap")
        .join(name);
    std::fs::read(p).unwrap()
}

fn cap(name: &str) -> CapFile {
    CapFile::from_zip(&load(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_vector_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/cap");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "cap") {
            let c = CapFile::from_zip(&std::fs::read(&p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            eprintln!(
                "{}: pkg {} {}.{} applets {:?} imports {:?} classes {} methods {:?}",
                p.display(),
                hex(&c.header.package.aid),
                c.header.package.major,
                c.header.package.minor,
                c.applets.iter().map(|a| hex(&a.aid)).collect::<Vec<_>>(),
                c.imports
                    .iter()
                    .map(|a| format!("{} {}.{}", hex(&a.aid), a.major, a.minor))
                    .collect::<Vec<_>>(),
                c.classes.len(),
                c.method_count()
            );
            n += 1;
        }
    }
    assert_eq!(n, 15);
}

#[test]
fn expected_packages_applets_imports() {
    let w = cap("jcsim-wallet.cap");
    assert_eq!(hex(&w.header.package.aid), "D1560001320A64656D9F");
    assert_eq!(
        w.header.name.as_deref(),
        Some("com/sun/javacard/samples/wallet")
    );
    assert_eq!(hex(&w.applets[0].aid), "D1560001320A64656D9F01");
    assert_eq!(hex(&w.imports[0].aid), "A0000000620101");
    assert_eq!((w.imports[0].major, w.imports[0].minor), (1, 3));
    let x = cap("simota-extlen.cap");
    assert_eq!(hex(&x.applets[0].aid), "F073696D6F74615801");
    assert!(
        x.imports.iter().any(|i| hex(&i.aid) == "A0000000620209"),
        "imports javacardx.apdu (ExtendedLength)"
    );
    let e = cap("gppro-Empty_0102030405_2.2.1.cap");
    assert_eq!(hex(&e.header.package.aid), "0102030405");
    assert_eq!(hex(&e.applets[0].aid), "0102030405060708");
    let h = cap("pysim-test_javacard.cap");
    assert_eq!(hex(&h.header.package.aid), "D07002CA44");
    assert_eq!(hex(&h.applets[0].aid), "D07002CA44900101");
    assert_eq!(
        jcvm::names::package_name(&h.imports[1].aid),
        Some("sim.toolkit")
    );
    let s = cap("jcsim-SHADigest.cap");
    assert_eq!(hex(&s.applets[0].aid), "EEEEEEEEEE00");
    assert_eq!(s.directory.custom.len(), 1);
    let t = cap("caprunner-javatest.cap");
    assert_eq!(hex(&t.applets[0].aid), "A000000018FF00000000000000000102");
    assert_eq!(t.classes.len(), 3);
}

/// Rebuilds a stored (method 0) ZIP from components, for the corruption tests.
fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for (name, data) in files {
        let off = out.len() as u32;
        let mut h = vec![
            0x50, 0x4B, 0x03, 0x04, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        h.extend((data.len() as u32).to_le_bytes());
        h.extend((data.len() as u32).to_le_bytes());
        h.extend((name.len() as u16).to_le_bytes());
        h.extend([0, 0]);
        out.extend(&h);
        out.extend(name.as_bytes());
        out.extend(data);
        let mut c = vec![
            0x50, 0x4B, 0x01, 0x02, 20, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        c.extend((data.len() as u32).to_le_bytes());
        c.extend((data.len() as u32).to_le_bytes());
        c.extend((name.len() as u16).to_le_bytes());
        c.extend([0u8; 12]);
        c.extend(off.to_le_bytes());
        c.extend(name.as_bytes());
        cd.extend(c);
    }
    let cd_off = out.len() as u32;
    out.extend(&cd);
    out.extend([0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((cd.len() as u32).to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend([0, 0]);
    out
}

fn components(name: &str) -> Vec<(String, Vec<u8>)> {
    let bytes = load(name);
    jcvm::zip::read_entries(&bytes)
        .unwrap()
        .into_iter()
        .filter(|e| e.name.contains("/javacard/"))
        .map(|e| (e.name, e.data))
        .collect()
}

fn with(name: &str, comp: &str, f: impl Fn(&mut Vec<u8>)) -> Result<CapFile, CapError> {
    let mut files = components(name);
    for (n, d) in files.iter_mut() {
        if n.ends_with(&format!("/{comp}.cap")) {
            f(d);
        }
    }
    CapFile::from_zip(&zip_of(&files))
}

#[test]
fn rebuilt_zip_still_parses() {
    assert!(with("jcsim-wallet.cap", "Header", |_| {}).is_ok());
}

#[test]
fn bad_magic_is_named() {
    let e = with("jcsim-wallet.cap", "Header", |d| d[3] = 0xCA).unwrap_err();
    assert!(
        matches!(
            e,
            CapError::Component {
                component: "Header",
                offset: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("DECAFFED"));
}

#[test]
fn truncated_component_is_named() {
    let e = with("jcsim-wallet.cap", "Method", |d| {
        d.truncate(d.len() - 5);
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            CapError::Component {
                component: "Method",
                offset: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn count_past_end_is_named() {
    // Import count raised by one: the extra package runs past the component.
    let e = with("jcsim-wallet.cap", "Import", |d| d[3] += 1).unwrap_err();
    match &e {
        CapError::Component {
            component: "Import",
            offset,
            ..
        } => assert_eq!(*offset, d_len("jcsim-wallet.cap", "Import")),
        _ => panic!("{e}"),
    }
}

fn d_len(name: &str, comp: &str) -> usize {
    components(name)
        .into_iter()
        .find(|(n, _)| n.ends_with(&format!("/{comp}.cap")))
        .unwrap()
        .1
        .len()
}

#[test]
fn install_offset_past_method_is_named() {
    let e = with("jcsim-wallet.cap", "Applet", |d| {
        let n = d.len();
        d[n - 2] = 0xFF;
        d[n - 1] = 0xF0;
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            CapError::Component {
                component: "Applet",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("install_method_offset"));
}

#[test]
fn missing_component_is_named() {
    let files: Vec<_> = components("jcsim-wallet.cap")
        .into_iter()
        .filter(|(n, _)| !n.ends_with("/Method.cap"))
        .collect();
    let e = CapFile::from_zip(&zip_of(&files)).unwrap_err();
    assert_eq!(e, CapError::Missing("Method"));
}

#[test]
fn bad_zip_is_named() {
    let e = CapFile::from_zip(b"not a zip file at all, just some bytes").unwrap_err();
    assert!(matches!(e, CapError::Zip { .. }), "{e}");
    let mut z = load("jcsim-wallet.cap");
    z.truncate(z.len() / 2);
    assert!(matches!(
        CapFile::from_zip(&z).unwrap_err(),
        CapError::Zip { .. }
    ));
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_or_ok_never_a_panic() {
    let files = components("gppro-Empty_0102030405_2.2.1.cap");
    for i in 0..files.len() {
        for cut in 0..files[i].1.len() {
            let mut f = files.clone();
            f[i].1.truncate(cut);
            assert!(CapFile::from_zip(&zip_of(&f)).is_err());
            let mut g = files.clone();
            g[i].1[cut] ^= 0xFF;
            let _ = CapFile::from_zip(&zip_of(&g));
        }
    }
}

#[test]
fn descriptor_constant_pool_count_must_match() {
    // The ConstantPool count lowered by one (and its last entry dropped, sizes fixed up in
    // the component and the Directory): the Descriptor's type table no longer matches.
    let mut files = components("jcsim-wallet.cap");
    let mut new_size = 0u16;
    for (n, d) in files.iter_mut() {
        if n.ends_with("/ConstantPool.cap") {
            let c = u16::from_be_bytes([d[3], d[4]]) - 1;
            d[3..5].copy_from_slice(&c.to_be_bytes());
            d.truncate(d.len() - 4);
            new_size = (d.len() - 3) as u16;
            d[1..3].copy_from_slice(&new_size.to_be_bytes());
        }
    }
    for (n, d) in files.iter_mut() {
        if n.ends_with("/Directory.cap") {
            let at = 3 + 2 * 4; // component_sizes[ConstantPool - 1]
            d[at..at + 2].copy_from_slice(&new_size.to_be_bytes());
        }
    }
    let e = CapFile::from_zip(&zip_of(&files)).unwrap_err();
    assert!(
        matches!(
            e,
            CapError::Component {
                component: "Descriptor",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("constant_pool_count"), "{e}");
}

#[test]
fn undefined_opcode_in_a_method_is_named() {
    let c = cap("jcsim-wallet.cap");
    let m = c
        .descriptor
        .as_ref()
        .unwrap()
        .classes
        .iter()
        .flat_map(|k| k.methods.iter())
        .find(|m| m.bytecode_count > 0)
        .copied()
        .unwrap();
    let hdr = if c.method.info[m.method_offset as usize] & 0x80 != 0 {
        4
    } else {
        2
    };
    let at = 3 + m.method_offset as usize + hdr; // first opcode, offset from the tag
    let e = with("jcsim-wallet.cap", "Method", |d| d[at] = 0xFF).unwrap_err();
    assert_eq!(
        e,
        CapError::Component {
            component: "Method",
            offset: at,
            what: "undefined or truncated opcode FF".into()
        }
    );
}

#[test]
fn switch_lengths() {
    use jcvm::bytecode::{insn_len, walk};
    // stableswitch default, low 1, high 3: 7 + 3*2 bytes.
    let st = [0x73, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0];
    assert_eq!(insn_len(&st, 0), Some(13));
    // slookupswitch default, 2 pairs: 5 + 2*4 bytes.
    let sl = [0x75, 0, 0, 0, 2, 0, 1, 0, 0, 0, 2, 0, 0];
    assert_eq!(insn_len(&sl, 0), Some(13));
    // high < low: refused.
    assert_eq!(insn_len(&[0x73, 0, 0, 0, 3, 0, 1], 0), None);
    // sipush cut short at the end of the method.
    assert!(walk(&[0x00, 0x13, 0x01]).is_err());
    assert_eq!(walk(&[0x00, 0x13, 0x01, 0x02, 0x7A]), Ok(3));
}
