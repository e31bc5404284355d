//! An app's service level objectives checked against live data before they
//! page anyone: the SLI's queries return data, what the recording rules
//! will cost in series ([`live`]), and the burn-rate alerts replayed on the
//! app's last week ([`backtest`]). `plan --prometheus-url` shows both
//! before anything is applied; `verify` checks them again once the rules
//! run. The objectives and their window table are
//! [`crate::needs::objective`]'s; their rules are `render::slo`'s.

pub mod backtest;
pub mod live;
