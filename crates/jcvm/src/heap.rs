//! The object heap (JCVM Spec 3.0.5 §2.2 objects, JCRE Spec 3.0.5 ch. 4 persistent and
//! transient objects, ch. 6 contexts): instances with their field cells and an optional
//! native peer, arrays of boolean/byte/short/int/reference, each with its owning context and
//! memory type. Persistent objects are written to non-volatile memory one object per write
//! ([`crate::vm::Env::persist`], key `o<id>`), in the compact encoding of [`encode`];
//! transient contents are never written and read back as zeros.

use crate::api::ApiClassId;
use crate::natives::NativePeer;

/// An object reference (a heap index; references are never forged from numbers: the
/// operand stack keeps them apart, [`Slot::R`]).
pub type ObjId = u32;

/// One 16-bit word of the operand stack, a local variable or an instance field cell
/// (JCVM Spec 3.0.5 §3.5: `int` takes two words, high word first). A reference is a
/// word of its own type so that bytecode cannot turn a number into a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A short, byte or boolean, or one half of an int.
    S(i16),
    /// A reference (`None` = null).
    R(Option<ObjId>),
}

impl Default for Slot {
    fn default() -> Self {
        Slot::S(0)
    }
}

/// A typed value: a native's argument or result, an array element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// `byte`, `short`, `boolean` (0/1).
    Short(i16),
    /// `int`.
    Int(i32),
    /// A reference (`None` = null).
    Ref(Option<ObjId>),
}

impl Value {
    /// As a short (an int is truncated; a reference is 0).
    pub fn short(self) -> i16 {
        match self {
            Value::Short(s) => s,
            Value::Int(i) => i as i16,
            Value::Ref(_) => 0,
        }
    }

    /// As an int.
    pub fn int(self) -> i32 {
        match self {
            Value::Short(s) => s as i32,
            Value::Int(i) => i,
            Value::Ref(_) => 0,
        }
    }

    /// As a reference (`None` for null and for numbers).
    pub fn obj(self) -> Option<ObjId> {
        match self {
            Value::Ref(r) => r,
            _ => None,
        }
    }

    /// As a boolean.
    pub fn bool(self) -> bool {
        self.short() != 0
    }
}

/// A class: a built-in API class or a class of a loaded CAP package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassId {
    /// A built-in API class ([`crate::api::all_classes`]).
    Api(ApiClassId),
    /// Class at `offset` of the Class component of loaded package `pkg`.
    Cap {
        /// Index of the package in the VM.
        pkg: u16,
        /// Offset in its Class component info.
        offset: u16,
    },
}

/// Where an object's contents live (JCRE Spec 3.0.5 §5, `JCSystem.MEMORY_TYPE_*`,
/// `CLEAR_ON_RESET` = 1, `CLEAR_ON_DESELECT` = 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    /// Non-volatile; every write goes through NV.
    Persistent,
    /// Transient, cleared at card reset.
    ClearOnReset,
    /// Transient, cleared when the applet is deselected.
    ClearOnDeselect,
}

/// A firewall context (JCRE Spec 3.0.5 §6.1.2): 0 is the JCRE, `n >= 1` a package.
pub type Context = u8;

/// The JCRE context.
pub const JCRE_CONTEXT: Context = 0;

/// The body of an object.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A class instance: its field cells (all classes of its chain, superclass cells
    /// first) and the native state of an API object.
    Instance {
        /// Its class.
        class: ClassId,
        /// Field cells.
        fields: Vec<Slot>,
        /// Native state (API objects: AID, OwnerPIN, keys, …).
        peer: Option<NativePeer>,
    },
    /// `boolean[]` (elements 0/1).
    Booleans(Vec<u8>),
    /// `byte[]`.
    Bytes(Vec<u8>),
    /// `short[]`.
    Shorts(Vec<i16>),
    /// `int[]`.
    Ints(Vec<i32>),
    /// A reference array and its component class (`None`: `Object[]`).
    Refs {
        /// Component class.
        class: Option<ClassId>,
        /// Elements.
        elems: Vec<Option<ObjId>>,
    },
}

/// One heap object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Owning context.
    pub owner: Context,
    /// Accessible from every context (the APDU buffer, install `bArray`: global arrays,
    /// JCRE Spec §6.2.2; JCRE entry point objects, §6.2.1).
    pub global: bool,
    /// Memory type.
    pub memory: Memory,
    /// Contents.
    pub body: Body,
}

impl Object {
    /// Array length (`None` for an instance).
    pub fn array_len(&self) -> Option<usize> {
        Some(match &self.body {
            Body::Booleans(v) | Body::Bytes(v) => v.len(),
            Body::Shorts(v) => v.len(),
            Body::Ints(v) => v.len(),
            Body::Refs { elems, .. } => elems.len(),
            Body::Instance { .. } => return None,
        })
    }

    /// Zeroes the contents (transient clear).
    pub fn clear(&mut self) {
        match &mut self.body {
            Body::Booleans(v) | Body::Bytes(v) => v.fill(0),
            Body::Shorts(v) => v.fill(0),
            Body::Ints(v) => v.fill(0),
            Body::Refs { elems, .. } => elems.fill(None),
            Body::Instance { fields, .. } => fields.fill(Slot::S(0)),
        }
    }
}

/// The heap: objects by id (index), `None` for a free id.
#[derive(Debug, Default, Clone)]
pub struct Heap {
    objects: Vec<Option<Object>>,
}

impl Heap {
    /// An empty heap.
    pub fn new() -> Heap {
        Heap::default()
    }

    /// The object `id`.
    pub fn get(&self, id: ObjId) -> Option<&Object> {
        self.objects.get(id as usize).and_then(|o| o.as_ref())
    }

    /// The object `id`, mutably.
    pub fn get_mut(&mut self, id: ObjId) -> Option<&mut Object> {
        self.objects.get_mut(id as usize).and_then(|o| o.as_mut())
    }

    /// Adds an object; its id (ids start at 1).
    pub fn alloc(&mut self, o: Object) -> ObjId {
        if self.objects.is_empty() {
            self.objects.push(None);
        }
        self.objects.push(Some(o));
        (self.objects.len() - 1) as ObjId
    }

    /// Puts an object at a given id (restoring from NV).
    pub fn put(&mut self, id: ObjId, o: Object) {
        let i = id as usize;
        if self.objects.len() <= i {
            self.objects.resize(i + 1, None);
        }
        self.objects[i] = Some(o);
    }

    /// Removes object `id`.
    pub fn remove(&mut self, id: ObjId) {
        if let Some(o) = self.objects.get_mut(id as usize) {
            *o = None;
        }
    }

    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.objects.iter().filter(|o| o.is_some()).count()
    }

    /// No live objects.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live object with its id.
    pub fn iter(&self) -> impl Iterator<Item = (ObjId, &Object)> {
        self.objects
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.as_ref().map(|o| (i as ObjId, o)))
    }

    /// Every live object with its id, mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ObjId, &mut Object)> {
        self.objects
            .iter_mut()
            .enumerate()
            .filter_map(|(i, o)| o.as_mut().map(|o| (i as ObjId, o)))
    }
}

/// NV key of a persistent object.
pub fn object_key(id: ObjId) -> String {
    format!("o{id}")
}

/// Encodes an object for NV (transient contents written as their length only).
pub fn encode(o: &Object) -> Vec<u8> {
    let mut b = Vec::new();
    b.push(o.owner);
    b.push(o.global as u8);
    b.push(match o.memory {
        Memory::Persistent => 0,
        Memory::ClearOnReset => 1,
        Memory::ClearOnDeselect => 2,
    });
    let transient = o.memory != Memory::Persistent;
    let len = |b: &mut Vec<u8>, n: usize| b.extend_from_slice(&(n as u32).to_be_bytes());
    let class = |b: &mut Vec<u8>, c: ClassId| match c {
        ClassId::Api(id) => {
            let n = crate::api::class_name(id).as_bytes();
            b.push(0);
            b.push(n.len() as u8);
            b.extend_from_slice(n);
        }
        ClassId::Cap { pkg, offset } => {
            b.push(1);
            b.extend_from_slice(&pkg.to_be_bytes());
            b.extend_from_slice(&offset.to_be_bytes());
        }
    };
    let slot = |b: &mut Vec<u8>, s: Slot| match s {
        Slot::S(v) => {
            b.push(0);
            b.extend_from_slice(&v.to_be_bytes());
        }
        Slot::R(None) => b.push(1),
        Slot::R(Some(r)) => {
            b.push(2);
            b.extend_from_slice(&r.to_be_bytes());
        }
    };
    match &o.body {
        Body::Instance {
            class: c,
            fields,
            peer,
        } => {
            b.push(0);
            class(&mut b, *c);
            len(&mut b, fields.len());
            for f in fields {
                slot(&mut b, if transient { Slot::S(0) } else { *f });
            }
            match peer {
                None => b.push(0),
                Some(p) => {
                    b.push(1);
                    let e = p.encode();
                    len(&mut b, e.len());
                    b.extend_from_slice(&e);
                }
            }
        }
        Body::Booleans(v) | Body::Bytes(v) => {
            b.push(if matches!(o.body, Body::Booleans(_)) {
                1
            } else {
                2
            });
            len(&mut b, v.len());
            if !transient {
                b.extend_from_slice(v);
            }
        }
        Body::Shorts(v) => {
            b.push(3);
            len(&mut b, v.len());
            if !transient {
                v.iter().for_each(|x| b.extend_from_slice(&x.to_be_bytes()));
            }
        }
        Body::Ints(v) => {
            b.push(4);
            len(&mut b, v.len());
            if !transient {
                v.iter().for_each(|x| b.extend_from_slice(&x.to_be_bytes()));
            }
        }
        Body::Refs { class: c, elems } => {
            b.push(5);
            match c {
                None => b.push(0),
                Some(c) => {
                    b.push(1);
                    class(&mut b, *c);
                }
            }
            len(&mut b, elems.len());
            if !transient {
                for e in elems {
                    slot(&mut b, Slot::R(*e));
                }
            }
        }
    }
    b
}

/// A cursor for [`decode`].
pub(crate) struct Cur<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) p: usize,
}

impl<'a> Cur<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.p..self.p.saturating_add(n))
            .ok_or_else(|| format!("truncated at offset {}", self.p))?;
        self.p += n;
        Ok(s)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

/// Decodes an object written by [`encode`]; errors name the offset.
pub fn decode(bytes: &[u8]) -> Result<Object, String> {
    let mut c = Cur { b: bytes, p: 0 };
    let owner = c.u8()?;
    let global = c.u8()? != 0;
    let memory = match c.u8()? {
        0 => Memory::Persistent,
        1 => Memory::ClearOnReset,
        2 => Memory::ClearOnDeselect,
        m => return Err(format!("memory type {m}")),
    };
    let transient = memory != Memory::Persistent;
    fn class(c: &mut Cur) -> Result<ClassId, String> {
        Ok(match c.u8()? {
            0 => {
                let n = c.u8()? as usize;
                let name = std::str::from_utf8(c.take(n)?).map_err(|e| e.to_string())?;
                ClassId::Api(
                    crate::api::api_class_by_name(name)
                        .ok_or_else(|| format!("unknown API class {name}"))?,
                )
            }
            1 => ClassId::Cap {
                pkg: c.u16()?,
                offset: c.u16()?,
            },
            t => return Err(format!("class tag {t}")),
        })
    }
    fn slot(c: &mut Cur) -> Result<Slot, String> {
        Ok(match c.u8()? {
            0 => Slot::S(c.u16()? as i16),
            1 => Slot::R(None),
            2 => Slot::R(Some(c.u32()?)),
            t => return Err(format!("slot tag {t}")),
        })
    }
    let kind = c.u8()?;
    let body = match kind {
        0 => {
            let cl = class(&mut c)?;
            let n = c.u32()? as usize;
            let mut fields = Vec::with_capacity(n.min(4096));
            for _ in 0..n {
                fields.push(slot(&mut c)?);
            }
            let peer = match c.u8()? {
                0 => None,
                _ => {
                    let n = c.u32()? as usize;
                    Some(NativePeer::decode(c.take(n)?)?)
                }
            };
            Body::Instance {
                class: cl,
                fields,
                peer,
            }
        }
        1 | 2 => {
            let n = c.u32()? as usize;
            let v = if transient {
                vec![0; n]
            } else {
                c.take(n)?.to_vec()
            };
            if kind == 1 {
                Body::Booleans(v)
            } else {
                Body::Bytes(v)
            }
        }
        3 => {
            let n = c.u32()? as usize;
            if transient {
                Body::Shorts(vec![0; n])
            } else {
                let s = c.take(n.saturating_mul(2))?;
                Body::Shorts(
                    s.chunks(2)
                        .map(|x| i16::from_be_bytes([x[0], x[1]]))
                        .collect(),
                )
            }
        }
        4 => {
            let n = c.u32()? as usize;
            if transient {
                Body::Ints(vec![0; n])
            } else {
                let s = c.take(n.saturating_mul(4))?;
                Body::Ints(
                    s.chunks(4)
                        .map(|x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]))
                        .collect(),
                )
            }
        }
        5 => {
            let cl = match c.u8()? {
                0 => None,
                _ => Some(class(&mut c)?),
            };
            let n = c.u32()? as usize;
            let mut elems = Vec::with_capacity(n.min(4096));
            if transient {
                elems.resize(n, None);
            } else {
                for _ in 0..n {
                    match slot(&mut c)? {
                        Slot::R(r) => elems.push(r),
                        Slot::S(_) => return Err("number in a reference array".into()),
                    }
                }
            }
            Body::Refs { class: cl, elems }
        }
        k => return Err(format!("object kind {k}")),
    };
    if c.p != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - c.p));
    }
    Ok(Object {
        owner,
        global,
        memory,
        body,
    })
}
