//! Errors of the CAP reader: each names the component (or the ZIP container) and the offset.

/// A CAP file that cannot be read or fails structural verification (JCVM Spec 3.0.5 ch. 6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    /// The ZIP container is malformed; `offset` is in the archive.
    #[error("CAP ZIP container: {what} (at offset {offset})")]
    Zip {
        /// Byte offset in the archive.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    /// A component is malformed or inconsistent; `offset` is in the component's bytes
    /// (0 = its tag byte).
    #[error("{component} component: {what} (at offset {offset})")]
    Component {
        /// Component name (`Header`, `Directory`, ...).
        component: &'static str,
        /// Byte offset in the component, counted from its tag.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    /// A component that the CAP must have is absent.
    #[error("{0} component missing")]
    Missing(&'static str),
}
