//! caprunner's javatest applet (test-vectors/cap/caprunner-javatest.cap; Java source
//! benallard/caprunner test/javatest/Test.java): the methods process() never reaches, run
//! one by one on the installed instance, with the results Test.java computes — try/finally,
//! loops and ifs, static recursion, field access, and exception handlers nested across
//! APDUException, PINException, SystemException and TransactionException.

use jcvm::heap::Slot;
use jcvm::jcre::MemEnv;
use jcvm::vm::Vm;
use jcvm::CapFile;

fn setup() -> (Vm, MemEnv, CapFile) {
    let b = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../test-vectors/cap/caprunner-javatest.cap"
    ))
    .unwrap();
    let cap = CapFile::from_zip(&b).unwrap();
    let aid = cap.applets[0].aid.clone();
    let mut vm = Vm::load(cap.clone(), &aid, &[]).unwrap();
    let mut env = MemEnv::new();
    let mut ba = vec![aid.len() as u8];
    ba.extend_from_slice(&aid);
    ba.extend_from_slice(&[1, 0, 0]);
    vm.install(&mut env, 0, &ba).unwrap();
    (vm, env, cap)
}

/// The offset of the method header whose bytecode starts with `code`.
fn method_with(cap: &CapFile, code: &[u8]) -> u16 {
    let d = cap.descriptor.as_ref().unwrap();
    for m in d.classes.iter().flat_map(|c| c.methods.iter()) {
        let h = jcvm::link::method_header(&cap.method.info, m.method_offset as usize).unwrap();
        if cap.method.info[h.code..].starts_with(code) && m.bytecode_count > 0 {
            return m.method_offset;
        }
    }
    panic!("no method with code {code:?}");
}

/// Methods with exception handlers, by handler count (ascending).
fn methods_with_handlers(cap: &CapFile) -> Vec<u16> {
    let d = cap.descriptor.as_ref().unwrap();
    let mut v: Vec<(u16, u16)> = d
        .classes
        .iter()
        .flat_map(|c| c.methods.iter())
        .filter(|m| m.exception_handler_count > 0)
        .map(|m| (m.exception_handler_count, m.method_offset))
        .collect();
    v.sort();
    v.into_iter().map(|(_, o)| o).collect()
}

fn s(v: i16) -> Slot {
    Slot::S(v)
}

fn call(vm: &mut Vm, env: &mut MemEnv, off: u16, args: &[Slot]) -> i16 {
    match vm.call_static(env, 0, off, args) {
        Ok(Some(v)) => v.short(),
        r => panic!("{r:?} ({:?})", vm.last_fault),
    }
}

#[test]
fn static_gcd_iterative_and_recursive() {
    let (mut vm, mut env, cap) = setup();
    let it = method_with(&cap, &[29, 97, 4, 28, 120, 28, 29, 73, 49]);
    let rec = method_with(&cap, &[29, 97, 4, 28, 120, 29, 28, 29, 73, 141]);
    assert_eq!(call(&mut vm, &mut env, it, &[s(42), s(56)]), 14);
    assert_eq!(call(&mut vm, &mut env, rec, &[s(42), s(56)]), 14);
    assert_eq!(call(&mut vm, &mut env, rec, &[s(1071), s(462)]), 21);
}

#[test]
fn virtual_methods_on_the_instance() {
    let (mut vm, mut env, cap) = setup();
    let this = Slot::R(vm.applet);
    // testSomeIf(a): even → a * 3.
    let some_if = method_with(&cap, &[29, 5, 73, 97, 6, 29, 6, 69, 120]);
    assert_eq!(call(&mut vm, &mut env, some_if, &[this, s(6)]), 18);
    // For an odd a, Test.java's loop `for (byte i = 0; i < a; i++) a = (short)(i + 5);`
    // never ends (a stays ahead of i): the bytecode budget stops it.
    vm.budget = 100_000;
    let r = vm.call_static(&mut env, 0, some_if, &[this, s(7)]);
    assert_eq!(r, Err(jcvm::natives::Throw::Fault(0x6F00)));
    vm.budget = jcvm::vm::DEFAULT_BUDGET;
    let handlers = methods_with_handlers(&cap);
    // testfinally(a): `try { return a+5 } finally { return 5 }` → 5.
    let finally = handlers[0];
    assert_eq!(call(&mut vm, &mut env, finally, &[this, s(10)]), 5);
    // testExcpts(p) returns p for 1, 2, 3 and 4 otherwise (Test.java's comment).
    let excpts = *handlers.last().unwrap();
    for (p, want) in [(1, 1), (2, 2), (3, 3), (4, 4), (6, 4)] {
        assert_eq!(
            call(&mut vm, &mut env, excpts, &[this, s(p)]),
            want,
            "testExcpts({p})"
        );
    }
}
