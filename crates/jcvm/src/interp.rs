//! The bytecode interpreter (JCVM Spec 3.0.5 §7: every instruction, short and int forms),
//! method invocation (static, special, virtual and interface dispatch across packages,
//! §4.3.7), exception handling with the Method component's handler tables (§6.10.1, across
//! frames, catch by class and superclasses, `catch_type` 0 for `finally`), and the entry
//! points the card calls: install, select, deselect, process.
//!
//! Bad bytecode never panics: an ill-typed or out-of-range operand, a stack under- or
//! overflow, a jump outside the method, or a bad constant pool index throws
//! `SecurityException` (what the JCRE throws for a verifier or firewall violation); a
//! command that runs more than [`crate::vm::Vm::budget`] instructions is stopped with 6F00.

use crate::api;
use crate::frames::{Frame, MAX_FRAMES};
use crate::heap::{Body, ClassId, Memory, ObjId, Object, Slot, Value};
use crate::link::{self, Callee, Cp, NativeRef};
use crate::natives::{self, NativeFn, Throw};
use crate::vm::{reason_of, Env, Vm};

/// Where a virtual call goes.
#[derive(Debug, Clone)]
enum Target {
    /// Bytecode of package `pkg` at Method offset `off`.
    Bytecode { pkg: usize, off: u16 },
    /// An API method.
    Native(NativeRef),
}

/// The kind of one argument or result word group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Short,
    Int,
    Ref,
    Void,
}

fn parse_desc(desc: &str) -> (Vec<Kind>, Kind) {
    let b = desc.as_bytes();
    let mut args = Vec::new();
    let mut i = 1;
    let one = |i: &mut usize| -> Kind {
        let mut array = false;
        while b.get(*i) == Some(&b'[') {
            array = true;
            *i += 1;
        }
        let k = match b.get(*i) {
            Some(b'L') => {
                while b.get(*i).is_some_and(|c| *c != b';') {
                    *i += 1;
                }
                Kind::Ref
            }
            Some(b'I') => Kind::Int,
            Some(b'V') => Kind::Void,
            _ => Kind::Short,
        };
        *i += 1;
        if array {
            Kind::Ref
        } else {
            k
        }
    };
    while i < b.len() && b[i] != b')' {
        args.push(one(&mut i));
    }
    i += 1;
    let ret = if i < b.len() { one(&mut i) } else { Kind::Void };
    (args, ret)
}

fn words(args: &[Kind]) -> usize {
    args.iter()
        .map(|k| if *k == Kind::Int { 2 } else { 1 })
        .sum()
}

/// `javacard.framework.SystemException.NO_RESOURCE`.
const NO_RESOURCE: i16 = 3;

struct Exec<'a> {
    vm: &'a mut Vm,
    env: &'a mut dyn Env,
    frames: Vec<Frame>,
}

impl Vm {
    /// Runs a static method (bytecode at Method offset `off` of package `pkg`) with `args`
    /// words; the uncaught exception object as `Err(Throw::Object)`. The bytecode budget
    /// counts from here.
    pub fn call_static(
        &mut self,
        env: &mut dyn Env,
        pkg: usize,
        off: u16,
        args: &[Slot],
    ) -> Result<Option<Value>, Throw> {
        self.sync_statics(env);
        self.entry_start = self.executed;
        let mut ex = Exec {
            vm: self,
            env,
            frames: Vec::new(),
        };
        let r = ex.run(Target::Bytecode { pkg, off }, args.to_vec());
        ex.stash_if_suspended(&r);
        r
    }

    /// Calls virtual method `name desc` of class `class` on object `this` (dispatched on
    /// its class), with `args` words after `this`.
    pub fn call_virtual(
        &mut self,
        env: &mut dyn Env,
        this: ObjId,
        class: &str,
        name: &str,
        desc: &str,
        args: &[Slot],
    ) -> Result<Option<Value>, Throw> {
        self.sync_statics(env);
        let c = api::api_class_by_name(class)
            .and_then(api::class_info)
            .ok_or_else(|| self.fault(format!("no API class {class}")))?;
        let token = c
            .virtual_token(name, desc)
            .ok_or_else(|| self.fault(format!("no method {class}.{name}{desc}")))?;
        let rc = self.class_of(this).ok_or_else(Throw::npe)?;
        let t = self
            .find_virtual(rc, token)
            .ok_or_else(|| self.fault(format!("no implementation of {class}.{name}{desc}")))?;
        let mut w = vec![Slot::R(Some(this))];
        w.extend_from_slice(args);
        let mut ex = Exec {
            vm: self,
            env,
            frames: Vec::new(),
        };
        let r = ex.run(t, w);
        ex.stash_if_suspended(&r);
        r
    }

    /// Calls interface method `name desc` of API interface `iface` on object `this`
    /// (dispatched through its class's interface tables, §6.9), e.g.
    /// `sim/toolkit/ToolkitInterface.processToolkit(B)V`.
    pub fn call_interface(
        &mut self,
        env: &mut dyn Env,
        this: ObjId,
        iface: &str,
        name: &str,
        desc: &str,
        args: &[Slot],
    ) -> Result<Option<Value>, Throw> {
        self.sync_statics(env);
        let id = api::api_class_by_name(iface)
            .ok_or_else(|| self.fault(format!("no API interface {iface}")))?;
        let token = api::class_info(id)
            .and_then(|c| c.virtual_token(name, desc))
            .ok_or_else(|| self.fault(format!("no method {iface}.{name}{desc}")))?;
        let rc = self.class_of(this).ok_or_else(Throw::npe)?;
        if !self.instance_of(this, ClassId::Api(id)) {
            return Err(self.fault(format!("the applet does not implement {iface}")));
        }
        let mut w = vec![Slot::R(Some(this))];
        w.extend_from_slice(args);
        let mut ex = Exec {
            vm: self,
            env,
            frames: Vec::new(),
        };
        let t = ex.interface_target(rc, ClassId::Api(id), token)?;
        let r = ex.run(t, w);
        ex.stash_if_suspended(&r);
        r
    }

    /// Calls interface method `token` of interface `iface` (a class of this VM) on object
    /// `this` (§6.9 interface tables): the server side of a Shareable interface call.
    pub(crate) fn call_interface_class(
        &mut self,
        env: &mut dyn Env,
        this: ObjId,
        iface: ClassId,
        token: u8,
        args: &[Slot],
    ) -> Result<Option<Value>, Throw> {
        self.sync_statics(env);
        let rc = self.class_of(this).ok_or_else(Throw::npe)?;
        if !self.instance_of(this, iface) {
            return Err(Throw::java(natives::CLASS_CAST_EXCEPTION, 0));
        }
        let mut w = vec![Slot::R(Some(this))];
        w.extend_from_slice(args);
        let mut ex = Exec {
            vm: self,
            env,
            frames: Vec::new(),
        };
        let t = ex.interface_target(rc, iface, token)?;
        let r = ex.run(t, w);
        if matches!(r, Err(Throw::Suspend)) {
            return Err(self.fault("ProactiveHandler.send inside a Shareable call"));
        }
        r
    }

    /// Continues the frames suspended by [`Throw::Suspend`]: the suspended call returns
    /// `value`. `Err(Throw::Suspend)` again when the applet waits once more.
    pub(crate) fn resume_frames(
        &mut self,
        env: &mut dyn Env,
        value: Option<Value>,
    ) -> Result<Option<Value>, Throw> {
        self.sync_statics(env);
        let s = self
            .suspended
            .take()
            .ok_or_else(|| self.fault("nothing to resume"))?;
        self.context = s.context;
        let mut ex = Exec {
            vm: self,
            env,
            frames: s.frames,
        };
        let r = (|| {
            let fr = ex.frames.last_mut().ok_or(Throw::Fault(0x6F00))?;
            let op = fr.u1(0)?;
            fr.pc += if op == 0x8E { 5 } else { 3 };
            match value {
                None => {}
                Some(Value::Short(v)) => fr.push_s(v)?,
                Some(Value::Int(v)) => fr.push_i(v)?,
                Some(Value::Ref(v)) => fr.push_r(v)?,
            }
            ex.interpret_from(1)
        })();
        ex.stash_if_suspended(&r);
        r
    }

    fn super_of(&self, c: ClassId) -> Option<ClassId> {
        match c {
            ClassId::Cap { pkg, offset } => {
                self.packages.get(pkg as usize)?.class(offset)?.super_class
            }
            ClassId::Api(id) => {
                let s = api::class_info(id)?.super_class()?;
                api::api_class_by_name(s).map(ClassId::Api)
            }
        }
    }

    /// The implementation of virtual method `token` for receiver class `class` (§4.3.7.6:
    /// public tokens through the public vtables, package tokens (bit 7) through the package
    /// vtables, up the superclass chain into the API classes).
    fn find_virtual(&self, class: ClassId, token: u8) -> Option<Target> {
        let mut cur = Some(class);
        let mut guard = 0;
        while let Some(c) = cur {
            guard += 1;
            if guard > 64 {
                return None;
            }
            match c {
                ClassId::Cap { pkg, offset } => {
                    let k = self.packages.get(pkg as usize)?.class(offset)?;
                    let (base, table) = if token & 0x80 == 0 {
                        (k.info.public_method_table_base, &k.info.public_methods)
                    } else {
                        (k.info.package_method_table_base, &k.info.package_methods)
                    };
                    let t = token & 0x7F;
                    if t >= base {
                        if let Some(&o) = table.get((t - base) as usize) {
                            if o != 0xFFFF {
                                return Some(Target::Bytecode {
                                    pkg: pkg as usize,
                                    off: o,
                                });
                            }
                        }
                    }
                    cur = k.super_class;
                }
                ClassId::Api(id) => {
                    if token & 0x80 != 0 {
                        return None;
                    }
                    let ci = api::class_info(id)?;
                    let m = ci.virtual_method(token)?;
                    return Some(Target::Native(NativeRef {
                        class: ci.name,
                        name: m.name,
                        desc: m.desc,
                        f: self.native_along(ci.name, m.name, m.desc),
                    }));
                }
            }
        }
        None
    }

    /// The native `name desc` of API class `class` or its superclasses.
    fn native_along(&self, class: &str, name: &str, desc: &str) -> Option<NativeFn> {
        if let Some(f) = natives::lookup(class, name, desc) {
            return Some(f);
        }
        let c = api::api_class_by_name(class).and_then(api::class_info)?;
        c.supers
            .iter()
            .rev()
            .find_map(|s| natives::lookup(s, name, desc))
    }

    /// Whether object `id` is an instance of `target` (class, superclass or interface).
    pub(crate) fn instance_of(&self, id: ObjId, target: ClassId) -> bool {
        let Some(o) = self.heap.get(id) else {
            return false;
        };
        let obj = api::api_class_by_name("java/lang/Object");
        if Some(target) == obj.map(ClassId::Api) {
            return true;
        }
        if let Some(is) = self.proxy_is(id, target) {
            return is;
        }
        let Body::Instance { class, .. } = &o.body else {
            return false;
        };
        self.class_is(*class, target)
    }

    fn class_is(&self, class: ClassId, target: ClassId) -> bool {
        let mut cur = Some(class);
        let mut guard = 0;
        while let Some(c) = cur {
            guard += 1;
            if guard > 64 {
                return false;
            }
            if c == target {
                return true;
            }
            match c {
                ClassId::Cap { pkg, offset } => {
                    let Some(k) = self
                        .packages
                        .get(pkg as usize)
                        .and_then(|p| p.class(offset))
                    else {
                        return false;
                    };
                    if k.interfaces
                        .iter()
                        .any(|(i, _)| self.interface_is(*i, target, 0))
                    {
                        return true;
                    }
                    cur = k.super_class;
                }
                ClassId::Api(id) => {
                    return match target {
                        ClassId::Api(t) => {
                            api::api_is_subtype(api::class_name(id), api::class_name(t))
                        }
                        ClassId::Cap { .. } => false,
                    };
                }
            }
        }
        false
    }

    pub(crate) fn interface_is(&self, i: ClassId, target: ClassId, depth: usize) -> bool {
        if i == target {
            return true;
        }
        if depth > 16 {
            return false;
        }
        match i {
            ClassId::Cap { pkg, offset } => self
                .packages
                .get(pkg as usize)
                .and_then(|p| p.interfaces.get(&offset))
                .is_some_and(|sup| sup.iter().any(|s| self.interface_is(*s, target, depth + 1))),
            ClassId::Api(id) => match target {
                ClassId::Api(t) => api::api_is_subtype(api::class_name(id), api::class_name(t)),
                ClassId::Cap { .. } => false,
            },
        }
    }

    /// Whether the exception object is an `ISOException` (its reason is the status word).
    pub(crate) fn uncaught_status(&self, exc: ObjId) -> u16 {
        let iso = api::api_class_by_name(natives::ISO_EXCEPTION).map(ClassId::Api);
        match iso {
            Some(c) if self.instance_of(exc, c) => reason_of(self, Some(exc)) as u16,
            _ => 0x6F00,
        }
    }

    fn new_instance(&mut self, env: &mut dyn Env, c: ClassId) -> Result<ObjId, Throw> {
        let fields = match c {
            ClassId::Cap { pkg, offset } => {
                let p = self
                    .packages
                    .get(pkg as usize)
                    .ok_or_else(Throw::security)?;
                let k = p.class(offset).ok_or_else(Throw::security)?;
                let mut f = vec![Slot::S(0); k.cells as usize];
                let mut cur = Some(c);
                while let Some(ClassId::Cap { pkg, offset }) = cur {
                    // The chain may continue in a library package.
                    let Some(kk) = self
                        .packages
                        .get(pkg as usize)
                        .and_then(|p| p.class(offset))
                    else {
                        break;
                    };
                    if kk.info.reference_count > 0 && kk.info.first_reference_token != 0xFF {
                        let s = kk.first_cell as usize + kk.info.first_reference_token as usize;
                        for x in f.iter_mut().skip(s).take(kk.info.reference_count as usize) {
                            *x = Slot::R(None);
                        }
                    }
                    cur = kk.super_class;
                }
                f
            }
            ClassId::Api(id) => {
                let ci = api::class_info(id).ok_or_else(Throw::security)?;
                if ci.is_interface() {
                    return Err(Throw::security());
                }
                Vec::new()
            }
        };
        self.alloc(
            env,
            Memory::Persistent,
            Body::Instance {
                class: c,
                fields,
                peer: None,
            },
        )
    }
}

macro_rules! f {
    ($s:expr) => {
        $s.frames.last_mut().ok_or(Throw::Fault(0x6F00))?
    };
}

impl Exec<'_> {
    fn run(&mut self, t: Target, args: Vec<Slot>) -> Result<Option<Value>, Throw> {
        match t {
            Target::Native(n) => {
                let (kinds, _) = parse_desc(n.desc);
                let is_static = api::api_class_by_name(n.class)
                    .and_then(api::class_info)
                    .and_then(|c| {
                        c.methods
                            .iter()
                            .find(|m| m.name == n.name && m.desc == n.desc)
                    })
                    .is_some_and(|m| m.is_static() && m.name != "<init>");
                let mut vals = Vec::new();
                let mut it = args.into_iter();
                if !is_static {
                    vals.push(Value::Ref(match it.next() {
                        Some(Slot::R(r)) => r,
                        _ => return Err(Throw::security()),
                    }));
                }
                for k in kinds {
                    vals.push(match (k, it.next()) {
                        (Kind::Ref, Some(Slot::R(r))) => Value::Ref(r),
                        (Kind::Int, Some(Slot::S(h))) => match it.next() {
                            Some(Slot::S(l)) => Value::Int(((h as i32) << 16) | l as u16 as i32),
                            _ => return Err(Throw::security()),
                        },
                        (Kind::Short, Some(Slot::S(s))) => Value::Short(s),
                        _ => return Err(Throw::security()),
                    });
                }
                let f = n.f.ok_or_else(|| {
                    self.vm.fault(format!(
                        "{}.{}{} is not implemented",
                        n.class, n.name, n.desc
                    ))
                })?;
                match f(self.vm, self.env, &vals) {
                    Err(Throw::Java { class, reason }) => {
                        Err(Throw::Object(self.vm.exception_object(class, reason)?))
                    }
                    r => r,
                }
            }
            Target::Bytecode { pkg, off } => {
                self.enter(pkg, off, args)?;
                self.interpret()
            }
        }
    }

    /// Pushes a frame for the bytecode method at `off` with its argument words.
    fn enter(&mut self, pkg: usize, off: u16, args: Vec<Slot>) -> Result<(), Throw> {
        if self.frames.len() >= MAX_FRAMES {
            return Err(Throw::java(natives::SYSTEM_EXCEPTION, NO_RESOURCE));
        }
        let p = self.vm.packages.get(pkg).ok_or_else(Throw::security)?;
        let cap = p.cap.clone();
        let h = link::method_header(&cap.method.info, off as usize).ok_or_else(Throw::security)?;
        if h.flags & link::METHOD_ACC_ABSTRACT != 0 || args.len() != h.nargs as usize {
            return Err(Throw::security());
        }
        let code_end = p
            .code_ends
            .get(&h.code)
            .copied()
            .unwrap_or(cap.method.info.len());
        let mut locals = args;
        locals.resize(h.nargs as usize + h.max_locals as usize, Slot::S(0));
        let caller_context = self.vm.context;
        if p.context != link::LIBRARY_CONTEXT {
            self.vm.context = p.context;
        }
        self.frames.push(Frame {
            pkg,
            cap,
            code_start: h.code,
            code_end,
            pc: h.code,
            locals,
            stack: Vec::with_capacity(h.max_stack as usize),
            max_stack: h.max_stack as usize,
            caller_context,
        });
        Ok(())
    }

    fn interpret(&mut self) -> Result<Option<Value>, Throw> {
        let base = self.frames.len();
        self.interpret_from(base)
    }

    /// Keeps the frames in the VM when the run ended in [`Throw::Suspend`] (only the
    /// outermost execution may suspend: a nested one faults).
    fn stash_if_suspended(&mut self, r: &Result<Option<Value>, Throw>) {
        if matches!(r, Err(Throw::Suspend)) {
            self.vm.suspended = Some(crate::vm::Suspended {
                frames: std::mem::take(&mut self.frames),
                context: self.vm.context,
            });
        }
    }

    /// Runs until the frame at depth `base` returns.
    fn interpret_from(&mut self, base: usize) -> Result<Option<Value>, Throw> {
        loop {
            match self.step(base) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(Throw::Fault(sw)) => return Err(Throw::Fault(sw)),
                Err(Throw::Suspend) => {
                    // Frames stashed already: a nested execution (bytecode called by a
                    // native) suspended, whose Rust caller cannot be kept.
                    if self.vm.suspended.take().is_some() {
                        return Err(self.vm.fault("a nested execution cannot suspend"));
                    }
                    return Err(Throw::Suspend);
                }
                Err(Throw::Object(exc)) => {
                    if !self.handle(exc, base)? {
                        return Err(Throw::Object(exc));
                    }
                }
                Err(Throw::Java { class, reason }) => {
                    let exc = self.vm.exception_object(class, reason)?;
                    if !self.handle(exc, base)? {
                        return Err(Throw::Object(exc));
                    }
                }
            }
        }
    }

    /// Finds a handler for `exc` in the frames from the top down to `base`; unwinds.
    fn handle(&mut self, exc: ObjId, base: usize) -> Result<bool, Throw> {
        while self.frames.len() >= base && !self.frames.is_empty() {
            let fr = self.frames.last().ok_or(Throw::Fault(0x6F00))?;
            let pc = fr.pc;
            let pkg = fr.pkg;
            let cap = fr.cap.clone();
            for h in &cap.method.handlers {
                let start = h.start_offset as usize;
                if pc < start || pc >= start + h.active_length as usize {
                    continue;
                }
                let hit = if h.catch_type_index == 0 {
                    true
                } else {
                    match self.vm.packages[pkg].cp.get(h.catch_type_index as usize) {
                        Some(Cp::Class(c)) => self.vm.instance_of(exc, *c),
                        _ => false,
                    }
                };
                if hit {
                    let fr = f!(self);
                    fr.stack.clear();
                    fr.stack.push(Slot::R(Some(exc)));
                    if (h.handler_offset as usize) < fr.code_start
                        || h.handler_offset as usize >= fr.code_end
                    {
                        return Err(Throw::Fault(0x6F00));
                    }
                    fr.pc = h.handler_offset as usize;
                    return Ok(true);
                }
            }
            let fr = self.frames.pop().ok_or(Throw::Fault(0x6F00))?;
            self.vm.context = fr.caller_context;
            if self.frames.len() < base {
                break;
            }
        }
        Ok(false)
    }

    /// Returns from the top frame with `ret` words; `Some(value)` when the entry frame
    /// returned.
    fn ret(&mut self, base: usize, ret: Option<Value>) -> Result<Option<Option<Value>>, Throw> {
        let fr = self.frames.pop().ok_or(Throw::Fault(0x6F00))?;
        self.vm.context = fr.caller_context;
        if self.frames.len() < base {
            return Ok(Some(ret));
        }
        let caller = f!(self);
        let op = caller.u1(0)?;
        caller.pc += if op == 0x8E { 5 } else { 3 };
        match ret {
            None => {}
            Some(Value::Short(s)) => caller.push_s(s)?,
            Some(Value::Int(i)) => caller.push_i(i)?,
            Some(Value::Ref(r)) => caller.push_r(r)?,
        }
        Ok(None)
    }

    fn cp(&self, i: u16) -> Result<Cp, Throw> {
        let fr = self.frames.last().ok_or(Throw::Fault(0x6F00))?;
        self.vm.packages[fr.pkg]
            .cp
            .get(i as usize)
            .cloned()
            .ok_or_else(Throw::security)
    }

    fn cp_class(&self, i: u16) -> Result<ClassId, Throw> {
        match self.cp(i)? {
            Cp::Class(c) => Ok(c),
            _ => Err(Throw::security()),
        }
    }

    fn cp_field(&self, i: u16) -> Result<u16, Throw> {
        match self.cp(i)? {
            Cp::Field { cell, .. } => Ok(cell),
            _ => Err(Throw::security()),
        }
    }

    /// Invokes `t` with the top `nargs` words; `len` is the invoke instruction's length.
    fn invoke(&mut self, t: Target, nargs: usize) -> Result<(), Throw> {
        let fr = f!(self);
        if fr.stack.len() < nargs {
            return Err(Throw::security());
        }
        let at = fr.stack.len() - nargs;
        let args: Vec<Slot> = fr.stack.split_off(at);
        match t {
            Target::Bytecode { pkg, off } => self.enter(pkg, off, args),
            Target::Native(n) => {
                let (_, rk) = parse_desc(n.desc);
                let v = self.run(Target::Native(n), args)?;
                let fr = f!(self);
                let op = fr.u1(0)?;
                fr.pc += if op == 0x8E { 5 } else { 3 };
                match (rk, v) {
                    (Kind::Void, _) | (_, None) => {}
                    (Kind::Int, Some(v)) => fr.push_i(v.int())?,
                    (Kind::Ref, Some(v)) => fr.push_r(v.obj())?,
                    (_, Some(v)) => fr.push_s(v.short())?,
                }
                Ok(())
            }
        }
    }

    /// Number of argument words of a target (including `this` for instance methods).
    fn nargs(&self, t: &Target, instance: bool) -> Result<usize, Throw> {
        match t {
            Target::Bytecode { pkg, off } => {
                let cap = &self.vm.packages.get(*pkg).ok_or_else(Throw::security)?.cap;
                Ok(link::method_header(&cap.method.info, *off as usize)
                    .ok_or_else(Throw::security)?
                    .nargs as usize)
            }
            Target::Native(n) => Ok(words(&parse_desc(n.desc).0) + instance as usize),
        }
    }

    fn receiver(&self, nargs: usize) -> Result<ObjId, Throw> {
        let fr = self.frames.last().ok_or(Throw::Fault(0x6F00))?;
        if nargs == 0 || fr.stack.len() < nargs {
            return Err(Throw::security());
        }
        match fr.stack[fr.stack.len() - nargs] {
            Slot::R(Some(r)) => Ok(r),
            Slot::R(None) => Err(Throw::npe()),
            Slot::S(_) => Err(Throw::security()),
        }
    }

    /// Firewall check of a method invocation on `obj` (JCRE Spec §6.2.8.3): objects of the
    /// current context, JCRE entry point objects (global) and Shareable interface calls.
    /// `invokeinterface` on a proxy: the call goes to the server's VM through the card
    /// ([`crate::sio`]); the APDU buffer travels with it.
    fn invoke_remote(
        &mut self,
        recv: ObjId,
        iface: ClassId,
        token: u8,
        nargs: usize,
    ) -> Result<(), Throw> {
        let r = self
            .vm
            .remote_of(recv)
            .cloned()
            .ok_or_else(Throw::security)?;
        let g = self.vm.global_class(iface).ok_or_else(Throw::security)?;
        let fr = f!(self);
        if fr.stack.len() < nargs || nargs == 0 {
            return Err(Throw::security());
        }
        let at = fr.stack.len() - nargs;
        let words: Vec<Slot> = fr.stack.split_off(at);
        let args = words[1..]
            .iter()
            .map(|w| self.vm.outgoing(&r.owner, *w))
            .collect();
        let buf = self.vm.apdu_buffer();
        let apdu_buffer = self.vm.bytes(Some(buf))?.to_vec();
        let call = crate::sio::RemoteCall {
            server: r.owner.clone(),
            client: self.vm.instance_aid.clone(),
            obj: r.obj,
            iface: g,
            token,
            args,
            apdu_buffer,
            budget: self
                .vm
                .budget
                .saturating_sub(self.vm.executed - self.vm.entry_start),
        };
        let ret = self.env.invoke_shareable(&call);
        // The server may have written static images this VM shares (a library's).
        self.vm.sync_statics(self.env);
        let ret = ret?;
        // The server's instructions count against this entry's budget.
        self.vm.executed += ret.executed;
        if let Some(Object {
            body: Body::Bytes(b),
            ..
        }) = self.vm.heap.get_mut(buf)
        {
            let n = b.len().min(ret.apdu_buffer.len());
            b[..n].copy_from_slice(&ret.apdu_buffer[..n]);
        }
        let v = match ret.value {
            Some(v) => Some(self.vm.incoming(self.env, v)?),
            None => None,
        };
        let fr = f!(self);
        fr.pc += 5;
        match v {
            None => {}
            Some(Value::Short(s)) => fr.push_s(s)?,
            Some(Value::Int(i)) => fr.push_i(i)?,
            Some(Value::Ref(r)) => fr.push_r(r)?,
        }
        Ok(())
    }

    fn check_invoke(&self, obj: ObjId, interface: bool) -> Result<(), Throw> {
        let o = self.vm.heap.get(obj).ok_or_else(Throw::npe)?;
        if o.owner == self.vm.context
            || o.global
            || self.vm.context == crate::heap::JCRE_CONTEXT
            || interface
        {
            Ok(())
        } else {
            Err(Throw::security())
        }
    }

    fn array_load(&mut self, kind: u8) -> Result<(), Throw> {
        let fr = f!(self);
        let i = fr.pop_s()?;
        let r = fr.pop_r()?;
        let o = self.vm.object(r)?;
        let i = if i < 0 {
            return Err(Throw::bounds());
        } else {
            i as usize
        };
        let v = match (&o.body, kind) {
            (Body::Refs { elems, .. }, 0) => Slot::R(*elems.get(i).ok_or_else(Throw::bounds)?),
            (Body::Bytes(b) | Body::Booleans(b), 1) => {
                Slot::S(*b.get(i).ok_or_else(Throw::bounds)? as i8 as i16)
            }
            (Body::Shorts(s), 2) => Slot::S(*s.get(i).ok_or_else(Throw::bounds)?),
            (Body::Ints(v), 3) => {
                let x = *v.get(i).ok_or_else(Throw::bounds)?;
                let fr = f!(self);
                return fr.push_i(x);
            }
            _ => return Err(Throw::security()),
        };
        f!(self).push(v)
    }

    fn array_store(&mut self, kind: u8) -> Result<(), Throw> {
        let fr = f!(self);
        let (val, iv) = match kind {
            3 => (Slot::S(0), fr.pop_i()?),
            0 => (fr.pop()?, 0),
            _ => (Slot::S(fr.pop_s()?), 0),
        };
        let i = fr.pop_s()?;
        let r = fr.pop_r()?;
        if kind == 0 {
            self.vm.check_storable(val)?;
            let Slot::R(vr) = val else {
                return Err(Throw::security());
            };
            // ArrayStoreException: the component class must accept the value.
            let comp = match &self.vm.object(r)?.body {
                Body::Refs { class, .. } => *class,
                _ => return Err(Throw::security()),
            };
            if let (Some(c), Some(v)) = (comp, vr) {
                if !self.vm.instance_of(v, c) {
                    return Err(Throw::java(natives::ARRAY_STORE_EXCEPTION, 0));
                }
            }
        }
        let o = self.vm.object_mut(r)?;
        let i = if i < 0 {
            return Err(Throw::bounds());
        } else {
            i as usize
        };
        match (&mut o.body, kind, val) {
            (Body::Refs { elems, .. }, 0, Slot::R(v)) => {
                *elems.get_mut(i).ok_or_else(Throw::bounds)? = v
            }
            (Body::Bytes(b), 1, Slot::S(v)) => *b.get_mut(i).ok_or_else(Throw::bounds)? = v as u8,
            (Body::Booleans(b), 1, Slot::S(v)) => {
                *b.get_mut(i).ok_or_else(Throw::bounds)? = (v & 1) as u8
            }
            (Body::Shorts(s), 2, Slot::S(v)) => *s.get_mut(i).ok_or_else(Throw::bounds)? = v,
            (Body::Ints(s), 3, _) => *s.get_mut(i).ok_or_else(Throw::bounds)? = iv,
            _ => return Err(Throw::security()),
        }
        self.vm.persist(self.env, r.unwrap_or_default())
    }

    fn get_field(&mut self, r: Option<ObjId>, cell: u16, kind: u8) -> Result<(), Throw> {
        let o = self.vm.object(r)?;
        let Body::Instance { fields, .. } = &o.body else {
            return Err(Throw::security());
        };
        let c = cell as usize;
        let v0 = *fields.get(c).ok_or_else(Throw::security)?;
        let fr = f!(self);
        match (kind, v0) {
            (0, Slot::R(_)) => fr.push(v0),
            (1, Slot::S(v)) => fr.push_s(v as i8 as i16),
            (2, Slot::S(_)) => fr.push(v0),
            (3, Slot::S(_)) => {
                let v1 = match self.vm.object(r)?.body {
                    Body::Instance { ref fields, .. } => {
                        *fields.get(c + 1).ok_or_else(Throw::security)?
                    }
                    _ => return Err(Throw::security()),
                };
                let fr = f!(self);
                fr.push(v0)?;
                match v1 {
                    Slot::S(_) => fr.push(v1),
                    _ => Err(Throw::security()),
                }
            }
            _ => Err(Throw::security()),
        }
    }

    fn put_field(&mut self, r: Option<ObjId>, cell: u16, vals: &[Slot]) -> Result<(), Throw> {
        for v in vals {
            self.vm.check_storable(*v)?;
        }
        let o = self.vm.object_mut(r)?;
        let Body::Instance { fields, .. } = &mut o.body else {
            return Err(Throw::security());
        };
        let c = cell as usize;
        let dst = fields
            .get_mut(c..c + vals.len())
            .ok_or_else(Throw::security)?;
        for (d, v) in dst.iter_mut().zip(vals) {
            if std::mem::discriminant(d) != std::mem::discriminant(v) {
                return Err(Throw::security());
            }
            *d = *v;
        }
        self.vm.persist(self.env, r.unwrap_or_default())
    }

    fn static_off(&mut self, i: u16) -> Result<(usize, usize), Throw> {
        let pkg = fr_pkg(&self.frames)?;
        match self.cp(i)? {
            Cp::StaticField(o) => Ok((pkg, o as usize)),
            Cp::ForeignStaticField { pkg, offset } => Ok((pkg as usize, offset as usize)),
            Cp::Unresolved(w) => Err(self.vm.fault(w)),
            _ => Err(Throw::security()),
        }
    }

    fn get_static(&mut self, i: u16, kind: u8) -> Result<(), Throw> {
        let (pkg, o) = self.static_off(i)?;
        let s = &self.vm.statics[pkg];
        let v = match kind {
            0 => {
                if o % 2 != 0 {
                    return Err(Throw::security());
                }
                Slot::R(*s.refs.get(o / 2).ok_or_else(Throw::security)?)
            }
            1 => Slot::S(*s.bytes.get(o).ok_or_else(Throw::security)? as i8 as i16),
            2 => {
                let b = s.bytes.get(o..o + 2).ok_or_else(Throw::security)?;
                Slot::S(i16::from_be_bytes([b[0], b[1]]))
            }
            _ => {
                let b = s.bytes.get(o..o + 4).ok_or_else(Throw::security)?;
                let x = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                return f!(self).push_i(x);
            }
        };
        if kind != 0 && o < s.refs.len() * 2 {
            return Err(Throw::security());
        }
        f!(self).push(v)
    }

    fn put_static(&mut self, i: u16, kind: u8) -> Result<(), Throw> {
        let (pkg, o) = self.static_off(i)?;
        let fr = f!(self);
        let nrefs = self.vm.statics[pkg].refs.len();
        match kind {
            0 => {
                let v = fr.pop_r()?;
                self.vm.check_storable(Slot::R(v))?;
                if o % 2 != 0 {
                    return Err(Throw::security());
                }
                *self.vm.statics[pkg]
                    .refs
                    .get_mut(o / 2)
                    .ok_or_else(Throw::security)? = v;
            }
            _ => {
                let bytes: Vec<u8> = match kind {
                    1 => vec![fr.pop_s()? as u8],
                    2 => fr.pop_s()?.to_be_bytes().to_vec(),
                    _ => fr.pop_i()?.to_be_bytes().to_vec(),
                };
                if o < nrefs * 2 {
                    return Err(Throw::security());
                }
                let dst = self.vm.statics[pkg]
                    .bytes
                    .get_mut(o..o + bytes.len())
                    .ok_or_else(Throw::security)?;
                dst.copy_from_slice(&bytes);
                return self.vm.persist_package_statics(self.env, pkg);
            }
        }
        self.vm.persist_statics(self.env, pkg)
    }

    fn new_array(&mut self, body: Body) -> Result<(), Throw> {
        let id = self.vm.alloc(self.env, Memory::Persistent, body)?;
        f!(self).push_r(Some(id))
    }

    fn check_type(&self, r: Option<ObjId>, atype: u8, idx: u16) -> Result<bool, Throw> {
        let Some(id) = r else {
            return Ok(true);
        };
        let o = self.vm.heap.get(id).ok_or_else(Throw::npe)?;
        Ok(match atype {
            0 => self.vm.instance_of(id, self.cp_class(idx)?),
            10 => matches!(o.body, Body::Booleans(_)),
            11 => matches!(o.body, Body::Bytes(_)),
            12 => matches!(o.body, Body::Shorts(_)),
            13 => matches!(o.body, Body::Ints(_)),
            14 => {
                let target = self.cp_class(idx)?;
                match &o.body {
                    Body::Refs { class: Some(c), .. } => self.vm.class_is(*c, target),
                    Body::Refs { class: None, .. } => {
                        api::api_class_by_name("java/lang/Object").map(ClassId::Api) == Some(target)
                    }
                    _ => false,
                }
            }
            _ => return Err(Throw::security()),
        })
    }

    /// Executes one instruction; `Some(v)` when the entry method returned.
    fn step(&mut self, base: usize) -> Result<Option<Option<Value>>, Throw> {
        self.vm.executed += 1;
        if self.vm.executed - self.vm.entry_start > self.vm.budget {
            let b = self.vm.budget;
            return Err(self
                .vm
                .fault(format!("bytecode budget of {b} instructions spent")));
        }
        let int_ok = {
            let fr = self.frames.last().ok_or(Throw::Fault(0x6F00))?;
            fr.cap.header.flags & crate::cap::ACC_INT != 0
        };
        let fr = f!(self);
        let op = fr.u1(0)?;
        if !int_ok && is_int_op(op) {
            return Err(Throw::security());
        }
        let mut len = crate::bytecode::insn_len(
            &fr.cap.method.info[..fr.code_end.min(fr.cap.method.info.len())],
            fr.pc,
        )
        .ok_or_else(Throw::security)?;
        macro_rules! bin_s {
            ($f:expr) => {{
                let b = fr.pop_s()?;
                let a = fr.pop_s()?;
                fr.push_s($f(a, b))?;
            }};
        }
        macro_rules! bin_i {
            ($f:expr) => {{
                let b = fr.pop_i()?;
                let a = fr.pop_i()?;
                fr.push_i($f(a, b))?;
            }};
        }
        macro_rules! cond {
            ($c:expr, $off:expr) => {{
                if $c {
                    fr.branch($off as i32)?;
                    len = 0;
                }
            }};
        }
        match op {
            0x00 => {}
            0x01 => fr.push_r(None)?,
            0x02..=0x08 => fr.push_s(op as i16 - 3)?,
            0x09..=0x0F => fr.push_i(op as i32 - 0x0A)?,
            0x10 => {
                let v = fr.s1(1)?;
                fr.push_s(v)?
            }
            0x11 => {
                let v = fr.s2(1)?;
                fr.push_s(v)?
            }
            0x12 => {
                let v = fr.s1(1)?;
                fr.push_i(v as i32)?
            }
            0x13 => {
                let v = fr.s2(1)?;
                fr.push_i(v as i32)?
            }
            0x14 => {
                let v = fr.s4(1)?;
                fr.push_i(v)?
            }
            0x15 | 0x16 | 0x18..=0x1F => {
                let (i, want_ref) = match op {
                    0x15 => (fr.u1(1)? as usize, true),
                    0x16 => (fr.u1(1)? as usize, false),
                    0x18..=0x1B => ((op - 0x18) as usize, true),
                    _ => ((op - 0x1C) as usize, false),
                };
                let v = fr.local(i)?;
                if matches!(v, Slot::R(_)) != want_ref {
                    return Err(Throw::security());
                }
                fr.push(v)?
            }
            0x17 | 0x20..=0x23 => {
                let i = if op == 0x17 {
                    fr.u1(1)? as usize
                } else {
                    (op - 0x20) as usize
                };
                let (h, l) = (fr.local(i)?, fr.local(i + 1)?);
                if !matches!((h, l), (Slot::S(_), Slot::S(_))) {
                    return Err(Throw::security());
                }
                fr.push(h)?;
                fr.push(l)?
            }
            0x24 => self.array_load(0)?,
            0x25 => self.array_load(1)?,
            0x26 => self.array_load(2)?,
            0x27 => self.array_load(3)?,
            0x28 | 0x29 | 0x2B..=0x32 => {
                let (i, want_ref) = match op {
                    0x28 => (fr.u1(1)? as usize, true),
                    0x29 => (fr.u1(1)? as usize, false),
                    0x2B..=0x2E => ((op - 0x2B) as usize, true),
                    _ => ((op - 0x2F) as usize, false),
                };
                let v = fr.pop()?;
                // astore also takes a jsr return address (a short word).
                if !want_ref && matches!(v, Slot::R(_)) {
                    return Err(Throw::security());
                }
                fr.set_local(i, v)?
            }
            0x2A | 0x33..=0x36 => {
                let i = if op == 0x2A {
                    fr.u1(1)? as usize
                } else {
                    (op - 0x33) as usize
                };
                let l = fr.pop_s()?;
                let h = fr.pop_s()?;
                fr.set_local(i, Slot::S(h))?;
                fr.set_local(i + 1, Slot::S(l))?
            }
            0x37 => self.array_store(0)?,
            0x38 => self.array_store(1)?,
            0x39 => self.array_store(2)?,
            0x3A => self.array_store(3)?,
            0x3B => {
                fr.pop()?;
            }
            0x3C => {
                fr.pop()?;
                fr.pop()?;
            }
            0x3D => {
                let v = *fr.stack.last().ok_or_else(Throw::security)?;
                fr.push(v)?
            }
            0x3E => {
                let n = fr.stack.len();
                if n < 2 {
                    return Err(Throw::security());
                }
                let (a, b) = (fr.stack[n - 2], fr.stack[n - 1]);
                fr.push(a)?;
                fr.push(b)?
            }
            0x3F => {
                let mn = fr.u1(1)?;
                let (m, n) = ((mn >> 4) as usize, (mn & 0xF) as usize);
                let len_s = fr.stack.len();
                if !(1..=4).contains(&m) || (n != 0 && (n < m || n > m + 4)) || len_s < m.max(n) {
                    return Err(Throw::security());
                }
                if fr.stack.len() + m > fr.max_stack {
                    return Err(Throw::security());
                }
                let top: Vec<Slot> = fr.stack[len_s - m..].to_vec();
                let at = if n == 0 { len_s } else { len_s - n };
                for (k, v) in top.into_iter().enumerate() {
                    fr.stack.insert(at + k, v);
                }
            }
            0x40 => {
                let mn = fr.u1(1)?;
                let (m, n) = ((mn >> 4) as usize, (mn & 0xF) as usize);
                let l = fr.stack.len();
                if !(1..=2).contains(&m) || !(1..=2).contains(&n) || l < m + n {
                    return Err(Throw::security());
                }
                let top: Vec<Slot> = fr.stack.split_off(l - m);
                let at = l - m - n;
                for (k, v) in top.into_iter().enumerate() {
                    fr.stack.insert(at + k, v);
                }
            }
            0x41 => bin_s!(|a: i16, b: i16| a.wrapping_add(b)),
            0x42 => bin_i!(|a: i32, b: i32| a.wrapping_add(b)),
            0x43 => bin_s!(|a: i16, b: i16| a.wrapping_sub(b)),
            0x44 => bin_i!(|a: i32, b: i32| a.wrapping_sub(b)),
            0x45 => bin_s!(|a: i16, b: i16| a.wrapping_mul(b)),
            0x46 => bin_i!(|a: i32, b: i32| a.wrapping_mul(b)),
            0x47 | 0x49 => {
                let b = fr.pop_s()?;
                let a = fr.pop_s()?;
                if b == 0 {
                    return Err(Throw::java(natives::ARITHMETIC_EXCEPTION, 0));
                }
                fr.push_s(if op == 0x47 {
                    a.wrapping_div(b)
                } else {
                    a.wrapping_rem(b)
                })?
            }
            0x48 | 0x4A => {
                let b = fr.pop_i()?;
                let a = fr.pop_i()?;
                if b == 0 {
                    return Err(Throw::java(natives::ARITHMETIC_EXCEPTION, 0));
                }
                fr.push_i(if op == 0x48 {
                    a.wrapping_div(b)
                } else {
                    a.wrapping_rem(b)
                })?
            }
            0x4B => {
                let a = fr.pop_s()?;
                fr.push_s(a.wrapping_neg())?
            }
            0x4C => {
                let a = fr.pop_i()?;
                fr.push_i(a.wrapping_neg())?
            }
            0x4D => bin_s!(|a: i16, b: i16| ((a as i32) << (b & 0x1F)) as i16),
            0x4E => bin_i!(|a: i32, b: i32| a.wrapping_shl(b as u32 & 0x1F)),
            0x4F => bin_s!(|a: i16, b: i16| ((a as i32) >> (b & 0x1F)) as i16),
            0x50 => bin_i!(|a: i32, b: i32| a >> (b & 0x1F)),
            0x51 => bin_s!(|a: i16, b: i16| ((a as i32 as u32) >> (b & 0x1F)) as i16),
            0x52 => bin_i!(|a: i32, b: i32| ((a as u32) >> (b & 0x1F)) as i32),
            0x53 => bin_s!(|a: i16, b: i16| a & b),
            0x54 => bin_i!(|a: i32, b: i32| a & b),
            0x55 => bin_s!(|a: i16, b: i16| a | b),
            0x56 => bin_i!(|a: i32, b: i32| a | b),
            0x57 => bin_s!(|a: i16, b: i16| a ^ b),
            0x58 => bin_i!(|a: i32, b: i32| a ^ b),
            0x59 | 0x96 => {
                let i = fr.u1(1)? as usize;
                let c = if op == 0x59 { fr.s1(2)? } else { fr.s2(2)? };
                match fr.local(i)? {
                    Slot::S(v) => fr.set_local(i, Slot::S(v.wrapping_add(c)))?,
                    _ => return Err(Throw::security()),
                }
            }
            0x5A | 0x97 => {
                let i = fr.u1(1)? as usize;
                let c = if op == 0x5A { fr.s1(2)? } else { fr.s2(2)? };
                match (fr.local(i)?, fr.local(i + 1)?) {
                    (Slot::S(h), Slot::S(l)) => {
                        let v = (((h as i32) << 16) | l as u16 as i32).wrapping_add(c as i32);
                        fr.set_local(i, Slot::S((v >> 16) as i16))?;
                        fr.set_local(i + 1, Slot::S(v as i16))?
                    }
                    _ => return Err(Throw::security()),
                }
            }
            0x5B => {
                let a = fr.pop_s()?;
                fr.push_s(a as i8 as i16)?
            }
            0x5C => {
                let a = fr.pop_s()?;
                fr.push_i(a as i32)?
            }
            0x5D => {
                let a = fr.pop_i()?;
                fr.push_s(a as i8 as i16)?
            }
            0x5E => {
                let a = fr.pop_i()?;
                fr.push_s(a as i16)?
            }
            0x5F => {
                let b = fr.pop_i()?;
                let a = fr.pop_i()?;
                fr.push_s(a.cmp(&b) as i16)?
            }
            0x60..=0x65 | 0x98..=0x9D => {
                let off = if op < 0x98 { fr.s1(1)? } else { fr.s2(1)? };
                let v = fr.pop_s()?;
                let c = match op - if op < 0x98 { 0x60 } else { 0x98 } {
                    0 => v == 0,
                    1 => v != 0,
                    2 => v < 0,
                    3 => v >= 0,
                    4 => v > 0,
                    _ => v <= 0,
                };
                cond!(c, off)
            }
            0x66 | 0x67 | 0x9E | 0x9F => {
                let off = if op < 0x98 { fr.s1(1)? } else { fr.s2(1)? };
                let v = fr.pop_r()?;
                cond!((op == 0x66 || op == 0x9E) == v.is_none(), off)
            }
            0x68 | 0x69 | 0xA0 | 0xA1 => {
                let off = if op < 0x98 { fr.s1(1)? } else { fr.s2(1)? };
                let b = fr.pop_r()?;
                let a = fr.pop_r()?;
                cond!((op == 0x68 || op == 0xA0) == (a == b), off)
            }
            0x6A..=0x6F | 0xA2..=0xA7 => {
                let off = if op < 0x98 { fr.s1(1)? } else { fr.s2(1)? };
                let b = fr.pop_s()?;
                let a = fr.pop_s()?;
                let c = match op - if op < 0x98 { 0x6A } else { 0xA2 } {
                    0 => a == b,
                    1 => a != b,
                    2 => a < b,
                    3 => a >= b,
                    4 => a > b,
                    _ => a <= b,
                };
                cond!(c, off)
            }
            0x70 => {
                let off = fr.s1(1)?;
                cond!(true, off)
            }
            0xA8 => {
                let off = fr.s2(1)?;
                cond!(true, off)
            }
            0x71 => {
                let off = fr.s2(1)?;
                let ret = (fr.pc + 3) as i32;
                fr.push_s(ret as i16)?;
                cond!(true, off)
            }
            0x72 => {
                let i = fr.u1(1)? as usize;
                match fr.local(i)? {
                    Slot::S(a) => {
                        let t = a as u16 as i32 - fr.pc as i32;
                        fr.branch(t)?;
                        len = 0;
                    }
                    _ => return Err(Throw::security()),
                }
            }
            0x73 => {
                let d = fr.s2(1)?;
                let lo = fr.s2(3)?;
                let hi = fr.s2(5)?;
                let k = fr.pop_s()?;
                let off = if k >= lo && k <= hi {
                    // In i32: k - lo spans up to 65535 (lo = -32768, hi = 32767).
                    fr.s2(7 + 2 * (i32::from(k) - i32::from(lo)) as usize)?
                } else {
                    d
                };
                cond!(true, off)
            }
            0x74 => {
                let d = fr.s2(1)?;
                let lo = fr.s4(3)?;
                let hi = fr.s4(7)?;
                let k = fr.pop_i()?;
                let off = if k >= lo && k <= hi {
                    fr.s2(11 + 2 * (k as i64 - lo as i64) as usize)?
                } else {
                    d
                };
                cond!(true, off)
            }
            0x75 => {
                let d = fr.s2(1)?;
                let n = fr.u2(3)? as usize;
                let k = fr.pop_s()?;
                let mut off = d;
                for j in 0..n {
                    if fr.s2(5 + 4 * j)? == k {
                        off = fr.s2(7 + 4 * j)?;
                        break;
                    }
                }
                cond!(true, off)
            }
            0x76 => {
                let d = fr.s2(1)?;
                let n = fr.u2(3)? as usize;
                let k = fr.pop_i()?;
                let mut off = d;
                for j in 0..n {
                    if fr.s4(5 + 6 * j)? == k {
                        off = fr.s2(9 + 6 * j)?;
                        break;
                    }
                }
                cond!(true, off)
            }
            0x77 => {
                let v = fr.pop_r()?;
                return self.ret(base, Some(Value::Ref(v)));
            }
            0x78 => {
                let v = fr.pop_s()?;
                return self.ret(base, Some(Value::Short(v)));
            }
            0x79 => {
                let v = fr.pop_i()?;
                return self.ret(base, Some(Value::Int(v)));
            }
            0x7A => return self.ret(base, None),
            0x7B..=0x7E => {
                let i = fr.u2(1)?;
                self.get_static(i, op - 0x7B)?
            }
            0x7F..=0x82 => {
                let i = fr.u2(1)?;
                self.put_static(i, op - 0x7F)?
            }
            0x83..=0x86 | 0xA9..=0xAC | 0xAD..=0xB0 => {
                let (i, kind) = match op {
                    0x83..=0x86 => (fr.u1(1)? as u16, op - 0x83),
                    0xA9..=0xAC => (fr.u2(1)?, op - 0xA9),
                    _ => (fr.u1(1)? as u16, op - 0xAD),
                };
                let r = if op >= 0xAD {
                    match fr.local(0)? {
                        Slot::R(r) => r,
                        _ => return Err(Throw::security()),
                    }
                } else {
                    fr.pop_r()?
                };
                let cell = self.cp_field(i)?;
                self.get_field(r, cell, kind)?
            }
            0x87..=0x8A | 0xB1..=0xB4 | 0xB5..=0xB8 => {
                let (i, kind) = match op {
                    0x87..=0x8A => (fr.u1(1)? as u16, op - 0x87),
                    0xB1..=0xB4 => (fr.u2(1)?, op - 0xB1),
                    _ => (fr.u1(1)? as u16, op - 0xB5),
                };
                let vals: Vec<Slot> = match kind {
                    0 => vec![Slot::R(fr.pop_r()?)],
                    1 => vec![Slot::S(fr.pop_s()? as i8 as i16)],
                    2 => vec![Slot::S(fr.pop_s()?)],
                    _ => {
                        let l = fr.pop_s()?;
                        let h = fr.pop_s()?;
                        vec![Slot::S(h), Slot::S(l)]
                    }
                };
                let r = if op >= 0xB5 {
                    match fr.local(0)? {
                        Slot::R(r) => r,
                        _ => return Err(Throw::security()),
                    }
                } else {
                    fr.pop_r()?
                };
                let cell = self.cp_field(i)?;
                self.put_field(r, cell, &vals)?
            }
            0x8B => {
                let i = fr.u2(1)?;
                let (class, token) = match self.cp(i)? {
                    Cp::Virtual { class, token } => (class, token),
                    _ => return Err(Throw::security()),
                };
                let st = self
                    .vm
                    .find_virtual(class, token)
                    .ok_or_else(Throw::security)?;
                let nargs = self.nargs(&st, true)?;
                let recv = self.receiver(nargs)?;
                self.check_invoke(recv, false)?;
                let rc = self.vm.class_of(recv).ok_or_else(Throw::security)?;
                let t = self
                    .vm
                    .find_virtual(rc, token)
                    .ok_or_else(Throw::security)?;
                self.invoke(t, nargs)?;
                return Ok(None);
            }
            0x8C => {
                let i = fr.u2(1)?;
                let t = match self.cp(i)? {
                    Cp::StaticMethod(Callee::Bytecode(off)) => Target::Bytecode {
                        pkg: fr_pkg(&self.frames)?,
                        off,
                    },
                    Cp::StaticMethod(Callee::Foreign { pkg, off }) => Target::Bytecode {
                        pkg: pkg as usize,
                        off,
                    },
                    Cp::StaticMethod(Callee::Native(n)) => Target::Native(n),
                    Cp::Super { class, token } => {
                        let s = self.vm.super_of(class).ok_or_else(Throw::security)?;
                        self.vm.find_virtual(s, token).ok_or_else(Throw::security)?
                    }
                    _ => return Err(Throw::security()),
                };
                let nargs = self.nargs(&t, true)?;
                self.receiver(nargs)?;
                self.invoke(t, nargs)?;
                return Ok(None);
            }
            0x8D => {
                let i = fr.u2(1)?;
                let t = match self.cp(i)? {
                    Cp::StaticMethod(Callee::Bytecode(off)) => Target::Bytecode {
                        pkg: fr_pkg(&self.frames)?,
                        off,
                    },
                    Cp::StaticMethod(Callee::Foreign { pkg, off }) => Target::Bytecode {
                        pkg: pkg as usize,
                        off,
                    },
                    Cp::StaticMethod(Callee::Native(n)) => Target::Native(n),
                    _ => return Err(Throw::security()),
                };
                let nargs = self.nargs(&t, false)?;
                self.invoke(t, nargs)?;
                return Ok(None);
            }
            0x8E => {
                let nargs = fr.u1(1)? as usize;
                let i = fr.u2(2)?;
                let token = fr.u1(4)?;
                let iface = self.cp_class(i)?;
                let recv = self.receiver(nargs)?;
                self.check_invoke(recv, true)?;
                if self.vm.remote_of(recv).is_some() {
                    return self.invoke_remote(recv, iface, token, nargs).map(|_| None);
                }
                let rc = self.vm.class_of(recv).ok_or_else(Throw::security)?;
                let t = self.interface_target(rc, iface, token)?;
                self.invoke(t, nargs)?;
                return Ok(None);
            }
            0x8F => {
                let i = fr.u2(1)?;
                let c = self.cp_class(i)?;
                let id = self.vm.new_instance(self.env, c)?;
                f!(self).push_r(Some(id))?
            }
            0x90 => {
                let t = fr.u1(1)?;
                let n = fr.pop_s()?;
                if n < 0 {
                    return Err(Throw::java(natives::NEGATIVE_ARRAY_SIZE_EXCEPTION, 0));
                }
                let n = n as usize;
                let body = match t {
                    10 => Body::Booleans(vec![0; n]),
                    11 => Body::Bytes(vec![0; n]),
                    12 => Body::Shorts(vec![0; n]),
                    13 if int_ok => Body::Ints(vec![0; n]),
                    _ => return Err(Throw::security()),
                };
                self.new_array(body)?
            }
            0x91 => {
                let i = fr.u2(1)?;
                let n = fr.pop_s()?;
                if n < 0 {
                    return Err(Throw::java(natives::NEGATIVE_ARRAY_SIZE_EXCEPTION, 0));
                }
                let c = self.cp_class(i)?;
                self.new_array(Body::Refs {
                    class: Some(c),
                    elems: vec![None; n as usize],
                })?
            }
            0x92 => {
                let r = fr.pop_r()?;
                let n = self.vm.object(r)?.array_len().ok_or_else(Throw::security)?;
                f!(self).push_s(n as i16)?
            }
            0x93 => {
                let r = fr.pop_r()?;
                let id = r.ok_or_else(Throw::npe)?;
                let thr = api::api_class_by_name("java/lang/Throwable").map(ClassId::Api);
                if !thr.is_some_and(|t| self.vm.instance_of(id, t)) {
                    return Err(Throw::security());
                }
                return Err(Throw::Object(id));
            }
            0x94 | 0x95 => {
                let at = fr.u1(1)?;
                let i = fr.u2(2)?;
                let r = fr.pop_r()?;
                let ok = self.check_type(r, at, i)?;
                let fr = f!(self);
                if op == 0x94 {
                    if !ok {
                        return Err(Throw::java(natives::CLASS_CAST_EXCEPTION, 0));
                    }
                    fr.push_r(r)?
                } else {
                    fr.push_s((ok && r.is_some()) as i16)?
                }
            }
            _ => return Err(Throw::security()),
        }
        let fr = f!(self);
        fr.pc += len;
        Ok(None)
    }

    /// The implementation of interface method `token` of `iface` for receiver class `rc`
    /// (§6.9: the class's interface method index maps; API objects by name).
    fn interface_target(&self, rc: ClassId, iface: ClassId, token: u8) -> Result<Target, Throw> {
        let mut cur = Some(rc);
        let mut guard = 0;
        while let Some(c) = cur {
            guard += 1;
            if guard > 64 {
                break;
            }
            match c {
                ClassId::Cap { pkg, offset } => {
                    let k = self
                        .vm
                        .packages
                        .get(pkg as usize)
                        .and_then(|p| p.class(offset))
                        .ok_or_else(Throw::security)?;
                    if let Some((_, map)) = k.interfaces.iter().find(|(i, _)| *i == iface) {
                        let vt = *map.get(token as usize).ok_or_else(Throw::security)?;
                        return self.vm.find_virtual(rc, vt).ok_or_else(Throw::security);
                    }
                    cur = k.super_class;
                }
                ClassId::Api(id) => {
                    let ClassId::Api(iid) = iface else {
                        return Err(Throw::security());
                    };
                    let ic = api::class_info(iid).ok_or_else(Throw::security)?;
                    let m = ic.virtual_method(token).ok_or_else(Throw::security)?;
                    let cname = api::class_name(id);
                    let f = self
                        .vm
                        .native_along(cname, m.name, m.desc)
                        .or_else(|| natives::lookup(ic.name, m.name, m.desc))
                        .or_else(|| {
                            ic.interfaces
                                .iter()
                                .find_map(|s| natives::lookup(s, m.name, m.desc))
                        });
                    return Ok(Target::Native(NativeRef {
                        class: cname,
                        name: m.name,
                        desc: m.desc,
                        f,
                    }));
                }
            }
        }
        Err(Throw::security())
    }
}

fn fr_pkg(frames: &[Frame]) -> Result<usize, Throw> {
    frames.last().map(|f| f.pkg).ok_or(Throw::Fault(0x6F00))
}

/// Whether `op` uses the `int` type (JCVM Spec 3.0.5 §7.5; refused without `ACC_INT`).
pub fn is_int_op(op: u8) -> bool {
    matches!(
        op,
        0x09..=0x0F
            | 0x12..=0x14
            | 0x17
            | 0x20..=0x23
            | 0x27
            | 0x2A
            | 0x33..=0x36
            | 0x3A
            | 0x42 | 0x44 | 0x46 | 0x48 | 0x4A | 0x4C | 0x4E | 0x50 | 0x52 | 0x54 | 0x56 | 0x58
            | 0x5A
            | 0x5C..=0x5F
            | 0x74
            | 0x76
            | 0x79
            | 0x7E
            | 0x82
            | 0x86
            | 0x8A
            | 0x97
            | 0xAC
            | 0xB0
            | 0xB4
            | 0xB8
    )
}
