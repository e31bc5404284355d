//! Command-line flags, and the validated settings they turn into.
//!
//! Stage one is the clap struct ([`Cli`]), which rejects malformed input with
//! exit status 2 before anything starts; stage two is [`Config`], which the
//! rest of the shop (and the tests) use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// The demo shop onramp onboards into Prometheus and Grafana.
#[derive(Debug, Parser)]
#[command(
    name = "shop",
    version,
    about = "The demo shop that onramp onboards into Prometheus and Grafana.",
    long_about = "The demo shop that onramp onboards into Prometheus and Grafana.\n\n\
        Serves GET /, GET /products, POST /cart, POST /checkout, the probes GET /healthz and \
        GET /readyz, and Prometheus metrics on GET /metrics. Feature flags come from a \
        flagd-format JSON file that is re-read when it changes.\n\n\
        Flags the shop understands: new-checkout-button (the engagement flag), \
        fail-error-rate, fail-latency, fail-crash-at-start, fail-memory-leak.\n\n\
        Exit status: 0 after a clean shutdown (SIGTERM or Ctrl-C), 1 when the shop \
        fails or crashes on purpose (fail-crash-at-start), 2 on bad command-line \
        input or an unusable flags file at start.",
    after_help = "Example:\n  shop --listen 127.0.0.1:8080 --flags examples/shop/flags.json --simulate-users 20"
)]
pub struct Cli {
    /// Address and port to serve HTTP on.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,

    /// flagd-format JSON file with the feature flags. Checked every second;
    /// a broken file is logged and the last good flags stay in use. Without
    /// it every flag is off.
    #[arg(long, value_name = "FILE")]
    pub flags: Option<PathBuf>,

    /// Number of simulated users sending traffic to the shop itself
    /// (0: none). Each runs about one session per --session-interval-ms.
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub simulate_users: u32,

    /// Seed of all randomness (simulated sessions, injected errors); the
    /// same seed gives the same sessions.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,

    /// Milliseconds between the starts of one simulated user's sessions.
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub session_interval_ms: u64,
}

/// Validated settings of one shop process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The flags file, if any.
    pub flags: Option<PathBuf>,
    /// Simulated users.
    pub simulate_users: u32,
    /// Seed of all randomness.
    pub seed: u64,
    /// Time between one user's sessions.
    pub session_interval: Duration,
    /// How often the flags file is checked for changes.
    pub flags_poll: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            flags: None,
            simulate_users: 0,
            seed: 42,
            session_interval: Duration::from_secs(1),
            flags_poll: Duration::from_secs(1),
        }
    }
}

impl From<Cli> for Config {
    fn from(cli: Cli) -> Config {
        Config {
            listen: cli.listen,
            flags: cli.flags,
            simulate_users: cli.simulate_users,
            seed: cli.seed,
            session_interval: Duration::from_millis(cli.session_interval_ms),
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_and_bad_input() {
        let config = Config::from(Cli::try_parse_from(["shop"]).expect("defaults parse"));
        assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
        assert_eq!((config.simulate_users, config.seed), (0, 42));
        assert_eq!(config.session_interval, Duration::from_secs(1));

        let bad = Cli::try_parse_from(["shop", "--listen", "localhost"]).expect_err("bad addr");
        assert_eq!(bad.exit_code(), 2);
        let bad = Cli::try_parse_from(["shop", "--session-interval-ms", "0"]).expect_err("zero");
        assert_eq!(bad.exit_code(), 2);
    }
}
