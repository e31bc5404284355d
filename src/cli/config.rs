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
    /// For a plain Prometheus: the folder its config includes onramp's files from.
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
        let base = path.parent().unwrap_or(Path::new("."));
        file.needs_dirs = file
            .needs_dirs
            .iter()
            .map(|d| {
                if d.is_absolute() {
                    d.clone()
                } else {
                    base.join(d)
                }
            })
            .collect();
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
