//! The cluster half of troubleshoot: reads one workload, its pods (by the
//! workload's label selector), its ReplicaSets, the Services that select it
//! with their EndpointSlices, the warning events of exactly these objects
//! (field selector `involvedObject.uid=…`, never every event of the
//! namespace) and the log tails that explain a crash or an unready pod, with
//! independent requests in flight together. Then it hands what it read to
//! [`super::diagnose`].
//!
//! A read the API server answers with an error — refused, a resource type
//! it does not serve, a log it cannot give — for anything but the workload
//! itself is a gap in the report (`not_checked`, saying what it answered),
//! never the end of the run, and never silently dropped. Every request is
//! an entry of the registry's group [`crate::client::kube::access::WORKLOAD`].

use futures::future::join_all;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::diagnose::{self, Gathered, LogTail, LogWanted, ServiceState, Workload};
use super::{NotChecked, TroubleshootReport};
use crate::app::AppRef;
use crate::app::manifest::WorkloadKind;
use crate::client::kube::access::{
    LIST_ENDPOINTSLICES, LIST_EVENTS, LIST_PODS, LIST_REPLICASETS, LIST_SERVICES,
};
use crate::client::kube::{self, Access, KubeClient};
use crate::error::{Error, Result};

/// At most this many troubled pods have their events read.
pub const MAX_EVENT_PODS: usize = 10;

/// How many log lines a crash or an unready pod's evidence reads.
pub const LOG_LINES: usize = 20;

/// How the cluster checks run.
#[derive(Debug, Clone)]
pub struct LookBack {
    /// The window: restarts and events older than this are history.
    pub since: std::time::Duration,
    /// The moment the run looks back from.
    pub now: k8s_openapi::jiff::Timestamp,
    /// Grafana's base URL, for links to the dashboard panels.
    pub grafana: Option<String>,
}

/// Runs every cluster check of `app` (its namespace set) and reports.
pub async fn check(
    client: &KubeClient,
    app: &AppRef,
    options: &LookBack,
) -> Result<TroubleshootReport> {
    let gathered = gather_app(client, app).await?;
    Ok(diagnose::report(&gathered, options))
}

/// Reads what the cluster checks read, without diagnosing: for a run that
/// also plans the app's Prometheus checks from the same objects.
pub async fn gather_app(client: &KubeClient, app: &AppRef) -> Result<Gathered> {
    let namespace = app.namespace.clone().unwrap_or_else(|| "default".into());
    let kind = app.kind.unwrap_or(WorkloadKind::Deployment);
    let workload = workload(client, kind, &namespace, &app.name).await?;
    gather(client, workload).await
}

/// The workload, or bad input naming what was looked for.
async fn workload(
    client: &KubeClient,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<Workload> {
    let found = crate::app::deployed::get_workload(client, kind, namespace, name).await?;
    found.ok_or_else(|| {
        Error::Usage(format!(
            "no {} {name:?} in namespace {namespace:?} (context {}); check the name with `kubectl -n {namespace} get {}`, or name another kind: statefulset/NAME, daemonset/NAME",
            kind.resource(),
            client.context(),
            kind.resource()
        ))
    })
}

/// A list that may fail: a gap in the report instead of an error, when the
/// API server answered (see [`gap_reason`]); `access` names the list.
fn partial<T: Default>(
    result: kube::Result<T>,
    what: &str,
    access: Access,
    gaps: &mut Vec<NotChecked>,
) -> Result<T> {
    match result {
        Ok(value) => Ok(value),
        Err(err) => match gap_reason(&err, Some(access)) {
            Some(why) => {
                gaps.push(not_checked(what, why, &err));
                Ok(T::default())
            }
            None => Err(err.into()),
        },
    }
}

/// Why a read the API server answered with an error is not in the report:
/// a refusal naming the permission, a resource type it does not serve (a
/// list's 404: `list_of` names it), or what it answered. `None` when nothing
/// answered (unreachable, rejected credentials): then no read can work and
/// the run ends with that error.
/// `what` not checked for `why`; a refusal names the permission to grant.
fn not_checked(what: &str, why: String, err: &kube::Error) -> NotChecked {
    let gap = NotChecked::new(what, why);
    match err {
        kube::Error::Forbidden {
            verb,
            resource,
            scope,
            ..
        } => gap.allowed_by(format!("{verb} {resource} {scope}")),
        _ => gap,
    }
}

fn gap_reason(err: &kube::Error, list_of: Option<Access>) -> Option<String> {
    Some(match (err, list_of) {
        (
            kube::Error::Forbidden {
                verb,
                resource,
                scope,
                grant,
                ..
            },
            _,
        ) => format!(
            "{}onramp may not {verb} {resource} {scope}; grant it with {grant}",
            diagnose::FORBIDDEN
        ),
        (kube::Error::Refused { code, message, .. }, _) => format!(
            "refused with HTTP {code} ({message}), which is not the API server's authorization refusing onramp (that is a Status with reason Forbidden): something between onramp and the API server refused the request"
        ),
        (
            kube::Error::Status {
                code: 404, message, ..
            },
            Some(access),
        ) => format!(
            "the API server does not serve {} ({}) (404: {message}): an API it does not serve, or an aggregated API that is down; `kubectl api-resources` lists what it serves",
            access.qualified(),
            access.version
        ),
        (kube::Error::Status { code, message, .. }, _) => {
            format!("the API server answered {code}: {message}")
        }
        _ => return None,
    })
}

/// Reads everything the diagnosis needs, in two rounds of concurrent
/// requests: what the selector finds, then what the pods' state asks for.
async fn gather(client: &KubeClient, workload: Workload) -> Result<Gathered> {
    let ns = workload.namespace().to_string();
    let selector =
        crate::cluster::stack::selector_text(&workload.selector().cloned().unwrap_or_default());
    let (pods, replica_sets, services, events) = tokio::join!(
        client.list::<Pod>(LIST_PODS, Some(&ns), Some(&selector)),
        async {
            match workload.kind() {
                WorkloadKind::Deployment => {
                    client
                        .list::<ReplicaSet>(LIST_REPLICASETS, Some(&ns), Some(&selector))
                        .await
                }
                _ => Ok(Vec::new()),
            }
        },
        client.list::<Service>(LIST_SERVICES, Some(&ns), None),
        warnings_of(client, &ns, workload.metadata()),
    );
    let mut gaps = Vec::new();
    let pods = partial(pods, diagnose::PODS_GAP, LIST_PODS, &mut gaps)?;
    let replica_sets = partial(
        replica_sets,
        diagnose::REPLICASETS_GAP,
        LIST_REPLICASETS,
        &mut gaps,
    )?;
    let services = partial(services, diagnose::SERVICES_GAP, LIST_SERVICES, &mut gaps)?;
    let mut events = partial(events, diagnose::EVENTS_GAP, LIST_EVENTS, &mut gaps)?;
    let labels = workload.template_labels();
    let services: Vec<Service> = services
        .into_iter()
        .filter(|s| selects(s, &labels))
        .collect();
    let mut gathered = Gathered {
        workload,
        replica_sets,
        pods,
        services: Vec::new(),
        events: Vec::new(),
        logs: Vec::new(),
        not_checked: gaps,
    };
    second_round(client, &mut gathered, services, &mut events).await?;
    gathered.events = events;
    Ok(gathered)
}

/// The events, EndpointSlices and logs the first round's answers point at.
async fn second_round(
    client: &KubeClient,
    gathered: &mut Gathered,
    services: Vec<Service>,
    events: &mut Vec<Event>,
) -> Result<()> {
    let ns = gathered.workload.namespace().to_string();
    let ns = ns.as_str();
    let mut objects: Vec<&ObjectMeta> = gathered.replica_sets.iter().map(|r| &r.metadata).collect();
    // Pods failing alike tell the same story: the events of the first few
    // troubled ones prove it without one request per pod of a big DaemonSet.
    objects.extend(
        gathered
            .pods
            .iter()
            .filter(|p| super::pods::troubled(p))
            .take(MAX_EVENT_PODS)
            .map(|p| &p.metadata),
    );
    let wanted = super::pods::logs_to_read(&gathered.pods);
    let (more_events, slices, logs) = tokio::join!(
        join_all(objects.iter().map(|m| warnings_of(client, ns, m))),
        join_all(services.iter().map(|s| slices_of(client, ns, s))),
        join_all(wanted.iter().map(|w| async move {
            let text = client
                .log(ns, &w.pod, &w.container, w.previous, LOG_LINES)
                .await;
            (w, text)
        })),
    );
    for found in more_events {
        events.extend(partial(
            found,
            diagnose::EVENTS_GAP,
            LIST_EVENTS,
            &mut gathered.not_checked,
        )?);
    }
    for (service, found) in services.into_iter().zip(slices) {
        let what = format!(
            "the endpoints of Service {}",
            service.metadata.name.clone().unwrap_or_default()
        );
        let slices = partial(
            found.map(Some),
            &what,
            LIST_ENDPOINTSLICES,
            &mut gathered.not_checked,
        )?;
        gathered.services.push(ServiceState { service, slices });
    }
    for (want, text) in logs {
        let tail = read_log(want, text, &mut gathered.not_checked)?;
        gathered.logs.push(tail);
    }
    dedupe_gaps(&mut gathered.not_checked);
    Ok(())
}

/// A log's tail; one the API server could not give (refused, the pod gone,
/// the kubelet unreachable, no previous run kept) is a gap in the report and
/// a tail that says why, so the finding it would explain can say so too.
fn read_log(
    want: &LogWanted,
    text: kube::Result<String>,
    gaps: &mut Vec<NotChecked>,
) -> Result<LogTail> {
    let err = match text {
        Ok(text) => return Ok(LogTail::new(want.clone(), &text)),
        Err(err) => err,
    };
    let Some(why) = gap_reason(&err, None) else {
        return Err(err.into());
    };
    gaps.push(not_checked(&want.describe(), why.clone(), &err));
    Ok(LogTail::unread(want.clone(), why))
}

/// One gap per permission: ten refused log reads say it once.
/// Any other gap is kept once per check: two reads that failed alike (two
/// lists refused on the way) are two checks not made.
fn dedupe_gaps(gaps: &mut Vec<NotChecked>) {
    let mut seen = std::collections::HashSet::new();
    gaps.retain(|g| {
        let what = if g.why.starts_with(diagnose::FORBIDDEN) {
            ""
        } else {
            g.what.as_str()
        };
        seen.insert((what.to_string(), g.why.clone()))
    });
}

/// The warning events of one object, by its uid.
async fn warnings_of(client: &KubeClient, ns: &str, meta: &ObjectMeta) -> kube::Result<Vec<Event>> {
    let uid = meta.uid.clone().unwrap_or_default();
    let fields = format!("involvedObject.uid={uid},type=Warning");
    client
        .list_selected::<Event>(LIST_EVENTS, Some(ns), None, Some(&fields))
        .await
}

/// The EndpointSlices of a Service, by the label the control plane sets.
async fn slices_of(
    client: &KubeClient,
    ns: &str,
    service: &Service,
) -> kube::Result<Vec<EndpointSlice>> {
    let name = service.metadata.name.clone().unwrap_or_default();
    let labels = format!("kubernetes.io/service-name={name}");
    client
        .list::<EndpointSlice>(LIST_ENDPOINTSLICES, Some(ns), Some(&labels))
        .await
}

/// Whether a Service's selector picks the workload's pods.
fn selects(service: &Service, labels: &std::collections::BTreeMap<String, String>) -> bool {
    let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return false;
    };
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
