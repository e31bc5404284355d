//! The one HTTP transport as a user meets it: `-v` logs every request
//! without credentials, and one TLS policy for Grafana and Prometheus — the
//! system trust store, `--ca-cert FILE`, `--insecure-skip-tls-verify`.

use crate::support::grafana::{ADMIN_PASSWORD, ADMIN_USER, EDITOR_TOKEN, GrafanaStandIn};
use crate::support::leaks::{admin_secrets, assert_no_secret};
use crate::support::tls::TlsServer;
use crate::support::{demo_manifests, onramp_env};

#[test]
fn verbose_logs_each_request_with_method_url_status_and_time_but_no_credentials() {
    let grafana = GrafanaStandIn::start();
    let manifests = demo_manifests();
    let url = grafana.url().replacen(
        "http://",
        &format!("http://{ADMIN_USER}:{ADMIN_PASSWORD}@"),
        1,
    );
    let run = onramp_env(
        &[
            "-v",
            "apply",
            "checkout",
            "-f",
            &manifests,
            "--grafana-url",
            &url,
        ],
        &[],
    );
    run.expect_status(0);
    let base = grafana.url();
    let base = base.trim_end_matches('/');
    assert!(
        run.stderr
            .contains(&format!("GET {base}/api/datasources -> 200 OK in ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("POST {base}/api/dashboards/db -> 200 OK in ")),
        "{}",
        run.stderr
    );
    let dir = tempfile::tempdir().expect("temp dir");
    assert_no_secret(&run, dir.path(), &admin_secrets());
}

#[test]
fn an_unreadable_ca_cert_is_bad_input_naming_the_file() {
    let grafana = GrafanaStandIn::start();
    let manifests = demo_manifests();
    let url = grafana.url();
    let args = ["apply", "checkout", "-f", &manifests, "--grafana-url", &url];
    let run = onramp_env(
        &[&args[..], &["--ca-cert", "/nonexistent/ca.pem"]].concat(),
        &[("GRAFANA_TOKEN", EDITOR_TOKEN)],
    );
    run.expect_status(2);
    assert!(
        run.stderr
            .contains("cannot read the CA certificate file /nonexistent/ca.pem"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_tls_policy_for_both_services_system_roots_ca_cert_or_insecure() {
    let manifests = demo_manifests();
    let empty_vector = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let server = TlsServer::start(empty_vector);
    let ca = server.ca_pem().display().to_string();
    let plan = |flag: &str, extra: &[&str]| {
        let args = [
            &["plan", "checkout", "-f", &manifests, flag, server.url()][..],
            extra,
        ]
        .concat();
        onramp_env(&args, &[("GRAFANA_TOKEN", EDITOR_TOKEN)])
    };
    // A private CA is not in the system trust store: refused, and the fix is named.
    for flag in ["--prometheus-url", "--grafana-url"] {
        let run = plan(flag, &[]);
        run.expect_status(3);
        assert!(
            run.stderr.contains("UnknownIssuer") && run.stderr.contains("--ca-cert FILE"),
            "{flag}: {}",
            run.stderr
        );
    }
    // Trusted through --ca-cert, or not checked: Prometheus answers.
    for extra in [&["--ca-cert", &ca][..], &["--insecure-skip-tls-verify"]] {
        plan("--prometheus-url", extra).expect_status(0);
        // The stand-in is no Grafana: the connection works, the answer does not decode.
        let run = plan("--grafana-url", extra);
        run.expect_status(3);
        assert!(
            run.stderr.contains("not the JSON Grafana sends"),
            "{extra:?}: {}",
            run.stderr
        );
    }
}

#[tokio::test]
async fn an_api_server_503_was_retried_fifteen_times_by_kubes_own_rule() {
    use crate::support::kube::{Fault, Scenario, Standin};
    use onramp::client::kube::{ClusterRef, KubeClient};
    let standin = Standin::start(Scenario::Troubleshoot("never-ready"));
    let pod = "checkout-68d5b7c9f4-c4x8v";
    let path = format!("/api/v1/namespaces/shop/pods/{pod}/log");
    standin.fail(
        &path,
        Fault::kubelet_failed(503, pod, "503 Service Unavailable"),
    );
    let settings = ClusterRef {
        kubeconfig: Some(standin.kubeconfig()),
        ..ClusterRef::default()
    };
    let client = KubeClient::connect(&settings).await.expect("a client");
    let err = client
        .log("shop", pod, "checkout", false, 10)
        .await
        .expect_err("503");
    assert!(err.to_string().contains("503"), "{err}");
    // The policy of every client: three attempts, like Grafana's and
    // Prometheus' reads.
    assert_eq!(standin.requests_to(&path), 3);
}
