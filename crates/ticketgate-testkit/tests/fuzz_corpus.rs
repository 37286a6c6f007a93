//! Replays the saved fuzz corpus (`fuzz/corpus/<target>/`) and every regression input found
//! so far (`fuzz/regressions/<target>/`) through the fuzz targets' bodies, on stable Rust.

use std::path::Path;
use ticketgate_testkit::fuzz;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                run(&bytes);
                n += 1;
            }
        }
    }
    n
}

#[test]
fn the_corpus_replays_clean() {
    let counts = [
        ("request", replay("request", fuzz::request)),
        ("pack", replay("pack", fuzz::pack)),
        ("audit", replay("audit", fuzz::audit)),
        ("masking", replay("masking", fuzz::masking)),
    ];
    for (target, n) in counts {
        assert!(n > 0, "no saved inputs for the `{target}` fuzz target");
    }
}
