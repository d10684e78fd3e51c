//! Replays the committed corpora of the coverage fuzz targets (`fuzz/corpus/<target>/*`)
//! through the same functions the libFuzzer binaries call — no nightly, no libFuzzer.

use std::path::PathBuf;

#[test]
fn every_target_over_its_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut total = 0;
    for (name, f) in fuzz::targets::TARGETS {
        let dir = root.join(name);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            panic!("no corpus for target {name} in {}", dir.display());
        };
        let mut n = 0;
        for e in rd.flatten() {
            let data = std::fs::read(e.path()).unwrap();
            f(&data);
            n += 1;
        }
        assert!(n > 0, "empty corpus for {name}");
        total += n;
    }
    assert!(total > 0);
}
