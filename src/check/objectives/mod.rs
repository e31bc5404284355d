//! Checks of an objective's burn-rate alerts against the app's live data,
//! before they page anyone: the [`backtest`] replays them over the last
//! week. The objectives themselves and their window table are
//! [`crate::needs::objective`]'s; the rules are rendered elsewhere.

pub mod backtest;
