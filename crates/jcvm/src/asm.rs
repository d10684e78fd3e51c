//! Hand-assembled packages, for tests and fuzzing: a CAP (a real one as the template, so its
//! Header, Import and applet bits are the converter's) whose Method, ConstantPool,
//! Descriptor and StaticField components are replaced by the given static methods
//! (JCVM Spec 3.0.5 §6.10 method_info: a 2-byte header, then the bytecode), a constant pool
//! and exception handlers. The Class and Applet components are emptied: the methods are
//! reached with [`crate::vm::Vm::call_static`].

use crate::cap::{
    ClassDescriptor, ClassRef, CpEntry, Descriptor, ExceptionHandler, MethodDescriptor,
    StaticField, ACC_INT,
};
use crate::CapFile;

/// One static method: `max_stack`, `nargs`, `max_locals` (each < 16 for the 2-byte header
/// of §6.10.1; larger values are masked), and its bytecode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Operand stack cells.
    pub max_stack: u8,
    /// Argument cells.
    pub nargs: u8,
    /// Local variable cells besides the arguments.
    pub max_locals: u8,
    /// The bytecode.
    pub code: Vec<u8>,
}

/// One exception handler (§6.10.1): method index, try block start and length and handler
/// (relative to that method's code), catch type (constant pool index, 0 = any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handler {
    /// Index into the methods.
    pub method: usize,
    /// Try block start, relative to the method's code.
    pub start: u16,
    /// Try block length.
    pub length: u16,
    /// Handler code, relative to the method's code.
    pub handler: u16,
    /// Constant pool index of the caught class; 0 catches everything.
    pub catch_type: u16,
}

/// `template` with `methods` as its only methods (their method_info offsets are returned,
/// what [`crate::vm::Vm::call_static`] takes), the constant pool `cp(offsets)`, `handlers`,
/// and the CAP's int flag (§6.4 `ACC_INT`) set or cleared by `int`.
pub fn package(
    mut cap: CapFile,
    methods: &[Method],
    cp: impl Fn(&[u16]) -> Vec<CpEntry>,
    handlers: &[Handler],
    int: bool,
) -> (CapFile, Vec<u16>) {
    let mut info = vec![0u8];
    let mut offs = Vec::new();
    let mut descs = Vec::new();
    for (i, m) in methods.iter().enumerate() {
        let at = u16::try_from(info.len()).unwrap_or(u16::MAX);
        offs.push(at);
        descs.push(MethodDescriptor {
            token: i as u8,
            access_flags: 0x08,
            method_offset: at,
            type_offset: 0,
            bytecode_count: u16::try_from(m.code.len()).unwrap_or(u16::MAX),
            exception_handler_count: 0,
            exception_handler_index: 0,
        });
        info.extend_from_slice(&[m.max_stack, (m.nargs << 4) | (m.max_locals & 0x0F)]);
        info.extend_from_slice(&m.code);
    }
    cap.method.info = info;
    cap.method.handlers = handlers
        .iter()
        .filter_map(|h| {
            let base = offs.get(h.method)?.checked_add(2)?;
            Some(ExceptionHandler {
                start_offset: base.wrapping_add(h.start),
                active_length: h.length,
                stop: false,
                handler_offset: base.wrapping_add(h.handler),
                catch_type_index: h.catch_type,
            })
        })
        .collect();
    cap.constant_pool = cp(&offs);
    cap.descriptor = Some(Descriptor {
        classes: vec![ClassDescriptor {
            token: 0,
            access_flags: 0,
            this_class: ClassRef::Internal(0),
            interfaces: vec![],
            fields: vec![],
            methods: descs,
        }],
        constant_pool_types: vec![0; cap.constant_pool.len()],
    });
    cap.applets.clear();
    cap.classes.clear();
    cap.interfaces.clear();
    cap.ref_location.byte_indices.clear();
    cap.ref_location.byte2_indices.clear();
    cap.static_field = StaticField {
        image_size: 2,
        reference_count: 0,
        array_init: vec![],
        default_value_count: 2,
        non_default_values: vec![],
    };
    if int {
        cap.header.flags |= ACC_INT;
    } else {
        cap.header.flags &= !ACC_INT;
    }
    (cap, offs)
}
