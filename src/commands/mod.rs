//! The subcommands' entry points: each turns validated settings into calls to
//! the modules that own the work, and prints the result. No logic lives here
//! that another command or sink would need.

pub mod apply;
pub mod codify;
pub mod completions;
pub mod detect;
pub mod needs;
pub mod plan;
pub mod rbac;
pub mod troubleshoot;
pub mod verify;

use std::collections::BTreeMap;

use crate::app::{self, App};
use crate::cli::config::Config;
use crate::cli::{AppSelection, AppSettings, GrafanaArgs};
use crate::client::prometheus::PrometheusClient;
use crate::error::{Error, Result};
use crate::needs::{Catalog, Need};
use crate::plan::Plan;

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

/// Reads the manifests, discovers the app, loads the catalog and checks the
/// need selection and signal mappings against it.
pub fn load(settings: &AppSettings) -> Result<Loaded> {
    let catalog = Catalog::load(&settings.needs_dirs)?;
    let need_ids = if settings.need_ids.is_empty() {
        catalog.ids()
    } else {
        for id in &settings.need_ids {
            catalog.get(id)?;
        }
        settings.need_ids.clone()
    };
    let app = app::from_sources(&settings.sources, &settings.app, settings.metrics.as_ref())?;
    let loaded = Loaded {
        app,
        catalog,
        need_ids,
    };
    settings.plan.overrides.check_against(&loaded.needs())?;
    Ok(loaded)
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
    /// The Prometheus client, when a URL is configured.
    pub prometheus: Option<PrometheusClient>,
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
        let mut settings = AppSettings::new(selection, config)?;
        settings.plan.subcommand = Some(subcommand);
        if let Some(url) = grafana.map(GrafanaArgs::link_base).transpose()?.flatten() {
            settings.plan.grafana_url = Some(url);
        }
        let prometheus = selection.prometheus.client(config)?;
        let loaded = load(&settings)?;
        if let Some(client) = &prometheus {
            let ask = || crate::check::verify::exposed_metrics(client, &loaded.app);
            let interval = crate::check::verify::Options::default().interval;
            let found = crate::check::verify::until_reachable(deadline, interval, ask).await?;
            settings.plan.available_metrics = Some(found);
        }
        let plan = crate::plan::build(&loaded.app, &loaded.needs(), &settings.plan)?;
        Ok(Prepared {
            settings,
            loaded,
            plan,
            prometheus,
        })
    }

    /// Plans again with these dashboards in place of the rendered ones (by uid).
    pub fn replan_with_dashboards(&mut self, dashboards: BTreeMap<String, String>) -> Result<()> {
        self.settings.plan.dashboard_overrides = dashboards;
        self.plan =
            crate::plan::build(&self.loaded.app, &self.loaded.needs(), &self.settings.plan)?;
        Ok(())
    }
}
