//! Linking a CAP package for execution (JCVM Spec 3.0.5 §4.4 package linking, §6.7 imports,
//! §6.8 constant pool resolution, §6.11 static field image, §6.12 reference locations,
//! §6.9 virtual method tables, §6.14 Export component): imports are resolved by AID and
//! major/minor version (same major, minor at least the one imported) against the built-in
//! API packages and the packages loaded on the card ([`link_with_card`]: classes, static
//! methods and static fields of a card package through its Export component); every
//! constant pool entry is resolved to a class, an instance
//! field cell, a virtual method token, a static field offset or a static method (bytecode or
//! a Rust native); every RefLocation fix-up is checked to hold a valid constant pool index;
//! classes get their instance cell layout and their vtables across packages.

use crate::api::{self, tokens_types::ApiPackage};
use crate::cap::{CapFile, ClassInfo, ClassRef, CpEntry, StaticRef};
use crate::heap::{ClassId, Context};
use crate::natives::{self, NativeFn};
use crate::vm::Statics;
use std::collections::HashMap;
use std::sync::Arc;

/// A CAP that cannot be linked: the import, constant pool entry or class at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("link: {0}")]
pub struct LinkError(pub String);

/// A resolved constant pool entry.
#[derive(Debug, Clone)]
pub enum Cp {
    /// A class or interface.
    Class(ClassId),
    /// An instance field: its cell index in every instance of `class` and subclasses.
    Field {
        /// Declaring class.
        class: ClassId,
        /// Cell index.
        cell: u16,
    },
    /// A virtual method (dispatched on the receiver's class at run time).
    Virtual {
        /// Class named in the constant pool.
        class: ClassId,
        /// Method token.
        token: u8,
    },
    /// A superclass method (`invokespecial` of `super.m()`): resolved from the superclass
    /// of `class`.
    Super {
        /// The class whose superclass starts the lookup.
        class: ClassId,
        /// Method token.
        token: u8,
    },
    /// An internal static field: offset in the static image.
    StaticField(u16),
    /// A static field of another package of the VM (a library): its package index and
    /// offset in that package's static image (Export component, §6.14).
    ForeignStaticField {
        /// Package index in the VM.
        pkg: u16,
        /// Offset in its static image.
        offset: u16,
    },
    /// A static method or constructor.
    StaticMethod(Callee),
    /// A reference this card cannot resolve (external static field of an API class):
    /// refused when executed.
    Unresolved(String),
}

/// What a static call runs.
#[derive(Debug, Clone)]
pub enum Callee {
    /// Bytecode at this offset of the Method component info (its method header).
    Bytecode(u16),
    /// Bytecode of another package of the VM (a static method of a library, through its
    /// Export component): the package index and the method header's offset.
    Foreign {
        /// Package index in the VM.
        pkg: u16,
        /// Offset of the method header in that package's Method info.
        off: u16,
    },
    /// An API method.
    Native(NativeRef),
}

/// An API method: its names and its Rust implementation (`None`: not implemented on this
/// card; calling it answers 6F00 and names it in [`crate::vm::Vm::last_fault`]).
#[derive(Debug, Clone)]
pub struct NativeRef {
    /// Class name.
    pub class: &'static str,
    /// Method name.
    pub name: &'static str,
    /// Descriptor.
    pub desc: &'static str,
    /// Implementation.
    pub f: Option<NativeFn>,
}

/// A class of the package, linked.
#[derive(Debug, Clone)]
pub struct Class {
    /// The Class component entry.
    pub info: ClassInfo,
    /// Superclass.
    pub super_class: Option<ClassId>,
    /// First field cell of this class's own fields (the cells of internal superclasses
    /// come first; API superclasses have no Java fields).
    pub first_cell: u16,
    /// Total cells of an instance.
    pub cells: u16,
    /// Implemented interfaces with their method index maps.
    pub interfaces: Vec<(ClassId, Vec<u8>)>,
}

/// A method header (§6.10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodHeader {
    /// `ACC_EXTENDED` / `ACC_ABSTRACT` flags.
    pub flags: u8,
    /// Operand stack words.
    pub max_stack: u8,
    /// Argument words (including `this`).
    pub nargs: u8,
    /// Local variable words beyond the arguments.
    pub max_locals: u8,
    /// Offset of the first bytecode in the Method info.
    pub code: usize,
}

/// Method flag `ACC_ABSTRACT` (§6.10.2).
pub const METHOD_ACC_ABSTRACT: u8 = 0x4;

/// The context of a library package (one without applets): it has none of its own, its
/// code runs in the caller's context (JCRE Spec 3.0.5 §6.1.1; static calls never switch).
pub const LIBRARY_CONTEXT: Context = 0xFF;

/// A linked package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The CAP.
    pub cap: Arc<CapFile>,
    /// Index in the VM (`ClassId::Cap::pkg`).
    pub index: u16,
    /// Its firewall context.
    pub context: Context,
    /// Resolved constant pool.
    pub cp: Vec<Cp>,
    /// Classes by offset.
    pub classes: HashMap<u16, Class>,
    /// Interfaces by offset: their superinterfaces.
    pub interfaces: HashMap<u16, Vec<ClassId>>,
    /// The import AIDs by package token.
    pub imports: Vec<Vec<u8>>,
    /// By package token: the index in the VM of an imported card package (`None`: a
    /// built-in API package).
    pub import_packages: Vec<Option<u16>>,
    /// API methods the package calls that this card does not implement.
    pub missing_natives: Vec<String>,
    /// End (exclusive) of the bytecode of each method, by the offset of its first
    /// bytecode (from the Descriptor; without one, the end of the Method component).
    pub code_ends: HashMap<usize, usize>,
}

/// Decodes the method header at `off` of Method info `info`.
pub fn method_header(info: &[u8], off: usize) -> Option<MethodHeader> {
    let b0 = *info.get(off)?;
    if b0 & 0x80 != 0 {
        let h = info.get(off..off + 4)?;
        Some(MethodHeader {
            flags: h[0] >> 4,
            max_stack: h[1],
            nargs: h[2],
            max_locals: h[3],
            code: off + 4,
        })
    } else {
        let b1 = *info.get(off + 1)?;
        Some(MethodHeader {
            flags: b0 >> 4,
            max_stack: b0 & 0x0F,
            nargs: b1 >> 4,
            max_locals: b1 & 0x0F,
            code: off + 2,
        })
    }
}

/// What an import resolves to: a built-in API package or a linked card package.
enum Resolved<'a> {
    Api,
    Card(&'a Package),
}

/// The package of an import (a built-in API package, else one of the card packages
/// `deps`), checked by major and minor version (§4.5: same major, minor at least the
/// imported one).
fn resolve_import<'a>(
    i: usize,
    aid: &[u8],
    major: u8,
    minor: u8,
    deps: &'a [Package],
) -> Result<Resolved<'a>, LinkError> {
    let name = crate::names::package_name(aid).unwrap_or("unknown package");
    let Some(p) = api::package_by_aid(aid) else {
        let d = deps
            .iter()
            .find(|d| d.cap.header.package.aid == aid)
            .ok_or_else(|| {
                LinkError(format!(
                    "import {i}: package {} ({name}) {major}.{minor} is not on this card",
                    crate::cap::hex(aid)
                ))
            })?;
        let h = &d.cap.header.package;
        if h.major != major || minor > h.minor {
            return Err(LinkError(format!(
                "import {i}: package {} {major}.{minor} needed, this card has {}.{}",
                crate::cap::hex(aid),
                h.major,
                h.minor
            )));
        }
        return Ok(Resolved::Card(d));
    };
    if p.major != major || minor > p.minor {
        return Err(LinkError(format!(
            "import {i}: package {} ({name}) {major}.{minor} needed, this card has {}.{}",
            crate::cap::hex(aid),
            p.major,
            p.minor
        )));
    }
    let _: &ApiPackage = p;
    Ok(Resolved::Api)
}

/// The AIDs a CAP imports that are neither built-in API packages nor among `card`
/// (package AIDs of the card's loaded packages): what a load must refuse.
pub fn missing_imports(cap: &CapFile, card: &[&[u8]]) -> Vec<String> {
    cap.imports
        .iter()
        .filter(|i| api::package_by_aid(&i.aid).is_none() && !card.contains(&i.aid.as_slice()))
        .map(|i| format!("{} {}.{}", crate::cap::hex(&i.aid), i.major, i.minor))
        .collect()
}

/// Links `cap` as package 0 of a VM in context `context`, with the card packages it
/// imports (directly or through other card packages) from `card` linked first as library
/// packages 1, 2, … in [`LIBRARY_CONTEXT`]: the VM's package list, index order.
pub fn link_with_card(
    cap: CapFile,
    context: Context,
    card: &[Arc<CapFile>],
) -> Result<Vec<Package>, LinkError> {
    // Depth-first: a package's card imports before it.
    fn visit(
        aid: &[u8],
        card: &[Arc<CapFile>],
        order: &mut Vec<Arc<CapFile>>,
        path: &mut Vec<Vec<u8>>,
    ) -> Result<(), LinkError> {
        if api::package_by_aid(aid).is_some() || order.iter().any(|c| c.header.package.aid == aid) {
            return Ok(());
        }
        if path.iter().any(|p| p == aid) {
            return Err(LinkError(format!(
                "package {}: import cycle",
                crate::cap::hex(aid)
            )));
        }
        let Some(c) = card.iter().find(|c| c.header.package.aid == aid) else {
            // Reported with its import index by `link`.
            return Ok(());
        };
        path.push(aid.to_vec());
        for i in &c.imports {
            visit(&i.aid, card, order, path)?;
        }
        path.pop();
        order.push(c.clone());
        Ok(())
    }
    let mut order = Vec::new();
    let mut path = vec![cap.header.package.aid.clone()];
    for i in &cap.imports {
        visit(&i.aid, card, &mut order, &mut path)?;
    }
    let mut deps: Vec<Package> = Vec::new();
    for (n, c) in order.iter().enumerate() {
        let p = link_with((**c).clone(), n as u16 + 1, LIBRARY_CONTEXT, &deps).map_err(|e| {
            LinkError(format!(
                "library {}: {}",
                crate::cap::hex(&c.header.package.aid),
                e.0
            ))
        })?;
        deps.push(p);
    }
    let main = link_with(cap, 0, context, &deps)?;
    let mut all = vec![main];
    all.extend(deps);
    Ok(all)
}

/// Links `cap` as package `index` in firewall context `context`, its imports against the
/// built-in API packages only.
pub fn link(cap: CapFile, index: u16, context: Context) -> Result<Package, LinkError> {
    link_with(cap, index, context, &[])
}

/// Links `cap` as package `index` in firewall context `context`, its imports against the
/// built-in API packages and the already linked card packages `deps`.
pub fn link_with(
    cap: CapFile,
    index: u16,
    context: Context,
    deps: &[Package],
) -> Result<Package, LinkError> {
    let cap = Arc::new(cap);
    let mut imports = Vec::new();
    let mut import_pkgs: Vec<Option<&Package>> = Vec::new();
    for (i, imp) in cap.imports.iter().enumerate() {
        match resolve_import(i, &imp.aid, imp.major, imp.minor, deps)? {
            Resolved::Api => import_pkgs.push(None),
            Resolved::Card(p) => import_pkgs.push(Some(p)),
        }
        imports.push(imp.aid.clone());
    }
    // A card package's exported class by class token (§6.14: indexed by token).
    let export_of = |p: &Package, class_token: u8, what: &str| {
        p.cap
            .export
            .get(class_token as usize)
            .cloned()
            .ok_or_else(|| {
                LinkError(format!(
                    "{what}: class token {class_token} not exported by package {}",
                    crate::cap::hex(&p.cap.header.package.aid)
                ))
            })
    };
    let class_id = |c: ClassRef, what: &str| -> Result<ClassId, LinkError> {
        match c {
            ClassRef::Internal(offset) => {
                if cap.classes.iter().any(|k| k.offset == offset)
                    || cap.interfaces.iter().any(|k| k.offset == offset)
                {
                    Ok(ClassId::Cap { pkg: index, offset })
                } else {
                    Err(LinkError(format!(
                        "{what}: no class at Class offset {offset}"
                    )))
                }
            }
            ClassRef::External {
                package_token,
                class_token,
            } => {
                if let Some(Some(p)) = import_pkgs.get(package_token as usize) {
                    let e = export_of(p, class_token, what)?;
                    return Ok(ClassId::Cap {
                        pkg: p.index,
                        offset: e.class_offset,
                    });
                }
                let aid = &imports[package_token as usize];
                api::api_class(aid, class_token)
                    .map(ClassId::Api)
                    .ok_or_else(|| {
                        LinkError(format!(
                            "{what}: class token {class_token} not in package {}",
                            crate::cap::hex(aid)
                        ))
                    })
            }
        }
    };
    // Classes: supers, cell layout.
    let mut supers: HashMap<u16, Option<ClassId>> = HashMap::new();
    for c in &cap.classes {
        let s = match c.super_class {
            Some(r) => Some(class_id(r, &format!("class at {}", c.offset))?),
            None => None,
        };
        supers.insert(c.offset, s);
    }
    let mut cells: HashMap<u16, (u16, u16)> = HashMap::new();
    for c in &cap.classes {
        let mut chain = vec![c.offset];
        let mut cur = supers[&c.offset];
        // The cells of a superclass chain that continues in a card package come first.
        let mut base = 0u16;
        while let Some(ClassId::Cap { pkg, offset }) = cur {
            if pkg != index {
                base = deps
                    .iter()
                    .find(|d| d.index == pkg)
                    .and_then(|d| d.class(offset))
                    .map(|k| k.cells)
                    .ok_or_else(|| {
                        LinkError(format!(
                            "class at {}: superclass in package {pkg} not linked",
                            c.offset
                        ))
                    })?;
                break;
            }
            if chain.contains(&offset) {
                return Err(LinkError(format!(
                    "class at {}: superclass cycle",
                    c.offset
                )));
            }
            chain.push(offset);
            cur = *supers.get(&offset).ok_or_else(|| {
                LinkError(format!(
                    "class at {}: superclass at {offset} is an interface",
                    c.offset
                ))
            })?;
        }
        let mut first = base;
        for off in chain.iter().rev() {
            let k = cap
                .classes
                .iter()
                .find(|k| k.offset == *off)
                .ok_or_else(|| LinkError(format!("class at {off}: not in the Class component")))?;
            // JCVM Spec §6.9: instance fields of a chain of classes; a CAP whose chain needs
            // more than 65535 cells is refused rather than wrapped.
            let total = first
                .checked_add(u16::from(k.declared_instance_size))
                .ok_or_else(|| {
                    LinkError(format!(
                        "class at {off}: instance fields of its superclass chain exceed 65535"
                    ))
                })?;
            cells.insert(*off, (first, total));
            first = total;
        }
    }
    let mut classes = HashMap::new();
    for c in &cap.classes {
        let mut interfaces = Vec::new();
        for (r, map) in &c.interfaces {
            interfaces.push((
                class_id(*r, &format!("class at {}", c.offset))?,
                map.clone(),
            ));
        }
        let (first_cell, total) = cells[&c.offset];
        classes.insert(
            c.offset,
            Class {
                info: c.clone(),
                super_class: supers[&c.offset],
                first_cell,
                cells: total,
                interfaces,
            },
        );
    }
    let mut ifaces = HashMap::new();
    for i in &cap.interfaces {
        let mut v = Vec::new();
        for r in &i.superinterfaces {
            v.push(class_id(*r, &format!("interface at {}", i.offset))?);
        }
        ifaces.insert(i.offset, v);
    }
    // Constant pool.
    let info = &cap.method.info;
    let mut missing = Vec::new();
    let mut cp = Vec::with_capacity(cap.constant_pool.len());
    for (i, e) in cap.constant_pool.iter().enumerate() {
        let what = format!("constant pool entry {i} ({})", e.kind());
        let r = match *e {
            CpEntry::ClassRef(c) => Cp::Class(class_id(c, &what)?),
            CpEntry::InstanceFieldRef { class, token } => {
                let c = class_id(class, &what)?;
                match c {
                    ClassId::Cap { pkg, .. } if pkg != index => {
                        Cp::Unresolved(format!("{what}: instance field of a library class"))
                    }
                    ClassId::Cap { offset, .. } => {
                        let k = classes
                            .get(&offset)
                            .ok_or_else(|| LinkError(format!("{what}: field of an interface")))?;
                        if token >= k.info.declared_instance_size {
                            return Err(LinkError(format!(
                                "{what}: field token {token} but the class declares {} cells",
                                k.info.declared_instance_size
                            )));
                        }
                        Cp::Field {
                            class: c,
                            cell: k.first_cell + token as u16,
                        }
                    }
                    ClassId::Api(_) => {
                        Cp::Unresolved(format!("{what}: instance field of an API class"))
                    }
                }
            }
            CpEntry::VirtualMethodRef { class, token } => Cp::Virtual {
                class: class_id(class, &what)?,
                token,
            },
            CpEntry::SuperMethodRef { class, token } => Cp::Super {
                class: class_id(class, &what)?,
                token,
            },
            CpEntry::StaticFieldRef(StaticRef::Internal(o)) => Cp::StaticField(o),
            CpEntry::StaticFieldRef(StaticRef::External {
                package_token,
                class_token,
                token,
            }) => match import_pkgs.get(package_token as usize) {
                Some(Some(p)) => {
                    let e = export_of(p, class_token, &what)?;
                    let offset = *e.static_field_offsets.get(token as usize).ok_or_else(|| {
                        LinkError(format!(
                            "{what}: static field token {token} not exported by class token {class_token}"
                        ))
                    })?;
                    Cp::ForeignStaticField {
                        pkg: p.index,
                        offset,
                    }
                }
                _ => Cp::Unresolved(format!("{what}: external static field")),
            },
            CpEntry::StaticMethodRef(StaticRef::Internal(o)) => {
                let h = method_header(info, o as usize).ok_or_else(|| {
                    LinkError(format!(
                        "{what}: method header at {o} past the Method component"
                    ))
                })?;
                if h.flags & METHOD_ACC_ABSTRACT != 0 {
                    return Err(LinkError(format!(
                        "{what}: static call of an abstract method"
                    )));
                }
                Cp::StaticMethod(Callee::Bytecode(o))
            }
            CpEntry::StaticMethodRef(StaticRef::External {
                package_token,
                class_token,
                token,
            }) if matches!(import_pkgs.get(package_token as usize), Some(Some(_))) => {
                let Some(Some(p)) = import_pkgs.get(package_token as usize) else {
                    return Err(LinkError(format!("{what}: package token {package_token}")));
                };
                let e = export_of(p, class_token, &what)?;
                let off = *e.static_method_offsets.get(token as usize).ok_or_else(|| {
                    LinkError(format!(
                        "{what}: static method token {token} not exported by class token {class_token}"
                    ))
                })?;
                method_header(&p.cap.method.info, off as usize).ok_or_else(|| {
                    LinkError(format!(
                        "{what}: method header at {off} past the Method component"
                    ))
                })?;
                Cp::StaticMethod(Callee::Foreign { pkg: p.index, off })
            }
            CpEntry::StaticMethodRef(StaticRef::External {
                package_token,
                class_token,
                token,
            }) => {
                let aid = &imports[package_token as usize];
                let c = api::api_class(aid, class_token)
                    .and_then(api::class_info)
                    .ok_or_else(|| {
                        LinkError(format!(
                            "{what}: class token {class_token} not in package {}",
                            crate::cap::hex(aid)
                        ))
                    })?;
                let m = c.static_method(token).ok_or_else(|| {
                    LinkError(format!(
                        "{what}: {} has no static method token {token}",
                        c.name
                    ))
                })?;
                let f = natives::lookup(c.name, m.name, m.desc);
                if f.is_none() {
                    missing.push(format!("{}.{}{}", c.name, m.name, m.desc));
                }
                Cp::StaticMethod(Callee::Native(NativeRef {
                    class: c.name,
                    name: m.name,
                    desc: m.desc,
                    f,
                }))
            }
        };
        cp.push(r);
    }
    // RefLocation: every fix-up location holds a valid constant pool index.
    for &l in &cap.ref_location.byte_indices {
        let v = info[l as usize] as usize;
        if v >= cp.len() {
            return Err(LinkError(format!(
                "RefLocation byte_index at Method offset {l}: constant pool index {v} of {}",
                cp.len()
            )));
        }
    }
    for &l in &cap.ref_location.byte2_indices {
        let v = u16::from_be_bytes([info[l as usize], info[l as usize + 1]]) as usize;
        if v >= cp.len() {
            return Err(LinkError(format!(
                "RefLocation byte2_index at Method offset {l}: constant pool index {v} of {}",
                cp.len()
            )));
        }
    }
    // Applets: install methods are static methods with a header.
    for a in &cap.applets {
        method_header(info, a.install_method_offset as usize).ok_or_else(|| {
            LinkError(format!(
                "applet {}: install method past the Method component",
                crate::cap::hex(&a.aid)
            ))
        })?;
    }
    missing.sort();
    missing.dedup();
    let mut code_ends = HashMap::new();
    if let Some(d) = &cap.descriptor {
        for m in d.classes.iter().flat_map(|c| c.methods.iter()) {
            if m.method_offset == 0 && m.bytecode_count == 0 {
                continue;
            }
            if let Some(h) = method_header(info, m.method_offset as usize) {
                code_ends.insert(h.code, h.code + m.bytecode_count as usize);
            }
        }
    }
    Ok(Package {
        cap,
        index,
        context,
        cp,
        classes,
        interfaces: ifaces,
        imports,
        import_packages: import_pkgs.iter().map(|p| p.map(|p| p.index)).collect(),
        missing_natives: missing,
        code_ends,
    })
}

impl Package {
    /// The static image as the StaticField component initialises it (§6.11): reference
    /// fields null (array-initialised ones get their arrays at install, see
    /// [`crate::interp`]), default values 0, then the non-default values.
    pub fn initial_statics(&self) -> Statics {
        let sf = &self.cap.static_field;
        let mut bytes = vec![0u8; sf.image_size as usize];
        let start = sf.reference_count as usize * 2 + sf.default_value_count as usize;
        bytes[start..start + sf.non_default_values.len()].copy_from_slice(&sf.non_default_values);
        Statics {
            refs: vec![None; sf.reference_count as usize],
            bytes,
        }
    }

    /// The linked class at `offset`.
    pub fn class(&self, offset: u16) -> Option<&Class> {
        self.classes.get(&offset)
    }
}
