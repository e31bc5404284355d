//! The end-to-end suite: the whole story on a real kind cluster with the real
//! kube-prometheus-stack and Grafana, as a person runs it. Built to run with
//! `ONRAMP_E2E=kind` (the `e2e` cfg from build.rs; `make e2e`, and the
//! workflow `.github/workflows/e2e-kind.yml`), which needs Docker, kind,
//! kubectl and helm; without it the test is listed as ignored.
//!
//! up → verify passes → for each break, troubleshoot's first finding is the
//! injected cause → fix → verify passes → a dashboard edited through Grafana's
//! API is refused by `apply` and brought into code by `codify --from-live` →
//! down. `make e2e` also runs the Grafana and Kubernetes contract tests
//! against this cluster before it.

// One story, told in order, reads best in one piece.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// `lines::all` is for the integration suite's parse test of these lines.
#[allow(dead_code)]
mod lines;

use lines::GRAFANA;

/// The demo's known Grafana credential (deploy/demo/kube-prometheus-stack.yaml).
const GRAFANA_AUTH: (&str, &str) = ("admin", "onramp-demo");

/// What one command left behind.
struct Out {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn expect(&self, status: i32, what: &str) -> &Out {
        assert_eq!(
            self.status, status,
            "{what}: expected exit {status}, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        );
        self
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str], env: &[(&str, &str)], show: bool) -> Out {
    eprintln!("$ {program} {}", args.join(" "));
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env.iter().copied())
        .current_dir(repo())
        .stdin(Stdio::null());
    // Long steps (demo up) stream to the log; the rest is captured and asserted.
    if show {
        cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    Out {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn onramp(args: &[String]) -> Out {
    let (user, password) = GRAFANA_AUTH;
    let env = [("GRAFANA_USER", user), ("GRAFANA_PASSWORD", password)];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(env!("CARGO_BIN_EXE_onramp"), &args, &env, false)
}

fn demo(args: &[&str]) {
    let argv = lines::demo(args);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = run(env!("CARGO_BIN_EXE_onramp"), &argv, &[], true);
    assert_eq!(out.status, 0, "onramp demo {}", args.join(" "));
}

fn verify_passes(when: &str) {
    onramp(&lines::verify()).expect(0, &format!("verify {when}"));
}

/// Asks troubleshoot until its first finding names every word of `cause`
/// (Prometheus needs some scrapes to see a rate change), at most `within`.
fn first_finding_names(scenario: &str, cause: &[&str], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let out = onramp(&lines::troubleshoot());
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_default();
        let first = &report["findings"][0];
        let text = format!("{} {}", first["title"], first["evidence"]);
        if cause.iter().all(|word| text.contains(word)) {
            assert_eq!(out.status, 1, "a finding is a failed check: {scenario}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "after `demo break {scenario}`, troubleshoot's first finding does not name {cause:?}:\n{}\n{}",
            out.stdout,
            out.stderr
        );
        std::thread::sleep(Duration::from_secs(15));
    }
}

fn curl(args: &[&str]) -> String {
    let auth = format!("{}:{}", GRAFANA_AUTH.0, GRAFANA_AUTH.1);
    let mut argv = vec![
        "-fsS",
        "-u",
        auth.as_str(),
        "-H",
        "Content-Type: application/json",
    ];
    argv.extend_from_slice(args);
    let out = run("curl", &argv, &[], false);
    out.expect(0, "curl to Grafana");
    out.stdout
}

/// A person edits the dashboard in Grafana: a new title, saved through the API.
fn edit_in_grafana(uid: &str, title: &str) {
    let live: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{GRAFANA}/api/dashboards/uid/{uid}")]))
            .expect("Grafana answers JSON");
    let mut dashboard = live["dashboard"].clone();
    dashboard["title"] = title.into();
    let body = serde_json::json!({
        "dashboard": dashboard,
        "folderUid": live["meta"]["folderUid"],
        "message": "a person's edit (onramp e2e)",
        "overwrite": false,
    });
    curl(&[
        "-X",
        "POST",
        "-d",
        &body.to_string(),
        &format!("{GRAFANA}/api/dashboards/db"),
    ]);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

#[test]
#[cfg_attr(
    not(e2e),
    ignore = "the kind end-to-end suite: run `make e2e` (ONRAMP_E2E=kind; needs Docker, kind, kubectl, helm)"
)]
fn the_demo_story_on_kind() {
    demo(&["up"]);
    verify_passes("after demo up");

    for (scenario, cause, within) in lines::BREAKS {
        demo(&["break", scenario]);
        first_finding_names(scenario, cause, Duration::from_secs(within * 60));
        demo(&["fix"]);
        verify_passes(&format!("after demo fix of {scenario}"));
    }

    // Click first: the dashboards in Grafana through its API.
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().display().to_string();
    onramp(&lines::codify(&dir)).expect(0, "codify");
    let uid = serde_json::from_str::<serde_json::Value>(&read(
        &out.path().join("dashboards/service-health.json"),
    ))
    .expect("dashboard JSON")["uid"]
        .as_str()
        .expect("a uid")
        .to_string();
    let apply = lines::apply_to_grafana();
    onramp(&apply).expect(0, "apply to Grafana");

    let edited = "Checkout — edited by a person";
    edit_in_grafana(&uid, edited);
    let refused = onramp(&apply);
    refused.expect(1, "apply over a person's edit");
    assert!(
        refused.stdout.contains("changed in Grafana")
            || refused.stderr.contains("changed in Grafana"),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    let live = tempfile::tempdir().expect("temp dir");
    let live_dir = live.path().display().to_string();
    onramp(&lines::codify_from_live(&live_dir)).expect(0, "codify --from-live");
    let codified = read(&live.path().join("dashboards/service-health.json"));
    assert!(
        codified.contains(edited),
        "the edit is in code:\n{codified}"
    );

    demo(&["down"]);
    let clusters = run("kind", &["get", "clusters"], &[], false);
    assert!(
        !clusters.stdout.lines().any(|l| l.trim() == "onramp"),
        "demo down deletes the cluster: {}",
        clusters.stdout
    );
}
