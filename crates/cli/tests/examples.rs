//! Every CLI example in README.md and the manual (docs/src/*.md) is run and its output compared
//! (trycmd): each ```` ```console ```` block is a test case whose `$ simota …` lines are
//! executed and whose following lines are the expected stdout+stderr (`? N` after the command
//! gives the expected exit code; `...` and `[..]` elide what varies, such as timings).
//!
//! Each markdown file runs in its own sandbox: a temporary directory holding the repository's
//! `apdu-scripts/`, `crates/` and `test-vectors/` (as symlinks, read-only by convention) plus the
//! fixture files of `crates/cli/tests/examples/NAME/` (keys.toml, demo.apdu, …) for README.md
//! (`README`) or chapter `X.md` (`manual-X`), so examples that write files (state files, reports,
//! keys) never touch the work tree. The commands of one file run in order in one sandbox.
//!
//! After a deliberate change of CLI output, re-bless the snapshots in place with
//! `TRYCMD=overwrite cargo test -p simota-cli --test examples` and review the diff.
//!
//! Blocks that need a reader, a running pcscd or run for long are marked ```` ```console,ignore ````
//! or kept as ```` ```text ````; `examples_are_counted` keeps the count of covered blocks honest.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The markdown files whose examples are tested: README.md and every chapter of the manual.
fn markdown_files() -> Vec<PathBuf> {
    let root = root();
    let mut v = vec![root.join("README.md")];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root.join("docs/src"))
        .expect("docs/src")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("SUMMARY.md"))
        .collect();
    chapters.sort();
    v.extend(chapters);
    v
}

/// Builds, per markdown file, `NAME.md` (a symlink to the real file, so `TRYCMD=overwrite`
/// rewrites the real file), `NAME.in` (the sandbox template: the shared directories plus
/// `crates/cli/tests/examples/NAME/`) and an empty `NAME.out` (which makes trycmd run the file's
/// commands, in order, in a fresh copy of the template).
fn stage() -> Vec<PathBuf> {
    use std::os::unix::fs::symlink;
    let root = root();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("examples");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("examples dir");
    let fixtures = root.join("crates/cli/tests/examples");
    let mut cases = Vec::new();
    for md in markdown_files() {
        let name = if md.ends_with("README.md") {
            "README".to_string()
        } else {
            format!("manual-{}", md.file_stem().expect("stem").to_string_lossy())
        };
        let template = dir.join(format!("{name}.in"));
        std::fs::create_dir_all(&template).expect("template dir");
        for shared in ["apdu-scripts", "crates", "test-vectors"] {
            symlink(root.join(shared), template.join(shared)).expect("symlink");
        }
        if let Ok(files) = std::fs::read_dir(fixtures.join(&name)) {
            for e in files {
                let p = e.expect("fixture").path();
                std::fs::copy(&p, template.join(p.file_name().expect("name"))).expect("fixture");
            }
        }
        let case = dir.join(format!("{name}.md"));
        symlink(&md, &case).expect("symlink md");
        std::fs::create_dir_all(dir.join(format!("{name}.out"))).expect("out dir");
        cases.push(case);
    }
    cases
}

#[test]
fn readme_and_manual_examples() {
    let cases = stage();
    let t = trycmd::TestCases::new();
    t.register_bin("simota", trycmd::cargo::cargo_bin("simota"))
        .register_bin("cat", Path::new("/bin/cat"))
        .register_bin("openssl", Path::new("/usr/bin/openssl"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    for c in &cases {
        t.case(c);
    }
}

/// Counts the example blocks: ```` ```console ```` blocks run, ```` ```console,ignore ```` blocks
/// are skipped (need a reader, pcscd or a long run). A block without an info string would be
/// run by trycmd as well, so none may exist (give shell snippets `sh` and output `text`).
#[test]
fn examples_are_counted() {
    let mut run = 0;
    let mut ignored = Vec::new();
    for md in markdown_files() {
        let text = std::fs::read_to_string(&md).expect("markdown");
        let mut in_block = false;
        for (i, line) in text.lines().enumerate() {
            let Some(info) = line.trim_start().strip_prefix("```") else {
                continue;
            };
            if in_block {
                in_block = false;
                continue;
            }
            in_block = true;
            let info = info.trim();
            assert!(
                !(line.starts_with(' ') && info.starts_with("console")),
                "{}:{}: an indented console block is not run by trycmd; move it to column 0",
                md.display(),
                i + 1
            );
            assert!(
                !info.is_empty(),
                "{}:{}: a code block without an info string (use console, sh, text, toml, rust)",
                md.display(),
                i + 1
            );
            if info == "console" {
                run += 1;
            } else if info.starts_with("console") {
                ignored.push(format!("{}:{}", md.display(), i + 1));
            }
        }
    }
    eprintln!("{run} example blocks run, {} ignored:", ignored.len());
    for i in &ignored {
        eprintln!("  {i}");
    }
    assert!(run >= 32, "only {run} example blocks are run");
}
