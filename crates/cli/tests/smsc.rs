//! `simota smsc`: start-up line with the MSISDN range, an ESME session against the built-in
//! card, and the default credentials refused off loopback.

use smsc::pdu::{status, Bind, Body, Pdu};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn recv(s: &mut TcpStream) -> Pdu {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut b = vec![0u8; u32::from_be_bytes(len) as usize];
    b[..4].copy_from_slice(&len);
    s.read_exact(&mut b[4..]).unwrap();
    Pdu::parse(&b).unwrap()
}

#[test]
fn smsc_serves_a_bound_esme() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args([
            "smsc",
            "--listen",
            &listen,
            "--cards",
            "10",
            "--msisdn-base",
            "4930000",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start simota smsc");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let _k = Killed(child);
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(
        line.contains("10 cards, MSISDN 4930000..=4930009"),
        "{line}"
    );
    let mut s = TcpStream::connect(&listen).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let bind = Body::BindTransceiver(Bind {
        system_id: "test".into(),
        password: "test".into(),
        system_type: String::new(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: String::new(),
    });
    s.write_all(&Pdu::new(1, bind).emit()).unwrap();
    assert_eq!(recv(&mut s).status, status::ROK);
    s.write_all(&Pdu::new(2, Body::EnquireLink).emit()).unwrap();
    let r = recv(&mut s);
    assert_eq!((r.body, r.sequence), (Body::EnquireLinkResp, 2));
}

#[test]
fn default_credentials_refused_off_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_simota"))
        .args(["smsc", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("accepted only on a loopback address"), "{e}");
}
