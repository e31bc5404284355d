//! Regression tests, one module per area, each named after what broke.

mod house;
