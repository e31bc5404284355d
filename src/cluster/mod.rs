//! The monitoring stack a cluster runs, read from its API server, and what
//! follows from it for a plan: [`stack`] (what `onramp detect` finds: the
//! Prometheus Operator, each Prometheus' selectors, Grafana's dashboard
//! sidecar, the Services they are reached through) and [`selection`]
//! (whether that Prometheus picks up a plan's monitors and rules), and
//! [`fleet`] (every workload and onramp's objects, for `onramp adoption`).
//!
//! Planning and `detect` use it; the checks (`troubleshoot`) read it too.
//! Every request it sends is an entry of the one permission registry,
//! [`crate::client::kube::access`]. Does not own the App read from the
//! cluster (`app::deployed`) nor how a plan is applied (`sink::kubernetes`).

pub mod fleet;
pub mod selection;
pub mod stack;
