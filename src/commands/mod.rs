//! The subcommands' entry points: each turns validated settings into calls to
//! the modules that own the work, and prints the result. No logic lives here
//! that another command or sink would need.

pub mod apply;
pub mod codify;
pub mod completions;
pub mod demo;
pub mod detect;
pub mod needs;
pub mod onboard;
pub mod plan;
pub mod rbac;
pub mod troubleshoot;
pub mod verify;

use std::collections::BTreeMap;

use crate::app::{self, App};
use crate::cli::config::Config;
use crate::cli::{AppSelection, AppSettings, GrafanaArgs, RbacCommand};
use crate::client::kube::KubeClient;
use crate::client::prometheus::PrometheusClient;
use crate::cluster::selection;
use crate::cluster::stack::Stack;
use crate::error::{Error, Result};
use crate::needs::{Catalog, Need};
use crate::plan::{Plan, PlanOptions};

/// What a command leaves behind for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// A check failed (verify, troubleshoot) or a write was refused.
    CheckFailed,
}

impl Outcome {
    /// The process exit status.
    pub fn exit_code(self) -> std::process::ExitCode {
        match self {
            Outcome::Success => std::process::ExitCode::SUCCESS,
            Outcome::CheckFailed => std::process::ExitCode::from(1),
        }
    }
}

/// Writes `text` to standard output. A reader that went away (`| head`,
/// `| true`) comes back as a write error on `<stdout>`, which `main` ends
/// quietly with status 0, as ripgrep does.
pub fn print(text: &str) -> Result<()> {
    use std::io::Write;
    // The one redaction step every output passes, whatever it quotes.
    let text = crate::client::secret::redact(text);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::Write {
            path: "<stdout>".into(),
            source,
        })
}

/// Prints `value` as pretty JSON; a value that cannot be serialised is an
/// error naming `what`, never an empty output.
pub fn print_json(what: &str, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::Render {
        artifact: what.to_string(),
        message: format!("cannot serialise it as JSON: {e}"),
    })?;
    print(&format!("{json}\n"))
}

/// An app discovered from its manifests, with the catalog and the needs in use.
pub struct Loaded {
    /// The app.
    pub app: App,
    /// The catalog (owns the needs).
    pub catalog: Catalog,
    /// The ids of the needs in use.
    pub need_ids: Vec<String>,
}

impl Loaded {
    /// The needs in use.
    pub fn needs(&self) -> Vec<&Need> {
        self.need_ids
            .iter()
            .filter_map(|id| self.catalog.get(id).ok().map(|e| &e.need))
            .collect()
    }
}

/// Reads the manifests (or, without them, the cluster), discovers the app,
/// loads the catalog and checks the need selection and signal mappings
/// against it.
pub async fn load(settings: &AppSettings, cluster: Option<&KubeClient>) -> Result<Loaded> {
    let catalog = Catalog::load(&settings.needs_dirs)?;
    let need_ids = if settings.need_ids.is_empty() {
        catalog.ids()
    } else {
        for id in &settings.need_ids {
            catalog.get(id)?;
        }
        settings.need_ids.clone()
    };
    let app = match cluster {
        Some(client) => app::from_cluster(client, &settings.app, settings.metrics.as_ref()).await?,
        None => app::from_sources(&settings.sources, &settings.app, settings.metrics.as_ref())?,
    };
    let loaded = Loaded {
        app,
        catalog,
        need_ids,
    };
    settings.plan.overrides.check_against(&loaded.needs())?;
    Ok(loaded)
}

/// `NAMESPACE/NAME:PORT` of onramp.yaml, split; a malformed one names the
/// file and the form expected.
fn service_reference(reference: &str, config: &Config) -> Result<(String, String, String)> {
    let parts = reference
        .split_once('/')
        .and_then(|(ns, rest)| rest.split_once(':').map(|(name, port)| (ns, name, port)));
    match parts {
        Some((ns, name, port))
            if crate::app::validate::namespace(ns).is_ok()
                && crate::app::validate::dns_label(name).is_ok()
                && !port.is_empty()
                && port.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Ok((ns.to_string(), name.to_string(), port.to_string()))
        }
        _ => Err(Error::Config {
            location: crate::error::Location::file(config.origin()),
            message: format!(
                "prometheus.service {reference:?} is not NAMESPACE/NAME:PORT (e.g. monitoring/prometheus-operated:9090)"
            ),
        }),
    }
}

/// The cluster's Prometheus through the API server's service proxy:
/// `prometheus.service` of onramp.yaml (`NAMESPACE/NAME:PORT`, which a
/// person may set to pick one of several), else the Service `detect` finds
/// in `stack`; `None` when there is neither.
pub fn cluster_prometheus(
    client: &KubeClient,
    stack: &Stack,
    config: &Config,
) -> Result<Option<PrometheusClient>> {
    let (namespace, name, port) = match &config.file.prometheus.service {
        Some(reference) => service_reference(reference, config)?,
        None => match stack.prometheus_service() {
            Some(s) => (s.namespace.clone(), s.name.clone(), s.port.to_string()),
            None => return Ok(None),
        },
    };
    let proxy = crate::client::kube::ServiceProxy::new(client.clone(), &namespace, &name, &port);
    Ok(Some(PrometheusClient::through(proxy)?))
}

/// Without `-f` the app comes from the cluster; when there is none either,
/// the message names both ways to give onramp the app.
fn no_source(err: crate::client::kube::Error) -> Error {
    match err {
        crate::client::kube::Error::NoConfig { looked } => Error::Usage(format!(
            "no manifests and no cluster to read the app from: pass -f FILE|DIR|- with the app's Kubernetes manifests, or reach the cluster that runs it (--kubeconfig FILE, KUBECONFIG, --context NAME); looked for a cluster at {looked}"
        )),
        other => other.into(),
    }
}

/// The app's series in Prometheus, asking again until `deadline` while it
/// cannot be reached.
async fn exposed(
    client: &PrometheusClient,
    app: &App,
    deadline: Option<std::time::Instant>,
) -> crate::client::prometheus::Result<crate::needs::resolve::Exposed> {
    let ask = || crate::check::verify::exposed_metrics(client, app);
    let interval = crate::check::verify::Options::default().interval;
    crate::check::verify::until_reachable(deadline, interval, ask).await
}

/// Everything a command that works on one app starts from: validated
/// settings, the app, the catalog, the plan, and Prometheus when configured.
pub struct Prepared {
    /// The validated settings.
    pub settings: AppSettings,
    /// The app and the needs in use.
    pub loaded: Loaded,
    /// The plan.
    pub plan: Plan,
    /// The Prometheus client, when a URL is configured (or, with the app
    /// read from the cluster, the Prometheus `detect` finds there).
    pub prometheus: Option<PrometheusClient>,
    /// What the cluster said, when the app was read from it.
    pub live: Option<Live>,
    /// Why the Prometheus found in the cluster could not be asked, when so.
    pub unasked: Option<String>,
}

/// What the cluster said about the app's monitoring, when the app was read
/// from it: the stack `detect` finds and the app's namespace's labels.
pub struct Live {
    /// The connected client.
    pub client: KubeClient,
    /// The monitoring stack.
    pub stack: Stack,
    /// The labels of the app's namespace (read only when a Prometheus
    /// selects namespaces by label).
    pub namespace_labels: BTreeMap<String, String>,
    /// The labels taken from the cluster's Prometheus selectors (those that
    /// neither `--label` nor onramp.yaml set).
    pub labels_from_cluster: BTreeMap<String, String>,
}

impl Live {
    /// Asks the cluster what monitoring stack it runs, and the namespace's
    /// labels when a selector needs them.
    pub async fn read(client: KubeClient, app: &App) -> Result<Live> {
        let stack = crate::cluster::stack::detect(&client).await?;
        let namespace_labels = if selection::needs_namespace_labels(&stack) {
            app::deployed::namespace_labels(&client, &app.namespace).await?
        } else {
            BTreeMap::new()
        };
        Ok(Live {
            client,
            stack,
            namespace_labels,
            labels_from_cluster: BTreeMap::new(),
        })
    }

    /// Gives the plan what the cluster decides: the labels its Prometheus
    /// selects on (under `--label` and onramp.yaml, which win), and no
    /// monitors or rules without the Operator.
    fn shape(&mut self, options: &mut PlanOptions) {
        let mut labels = self.stack.required_labels();
        labels.retain(|k, _| !options.selector_labels.contains_key(k));
        self.labels_from_cluster = labels.clone();
        labels.extend(std::mem::take(&mut options.selector_labels));
        options.selector_labels = labels;
        options.without_operator = self.stack.operator.is_none();
        // The dashboards' ConfigMaps carry what the cluster's sidecar
        // watches, unless onramp.yaml names the label.
        if let Some((_, sidecar)) = self.stack.sidecar() {
            if options.sidecar_label.is_none() {
                let value = sidecar.label_value.as_deref().unwrap_or("1");
                options.sidecar_label = Some((sidecar.label.clone(), value.to_string()));
            }
            options.sidecar_folder_annotation = sidecar.folder_annotation.clone();
        }
    }

    /// The cluster's Prometheus through the API server's service proxy
    /// (see [`cluster_prometheus`]).
    fn prometheus(&self, config: &Config) -> Result<Option<PrometheusClient>> {
        cluster_prometheus(&self.client, &self.stack, config)
    }

    /// What the plan should say about the cluster: where the labels came
    /// from, and every monitor or rule no Prometheus would pick up.
    pub fn notes(&self, plan: &Plan) -> Vec<String> {
        let objects = selection::selectables(plan);
        let mut notes = Vec::new();
        if let Some(p) = self.stack.selecting()
            && !self.labels_from_cluster.is_empty()
            && !objects.is_empty()
        {
            let labels: Vec<String> = self
                .labels_from_cluster
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            notes.push(format!(
                "Monitors and rules carry {}: the cluster's Prometheus {}/{} selects them by it (read from the cluster; --label or labels: in onramp.yaml override it).",
                labels.join(","),
                p.namespace,
                p.name
            ));
        }
        notes.extend(selection::warnings(
            &self.stack,
            &objects,
            &self.namespace_labels,
        ));
        notes.extend(selection::sidecar_warning(&self.stack, plan));
        notes
    }
}

impl Prepared {
    /// Validates the selection, discovers the app and plans it; with a
    /// Prometheus configured, its signals map to the names the app exposes.
    /// `subcommand` is the command that writes the artifacts (`codify`,
    /// `apply`): their stamps name it. A Grafana URL given on the command
    /// line (or `GRAFANA_URL`) is where the runbook links the dashboards.
    pub async fn new(
        selection: &AppSelection,
        config: &Config,
        subcommand: &'static str,
        grafana: Option<&GrafanaArgs>,
    ) -> Result<Prepared> {
        Prepared::new_until(selection, config, subcommand, grafana, None).await
    }

    /// As [`Prepared::new`], asking Prometheus again until `deadline` while it
    /// cannot be reached (`verify --wait`: CI may start Prometheus just before).
    pub async fn new_until(
        selection: &AppSelection,
        config: &Config,
        subcommand: &'static str,
        grafana: Option<&GrafanaArgs>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Prepared> {
        let settings = AppSettings::new(selection, config)?;
        Prepared::from_settings(settings, selection, config, subcommand, grafana, deadline).await
    }

    /// As [`Prepared::new`] for a command that writes to the cluster
    /// (`apply`, `onboard`): a refused read or write points at `onramp rbac
    /// RBAC` (`apply` or `onboard`), whose rules cover both, not at `rbac
    /// plan`.
    pub async fn to_apply(
        selection: &AppSelection,
        config: &Config,
        subcommand: &'static str,
        grafana: Option<&GrafanaArgs>,
        rbac: RbacCommand,
    ) -> Result<Prepared> {
        let mut settings = AppSettings::new(selection, config)?;
        if settings.cluster.is_some() {
            settings.cluster = Some(selection.cluster.settings(rbac));
        }
        Prepared::from_settings(settings, selection, config, subcommand, grafana, None).await
    }

    /// Reads the app (from the cluster when `settings` say so), asks
    /// Prometheus, and plans.
    async fn from_settings(
        mut settings: AppSettings,
        selection: &AppSelection,
        config: &Config,
        subcommand: &'static str,
        grafana: Option<&GrafanaArgs>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Prepared> {
        settings.plan.subcommand = Some(subcommand);
        if let Some(url) = grafana.map(GrafanaArgs::link_base).transpose()?.flatten() {
            settings.plan.grafana_url = Some(url);
        }
        let prometheus = selection.prometheus.client(config)?;
        let cluster = match &settings.cluster {
            Some(kube) => Some(KubeClient::connect(kube).await.map_err(no_source)?),
            None => None,
        };
        let loaded = load(&settings, cluster.as_ref()).await?;
        let mut live = match cluster {
            Some(client) => Some(Live::read(client, &loaded.app).await?),
            None => None,
        };
        if let Some(live) = &mut live {
            live.shape(&mut settings.plan);
        }
        let discovered = prometheus.is_none();
        let prometheus = match (prometheus, &live) {
            (None, Some(live)) => live.prometheus(config)?,
            (given, _) => given,
        };
        let mut unasked = None;
        if let Some(client) = &prometheus {
            match exposed(client, &loaded.app, deadline).await {
                Ok(found) => settings.plan.available_metrics = Some(found),
                // Prometheus found in the cluster, not asked for: plan
                // without it and say why (verify reports it failing).
                Err(err) if discovered => {
                    unasked = Some(format!(
                        "Prometheus ({}) could not be asked for the app's metric names, so signals use the needs' default names: {}",
                        client.reached_via(),
                        crate::error::report(&err)
                    ));
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut prepared = Prepared {
            plan: crate::plan::build(&loaded.app, &loaded.needs(), &settings.plan)?,
            settings,
            loaded,
            prometheus,
            live,
            unasked,
        };
        prepared.add_live_notes();
        Ok(prepared)
    }

    /// Adds what the cluster says about the plan to its notes.
    fn add_live_notes(&mut self) {
        self.plan.notes.extend(self.unasked.clone());
        if let Some(live) = &self.live {
            let notes = live.notes(&self.plan);
            self.plan.notes.extend(notes);
        }
    }

    /// Plans again with these dashboards in place of the rendered ones (by uid).
    pub fn replan_with_dashboards(&mut self, dashboards: BTreeMap<String, String>) -> Result<()> {
        self.settings.plan.dashboard_overrides = dashboards;
        self.plan =
            crate::plan::build(&self.loaded.app, &self.loaded.needs(), &self.settings.plan)?;
        self.add_live_notes();
        Ok(())
    }
}
