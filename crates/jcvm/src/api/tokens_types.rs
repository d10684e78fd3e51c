//! The shapes of the generated token table ([`super::tokens`]): an API package with its
//! classes, their methods and fields and their tokens (JCVM Spec 3.0.5 §4.3.7 token
//! assignment, §5 export file format).

/// Method/field access flag `ACC_STATIC` (JCVM Spec 3.0.5 Table 5-8).
pub const ACC_STATIC: u16 = 0x0008;
/// Class access flag `ACC_INTERFACE` (Table 5-5).
pub const ACC_INTERFACE: u16 = 0x0200;

/// One exported package (§5.6 `CONSTANT_Package_info`).
#[derive(Debug)]
pub struct ApiPackage {
    /// Internal name (`javacard/framework`).
    pub name: &'static str,
    /// Package AID.
    pub aid: &'static [u8],
    /// Major version.
    pub major: u8,
    /// Minor version (the newest this card implements).
    pub minor: u8,
    /// Exported classes and interfaces.
    pub classes: &'static [ApiClass],
}

/// One exported class or interface (§5.7 `class_info`).
#[derive(Debug)]
pub struct ApiClass {
    /// Class token.
    pub token: u8,
    /// Access flags (Table 5-5).
    pub flags: u16,
    /// Fully qualified name.
    pub name: &'static str,
    /// All superclasses, `java/lang/Object` first, the direct superclass last.
    pub supers: &'static [&'static str],
    /// Implemented (or, for an interface, extended) interfaces.
    pub interfaces: &'static [&'static str],
    /// Exported fields (static final constants carry their value).
    pub fields: &'static [ApiField],
    /// Exported methods: constructors and static methods (one token space), then virtual
    /// methods (another token space).
    pub methods: &'static [ApiMethod],
}

impl ApiClass {
    /// The direct superclass (`None` for `java/lang/Object` and interfaces).
    pub fn super_class(&self) -> Option<&'static str> {
        if self.flags & ACC_INTERFACE != 0 {
            return None;
        }
        self.supers.last().copied()
    }

    /// Whether this is an interface.
    pub fn is_interface(&self) -> bool {
        self.flags & ACC_INTERFACE != 0
    }

    /// The virtual method with this token (instance methods, §4.3.7.6).
    pub fn virtual_method(&self, token: u8) -> Option<&'static ApiMethod> {
        self.methods
            .iter()
            .find(|m| !m.is_static() && m.token == token)
    }

    /// The static method or constructor with this token.
    pub fn static_method(&self, token: u8) -> Option<&'static ApiMethod> {
        self.methods
            .iter()
            .find(|m| m.is_static() && m.token == token)
    }

    /// The virtual method token of `name` with descriptor `desc`.
    pub fn virtual_token(&self, name: &str, desc: &str) -> Option<u8> {
        self.methods
            .iter()
            .find(|m| !m.is_static() && m.name == name && m.desc == desc)
            .map(|m| m.token)
    }
}

/// One exported method (§5.9 `method_info`).
#[derive(Debug)]
pub struct ApiMethod {
    /// Method token (static and virtual methods have separate token spaces).
    pub token: u8,
    /// Access flags.
    pub flags: u16,
    /// Name (`<init>` for constructors).
    pub name: &'static str,
    /// Descriptor (`([BSB)V`).
    pub desc: &'static str,
}

impl ApiMethod {
    /// Static methods and constructors share the static token space (§4.3.7.4).
    pub fn is_static(&self) -> bool {
        self.flags & ACC_STATIC != 0 || self.name == "<init>"
    }
}

/// One exported field (§5.8 `field_info`).
#[derive(Debug)]
pub struct ApiField {
    /// Field token.
    pub token: u8,
    /// Access flags.
    pub flags: u16,
    /// Name.
    pub name: &'static str,
    /// Descriptor.
    pub desc: &'static str,
    /// `ConstantValue` of a static final primitive field.
    pub value: Option<i32>,
}
