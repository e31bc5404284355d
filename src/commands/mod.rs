//! The subcommands' entry points: each turns validated settings into calls to
//! the modules that own the work, and prints the result. No logic lives here
//! that another command or sink would need.

pub mod apply;
pub mod codify;
pub mod completions;
pub mod needs;
pub mod plan;
pub mod verify;

use std::collections::BTreeMap;

use crate::app::{self, App, manifest};
use crate::cli::config::Config;
use crate::cli::{AppSelection, AppSettings};
use crate::client::prometheus::PrometheusClient;
use crate::error::Result;
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
    let texts = manifest::read_sources(&settings.sources)?;
    let objects = manifest::parse_objects(&texts)?;
    let app = app::discover(&objects, &settings.app, settings.metrics.as_ref())?;
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
    pub async fn new(selection: &AppSelection, config: &Config) -> Result<Prepared> {
        let mut settings = AppSettings::new(selection, config)?;
        let prometheus = selection.prometheus.client(config)?;
        let loaded = load(&settings)?;
        if let Some(client) = &prometheus {
            settings.plan.available_metrics =
                Some(crate::check::verify::exposed_metrics(client, &loaded.app).await?);
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
