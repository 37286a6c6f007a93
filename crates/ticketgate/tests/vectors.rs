//! Every vector file of the repository, through the Rust API.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use std::path::{Path, PathBuf};
use ticketgate::{vectors, PolicyPack};

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = Vec::new();
    for dir in ["policies/tests", "tests/vectors"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_vector_passes_on_the_default_pack() {
    let pack = PolicyPack::default();
    let mut failures = Vec::new();
    let mut total = 0;
    for f in files() {
        for case in vectors::load(&f).unwrap() {
            total += 1;
            if let Err(why) = vectors::run_case(&pack, &case) {
                failures.push(format!("{} :: {}: {why}", f.display(), case.name));
            }
        }
    }
    assert!(total >= 60, "only {total} vector cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
