//! `simota profile show [default|FILE] [--tree]` and `simota profile check FILE`: print and
//! validate card profiles of the emulated UICC (TOML; see the `uicc` crate).

use crate::error::CliError;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use uicc::fs::{EfStructure, NodeKind, Tree};
use uicc::nv::Content;
use uicc::{Profile, ProfileError};

/// `simota profile …`
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    cmd: ProfileCmd,
}

#[derive(Debug, Subcommand)]
enum ProfileCmd {
    /// Print a profile: the built-in card's (`default`, the default; the `uicc` default profile
    /// plus the WPKI applet) or a TOML file.
    Show {
        /// `default` or the path of a profile TOML file.
        #[arg(default_value = "default")]
        profile: String,
        /// Print the file tree (FIDs, structures, sizes, SFIs, access rules) instead of the TOML.
        #[arg(long)]
        tree: bool,
    },
    /// Validate a profile TOML file; errors name the line and column.
    Check {
        /// The profile file.
        file: PathBuf,
    },
}

fn load(name: &str) -> Result<Profile, ProfileError> {
    if name == "default" {
        crate::card::builtin_profile(None)
    } else {
        Profile::load(std::path::Path::new(name))
    }
}

fn structure(kind: &NodeKind) -> String {
    match kind {
        NodeKind::Df => "DF".into(),
        NodeKind::Adf { aid } => format!("ADF aid {}", apdu::hex::encode(aid)),
        NodeKind::Ef(EfStructure::Transparent { size }) => format!("transparent {size} B"),
        NodeKind::Ef(EfStructure::LinearFixed {
            record_len,
            records,
        }) => format!("linear-fixed {records}x{record_len} B"),
        NodeKind::Ef(EfStructure::Cyclic {
            record_len,
            records,
        }) => format!("cyclic {records}x{record_len} B"),
        NodeKind::Ef(EfStructure::BerTlv { size }) => format!("BER-TLV max {size} B"),
    }
}

fn print_tree(p: &Profile) {
    let tree: &Tree = &p.tree;
    fn walk(p: &Profile, id: usize, prefix: &str, last: bool, root: bool) {
        let tree = &p.tree;
        let Some(n) = tree.node(id) else { return };
        let mut line = format!("{:04X} {:<12} {}", n.fid, n.name, structure(&n.kind));
        if let Some(sfi) = n.sfi {
            line.push_str(&format!("  sfi {sfi:02X}"));
        }
        if let Some(a) = n.arr {
            line.push_str(&format!("  arr {:04X}#{}", a.fid, a.record));
        }
        if let Some(f) = p.initial_state().files.get(id) {
            if let Content::Bytes(b) = &f.content {
                if matches!(n.kind, NodeKind::Ef(EfStructure::Transparent { .. })) && b.len() <= 16
                {
                    line.push_str(&format!("  = {}", apdu::hex::encode(b)));
                }
            }
        }
        if root {
            println!("{line}");
        } else {
            println!("{prefix}{}{line}", if last { "└── " } else { "├── " });
        }
        let child_prefix = if root {
            String::new()
        } else {
            format!("{prefix}{}", if last { "    " } else { "│   " })
        };
        let kids = &n.children;
        for (i, &c) in kids.iter().enumerate() {
            walk(p, c, &child_prefix, i + 1 == kids.len(), false);
        }
    }
    walk(p, 0, "", true, true);
    let _ = tree;
}

fn summary(p: &Profile) -> String {
    let files = p.tree.nodes.len();
    let efs = p.tree.nodes.iter().filter(|n| !n.is_dir()).count();
    format!(
        "{} files ({} EFs, {} directories), {} PINs, {} AUTH keys, {} OTA key sets, {} TARs, {} applets",
        files,
        efs,
        files - efs,
        p.pins.len(),
        p.auth.len(),
        p.ota_keysets.len(),
        p.ota_tars.len(),
        p.applets.len()
    )
}

/// Run `simota profile`.
pub fn run(a: ProfileArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        ProfileCmd::Show { profile, tree } => {
            let p = load(&profile).map_err(|e| CliError::input(format!("profile: {e}")))?;
            if tree {
                println!(
                    "# {}: {}",
                    if p.name.is_empty() { &profile } else { &p.name },
                    summary(&p)
                );
                println!("# ATR {}", apdu::hex::encode(&p.atr));
                print_tree(&p);
            } else {
                print!("{}", p.to_toml());
            }
            Ok(ExitCode::SUCCESS)
        }
        ProfileCmd::Check { file } => match Profile::load(&file) {
            Ok(p) => {
                println!("{}: ok: {}", file.display(), summary(&p));
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ ProfileError::Invalid { .. }) => Err(CliError::failed(e.to_string())),
            Err(e) => Err(CliError::input(e.to_string())),
        },
    }
}
