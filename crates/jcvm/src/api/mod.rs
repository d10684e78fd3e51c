//! The built-in Java Card API packages: their token tables (generated from the SDK export
//! files, [`tokens`], and from the SIM Toolkit export file, [`tokens_toolkit`]) and the Rust
//! natives implementing them ([`lang`], [`framework`], [`toolkit`] for `sim.toolkit`; the
//! `javacard.security` / `javacardx.crypto` natives live in `api::crypto`). How a native is
//! found and called is described in [`crate::natives`].

pub mod crypto;
pub mod framework;
pub mod lang;
pub mod toolkit;
#[rustfmt::skip]
pub mod tokens;
#[rustfmt::skip]
pub mod tokens_toolkit;
pub mod tokens_types;

pub use tokens_types::{ApiClass, ApiField, ApiMethod, ApiPackage};

/// A built-in API class, as an index into the flattened class list of [`packages`]
/// (stable for one generated table; persisted by name, see [`api_class_by_name`]).
pub type ApiClassId = u16;

/// Every built-in package: the Java Card API ([`tokens::PACKAGES`]), then the SIM Toolkit
/// API ([`tokens_toolkit::PACKAGES`], TS 43.019).
pub fn packages() -> impl Iterator<Item = &'static ApiPackage> {
    tokens::PACKAGES.iter().chain(tokens_toolkit::PACKAGES)
}

/// The package with this AID.
pub fn package_by_aid(aid: &[u8]) -> Option<&'static ApiPackage> {
    packages().find(|p| p.aid == aid)
}

/// Every API class, flattened in package order (the index is its [`ApiClassId`]).
pub fn all_classes() -> &'static [(&'static ApiPackage, &'static ApiClass)] {
    static ALL: std::sync::OnceLock<Vec<(&'static ApiPackage, &'static ApiClass)>> =
        std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        packages()
            .flat_map(|p| p.classes.iter().map(move |c| (p, c)))
            .collect()
    })
}

/// The id of the class with this class token in the package with this AID.
pub fn api_class(aid: &[u8], class_token: u8) -> Option<ApiClassId> {
    all_classes()
        .iter()
        .position(|(p, c)| p.aid == aid && c.token == class_token)
        .map(|i| i as ApiClassId)
}

/// The id of the class with this fully qualified name (`javacard/framework/APDU`).
pub fn api_class_by_name(name: &str) -> Option<ApiClassId> {
    all_classes()
        .iter()
        .position(|(_, c)| c.name == name)
        .map(|i| i as ApiClassId)
}

/// The class with this id.
pub fn class_info(id: ApiClassId) -> Option<&'static ApiClass> {
    all_classes().get(id as usize).map(|(_, c)| *c)
}

/// The name of the class with this id (`"?"` for an unknown id).
pub fn class_name(id: ApiClassId) -> &'static str {
    class_info(id).map(|c| c.name).unwrap_or("?")
}

/// Whether API class `sub` is `sup` or a subclass / implementor of it (export file supers
/// and interfaces, JCVM Spec 3.0.5 §5.7).
pub fn api_is_subtype(sub: &str, sup: &str) -> bool {
    if sub == sup || sup == "java/lang/Object" {
        return true;
    }
    let Some(c) = api_class_by_name(sub).and_then(class_info) else {
        return false;
    };
    c.supers.contains(&sup) || c.interfaces.iter().any(|i| api_is_subtype(i, sup))
}
