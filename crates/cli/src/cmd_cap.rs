//! `simota cap info FILE [--json]`: what a Java Card CAP file holds (JCVM Spec 3.0.5 ch. 6):
//! package AID and version, applets with their AIDs, imports with versions and names,
//! classes, methods, component sizes. The CAP is structurally verified first.

use crate::error::{print_json, CliError};
use clap::{Args, Subcommand};
use jcvm::cap::hex;
use jcvm::names::package_name;
use jcvm::CapFile;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// `simota cap …`
#[derive(Debug, Args)]
pub struct CapArgs {
    #[command(subcommand)]
    cmd: CapCmd,
}

#[derive(Debug, Subcommand)]
enum CapCmd {
    /// Show a CAP file's package, applets, imports, classes, methods and component sizes.
    Info {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The CAP file (a ZIP of `*/javacard/*.cap` components).
        file: PathBuf,
    },
}

/// Run `simota cap`.
pub fn run(a: CapArgs) -> Result<ExitCode, CliError> {
    match a.cmd {
        CapCmd::Info { json, file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
            let cap = CapFile::from_zip(&bytes)
                .map_err(|e| CliError::input(format!("{}: {e}", file.display())))?;
            if json {
                print_json(&info_json(&cap))?;
            } else {
                print!("{}", info_text(&cap));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn pkg_label(aid: &[u8]) -> String {
    match package_name(aid) {
        Some(n) => format!("{} ({n})", hex(aid)),
        None => hex(aid),
    }
}

fn info_text(c: &CapFile) -> String {
    let mut s = String::new();
    let h = &c.header;
    s += &format!(
        "package   {} version {}.{}{}\n",
        hex(&h.package.aid),
        h.package.major,
        h.package.minor,
        h.name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default()
    );
    s += &format!(
        "format    CAP {}.{} flags{}{}{}\n",
        h.major,
        h.minor,
        if h.flags & jcvm::cap::ACC_INT != 0 {
            " int"
        } else {
            ""
        },
        if h.flags & jcvm::cap::ACC_EXPORT != 0 {
            " export"
        } else {
            ""
        },
        if h.flags & jcvm::cap::ACC_APPLET != 0 {
            " applet"
        } else {
            ""
        },
    );
    for a in &c.applets {
        s += &format!(
            "applet    {} install method at {}\n",
            hex(&a.aid),
            a.install_method_offset
        );
    }
    for i in &c.imports {
        s += &format!(
            "import    {} version {}.{}\n",
            pkg_label(&i.aid),
            i.major,
            i.minor
        );
    }
    s += &format!(
        "classes   {} ({} interfaces)\n",
        c.classes.len(),
        c.interfaces.len()
    );
    match c.method_count() {
        Some(n) => {
            s += &format!(
                "methods   {n} with bytecode, {} exception handlers\n",
                c.method.handlers.len()
            )
        }
        None => {
            s += &format!(
                "methods   (no Descriptor), {} exception handlers\n",
                c.method.handlers.len()
            )
        }
    }
    s += &format!(
        "constants {} constant pool entries, static image {} bytes\n",
        c.constant_pool.len(),
        c.static_field.image_size
    );
    for k in &c.components {
        s += &format!(
            "component {:<12} tag {:>3} {:>6} bytes\n",
            k.name, k.tag, k.size
        );
    }
    s
}

fn info_json(c: &CapFile) -> Value {
    let h = &c.header;
    json!({
        "package": {
            "aid": hex(&h.package.aid),
            "version": format!("{}.{}", h.package.major, h.package.minor),
            "name": h.name,
        },
        "cap_format": format!("{}.{}", h.major, h.minor),
        "flags": {
            "int": h.flags & jcvm::cap::ACC_INT != 0,
            "export": h.flags & jcvm::cap::ACC_EXPORT != 0,
            "applet": h.flags & jcvm::cap::ACC_APPLET != 0,
        },
        "applets": c.applets.iter().map(|a| json!({
            "aid": hex(&a.aid),
            "install_method_offset": a.install_method_offset,
        })).collect::<Vec<_>>(),
        "imports": c.imports.iter().map(|i| json!({
            "aid": hex(&i.aid),
            "version": format!("{}.{}", i.major, i.minor),
            "name": package_name(&i.aid),
        })).collect::<Vec<_>>(),
        "classes": c.classes.len(),
        "interfaces": c.interfaces.len(),
        "methods": c.method_count(),
        "exception_handlers": c.method.handlers.len(),
        "constant_pool": c.constant_pool.len(),
        "static_image_size": c.static_field.image_size,
        "components": c.components.iter().map(|k| json!({
            "name": k.name, "tag": k.tag, "size": k.size,
        })).collect::<Vec<_>>(),
    })
}
