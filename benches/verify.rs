//! Benchmark: `verify` against a real Prometheus scraping the demo shop.
//!
//! Run with `make bench` (or `cargo bench --bench verify`). Everything runs on
//! loopback: the demo shop with simulated users, and the OS package's
//! `prometheus` (1 s scrape and evaluation) scraping it through file_sd and
//! loaded with the rules onramp plans for it. It prints the wall time of one
//! verify round one query at a time and 8 at a time, the slowest single query
//! verify sends, how many queries a round sends, and the size of the shop's
//! scrape. Both processes are killed at the end, also when the benchmark
//! panics.

// The 80-line limit (clippy.toml) is for the product's code in src/: a test
// that walks one scenario end to end reads best in one piece.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeSet;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use onramp::app::{self, AppRef, manifest, source};
use onramp::check::verify::{self, Category, Status, VerifyRun};
use onramp::client::prometheus::{PrometheusClient, PrometheusConfig, TargetHealth};
use onramp::needs::Catalog;
use onramp::plan::{self, Plan, PlanOptions};

/// Simulated shop users, each starting a session every [`SESSION_INTERVAL_MS`].
const USERS: u32 = 20;
const SESSION_INTERVAL_MS: u64 = 200;
/// How long Prometheus scrapes the shop before measuring, so rates have data.
const SETTLE: Duration = Duration::from_secs(20);
/// Untimed verify rounds per setting, then timed ones.
const WARM_UP: usize = 3;
const ROUNDS: usize = 15;
/// How long a process may take to start (the machine may be busy).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// The OS package's Prometheus (2.42 on Debian 12).
const PROMETHEUS: &str = "/usr/bin/prometheus";
const APP: &str = "checkout";
const NAMESPACE: &str = "shop";

/// A child process, killed when dropped (also while a panic unwinds).
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &'static str, command: &mut Command, log: PathBuf) -> Process {
        let file = fs::File::create(&log).expect("create a log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone the log file handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        Process { name, child, log }
    }

    /// Panics with the end of the log when the process has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited with {status}\n{}", self.name, self.log_tail());
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo shop's release binary, built with the cargo running this
/// benchmark, next to the benchmark's own target directory.
fn shop_binary(repo: &Path) -> PathBuf {
    if let Ok(cargo) = std::env::var("CARGO") {
        let status = Command::new(cargo)
            .args(["build", "--release", "-q", "-p", "shop", "--bin", "shop"])
            .current_dir(repo)
            .status()
            .expect("run cargo to build the demo shop");
        assert!(
            status.success(),
            "building the demo shop failed: run `cargo build --release -p shop`"
        );
    }
    // This binary is target/release/deps/verify-HASH; the shop is target/release/shop.
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("shop"))
        .expect("the benchmark runs from target/release/deps");
    assert!(
        binary.is_file(),
        "the demo shop binary is missing at {}: run `cargo build --release -p shop` \
         (with the same CARGO_TARGET_DIR) or run this benchmark through `cargo bench`",
        binary.display()
    );
    binary
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a free loopback port")
}

/// `prometheus.yml`: 1 s scrape and evaluation, file_sd over `targets/*.json`,
/// rules from `rules/*.yaml`. Paths are written as JSON strings, which YAML reads.
fn write_prometheus_config(dir: &Path) -> PathBuf {
    let quoted = |p: PathBuf| serde_json::to_string(&p).expect("a path as a string");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: file_sd\n    file_sd_configs:\n      - files: [{}]\n        refresh_interval: 1s\n\
         rule_files: [{}]\n",
        quoted(dir.join("targets").join("*.json")),
        quoted(dir.join("rules").join("*.yaml")),
    );
    let path = dir.join("prometheus.yml");
    fs::write(&path, config).expect("write prometheus.yml");
    path
}

/// The plan for the demo app, as `benches/codify.rs` builds it: every need in the catalog.
fn demo_plan(repo: &Path) -> Plan {
    let sources = [source::Source::Path(
        repo.join("examples/shop/k8s/checkout.yaml"),
    )];
    let texts = source::read_sources(&sources).expect("read the demo manifests");
    let objects = manifest::parse_objects(&texts).expect("parse the demo manifests");
    let catalog = Catalog::load(&[]).expect("catalog");
    let app_ref = AppRef::parse(APP, None).expect("valid app name");
    let app = app::discover(&objects, "examples/shop/k8s/checkout.yaml", &app_ref, None)
        .expect("the demo app is found");
    let needs: Vec<_> = catalog.entries().iter().map(|e| &e.need).collect();
    plan::build(&app, &needs, &PlanOptions::default()).expect("plan builds")
}

/// One query verify sends, with what it is for.
struct Query {
    what: String,
    expr: String,
}

/// The instant queries of one verify round, in the order verify sends them
/// (with repeats). The diagnoses are the ones verify sends for the signals
/// `report` found empty.
fn round_queries(plan: &Plan, report: &verify::VerifyReport) -> (Vec<Query>, [usize; 4]) {
    let mut queries = vec![Query {
        what: "kubernetes probe".to_string(),
        expr: "count(kube_pod_info)".to_string(),
    }];
    let signals: Vec<_> = plan
        .needs
        .iter()
        .flat_map(|need| need.signals.iter().map(move |s| (need, s)))
        .filter(|(_, s)| s.used && s.unavailable.is_none())
        .collect();
    for (need, signal) in &signals {
        queries.push(Query {
            what: format!("signal {}/{}", need.id, signal.name),
            expr: format!("count({})", signal.selector),
        });
    }
    let mut diagnoses = 0;
    for (need, signal) in &signals {
        let name = format!("{}/{}", need.id, signal.name);
        let empty = report.checks.iter().any(|c| {
            c.category == Category::Signal
                && c.name == name
                && matches!(c.status, Status::Fail | Status::Warn)
        });
        if empty {
            diagnoses += 1;
            queries.push(Query {
                what: format!("diagnosis {name}"),
                expr: format!(
                    "count by (namespace, job) ({{__name__=\"{}\"}})",
                    signal.metric
                ),
            });
        }
    }
    let mut panels = 0;
    for need in &plan.needs {
        for q in &need.queries {
            panels += 1;
            queries.push(Query {
                what: format!("panel {}/{} [{}]", need.id, q.panel, q.ref_id),
                expr: verify::instant_query(&q.expr, &need.variables),
            });
        }
    }
    (queries, [1, signals.len(), diagnoses, panels])
}

/// The nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    percentile(times, 50.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits until `probe` says yes, checking that `process` is still alive.
async fn wait_for<F, Fut>(process: &mut Process, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + START_TIMEOUT;
    while !probe().await {
        process.assert_running();
        assert!(
            Instant::now() < deadline,
            "{what} within {START_TIMEOUT:?}\n--- {} log ---\n{}",
            process.name,
            process.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bench() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shop_bin = shop_binary(repo);
    let dir = tempfile::Builder::new()
        .prefix("onramp-bench-verify-")
        .tempdir()
        .expect("temp dir");
    for sub in ["targets", "rules", "data"] {
        fs::create_dir_all(dir.path().join(sub)).expect("create Prometheus directories");
    }
    // reqwest is built without a TLS crypto provider (see Cargo.toml): the
    // bench's own client needs one installed, as onramp's transport does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    // The shop.
    let shop_port = free_port();
    let mut shop = Process::spawn(
        "the demo shop",
        Command::new(&shop_bin).args([
            format!("--listen=127.0.0.1:{shop_port}"),
            format!(
                "--flags={}",
                repo.join("examples/shop/flags.json").display()
            ),
            format!("--simulate-users={USERS}"),
            format!("--session-interval-ms={SESSION_INTERVAL_MS}"),
        ]),
        dir.path().join("shop.log"),
    );
    let shop_url = format!("http://127.0.0.1:{shop_port}");
    wait_for(&mut shop, "the shop did not answer /readyz", || async {
        let answer = http.get(format!("{shop_url}/readyz")).send().await;
        answer.is_ok_and(|r| r.status().is_success())
    })
    .await;

    // Prometheus, scraping the shop with the labels onramp's plain sink writes.
    assert!(
        Path::new(PROMETHEUS).is_file(),
        "{PROMETHEUS} is missing: run `make deps` (apt-get install prometheus)"
    );
    let config = write_prometheus_config(dir.path());
    let prometheus_port = free_port();
    let mut prometheus = Process::spawn(
        "prometheus",
        Command::new(PROMETHEUS).args([
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
            "--web.enable-lifecycle".to_string(),
        ]),
        dir.path().join("prometheus.log"),
    );
    let client = PrometheusClient::new(
        PrometheusConfig::new(&format!("http://127.0.0.1:{prometheus_port}")).expect("url"),
    )
    .expect("client");
    wait_for(
        &mut prometheus,
        "Prometheus did not become ready",
        || async { client.ready().await.unwrap_or(false) },
    )
    .await;
    let version = client.build_info().await.expect("build info").version;
    let targets = serde_json::json!([{
        "targets": [format!("127.0.0.1:{shop_port}")],
        "labels": { "job": APP, "namespace": NAMESPACE },
    }]);
    // Through a name the file_sd glob does not match, so Prometheus never reads half a file.
    let target_file = dir.path().join("targets").join("shop.json");
    fs::write(target_file.with_extension("tmp"), targets.to_string())
        .expect("write the file_sd targets");
    fs::rename(target_file.with_extension("tmp"), &target_file)
        .expect("move the targets into place");

    // onramp's rules for the demo app, then a reload.
    let plan = demo_plan(repo);
    let rules = plan
        .artifact(plan::paths::RULES_FILE)
        .expect("the plan has a rules file");
    fs::write(dir.path().join("rules").join("onramp.yaml"), &rules.content)
        .expect("write the rules");
    client
        .reload_and_confirm()
        .await
        .expect("Prometheus reloads with onramp's rules");

    // Let Prometheus scrape the shop for a while so rates have data.
    wait_for(
        &mut prometheus,
        "the shop target did not come up",
        || async {
            let targets = client.targets().await.unwrap_or_default();
            targets.iter().any(|t| {
                t.labels.get("job").map(String::as_str) == Some(APP) && t.health == TargetHealth::Up
            })
        },
    )
    .await;
    tokio::time::sleep(SETTLE).await;
    shop.assert_running();
    prometheus.assert_running();

    // Whole verify rounds, the two settings interleaved so that drift (more
    // series, more traffic) affects both alike.
    let sequential = VerifyRun {
        concurrency: 1,
        ..VerifyRun::default()
    };
    let concurrent = VerifyRun {
        concurrency: 8,
        ..VerifyRun::default()
    };
    let mut report = None;
    for _ in 0..WARM_UP {
        for options in [&sequential, &concurrent] {
            report = Some(
                verify::run_once(&client, &plan, options)
                    .await
                    .expect("verify round"),
            );
        }
    }
    let report = report.expect("at least one warm-up round");
    let (queries, [probes, signals, diagnoses, panels]) = round_queries(&plan, &report);
    // Besides whole rounds, the same queries in one query_all batch: what the
    // client's concurrency gives without verify's steps in between.
    let exprs: Vec<String> = queries.iter().map(|q| q.expr.clone()).collect();
    let (mut one, mut eight) = (Vec::new(), Vec::new());
    let (mut batch_one, mut batch_eight) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (options, times) in [(&sequential, &mut one), (&concurrent, &mut eight)] {
            let t = Instant::now();
            verify::run_once(&client, &plan, options)
                .await
                .expect("verify round");
            times.push(t.elapsed());
        }
        for (concurrency, times) in [(1, &mut batch_one), (8, &mut batch_eight)] {
            let t = Instant::now();
            client.query_all(exprs.iter().cloned(), concurrency).await;
            times.push(t.elapsed());
        }
    }
    one.sort();
    eight.sort();

    // Each distinct query alone, repeated in turns, and the two API reads
    // every round also makes.
    let mut seen = BTreeSet::new();
    let distinct: Vec<&Query> = queries
        .iter()
        .filter(|q| seen.insert(q.expr.clone()))
        .collect();
    let mut single: Vec<Vec<Duration>> = vec![Vec::new(); distinct.len()];
    let mut with_data = 0;
    for q in &distinct {
        // Warm-up, and whether the query returns anything.
        let result = client.query(&q.expr, None).await;
        with_data += usize::from(result.is_ok_and(|r| !r.is_empty()));
    }
    let (mut targets_t, mut rules_t) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (q, times) in distinct.iter().zip(&mut single) {
            let t = Instant::now();
            let _ = client.query(&q.expr, None).await;
            times.push(t.elapsed());
        }
        let t = Instant::now();
        client.targets().await.expect("targets");
        targets_t.push(t.elapsed());
        let t = Instant::now();
        client.rules().await.expect("rules");
        rules_t.push(t.elapsed());
    }
    let medians: Vec<Duration> = single.iter_mut().map(|t| median(t)).collect();
    let slowest_of = |prefix: &str| {
        distinct
            .iter()
            .zip(&medians)
            .filter(|(q, _)| q.what.starts_with(prefix))
            .map(|(_, m)| *m)
            .max()
            .unwrap_or_default()
    };
    let (slowest_index, slowest) = medians
        .iter()
        .enumerate()
        .max_by_key(|(_, m)| **m)
        .map(|(i, m)| (i, *m))
        .expect("verify sends at least one query");
    let all_alone: Duration = medians.iter().sum();
    // verify's steps run one after the other; only the queries inside a step
    // run concurrently. The best a round can do is the sum of each step's slowest.
    let floor = median(&mut targets_t)
        + slowest_of("kubernetes")
        + slowest_of("signal")
        + slowest_of("diagnosis")
        + slowest_of("panel")
        + median(&mut rules_t);

    // The shop's scrape.
    let metrics = http
        .get(format!("{shop_url}/metrics"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("GET the shop's /metrics");
    let metrics = metrics.text().await.expect("the shop's /metrics body");
    let samples = metrics
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    let families: BTreeSet<&str> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();

    let (p1, p8) = (percentile(&one, 50.0), percentile(&eight, 50.0));
    println!(
        "verify benchmark (demo shop, {USERS} simulated users; Prometheus {version}, 1 s scrape; loopback; scraped {:.0?} before measuring)",
        SETTLE
    );
    println!(
        "  a round: {} checks ({} pass, {} warn, {} fail, {} skip)",
        report.checks.len(),
        report.count(Status::Pass),
        report.count(Status::Warn),
        report.count(Status::Fail),
        report.count(Status::Skip)
    );
    println!(
        "  a round sends {} instant queries ({probes} kubernetes probe, {signals} signal counts, {diagnoses} diagnoses, {panels} panel queries; {} distinct, {with_data} of them return data) and 2 API reads (targets, rules)",
        queries.len(),
        distinct.len()
    );
    println!(
        "  verify round, concurrency 1: median {p1:>9.2?}, p90 {:>9.2?} ({ROUNDS} rounds)",
        percentile(&one, 90.0)
    );
    println!(
        "  verify round, concurrency 8: median {p8:>9.2?}, p90 {:>9.2?} ({ROUNDS} rounds)",
        percentile(&eight, 90.0)
    );
    println!("  speed-up, concurrency 8 vs 1: {:.2}x", ms(p1) / ms(p8));
    let (b1, b8) = (median(&mut batch_one), median(&mut batch_eight));
    println!(
        "  the round's {} queries in one query_all batch: concurrency 1 {b1:.2?}, 8 {b8:.2?} (median; {:.2}x)",
        exprs.len(),
        ms(b1) / ms(b8)
    );
    println!(
        "  slowest single query (median of {ROUNDS}, of {} distinct): {slowest:.2?} — {}: {}",
        distinct.len(),
        distinct[slowest_index].what,
        distinct[slowest_index].expr
    );
    println!(
        "  concurrent round / slowest single query: {:.2}x (target <= 1.5x)",
        ms(p8) / ms(slowest)
    );
    println!(
        "  every distinct query alone, one after another: {all_alone:.2?}; floor of a round (targets {:.2?} + slowest of each query step + rules {:.2?}): {floor:.2?}, concurrent round / floor: {:.2}x",
        percentile(&targets_t, 50.0),
        percentile(&rules_t, 50.0),
        ms(p8) / ms(floor)
    );
    println!(
        "  shop /metrics: {} bytes, {samples} sample lines, {} metric families",
        metrics.len(),
        families.len()
    );
    drop(prometheus);
    drop(shop);
}

fn main() {
    // The same runtime the CLI uses: multi-threaded.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench());
}
