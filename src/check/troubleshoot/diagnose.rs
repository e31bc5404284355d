//! From what the cluster answered to findings: the workload's rollout, its
//! Services' endpoints and the warning events no other finding explains;
//! the pods' own findings come from [`super::pods`]. No requests here, so
//! every rule is tested on plain objects.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::jiff::Timestamp;

use super::evidence::{age, event_last_seen, event_line};
use super::workload_state::LookBack;
use super::{Finding, NotChecked, Panel, Role, Severity, TroubleshootReport};
use crate::app::manifest::WorkloadKind;
use crate::check::result::CheckedApp;

/// A workload's condition, as its status lists it.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// `Progressing`, `Available`…
    pub kind: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// The machine-readable reason.
    pub reason: String,
    /// The message.
    pub message: String,
}

/// The workload, whatever its kind: the App's own model.
pub use crate::app::manifest::Workload;

/// A Deployment's status conditions (the other kinds' are not read).
fn conditions(w: &Workload) -> Vec<Condition> {
    let Workload::Deployment(d) = w else {
        return Vec::new();
    };
    let status = d.status.as_ref();
    status
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| Condition {
            kind: c.type_,
            status: c.status,
            reason: c.reason.unwrap_or_default(),
            message: c.message.unwrap_or_default(),
        })
        .collect()
}

/// A log to read: one container's current run or its previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogWanted {
    /// The pod.
    pub pod: String,
    /// The container.
    pub container: String,
    /// The last terminated run (a crash) rather than the current one.
    pub previous: bool,
}

impl LogWanted {
    /// `the previous log of checkout-…/shop`.
    pub fn describe(&self) -> String {
        let which = if self.previous { "previous log" } else { "log" };
        format!("the {which} of {}/{}", self.pod, self.container)
    }
}

/// The tail of a log troubleshoot asked for: its lines, or why the API
/// server could not give them.
#[derive(Debug, Clone)]
pub struct LogTail {
    /// Which log.
    pub wanted: LogWanted,
    /// Its last lines (none when it could not be read).
    pub lines: Vec<String>,
    /// Why it could not be read (`the API server answered 404: …`).
    pub unread: Option<String>,
}

impl LogTail {
    /// A tail from the server's text.
    pub fn new(wanted: LogWanted, text: &str) -> LogTail {
        LogTail {
            wanted,
            lines: text.lines().map(str::to_string).collect(),
            unread: None,
        }
    }

    /// A log that could not be read, and why.
    pub fn unread(wanted: LogWanted, why: String) -> LogTail {
        LogTail {
            wanted,
            lines: Vec::new(),
            unread: Some(why),
        }
    }
}

/// A Service that selects the workload, with its EndpointSlices (`None`:
/// they could not be read).
#[derive(Debug, Clone)]
pub struct ServiceState {
    /// The Service.
    pub service: Service,
    /// Its EndpointSlices.
    pub slices: Option<Vec<EndpointSlice>>,
}

/// Everything read from the cluster for one run.
#[derive(Debug, Clone)]
pub struct Gathered {
    /// The workload.
    pub workload: Workload,
    /// Its ReplicaSets (Deployments only).
    pub replica_sets: Vec<ReplicaSet>,
    /// Its pods.
    pub pods: Vec<Pod>,
    /// The Services selecting it.
    pub services: Vec<ServiceState>,
    /// Warning events of the workload, its ReplicaSets and troubled pods.
    pub events: Vec<Event>,
    /// The log tails read.
    pub logs: Vec<LogTail>,
    /// What could not be read.
    pub not_checked: Vec<NotChecked>,
}

/// What every rule needs besides the objects: the window and the names
/// that go into runbook links, panels and commands.
pub struct Diagnosis<'a> {
    /// Now.
    pub now: Timestamp,
    /// Now minus `--since`.
    pub window_start: Timestamp,
    /// The workload.
    pub workload: &'a Workload,
    /// Grafana's base URL.
    pub grafana: Option<&'a str>,
}

impl Diagnosis<'_> {
    /// The runbook section of one of the troubleshooting need's alerts.
    pub fn runbook(&self, alert: &str) -> String {
        crate::plan::names::runbook_section(self.workload.name(), alert)
    }

    /// A panel of the app's Troubleshooting dashboard.
    pub fn panel(&self, title: &str) -> Panel {
        // The workload came from the API server, so its names are valid
        // Kubernetes names and the identity always builds.
        let uid = crate::app::AppId::new(
            self.workload.namespace(),
            self.workload.kind(),
            self.workload.name(),
        )
        .map(|id| crate::plan::names::dashboard_uid(&id, "troubleshooting"))
        .unwrap_or_default();
        Panel {
            dashboard_uid: uid.clone(),
            title: format!("Troubleshooting › {title}"),
            url: self
                .grafana
                .map(|g| format!("{}/d/{uid}", g.trim_end_matches('/'))),
        }
    }

    /// Whether `t` lies in the window.
    pub fn recent(&self, t: Option<Timestamp>) -> bool {
        t.is_some_and(|t| t >= self.window_start)
    }

    /// `kubectl -n NS`.
    pub fn kubectl(&self) -> String {
        format!("kubectl -n {}", self.workload.namespace())
    }
}

/// The report of the cluster checks.
pub fn report(g: &Gathered, options: &LookBack) -> TroubleshootReport {
    let window = k8s_openapi::jiff::SignedDuration::try_from(options.since).unwrap_or_default();
    let ctx = Diagnosis {
        now: options.now,
        window_start: options.now.checked_sub(window).unwrap_or(options.now),
        workload: &g.workload,
        grafana: options.grafana.as_deref(),
    };
    let mut report = TroubleshootReport::new(CheckedApp::workload(
        g.workload.namespace(),
        g.workload.kind(),
        g.workload.name(),
    ));
    let rollout = super::pods::Rollout::of(&g.workload, &g.replica_sets);
    let (mut findings, mut explained) = super::pods::findings(g, &ctx, &rollout);
    findings.extend(unread_pods(g, &ctx));
    let creates = failed_creates(&g.events, &ctx);
    explained.extend(creates.iter().map(|(uid, _)| uid.clone()));
    findings.extend(creates.into_iter().map(|(_, f)| f));
    if let Some(f) = rollout_finding(&g.workload, &rollout, &ctx) {
        explained.insert(g.workload.metadata().uid.clone().unwrap_or_default());
        explained.extend(g.replica_sets.iter().filter_map(|r| r.metadata.uid.clone()));
        findings.push(f);
    }
    findings.extend(g.services.iter().filter_map(|s| endpoints_finding(s, &ctx)));
    findings.extend(unexplained_events(&g.events, &explained, &ctx));
    report.findings = findings;
    report.rank();
    report.checked = checked(g);
    report.not_checked = g.not_checked.clone();
    report.healthy_summary = healthy_summary(g);
    report
}

/// What `not_checked` calls the pods when they could not be listed.
pub const PODS_GAP: &str = "the pods";

/// What `not_checked` calls a Deployment's ReplicaSets when they could not
/// be listed.
pub const REPLICASETS_GAP: &str = "the ReplicaSets";

/// What `not_checked` calls the Services when they could not be listed.
pub const SERVICES_GAP: &str = "the Services";

/// How a `not_checked` reason refused by RBAC starts (one per permission).
pub const FORBIDDEN: &str = "forbidden: ";

/// What `not_checked` calls the warning events when they could not be listed.
pub const EVENTS_GAP: &str = "the events";

/// Pods that could not be read: no health can be claimed.
fn unread_pods(g: &Gathered, ctx: &Diagnosis<'_>) -> Option<Finding> {
    let gap = g.not_checked.iter().find(|n| n.what == PODS_GAP)?;
    Some(
        Finding::new(
            Severity::Warning,
            Role::Cause,
            format!(
                "The pods of {} could not be read: their health is unknown",
                ctx.workload.reference()
            ),
        )
        .evidence(gap.why.clone())
        .next(if gap.why.starts_with(FORBIDDEN) {
            "bind the ClusterRole `onramp rbac troubleshoot` prints to the identity onramp runs as, then run troubleshoot again".to_string()
        } else {
            format!(
                "see what the API server answered above; {} get pods shows whether it can list them now",
                ctx.kubectl()
            )
        }),
    )
}

/// A ReplicaSet that cannot create its pods (a quota, a webhook, a missing
/// ServiceAccount): the cause of every replica missing. With the uid of the
/// ReplicaSet whose events it explains.
fn failed_creates(events: &[Event], ctx: &Diagnosis<'_>) -> Vec<(String, Finding)> {
    events
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedCreate")
                && e.involved_object.kind.as_deref() == Some("ReplicaSet")
                && ctx.recent(event_last_seen(e))
        })
        .map(|e| {
            let name = e.involved_object.name.as_deref().unwrap_or("?");
            let message = e.message.as_deref().unwrap_or_default().trim();
            let uid = e.involved_object.uid.clone().unwrap_or_default();
            let finding = Finding::new(
                Severity::Critical,
                Role::Cause,
                format!("ReplicaSet {name} cannot create pods: {message}"),
            )
            .evidence(event_line(e, ctx.now))
            .next(format!(
                "fix what the message names (a ResourceQuota, a LimitRange, an admission webhook, a ServiceAccount): {} describe replicaset {name}",
                ctx.kubectl()
            ))
            .runbook(ctx.runbook("ReplicasUnavailable"))
            .panel(ctx.panel("Available vs desired replicas"));
            (uid, finding)
        })
        .collect()
}

/// What was looked at, in a few words each: only what was read (what was
/// not is in `not_checked`).
fn checked(g: &Gathered) -> Vec<String> {
    let w = &g.workload;
    let replicas = w.replicas();
    let gap = |what: &str| g.not_checked.iter().any(|n| n.what == what);
    let mut out = vec![format!(
        "{} rollout ({} desired, {} updated, {} ready, {} available)",
        w.reference(),
        replicas.desired,
        replicas.updated,
        replicas.ready,
        replicas.available
    )];
    if !gap(PODS_GAP) {
        out.push(format!(
            "{} pod(s): phase, container states, restarts",
            g.pods.len()
        ));
    }
    if w.kind() == WorkloadKind::Deployment && !gap(REPLICASETS_GAP) {
        out.push(format!(
            "{} ReplicaSet(s) of the rollout",
            g.replica_sets.len()
        ));
    }
    if !gap(SERVICES_GAP) {
        out.push(format!(
            "{} Service(s) selecting the pods",
            g.services.len()
        ));
    }
    if !gap(EVENTS_GAP) {
        out.push(format!(
            "{} warning event(s) of the workload and its troubled pods",
            g.events.len()
        ));
    }
    for s in g.services.iter().filter(|s| s.slices.is_some()) {
        out.push(format!(
            "endpoints of Service {}",
            s.service.metadata.name.as_deref().unwrap_or("?")
        ));
    }
    for log in g.logs.iter().filter(|l| l.unread.is_none()) {
        out.push(log.wanted.describe());
    }
    out
}

/// `2/2 pods ready, no restarts, no warning events`.
fn healthy_summary(g: &Gathered) -> String {
    let ready = g.pods.iter().filter(|p| super::pods::ready(p)).count();
    format!(
        "{ready}/{} pods ready, {} desired, no crash, no warning event",
        g.pods.len(),
        g.workload.replicas().desired
    )
}

/// A rollout that does not progress, or fewer available replicas than wanted.
fn rollout_finding(
    w: &Workload,
    rollout: &super::pods::Rollout,
    ctx: &Diagnosis<'_>,
) -> Option<Finding> {
    let w_replicas = w.replicas();
    let conditions = conditions(w);
    let stuck = conditions
        .iter()
        .find(|c| c.kind == "Progressing" && c.status == "False");
    let k = ctx.kubectl();
    let r = w.reference();
    let mut finding = if let Some(c) = stuck {
        Finding::new(
            Severity::Critical,
            Role::Effect,
            format!("Rollout of {r} is stuck ({})", c.reason),
        )
        .evidence(format!(
            "condition Progressing=False, {}: {}",
            c.reason, c.message
        ))
    } else if rollout.old_serving_while_new_fails() {
        Finding::new(
            Severity::Warning,
            Role::Effect,
            format!("Rollout of {r} is not progressing: the new version is not ready"),
        )
    } else if w_replicas.available < w_replicas.desired {
        Finding::new(
            Severity::Warning,
            Role::Effect,
            format!(
                "{r} has {} of {} replicas available",
                w_replicas.available, w_replicas.desired
            ),
        )
    } else {
        return None;
    };
    finding = finding.evidence(format!(
        "replicas: {} desired, {} updated, {} ready, {} available",
        w_replicas.desired, w_replicas.updated, w_replicas.ready, w_replicas.available
    ));
    for line in rollout.lines() {
        finding = finding.evidence(line);
    }
    let next = if rollout.old_serving() {
        format!(
            "roll back to the version that serves: {k} rollout undo {r}; then fix the new version (see the first finding)"
        )
    } else {
        format!("fix the cause above, then watch: {k} rollout status {r}")
    };
    Some(
        finding
            .next(next)
            .runbook(ctx.runbook("ReplicasUnavailable"))
            .panel(ctx.panel("Available vs desired replicas")),
    )
}

/// A Service whose EndpointSlices hold no ready endpoint.
fn endpoints_finding(s: &ServiceState, ctx: &Diagnosis<'_>) -> Option<Finding> {
    let slices = s.slices.as_ref()?;
    let name = s.service.metadata.name.as_deref().unwrap_or("?");
    let endpoints: Vec<_> = slices.iter().flat_map(|sl| sl.endpoints.iter()).collect();
    // `ready` unset means "unknown", which consumers treat as ready.
    let ready = endpoints
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count();
    if ready > 0 {
        return None;
    }
    let pods: Vec<&str> = endpoints
        .iter()
        .filter_map(|e| e.target_ref.as_ref().and_then(|t| t.name.as_deref()))
        .collect();
    Some(
        Finding::new(
            Severity::Critical,
            Role::Symptom,
            format!("Service {name} has no ready endpoints: requests to it fail"),
        )
        .evidence(format!(
            "EndpointSlices with label kubernetes.io/service-name={name}: {} endpoint(s), 0 ready{}",
            endpoints.len(),
            if pods.is_empty() {
                String::new()
            } else {
                format!(" ({})", pods.join(", "))
            }
        ))
        .next(format!(
            "fix the cause above; then {} get endpointslices -l kubernetes.io/service-name={name} shows ready endpoints",
            ctx.kubectl()
        ))
        .runbook(ctx.runbook("ReplicasUnavailable"))
        .panel(ctx.panel("Pods not ready and pending")),
    )
}

/// Recent warning events of objects no other finding is about, one finding
/// per object.
fn unexplained_events(
    events: &[Event],
    explained: &HashSet<String>,
    ctx: &Diagnosis<'_>,
) -> Vec<Finding> {
    let mut by_object: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for e in events {
        let uid = e.involved_object.uid.clone().unwrap_or_default();
        if explained.contains(&uid) || !ctx.recent(event_last_seen(e)) {
            continue;
        }
        let object = format!(
            "{}/{}",
            e.involved_object
                .kind
                .as_deref()
                .unwrap_or("object")
                .to_ascii_lowercase(),
            e.involved_object.name.as_deref().unwrap_or("?")
        );
        by_object.entry(object).or_default().push(e);
    }
    by_object
        .into_iter()
        .map(|(object, events)| {
            let reasons: Vec<&str> = events.iter().filter_map(|e| e.reason.as_deref()).collect();
            let mut f = Finding::new(
                Severity::Warning,
                Role::Effect,
                format!("Warning events on {object}: {}", reasons.join(", ")),
            );
            for e in &events {
                f = f.evidence(event_line(e, ctx.now));
            }
            f.next(format!(
                "{} get events --field-selector involvedObject.name={} --sort-by=.lastTimestamp",
                ctx.kubectl(),
                object.split('/').nth(1).unwrap_or_default()
            ))
        })
        .collect()
}

/// How long ago, for evidence lines.
pub fn ago(ctx: &Diagnosis<'_>, t: Option<Timestamp>) -> String {
    t.map(|t| format!("{} ago", age(ctx.now, t)))
        .unwrap_or_else(|| "at an unknown time".into())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
    use serde_json::json;

    use super::*;

    const NOW: &str = "2026-11-27T09:00:00Z";

    fn gathered(pods: Vec<serde_json::Value>, events: Vec<serde_json::Value>) -> Gathered {
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "d-1"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "checkout"}},
                     "template": {"metadata": {"labels": {"app": "checkout"}},
                                  "spec": {"containers": [{"name": "checkout"}]}}},
            "status": {"replicas": 1}
        }))
        .expect("a Deployment");
        Gathered {
            workload: Workload::Deployment(deployment),
            replica_sets: Vec::new(),
            pods: pods
                .into_iter()
                .map(|p| serde_json::from_value(p).expect("a Pod"))
                .collect(),
            services: Vec::new(),
            events: events
                .into_iter()
                .map(|e| serde_json::from_value(e).expect("an Event"))
                .collect(),
            logs: Vec::new(),
            not_checked: Vec::new(),
        }
    }

    fn options() -> LookBack {
        LookBack {
            since: std::time::Duration::from_secs(1800),
            now: NOW.parse().expect("a time"),
            grafana: Some("https://grafana.example/".into()),
        }
    }

    fn event(kind: &str, name: &str, uid: &str, reason: &str, message: &str) -> serde_json::Value {
        json!({
            "metadata": {"name": format!("{name}.1"), "namespace": "shop"},
            "involvedObject": {"kind": kind, "name": name, "uid": uid},
            "reason": reason, "message": message, "type": "Warning", "count": 12,
            "firstTimestamp": "2026-11-27T08:40:00Z", "lastTimestamp": "2026-11-27T08:59:00Z"
        })
    }

    #[test]
    fn a_liveness_kill_is_named_as_such_not_as_a_crash() {
        let pod = json!({
            "metadata": {"name": "checkout-1", "uid": "p-1"},
            "spec": {"containers": [{"name": "checkout"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "checkout", "image": "x", "imageID": "", "ready": false, "restartCount": 6,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": "2026-11-27T08:58:00Z"}}
            }]}
        });
        let probe = event(
            "Pod",
            "checkout-1",
            "p-1",
            "Unhealthy",
            "Liveness probe failed: Get \"http://10.0.0.1:8080/healthz\": context deadline exceeded",
        );
        let report = report(&gathered(vec![pod], vec![probe]), &options());
        let first = &report.findings[0];
        assert_eq!(
            first.title,
            "Container checkout is killed by its liveness probe: Liveness probe failed: Get \"http://10.0.0.1:8080/healthz\": context deadline exceeded"
        );
        assert!(
            first
                .next_step
                .contains("add a startupProbe or raise initialDelaySeconds")
        );
        assert_eq!(
            first.panel.as_ref().and_then(|p| p.url.as_deref()),
            Some("https://grafana.example/d/checkout-troubleshooting-779842e8")
        );
    }

    #[test]
    fn a_replica_set_that_cannot_create_pods_is_the_cause_of_missing_replicas() {
        let quota = event(
            "ReplicaSet",
            "checkout-7c9d",
            "r-1",
            "FailedCreate",
            "Error creating: pods \"checkout-7c9d-abcde\" is forbidden: exceeded quota: shop-quota, requested: memory=256Mi, used: memory=1Gi, limited: memory=1Gi",
        );
        let report = report(&gathered(Vec::new(), vec![quota]), &options());
        let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "ReplicaSet checkout-7c9d cannot create pods: Error creating: pods \"checkout-7c9d-abcde\" is forbidden: exceeded quota: shop-quota, requested: memory=256Mi, used: memory=1Gi, limited: memory=1Gi",
                "deployment/checkout has 0 of 1 replicas available",
            ]
        );
    }

    #[test]
    fn events_older_than_the_window_raise_nothing() {
        let mut old = event("Deployment", "checkout", "d-1", "FailedCreate", "old news");
        old["lastTimestamp"] = json!("2026-11-27T07:00:00Z");
        let pod = json!({
            "metadata": {"name": "checkout-1", "uid": "p-1"},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "checkout", "image": "x", "imageID": "", "ready": true, "restartCount": 1,
                "state": {"running": {"startedAt": "2026-11-27T07:01:00Z"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-11-27T07:00:59Z"}}
            }]}
        });
        let mut g = gathered(vec![pod], vec![old]);
        if let Workload::Deployment(d) = &mut g.workload {
            d.status.get_or_insert_default().available_replicas = Some(1);
        }
        let report = report(&g, &options());
        assert_eq!(
            report.findings,
            Vec::new(),
            "a restart two hours ago is history"
        );
    }

    #[test]
    fn a_taint_the_pods_do_not_tolerate_points_at_tolerations() {
        let pod = json!({
            "metadata": {"name": "checkout-1", "uid": "p-1", "creationTimestamp": "2026-11-27T08:50:00Z"},
            "spec": {"containers": [{"name": "checkout", "resources": {"requests": {"cpu": "100m"}}}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."}]}
        });
        let report = report(&gathered(vec![pod], Vec::new()), &options());
        let first = &report.findings[0];
        assert_eq!(
            first.title,
            "Pods cannot be scheduled: 0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}"
        );
        assert_eq!(first.evidence[1], "container checkout requests cpu 100m");
        assert!(
            first
                .next_step
                .starts_with("add a toleration for the taint to deployment/checkout")
        );
    }

    #[test]
    fn stateful_and_daemon_sets_report_their_own_rollout_numbers() {
        let sts: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        }))
        .expect("a StatefulSet");
        let w = Workload::StatefulSet(sts);
        let r = w.replicas();
        assert_eq!(
            (w.reference().as_str(), r.desired, r.ready, r.available),
            ("statefulset/db", 3, 2, 2)
        );
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "agent", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "agent"}]}}},
            "status": {"desiredNumberScheduled": 4, "numberReady": 1, "currentNumberScheduled": 4, "numberMisscheduled": 0, "numberAvailable": 1}
        }))
        .expect("a DaemonSet");
        let w = Workload::DaemonSet(ds);
        let r = w.replicas();
        assert_eq!(
            (w.reference().as_str(), r.desired, r.ready, r.available),
            ("daemonset/agent", 4, 1, 1)
        );
    }
}
