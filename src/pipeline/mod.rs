//! The pipeline every command that works on one app goes through: from the
//! arguments and onramp.yaml to the App (read from manifests or from the
//! cluster), its needs, their signals resolved against what Prometheus
//! exposes for it, and the plan. Its stages:
//!
//! 1. [`Loaded`]: the validated settings' App with the catalog and the needs
//!    in use ([`load`]);
//! 2. [`Live`]: what the cluster says about the app's monitoring, when the app
//!    was read from it (its Prometheus selectors, the dashboard sidecar);
//! 3. [`Planned`]: the plan, with Prometheus when there is one ([`prometheus`]
//!    picks it), its signals mapped by [`crate::needs::exposed`].
//!
//! `troubleshoot` plans the app as the cluster runs it through the same
//! stages ([`plan_from_cluster`]). A command asks with a [`Request`], takes
//! the [`Planned`] to a sink or a check and prints the result; nothing here
//! prints.

pub mod live;
pub mod prometheus;

use std::collections::BTreeMap;
use std::time::Instant;

pub use live::Live;

use crate::app::{self, App, AppRef};
use crate::cli::config::Config;
use crate::cli::{AppSelection, AppSettings, ClusterArgs, GrafanaArgs, RbacCommand};
use crate::client::kube::KubeClient;
use crate::client::prometheus::PrometheusClient;
use crate::error::{Error, Result};
use crate::needs::{Catalog, Need};
use crate::plan::{Plan, PlanOptions};

/// How often the pipeline asks an unreachable Prometheus again while it may
/// wait (`verify --wait`).
const ASK_AGAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The first stage: the App (from its manifests or the cluster), with the
/// catalog and the needs in use.
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

    /// The plan of the app with its needs in use.
    pub fn plan(&self, options: &PlanOptions) -> Result<Plan> {
        crate::plan::build(&self.app, &self.needs(), options)
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
            catalog.get_for_app(id)?;
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

/// The plan of the app `app` names as the cluster runs it (its workload and
/// the Services of its namespace, read as [`app::from_cluster`] reads them),
/// with every need of the catalog and each signal mapped to what
/// `prometheus` exposes for it: what troubleshoot's Prometheus checks query.
pub async fn plan_from_cluster(
    cluster: &KubeClient,
    app: &AppRef,
    prometheus: &PrometheusClient,
    grafana_url: Option<String>,
) -> Result<Plan> {
    let catalog = Catalog::load(&[])?;
    let loaded = Loaded {
        app: app::from_cluster(cluster, app, None).await?,
        need_ids: catalog.ids(),
        catalog,
    };
    let options = PlanOptions {
        available_metrics: Some(crate::needs::exposed::of_app(prometheus, &loaded.app).await?),
        grafana_url,
        ..PlanOptions::default()
    };
    loaded.plan(&options)
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

/// The pipeline's end for a command that works on one app: validated
/// settings, the app and its needs, the plan, and Prometheus when configured.
pub struct Planned {
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

/// What a command asks the pipeline for: its arguments and onramp.yaml, and
/// how the plan is made.
pub struct Request<'a> {
    /// The app's arguments (`APP`, `-f`, needs, labels, Prometheus, cluster).
    pub selection: &'a AppSelection,
    /// onramp.yaml.
    pub config: &'a Config,
    /// The command that writes the artifacts (`codify`, `apply`): their
    /// stamps name it.
    pub writer: &'static str,
    /// Grafana's URL on the command line (or `GRAFANA_URL`): where the
    /// runbook links the dashboards.
    pub grafana: Option<&'a GrafanaArgs>,
    /// Ask Prometheus again until then while it cannot be reached (`verify
    /// --wait`: CI may start Prometheus just before).
    pub deadline: Option<Instant>,
    /// For a command that writes to the cluster (`apply`, `onboard`): the
    /// `onramp rbac` command a refused read points at, whose rules cover its
    /// reads and writes alike (without it: `rbac plan`).
    pub rbac: Option<RbacCommand>,
}

impl<'a> Request<'a> {
    /// A request with no Grafana link, no waiting, and `rbac plan` for a
    /// refused read.
    pub fn new(selection: &'a AppSelection, config: &'a Config, writer: &'static str) -> Self {
        Request {
            selection,
            config,
            writer,
            grafana: None,
            deadline: None,
            rbac: None,
        }
    }
}

impl Planned {
    /// Validates the selection, reads the app (from the cluster when there
    /// are no manifests), asks Prometheus, and plans; with a Prometheus, the
    /// signals map to the names the app exposes.
    pub async fn new(request: Request<'_>) -> Result<Planned> {
        let Request {
            selection, config, ..
        } = request;
        let mut settings = AppSettings::new(selection, config)?;
        if let (Some(_), Some(rbac)) = (&settings.cluster, request.rbac) {
            settings.cluster = Some(selection.cluster.settings(rbac));
        }
        settings.plan.subcommand = Some(request.writer);
        if let Some(url) = request
            .grafana
            .map(GrafanaArgs::link_base)
            .transpose()?
            .flatten()
        {
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
        let unasked = match &prometheus {
            Some(client) => {
                let (app, deadline) = (&loaded.app, request.deadline);
                ask_prometheus(client, app, deadline, discovered, &mut settings.plan).await?
            }
            None => None,
        };
        let mut planned = Planned {
            plan: loaded.plan(&settings.plan)?,
            settings,
            loaded,
            prometheus,
            live,
            unasked,
        };
        planned.add_live_notes();
        Ok(planned)
    }

    /// The cluster to write the plan to, and the plan's notes with what it
    /// says about them: the cluster the app was read from (whose say the
    /// notes already hold), or, for an app from `-f`, the one `cluster`
    /// names, connected with `rbac`'s permissions and asked now — so that
    /// the `release` label trap never goes unsaid.
    pub async fn cluster(
        &self,
        cluster: &ClusterArgs,
        rbac: RbacCommand,
    ) -> Result<(KubeClient, Vec<String>)> {
        let mut notes = self.plan.notes.clone();
        let client = match &self.live {
            Some(live) => live.client.clone(),
            None => {
                let client = KubeClient::connect(&cluster.settings(rbac)).await?;
                let live = Live::read(client, &self.loaded.app).await?;
                notes.extend(live.notes(&self.plan));
                live.client
            }
        };
        notes.dedup();
        Ok((client, notes))
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
        self.plan = self.loaded.plan(&self.settings.plan)?;
        self.add_live_notes();
        Ok(())
    }
}

/// Maps the plan's signals to what `client` says the app exposes. A
/// Prometheus found in the cluster (`discovered`), not asked for, that cannot
/// be asked is no error: the plan goes without it, and the returned note says
/// why (verify reports it failing).
async fn ask_prometheus(
    client: &PrometheusClient,
    app: &App,
    deadline: Option<Instant>,
    discovered: bool,
    options: &mut PlanOptions,
) -> Result<Option<String>> {
    match crate::needs::exposed::of_app_until(client, app, deadline, ASK_AGAIN_EVERY).await {
        Ok(found) => {
            options.available_metrics = Some(found);
            Ok(None)
        }
        Err(err) if discovered => Ok(Some(format!(
            "Prometheus ({}) could not be asked for the app's metric names, so signals use the needs' default names: {}",
            client.reached_via(),
            crate::error::report(&err)
        ))),
        Err(err) => Err(err.into()),
    }
}
