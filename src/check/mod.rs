//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`stack`] (what monitoring stack a cluster
//! runs, for `onramp detect`), [`selection`] (whether that stack's
//! Prometheus picks up a plan's monitors and rules) and [`troubleshoot`]
//! (an app's runbook, run live: ranked findings with their proof and the
//! next step). What they report is one model, [`result`] (with its outputs),
//! and they find the app's alerts one way, [`alerts`].

pub mod alerts;
pub mod result;
pub mod selection;
pub mod stack;
pub mod troubleshoot;
pub mod verify;
