//! The components of a compact CAP file (JCVM Spec 3.0.5 §6.1–§6.14, also JC 2.1.x/2.2.x),
//! parsed into typed values, and the structural verification across them (§6.2: every
//! offset, count and size checked against the Directory and the component bounds).

use crate::error::CapError;
use crate::reader::Reader;
use crate::zip;
use serde::Serialize;

/// Component tags (JCVM Spec 3.0.5 Table 6-1).
pub mod tag {
    /// Header (§6.4).
    pub const HEADER: u8 = 1;
    /// Directory (§6.5).
    pub const DIRECTORY: u8 = 2;
    /// Applet (§6.6).
    pub const APPLET: u8 = 3;
    /// Import (§6.7).
    pub const IMPORT: u8 = 4;
    /// ConstantPool (§6.8).
    pub const CONSTANT_POOL: u8 = 5;
    /// Class (§6.9).
    pub const CLASS: u8 = 6;
    /// Method (§6.10).
    pub const METHOD: u8 = 7;
    /// StaticField (§6.11).
    pub const STATIC_FIELD: u8 = 8;
    /// RefLocation (§6.12).
    pub const REF_LOCATION: u8 = 9;
    /// Export (§6.13).
    pub const EXPORT: u8 = 10;
    /// Descriptor (§6.14).
    pub const DESCRIPTOR: u8 = 11;
    /// Debug (§6.15).
    pub const DEBUG: u8 = 12;
}

/// Name of a component tag.
pub fn component_name(t: u8) -> &'static str {
    match t {
        tag::HEADER => "Header",
        tag::DIRECTORY => "Directory",
        tag::APPLET => "Applet",
        tag::IMPORT => "Import",
        tag::CONSTANT_POOL => "ConstantPool",
        tag::CLASS => "Class",
        tag::METHOD => "Method",
        tag::STATIC_FIELD => "StaticField",
        tag::REF_LOCATION => "RefLocation",
        tag::EXPORT => "Export",
        tag::DESCRIPTOR => "Descriptor",
        tag::DEBUG => "Debug",
        _ => "custom",
    }
}

/// Header flag: the package uses the `int` type (§6.4 Table 6-3).
pub const ACC_INT: u8 = 0x01;
/// Header flag: the package has an Export component.
pub const ACC_EXPORT: u8 = 0x02;
/// Header flag: the package has an Applet component.
pub const ACC_APPLET: u8 = 0x04;

/// A package identity: AID and version (`package_info`, §6.4; `import` entries, §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageInfo {
    /// Minor version.
    pub minor: u8,
    /// Major version.
    pub major: u8,
    /// Package AID (5–16 bytes).
    #[serde(serialize_with = "ser_hex")]
    pub aid: Vec<u8>,
}

fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex(v))
}

/// Upper-case hex of `b`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The Header component (§6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// CAP format minor version.
    pub minor: u8,
    /// CAP format major version (2).
    pub major: u8,
    /// `ACC_INT | ACC_EXPORT | ACC_APPLET`.
    pub flags: u8,
    /// This package.
    pub package: PackageInfo,
    /// Fully qualified package name (`com/sun/...`), CAP format 2.2 and later.
    pub name: Option<String>,
}

/// One custom component declared in the Directory (§6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomComponent {
    /// Tag (128–255).
    pub tag: u8,
    /// Size of its info.
    pub size: u16,
    /// AID of its owner.
    #[serde(serialize_with = "ser_hex")]
    pub aid: Vec<u8>,
}

/// The Directory component (§6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directory {
    /// `component_sizes[tag - 1]` (11 entries for CAP 2.1, 12 from 2.2 with Debug).
    pub component_sizes: Vec<u16>,
    /// Static field image size (§6.5 `static_field_size_info`).
    pub image_size: u16,
    /// Number of initialised static arrays.
    pub array_init_count: u16,
    /// Total bytes of their initial values.
    pub array_init_size: u16,
    /// Number of imported packages.
    pub import_count: u8,
    /// Number of applets.
    pub applet_count: u8,
    /// Custom components.
    pub custom: Vec<CustomComponent>,
}

/// One applet of the Applet component (§6.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppletEntry {
    /// Applet (class) AID.
    #[serde(serialize_with = "ser_hex")]
    pub aid: Vec<u8>,
    /// Offset of its `install` method in the Method component's info.
    pub install_method_offset: u16,
}

/// A `class_ref` (§6.8.1): internal offset into the Class component, or external tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClassRef {
    /// Offset in the Class component's info.
    Internal(u16),
    /// Imported class: package token (index into Import) and class token.
    External {
        /// Index into the Import component.
        package_token: u8,
        /// Class token in that package.
        class_token: u8,
    },
}

impl ClassRef {
    fn from_u2(v: u16) -> Self {
        if v & 0x8000 != 0 {
            ClassRef::External {
                package_token: ((v >> 8) & 0x7F) as u8,
                class_token: v as u8,
            }
        } else {
            ClassRef::Internal(v)
        }
    }
}

/// A static field or method reference (§6.8.5, §6.8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StaticRef {
    /// Offset into the StaticField image (fields) or the Method component info (methods).
    Internal(u16),
    /// Imported item: package token, class token, member token.
    External {
        /// Index into the Import component.
        package_token: u8,
        /// Class token.
        class_token: u8,
        /// Field or method token.
        token: u8,
    },
}

/// One constant pool entry (§6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CpEntry {
    /// `CONSTANT_Classref` (tag 1).
    ClassRef(ClassRef),
    /// `CONSTANT_InstanceFieldref` (tag 2).
    InstanceFieldRef {
        /// Class.
        class: ClassRef,
        /// Field token.
        token: u8,
    },
    /// `CONSTANT_VirtualMethodref` (tag 3).
    VirtualMethodRef {
        /// Class.
        class: ClassRef,
        /// Method token.
        token: u8,
    },
    /// `CONSTANT_SuperMethodref` (tag 4).
    SuperMethodRef {
        /// Class.
        class: ClassRef,
        /// Method token.
        token: u8,
    },
    /// `CONSTANT_StaticFieldref` (tag 5).
    StaticFieldRef(StaticRef),
    /// `CONSTANT_StaticMethodref` (tag 6).
    StaticMethodRef(StaticRef),
}

impl CpEntry {
    /// The entry kind as the spec names it.
    pub fn kind(&self) -> &'static str {
        match self {
            CpEntry::ClassRef(_) => "Classref",
            CpEntry::InstanceFieldRef { .. } => "InstanceFieldref",
            CpEntry::VirtualMethodRef { .. } => "VirtualMethodref",
            CpEntry::SuperMethodRef { .. } => "SuperMethodref",
            CpEntry::StaticFieldRef(_) => "StaticFieldref",
            CpEntry::StaticMethodRef(_) => "StaticMethodref",
        }
    }
}

/// Class/interface flag `ACC_INTERFACE` (§6.9 Table 6-9, upper nibble of the bitfield).
pub const CLASS_ACC_INTERFACE: u8 = 0x8;
/// Class/interface flag `ACC_SHAREABLE`.
pub const CLASS_ACC_SHAREABLE: u8 = 0x4;
/// Class/interface flag `ACC_REMOTE`.
pub const CLASS_ACC_REMOTE: u8 = 0x2;

/// One `interface_info` of the Class component (§6.9.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceInfo {
    /// Offset in the Class component info.
    pub offset: u16,
    /// Flags (upper nibble of the bitfield).
    pub flags: u8,
    /// Superinterfaces.
    pub superinterfaces: Vec<ClassRef>,
}

/// One `class_info` of the Class component (§6.9.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassInfo {
    /// Offset in the Class component info (what an internal `class_ref` holds).
    pub offset: u16,
    /// Flags (upper nibble of the bitfield).
    pub flags: u8,
    /// Superclass (`None` only for `java.lang.Object`).
    pub super_class: Option<ClassRef>,
    /// Instance field cells declared by this class.
    pub declared_instance_size: u8,
    /// First reference field token.
    pub first_reference_token: u8,
    /// Number of reference fields.
    pub reference_count: u8,
    /// Public virtual method table base token.
    pub public_method_table_base: u8,
    /// Public virtual method table (offsets into Method info; 0xFFFF = inherited/abstract).
    pub public_methods: Vec<u16>,
    /// Package virtual method table base token.
    pub package_method_table_base: u8,
    /// Package virtual method table.
    pub package_methods: Vec<u16>,
    /// Implemented interfaces with their method index maps.
    pub interfaces: Vec<(ClassRef, Vec<u8>)>,
}

/// One exception handler of the Method component (§6.10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExceptionHandler {
    /// Start of the try block (offset in Method info).
    pub start_offset: u16,
    /// Length of the try block.
    pub active_length: u16,
    /// Last handler of a group (`stop_bit`).
    pub stop: bool,
    /// Handler code offset.
    pub handler_offset: u16,
    /// Constant pool index of the caught class (0 = any, `finally`).
    pub catch_type_index: u16,
}

/// The Method component (§6.10): handlers and the raw method area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodComponent {
    /// Exception handler table.
    pub handlers: Vec<ExceptionHandler>,
    /// The whole component info (offsets in other components point into this).
    #[serde(skip)]
    pub info: Vec<u8>,
}

/// One initialised static array (§6.11 `array_init_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArrayInit {
    /// Element type: 2 boolean, 3 byte, 4 short, 5 int.
    pub ty: u8,
    /// Initial bytes.
    #[serde(serialize_with = "ser_hex")]
    pub values: Vec<u8>,
}

/// The StaticField component (§6.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaticField {
    /// Bytes of the static field image.
    pub image_size: u16,
    /// Number of reference fields (first in the image).
    pub reference_count: u16,
    /// Initialised arrays.
    pub array_init: Vec<ArrayInit>,
    /// Bytes of primitive fields initialised to 0.
    pub default_value_count: u16,
    /// Initial values of the other primitive fields.
    #[serde(serialize_with = "ser_hex")]
    pub non_default_values: Vec<u8>,
}

/// The RefLocation component (§6.12), offsets resolved to absolute Method info offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefLocation {
    /// Offsets of one-byte constant pool indices.
    pub byte_indices: Vec<u16>,
    /// Offsets of two-byte constant pool indices.
    pub byte2_indices: Vec<u16>,
}

/// One class of the Export component (§6.13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassExport {
    /// Offset in the Class component info.
    pub class_offset: u16,
    /// Static field offsets (into the image).
    pub static_field_offsets: Vec<u16>,
    /// Static method offsets (into Method info).
    pub static_method_offsets: Vec<u16>,
}

/// One method of the Descriptor component (§6.14.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MethodDescriptor {
    /// Method token.
    pub token: u8,
    /// Access flags (Table 6-19).
    pub access_flags: u8,
    /// Offset of the method header in Method info (0 for interface/abstract methods).
    pub method_offset: u16,
    /// Offset of its signature in the type descriptor table.
    pub type_offset: u16,
    /// Number of bytecode bytes.
    pub bytecode_count: u16,
    /// Number of exception handlers.
    pub exception_handler_count: u16,
    /// Index of its first handler.
    pub exception_handler_index: u16,
}

/// One field of the Descriptor component (§6.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldDescriptor {
    /// Field token.
    pub token: u8,
    /// Access flags.
    pub access_flags: u8,
    /// The 3-byte `field_ref`.
    pub field_ref: [u8; 3],
    /// Type (primitive code with the high bit set, or an offset into the type table).
    pub ty: u16,
}

/// One class of the Descriptor component (§6.14.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassDescriptor {
    /// Class token.
    pub token: u8,
    /// Access flags.
    pub access_flags: u8,
    /// The class.
    pub this_class: ClassRef,
    /// Interfaces.
    pub interfaces: Vec<ClassRef>,
    /// Fields.
    pub fields: Vec<FieldDescriptor>,
    /// Methods.
    pub methods: Vec<MethodDescriptor>,
}

/// The Descriptor component (§6.14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// Classes and interfaces.
    pub classes: Vec<ClassDescriptor>,
    /// Types of the constant pool entries.
    pub constant_pool_types: Vec<u16>,
}

/// The size of one component as found (tag, name, info size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentSize {
    /// Tag.
    pub tag: u8,
    /// Name.
    pub name: &'static str,
    /// Info size (excluding the 3-byte tag and size).
    pub size: u16,
}

/// A parsed and structurally verified CAP file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapFile {
    /// Header.
    pub header: Header,
    /// Directory.
    pub directory: Directory,
    /// Applets (empty for library packages).
    pub applets: Vec<AppletEntry>,
    /// Imported packages, in token order.
    pub imports: Vec<PackageInfo>,
    /// Constant pool.
    pub constant_pool: Vec<CpEntry>,
    /// Interfaces of the Class component.
    pub interfaces: Vec<InterfaceInfo>,
    /// Classes of the Class component.
    pub classes: Vec<ClassInfo>,
    /// Method component.
    pub method: MethodComponent,
    /// StaticField component.
    pub static_field: StaticField,
    /// RefLocation component.
    pub ref_location: RefLocation,
    /// Export component (library packages).
    pub export: Vec<ClassExport>,
    /// Descriptor component, when present.
    pub descriptor: Option<Descriptor>,
    /// Every component found, in tag order.
    pub components: Vec<ComponentSize>,
}

impl CapFile {
    /// Number of methods with a body, from the Descriptor (`None` without one).
    pub fn method_count(&self) -> Option<usize> {
        self.descriptor.as_ref().map(|d| {
            d.classes
                .iter()
                .flat_map(|c| c.methods.iter())
                .filter(|m| m.access_flags & 0x40 == 0 && m.bytecode_count > 0)
                .count()
        })
    }

    /// Reads a CAP file (a ZIP archive holding `*/javacard/*.cap` components).
    pub fn from_zip(bytes: &[u8]) -> Result<Self, CapError> {
        let entries = zip::read_entries(bytes)?;
        let comps = entries
            .into_iter()
            .filter(|e| {
                let parts: Vec<&str> = e.name.rsplitn(3, '/').collect();
                parts.len() >= 2 && parts[1] == "javacard" && parts[0].ends_with(".cap")
            })
            .map(|e| e.data);
        Self::from_components(comps)
    }

    /// Reads a CAP from a GlobalPlatform load file data block: its components one after the
    /// other (GPCS §11.6.2.3, without the `C4` wrapper), each `tag u1, size u2, info`.
    pub fn from_load_file(data: &[u8]) -> Result<Self, CapError> {
        let mut comps = Vec::new();
        let mut p = 0usize;
        while p < data.len() {
            let h = data.get(p..p + 3).ok_or(CapError::Zip {
                offset: p,
                what: "load file: component header truncated".into(),
            })?;
            let n = u16::from_be_bytes([h[1], h[2]]) as usize;
            let c = data.get(p..p + 3 + n).ok_or(CapError::Zip {
                offset: p,
                what: format!("load file: component tag {} of {n} bytes truncated", h[0]),
            })?;
            comps.push(c.to_vec());
            p += 3 + n;
        }
        Self::from_components(comps)
    }

    /// Reads a CAP from its component files (each `tag u1, size u2, info`), in any order.
    pub fn from_components(comps: impl IntoIterator<Item = Vec<u8>>) -> Result<Self, CapError> {
        let mut by_tag: Vec<Option<Vec<u8>>> = vec![None; 13];
        let mut custom_found = Vec::new();
        for c in comps {
            let t = *c.first().ok_or(CapError::Zip {
                offset: 0,
                what: "empty component file".into(),
            })?;
            let name = component_name(t);
            let r = Reader::new(name, &c, 1);
            let size = Reader::new(name, &c, 1).u2("size")? as usize;
            if c.len() != size + 3 {
                return Err(r.err(format!(
                    "size field says {size} bytes, the file holds {}",
                    c.len().saturating_sub(3)
                )));
            }
            match t {
                1..=12 => {
                    if by_tag[t as usize].is_some() {
                        return Err(r.err_at(0, "component present twice"));
                    }
                    by_tag[t as usize] = Some(c);
                }
                128..=255 => custom_found.push((t, size)),
                _ => return Err(r.err_at(0, format!("unknown component tag {t}"))),
            }
        }
        let get = |t: u8| -> Result<&[u8], CapError> {
            by_tag[t as usize]
                .as_deref()
                .ok_or(CapError::Missing(component_name(t)))
        };
        let header = parse_header(get(tag::HEADER)?)?;
        let directory = parse_directory(get(tag::DIRECTORY)?, &header)?;
        let mut components = Vec::new();
        for t in 1..=12u8 {
            let Some(c) = by_tag[t as usize].as_deref() else {
                if let Some(&s) = directory.component_sizes.get(t as usize - 1) {
                    // Absent optional components: the Directory must say 0 (Debug and
                    // Descriptor may be left out of a download, §6.5).
                    if s != 0 && !matches!(t, tag::DESCRIPTOR | tag::DEBUG) {
                        return Err(CapError::Missing(component_name(t)));
                    }
                }
                continue;
            };
            let size = (c.len() - 3) as u16;
            if let Some(&s) = directory.component_sizes.get(t as usize - 1) {
                if s != size && t != tag::DIRECTORY {
                    return Err(CapError::Component {
                        component: "Directory",
                        offset: 3 + 2 * (t as usize - 1),
                        what: format!("{} size {s}, the component holds {size}", component_name(t)),
                    });
                }
            }
            components.push(ComponentSize {
                tag: t,
                name: component_name(t),
                size,
            });
        }
        for (t, s) in custom_found {
            components.push(ComponentSize {
                tag: t,
                name: "custom",
                size: s as u16,
            });
        }
        let method_bytes = get(tag::METHOD)?;
        let method_size = method_bytes.len() - 3;
        let class_bytes = get(tag::CLASS)?;
        let class_size = class_bytes.len() - 3;

        let applets = if header.flags & ACC_APPLET != 0 {
            parse_applets(get(tag::APPLET)?, method_size)?
        } else {
            Vec::new()
        };
        if applets.len() != directory.applet_count as usize {
            return Err(CapError::Component {
                component: "Directory",
                offset: dir_counts_offset(&directory) + 1,
                what: format!(
                    "applet_count {}, Applet component has {}",
                    directory.applet_count,
                    applets.len()
                ),
            });
        }
        let imports = parse_imports(get(tag::IMPORT)?)?;
        if imports.len() != directory.import_count as usize {
            return Err(CapError::Component {
                component: "Directory",
                offset: dir_counts_offset(&directory),
                what: format!(
                    "import_count {}, Import component has {}",
                    directory.import_count,
                    imports.len()
                ),
            });
        }
        let ctx = Ctx {
            imports: imports.len(),
            method_size,
            class_size,
            image_size: directory.image_size as usize,
        };
        let constant_pool = parse_constant_pool(get(tag::CONSTANT_POOL)?, &ctx)?;
        let (interfaces, classes) = parse_class(class_bytes, &header, &ctx)?;
        let method = parse_method(method_bytes)?;
        let static_field = parse_static_field(get(tag::STATIC_FIELD)?, &directory)?;
        let ref_location = parse_ref_location(get(tag::REF_LOCATION)?, method_size)?;
        let export = match by_tag[tag::EXPORT as usize].as_deref() {
            Some(b) => parse_export(b, &ctx)?,
            None if header.flags & ACC_EXPORT != 0 => return Err(CapError::Missing("Export")),
            None => Vec::new(),
        };
        let descriptor = match by_tag[tag::DESCRIPTOR as usize].as_deref() {
            Some(b) => Some(parse_descriptor(
                b,
                &ctx,
                method.handlers.len(),
                constant_pool.len(),
            )?),
            None => None,
        };
        if let Some(d) = &descriptor {
            verify_bytecode(&method.info, d)?;
        }
        Ok(CapFile {
            header,
            directory,
            applets,
            imports,
            constant_pool,
            interfaces,
            classes,
            method,
            static_field,
            ref_location,
            export,
            descriptor,
            components,
        })
    }
}

/// Sizes the cross-component checks use.
struct Ctx {
    imports: usize,
    method_size: usize,
    class_size: usize,
    image_size: usize,
}

impl Ctx {
    fn class_ref(&self, r: &Reader, at: usize, v: u16) -> Result<ClassRef, CapError> {
        let c = ClassRef::from_u2(v);
        match c {
            ClassRef::Internal(o) if o as usize >= self.class_size => Err(r.err_at(
                at,
                format!(
                    "class_ref {o} past the Class component ({} bytes)",
                    self.class_size
                ),
            )),
            ClassRef::External { package_token, .. } if package_token as usize >= self.imports => {
                Err(r.err_at(
                    at,
                    format!(
                        "package token {package_token} but only {} imports",
                        self.imports
                    ),
                ))
            }
            c => Ok(c),
        }
    }

    fn method_offset(&self, r: &Reader, at: usize, o: u16, field: &str) -> Result<(), CapError> {
        if o as usize >= self.method_size {
            return Err(r.err_at(
                at,
                format!(
                    "{field} {o} past the Method component ({} bytes)",
                    self.method_size
                ),
            ));
        }
        Ok(())
    }
}

fn dir_counts_offset(d: &Directory) -> usize {
    3 + 2 * d.component_sizes.len() + 6
}

fn parse_header(b: &[u8]) -> Result<Header, CapError> {
    let mut r = Reader::new("Header", b, 3);
    let magic = r.u4("magic")?;
    if magic != 0xDECA_FFED {
        return Err(r.err_at(3, format!("magic {magic:08X}, expected DECAFFED")));
    }
    let minor = r.u1("minor_version")?;
    let major = r.u1("major_version")?;
    if major != 2 || minor > 3 {
        return Err(r.err_at(
            8,
            format!("CAP format {major}.{minor} not supported (2.1–2.3)"),
        ));
    }
    let flags = r.u1("flags")?;
    let pminor = r.u1("package minor_version")?;
    let pmajor = r.u1("package major_version")?;
    let aid = r.lv("package AID", 5, 16)?;
    let name = if minor >= 2 && r.remaining() > 0 {
        let n = r.lv("package name", 0, 255)?;
        Some(String::from_utf8_lossy(&n).into_owned())
    } else {
        None
    };
    if r.remaining() != 0 {
        return Err(r.err(format!("{} trailing bytes", r.remaining())));
    }
    Ok(Header {
        minor,
        major,
        flags,
        package: PackageInfo {
            minor: pminor,
            major: pmajor,
            aid,
        },
        name,
    })
}

fn parse_directory(b: &[u8], h: &Header) -> Result<Directory, CapError> {
    let mut r = Reader::new("Directory", b, 3);
    let n = if h.minor >= 2 { 12 } else { 11 };
    let mut component_sizes = Vec::with_capacity(n);
    for i in 0..n {
        component_sizes.push(r.u2(&format!("component_sizes[{i}]"))?);
    }
    let image_size = r.u2("image_size")?;
    let array_init_count = r.u2("array_init_count")?;
    let array_init_size = r.u2("array_init_size")?;
    let import_count = r.u1("import_count")?;
    let applet_count = r.u1("applet_count")?;
    let custom_count = r.u1("custom_count")?;
    let mut custom = Vec::new();
    for _ in 0..custom_count {
        let at = r.pos;
        let t = r.u1("custom tag")?;
        if t < 128 {
            return Err(r.err_at(at, format!("custom component tag {t} below 128")));
        }
        let size = r.u2("custom size")?;
        let aid = r.lv("custom AID", 5, 16)?;
        custom.push(CustomComponent { tag: t, size, aid });
    }
    if r.remaining() != 0 {
        return Err(r.err(format!("{} trailing bytes", r.remaining())));
    }
    Ok(Directory {
        component_sizes,
        image_size,
        array_init_count,
        array_init_size,
        import_count,
        applet_count,
        custom,
    })
}

fn parse_applets(b: &[u8], method_size: usize) -> Result<Vec<AppletEntry>, CapError> {
    let mut r = Reader::new("Applet", b, 3);
    let count = r.u1("count")?;
    let mut v = Vec::new();
    for _ in 0..count {
        let aid = r.lv("applet AID", 5, 16)?;
        let at = r.pos;
        let install_method_offset = r.u2("install_method_offset")?;
        if install_method_offset as usize >= method_size {
            return Err(r.err_at(
                at,
                format!(
                    "install_method_offset {install_method_offset} past the Method component ({method_size} bytes)"
                ),
            ));
        }
        v.push(AppletEntry {
            aid,
            install_method_offset,
        });
    }
    if r.remaining() != 0 {
        return Err(r.err(format!(
            "{} trailing bytes after {count} applets",
            r.remaining()
        )));
    }
    Ok(v)
}

fn parse_imports(b: &[u8]) -> Result<Vec<PackageInfo>, CapError> {
    let mut r = Reader::new("Import", b, 3);
    let count = r.u1("count")?;
    let mut v = Vec::new();
    for _ in 0..count {
        let minor = r.u1("minor_version")?;
        let major = r.u1("major_version")?;
        let aid = r.lv("package AID", 5, 16)?;
        v.push(PackageInfo { minor, major, aid });
    }
    if r.remaining() != 0 {
        return Err(r.err(format!(
            "{} trailing bytes after {count} imports",
            r.remaining()
        )));
    }
    Ok(v)
}

fn parse_constant_pool(b: &[u8], ctx: &Ctx) -> Result<Vec<CpEntry>, CapError> {
    let mut r = Reader::new("ConstantPool", b, 3);
    let count = r.u2("count")?;
    if r.remaining() != count as usize * 4 {
        return Err(r.err(format!(
            "count {count} needs {} bytes, {} present",
            count as usize * 4,
            r.remaining()
        )));
    }
    let mut v = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let at = r.pos;
        let t = r.u1("tag")?;
        let a = r.u2("ref")?;
        let tok = r.u1("token")?;
        let static_ref = |r: &Reader, limit: usize, what: &str| -> Result<StaticRef, CapError> {
            if a & 0x8000 != 0 {
                let package_token = ((a >> 8) & 0x7F) as u8;
                if package_token as usize >= ctx.imports {
                    return Err(r.err_at(
                        at + 1,
                        format!(
                            "package token {package_token} but only {} imports",
                            ctx.imports
                        ),
                    ));
                }
                Ok(StaticRef::External {
                    package_token,
                    class_token: a as u8,
                    token: tok,
                })
            } else {
                // Internal: padding u1 (= 0) then offset u2.
                let off = ((a & 0xFF) << 8) | tok as u16;
                if (a >> 8) != 0 {
                    return Err(r.err_at(at + 1, "internal static ref padding not 0"));
                }
                if off as usize >= limit.max(1) && !(limit == 0 && off == 0) {
                    return Err(r.err_at(
                        at + 2,
                        format!("{what} offset {off} past its end ({limit} bytes)"),
                    ));
                }
                Ok(StaticRef::Internal(off))
            }
        };
        let e = match t {
            1 => {
                if tok != 0 {
                    return Err(r.err_at(at + 3, "Classref padding not 0"));
                }
                CpEntry::ClassRef(ctx.class_ref(&r, at + 1, a)?)
            }
            2 => CpEntry::InstanceFieldRef {
                class: ctx.class_ref(&r, at + 1, a)?,
                token: tok,
            },
            3 => CpEntry::VirtualMethodRef {
                class: ctx.class_ref(&r, at + 1, a)?,
                token: tok,
            },
            4 => CpEntry::SuperMethodRef {
                class: ctx.class_ref(&r, at + 1, a)?,
                token: tok,
            },
            5 => CpEntry::StaticFieldRef(static_ref(&r, ctx.image_size, "static field")?),
            6 => CpEntry::StaticMethodRef(static_ref(&r, ctx.method_size, "static method")?),
            t => return Err(r.err_at(at, format!("unknown constant pool tag {t}"))),
        };
        v.push(e);
    }
    Ok(v)
}

fn parse_class(
    b: &[u8],
    h: &Header,
    ctx: &Ctx,
) -> Result<(Vec<InterfaceInfo>, Vec<ClassInfo>), CapError> {
    let mut r = Reader::new("Class", b, 3);
    if h.minor >= 2 {
        let n = r.u2("signature_pool_length")? as usize;
        r.bytes(n, "signature_pool")?;
    }
    let mut ifs = Vec::new();
    let mut cls = Vec::new();
    while r.remaining() > 0 {
        let offset = (r.pos - 3) as u16;
        let bits = r.u1("bitfield")?;
        let flags = bits >> 4;
        let icount = bits & 0x0F;
        if flags & CLASS_ACC_INTERFACE != 0 {
            let mut sup = Vec::new();
            for _ in 0..icount {
                let at = r.pos;
                let v = r.u2("superinterface")?;
                sup.push(ctx.class_ref(&r, at, v)?);
            }
            if flags & CLASS_ACC_REMOTE != 0 {
                r.lv("interface_name", 0, 255)?;
            }
            ifs.push(InterfaceInfo {
                offset,
                flags,
                superinterfaces: sup,
            });
            continue;
        }
        let at = r.pos;
        let sc = r.u2("super_class_ref")?;
        let super_class = if sc == 0xFFFF {
            None
        } else {
            Some(ctx.class_ref(&r, at, sc)?)
        };
        let declared_instance_size = r.u1("declared_instance_size")?;
        let first_reference_token = r.u1("first_reference_token")?;
        let reference_count = r.u1("reference_count")?;
        let public_method_table_base = r.u1("public_method_table_base")?;
        let pub_count = r.u1("public_method_table_count")?;
        let package_method_table_base = r.u1("package_method_table_base")?;
        let pkg_count = r.u1("package_method_table_count")?;
        let table = |n: u8, field: &str, r: &mut Reader| -> Result<Vec<u16>, CapError> {
            let mut v = Vec::new();
            for _ in 0..n {
                let at = r.pos;
                let o = r.u2(field)?;
                if o != 0xFFFF {
                    ctx.method_offset(r, at, o, field)?;
                }
                v.push(o);
            }
            Ok(v)
        };
        let public_methods = table(pub_count, "public_virtual_method_table", &mut r)?;
        let package_methods = table(pkg_count, "package_virtual_method_table", &mut r)?;
        let mut interfaces = Vec::new();
        for _ in 0..icount {
            let at = r.pos;
            let v = r.u2("implemented interface")?;
            let c = ctx.class_ref(&r, at, v)?;
            let n = r.u1("implemented interface count")? as usize;
            interfaces.push((c, r.bytes(n, "implemented interface index")?.to_vec()));
        }
        if flags & CLASS_ACC_REMOTE != 0 {
            // remote_interface_info (§6.9.2, JC 2.2+).
            let n = r.u1("remote_methods_count")? as usize;
            r.bytes(n * 5, "remote_methods")?;
            r.lv("hash_modifier", 0, 255)?;
            r.lv("class_name", 0, 255)?;
            let n = r.u1("remote_interfaces_count")? as usize;
            for _ in 0..n {
                let at = r.pos;
                let v = r.u2("remote interface")?;
                ctx.class_ref(&r, at, v)?;
            }
        }
        cls.push(ClassInfo {
            offset,
            flags,
            super_class,
            declared_instance_size,
            first_reference_token,
            reference_count,
            public_method_table_base,
            public_methods,
            package_method_table_base,
            package_methods,
            interfaces,
        });
    }
    Ok((ifs, cls))
}

fn parse_method(b: &[u8]) -> Result<MethodComponent, CapError> {
    let size = b.len() - 3;
    let mut r = Reader::new("Method", b, 3);
    let n = r.u1("handler_count")?;
    let mut handlers = Vec::new();
    for i in 0..n {
        let at = r.pos;
        let start_offset = r.u2("start_offset")?;
        let bits = r.u2("active_length")?;
        let handler_offset = r.u2("handler_offset")?;
        let catch_type_index = r.u2("catch_type_index")?;
        let active_length = bits & 0x7FFF;
        if start_offset as usize + active_length as usize > size || handler_offset as usize >= size
        {
            return Err(r.err_at(
                at,
                format!("exception handler {i} range past the component ({size} bytes)"),
            ));
        }
        handlers.push(ExceptionHandler {
            start_offset,
            active_length,
            stop: bits & 0x8000 != 0,
            handler_offset,
            catch_type_index,
        });
    }
    Ok(MethodComponent {
        handlers,
        info: b[3..].to_vec(),
    })
}

fn parse_static_field(b: &[u8], d: &Directory) -> Result<StaticField, CapError> {
    let mut r = Reader::new("StaticField", b, 3);
    let image_size = r.u2("image_size")?;
    if image_size != d.image_size {
        return Err(r.err_at(
            3,
            format!("image_size {image_size}, Directory says {}", d.image_size),
        ));
    }
    let reference_count = r.u2("reference_count")?;
    let at = r.pos;
    let n = r.u2("array_init_count")?;
    if n != d.array_init_count {
        return Err(r.err_at(
            at,
            format!(
                "array_init_count {n}, Directory says {}",
                d.array_init_count
            ),
        ));
    }
    let mut array_init = Vec::new();
    for _ in 0..n {
        let at = r.pos;
        let ty = r.u1("array type")?;
        if !(2..=5).contains(&ty) {
            return Err(r.err_at(at, format!("array type {ty} not boolean/byte/short/int")));
        }
        let count = r.u2("array count")? as usize;
        array_init.push(ArrayInit {
            ty,
            values: r.bytes(count, "array values")?.to_vec(),
        });
    }
    let default_value_count = r.u2("default_value_count")?;
    let nd = r.u2("non_default_value_count")? as usize;
    let non_default_values = r.bytes(nd, "non_default_values")?.to_vec();
    if r.remaining() != 0 {
        return Err(r.err(format!("{} trailing bytes", r.remaining())));
    }
    let total = reference_count as usize * 2 + default_value_count as usize + nd;
    if total != image_size as usize {
        return Err(r.err_at(
            3,
            format!("image_size {image_size}, but references, default and initialised values make {total}"),
        ));
    }
    Ok(StaticField {
        image_size,
        reference_count,
        array_init,
        default_value_count,
        non_default_values,
    })
}

fn parse_ref_location(b: &[u8], method_size: usize) -> Result<RefLocation, CapError> {
    let mut r = Reader::new("RefLocation", b, 3);
    let list = |field: &str, width: usize, r: &mut Reader| -> Result<Vec<u16>, CapError> {
        let n = r.u2(field)? as usize;
        let start = r.pos;
        let deltas = r.bytes(n, field)?;
        let mut out = Vec::new();
        let mut off = 0usize;
        for (i, &d) in deltas.iter().enumerate() {
            off += d as usize;
            if d == 255 {
                continue; // continuation: 255 adds to the next delta (§6.12)
            }
            if off + width > method_size {
                return Err(r.err_at(
                    start + i,
                    format!(
                        "{field} location {off} past the Method component ({method_size} bytes)"
                    ),
                ));
            }
            out.push(off as u16);
        }
        Ok(out)
    };
    let byte_indices = list("byte_index", 1, &mut r)?;
    let byte2_indices = list("byte2_index", 2, &mut r)?;
    if r.remaining() != 0 {
        return Err(r.err(format!("{} trailing bytes", r.remaining())));
    }
    Ok(RefLocation {
        byte_indices,
        byte2_indices,
    })
}

fn parse_export(b: &[u8], ctx: &Ctx) -> Result<Vec<ClassExport>, CapError> {
    let mut r = Reader::new("Export", b, 3);
    let n = r.u1("class_count")?;
    let mut v = Vec::new();
    for _ in 0..n {
        let at = r.pos;
        let class_offset = r.u2("class_offset")?;
        if class_offset as usize >= ctx.class_size {
            return Err(r.err_at(
                at,
                format!("class_offset {class_offset} past the Class component"),
            ));
        }
        let nf = r.u1("static_field_count")?;
        let nm = r.u1("static_method_count")?;
        let mut static_field_offsets = Vec::new();
        for _ in 0..nf {
            let at = r.pos;
            let o = r.u2("static_field_offset")?;
            if o as usize >= ctx.image_size {
                return Err(r.err_at(at, format!("static_field_offset {o} past the image")));
            }
            static_field_offsets.push(o);
        }
        let mut static_method_offsets = Vec::new();
        for _ in 0..nm {
            let at = r.pos;
            let o = r.u2("static_method_offset")?;
            ctx.method_offset(&r, at, o, "static_method_offset")?;
            static_method_offsets.push(o);
        }
        v.push(ClassExport {
            class_offset,
            static_field_offsets,
            static_method_offsets,
        });
    }
    if r.remaining() != 0 {
        return Err(r.err(format!("{} trailing bytes", r.remaining())));
    }
    Ok(v)
}

fn parse_descriptor(
    b: &[u8],
    ctx: &Ctx,
    handlers: usize,
    cp_count: usize,
) -> Result<Descriptor, CapError> {
    let mut r = Reader::new("Descriptor", b, 3);
    let n = r.u1("class_count")?;
    let mut classes = Vec::new();
    for _ in 0..n {
        let token = r.u1("class token")?;
        let access_flags = r.u1("class access_flags")?;
        let at = r.pos;
        let v = r.u2("this_class_ref")?;
        let this_class = ctx.class_ref(&r, at, v)?;
        let ni = r.u1("interface_count")?;
        let nf = r.u2("field_count")?;
        let nm = r.u2("method_count")?;
        let mut interfaces = Vec::new();
        for _ in 0..ni {
            let at = r.pos;
            let v = r.u2("interface")?;
            interfaces.push(ctx.class_ref(&r, at, v)?);
        }
        let mut fields = Vec::new();
        for _ in 0..nf {
            let token = r.u1("field token")?;
            let access_flags = r.u1("field access_flags")?;
            let f = r.bytes(3, "field_ref")?;
            let ty = r.u2("field type")?;
            fields.push(FieldDescriptor {
                token,
                access_flags,
                field_ref: [f[0], f[1], f[2]],
                ty,
            });
        }
        let mut methods = Vec::new();
        for _ in 0..nm {
            let at = r.pos;
            let m = MethodDescriptor {
                token: r.u1("method token")?,
                access_flags: r.u1("method access_flags")?,
                method_offset: r.u2("method_offset")?,
                type_offset: r.u2("type_offset")?,
                bytecode_count: r.u2("bytecode_count")?,
                exception_handler_count: r.u2("exception_handler_count")?,
                exception_handler_index: r.u2("exception_handler_index")?,
            };
            let end = m.method_offset as usize + m.bytecode_count as usize;
            if m.method_offset != 0
                && (m.method_offset as usize >= ctx.method_size || end > ctx.method_size)
            {
                return Err(r.err_at(
                    at + 2,
                    format!(
                        "method at {} with {} bytecodes past the Method component ({} bytes)",
                        m.method_offset, m.bytecode_count, ctx.method_size
                    ),
                ));
            }
            if m.exception_handler_count > 0
                && m.exception_handler_index as usize + m.exception_handler_count as usize
                    > handlers
            {
                return Err(r.err_at(
                    at + 10,
                    format!("exception handlers past the {handlers} of the Method component"),
                ));
            }
            methods.push(m);
        }
        classes.push(ClassDescriptor {
            token,
            access_flags,
            this_class,
            interfaces,
            fields,
            methods,
        });
    }
    let at = r.pos;
    let cp = r.u2("constant_pool_count")?;
    if cp as usize != cp_count {
        return Err(r.err_at(
            at,
            format!("constant_pool_count {cp}, the ConstantPool component has {cp_count}"),
        ));
    }
    let mut constant_pool_types = Vec::new();
    for _ in 0..cp {
        constant_pool_types.push(r.u2("constant_pool_types")?);
    }
    while r.remaining() > 0 {
        let nibbles = r.u1("nibble_count")? as usize;
        r.bytes(nibbles.div_ceil(2), "type")?;
    }
    Ok(Descriptor {
        classes,
        constant_pool_types,
    })
}

/// Walks the bytecode of every method the Descriptor lists (§6.10.2 method header, §7.5
/// instruction lengths): each instruction lies inside its method.
fn verify_bytecode(info: &[u8], d: &Descriptor) -> Result<(), CapError> {
    let merr = |offset: usize, what: String| CapError::Component {
        component: "Method",
        offset: offset + 3,
        what,
    };
    for m in d.classes.iter().flat_map(|c| c.methods.iter()) {
        if m.bytecode_count == 0 {
            continue;
        }
        let off = m.method_offset as usize;
        let first = *info
            .get(off)
            .ok_or_else(|| merr(off, "method header past the component".into()))?;
        // ACC_EXTENDED (0x8 in the upper nibble): 4-byte header, else 2 bytes.
        let hdr = if first & 0x80 != 0 { 4 } else { 2 };
        let start = off + hdr;
        let code = info
            .get(start..start + m.bytecode_count as usize)
            .ok_or_else(|| {
                merr(
                    off,
                    format!(
                        "method with {} bytecodes runs past the component",
                        m.bytecode_count
                    ),
                )
            })?;
        crate::bytecode::walk(code).map_err(|(pc, what)| merr(start + pc, what))?;
    }
    Ok(())
}
