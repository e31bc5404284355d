//! The pods' findings: why a container waits (crash loop, image pull,
//! missing ConfigMap/Secret key), how it last ended (OOM kill, exit code),
//! restarts in the window, Pending with the scheduler's reason, running but
//! never ready — each with its events and log lines as proof. Pods failing
//! the same way make one finding that names them all.

use std::collections::HashSet;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Event, Pod};

use super::diagnose::{Diagnosis, Gathered, LogTail, LogWanted, Workload, ago};
use super::evidence::{bytes, doubled, event_line, exit_meaning, telling_line, without_timestamp};
use super::{Finding, Role, Severity};

/// How many log lines a finding quotes.
const QUOTED_LINES: usize = 8;
/// At most this many logs are read per run: the first pods failing tell.
const MAX_LOGS: usize = 4;

/// Whether a pod needs a closer look (its events, its logs).
pub fn troubled(pod: &Pod) -> bool {
    let status = pod.status.clone().unwrap_or_default();
    status.phase.as_deref() != Some("Running")
        || statuses(pod)
            .iter()
            .any(|c| !c.ready || c.restart_count > 0)
}

/// Whether every container of a pod is ready.
pub fn ready(pod: &Pod) -> bool {
    let s = statuses(pod);
    !s.is_empty() && s.iter().all(|c| c.ready)
}

fn statuses(pod: &Pod) -> Vec<ContainerStatus> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default()
}

fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("?")
}

/// The logs worth reading: a crashed container's previous run, a running
/// but unready container's current one.
pub fn logs_to_read(pods: &[Pod]) -> Vec<LogWanted> {
    let mut out = Vec::new();
    for pod in pods.iter().filter(|p| troubled(p)) {
        for c in statuses(pod) {
            let state = c.state.clone().unwrap_or_default();
            let crashed = c
                .last_state
                .as_ref()
                .is_some_and(|l| l.terminated.is_some());
            let running_unready = state.running.is_some() && !c.ready;
            if crashed || running_unready {
                out.push(LogWanted {
                    pod: name(pod).to_string(),
                    container: c.name.clone(),
                    previous: crashed,
                });
            }
        }
    }
    out.truncate(MAX_LOGS);
    out
}

/// The Deployment's ReplicaSets: which is new, which old ones still serve.
pub struct Rollout {
    /// (name, image, ready, replicas, is the newest)
    sets: Vec<(String, String, i32, i32, bool)>,
}

impl Rollout {
    /// The rollout of `w` from its ReplicaSets (none for other kinds).
    pub fn of(_w: &Workload, replica_sets: &[ReplicaSet]) -> Rollout {
        let revision = |r: &ReplicaSet| -> i64 {
            r.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let newest = replica_sets.iter().map(revision).max().unwrap_or(0);
        let sets = replica_sets
            .iter()
            .filter(|r| {
                r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0 || revision(r) == newest
            })
            .map(|r| {
                let image = r
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .and_then(|t| t.spec.as_ref())
                    .map(|s| {
                        s.containers
                            .iter()
                            .map(|c| c.image.clone().unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let status = r.status.clone().unwrap_or_default();
                (
                    r.metadata.name.clone().unwrap_or_default(),
                    image,
                    status.ready_replicas.unwrap_or(0),
                    status.replicas,
                    revision(r) == newest,
                )
            })
            .collect();
        Rollout { sets }
    }

    /// Whether an old ReplicaSet has ready pods.
    pub fn old_serving(&self) -> bool {
        self.sets.iter().any(|s| !s.4 && s.2 > 0)
    }

    /// Whether old pods serve while the new ReplicaSet's are not all ready.
    pub fn old_serving_while_new_fails(&self) -> bool {
        self.old_serving() && self.sets.iter().any(|s| s.4 && s.2 < s.3)
    }

    fn is_new(&self, replica_set: &str) -> bool {
        self.old_serving() && self.sets.iter().any(|s| s.4 && s.0 == replica_set)
    }

    /// One evidence line per ReplicaSet that has pods.
    pub fn lines(&self) -> Vec<String> {
        self.sets
            .iter()
            .map(|(name, image, ready, replicas, new)| {
                let which = if *new { "new" } else { "old" };
                format!("{which} ReplicaSet {name} ({image}): {ready}/{replicas} ready")
            })
            .collect()
    }
}

/// The findings of every pod, merged across pods that fail the same way,
/// and the uids of the objects whose events they explain.
pub fn findings(
    g: &Gathered,
    ctx: &Diagnosis<'_>,
    rollout: &Rollout,
) -> (Vec<Finding>, HashSet<String>) {
    let mut merged: Vec<(Finding, Vec<String>)> = Vec::new();
    let mut explained = HashSet::new();
    for pod in &g.pods {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let events: Vec<&Event> = g
            .events
            .iter()
            .filter(|e| e.involved_object.uid.as_deref() == Some(uid.as_str()))
            .collect();
        let mut found = pod_findings(pod, &events, &g.logs, &g.workload, ctx);
        if found.is_empty() {
            continue;
        }
        explained.insert(uid);
        let owner = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(|o| o.name.clone());
        if owner.is_some_and(|o| rollout.is_new(&o)) {
            found = found
                .into_iter()
                .map(|f| on_new_version(f, rollout, ctx))
                .collect();
        }
        for f in found {
            match merged.iter_mut().find(|(m, _)| m.title == f.title) {
                Some((_, pods)) => pods.push(name(pod).to_string()),
                None => merged.push((f, Vec::new())),
            }
        }
    }
    let findings = merged
        .into_iter()
        .map(|(f, others)| match others.is_empty() {
            true => f,
            false => f.evidence(format!(
                "the same on {} more pod(s): {}",
                others.len(),
                others.join(", ")
            )),
        })
        .collect();
    (findings, explained)
}

/// A finding on a pod of a new version while the old one serves: say so,
/// and put the rollback first.
fn on_new_version(mut f: Finding, rollout: &Rollout, ctx: &Diagnosis<'_>) -> Finding {
    f.title = format!("New version fails: {}", f.title);
    for line in rollout.lines() {
        f.evidence.push(line);
    }
    // The fix's own "or roll back" would say the rollback twice.
    let fix = match f.next_step.split_once(", or roll back: ") {
        Some((fix, _)) => fix.to_string(),
        None => f.next_step.clone(),
    };
    f.next_step = format!(
        "roll back while you fix it: {} rollout undo {}; then {fix}",
        ctx.kubectl(),
        ctx.workload.reference(),
    );
    f
}

/// The findings of one pod.
fn pod_findings(
    pod: &Pod,
    events: &[&Event],
    logs: &[LogTail],
    w: &Workload,
    ctx: &Diagnosis<'_>,
) -> Vec<Finding> {
    let status = pod.status.clone().unwrap_or_default();
    if status.phase.as_deref() == Some("Pending")
        && let Some(f) = unscheduled(pod, events, ctx)
    {
        return vec![f];
    }
    let spec = pod.spec.clone().unwrap_or_default();
    let mut out = Vec::new();
    for c in statuses(pod) {
        let container = spec
            .containers
            .iter()
            .find(|s| s.name == c.name)
            .cloned()
            .unwrap_or_default();
        let log = |previous: bool| {
            logs.iter().find(|l| {
                l.wanted.pod == name(pod)
                    && l.wanted.container == c.name
                    && l.wanted.previous == previous
            })
        };
        let finding = Probe {
            pod,
            status: &c,
            container: &container,
            events,
            ctx,
            workload: w,
        };
        if let Some(f) = finding
            .waiting(log(true))
            .or_else(|| finding.restarted(log(true)))
            .or_else(|| finding.unready(log(false)))
        {
            out.push(f);
        }
    }
    out
}

/// A pod the scheduler cannot place.
fn unscheduled(pod: &Pod, events: &[&Event], ctx: &Diagnosis<'_>) -> Option<Finding> {
    let condition = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")?
        .clone();
    let message = condition.message.unwrap_or_default();
    // The preemption half repeats the first for a pod no victim can make room for.
    let reason = message
        .split(" preemption:")
        .next()
        .unwrap_or(&message)
        .trim()
        .trim_end_matches('.');
    let mut f = Finding::new(
        Severity::Critical,
        Role::Cause,
        format!("Pods cannot be scheduled: {reason}"),
    )
    .evidence(format!(
        "pod {} Pending since {}: {}",
        name(pod),
        ago(ctx, pod.metadata.creation_timestamp.as_ref().map(|t| t.0)),
        message
    ));
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    for c in &containers {
        f = f.evidence(format!("container {} requests {}", c.name, requests(c)));
    }
    for e in events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
    {
        f = f.evidence(event_line(e, ctx.now));
    }
    let first = containers.first().map(|c| c.name.as_str()).unwrap_or("?");
    let k = ctx.kubectl();
    let r = ctx.workload.reference();
    let next = if reason.contains("Insufficient memory") || reason.contains("Insufficient cpu") {
        let resource = if reason.contains("Insufficient memory") {
            "memory"
        } else {
            "cpu"
        };
        format!(
            "lower the {resource} request of container {first} to what a node can offer ({k} set resources {r} -c {first} --requests={resource}=…; see kubectl get nodes -o custom-columns=NAME:.metadata.name,CPU:.status.allocatable.cpu,MEMORY:.status.allocatable.memory), or add a node with more {resource}"
        )
    } else if reason.contains("taint") {
        format!(
            "add a toleration for the taint to {r}, or free an untainted node: kubectl describe nodes | grep Taints"
        )
    } else if reason.contains("PersistentVolumeClaim") {
        format!("bind the claim: {k} get pvc and {k} describe pvc")
    } else {
        format!("{k} describe pod {}", name(pod))
    };
    Some(
        f.next(next)
            .runbook(ctx.runbook("ReplicasUnavailable"))
            .panel(ctx.panel("Pods not ready and pending")),
    )
}

/// `cpu 50m, memory 16Gi`.
fn requests(c: &Container) -> String {
    let r = c
        .resources
        .as_ref()
        .and_then(|r| r.requests.clone())
        .unwrap_or_default();
    if r.is_empty() {
        return "nothing".into();
    }
    r.iter()
        .map(|(k, v)| format!("{k} {}", v.0))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One container of one pod, and what the rules read about it.
struct Probe<'a> {
    pod: &'a Pod,
    status: &'a ContainerStatus,
    container: &'a Container,
    events: &'a [&'a Event],
    ctx: &'a Diagnosis<'a>,
    workload: &'a Workload,
}

impl Probe<'_> {
    fn events_with(&self, reasons: &[&str]) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
            .map(|e| event_line(e, self.ctx.now))
            .collect()
    }

    fn quote(f: Finding, label: &str, log: Option<&LogTail>) -> Finding {
        let Some(log) = log.filter(|l| !l.lines.is_empty()) else {
            return f;
        };
        let start = log.lines.len().saturating_sub(QUOTED_LINES);
        let mut f = f.evidence(format!("{label} (last {} lines):", log.lines.len() - start));
        for line in &log.lines[start..] {
            f = f.evidence(format!("  {line}"));
        }
        f
    }

    /// A waiting container: image pull, configuration, crash loop.
    fn waiting(&self, previous_log: Option<&LogTail>) -> Option<Finding> {
        let waiting = self.status.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref().unwrap_or_default();
        let message = waiting.message.clone().unwrap_or_default();
        match reason {
            "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" => {
                Some(self.image(reason, &message))
            }
            "CreateContainerConfigError" | "CreateContainerError" => {
                Some(self.config(reason, &message))
            }
            "CrashLoopBackOff" => Some(self.crashed(true, previous_log)),
            _ => None,
        }
    }

    fn image(&self, reason: &str, message: &str) -> Finding {
        let image = self
            .container
            .image
            .clone()
            .or_else(|| Some(self.status.image.clone()))
            .unwrap_or_default();
        let failed = self.events_with(&["Failed"]);
        let all = format!("{message} {}", failed.join(" ")).to_ascii_lowercase();
        let why = if all.contains("not found") || all.contains("manifest unknown") {
            "the tag or repository does not exist"
        } else if all.contains("unauthorized") || all.contains("denied") || all.contains("403") {
            "the registry refuses access (pull secret?)"
        } else {
            "the kubelet cannot pull it"
        };
        let c = &self.status.name;
        let mut f = Finding::new(
            Severity::Critical,
            Role::Cause,
            format!("Image {image} of container {c} cannot be pulled: {why}"),
        )
        .evidence(format!(
            "pod {}: container {c} waiting, {reason}: {message}",
            name(self.pod)
        ));
        for line in failed {
            f = f.evidence(line);
        }
        let repo = image.rsplit_once(':').map(|(r, _)| r).unwrap_or(&image);
        f.next(format!(
            "set an image that exists: {} set image {} {c}={repo}:TAG (list the tags in the registry), or roll back: {} rollout undo {}",
            self.ctx.kubectl(),
            self.workload.reference(),
            self.ctx.kubectl(),
            self.workload.reference()
        ))
        .runbook(self.ctx.runbook("ImagePullFailing"))
        .panel(self.ctx.panel("Why containers are waiting"))
    }

    fn config(&self, reason: &str, message: &str) -> Finding {
        let c = &self.status.name;
        let f = Finding::new(
            Severity::Critical,
            Role::Cause,
            format!("Container {c} cannot start: {message}"),
        )
        .evidence(format!(
            "pod {}: container {c} waiting, {reason}: {message}",
            name(self.pod)
        ));
        let mut f = self
            .events_with(&["Failed"])
            .into_iter()
            .fold(f, Finding::evidence);
        f.next_step = self.config_fix(message);
        f.runbook(self.ctx.runbook("ReplicasUnavailable"))
            .panel(self.ctx.panel("Why containers are waiting"))
    }

    /// The fix of a missing key or object: which env var refers to it, and
    /// the command that adds it.
    fn config_fix(&self, message: &str) -> String {
        let k = self.ctx.kubectl();
        let r = self.workload.reference();
        let key_re =
            regex::Regex::new(r"couldn't find key (\S+) in (Secret|ConfigMap) ([^/\s]+)/(\S+)")
                .expect("a valid pattern");
        if let Some(m) = key_re.captures(message) {
            let (key, kind, object) = (&m[1], &m[2], &m[4]);
            let var = self.env_referring(kind, object, Some(key));
            let via = var
                .map(|v| format!(" (env {v} of container {} refers to it)", self.status.name))
                .unwrap_or_default();
            return format!(
                "add the key {key} to {kind} {object}{via}: {k} edit {} {object} — or fix the reference in {r}",
                kind.to_ascii_lowercase()
            );
        }
        let missing_re = regex::Regex::new(r#"(secret|configmap) "([^"]+)" not found"#)
            .expect("a valid pattern");
        if let Some(m) = missing_re.captures(message) {
            return format!(
                "create {} {} in namespace {}, or fix the reference in {r}",
                &m[1],
                &m[2],
                self.workload.namespace()
            );
        }
        format!("{k} describe pod {}", name(self.pod))
    }

    /// The env var of this container that reads `key` of a Secret/ConfigMap.
    fn env_referring(&self, kind: &str, object: &str, key: Option<&str>) -> Option<String> {
        self.container.env.iter().flatten().find_map(|e| {
            let from = e.value_from.as_ref()?;
            let (o, k) = match kind {
                "Secret" => from
                    .secret_key_ref
                    .as_ref()
                    .map(|s| (s.name.as_str(), s.key.as_str()))?,
                _ => from
                    .config_map_key_ref
                    .as_ref()
                    .map(|s| (s.name.as_str(), s.key.as_str()))?,
            };
            (o == object && key.is_none_or(|key| key == k)).then(|| e.name.clone())
        })
    }

    /// A container that ended: OOM kill, or a crash with its log.
    fn crashed(&self, looping: bool, previous_log: Option<&LogTail>) -> Finding {
        let last = self
            .status
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.clone())
            .unwrap_or_default();
        let reason = last.reason.clone().unwrap_or_else(|| "Error".into());
        if reason == "OOMKilled" {
            return self.oom_killed(looping, &last);
        }
        if let Some(f) = self.liveness_killed(looping, &last) {
            return f;
        }
        let c = &self.status.name;
        let line = previous_log
            .and_then(|l| telling_line(&l.lines))
            .map(|l| without_timestamp(l).to_string());
        let unread = unread_log(previous_log);
        let verb = if looping { "crash-loops" } else { "restarted" };
        let title = match (&line, &unread) {
            (Some(line), _) => format!("Container {c} {verb}: {line}"),
            (None, unread) => format!(
                "Container {c} {verb}: exit code {} ({reason}){}",
                last.exit_code,
                unread.as_ref().map_or("", |(suffix, _)| suffix.as_str())
            ),
        };
        let severity = if looping {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut f = Finding::new(severity, Role::Cause, title).evidence(format!(
            "pod {}: restarted {} time(s); the last run ended {} with {} ({reason})",
            name(self.pod),
            self.status.restart_count,
            ago(self.ctx, last.finished_at.as_ref().map(|t| t.0)),
            exit_meaning(last.exit_code)
        ));
        f = Self::quote(f, "previous log", previous_log);
        if let Some((_, evidence)) = &unread {
            f = f.evidence(evidence.clone());
        }
        f = self
            .events_with(&["Unhealthy", "BackOff"])
            .into_iter()
            .take(2)
            .fold(f, Finding::evidence);
        f.next_step = match unread {
            Some(_) => self.unread_log_fix(),
            None => self.crash_fix(line.as_deref()),
        };
        f.runbook(self.ctx.runbook("CrashLooping"))
            .panel(self.ctx.panel("Container restarts"))
    }

    /// A container the kubelet killed because its liveness probe failed
    /// (exit 137 without an OOM kill, and the probe's events say so).
    fn liveness_killed(
        &self,
        looping: bool,
        last: &k8s_openapi::api::core::v1::ContainerStateTerminated,
    ) -> Option<Finding> {
        let probe = self.events.iter().find(|e| {
            e.reason.as_deref() == Some("Unhealthy")
                && e.message
                    .as_deref()
                    .is_some_and(|m| m.starts_with("Liveness probe failed"))
        })?;
        if last.exit_code != 137 && last.exit_code != 143 {
            return None;
        }
        let c = &self.status.name;
        let message = probe.message.as_deref().unwrap_or_default().trim();
        let severity = if looping {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let f = Finding::new(
            severity,
            Role::Cause,
            format!("Container {c} is killed by its liveness probe: {message}"),
        )
        .evidence(format!(
            "pod {}: restarted {} time(s); the last run ended {} with {}",
            name(self.pod),
            self.status.restart_count,
            ago(self.ctx, last.finished_at.as_ref().map(|t| t.0)),
            exit_meaning(last.exit_code)
        ))
        .evidence(event_line(probe, self.ctx.now));
        Some(
            f.next(format!(
                "make the probe match the app: if it starts slowly add a startupProbe or raise initialDelaySeconds, if the endpoint hangs find why ({} logs {} -c {c} --previous)",
                self.ctx.kubectl(),
                name(self.pod)
            ))
            .runbook(self.ctx.runbook("CrashLooping"))
            .panel(self.ctx.panel("Container restarts")),
        )
    }

    /// What to run when the crash's log could not be read through the API
    /// server: the same read by hand, or where logs are kept besides.
    fn unread_log_fix(&self) -> String {
        let k = self.ctx.kubectl();
        let pod = name(self.pod);
        format!(
            "read the log of the crash: {k} logs {pod} -c {} --previous, or your cluster's log store if the API server cannot serve it; {k} describe pod {pod} shows the last state and the events",
            self.status.name
        )
    }

    /// What to do about a crash: the env var its log line names, else the log.
    fn crash_fix(&self, line: Option<&str>) -> String {
        let k = self.ctx.kubectl();
        let r = self.workload.reference();
        let c = &self.status.name;
        let named = line.and_then(|line| {
            self.container
                .env
                .iter()
                .flatten()
                .map(|e| e.name.as_str())
                .find(|n| line.contains(n))
        });
        match named {
            Some(var) => format!(
                "fix the environment variable {var} of container {c} that the crash names: {k} set env {r} -c {c} {var}=…, or roll back: {k} rollout undo {r}"
            ),
            None => format!(
                "read the whole log of the crash: {k} logs {} -c {c} --previous; fix what it says, or roll back: {k} rollout undo {r}",
                name(self.pod)
            ),
        }
    }

    fn oom_killed(
        &self,
        looping: bool,
        last: &k8s_openapi::api::core::v1::ContainerStateTerminated,
    ) -> Finding {
        let c = &self.status.name;
        let limits = self
            .container
            .resources
            .as_ref()
            .and_then(|r| r.limits.clone())
            .unwrap_or_default();
        let limit = limits.get("memory").map(|q| q.0.clone());
        let title = match &limit {
            Some(l) => format!("Container {c} is OOM-killed at its memory limit of {l}"),
            None => format!("Container {c} is OOM-killed (no memory limit: the node ran out)"),
        };
        let severity = if looping {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut f = Finding::new(severity, Role::Cause, title)
            .evidence(format!(
                "pod {}: last termination OOMKilled ({}), {}; restarted {} time(s){}",
                name(self.pod),
                exit_meaning(last.exit_code),
                ago(self.ctx, last.finished_at.as_ref().map(|t| t.0)),
                self.status.restart_count,
                if looping {
                    ", now in CrashLoopBackOff"
                } else {
                    ""
                }
            ))
            .evidence(format!(
                "container {c} requests {}; memory limit {}",
                requests(self.container),
                limit.as_deref().unwrap_or("none")
            ));
        if let Some(l) = limit
            .as_deref()
            .filter(|l| bytes(l).is_some_and(|b| b < 256 * 1024 * 1024))
        {
            f = f.evidence(format!("{l} is a small limit for most runtimes"));
        }
        let k = self.ctx.kubectl();
        let r = self.workload.reference();
        let raise = limit.as_deref().map(doubled).unwrap_or_else(|| "…".into());
        f.next(format!("raise the memory limit: {k} set resources {r} -c {c} --limits=memory={raise} — or, if usage grows without end, find the leak on the Memory working set panel"))
            .runbook(self.ctx.runbook("OOMKilled"))
            .panel(self.ctx.panel("Memory working set vs limit"))
    }

    /// A container running now that ended in the window.
    fn restarted(&self, previous_log: Option<&LogTail>) -> Option<Finding> {
        let last = self.status.last_state.as_ref()?.terminated.as_ref()?;
        self.ctx
            .recent(last.finished_at.as_ref().map(|t| t.0))
            .then(|| self.crashed(false, previous_log))
    }

    /// A container running but not ready: the probe's events and its log.
    fn unready(&self, log: Option<&LogTail>) -> Option<Finding> {
        let running = self.status.state.as_ref()?.running.as_ref()?;
        if self.status.ready {
            return None;
        }
        let c = &self.status.name;
        let probes = self.events_with(&["Unhealthy"]);
        let line = log
            .and_then(|l| telling_line(&l.lines))
            .map(|l| without_timestamp(l).to_string());
        let unread = unread_log(log);
        let title = match &line {
            Some(line) => format!("Container {c} runs but never becomes ready: {line}"),
            None => format!(
                "Container {c} runs but is not ready{}",
                unread.as_ref().map_or("", |(suffix, _)| suffix.as_str())
            ),
        };
        let mut f = Finding::new(Severity::Critical, Role::Cause, title).evidence(format!(
            "pod {}: running since {}, not ready, {} restart(s){}",
            name(self.pod),
            ago(self.ctx, running.started_at.as_ref().map(|t| t.0)),
            self.status.restart_count,
            probe_text(self.container)
                .map(|p| format!("; readiness probe {p}"))
                .unwrap_or_default()
        ));
        f = probes.into_iter().fold(f, Finding::evidence);
        f = Self::quote(f, "log", log);
        if let Some((_, evidence)) = unread {
            f = f.evidence(evidence);
        }
        let k = self.ctx.kubectl();
        Some(f.next(format!(
            "find what the app waits for in its log ({k} logs {} -c {c} --tail=100) and check that dependency is up and reachable from the pod; {k} describe pod {} shows the probe",
            name(self.pod),
            name(self.pod)
        ))
        .runbook(self.ctx.runbook("ReplicasUnavailable"))
        .panel(self.ctx.panel("Pods not ready and pending")))
    }
}

/// When the log that would name the cause could not be read: the words a
/// finding's title ends with, and the evidence saying what the API server
/// answered.
fn unread_log(log: Option<&LogTail>) -> Option<(String, String)> {
    let log = log?;
    let why = log.unread.as_ref()?;
    let which = if log.wanted.previous {
        "previous log"
    } else {
        "log"
    };
    Some((
        format!("; its {which}, which would say why, could not be read"),
        format!("{} could not be read: {why}", log.wanted.describe()),
    ))
}

/// `GET :http/readyz`.
fn probe_text(c: &Container) -> Option<String> {
    let probe = c.readiness_probe.as_ref()?;
    if let Some(h) = &probe.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        return Some(format!("GET :{port}{}", h.path.as_deref().unwrap_or("/")));
    }
    probe
        .tcp_socket
        .as_ref()
        .map(|_| "TCP".to_string())
        .or_else(|| probe.exec.as_ref().map(|_| "exec".to_string()))
}
