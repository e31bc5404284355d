//! Regression tests, one module per area, each test named after what broke.

mod engagement;
