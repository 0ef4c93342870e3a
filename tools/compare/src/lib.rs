//! Nothing to link: this package is the bench `benches/compare.rs`, run with
//! `cargo bench -p rbacd-compare`.
