//! The checks that read live services and report: [`verify`] (the CI smoke
//! test against Prometheus).

pub mod verify;
