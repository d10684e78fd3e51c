//! `simota keyaudit FILE|DIR… [--json] [--generate N --card emu]`: the key-quality audit of
//! crate `keyaudit` (ROCA, shared primes by batch GCD, small factors, Fermat, exponent and size
//! policy, duplicates, EC points and curves, MSB statistics of a generation run) over keys read
//! from files, or generated through the emulated card's WPKI applet. Exit 1 when a key is weak.

use crate::error::{print_json, CliError};
use clap::{Args, ValueEnum};
use keyaudit::{Options, PublicKey, Severity};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use wpki::applet::AppletConfig;
use wpki::client::{self, CountingSink, DirectCard};
use wpki::protocol::{KeyAlgorithm, OpCode, Request};
use wpki::state::WpkiState;

/// `simota keyaudit …`
#[derive(Debug, Args)]
pub struct KeyauditArgs {
    /// Key files (PEM/DER SubjectPublicKeyInfo, PKCS#1, PKCS#10, X.509; CSV `modulus[,exponent]`
    /// in hex) or directories (read recursively).
    paths: Vec<PathBuf>,
    /// JSON output instead of the table.
    #[arg(long)]
    json: bool,
    /// Generate N keys on the card's WPKI applet and audit them (with the MSB statistics).
    #[arg(long, value_name = "N")]
    generate: Option<usize>,
    /// The card for --generate.
    #[arg(long, value_enum, default_value = "emu")]
    card: CardArg,
    /// Algorithm for --generate.
    #[arg(long, value_enum, default_value = "rsa2048")]
    alg: AlgArg,
    /// Write the generated public keys as CSV (`modulus,exponent`, hex) for other tools.
    #[arg(long, value_name = "FILE", requires = "generate")]
    save: Option<PathBuf>,
    /// Run the MSB statistics on the files too (they should come from one generator).
    #[arg(long)]
    msb: bool,
    /// Fermat steps per modulus.
    #[arg(long, default_value_t = keyaudit::fermat::DEFAULT_STEPS)]
    fermat_steps: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CardArg {
    /// The emulated card, its WPKI applet in process.
    Emu,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AlgArg {
    Rsa2048,
    Rsa3072,
    P256,
    P384,
}

/// Key ids per emulated card (the applet holds keys 0..=7): a fresh card every 8 keys.
const KEYS_PER_CARD: usize = 8;

fn generate(n: usize, alg: AlgArg, quiet: bool) -> Result<Vec<PublicKey>, CliError> {
    let alg = match alg {
        AlgArg::Rsa2048 => KeyAlgorithm::Rsa2048,
        AlgArg::Rsa3072 => KeyAlgorithm::Rsa3072,
        AlgArg::P256 => KeyAlgorithm::EcP256,
        AlgArg::P384 => KeyAlgorithm::EcP384,
    };
    let ce = |e: client::ClientError| CliError::transport(format!("WPKI applet: {e}"));
    let mut out = Vec::with_capacity(n);
    let mut rng = client::os_rng().map_err(ce)?;
    for start in (0..n).step_by(KEYS_PER_CARD) {
        let mut card = DirectCard::new(
            WpkiState::default(),
            AppletConfig::default(),
            client::os_rng().map_err(ce)?,
            CountingSink::default(),
        );
        let mut cl = client::Client::new(None, 1);
        for i in start..n.min(start + KEYS_PER_CARD) {
            let mut r = Request::new(0, OpCode::Keygen);
            r.group = Some(0);
            r.key = Some((i - start) as u8);
            r.algorithm = Some(alg);
            let spki = cl
                .call(&mut card, r, &mut rng)
                .map_err(ce)?
                .public_key
                .ok_or_else(|| CliError::failed("keygen answer lacks the public key"))?;
            let label = format!("emu:card{}:key{}", start / KEYS_PER_CARD, i - start);
            let mut keys = keyaudit::read::parse(&label, &spki)
                .map_err(|e| CliError::failed(format!("card's public key: {e}")))?;
            out.append(&mut keys);
            if !quiet && (i + 1) % 50 == 0 {
                eprintln!("generated {}/{n}", i + 1);
            }
        }
    }
    Ok(out)
}

fn save_csv(path: &PathBuf, keys: &[PublicKey]) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::input(format!("{}: {e}", path.display()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(f, "modulus,exponent").map_err(io)?;
    for k in keys {
        if let keyaudit::KeyKind::Rsa { n, e } = &k.kind {
            writeln!(f, "{},{}", n.to_str_radix(16), e.to_str_radix(16)).map_err(io)?;
        }
    }
    f.flush().map_err(io)
}

/// Run `simota keyaudit`.
pub fn run(a: KeyauditArgs) -> Result<ExitCode, CliError> {
    if a.paths.is_empty() && a.generate.is_none() {
        return Err(CliError::input(
            "keyaudit: give key files or directories, or --generate N",
        ));
    }
    let _ = a.card;
    let mut keys = Vec::new();
    for p in &a.paths {
        keys.extend(keyaudit::read::read_path(p).map_err(|e| CliError::input(e.to_string()))?);
    }
    if let Some(n) = a.generate {
        let g = generate(n, a.alg, a.json)?;
        if let Some(path) = &a.save {
            save_csv(path, &g)?;
        }
        keys.extend(g);
    }
    let opts = Options {
        fermat_steps: a.fermat_steps,
        msb: a.msb || a.generate.is_some(),
        ..Options::default()
    };
    let report = keyaudit::audit(&keys, &opts);
    if a.json {
        let mut v = serde_json::to_value(&report)
            .map_err(|e| CliError::input(format!("JSON output: {e}")))?;
        v["weak"] = report.weak().into();
        v["weak_keys"] = report.weak_keys().into();
        print_json(&v)?;
    } else {
        print_table(&keys, &report);
    }
    Ok(if report.weak() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(keys: &[PublicKey], report: &keyaudit::Report) {
    if !report.findings.is_empty() {
        let w = report
            .findings
            .iter()
            .map(|f| f.key.chars().count())
            .max()
            .unwrap_or(3)
            .max(3);
        println!(
            "{:<w$}  {:<10}  {:<12}  {:<4}  EVIDENCE",
            "KEY", "TYPE", "CHECK", "SEV"
        );
        for f in &report.findings {
            let ty = keys
                .iter()
                .find(|k| k.label == f.key)
                .map(|k| k.kind.describe())
                .unwrap_or_else(|| "(set)".into());
            let sev = match f.severity {
                Severity::Weak => "WEAK",
                Severity::Info => "info",
            };
            println!(
                "{:<w$}  {:<10}  {:<12}  {:<4}  {}",
                f.key,
                ty,
                f.check.name(),
                sev,
                f.evidence
            );
        }
    }
    if let Some(m) = &report.msb {
        let fits: Vec<String> = m
            .fits
            .iter()
            .map(|f| {
                format!(
                    "{} chi2 {:.1}/{:.1}{}",
                    f.model,
                    f.chi2,
                    f.critical,
                    if f.fits { " fits" } else { "" }
                )
            })
            .collect();
        println!(
            "MSB statistics over {} RSA-{} moduli: {} ({})",
            m.samples,
            m.bits,
            if m.biased {
                "BIASED"
            } else {
                "consistent with a benign generator"
            },
            fits.join(", ")
        );
    }
    let weak = report.weak_keys();
    println!(
        "audited {} keys ({} RSA, {} EC): {}",
        report.keys,
        report.rsa,
        report.ec,
        if weak.is_empty() {
            "no weak keys".to_string()
        } else {
            format!("{} weak", weak.len())
        }
    );
}
