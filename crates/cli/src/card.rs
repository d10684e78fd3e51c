//! The built-in emulated card, built in one place for every subcommand that talks to the
//! emulator (`run`, `serve`, `apdu --card emu`, `ota send`, `wpki --state`).
//!
//! "The built-in card" is the `uicc` crate's default profile (TS 102 221 file system, USIM,
//! PINs, OTA key sets and TARs) **plus the WPKI applet instance**
//! ([`wpki::uicc_applet::WPKI_INSTANCE_AID`] on TAR [`wpki::client::DEFAULT_TAR`] `BF FF 57`,
//! key set 1), with a registry holding every built-in applet class and the WPKI class. The
//! `uicc` crate cannot add the applet itself (`wpki` depends on `uicc`), and `transport` may
//! only depend on `uicc`, so the assembly lives here, at the top of the dependency graph.
//!
//! * `--profile F` replaces the profile; the registry still has the WPKI class, so a profile
//!   can instantiate the applet (`[[applet]] class = "F073696D6F74615750"`).
//! * `--state S` keeps the card's non-volatile state in a file (created when missing).
//! * Randomness: the card core is sans-IO and takes an injected random source. The CLI gives
//!   it the operating system's randomness, so on-card keys, PUKs and challenges differ from
//!   run to run. A deterministic source is used only when asked for: `--rng-seed HEX` (16
//!   bytes), or a profile file that sets `[card] rng_seed` itself. In that mode the source
//!   (AES-128-CTR, `uicc::rng::AesCtrRng`) restarts from the seed at every cold reset, so a
//!   script that begins with `reset` sees the same random bytes in every run, whether the
//!   card is in process or served through vpcd (this is how `tools/e2e-pcsc` compares
//!   transcripts of the WPKI journey byte for byte).

use crate::error::CliError;
use std::path::Path;
use transport::{ResetKind, Transport, TransportError};
use wpki::protocol::E2eKey;

/// What the built-in card is made of: the command-line options every emulator-backed
/// subcommand shares.
#[derive(Debug, Default, Clone, Copy)]
pub struct CardSpec<'a> {
    /// `--profile FILE` (default: the built-in profile with the WPKI applet).
    pub profile: Option<&'a Path>,
    /// `--state FILE` (default: volatile, in memory).
    pub state: Option<&'a Path>,
    /// `--rng-seed HEX`: deterministic random source (restarted at every cold reset).
    pub rng_seed: Option<[u8; 16]>,
    /// End-to-end key for the WPKI instance of the built-in profile (`simota wpki
    /// --e2e-key`); it goes into the instance's install parameters, so it only takes effect
    /// on a new card.
    pub e2e_key: Option<&'a E2eKey>,
    /// `simota run --cap FILE.cap`: CAP files whose applets are installed at start
    /// (instance AID = applet AID) unless the state already has them.
    pub caps: &'a [std::path::PathBuf],
    /// `--cap-params HEX`: the application parameters (`C9` contents) every `--cap` applet
    /// is installed with.
    pub cap_params: &'a [u8],
}

/// Parse `--rng-seed HEX` (16 bytes).
pub fn rng_seed_arg(text: &str) -> Result<[u8; 16], CliError> {
    let b = crate::error::hex_arg("--rng-seed", text)?;
    let n = b.len();
    <[u8; 16]>::try_from(b)
        .map_err(|_| CliError::input(format!("--rng-seed: {n} bytes, want 16 (32 hex digits)")))
}

/// The built-in profile: the `uicc` default profile plus the WPKI applet instance and its TAR
/// (also what `simota profile show default` prints).
pub fn builtin_profile(e2e_key: Option<&E2eKey>) -> Result<uicc::Profile, uicc::ProfileError> {
    wpki::uicc_applet::default_profile_with_wpki(e2e_key)
}

/// The applet classes of every emulated card: the `uicc` built-ins plus the WPKI class.
pub fn registry() -> uicc::AppletRegistry {
    wpki::uicc_applet::registry_with_wpki()
}

/// Does the profile file set `[card] rng_seed` itself (asking for a deterministic card)?
fn profile_asks_for_seed(text: &str) -> bool {
    text.parse::<toml::Table>().ok().is_some_and(|t| {
        t.get("card")
            .and_then(toml::Value::as_table)
            .is_some_and(|c| c.contains_key("rng_seed"))
    })
}

/// Build the card: profile, registry, store and random source. Also returns the seed when
/// the card is deterministic (see [`EmulatedCard`] for the reseed at cold reset).
pub fn build_card(spec: &CardSpec<'_>) -> Result<(uicc::Card, Option<[u8; 16]>), CliError> {
    let (profile, profile_seed) = match spec.profile {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::input(format!("--profile {}: {e}", p.display())))?;
            let profile = uicc::Profile::load(p)
                .map_err(|e| CliError::input(format!("--profile {}: {e}", p.display())))?;
            let seed = profile_asks_for_seed(&text).then_some(profile.rng_seed);
            (profile, seed)
        }
        None => (
            builtin_profile(spec.e2e_key)
                .map_err(|e| CliError::input(format!("built-in profile: {e}")))?,
            None,
        ),
    };
    let seed = spec.rng_seed.or(profile_seed);
    let rng: Box<dyn uicc::rng::RandomSource> = match seed {
        Some(s) => Box::new(uicc::rng::AesCtrRng::new(&s)),
        None => wpki::uicc_applet::os_random_source()
            .map_err(|e| CliError::input(format!("card random source: {e}")))?,
    };
    let store: Box<dyn uicc::Store> = match spec.state {
        Some(s) => Box::new(
            uicc::FileStore::open(s)
                .map_err(|e| CliError::input(format!("--state {}: {e}", s.display())))?,
        ),
        None => Box::new(uicc::MemoryStore::new()),
    };
    let mut profile = profile;
    if spec.profile.is_none() {
        if let Some(path) = spec.state {
            if let Some(p) = check_e2e_key(path, spec.e2e_key, &profile)? {
                profile = p;
            }
        }
    }
    let mut registry = registry();
    let mut cap_applets = Vec::new();
    let mut caps = Vec::new();
    for path in spec.caps {
        let bytes = std::fs::read(path)
            .map_err(|e| CliError::input(format!("--cap {}: {e}", path.display())))?;
        let cap = jcvm::CapFile::from_zip(&bytes)
            .map_err(|e| CliError::input(format!("--cap {}: {e}", path.display())))?;
        caps.push(std::sync::Arc::new(cap));
    }
    // The --cap files import each other (library packages, JCVM Spec §4.5).
    for (path, cap) in spec.caps.iter().zip(&caps) {
        let others: Vec<_> = caps
            .iter()
            .filter(|c| !std::sync::Arc::ptr_eq(c, cap))
            .cloned()
            .collect();
        let classes = uicc::java_applet::JavaAppletClass::from_cap_with((**cap).clone(), &others)
            .map_err(|e| CliError::input(format!("--cap {}: {e}", path.display())))?;
        for c in classes {
            cap_applets.push((path.clone(), c.class_aid().to_vec()));
            registry.register(c);
        }
    }
    let mut card = uicc::Card::with_options(
        profile,
        uicc::CardOptions {
            store,
            registry,
            rng: Some(rng),
        },
    )
    .map_err(|e| match spec.state {
        Some(s) => CliError::input(format!("--state {}: {e}", s.display())),
        None => CliError::input(format!("emulated card: {e}")),
    })?;
    for (path, aid) in cap_applets {
        if card.nv_state().applets.iter().any(|a| a.aid == aid) {
            continue;
        }
        card.install_applet(
            &aid,
            &aid,
            spec.cap_params,
            uicc::nv::life_cycle::SELECTABLE,
            false,
        )
        .and_then(|_| card.commit_nv())
        .map_err(|sw| {
            CliError::input(format!(
                "--cap {}: install of applet {} answered {sw:04X}",
                path.display(),
                apdu::hex::encode(&aid)
            ))
        })?;
    }
    Ok((card, seed))
}

/// The end-to-end key of the built-in card goes into its profile (the WPKI instance's install
/// parameters), so a wrong `--e2e-key` on an existing `--state` would surface as "state was
/// created from a different profile". Read the state first and name the real problem. Without
/// `--e2e-key`, a state made with a key is opened with the built-in profile carrying that key
/// (returned).
fn check_e2e_key(
    path: &Path,
    given: Option<&E2eKey>,
    profile: &uicc::Profile,
) -> Result<Option<uicc::Profile>, CliError> {
    use uicc::Store;
    let Ok(Some(nv)) = uicc::FileStore::open(path).and_then(|mut s| s.load()) else {
        return Ok(None); // new state, or an error the card reports itself
    };
    if nv.profile_fingerprint == profile.fingerprint() {
        return Ok(None);
    }
    let Some(stored) =
        wpki::uicc_applet::stored_state_in(&nv, wpki::uicc_applet::WPKI_INSTANCE_AID)
    else {
        return Ok(None);
    };
    // Only when the built-in profile with the stored key is the state's profile is the key
    // the difference.
    let Some(same) = builtin_profile(stored.e2e_key.as_ref())
        .ok()
        .filter(|p| p.fingerprint() == nv.profile_fingerprint)
    else {
        return Ok(None);
    };
    let at = path.display();
    if given.is_none() {
        return Ok(Some(same));
    }
    Err(CliError::input(match (given, &stored.e2e_key) {
        (Some(_), Some(_)) => format!(
            "--state {at}: wrong --e2e-key: the card in this state has another end-to-end key \
             (fixed when the state was created)"
        ),
        (Some(_), None) => format!(
            "--state {at}: wrong --e2e-key: the card in this state has no end-to-end key \
             (it is fixed when the state is created; drop --e2e-key or start a new state)"
        ),
        (None, _) => return Ok(Some(same)),
    }))
}

/// Build the card behind the [`Transport`] seam.
pub fn emulator(spec: &CardSpec<'_>) -> Result<EmulatedCard, CliError> {
    let (card, seed) = build_card(spec)?;
    Ok(EmulatedCard {
        emu: transport::Emulator::new(card),
        seed,
    })
}

/// The built-in card as a [`Transport`]: a [`transport::Emulator`] that, when deterministic,
/// restarts its random source from the seed at every cold reset.
pub struct EmulatedCard {
    emu: transport::Emulator,
    seed: Option<[u8; 16]>,
}

impl std::fmt::Debug for EmulatedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatedCard")
            .field("emu", &self.emu)
            .field("deterministic", &self.seed.is_some())
            .finish()
    }
}

impl EmulatedCard {
    /// Use another name in reports.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.emu = self.emu.with_name(name);
        self
    }
}

impl Transport for EmulatedCard {
    fn transmit(&mut self, capdu: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.emu.transmit(capdu)
    }
    fn reset(&mut self, kind: ResetKind) -> Result<Vec<u8>, TransportError> {
        if let (ResetKind::Cold, Some(s)) = (kind, &self.seed) {
            self.emu
                .card()
                .set_rng(Box::new(uicc::rng::AesCtrRng::new(s)));
        }
        self.emu.reset(kind)
    }
    fn atr(&self) -> Vec<u8> {
        self.emu.atr()
    }
    fn name(&self) -> String {
        self.emu.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(t: &mut dyn Transport, aid: &[u8]) -> Vec<u8> {
        let mut c = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
        c.extend_from_slice(aid);
        t.transmit(&c).unwrap()
    }

    #[test]
    fn builtin_card_has_the_wpki_applet_and_its_tar() {
        let mut e = emulator(&CardSpec::default()).unwrap();
        let r = select(&mut e, wpki::uicc_applet::WPKI_INSTANCE_AID);
        assert_eq!(r[r.len() - 2..], [0x90, 0x00], "{r:02X?}");
        let card = e.emu.card();
        assert!(card
            .profile()
            .ota_tars
            .iter()
            .any(|t| t.tar == wpki::client::DEFAULT_TAR));
        assert!(card
            .registry()
            .find(wpki::uicc_applet::WPKI_CLASS_AID)
            .is_some());
    }

    #[test]
    fn user_profile_keeps_the_wpki_class() {
        let dir = std::env::temp_dir().join(format!("simota-card-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("plain.toml");
        std::fs::write(&p, uicc::profile::DEFAULT_PROFILE_TOML).unwrap();
        let mut e = emulator(&CardSpec {
            profile: Some(&p),
            ..CardSpec::default()
        })
        .unwrap();
        assert!(e.seed.is_none());
        // No instance in this profile, but the class is there to instantiate.
        let r = select(&mut e, wpki::uicc_applet::WPKI_INSTANCE_AID);
        assert_ne!(r[r.len() - 2..], [0x90, 0x00]);
        assert!(e
            .emu
            .card()
            .registry()
            .find(wpki::uicc_applet::WPKI_CLASS_AID)
            .is_some());
        // A profile that sets rng_seed asks for a deterministic card.
        let seeded = uicc::profile::DEFAULT_PROFILE_TOML.replacen(
            "[card]\n",
            "[card]\nrng_seed = \"000102030405060708090A0B0C0D0E0F\"\n",
            1,
        );
        assert!(profile_asks_for_seed(&seeded));
        assert!(!profile_asks_for_seed(uicc::profile::DEFAULT_PROFILE_TOML));
        let p2 = dir.join("seeded.toml");
        std::fs::write(&p2, &seeded).unwrap();
        let e2 = emulator(&CardSpec {
            profile: Some(&p2),
            ..CardSpec::default()
        })
        .unwrap();
        assert_eq!(e2.seed, Some(core::array::from_fn(|i| i as u8)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// GET CHALLENGE (8 bytes) after a cold reset.
    fn challenge(t: &mut dyn Transport) -> Vec<u8> {
        t.reset(ResetKind::Cold).unwrap();
        t.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap()
    }

    #[test]
    fn randomness_is_os_unless_seeded_and_seeded_restarts_at_cold_reset() {
        let mut a = emulator(&CardSpec::default()).unwrap();
        let mut b = emulator(&CardSpec::default()).unwrap();
        let (x, y) = (challenge(&mut a), challenge(&mut b));
        assert_eq!(x[x.len() - 2..], [0x90, 0x00], "{x:02X?}");
        assert_ne!(x, y, "two OS-seeded cards gave the same challenge");
        assert_ne!(challenge(&mut a), x);

        let spec = CardSpec {
            rng_seed: Some([7; 16]),
            ..CardSpec::default()
        };
        let mut c = emulator(&spec).unwrap();
        let mut d = emulator(&spec).unwrap();
        let first = challenge(&mut c);
        // Some randomness used on one card only, then a cold reset: same bytes again.
        c.transmit(&[0x00, 0x84, 0x00, 0x00, 0x08]).unwrap();
        assert_eq!(challenge(&mut c), first);
        assert_eq!(challenge(&mut d), first);
        assert!(format!("{c:?}").contains("deterministic: true"));
    }

    #[test]
    fn rng_seed_argument() {
        assert_eq!(
            rng_seed_arg("000102030405060708090a0b0c0d0e0f").unwrap()[15],
            0x0F
        );
        let e = rng_seed_arg("0001").unwrap_err();
        assert!(e.to_string().contains("2 bytes"), "{e}");
        assert_eq!(e.exit_code(), 2);
        assert!(rng_seed_arg("zz").is_err());
    }
}
