//! Regression tests, one module per area, each named after what broke
//! (ripgrep's `tests/regression.rs` style).

mod bugs;
