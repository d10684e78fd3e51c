fn main() {
    let d = apdu::hex::decode("000a5ef9e186fe0a5ef98619fe4b023f4b023f00").unwrap();
    let p = ota::sms::SmsDeliver::parse(&d).unwrap();
    let b = p.emit().unwrap();
    println!(
        "in  {}\nout {}",
        apdu::hex::encode(&d),
        apdu::hex::encode(&b)
    );
    println!("{:?}", p);
    println!("{:?}", ota::sms::SmsDeliver::parse(&b));
    let r = apdu::hex::decode("ae8000050000020000000100020084008c058022000000242424242424242424242424242424242424242424242424242424242424242424242424243a0081000000").unwrap();
    let s = ota::RemoteScript::parse(&r).unwrap();
    println!("{:?}", s);
    let e = s.emit();
    println!("emit {}", apdu::hex::encode(&e));
    println!("{:?}", ota::RemoteScript::parse(&e));
}
