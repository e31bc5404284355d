//! Regression tests, one module per area, each test named after what broke
//! (ripgrep's `tests/regression.rs` style).

mod bugs;
mod clients;
mod cluster;
mod conventions;
mod engagement;
mod files;
mod house;
mod live;
mod new_user;
mod real_apiserver;
mod troubleshoot;
