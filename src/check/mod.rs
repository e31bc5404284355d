//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`stack`] (what monitoring stack a cluster
//! runs, for `onramp detect`).

pub mod stack;
pub mod troubleshoot;
pub mod verify;
