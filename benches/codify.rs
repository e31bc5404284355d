//! Benchmark: `codify` for 1,000 apps from one manifests file, and for one app.
//!
//! Run with `make bench` (or `cargo bench --bench codify`). It prints the
//! time to parse the file, the work per app (discover, plan with all built-in
//! needs, write every artifact) in wall and CPU time, the whole run, one app
//! alone (its first round is what a fresh `onramp codify` process pays), and
//! the peak memory (VmHWM).
//!
//! Figures on the 2-core development machine, shared with other builds (load
//! about 7, so wall times are high and noisy; CPU time is the steadier one):
//! - before the start-up work moved out of the hot path: discover+plan+render
//!   3.9–5.1 ms per app (wall); a fresh process' first plan 13–22 ms;
//! - after (built-in needs embedded as JSON at build time, their PromQL
//!   expressions known to pass the check, stamped dashboards serialised
//!   once): discover+plan+render 3.2 ms CPU per app (3.4 ms wall); one app
//!   alone: catalog 0.2 ms, first plan 3.5 ms.
//!
//! The release binary, `hyperfine -N` on `onramp codify checkout -f
//! examples/shop/k8s/checkout.yaml --out /tmp/x`: before 14.2 ms CPU (user +
//! system), min 20.0 ms wall; after 8.6 ms CPU, min 6.9 ms wall.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use onramp::app::{self, AppRef, manifest, source};
use onramp::needs::Catalog;
use onramp::plan::{self, PlanOptions};

const APPS: usize = 1_000;

fn manifests(apps: usize) -> String {
    let mut text = String::new();
    for i in 0..apps {
        let _ = write!(
            text,
            "---\n# Source: fleet/templates/app-{i}.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: fleet\n  labels: {{app: app-{i}}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app-{i}:1.0.{i}\n          ports:\n            - {{name: http, containerPort: 8080}}\n            - {{name: metrics, containerPort: 9090}}\n          readinessProbe:\n            httpGet: {{path: /ready, port: http}}\n          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\n  namespace: fleet\n  labels: {{app: app-{i}}}\nspec:\n  selector: {{app: app-{i}}}\n  ports:\n    - {{name: http, port: 80, targetPort: http}}\n    - {{name: metrics, port: 9090, targetPort: metrics}}\n"
        );
    }
    text
}

/// CPU time this thread has run (`/proc/thread-self/schedstat`, in ns): on
/// a machine shared with other work, wall time measures the neighbours too.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// CPU time spent planning (discover + plan + render) across the benchmark.
static PLAN_CPU: std::sync::Mutex<Duration> = std::sync::Mutex::new(Duration::ZERO);

/// Codifies one app; returns the time spent planning (discover + render) and writing.
fn codify_one(
    objects: &[manifest::Located<manifest::Object>],
    catalog: &Catalog,
    name: &str,
    out: &Path,
) -> (Duration, Duration) {
    let cpu = cpu_time();
    let t = Instant::now();
    let app_ref = AppRef::parse(name, None).expect("valid app name");
    let app = app::discover(objects, "fleet.yaml", &app_ref, None).expect("app found");
    let needs: Vec<_> = catalog.entries().iter().map(|e| &e.need).collect();
    let plan = plan::build(&app, &needs, &PlanOptions::default()).expect("plan builds");
    let planned = t.elapsed();
    if let Ok(mut sum) = PLAN_CPU.lock() {
        *sum += cpu_time().saturating_sub(cpu);
    }
    onramp::sink::files::write(&plan, out, false).expect("codify writes");
    (planned, t.elapsed() - planned)
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// One app on its own, from a one-app manifest (what a developer runs): the
/// lines to print. The first round is what one `onramp codify` process
/// pays: nothing cached yet (the PromQL checks, the runbook template).
fn one_app(dir: &Path) -> String {
    let single = dir.join("one.yaml");
    std::fs::write(&single, manifests(1)).expect("write");
    let mut one = Vec::new();
    let mut phases = [Duration::ZERO; 3];
    let mut first = [Duration::ZERO; 4];
    for round in 0..50 {
        let out = dir.join(format!("single/{round}"));
        let t = Instant::now();
        let texts = source::read_sources(&[source::Source::Path(single.clone())]).expect("read");
        let objects = manifest::parse_objects(&texts).expect("parse");
        let parsed = t.elapsed();
        let catalog = Catalog::load(&[]).expect("catalog");
        let loaded = t.elapsed() - parsed;
        let (plan, write) = codify_one(&objects, &catalog, "app-0", &out);
        if round == 0 {
            first = [parsed, loaded, plan, write];
        } else {
            for (sum, d) in phases.iter_mut().zip([parsed + loaded, plan, write]) {
                *sum += d;
            }
        }
        one.push(t.elapsed());
    }
    one.sort();
    format!(
        "  one app alone (read, parse, catalog, plan, write), median of 50: {:.2?}\n    first round (a fresh process): read+parse {:.2?}, catalog {:.2?}, discover+plan+render {:.2?}, write {:.2?}\n    later rounds (mean): read+parse+catalog {:.2?}, discover+plan+render {:.2?}, write {:.2?}\n",
        one[25],
        first[0],
        first[1],
        first[2],
        first[3],
        phases[0] / 49,
        phases[1] / 49,
        phases[2] / 49
    )
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("fleet.yaml");
    std::fs::write(&file, manifests(APPS)).expect("write manifests");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);

    let alone = one_app(dir.path());

    let start = Instant::now();
    let sources = [source::Source::Path(file.clone())];
    let texts = source::read_sources(&sources).expect("read");
    let objects = manifest::parse_objects(&texts).expect("parse");
    let parse = start.elapsed();
    let catalog = Catalog::load(&[]).expect("catalog");

    let cpu_before = PLAN_CPU.lock().map(|d| *d).unwrap_or_default();
    let mut per_app = Vec::with_capacity(APPS);
    let (mut planning, mut writing) = (Duration::ZERO, Duration::ZERO);
    for i in 0..APPS {
        let out = dir.path().join(format!("out/app-{i}"));
        let t = Instant::now();
        let (p, w) = codify_one(&objects, &catalog, &format!("app-{i}"), &out);
        planning += p;
        writing += w;
        per_app.push(t.elapsed());
    }
    let total = start.elapsed();
    let plan_cpu = PLAN_CPU.lock().map(|d| *d).unwrap_or_default() - cpu_before;
    per_app.sort();
    let mean = per_app.iter().sum::<Duration>() / APPS as u32;
    let p50 = per_app[APPS / 2];
    let p99 = per_app[APPS * 99 / 100];

    println!(
        "codify benchmark ({APPS} apps from one {} KiB manifests file)",
        size / 1024
    );
    println!("  parse the file:            {:>9.2?}", parse);
    println!(
        "  per app (discover+plan+write all artifacts): mean {mean:.2?}, p50 {p50:.2?}, p99 {p99:.2?}"
    );
    println!(
        "    of which discover+plan+render {:.2?}, writing 10 files atomically {:.2?} (mean)",
        planning / APPS as u32,
        writing / APPS as u32
    );
    println!(
        "    discover+plan+render CPU time per app (what the neighbours on a busy machine do not change): {:.2?}",
        plan_cpu / APPS as u32
    );
    println!("  all {APPS} apps, parse included: {:>9.2?}", total);
    print!("{alone}");
    if let Some(kib) = peak_memory_kib() {
        println!(
            "  peak memory (VmHWM):       {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
