//! `simota profile show` / `simota profile check` through the real binary.

mod common;

fn simota(args: &[&str]) -> (i32, String, String) {
    let o = common::simota().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn show_default_prints_the_builtin_toml() {
    let (code, out, _) = simota(&["profile", "show"]);
    assert_eq!(code, 0);
    assert!(out.contains("[card]") && out.contains("path = \"3F00/7FF0/6F07\""));
    let (code, out2, _) = simota(&["profile", "show", "default"]);
    assert_eq!(code, 0);
    assert_eq!(out, out2);
}

#[test]
fn show_tree_lists_files() {
    let (code, out, _) = simota(&["profile", "show", "default", "--tree"]);
    assert_eq!(code, 0);
    assert!(out.contains("2FE2 EF.ICCID"), "{out}");
    assert!(out.contains("6F39 EF.ACM       cyclic 5x3 B"), "{out}");
    assert!(
        out.contains("ADF aid A0000000871002FF44FFFF8900000100"),
        "{out}"
    );
}

#[test]
fn check_accepts_the_default_and_names_line_and_column() {
    let dir = std::env::temp_dir().join(format!("simota-profile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.toml");
    let (_, text, _) = simota(&["profile", "show"]);
    std::fs::write(&good, &text).unwrap();
    let (code, out, _) = simota(&["profile", "check", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: 318 files"), "{out}");

    let bad = dir.join("bad.toml");
    let broken = text.replace("data = \"00 00 00 02\"", "data = \"00 0Z 00 02\"");
    std::fs::write(&bad, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("0Z")).unwrap() + 1;
    let (code, _, err) = simota(&["profile", "check", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("line {line}, column 8")), "{err}");
    assert!(err.contains("hex"), "{err}");

    let (code, _, err) = simota(&[
        "profile",
        "check",
        dir.join("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
