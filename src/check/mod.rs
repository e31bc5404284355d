//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`stack`] (what monitoring stack a cluster
//! runs, for `onramp detect`), and [`selection`] (whether that stack's
//! Prometheus picks up a plan's monitors and rules).

pub mod selection;
pub mod stack;
pub mod verify;
