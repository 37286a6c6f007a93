//! Test-only code: the bodies of the fuzz targets (run by `cargo fuzz` in `fuzz/` on nightly,
//! and replayed over the saved corpus on stable by `tests/fuzz_corpus.rs`), and the binaries
//! `audit-stress` and `bench-decide`, kept out of the product binary.

pub mod fuzz;
