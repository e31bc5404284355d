//! The demo shop that onramp onboards: a small HTTP service with request,
//! feature-flag, engagement and process metrics, failure flags to break it
//! on purpose, and a deterministic traffic simulator.
//!
//! The flow: [`cli`] turns flags into a [`Config`]; [`Shop::start`] loads the
//! [`flags`], applies `fail-crash-at-start`, binds, and starts the [`server`],
//! the flags watcher, the [`faults`] memory leak and the [`simulator`]; all of
//! them record into [`metrics`] (plus [`process`] on each scrape).

pub mod cli;
pub mod client;
pub mod error;
pub mod faults;
pub mod flags;
pub mod log;
pub mod metrics;
pub mod process;
pub mod rng;
pub mod server;
pub mod simulator;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cli::{Cli, Config};
pub use error::{Error, Result};

use flags::{EvaluationContext, FlagStore};
use metrics::Metrics;
use rng::SharedRng;
use server::AppState;
use simulator::Simulation;

/// The shop's version, reported in `shop_build_info` and the start log line.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A running shop: its address, its shared parts, and the switch to stop it.
#[derive(Debug)]
pub struct Shop {
    /// The address it listens on (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Its flags.
    pub flags: Arc<FlagStore>,
    ready: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Shop {
    /// Loads the flags, crashes if `fail-crash-at-start` says so, binds the
    /// listen address and starts serving and simulating.
    pub async fn start(config: &Config) -> Result<Shop> {
        let metrics = Arc::new(Metrics::new(VERSION));
        let flags = Arc::new(FlagStore::load(
            config.flags.as_deref(),
            Arc::clone(&metrics),
        )?);
        let flags_file = config
            .flags
            .as_ref()
            .map_or_else(|| "none".to_owned(), |p| p.display().to_string());
        log::info(
            "starting",
            &[
                ("version", &VERSION),
                ("listen", &config.listen),
                ("flags_file", &flags_file),
                ("flags", &flags.snapshot().len()),
                ("simulate_users", &config.simulate_users),
                ("seed", &config.seed),
            ],
        );

        let crash = flags.evaluate(faults::FAIL_CRASH_AT_START, &EvaluationContext::default());
        if faults::crash_at_start(&crash.value) {
            return Err(Error::CrashAtStart {
                variant: crash.variant,
            });
        }

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;

        let (stop, stopped) = watch::channel(false);
        let ready = Arc::new(AtomicBool::new(false));
        let state = AppState {
            metrics: Arc::clone(&metrics),
            flags: Arc::clone(&flags),
            rng: Arc::new(SharedRng::new(config.seed)),
            ready: Arc::clone(&ready),
        };
        let mut shutdown = stopped.clone();
        let server = tokio::spawn(server::serve(listener, state, async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        }));

        let mut tasks = vec![
            tokio::spawn(Arc::clone(&flags).watch(config.flags_poll, stopped.clone())),
            tokio::spawn(
                Arc::new(faults::MemoryLeak::default()).run(Arc::clone(&flags), stopped.clone()),
            ),
        ];
        let simulation = Simulation {
            users: config.simulate_users,
            seed: config.seed,
            session_interval: config.session_interval,
            target: loopback(addr),
        };
        tasks.extend(simulator::spawn(&simulation, &flags, &metrics, &stopped));

        ready.store(true, Ordering::Relaxed);
        log::info("listening", &[("addr", &addr)]);
        Ok(Shop {
            addr,
            metrics,
            flags,
            ready,
            stop,
            server,
            tasks,
        })
    }

    /// Starts a graceful shutdown: not ready, no new sessions, in-flight
    /// requests finish.
    pub fn stop(&self) {
        self.ready.store(false, Ordering::Relaxed);
        self.stop.send_replace(true);
    }

    /// A handle that can stop the shop from another task.
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let ready = Arc::clone(&self.ready);
        let stop = self.stop.clone();
        move || {
            ready.store(false, Ordering::Relaxed);
            stop.send_replace(true);
        }
    }

    /// Waits until the shop has stopped.
    pub async fn wait(self) -> Result<()> {
        let served = self.server.await;
        // Whatever ended the server, the background tasks end with it.
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        match served {
            Ok(result) => result.map_err(Error::Serve),
            Err(join) => Err(Error::Serve(std::io::Error::other(join))),
        }
    }
}

/// The address to reach the shop from inside the process: a wildcard listen
/// address is reached on loopback.
fn loopback(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

/// Runs the shop until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn run(config: Config) -> Result<()> {
    let shop = Shop::start(&config).await?;
    let stop = shop.stopper();
    tokio::spawn(async move {
        let signal = shutdown_signal().await;
        log::info("shutting down", &[("signal", &signal)]);
        stop();
    });
    shop.wait().await?;
    log::info("stopped", &[]);
    Ok(())
}

/// Waits for SIGTERM (how Kubernetes stops a pod) or Ctrl-C; returns its name.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_reached_on_loopback() {
        let a: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(loopback(a).to_string(), "127.0.0.1:8080");
        let a: SocketAddr = "[::]:9".parse().expect("addr");
        assert_eq!(loopback(a).to_string(), "[::1]:9");
        let a: SocketAddr = "10.0.0.1:80".parse().expect("addr");
        assert_eq!(loopback(a), a);
    }
}
