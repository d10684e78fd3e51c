//! `simota serve --vpcd` driven by simota's own vpcd reader side (what pcscd's vpcd driver
//! does), without pcscd: normal mode (the card connects) and reversed mode (`--listen`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use transport::vpcd::VpcdReader;
use transport::{ResetKind, Transport};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> Killed {
    Killed(
        Command::new(env!("CARGO_BIN_EXE_simota"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simota serve"),
    )
}

fn exercise(r: &mut VpcdReader) {
    let atr = r.atr();
    assert_eq!(atr.first(), Some(&0x3B));
    assert_eq!(r.get_atr().unwrap(), atr, "GET ATR answered at any time");
    // Open a logical channel, then power-cycle: a cold reset must close it again.
    assert_eq!(
        r.transmit(&[0x00, 0x70, 0x00, 0x00, 0x01]).unwrap(),
        [0x01, 0x90, 0x00]
    );
    assert_eq!(
        r.transmit(&[0x81, 0xF2, 0x00, 0x0C, 0x00]).unwrap(),
        [0x90, 0x00]
    );
    r.reset(ResetKind::Cold).unwrap();
    assert_eq!(
        r.transmit(&[0x81, 0xF2, 0x00, 0x0C, 0x00]).unwrap(),
        [0x68, 0x81]
    );
    let sel = r
        .transmit(&[0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00])
        .unwrap();
    assert_eq!(sel[0], 0x61, "T=0 style answer: {sel:02X?}");
}

#[test]
fn serves_a_card_to_vpcd() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _child = serve(&["--vpcd", &format!("127.0.0.1:{port}")]);
    let mut r = VpcdReader::accept(&listener).unwrap();
    exercise(&mut r);
    // pcscd restarts: the card comes back by itself.
    drop(r);
    let mut r = VpcdReader::accept(&listener).unwrap();
    exercise(&mut r);
}

#[test]
fn reversed_mode_listens() {
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap().to_string();
    drop(probe);
    let _child = serve(&["--vpcd", &addr, "--listen"]);
    let mut r = None;
    for _ in 0..100 {
        match VpcdReader::connect(&addr) {
            Ok(x) => {
                r = Some(x);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    exercise(&mut r.expect("simota serve --listen accepts vpcd"));
}
