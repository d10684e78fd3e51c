//! Library packages and Shareable interface objects (JCVM Spec 3.0.5 §4.5, §6.14; JCRE Spec
//! 3.0.5 §6.2.4, §6.2.7) with the CAPs of test-vectors/cap/src/shareable: the library
//! `org.simota.shlib` (static methods, a static counter, the `Vault extends Shareable`
//! interface), the server applet handing out a `Vault`, the client applet using both.
//! Each instance has its own VM; the test's environment plays the card and routes the
//! Shareable calls from the client's VM into the server's.

use jcvm::jcre::{Command, MemEnv};
use jcvm::natives::Throw;
use jcvm::sio::{RemoteCall, RemoteObject, RemoteReturn};
use jcvm::vm::{Env, Vm};
use jcvm::CapFile;
use std::sync::Arc;

const SERVER: [u8; 9] = [0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x53, 0x01];
const CLIENT: [u8; 9] = [0xF0, 0x73, 0x69, 0x6D, 0x6F, 0x74, 0x61, 0x43, 0x01];

fn load(name: &str) -> CapFile {
    let p = format!(
        "{}/../../test-vectors/cap/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    CapFile::from_zip(&std::fs::read(p).unwrap()).unwrap()
}

fn install_data(aid: &[u8]) -> Vec<u8> {
    let mut b = vec![aid.len() as u8];
    b.extend_from_slice(aid);
    b.extend_from_slice(&[1, 0, 0]);
    b
}

/// The client's environment: its own NV, and the server's VM and NV behind the card.
struct Card<'a> {
    me: &'a mut MemEnv,
    server: &'a mut Vm,
    server_env: &'a mut MemEnv,
}

impl Env for Card<'_> {
    fn persist(&mut self, key: &str, value: &[u8]) -> Result<(), u16> {
        self.me.persist(key, value)
    }
    fn load(&self) -> Vec<(String, Vec<u8>)> {
        self.me.load()
    }
    fn begin_transaction(&mut self) -> Result<(), u16> {
        self.me.begin_transaction()
    }
    fn commit_transaction(&mut self) -> Result<(), u16> {
        self.me.commit_transaction()
    }
    fn abort_transaction(&mut self) -> Result<(), u16> {
        self.me.abort_transaction()
    }
    fn in_transaction(&self) -> bool {
        self.me.in_transaction()
    }
    fn random(&mut self, out: &mut [u8]) {
        self.me.random(out)
    }
    fn applet_exists(&self, aid: &[u8]) -> bool {
        aid == SERVER
    }
    fn shareable(
        &mut self,
        server: &[u8],
        client: &[u8],
        param: u8,
    ) -> Result<Option<RemoteObject>, Throw> {
        assert_eq!(server, SERVER);
        self.server.shareable_for(self.server_env, client, param)
    }
    fn invoke_shareable(&mut self, call: &RemoteCall) -> Result<RemoteReturn, Throw> {
        assert_eq!(call.server, SERVER);
        self.server.invoke_shareable(self.server_env, call)
    }
}

fn cmd(ins: u8, p1: u8, data: &[u8]) -> Command<'_> {
    Command {
        cla: 0x80,
        ins,
        p1,
        p2: 0,
        data,
        ne: 256,
        channel: 0,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[test]
fn a_package_importing_a_library_links_only_with_it() {
    let lib = Arc::new(load("simota-shlib.cap"));
    assert!(lib.applets.is_empty() && !lib.export.is_empty());
    let e = Vm::load(load("simota-shclient.cap"), &CLIENT, &[])
        .err()
        .unwrap();
    assert!(
        e.contains("F073696D6F74614C") && e.contains("is not on this card"),
        "{e}"
    );
    let vm = Vm::load_with_card(
        load("simota-shclient.cap"),
        std::slice::from_ref(&lib),
        &CLIENT,
        &[],
    )
    .unwrap();
    assert_eq!(vm.packages.len(), 2);
    assert_eq!(
        vm.packages[1].cap.header.package.aid,
        lib.header.package.aid
    );
    assert_eq!(vm.packages[0].import_packages.iter().flatten().count(), 1);
    // A newer minor version of the library would do; an older one is refused.
    let mut old = (*lib).clone();
    old.header.package.minor = 0;
    old.header.package.major = 0;
    let e = Vm::load_with_card(load("simota-shclient.cap"), &[Arc::new(old)], &CLIENT, &[])
        .err()
        .unwrap();
    assert!(e.contains("1.0 needed, this card has 0.0"), "{e}");
}

#[test]
fn library_calls_sio_calls_and_the_firewall() {
    let lib = Arc::new(load("simota-shlib.cap"));
    let mut senv = MemEnv::new();
    let mut server = Vm::load_with_card(
        load("simota-shserver.cap"),
        std::slice::from_ref(&lib),
        &SERVER,
        &[],
    )
    .unwrap();
    server
        .install(&mut senv, 0, &install_data(&SERVER))
        .unwrap();
    let mut cenv = MemEnv::new();
    let mut client = Vm::load_with_card(
        load("simota-shclient.cap"),
        std::slice::from_ref(&lib),
        &CLIENT,
        &[],
    )
    .unwrap();
    client
        .install(&mut cenv, 0, &install_data(&CLIENT))
        .unwrap();
    assert!(client.select(&mut cenv));

    // The library's static method, its static counter in the client's image.
    let r = client.process(&mut cenv, &cmd(0x50, 0, b"abc"), false);
    assert_eq!(
        (hex(&r.data), r.sw),
        ("78620001".into(), 0x9000),
        "{:?}",
        client.last_fault
    );
    let r = client.process(&mut cenv, &cmd(0x50, 0, b"abc"), false);
    assert_eq!(hex(&r.data), "78620002");

    let mut run = |client: &mut Vm, ins: u8, p1: u8| {
        let mut card = Card {
            me: &mut cenv,
            server: &mut server,
            server_env: &mut senv,
        };
        let r = client.process(&mut card, &cmd(ins, p1, &[]), false);
        (hex(&r.data), r.sw, client.last_fault.clone())
    };
    // bump(5) in the server's context: the total, and getPreviousContextAID() = the
    // client, written into the APDU buffer (a global array) by the server.
    let (d, sw, f) = run(&mut client, 0x20, 5);
    assert_eq!(
        (d.as_str(), sw),
        ("0005F073696D6F74614301", 0x9000),
        "{f:?}"
    );
    let (d, _, _) = run(&mut client, 0x20, 3);
    assert_eq!(&d[..4], "0008");
    // The server's own object handed back: touching it is a firewall violation.
    // (an uncaught exception, not a VM fault: nothing in last_fault)
    let (_, sw, f) = run(&mut client, 0x30, 0);
    assert_eq!((sw, f), (0x6F00, None));
    assert_eq!(run(&mut client, 0x31, 0).1, 0x6982);
    // The server writing into the client's own (non-global) array: SecurityException.
    let (_, sw, f) = run(&mut client, 0x32, 0);
    assert_eq!((sw, f), (0x6F00, None));
    // getShareableInterfaceObject answering null for another parameter.
    assert_eq!(run(&mut client, 0x21, 1).1, 0x6985);
    assert_eq!(run(&mut client, 0x21, 0x5A).1, 0x9000);

    // The server sees its state and the last caller.
    // The server's instructions count against the client's budget.
    let (c0, s0) = (client.executed, server.executed);
    let mut card = Card {
        me: &mut cenv,
        server: &mut server,
        server_env: &mut senv,
    };
    assert_eq!(
        client.process(&mut card, &cmd(0x20, 0, &[]), false).sw,
        0x9000
    );
    let (dc, ds) = (client.executed - c0, server.executed - s0);
    assert!(ds > 0 && dc > ds, "client {dc}, server {ds}");
    assert!(server.select(&mut senv));
    let r = server.process(&mut senv, &cmd(0x01, 0, &[]), false);
    assert_eq!(hex(&r.data), "0008");
    let r = server.process(&mut senv, &cmd(0x02, 0, &[]), false);
    assert_eq!(hex(&r.data), hex(&CLIENT));
    // Called by the JCRE, getPreviousContextAID() is null.
    assert!(server.remote_caller.is_none());
}
