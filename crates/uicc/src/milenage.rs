//! MILENAGE (3GPP TS 35.205/35.206): the example AKA algorithm set f1, f1*, f2, f3, f4, f5, f5*
//! on AES-128, plus the GSM conversion functions c2/c3 of 3GPP TS 33.102 §6.8.1.2.
//!
//! Constants (TS 35.206 §4.1): r1 = 64, r2 = 0, r3 = 32, r4 = 64, r5 = 96 bits;
//! c1 = 0, c2 = 1, c3 = 2, c4 = 4, c5 = 8 (in the last byte).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use zeroize::{Zeroize, ZeroizeOnDrop};

type Block = [u8; 16];

/// A MILENAGE instance for one subscriber: K and OPc (TS 35.206 §4.1). Keys are zeroized on
/// drop and never printed.
#[derive(Clone, ZeroizeOnDrop)]
pub struct Milenage {
    #[zeroize(skip)]
    cipher: Aes128,
    opc: Block,
}

impl std::fmt::Debug for Milenage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Milenage { .. }")
    }
}

/// The outputs of f2–f5 and f5* for one RAND (TS 35.206 §4.1).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AkaOutputs {
    /// f2: RES / XRES (64 bits).
    pub res: [u8; 8],
    /// f3: cipher key CK.
    pub ck: Block,
    /// f4: integrity key IK.
    pub ik: Block,
    /// f5: anonymity key AK (48 bits).
    pub ak: [u8; 6],
    /// f5*: anonymity key for re-synchronisation AK* (48 bits).
    pub ak_star: [u8; 6],
}

impl std::fmt::Debug for AkaOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AkaOutputs { .. }")
    }
}

fn xor(a: &Block, b: &Block) -> Block {
    let mut o = [0u8; 16];
    for (i, x) in o.iter_mut().enumerate() {
        *x = a[i] ^ b[i];
    }
    o
}

/// Rotate left by a whole number of bytes (all r constants are multiples of 8 bits).
fn rot(a: &Block, bytes: usize) -> Block {
    let mut o = *a;
    o.rotate_left(bytes % 16);
    o
}

impl Milenage {
    /// From K and OPc.
    pub fn with_opc(k: &[u8; 16], opc: &[u8; 16]) -> Milenage {
        Milenage {
            cipher: Aes128::new(k.into()),
            opc: *opc,
        }
    }

    /// From K and OP: OPc = OP ⊕ E_K(OP) (TS 35.206 §4.1).
    pub fn with_op(k: &[u8; 16], op: &[u8; 16]) -> Milenage {
        let cipher = Aes128::new(k.into());
        let mut e = (*op).into();
        cipher.encrypt_block(&mut e);
        let e: Block = e.into();
        Milenage {
            cipher,
            opc: xor(&e, op),
        }
    }

    /// The OPc in use.
    pub fn opc(&self) -> [u8; 16] {
        self.opc
    }

    fn e(&self, b: &Block) -> Block {
        let mut x = (*b).into();
        self.cipher.encrypt_block(&mut x);
        x.into()
    }

    fn temp(&self, rand: &Block) -> Block {
        self.e(&xor(rand, &self.opc))
    }

    /// OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc; MAC-A = OUT1[0..8], MAC-S = OUT1[8..16].
    fn out1(&self, rand: &Block, sqn: &[u8; 6], amf: &[u8; 2]) -> Block {
        let temp = self.temp(rand);
        let mut in1 = [0u8; 16];
        in1[..6].copy_from_slice(sqn);
        in1[6..8].copy_from_slice(amf);
        in1[8..14].copy_from_slice(sqn);
        in1[14..].copy_from_slice(amf);
        let x = xor(&temp, &rot(&xor(&in1, &self.opc), 8));
        xor(&self.e(&x), &self.opc)
    }

    /// f1: the network authentication code MAC-A.
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let o = self.out1(rand, sqn, amf);
        let mut m = [0u8; 8];
        m.copy_from_slice(&o[..8]);
        m
    }

    /// f1*: the re-synchronisation message authentication code MAC-S.
    pub fn f1_star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let o = self.out1(rand, sqn, amf);
        let mut m = [0u8; 8];
        m.copy_from_slice(&o[8..]);
        m
    }

    /// OUTn = E_K(rot(TEMP ⊕ OPc, rn) ⊕ cn) ⊕ OPc.
    fn outn(&self, temp: &Block, r_bytes: usize, c: u8) -> Block {
        let mut x = rot(&xor(temp, &self.opc), r_bytes);
        x[15] ^= c;
        xor(&self.e(&x), &self.opc)
    }

    /// f2, f3, f4, f5 and f5* for one RAND.
    pub fn f2345(&self, rand: &[u8; 16]) -> AkaOutputs {
        let temp = self.temp(rand);
        let out2 = self.outn(&temp, 0, 1);
        let out5 = self.outn(&temp, 12, 8);
        let mut res = [0u8; 8];
        res.copy_from_slice(&out2[8..]);
        let mut ak = [0u8; 6];
        ak.copy_from_slice(&out2[..6]);
        let mut ak_star = [0u8; 6];
        ak_star.copy_from_slice(&out5[..6]);
        AkaOutputs {
            res,
            ck: self.outn(&temp, 4, 2),
            ik: self.outn(&temp, 8, 4),
            ak,
            ak_star,
        }
    }
}

/// GSM conversion c2 (TS 33.102 §6.8.1.2): SRES from a 64-bit RES = RES[0..4] ⊕ RES[4..8].
pub fn c2(res: &[u8; 8]) -> [u8; 4] {
    [
        res[0] ^ res[4],
        res[1] ^ res[5],
        res[2] ^ res[6],
        res[3] ^ res[7],
    ]
}

/// GSM conversion c3 (TS 33.102 §6.8.1.2): Kc = CK1 ⊕ CK2 ⊕ IK1 ⊕ IK2 (64-bit halves).
pub fn c3(ck: &[u8; 16], ik: &[u8; 16]) -> [u8; 8] {
    let mut kc = [0u8; 8];
    for (i, b) in kc.iter_mut().enumerate() {
        *b = ck[i] ^ ck[i + 8] ^ ik[i] ^ ik[i + 8];
    }
    kc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn h<const N: usize>(v: &Value, k: &str) -> [u8; N] {
        let s = v[k].as_str().unwrap_or_else(|| panic!("field {k} missing"));
        let b = apdu::hex::decode(s).unwrap();
        b.try_into()
            .unwrap_or_else(|_| panic!("field {k}: wrong length"))
    }

    #[test]
    fn ts35208_test_sets() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../test-vectors/milenage-ts35208.json"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let sets = doc["test_sets"].as_array().unwrap();
        assert!(sets.len() >= 6);
        for t in sets {
            let set = &t["set"];
            let k = h::<16>(t, "k");
            let op = h::<16>(t, "op");
            let m = Milenage::with_op(&k, &op);
            assert_eq!(m.opc(), h::<16>(t, "opc"), "set {set}: OPc");
            let m2 = Milenage::with_opc(&k, &h::<16>(t, "opc"));
            let (rand, sqn, amf) = (h::<16>(t, "rand"), h::<6>(t, "sqn"), h::<2>(t, "amf"));
            for m in [&m, &m2] {
                assert_eq!(m.f1(&rand, &sqn, &amf), h::<8>(t, "f1"), "set {set}: f1");
                assert_eq!(
                    m.f1_star(&rand, &sqn, &amf),
                    h::<8>(t, "f1star"),
                    "set {set}: f1*"
                );
                let o = m.f2345(&rand);
                assert_eq!(o.res, h::<8>(t, "f2"), "set {set}: f2");
                assert_eq!(o.ck, h::<16>(t, "f3"), "set {set}: f3");
                assert_eq!(o.ik, h::<16>(t, "f4"), "set {set}: f4");
                assert_eq!(o.ak, h::<6>(t, "f5"), "set {set}: f5");
                assert_eq!(o.ak_star, h::<6>(t, "f5star"), "set {set}: f5*");
            }
        }
    }

    #[test]
    fn debug_hides_keys() {
        let m = Milenage::with_opc(&[0x11; 16], &[0x22; 16]);
        assert_eq!(format!("{m:?}"), "Milenage { .. }");
    }
}
