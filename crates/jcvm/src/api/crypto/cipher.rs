//! `javacardx.crypto.Cipher` (Java Card 3.0.5 API): DES / triple DES and AES-128/192/256 in
//! CBC and ECB with no padding, ISO/IEC 9797-1 method 2 or PKCS#5 padding, and RSA with
//! PKCS#1 v1.5, OAEP (SHA-1) or no padding (RFC 8017).
//!
//! Block rules as the API states them: `update` outputs every whole block it can (when
//! decrypting with padding it holds the last block back until `doFinal`); `doFinal` with a
//! NOPAD algorithm and data that is not block aligned (or no data at all) is ILLEGAL_USE, as
//! is a malformed padding on decryption. After `doFinal` the object is back in the state
//! `init` left it in (same key, same IV).

use super::block::{self, Pad};
use super::codec::{Dec, Enc};
use super::keys::{Key, KeyKind};
use super::random::RandomSource;
use super::{
    illegal_use, illegal_value, invalid_init, no_such_algorithm, rsa, write_out, CryptoError,
    Result,
};
use zeroize::Zeroizing;

/// `Cipher.ALG_DES_CBC_NOPAD`.
pub const ALG_DES_CBC_NOPAD: u8 = 1;
/// `Cipher.ALG_DES_CBC_ISO9797_M2`.
pub const ALG_DES_CBC_ISO9797_M2: u8 = 3;
/// `Cipher.ALG_DES_CBC_PKCS5`.
pub const ALG_DES_CBC_PKCS5: u8 = 4;
/// `Cipher.ALG_DES_ECB_NOPAD`.
pub const ALG_DES_ECB_NOPAD: u8 = 5;
/// `Cipher.ALG_DES_ECB_ISO9797_M2`.
pub const ALG_DES_ECB_ISO9797_M2: u8 = 7;
/// `Cipher.ALG_DES_ECB_PKCS5`.
pub const ALG_DES_ECB_PKCS5: u8 = 8;
/// `Cipher.ALG_RSA_PKCS1`.
pub const ALG_RSA_PKCS1: u8 = 10;
/// `Cipher.ALG_RSA_NOPAD`.
pub const ALG_RSA_NOPAD: u8 = 12;
/// `Cipher.ALG_AES_BLOCK_128_CBC_NOPAD`.
pub const ALG_AES_BLOCK_128_CBC_NOPAD: u8 = 13;
/// `Cipher.ALG_AES_BLOCK_128_ECB_NOPAD`.
pub const ALG_AES_BLOCK_128_ECB_NOPAD: u8 = 14;
/// `Cipher.ALG_RSA_PKCS1_OAEP`.
pub const ALG_RSA_PKCS1_OAEP: u8 = 15;
/// `Cipher.ALG_AES_CBC_ISO9797_M2`.
pub const ALG_AES_CBC_ISO9797_M2: u8 = 23;
/// `Cipher.ALG_AES_CBC_PKCS5`.
pub const ALG_AES_CBC_PKCS5: u8 = 24;
/// `Cipher.ALG_AES_ECB_ISO9797_M2`.
pub const ALG_AES_ECB_ISO9797_M2: u8 = 26;
/// `Cipher.ALG_AES_ECB_PKCS5`.
pub const ALG_AES_ECB_PKCS5: u8 = 27;

/// `Cipher.MODE_DECRYPT`.
pub const MODE_DECRYPT: u8 = 1;
/// `Cipher.MODE_ENCRYPT`.
pub const MODE_ENCRYPT: u8 = 2;

/// `Cipher.CIPHER_AES_CBC` (for `getInstance(cipherAlgorithm, paddingAlgorithm, ...)`).
pub const CIPHER_AES_CBC: u8 = 1;
/// `Cipher.CIPHER_AES_ECB`.
pub const CIPHER_AES_ECB: u8 = 2;
/// `Cipher.CIPHER_DES_CBC`.
pub const CIPHER_DES_CBC: u8 = 3;
/// `Cipher.CIPHER_DES_ECB`.
pub const CIPHER_DES_ECB: u8 = 4;
/// `Cipher.CIPHER_RSA`.
pub const CIPHER_RSA: u8 = 7;
/// `Cipher.PAD_NOPAD`.
pub const PAD_NOPAD: u8 = 1;
/// `Cipher.PAD_ISO9797_M2`.
pub const PAD_ISO9797_M2: u8 = 3;
/// `Cipher.PAD_PKCS5`.
pub const PAD_PKCS5: u8 = 6;
/// `Cipher.PAD_PKCS1`.
pub const PAD_PKCS1: u8 = 7;
/// `Cipher.PAD_PKCS1_OAEP`.
pub const PAD_PKCS1_OAEP: u8 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RsaPad {
    None,
    Pkcs1,
    Oaep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Block { aes: bool, cbc: bool, pad: Pad },
    Rsa(RsaPad),
}

fn scheme(alg: u8) -> Option<Scheme> {
    use Scheme::*;
    let b = |aes, cbc, pad| Block { aes, cbc, pad };
    Some(match alg {
        ALG_DES_CBC_NOPAD => b(false, true, Pad::None),
        ALG_DES_CBC_ISO9797_M2 => b(false, true, Pad::M2),
        ALG_DES_CBC_PKCS5 => b(false, true, Pad::Pkcs5),
        ALG_DES_ECB_NOPAD => b(false, false, Pad::None),
        ALG_DES_ECB_ISO9797_M2 => b(false, false, Pad::M2),
        ALG_DES_ECB_PKCS5 => b(false, false, Pad::Pkcs5),
        ALG_AES_BLOCK_128_CBC_NOPAD => b(true, true, Pad::None),
        ALG_AES_BLOCK_128_ECB_NOPAD => b(true, false, Pad::None),
        ALG_AES_CBC_ISO9797_M2 => b(true, true, Pad::M2),
        ALG_AES_CBC_PKCS5 => b(true, true, Pad::Pkcs5),
        ALG_AES_ECB_ISO9797_M2 => b(true, false, Pad::M2),
        ALG_AES_ECB_PKCS5 => b(true, false, Pad::Pkcs5),
        ALG_RSA_NOPAD => Rsa(RsaPad::None),
        ALG_RSA_PKCS1 => Rsa(RsaPad::Pkcs1),
        ALG_RSA_PKCS1_OAEP => Rsa(RsaPad::Oaep),
        _ => return None,
    })
}

/// The `ALG_*` code of `getInstance(cipherAlgorithm, paddingAlgorithm, externalAccess)`
/// (Java Card 3.0.1+): NO_SUCH_ALGORITHM for pairs not implemented.
pub fn algorithm_of(cipher_alg: u8, pad_alg: u8) -> Result<u8> {
    Ok(match (cipher_alg, pad_alg) {
        (CIPHER_DES_CBC, PAD_NOPAD) => ALG_DES_CBC_NOPAD,
        (CIPHER_DES_CBC, PAD_ISO9797_M2) => ALG_DES_CBC_ISO9797_M2,
        (CIPHER_DES_CBC, PAD_PKCS5) => ALG_DES_CBC_PKCS5,
        (CIPHER_DES_ECB, PAD_NOPAD) => ALG_DES_ECB_NOPAD,
        (CIPHER_DES_ECB, PAD_ISO9797_M2) => ALG_DES_ECB_ISO9797_M2,
        (CIPHER_DES_ECB, PAD_PKCS5) => ALG_DES_ECB_PKCS5,
        (CIPHER_AES_CBC, PAD_NOPAD) => ALG_AES_BLOCK_128_CBC_NOPAD,
        (CIPHER_AES_CBC, PAD_ISO9797_M2) => ALG_AES_CBC_ISO9797_M2,
        (CIPHER_AES_CBC, PAD_PKCS5) => ALG_AES_CBC_PKCS5,
        (CIPHER_AES_ECB, PAD_NOPAD) => ALG_AES_BLOCK_128_ECB_NOPAD,
        (CIPHER_AES_ECB, PAD_ISO9797_M2) => ALG_AES_ECB_ISO9797_M2,
        (CIPHER_AES_ECB, PAD_PKCS5) => ALG_AES_ECB_PKCS5,
        (CIPHER_RSA, PAD_NOPAD) => ALG_RSA_NOPAD,
        (CIPHER_RSA, PAD_PKCS1) => ALG_RSA_PKCS1,
        (CIPHER_RSA, PAD_PKCS1_OAEP) => ALG_RSA_PKCS1_OAEP,
        _ => {
            return no_such_algorithm(format!(
                "Cipher algorithm {cipher_alg} with padding {pad_alg}"
            ))
        }
    })
}

#[derive(Clone)]
struct Init {
    key: Key,
    encrypt: bool,
    iv: Vec<u8>,
    /// CBC: the chaining value (the init IV, then the last ciphertext block processed).
    chain: Vec<u8>,
    /// Input not yet processed (a partial block, the held-back block, or RSA input).
    pending: Zeroizing<Vec<u8>>,
    /// Whether any input arrived since init/doFinal (NOPAD needs some).
    any: bool,
}

/// A `Cipher` instance. Its state (the key snapshot `init` took, mode, IV, chaining value,
/// unprocessed input) encodes to bytes ([`Cipher::encode`]) for the VM's object store.
#[derive(Clone)]
pub struct Cipher {
    alg: u8,
    scheme: Scheme,
    init: Option<Init>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cipher(alg {}, initialized {})",
            self.alg,
            self.init.is_some()
        )
    }
}

impl Cipher {
    /// `Cipher.getInstance(algorithm, externalAccess)`: NO_SUCH_ALGORITHM for the
    /// algorithms not implemented (ISO 9797 M1, ISO 9796, ISO 14888, SEED, 192/256-bit
    /// AES blocks).
    pub fn get_instance(alg: u8) -> Result<Cipher> {
        match scheme(alg) {
            Some(scheme) => Ok(Cipher {
                alg,
                scheme,
                init: None,
            }),
            None => no_such_algorithm(format!("Cipher algorithm {alg}")),
        }
    }

    /// `getAlgorithm()`.
    pub fn algorithm(&self) -> u8 {
        self.alg
    }

    /// `init(theKey, theMode)` / `init(theKey, theMode, bArray, bOff, bLen)` (`iv` empty for
    /// the first; a CBC cipher then starts from a zero IV): ILLEGAL_VALUE for a mode other
    /// than MODE_DECRYPT/MODE_ENCRYPT, a key of the wrong type, an IV for ECB or RSA, or an IV
    /// not one block long; UNINITIALIZED_KEY for a key not initialized.
    pub fn init(&mut self, key: &Key, mode: u8, iv: &[u8]) -> Result<()> {
        if mode != MODE_DECRYPT && mode != MODE_ENCRYPT {
            return illegal_value(format!("Cipher mode {mode}"));
        }
        let encrypt = mode == MODE_ENCRYPT;
        let kind = key.kind();
        let ok = match self.scheme {
            Scheme::Block { aes, .. } => kind == if aes { KeyKind::Aes } else { KeyKind::Des },
            Scheme::Rsa(RsaPad::Oaep) => {
                if encrypt {
                    kind == KeyKind::RsaPublic
                } else {
                    rsa::is_private(key)
                }
            }
            Scheme::Rsa(_) => kind == KeyKind::RsaPublic || rsa::is_private(key),
        };
        if !ok {
            return illegal_value(format!(
                "{kind:?} key for Cipher algorithm {} in mode {mode}",
                self.alg
            ));
        }
        key.require_initialized("Cipher.init")?;
        match self.scheme {
            Scheme::Block { aes, cbc, .. } => {
                let bs = if aes { 16 } else { 8 };
                if !iv.is_empty() && (!cbc || iv.len() != bs) {
                    return illegal_value(format!(
                        "Cipher IV of {} bytes for algorithm {} ({})",
                        iv.len(),
                        self.alg,
                        if cbc {
                            format!("needs {bs}")
                        } else {
                            "ECB takes none".to_string()
                        }
                    ));
                }
                block::engine(key, cbc, encrypt, iv)?;
            }
            Scheme::Rsa(_) => {
                if !iv.is_empty() {
                    return illegal_value("Cipher IV for an RSA algorithm");
                }
                rsa::modulus_len(key)?;
            }
        }
        self.init = Some(Init {
            key: key.clone(),
            encrypt,
            iv: iv.to_vec(),
            chain: iv.to_vec(),
            pending: Zeroizing::new(Vec::new()),
            any: false,
        });
        Ok(())
    }

    fn state(&mut self, what: &str) -> Result<&mut Init> {
        match &mut self.init {
            Some(i) => Ok(i),
            None => invalid_init(format!("Cipher.{what} before init")),
        }
    }

    /// `update(inBuff, inOffset, inLength, outBuff, outOffset)`: processes the whole blocks
    /// available, writes them to `out` (the array from the offset on) and returns how many
    /// bytes it wrote. ArrayIndexOutOfBounds (nothing consumed) when they do not fit. For RSA
    /// the input is collected for `doFinal` (ILLEGAL_USE past the modulus length).
    pub fn update(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
        let scheme = self.scheme;
        let i = self.state("update")?;
        match scheme {
            Scheme::Rsa(_) => {
                let k = rsa::modulus_len(&i.key)?;
                if i.pending.len() + data.len() > k {
                    return illegal_use(format!(
                        "RSA Cipher input of {} bytes for a {k}-byte modulus",
                        i.pending.len() + data.len()
                    ));
                }
                i.pending.extend_from_slice(data);
                i.any |= !data.is_empty();
                Ok(0)
            }
            Scheme::Block { pad, cbc, .. } => {
                let mut engine = block::engine(&i.key, cbc, i.encrypt, &i.chain)?;
                let bs = engine.block_size();
                let total = i.pending.len() + data.len();
                let mut n = total - total % bs;
                if !i.encrypt && pad != Pad::None && n == total && n > 0 {
                    n -= bs; // the last block may hold the padding
                }
                if out.len() < n {
                    return Err(CryptoError::ArrayIndexOutOfBounds(format!(
                        "Cipher.update: {n} output bytes do not fit the {} bytes left",
                        out.len()
                    )));
                }
                i.pending.extend_from_slice(data);
                i.any |= !data.is_empty();
                let mut chunk: Zeroizing<Vec<u8>> = Zeroizing::new(i.pending.drain(..n).collect());
                let last_in = chunk
                    .get(n.saturating_sub(bs)..)
                    .unwrap_or_default()
                    .to_vec();
                engine.process(&mut chunk);
                if cbc && n > 0 {
                    i.chain = if i.encrypt {
                        chunk.get(n - bs..).unwrap_or_default().to_vec()
                    } else {
                        last_in
                    };
                }
                write_out(out, &chunk, "Cipher.update")
            }
        }
    }

    /// `doFinal(inBuff, inOffset, inLength, outBuff, outOffset)`: processes the rest of the
    /// message (adding or removing the padding), writes the output to `out` and returns its
    /// length; the object is then reset to its `init` state. `rng` supplies the PKCS#1 and
    /// OAEP encryption padding.
    pub fn do_final(
        &mut self,
        data: &[u8],
        out: &mut [u8],
        rng: &mut dyn RandomSource,
    ) -> Result<usize> {
        let scheme = self.scheme;
        let i = self.state("doFinal")?;
        i.pending.extend_from_slice(data);
        i.any |= !data.is_empty();
        let r = final_output(scheme, i, rng);
        // Back to the init state whatever happened.
        i.pending = Zeroizing::new(Vec::new());
        i.any = false;
        i.chain = i.iv.clone();
        write_out(out, &r?, "Cipher.doFinal")
    }
}

impl Cipher {
    /// The state as bytes (algorithm; when initialized the key snapshot, mode, IV, chaining
    /// value and unprocessed input).
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut e = Enc::default();
        e.u8(self.alg);
        match &self.init {
            None => e.u8(0),
            Some(i) => e
                .u8(1)
                .bytes(&i.key.encode())
                .u8(u8::from(i.encrypt))
                .bytes(&i.iv)
                .bytes(&i.chain)
                .bytes(&i.pending)
                .u8(u8::from(i.any)),
        };
        Zeroizing::new(e.0)
    }

    /// Decodes [`Cipher::encode`]'s bytes.
    pub fn decode(b: &[u8]) -> std::result::Result<Cipher, String> {
        let mut d = Dec::new(b, "Cipher");
        let mut c = Cipher::get_instance(d.u8()?).map_err(|e| e.to_string())?;
        if d.u8()? == 1 {
            let key = Key::decode(d.bytes()?)?;
            let encrypt = d.u8()? == 1;
            let iv = d.bytes()?.to_vec();
            let chain = d.bytes()?.to_vec();
            let pending = Zeroizing::new(d.bytes()?.to_vec());
            let any = d.u8()? == 1;
            c.init = Some(Init {
                key,
                encrypt,
                iv,
                chain,
                pending,
                any,
            });
        }
        d.done()?;
        Ok(c)
    }
}

fn final_output(
    scheme: Scheme,
    i: &mut Init,
    rng: &mut dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>> {
    match scheme {
        Scheme::Block { pad, cbc, .. } => {
            let mut engine = block::engine(&i.key, cbc, i.encrypt, &i.chain)?;
            let bs = engine.block_size();
            let mut buf = Zeroizing::new(std::mem::take(&mut *i.pending));
            if pad == Pad::None && !i.any {
                return illegal_use("NOPAD Cipher.doFinal with no input data");
            }
            if i.encrypt {
                block::pad(&mut buf, pad, bs);
            }
            if !buf.len().is_multiple_of(bs) {
                return illegal_use(format!(
                    "{} bytes of input are not block aligned ({bs})",
                    buf.len()
                ));
            }
            engine.process(&mut buf);
            if !i.encrypt {
                match block::unpad(&buf, pad, bs) {
                    Some(n) => buf.truncate(n),
                    None => return illegal_use("the decrypted data's padding is malformed"),
                }
            }
            Ok(buf)
        }
        Scheme::Rsa(p) => {
            let k = rsa::modulus_len(&i.key)?;
            let input = Zeroizing::new(std::mem::take(&mut *i.pending));
            if !i.any {
                return illegal_use("RSA Cipher.doFinal with no input data");
            }
            let private = rsa::is_private(&i.key);
            if i.encrypt {
                let em = match p {
                    RsaPad::None => input.to_vec(),
                    RsaPad::Pkcs1 => rsa::pkcs1_pad(&input, k, if private { 1 } else { 2 }, rng)?,
                    RsaPad::Oaep => rsa::oaep_pad(&input, k, rng)?,
                };
                rsa::raw(&i.key, &em)
            } else {
                let em = rsa::raw(&i.key, &input)?;
                match p {
                    RsaPad::None => Ok(em),
                    RsaPad::Pkcs1 => {
                        let at = rsa::pkcs1_unpad(&em, if private { 2 } else { 1 })?;
                        Ok(Zeroizing::new(em.get(at..).unwrap_or_default().to_vec()))
                    }
                    RsaPad::Oaep => rsa::oaep_unpad(&em),
                }
            }
        }
    }
}
