//! The demo shop as a real process on a loopback port, with its own copy of
//! the flags file so a test can flip flags the way an operator would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The shop binary, built once per test run with the same cargo.
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "shop", "--bin", "shop"])
            .current_dir(super::repo())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the demo shop failed");
        let onramp = PathBuf::from(env!("CARGO_BIN_EXE_onramp"));
        onramp.with_file_name("shop")
    })
}

/// A running shop.
pub struct Shop {
    child: Child,
    port: u16,
    flags: PathBuf,
    _dir: tempfile::TempDir,
}

impl Shop {
    /// Starts the shop with `users` simulated users, each starting a session every `interval`.
    pub fn start(users: u32, interval: Duration) -> Shop {
        let dir = tempfile::tempdir().expect("temp dir");
        let flags = dir.path().join("flags.json");
        std::fs::copy(super::repo_path("examples/shop/flags.json"), &flags).expect("copy flags");
        let port = super::prometheus::free_port();
        let child = Command::new(binary())
            .args([
                format!("--listen=127.0.0.1:{port}"),
                format!("--flags={}", flags.display()),
                format!("--simulate-users={users}"),
                format!("--session-interval-ms={}", interval.as_millis()),
                "--seed=7".to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the shop starts");
        let shop = Shop {
            child,
            port,
            flags,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while shop.get("/readyz").is_none() {
            assert!(
                Instant::now() < deadline,
                "the shop did not become ready on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        shop
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A plain HTTP GET; the body when the status is 200.
    pub fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(self.address()).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let ok = response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200");
        ok.then(|| {
            response
                .split("\r\n\r\n")
                .nth(1)
                .unwrap_or_default()
                .to_string()
        })
    }

    /// Serves `variant` of `flag` to everyone (as an operator editing the flag file would).
    pub fn set_flag(&self, flag: &str, variant: &str) {
        let text = std::fs::read_to_string(&self.flags).expect("flags");
        let mut flags: Value = serde_json::from_str(&text).expect("flags JSON");
        let entry = &mut flags["flags"][flag];
        assert!(entry.is_object(), "the shop has no flag {flag}");
        entry["defaultVariant"] = Value::from(variant);
        if let Some(obj) = entry.as_object_mut() {
            obj.remove("targeting");
        }
        let tmp = self.flags.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&flags).expect("json")).expect("write");
        std::fs::rename(&tmp, &self.flags).expect("rename");
    }
}

/// The shop's own engagement counters for one variant of its engagement flag.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Engagement {
    /// `user_sessions_total`.
    pub sessions: f64,
    /// `user_clicks_total`.
    pub clicks: f64,
    /// `user_page_exits_total`.
    pub exits: f64,
}

impl Engagement {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Engagement) -> Engagement {
        Engagement {
            sessions: self.sessions - earlier.sessions,
            clicks: self.clicks - earlier.clicks,
            exits: self.exits - earlier.exits,
        }
    }
}

impl Shop {
    /// Replaces one flag's whole definition in the flags file (the shop
    /// re-reads it within a second), as an operator rolling a flag out would.
    pub fn define_flag(&self, flag: &str, definition: Value) {
        let text = std::fs::read_to_string(&self.flags).expect("flags");
        let mut flags: Value = serde_json::from_str(&text).expect("flags JSON");
        flags["flags"][flag] = definition;
        let tmp = self.flags.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(&flags).expect("json")).expect("write");
        std::fs::rename(&tmp, &self.flags).expect("rename");
    }

    /// The engagement counters by variant, read from the shop's `/metrics`.
    pub fn engagement(&self) -> std::collections::BTreeMap<String, Engagement> {
        let text = self.get("/metrics").expect("the shop serves /metrics");
        let mut by_variant = std::collections::BTreeMap::<String, Engagement>::new();
        for line in text.lines() {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Some(variant) = series
                .split("feature_flag_result_variant=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
            else {
                continue;
            };
            let value: f64 = value.parse().unwrap_or_default();
            let entry = by_variant.entry(variant.to_string()).or_default();
            if series.starts_with("user_sessions_total{") {
                entry.sessions = value;
            } else if series.starts_with("user_clicks_total{") {
                entry.clicks = value;
            } else if series.starts_with("user_page_exits_total{") {
                entry.exits = value;
            }
        }
        by_variant.retain(|_, e| e.sessions > 0.0);
        by_variant
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
