//! The bindings stay conversion and error mapping: each one's Rust stays under 500 lines, and
//! whatever an operation does lives in the core (`ffi::Call`), so that a binding that grows
//! past this says logic is moving into it.

#![allow(clippy::expect_used, clippy::panic, reason = "test code")]

use std::path::Path;

fn lines_of(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| {
            std::fs::read_to_string(&p)
                .expect("a source file")
                .lines()
                .count()
        })
        .sum()
}

#[test]
fn each_binding_is_under_500_lines_of_rust() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bindings");
    for binding in ["python", "node"] {
        let n = lines_of(&root.join(binding).join("src"));
        assert!(n > 100, "{binding}: {n} lines: the sources were not found");
        assert!(
            n < 500,
            "{binding}: {n} lines of Rust; move what is not conversion into the core"
        );
    }
}
