//! Java Card applets from CAP files on the emulated card: [`JavaAppletClass`] is the
//! [`AppletClass`] of one applet of a linked CAP package (class AID = the applet AID of its
//! Applet component), [`JavaApplet`] runs an instance in the `jcvm` interpreter. The
//! instance's heap (objects, static fields, the registered applet) lives in its NV data
//! (keys `o<id>`, `s<pkg>`, `applet`), every persistent write one [`AppletContext::put`]:
//! JCSystem transactions are the card's NV transactions and the tearing hook covers every
//! write. `install(bArray)` gets the GlobalPlatform install data (JC API
//! `Applet.install`, GPCS §11.5.2.3.2): instance AID, privileges (one byte, 00) and the
//! application parameters (`C9` contents), each length-prefixed.

use crate::applet::{Apdu, Applet, AppletClass, AppletContext};
use apdu::StatusWord;
use jcvm::jcre::Command;
use jcvm::link::{self, Package};
use jcvm::vm::{Env, Vm};
use jcvm::CapFile;
use std::sync::Arc;

/// The class of one applet of a CAP package.
pub struct JavaAppletClass {
    package: Package,
    index: usize,
    aid: Vec<u8>,
    name: String,
}

/// The applet classes of the CAP packages loaded by GP LOAD (the ISD's load files) that
/// hold `class_aid`: the class, linked, or `None`.
pub fn class_from_load_files(
    files: &[crate::nv::LoadFileNv],
    class_aid: &[u8],
) -> Option<Arc<dyn AppletClass>> {
    let f = files
        .iter()
        .find(|f| f.modules.iter().any(|m| m == class_aid))?;
    let cap = CapFile::from_load_file(&f.data).ok()?;
    JavaAppletClass::from_cap(cap)
        .ok()?
        .into_iter()
        .find(|c| c.class_aid() == class_aid)
}

impl JavaAppletClass {
    /// One class per applet of `cap`, linked (a link error names the import or entry).
    pub fn from_cap(cap: CapFile) -> Result<Vec<Arc<dyn AppletClass>>, String> {
        let package = link::link(cap, 0, jcvm::jcre::PACKAGE_CONTEXT).map_err(|e| e.to_string())?;
        let pkg_name = package
            .cap
            .header
            .name
            .clone()
            .unwrap_or_else(|| jcvm::cap::hex(&package.cap.header.package.aid));
        Ok(package
            .cap
            .applets
            .iter()
            .enumerate()
            .map(|(index, a)| {
                Arc::new(JavaAppletClass {
                    package: package.clone(),
                    index,
                    aid: a.aid.clone(),
                    name: format!("Java Card applet {} of {pkg_name}", jcvm::cap::hex(&a.aid)),
                }) as Arc<dyn AppletClass>
            })
            .collect())
    }
}

impl AppletClass for JavaAppletClass {
    fn class_aid(&self) -> &[u8] {
        &self.aid
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn create(&self) -> Box<dyn Applet> {
        Box::new(JavaApplet {
            package: self.package.clone(),
            index: self.index,
            vm: None,
        })
    }
}

/// A running Java Card applet instance (its VM is rebuilt from NV after every reset).
pub struct JavaApplet {
    package: Package,
    index: usize,
    vm: Option<Vm>,
}

/// The card environment of the VM: the instance's NV data through its context.
struct CtxEnv<'a, 'b> {
    ctx: &'a mut AppletContext<'b>,
}

impl Env for CtxEnv<'_, '_> {
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16> {
        self.ctx.put(key, value).map_err(|s| s.0)
    }
    fn load(&self) -> Vec<(String, Vec<u8>)> {
        self.ctx.entries()
    }
    fn begin_transaction(&mut self) -> Result<(), u16> {
        self.ctx.begin_transaction().map_err(|s| s.0)
    }
    fn commit_transaction(&mut self) -> Result<(), u16> {
        self.ctx.commit_transaction().map_err(|s| s.0)
    }
    fn abort_transaction(&mut self) -> Result<(), u16> {
        self.ctx.abort_transaction().map_err(|s| s.0)
    }
    fn in_transaction(&self) -> bool {
        self.ctx.in_transaction()
    }
    fn random(&mut self, out: &mut [u8]) {
        self.ctx.random(out)
    }
    fn checkpoint(&mut self) -> Result<(), u16> {
        self.ctx.checkpoint().map_err(|s| s.0)
    }
}

impl JavaApplet {
    fn vm(&mut self, ctx: &AppletContext<'_>) -> Result<&mut Vm, StatusWord> {
        if self.vm.is_none() {
            let vm = Vm::new(vec![self.package.clone()], ctx.aid(), &ctx.entries())
                .map_err(|_| StatusWord(0x6F00))?;
            self.vm = Some(vm);
        }
        self.vm.as_mut().ok_or(StatusWord(0x6F00))
    }
}

impl Applet for JavaApplet {
    fn install(&mut self, ctx: &mut AppletContext<'_>, params: &[u8]) -> Result<(), StatusWord> {
        let aid = ctx.aid().to_vec();
        if params.len() > 255 {
            return Err(StatusWord(0x6A80));
        }
        let mut b = vec![aid.len() as u8];
        b.extend_from_slice(&aid);
        b.extend_from_slice(&[1, 0, params.len() as u8]);
        b.extend_from_slice(params);
        let mut vm = Vm::new(vec![self.package.clone()], &aid, &ctx.entries())
            .map_err(|_| StatusWord(0x6F00))?;
        let r = vm.install(&mut CtxEnv { ctx }, self.index, &b);
        self.vm = Some(vm);
        r.map_err(StatusWord)
    }

    fn select(&mut self, ctx: &mut AppletContext<'_>) -> bool {
        let Ok(vm) = self.vm(ctx) else {
            return false;
        };
        vm.select(&mut CtxEnv { ctx })
    }

    fn deselect(&mut self, ctx: &mut AppletContext<'_>) {
        if let Ok(vm) = self.vm(ctx) {
            vm.deselect(&mut CtxEnv { ctx });
        }
    }

    fn process(
        &mut self,
        ctx: &mut AppletContext<'_>,
        apdu: &mut Apdu<'_>,
    ) -> Result<(), StatusWord> {
        let cmd = apdu.command().clone();
        let c = Command {
            cla: cmd.cla,
            ins: cmd.ins,
            p1: cmd.p1,
            p2: cmd.p2,
            data: &cmd.data,
            ne: cmd.ne(),
            channel: apdu.channel(),
        };
        let selecting = apdu.selecting_applet();
        let vm = self.vm(ctx)?;
        let r = vm.process(&mut CtxEnv { ctx }, &c, selecting);
        if r.sw == 0x6581 {
            // Power lost mid-command: the VM's memory is stale; rebuild it from NV.
            self.vm = None;
        }
        apdu.send(&r.data);
        if r.sw == 0x9000 {
            Ok(())
        } else {
            Err(StatusWord(r.sw))
        }
    }
}
