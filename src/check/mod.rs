//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`troubleshoot`] (an app's runbook, run
//! live: ranked findings with their proof and the next step). What
//! monitoring stack a cluster runs is [`crate::cluster`]'s.

pub mod troubleshoot;
pub mod verify;
