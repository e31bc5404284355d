//! Regressions of the clients (issue 7 §1, §3, §4): secrets that leaked
//! through servers echoing requests back, exit statuses that lied, a lost
//! answer reported as a person's edit, an error printed four times. Each test
//! runs the real binary and asserts what a user sees.

use crate::support::echo::{EchoServer, Shape};
use crate::support::grafana::{ADMIN_PASSWORD, ADMIN_USER, EDITOR_TOKEN, GrafanaStandIn};
use crate::support::leaks::{admin_secrets, assert_no_secret, basic_spellings, files_below};
use crate::support::{Run, demo_manifests, onramp_env};

/// A token whose every prefix is unlikely to appear by chance.
const TOKEN: &str = "tokZq8Kp3Lm9Xw2Rt7Yv4Nb6Hc1Jd5Fg0";
/// A password whose base64 (with a user) holds `+` or `/` and padding, so
/// that each spelling differs.
const PASSWORD: &str = "Pw?>Ab~~9";

/// Environment variables for a run, and the secrets they hold.
type Credentials<'a> = (&'a [(&'a str, &'a str)], Vec<String>);

/// `onramp [pre…] apply checkout -f DEMO --grafana-url URL [extra…]` with `env`.
fn apply_to(grafana: &GrafanaStandIn, pre: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Run {
    let manifests = demo_manifests();
    let url = grafana.url();
    let args = [
        pre,
        &["apply", "checkout", "-f", &manifests, "--grafana-url", &url][..],
        extra,
    ]
    .concat();
    onramp_env(&args, env)
}

#[test]
fn prometheus_errors_quoted_an_echoed_bearer_token_or_basic_auth_header() {
    let manifests = demo_manifests();
    let basic = basic_spellings("ops", PASSWORD);
    let credentials: [Credentials; 2] = [
        (&[("PROMETHEUS_TOKEN", TOKEN)], vec![TOKEN.to_string()]),
        (
            &[
                ("PROMETHEUS_USER", "ops"),
                ("PROMETHEUS_PASSWORD", PASSWORD),
            ],
            [vec![PASSWORD.to_string()], basic].concat(),
        ),
    ];
    for shape in [Shape::Text(500), Shape::PrometheusError] {
        let server = EchoServer::start(shape);
        for (env, secrets) in &credentials {
            let dir = tempfile::tempdir().expect("temp dir");
            let out = dir.path().join("out").display().to_string();
            let junit = dir.path().join("report.xml").display().to_string();
            let base = [
                "checkout",
                "-f",
                &manifests,
                "--prometheus-url",
                server.url(),
            ];
            let runs: Vec<Vec<&str>> = vec![
                [&["-v", "verify"][..], &base, &["--json", "--junit", &junit]].concat(),
                [&["plan"][..], &base, &["-o", "json"]].concat(),
                [&["codify"][..], &base, &["--out", &out]].concat(),
                [&["apply"][..], &base, &["--prometheus-config-dir", &out]].concat(),
            ];
            for args in runs {
                let run = onramp_env(&args, env);
                assert_ne!(run.status, 0, "{args:?}: {run:?}");
                assert!(
                    run.stderr.contains("<redacted>"),
                    "{args:?} quotes the echo, redacted: {}",
                    run.stderr
                );
                assert_no_secret(&run, dir.path(), secrets);
            }
        }
    }
}

#[test]
fn grafana_cut_an_echoed_body_at_200_characters_before_scrubbing_and_leaked_the_token_start() {
    let grafana = GrafanaStandIn::start();
    // "authorization: Bearer " is 22 characters: the token starts at 194 and
    // straddles the 200-character cut.
    grafana.echo_next(100, 500, false, 172, None);
    let run = apply_to(&grafana, &[], &[], &[("GRAFANA_TOKEN", TOKEN)]);
    run.expect_status(3);
    assert!(
        run.stderr.contains("with 500 after 1 attempt(s): xxxxxxxx"),
        "{}",
        run.stderr
    );
    let dir = tempfile::tempdir().expect("temp dir");
    assert_no_secret(&run, dir.path(), &[TOKEN.to_string()]);
}

#[test]
fn grafana_errors_quoted_the_base64_of_basic_auth_from_an_echoed_header() {
    let manifests = demo_manifests();
    let basic = [
        ("GRAFANA_USER", ADMIN_USER),
        ("GRAFANA_PASSWORD", ADMIN_PASSWORD),
    ];
    for envelope in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let backups = dir.path().join("backups").display().to_string();
        let out = dir.path().join("out").display().to_string();
        // apply: reads pass, the first write (the folder) is echoed back;
        // plan and codify --from-live: the first read is.
        let runs: [(&str, &[&str], &str, Vec<&str>); 3] = [
            (
                "POST",
                &["-v"],
                "apply",
                vec!["--force", "--backup-dir", &backups],
            ),
            ("GET", &[], "plan", vec!["-o", "json"]),
            ("GET", &[], "codify", vec!["--from-live", "--out", &out]),
        ];
        for (method, pre, verb, extra) in runs {
            let grafana = GrafanaStandIn::start();
            grafana.echo_next(100, 400, envelope, 0, Some(method));
            let url = grafana.url();
            let app = [verb, "checkout", "-f", &manifests, "--grafana-url", &url];
            let full = [pre, &app[..], &extra].concat();
            let run = onramp_env(&full, &basic);
            run.expect_status(3);
            assert!(
                run.stderr.contains("authorization: Basic <redacted>"),
                "{verb}: {}",
                run.stderr
            );
            assert_no_secret(&run, dir.path(), &admin_secrets());
        }
    }
}

#[test]
fn a_url_password_holding_a_slash_hash_or_question_mark_was_quoted_in_the_parse_error() {
    let manifests = demo_manifests();
    for password in ["p/ssw0rd", "pa#ssw0rd", "pa?ssw0rd", "12/3456"] {
        let url = format!("http://admin:{password}@localhost:3000");
        for (verb, flag) in [("plan", "--grafana-url"), ("plan", "--prometheus-url")] {
            let run = onramp_env(&[verb, "checkout", "-f", &manifests, flag, &url], &[]);
            run.expect_status(2);
            assert!(!run.stderr.contains(password), "{flag}: {}", run.stderr);
            assert!(
                run.stderr.contains("http://***@localhost:3000")
                    && run.stderr.contains("percent-encode"),
                "{flag}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn help_printed_credentials_held_in_grafana_url_and_prometheus_url() {
    for args in [&["--help"][..], &["apply", "--help"], &["verify", "--help"]] {
        let run = onramp_env(
            args,
            &[
                ("GRAFANA_URL", "http://admin:hunter2@grafana:3000"),
                ("PROMETHEUS_URL", "http://ops:s3cret-pw@prom:9090"),
            ],
        );
        run.expect_status(0);
        assert!(
            !run.stdout.contains("hunter2") && !run.stdout.contains("s3cret-pw"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_401_from_grafana_or_prometheus_exited_3_could_not_reach() {
    let grafana = GrafanaStandIn::start();
    let run = apply_to(&grafana, &[], &[], &[("GRAFANA_TOKEN", "glsa_wrong")]);
    run.expect_status(4);
    assert!(run.stderr.contains("(401)"), "{}", run.stderr);

    let manifests = demo_manifests();
    let prometheus = EchoServer::start(Shape::Text(401));
    let run = onramp_env(
        &[
            "verify",
            "checkout",
            "-f",
            &manifests,
            "--prometheus-url",
            prometheus.url(),
        ],
        &[("PROMETHEUS_TOKEN", TOKEN)],
    );
    run.expect_status(4);
    assert!(
        run.stderr
            .contains("did not accept the credentials (HTTP 401)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_write_failure_exited_2_bad_input() {
    let manifests = demo_manifests();
    // mkdir below /proc fails for everyone, root included.
    let run = onramp_env(
        &[
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--prometheus-config-dir",
            "/proc/onramp-cannot-write-here",
            "--target",
            "127.0.0.1:8080",
        ],
        &[],
    );
    run.expect_status(1);
    assert!(
        run.stderr
            .contains("cannot write /proc/onramp-cannot-write-here"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_save_stored_before_its_answer_was_lost_was_reported_as_someone_elses_edit() {
    let grafana = GrafanaStandIn::start();
    // The first save is stored, then answered 503; its retry meets onramp's
    // own write as a 412.
    grafana.store_then_fail_next_save(1, 503);
    let token = [("GRAFANA_TOKEN", EDITOR_TOKEN)];
    let run = apply_to(&grafana, &[], &[], &token);
    run.expect_status(0);
    assert!(!run.stdout.contains("someone saved it"), "{}", run.stdout);
    assert_eq!(
        run.stdout.matches("  created  ").count(),
        3,
        "{}",
        run.stdout
    );
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    assert_eq!(grafana.version(&uid), Some(1));
    // And the next apply finds nothing to change.
    let again = apply_to(&grafana, &[], &[], &token);
    again.expect_status(0);
    assert_eq!(
        again.stdout.matches("unchanged").count(),
        3,
        "{}",
        again.stdout
    );
}

#[test]
fn apply_against_an_unreachable_grafana_printed_the_same_error_four_times() {
    let grafana = GrafanaStandIn::start();
    grafana.down();
    let run = apply_to(&grafana, &[], &[], &[("GRAFANA_TOKEN", EDITOR_TOKEN)]);
    run.expect_status(3);
    let both = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(both.matches("cannot reach Grafana").count(), 1, "{both}");
    assert_eq!(run.stdout.matches("not pushed").count(), 3, "{both}");
}

#[test]
fn a_backup_of_a_live_dashboard_wrote_a_secret_pasted_into_it() {
    let grafana = GrafanaStandIn::start();
    let token = [("GRAFANA_TOKEN", EDITOR_TOKEN)];
    let apply = |extra: &[&str]| apply_to(&grafana, &[], extra, &token);
    apply(&[]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "service-health",
    )
    .to_string();
    // A person pastes onramp's own token into a description.
    grafana
        .edit_as("alice", &uid, |d| {
            d["description"] = serde_json::Value::from(format!("ask for {EDITOR_TOKEN}"));
        })
        .expect("saved");
    let dir = tempfile::tempdir().expect("temp dir");
    let backups = dir.path().display().to_string();
    let run = apply(&["--force", "--backup-dir", &backups]);
    run.expect_status(0);
    let files = files_below(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].1.contains("ask for <redacted>"), "{}", files[0].1);
    assert_no_secret(&run, dir.path(), &[EDITOR_TOKEN.to_string()]);
}

#[test]
fn a_token_pasted_into_grafana_org_id_was_echoed_in_its_error() {
    let manifests = demo_manifests();
    let pasted = "glsa_Qx7Vn2Lk9Pw4Rt8Yz3Mb6Hd1Jf5Gc0_a1b2c3d4";
    let run = onramp_env(
        &[
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--grafana-url",
            "http://127.0.0.1:9",
        ],
        &[("GRAFANA_TOKEN", TOKEN), ("GRAFANA_ORG_ID", pasted)],
    );
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("GRAFANA_ORG_ID must be the number of a Grafana organisation"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("(44 characters)"), "{}", run.stderr);
    let dir = tempfile::tempdir().expect("temp dir");
    assert_no_secret(&run, dir.path(), &[pasted.to_string(), TOKEN.to_string()]);
}

/// Issue 18: once a person saved a dashboard in Grafana 13's UI (stored as
/// v2), the classic API answered 406 and `plan --grafana-url`, `apply` and
/// `codify --from-live` failed for the whole app (exit 3) instead of reading
/// the dashboard through the resource API.
#[test]
fn plan_apply_and_codify_failed_with_406_once_a_dashboard_was_saved_as_v2() {
    let grafana = GrafanaStandIn::builder().grafana_13().start();
    let manifests = demo_manifests();
    let url = grafana.url();
    let env = [("GRAFANA_TOKEN", EDITOR_TOKEN)];
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["checkout", "-f", &manifests, "--grafana-url", &url]);
        onramp_env(&all, &env)
    };
    run(&["apply"]).expect_status(0);
    let uid = onramp::render::dashboard::uid(
        &onramp::app::AppId::new("shop", onramp::app::WorkloadKind::Deployment, "checkout")
            .expect("valid"),
        "troubleshooting",
    )
    .to_string();
    grafana
        .ui_save_v2("alice", &uid, |spec| {
            spec["title"] = "Troubleshooting (v2)".into()
        })
        .expect("the UI saves v2");
    for (args, status) in [(vec!["plan"], 0), (vec!["apply"], 1)] {
        let out = run(&args);
        out.expect_status(status);
        assert!(!out.stderr.contains("406"), "{}", out.stderr);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out_dir = dir.path().display().to_string();
    let codified = run(&["codify", "--from-live", "--out", &out_dir]);
    codified.expect_status(0);
    assert!(
        codified.stdout.contains("Pulled 3 dashboard(s)"),
        "{}",
        codified.stdout
    );
}
