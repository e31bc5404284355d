//! An app's service level objectives checked against live data before they
//! page anyone: the SLI's queries return data, what the recording rules
//! will cost in series, and a backtest of the burn-rate alerts on the
//! app's last week (`plan --prometheus-url` shows it before anything is
//! applied; `verify` checks it again once the rules run).

pub mod live;
