//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`stack`] (what monitoring stack a cluster
//! runs, for `onramp detect`) and [`troubleshoot`] (an app's runbook, run
//! live: ranked findings with their proof and the next step).

pub mod stack;
pub mod troubleshoot;
pub mod verify;
