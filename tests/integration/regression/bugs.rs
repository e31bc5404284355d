//! Bugs found by fault injection and a new user's first hour (issue 7 §3–§4):
//! each test is named after what broke and asserts what the user sees.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Run, demo_manifests, dir_with, onramp, onramp_in, read, repo_path};

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

#[test]
fn verify_wait_of_u64_max_seconds_is_refused_instead_of_panicking() {
    for wait in ["18446744073709551615", "9999999999999999d"] {
        let run = demo(
            "verify",
            &["--prometheus-url", "http://127.0.0.1:9", "--wait", wait],
        );
        run.expect_status(2);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            run.stderr.contains("--wait") && run.stderr.contains("at most 24h"),
            "the message names the bound: {}",
            run.stderr
        );
    }
}

#[test]
fn verify_wait_accepts_humantime_durations() {
    let run = demo(
        "verify",
        &[
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--wait",
            "1s 500ms",
        ],
    );
    // Not a usage error: the duration parses, Prometheus is then unreachable.
    assert_ne!(run.status, 2, "{}", run.stderr);
}

#[test]
fn writing_the_plan_into_a_closed_pipe_ends_quietly_with_success() {
    let manifests = demo_manifests();
    let mut child = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .args(["plan", "checkout", "-f", &manifests, "-o", "json"])
        .current_dir(crate::support::repo())
        .env_remove("PROMETHEUS_URL")
        .env_remove("GRAFANA_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("onramp runs");
    // Close the reading end before onramp writes, as `| true` does.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("onramp finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(stderr.is_empty(), "no message for a closed pipe: {stderr}");
}

#[test]
fn a_for_of_1s5m_is_refused_with_the_need_file_and_line() {
    let (dir, line) = edited_need("service-health", "for: 5m", "for: 1s5m");
    let needs_dir = dir.path().display().to_string();
    let run = onramp(&["needs", "--needs-dir", &needs_dir]);
    run.expect_status(2);
    let file = dir.path().join("service-health.yaml").display().to_string();
    assert!(
        run.stderr.contains(&format!("{file}:{line}")),
        "names file and line {line}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`for: 1s5m`") && run.stderr.contains("largest unit first"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_for_of_zero_and_of_compound_units_is_accepted() {
    for good in ["for: 0", "for: 1h30m", "for: 90s"] {
        let (dir, _) = edited_need("service-health", "for: 5m", good);
        let needs_dir = dir.path().display().to_string();
        onramp(&["needs", "--needs-dir", &needs_dir]).expect_status(0);
    }
}

#[test]
fn a_dashboard_variable_matched_with_equals_is_refused() {
    for op in ["=", "!="] {
        let (dir, _) = edited_need(
            "feature-flag-engagement",
            r#"{{clicks|flag=~"$flag"}}"#,
            &format!(r#"{{{{clicks|flag{op}"$flag"}}}}"#),
        );
        let needs_dir = dir.path().display().to_string();
        let run = onramp(&["needs", "--needs-dir", &needs_dir]);
        run.expect_status(2);
        for part in [
            "feature-flag-engagement.yaml:",
            "panel \"Clicks per session by variant\"",
            "$flag",
            "=~",
        ] {
            assert!(run.stderr.contains(part), "lacks {part:?}: {}", run.stderr);
        }
    }
}

#[test]
fn config_dir_in_onramp_yaml_is_relative_to_the_config_file() {
    let config = dir_with("onramp.yaml", "prometheus:\n  config_dir: prom\n");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let config_file = config.path().join("onramp.yaml").display().to_string();
    // Run from elsewhere: the manifests by their absolute path.
    let manifests = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(demo_manifests())
        .display()
        .to_string();
    let run = onramp_in(
        Some(elsewhere.path()),
        &[
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--config",
            &config_file,
            "--target",
            "127.0.0.1:8080",
        ],
        None,
    );
    run.expect_status(0);
    let written = config.path().join("prom/targets");
    assert!(
        written.is_dir() && std::fs::read_dir(&written).expect("read").count() == 1,
        "the target file is next to onramp.yaml: {}",
        run.stdout
    );
    assert!(
        !elsewhere.path().join("prom").exists(),
        "nothing is written relative to the working directory"
    );
}

#[test]
fn a_signal_mapped_in_onramp_yaml_is_reported_as_from_onramp_yaml() {
    let config = dir_with(
        "onramp.yaml",
        "signals:\n  requests: http_server_requests_seconds_count\n",
    );
    let config_file = config.path().join("onramp.yaml").display().to_string();
    let from_file = format!("({config_file})");
    let mapping = "requests=http_server_requests_seconds_count";
    for (args, origin) in [
        (["--config", &config_file], from_file.as_str()),
        (["--signal", mapping], "(--signal)"),
    ] {
        let run = demo("plan", &args);
        run.expect_status(0);
        let line = run.stdout_line("http_server_requests_seconds_count");
        assert!(line.contains(origin), "{line}");
    }
}

#[test]
fn verify_wait_retries_an_unreachable_prometheus_until_the_deadline_and_still_writes_junit() {
    let port = crate::support::prometheus::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = tempfile::tempdir().expect("temp dir");
    let junit = out.path().join("verify.xml");
    let junit_arg = junit.display().to_string();
    let started = Instant::now();
    let run = demo(
        "verify",
        &[
            "--prometheus-url",
            &url,
            "--wait",
            "4s",
            "--junit",
            &junit_arg,
            "--json",
        ],
    );
    let took = started.elapsed();
    run.expect_status(3);
    assert!(
        took >= Duration::from_secs(3),
        "gave up after {took:?}, before the 4 s deadline: {}",
        run.stderr
    );
    let xml = read(&junit);
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("cannot reach Prometheus"),
        "{xml}"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["passed"], false);
    let ms = report["duration_ms"].as_u64().expect("duration_ms");
    assert!(ms >= 3000, "the summary's time is the whole run: {ms} ms");
}

#[test]
fn the_diff_of_a_grafana_edit_labels_grafana_as_the_side_with_the_edit() {
    use crate::support::grafana::GrafanaStandIn;
    let grafana = GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    grafana
        .edit_as("alice", &uid, |d| {
            let panel = d["panels"]
                .as_array_mut()
                .and_then(|p| p.iter_mut().find(|p| p["type"] != "row"))
                .expect("a panel");
            panel["title"] = serde_json::Value::from("Added by Alice");
        })
        .expect("edit");
    let run = against_grafana(&grafana, &["plan"]);
    run.expect_status(0);
    let diff: Vec<&str> = run
        .stdout
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("---"))
        .collect();
    assert_eq!(diff.first(), Some(&"--- onramp"), "{}", run.stdout);
    assert_eq!(diff.get(1), Some(&"+++ grafana"), "{}", run.stdout);
    let added = diff.iter().find(|l| l.contains("Added by Alice"));
    assert!(
        added.is_some_and(|l| l.starts_with('+')),
        "Alice's line is on the grafana (+) side: {}",
        run.stdout
    );
}

/// `onramp COMMAND` for the demo app against the Grafana stand-in, as an editor.
fn against_grafana(grafana: &crate::support::grafana::GrafanaStandIn, args: &[&str]) -> Run {
    let url = grafana.url();
    let mut extra = vec!["--grafana-url", &url];
    extra.extend_from_slice(&args[1..]);
    let token = ("GRAFANA_TOKEN", crate::support::grafana::EDITOR_TOKEN);
    demo_env(args[0], &extra, &[token])
}

#[test]
fn apply_keeps_a_dashboard_a_person_moved_to_another_folder_and_says_so() {
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    let moved_to = grafana.move_as("alice", &uid, "Team SRE").expect("move");
    // A new runbook URL changes the dashboards' links: apply saves them again.
    let run = against_grafana(
        &grafana,
        &["apply", "--runbook-url", "https://wiki/checkout"],
    );
    run.expect_status(0);
    let meta = grafana.meta(&uid).expect("still there");
    assert_eq!(meta["folderUid"], moved_to.as_str(), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("kept in folder \"Team SRE\", where it was moved in Grafana"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_sidecar_configmaps_and_apply_use_the_same_folder() {
    let out = crate::support::codify_demo(&[]);
    let configmaps = read(out.path().join("grafana-dashboards.yaml"));
    let folders: Vec<String> = crate::support::yaml_documents(&configmaps)
        .iter()
        .map(|d| {
            d["metadata"]["annotations"]["grafana_folder"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(!folders.is_empty(), "{configmaps}");
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    against_grafana(&grafana, &["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    let title = grafana.meta(&uid).expect("pushed")["folderTitle"].clone();
    for folder in &folders {
        assert_eq!(
            title,
            folder.as_str(),
            "apply's folder and the ConfigMaps' differ"
        );
    }
    assert_eq!(title, "checkout (shop)");
}

#[test]
fn a_need_with_id_folder_does_not_take_the_grafana_folders_uid() {
    let (dir, _) = edited_need("service-health", "id: service-health", "id: folder");
    let needs_dir = dir.path().display().to_string();
    let grafana = crate::support::grafana::GrafanaStandIn::start();
    let run = against_grafana(
        &grafana,
        &["apply", "--needs-dir", &needs_dir, "--need", "folder"],
    );
    run.expect_status(0);
    let dashboard = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "folder",
    )
    .to_string();
    assert!(grafana.dashboard(&dashboard).is_some(), "{}", run.stdout);
    assert_eq!(
        grafana.folder_title(&dashboard),
        None,
        "a folder has the dashboard's uid: {}",
        run.stdout
    );
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

#[test]
fn verify_wait_reaches_a_prometheus_that_starts_after_it() {
    // Nothing listens on the port for 2 s (CI has just started Prometheus),
    // then Prometheus answers.
    let nowhere = tempfile::tempdir().expect("temp dir");
    let port = crate::support::prometheus::free_port();
    let url = format!("http://127.0.0.1:{port}");
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        fake_prometheus(listener, Duration::ZERO, nowhere.path().join("unused"));
        std::thread::sleep(Duration::from_secs(30));
    });
    let run = demo("verify", &["--prometheus-url", &url, "--wait", "6s"]);
    // Reached: the checks ran and failed (nothing scrapes the app there),
    // instead of exit 3 for an unreachable Prometheus.
    run.expect_status(1);
    assert!(
        run.stdout.contains("no scrape target has job=\"checkout\""),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failure_to_put_the_previous_prometheus_files_back_is_reported() {
    let config_dir = tempfile::tempdir().expect("temp dir");
    let url = prometheus_whose_reload_breaks(config_dir.path().join("targets"));
    let dir = config_dir.path().display().to_string();
    let run = demo(
        "apply",
        &[
            "--prometheus-config-dir",
            &dir,
            "--prometheus-url",
            &url,
            "--target",
            "127.0.0.1:8080",
        ],
    );
    run.expect_status(1);
    assert!(
        run.stderr.contains("could not all be put back")
            && run.stderr.contains("targets/shop-checkout.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn plan_says_whether_prometheus_was_consulted_and_what_it_found() {
    let run = demo("plan", &[]);
    run.expect_status(0);
    assert!(
        run.stdout.contains("Prometheus was not consulted"),
        "{}",
        run.stdout
    );
    let nowhere = tempfile::tempdir().expect("temp dir");
    let url = prometheus_whose_reload_breaks(nowhere.path().join("unused"));
    let run = demo("plan", &["--prometheus-url", &url]);
    run.expect_status(0);
    assert!(
        run.stdout.contains(&format!("Prometheus {url}/ was consulted for namespace=\"shop\", job=\"checkout\": it has no series of the app yet")),
        "{}",
        run.stdout
    );
    let run = demo("plan", &["--prometheus-url", &url, "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(plan["prometheus"]["consulted"], true);
    assert_eq!(plan["prometheus"]["metric_names_found"], 0);
}
