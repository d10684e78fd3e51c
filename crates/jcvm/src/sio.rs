//! Shareable interface objects across applet instances (JCRE Spec 3.0.5 §6.2.4 Shareable
//! interface objects, §6.2.7 obtaining them, §6.2.8 the firewall checks; JC API
//! `JCSystem.getAppletShareableInterfaceObject`, `Applet.getShareableInterfaceObject`,
//! `JCSystem.getPreviousContextAID`).
//!
//! Every applet instance runs in a VM of its own (its package's context, the libraries it
//! imports and the JCRE's), so a context switch between packages is a call from one VM into
//! another, made by the card through [`crate::vm::Env::shareable`] and
//! [`crate::vm::Env::invoke_shareable`]. The client never holds the server's object: it
//! holds a proxy ([`NativePeer::Shareable`]: the server instance AID, the object's id in the
//! server's heap and the interfaces it implements, named by package AID and class token)
//! on which only interface methods can be invoked — any other use (a field, an array
//! element, a virtual method) fails the firewall check. Arguments and results cross as
//! [`RemoteValue`]s: numbers as they are, the APDU buffer (a global array, §6.2.2) as the
//! other VM's own APDU buffer (contents copied in and back), proxies of the callee's own
//! objects as those objects, a Shareable object of the callee as a new proxy, and every
//! other reference as a *foreign* object: a placeholder owned by no context of the VM, so
//! that touching it throws `SecurityException` — the firewall of §6.2.8 for a non-global
//! array or object of another context.

use crate::heap::{Body, ClassId, Memory, ObjId, Object, Slot, Value};
use crate::natives::{NativePeer, Throw};
use crate::vm::{Env, Vm};

/// The owner of foreign placeholders: no context of the VM (never the JCRE's either).
pub const FOREIGN_CONTEXT: u8 = 0xFE;

/// A class or interface named across VMs: its package AID and class token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalClass {
    /// Package AID.
    pub package: Vec<u8>,
    /// Class token in that package.
    pub token: u8,
}

/// A Shareable interface object of another applet instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteObject {
    /// AID of the instance whose VM holds the object (the server).
    pub owner: Vec<u8>,
    /// The object in the server's heap.
    pub obj: ObjId,
    /// The interfaces its class implements (with their superinterfaces).
    pub interfaces: Vec<GlobalClass>,
}

/// A value crossing from one VM to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteValue {
    /// A `byte`, `short` or `boolean` word.
    Short(i16),
    /// An `int`.
    Int(i32),
    /// `null`.
    Null,
    /// The APDU buffer (each VM's own; contents travel with the call).
    ApduBuffer,
    /// An object of the receiving VM (a proxy the sender held of it).
    Own(ObjId),
    /// A Shareable interface object of the sending VM (results only).
    Shareable(RemoteObject),
    /// Any other object: not reachable from the receiving context.
    Foreign,
}

/// An interface method call on a Shareable interface object of another instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCall {
    /// The server instance.
    pub server: Vec<u8>,
    /// The calling instance (`getPreviousContextAID()` in the server).
    pub client: Vec<u8>,
    /// The object in the server's heap.
    pub obj: ObjId,
    /// The interface named by the `invokeinterface`.
    pub iface: GlobalClass,
    /// Its method token.
    pub token: u8,
    /// Argument words after the receiver.
    pub args: Vec<RemoteValue>,
    /// The client's APDU buffer contents.
    pub apdu_buffer: Vec<u8>,
    /// What is left of the client's bytecode budget: the server may not run more.
    pub budget: u64,
}

/// What a [`RemoteCall`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteReturn {
    /// The result (`None`: void).
    pub value: Option<RemoteValue>,
    /// The server's APDU buffer contents afterwards (copied into the client's).
    pub apdu_buffer: Vec<u8>,
    /// Instructions the server executed (charged to the client's budget).
    pub executed: u64,
}

impl Vm {
    /// The global name of a class of this VM.
    pub fn global_class(&self, c: ClassId) -> Option<GlobalClass> {
        match c {
            ClassId::Api(id) => {
                let (p, k) = crate::api::all_classes().get(id as usize)?;
                Some(GlobalClass {
                    package: p.aid.to_vec(),
                    token: k.token,
                })
            }
            ClassId::Cap { pkg, offset } => {
                let p = self.packages.get(pkg as usize)?;
                let token = p.cap.export.iter().position(|e| e.class_offset == offset)?;
                Some(GlobalClass {
                    package: p.cap.header.package.aid.clone(),
                    token: token as u8,
                })
            }
        }
    }

    /// The class of this VM with a global name (`None`: not linked here).
    pub fn local_class(&self, g: &GlobalClass) -> Option<ClassId> {
        if let Some(id) = crate::api::api_class(&g.package, g.token) {
            return Some(ClassId::Api(id));
        }
        let p = self
            .packages
            .iter()
            .find(|p| p.cap.header.package.aid == g.package)?;
        let e = p.cap.export.get(g.token as usize)?;
        Some(ClassId::Cap {
            pkg: p.index,
            offset: e.class_offset,
        })
    }

    /// Every interface class `c` implements, with superinterfaces, up its superclass chain.
    fn all_interfaces(&self, c: ClassId) -> Vec<ClassId> {
        let mut out: Vec<ClassId> = Vec::new();
        let mut todo: Vec<ClassId> = Vec::new();
        let mut cur = Some(c);
        let mut guard = 0;
        while let Some(ClassId::Cap { pkg, offset }) = cur {
            guard += 1;
            let Some(k) = self
                .packages
                .get(pkg as usize)
                .and_then(|p| p.class(offset))
            else {
                break;
            };
            todo.extend(k.interfaces.iter().map(|(i, _)| *i));
            cur = k.super_class;
            if guard > 64 {
                break;
            }
        }
        while let Some(i) = todo.pop() {
            if out.contains(&i) || out.len() > 64 {
                continue;
            }
            out.push(i);
            if let ClassId::Cap { pkg, offset } = i {
                if let Some(s) = self
                    .packages
                    .get(pkg as usize)
                    .and_then(|p| p.interfaces.get(&offset))
                {
                    todo.extend(s.iter().copied());
                }
            }
        }
        out
    }

    /// Whether object `id` is a Shareable interface object (implements
    /// `javacard.framework.Shareable`).
    fn is_shareable(&self, id: ObjId) -> bool {
        crate::api::api_class_by_name("javacard/framework/Shareable")
            .is_some_and(|s| self.instance_of(id, ClassId::Api(s)))
    }

    /// This VM's object `id` as a [`RemoteObject`] for a client.
    fn export_object(&self, id: ObjId) -> RemoteObject {
        let interfaces = self
            .class_of(id)
            .map(|c| self.all_interfaces(c))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| self.global_class(i))
            .collect();
        RemoteObject {
            owner: self.instance_aid.clone(),
            obj: id,
            interfaces,
        }
    }

    /// The server side of `JCSystem.getAppletShareableInterfaceObject` (JCRE Spec §6.2.7.2):
    /// the registered applet's `getShareableInterfaceObject(clientAID, parameter)`, run in
    /// the server's context with `getPreviousContextAID()` = the client. `None` when it
    /// returns null or an object that is not Shareable (or is not the server's own).
    pub fn shareable_for(
        &mut self,
        env: &mut dyn Env,
        client: &[u8],
        param: u8,
    ) -> Result<Option<RemoteObject>, Throw> {
        let Some(a) = self.applet else {
            return Ok(None);
        };
        let saved = (self.remote_caller.take(), self.entry_start);
        self.remote_caller = Some(client.to_vec());
        self.entry_start = self.executed;
        let aid = self.alloc_session(Body::Instance {
            class: ClassId::Api(
                crate::api::api_class_by_name("javacard/framework/AID").unwrap_or(0),
            ),
            fields: Vec::new(),
            peer: Some(NativePeer::Aid(client.to_vec())),
        });
        let r = self.call_virtual(
            env,
            a,
            "javacard/framework/Applet",
            "getShareableInterfaceObject",
            "(Ljavacard/framework/AID;B)Ljavacard/framework/Shareable;",
            &[Slot::R(Some(aid)), Slot::S(param as i8 as i16)],
        );
        self.heap.remove(aid);
        (self.remote_caller, self.entry_start) = saved;
        let r = r.map_err(|e| self.exported_throw(e))?;
        Ok(match r.and_then(|v| v.obj()) {
            Some(o)
                if self.is_shareable(o)
                    && self.heap.get(o).is_some_and(|x| x.owner != FOREIGN_CONTEXT) =>
            {
                Some(self.export_object(o))
            }
            _ => None,
        })
    }

    /// The server side of an interface method call on one of its Shareable interface
    /// objects (JCRE Spec §6.2.4: the call switches to the server's context;
    /// `getPreviousContextAID()` answers the client). Exceptions come back as API exception
    /// classes with their reason; an open transaction stays open (it is the client's).
    pub fn invoke_shareable(
        &mut self,
        env: &mut dyn Env,
        call: &RemoteCall,
    ) -> Result<RemoteReturn, Throw> {
        let this = call.obj;
        let own = self
            .heap
            .get(this)
            .is_some_and(|o| o.owner != FOREIGN_CONTEXT);
        if !(own && self.is_shareable(this)) {
            return Err(Throw::security());
        }
        let iface = self
            .local_class(&call.iface)
            .ok_or_else(|| self.fault("Shareable interface not linked in the server"))?;
        // Only the methods of Shareable interfaces are reachable (JCRE Spec §6.2.4.1).
        let shareable = crate::api::api_class_by_name("javacard/framework/Shareable")
            .map(ClassId::Api)
            .ok_or_else(|| self.fault("no javacard/framework/Shareable"))?;
        if !self.interface_is(iface, shareable, 0) {
            return Err(Throw::security());
        }
        let buf = self.apdu_buffer();
        if let Some(Object {
            body: Body::Bytes(b),
            ..
        }) = self.heap.get_mut(buf)
        {
            let n = b.len().min(call.apdu_buffer.len());
            b[..n].copy_from_slice(&call.apdu_buffer[..n]);
        }
        let mut placeholders = Vec::new();
        let mut args = Vec::with_capacity(call.args.len());
        for a in &call.args {
            let w = match a {
                RemoteValue::Short(s) => Slot::S(*s),
                RemoteValue::Int(i) => {
                    // Two words, high first (§3.5).
                    let hi = Slot::S((*i >> 16) as i16);
                    args.push(hi);
                    Slot::S(*i as i16)
                }
                RemoteValue::Null => Slot::R(None),
                RemoteValue::ApduBuffer => Slot::R(Some(buf)),
                RemoteValue::Own(id) if self.heap.get(*id).is_some() => Slot::R(Some(*id)),
                _ => {
                    let p = self.foreign_object();
                    placeholders.push(p);
                    Slot::R(Some(p))
                }
            };
            args.push(w);
        }
        let saved = (
            self.remote_caller.take(),
            self.entry_start,
            self.last_fault.take(),
            self.budget,
        );
        self.remote_caller = Some(call.client.clone());
        self.entry_start = self.executed;
        self.budget = call.budget.min(self.budget);
        let start = self.executed;
        let r = self.call_interface_class(env, this, iface, call.token, &args);
        let executed = self.executed - start;
        (self.remote_caller, self.entry_start, self.budget) = (saved.0, saved.1, saved.3);
        if self.last_fault.is_none() {
            self.last_fault = saved.2;
        }
        for p in placeholders {
            self.heap.remove(p);
        }
        let r = r.map_err(|e| self.exported_throw(e))?;
        let value = r.map(|v| match v {
            Value::Short(s) => RemoteValue::Short(s),
            Value::Int(i) => RemoteValue::Int(i),
            Value::Ref(None) => RemoteValue::Null,
            Value::Ref(Some(id)) if id == buf => RemoteValue::ApduBuffer,
            Value::Ref(Some(id))
                if self.is_shareable(id)
                    && self
                        .heap
                        .get(id)
                        .is_some_and(|o| o.owner != FOREIGN_CONTEXT) =>
            {
                RemoteValue::Shareable(self.export_object(id))
            }
            Value::Ref(Some(_)) => RemoteValue::Foreign,
        });
        let apdu_buffer = self
            .bytes(Some(buf))
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Ok(RemoteReturn {
            value,
            apdu_buffer,
            executed,
        })
    }

    /// A placeholder for an object of another VM (see [`FOREIGN_CONTEXT`]).
    pub(crate) fn foreign_object(&mut self) -> ObjId {
        self.heap.alloc(Object {
            owner: FOREIGN_CONTEXT,
            global: false,
            memory: Memory::ClearOnReset,
            body: Body::Instance {
                class: ClassId::Api(crate::api::api_class_by_name("java/lang/Object").unwrap_or(0)),
                fields: Vec::new(),
                peer: Some(NativePeer::Foreign),
            },
        })
    }

    /// An exception leaving this VM for another: an exception object becomes its API
    /// exception class (the nearest one up its class chain) with its reason.
    fn exported_throw(&mut self, t: Throw) -> Throw {
        match t {
            Throw::Object(exc) => {
                let reason = crate::vm::reason_of(self, Some(exc));
                let mut cur = self.class_of(exc);
                let mut guard = 0;
                while let Some(ClassId::Cap { pkg, offset }) = cur {
                    guard += 1;
                    cur = self
                        .packages
                        .get(pkg as usize)
                        .and_then(|p| p.class(offset))
                        .and_then(|k| k.super_class);
                    if guard > 64 {
                        cur = None;
                    }
                }
                match cur {
                    Some(ClassId::Api(id)) => Throw::java(crate::api::class_name(id), reason),
                    _ => Throw::java(crate::natives::SECURITY_EXCEPTION, 0),
                }
            }
            Throw::Suspend => self.fault("ProactiveHandler.send inside a Shareable call"),
            t => t,
        }
    }

    /// The client's proxy for a [`RemoteObject`] (one per server object: reused).
    pub(crate) fn proxy(&mut self, env: &mut dyn Env, r: RemoteObject) -> Result<ObjId, Throw> {
        let existing = self.heap.iter().find_map(|(id, o)| match &o.body {
            Body::Instance {
                peer: Some(NativePeer::Shareable(p)),
                ..
            } if p.owner == r.owner && p.obj == r.obj && o.owner == self.context => Some(id),
            _ => None,
        });
        if let Some(id) = existing {
            return Ok(id);
        }
        let c = crate::api::api_class_by_name("javacard/framework/Shareable").unwrap_or(0);
        self.alloc(
            env,
            Memory::Persistent,
            Body::Instance {
                class: ClassId::Api(c),
                fields: Vec::new(),
                peer: Some(NativePeer::Shareable(r)),
            },
        )
    }

    /// The [`RemoteObject`] behind a proxy.
    pub(crate) fn remote_of(&self, id: ObjId) -> Option<&RemoteObject> {
        match &self.heap.get(id)?.body {
            Body::Instance {
                peer: Some(NativePeer::Shareable(r)),
                ..
            } => Some(r),
            _ => None,
        }
    }

    /// Whether proxy `id` stands for an object implementing `target`.
    pub(crate) fn proxy_is(&self, id: ObjId, target: ClassId) -> Option<bool> {
        let r = self.remote_of(id)?;
        let shareable = crate::api::api_class_by_name("javacard/framework/Shareable");
        if Some(target) == shareable.map(ClassId::Api) {
            return Some(true);
        }
        let g = self.global_class(target)?;
        Some(r.interfaces.contains(&g))
    }

    /// A reference word as it crosses to the VM of `server`.
    pub(crate) fn outgoing(&self, server: &[u8], s: Slot) -> RemoteValue {
        match s {
            Slot::S(v) => RemoteValue::Short(v),
            Slot::R(None) => RemoteValue::Null,
            Slot::R(Some(id)) if Some(id) == self.apdu_buffer => RemoteValue::ApduBuffer,
            Slot::R(Some(id)) => match self.remote_of(id) {
                Some(r) if r.owner == server => RemoteValue::Own(r.obj),
                _ => RemoteValue::Foreign,
            },
        }
    }

    /// A result coming back from another VM, as a value of this one.
    pub(crate) fn incoming(&mut self, env: &mut dyn Env, v: RemoteValue) -> Result<Value, Throw> {
        Ok(match v {
            RemoteValue::Short(s) => Value::Short(s),
            RemoteValue::Int(i) => Value::Int(i),
            RemoteValue::Null => Value::Ref(None),
            RemoteValue::ApduBuffer => Value::Ref(Some(self.apdu_buffer())),
            RemoteValue::Shareable(r) => Value::Ref(Some(self.proxy(env, r)?)),
            RemoteValue::Own(_) | RemoteValue::Foreign => Value::Ref(Some(self.foreign_object())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_round_trips_through_nv() {
        let p = NativePeer::Shareable(RemoteObject {
            owner: vec![0xF0, 0x01],
            obj: 0x0102_0304,
            interfaces: vec![GlobalClass {
                package: vec![0xF0, 0x4C],
                token: 3,
            }],
        });
        assert_eq!(NativePeer::decode(&p.encode()).unwrap(), p);
        assert_eq!(
            NativePeer::decode(&NativePeer::Foreign.encode()).unwrap(),
            NativePeer::Foreign
        );
        // Truncated: an error naming the offset, no panic.
        let e = p.encode();
        for n in 1..e.len() {
            assert!(NativePeer::decode(&e[..n]).is_err());
        }
    }
}
