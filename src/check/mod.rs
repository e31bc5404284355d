//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus) and [`troubleshoot`] (an app's runbook, run
//! live: ranked findings with their proof and the next step). What they
//! report is one model, [`result`] (with its outputs), and they find the
//! app's alerts one way, [`alerts`]. [`adoption`] places every app of a
//! fleet on a level from the same kind of evidence. What monitoring stack a cluster runs is
//! [`crate::cluster`]'s.

pub mod adoption;
pub mod alerts;
pub mod objectives;
pub mod result;
pub mod troubleshoot;
pub mod verify;
