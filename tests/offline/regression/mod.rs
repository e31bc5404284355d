//! Regression tests that need nothing installed, one module per area (what
//! broke, not where it was found), each test named in the past tense after
//! what broke (ripgrep's `tests/regression.rs` style). The ones that need a
//! tool are in `tests/integration/regression/`.

mod cli;
mod clients;
mod config;
mod conventions;
mod demo;
mod engagement;
mod files;
mod grafana;
mod manifests;
mod needs;
mod runbook;
mod verify;

use std::time::Duration;

use crate::support::{Run, demo_manifests, dir_with, read, repo_path};

/// `onramp COMMAND checkout -f DEMO EXTRA…` (the demo app) with `env`.
fn demo_env(command: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let manifests = demo_manifests();
    let mut args = vec![command, "checkout", "-f", &manifests];
    args.extend_from_slice(extra);
    crate::support::onramp_env(&args, env)
}

/// `onramp COMMAND checkout -f DEMO EXTRA…` (the demo app).
fn demo(command: &str, extra: &[&str]) -> Run {
    demo_env(command, extra, &[])
}

/// A folder holding a copy of the built-in need `id` with `from` replaced by
/// `to` (which must occur), and the line of the first replacement.
fn edited_need(id: &str, from: &str, to: &str) -> (tempfile::TempDir, usize) {
    let text = read(repo_path(&format!("dashboards/{id}.yaml")));
    let at = text.find(from).expect("the text to replace is in the need");
    let line = text[..at].lines().count() + usize::from(text[..at].ends_with('\n'));
    let dir = dir_with(&format!("{id}.yaml"), &text.replacen(from, to, 1));
    (dir, line)
}

/// A Prometheus stand-in: it has no series, no targets and no rules; its
/// reload fails (HTTP 500) and, while failing, replaces the folder `sabotage`
/// by a file, so that putting the previous files back fails too. It listens
/// on `listener` once `after` has passed (a Prometheus still starting).
fn fake_prometheus(
    listener: std::net::TcpListener,
    after: Duration,
    sabotage: std::path::PathBuf,
) -> String {
    use std::io::{Read, Write};
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        std::thread::sleep(after);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let ok = |data: &str| ("200 OK", format!(r#"{{"status":"success","data":{data}}}"#));
            let (status, body) = if line.starts_with("GET /metrics") {
                ("200 OK", "prometheus_config_last_reload_successful 1\nprometheus_config_last_reload_success_timestamp_seconds 1\n".to_string())
            } else if line.contains(" /api/v1/query") {
                ok(r#"{"resultType":"vector","result":[]}"#)
            } else if line.contains(" /api/v1/targets") {
                ok(r#"{"activeTargets":[],"droppedTargets":[]}"#)
            } else if line.contains(" /api/v1/rules") {
                ok(r#"{"groups":[]}"#)
            } else if line.starts_with("POST /-/reload") {
                let _ = std::fs::remove_dir_all(&sabotage);
                let _ = std::fs::write(&sabotage, "not a folder");
                let why = "error loading config".to_string();
                ("500 Internal Server Error", why)
            } else {
                ("404 Not Found", "not found".to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// [`fake_prometheus`], up at once.
fn prometheus_whose_reload_breaks(sabotage: std::path::PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    fake_prometheus(listener, Duration::ZERO, sabotage)
}
