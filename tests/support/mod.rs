//! Test support: stand-ins for the real servers and helpers to run onramp.

pub mod grafana;
