//! Nothing to import: this crate holds the test-only binaries `audit-stress` and
//! `bench-decide`, kept out of the product binary.
