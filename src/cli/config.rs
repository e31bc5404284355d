//! onramp.yaml: the settings a team keeps next to its code, merged under the
//! command line (a flag wins over the file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Location, Result};

/// The default config file name, looked up in the working directory.
pub const DEFAULT_FILE: &str = "onramp.yaml";

/// Grafana settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrafanaSettings {
    /// Grafana's base URL.
    pub url: Option<String>,
    /// The folder dashboards go to.
    pub folder: Option<String>,
    /// The name of the Prometheus datasource to use.
    pub datasource: Option<String>,
}

/// Prometheus settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusSettings {
    /// Prometheus' base URL.
    pub url: Option<String>,
    /// For a plain Prometheus: the folder its config includes onramp's files
    /// from (relative to the config file).
    pub config_dir: Option<PathBuf>,
}

/// The contents of onramp.yaml.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// Where the runbook is published.
    pub runbook_base_url: Option<String>,
    /// Labels the Prometheus custom resource selects monitors and rules on.
    pub labels: BTreeMap<String, String>,
    /// The needs to use (default: all in the catalog).
    pub needs: Vec<String>,
    /// Folders with the team's own needs (relative to the config file).
    pub needs_dirs: Vec<PathBuf>,
    /// Signal mappings: `SIGNAL: metric` or `SIGNAL.LABEL: label`.
    pub signals: BTreeMap<String, String>,
    /// Grafana.
    pub grafana: GrafanaSettings,
    /// Prometheus.
    pub prometheus: PrometheusSettings,
}

/// A loaded config file and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The settings.
    pub file: ConfigFile,
    /// The file, when one was read.
    pub path: Option<PathBuf>,
    /// How every client checks certificates (`--ca-cert`,
    /// `--insecure-skip-tls-verify`); set from the command line, not the file.
    pub tls: crate::client::http::Tls,
}

/// Refuses a `needs_dirs` entry that is not a folder, naming the key and the
/// folder it was resolved to: "cannot read observability/needs" alone does
/// not say that the path came from the config file, nor relative to what.
fn check_needs_dirs(config: &Path, dirs: &[PathBuf]) -> Result<()> {
    match dirs.iter().find(|d| !d.is_dir()) {
        Some(dir) => Err(Error::Config {
            location: Location::file(config.display().to_string()),
            message: format!(
                "needs_dirs: {} is not a folder (entries are relative to the config file's folder); create it with your need files (see dashboards/README.md), or remove the entry",
                dir.display()
            ),
        }),
        None => Ok(()),
    }
}

impl Config {
    /// Loads `explicit`, else `./onramp.yaml` when it exists, else defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let default = PathBuf::from(DEFAULT_FILE);
                if !default.is_file() {
                    return Ok(Config::default());
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let mut file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_saphyr::from_str(&text).map_err(|err| {
                let name = path.display().to_string();
                Error::Config {
                    location: match err.location() {
                        Some(l) => Location::at(name, l.line() as usize, Some(l.column() as usize)),
                        None => Location::file(name),
                    },
                    message: crate::app::manifest::yaml_message(&err),
                }
            })?
        };
        // Paths in the file are the team's, written next to it: they are
        // relative to the file's folder, not to where onramp runs.
        let base = path.parent().unwrap_or(Path::new("."));
        let beside = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        file.needs_dirs = file.needs_dirs.iter().map(|d| beside(d)).collect();
        file.prometheus.config_dir = file.prometheus.config_dir.as_deref().map(beside);
        check_needs_dirs(&path, &file.needs_dirs)?;
        Ok(Config {
            file,
            path: Some(path),
            tls: Default::default(),
        })
    }

    /// How to name the config file in messages.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| DEFAULT_FILE.to_string())
    }
}
