//! onramp.yaml: the settings a team keeps next to its code, merged under the
//! command line (a flag wins over the file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// The default config file name, looked up in the working directory.
pub const DEFAULT_FILE: &str = "onramp.yaml";

/// The `grafana:` section of onramp.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrafanaSection {
    /// Grafana's base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The folder dashboards go to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// The name of the Prometheus datasource to use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<String>,
    /// The label Grafana's dashboard sidecar loads ConfigMaps by
    /// (`KEY=VALUE`, from `onramp detect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sidecar_label: Option<String>,
    /// Grafana's Service in the cluster (`NAMESPACE/NAME:PORT`). Nothing
    /// reads it and `detect --write` no longer writes it (dashboards reach a
    /// cluster's Grafana through its sidecar, pushes through `--grafana-url`);
    /// kept so that files an older `detect --write` wrote still load, and
    /// kept as written when onramp.yaml is rewritten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The `prometheus:` section of onramp.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrometheusSection {
    /// Prometheus' base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a plain Prometheus: the folder its config includes onramp's files
    /// from (relative to the config file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_dir: Option<PathBuf>,
    /// Prometheus' Service in the cluster (`NAMESPACE/NAME:PORT`, from `onramp detect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The `adoption:` section of onramp.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdoptionSection {
    /// The workload label that names an app's team (default
    /// `app.kubernetes.io/part-of`; the namespace when a workload has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_label: Option<String>,
}

/// The contents of onramp.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// Where the runbook is published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook_base_url: Option<String>,
    /// Labels the Prometheus custom resource selects monitors and rules on.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The needs to use (default: all in the catalog).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// Folders with the team's own needs (relative to the config file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs_dirs: Vec<PathBuf>,
    /// Signal mappings: `SIGNAL: metric` or `SIGNAL.LABEL: label`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub signals: BTreeMap<String, String>,
    /// Grafana.
    #[serde(skip_serializing_if = "is_default")]
    pub grafana: GrafanaSection,
    /// Prometheus.
    #[serde(skip_serializing_if = "is_default")]
    pub prometheus: PrometheusSection,
    /// `onramp adoption`.
    #[serde(skip_serializing_if = "is_default")]
    pub adoption: AdoptionSection,
    /// Service level objectives turned on for the app, by id, with what
    /// they change (`availability: {target: 99.9}`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub objectives: BTreeMap<String, crate::needs::objective::ObjectiveSettings>,
}

/// True for a value equal to its default (a section left out of the file).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
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
        let mut file = parse(&text, &path)?;
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

/// Parses onramp.yaml's text as written (paths not yet resolved).
fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_saphyr::from_str(text).map_err(|err| {
        let name = path.display().to_string();
        Error::Config {
            location: match err.location() {
                Some(l) => Location::at(name, l.line() as usize, Some(l.column() as usize)),
                None => Location::file(name),
            },
            message: crate::util::yaml::yaml_message(&err),
        }
    })
}

/// What `onramp detect` found, as onramp.yaml stores it.
#[derive(Debug, Clone, Default)]
pub struct Detected {
    /// The labels monitors and rules need (`labels:`).
    pub labels: BTreeMap<String, String>,
    /// The dashboard sidecar's `KEY=VALUE` (`grafana.sidecar_label`).
    pub sidecar_label: Option<String>,
    /// `NAMESPACE/NAME:PORT` (`prometheus.service`).
    pub prometheus_service: Option<String>,
}

impl Detected {
    /// True when nothing was found worth saving.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.sidecar_label.is_none() && self.prometheus_service.is_none()
    }
}

/// The comment on top of an onramp.yaml that `detect --write` creates.
pub const WRITTEN_HEADER: &str = "# onramp settings (see README). `onramp detect --write` fills labels,\n# grafana.sidecar_label and prometheus.service from the cluster.\n";

/// onramp.yaml with what `detect` found merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The file's new text.
    pub text: String,
    /// When the file exists and the new text drops or changes any of its
    /// lines (a value a person set, a comment), not just moves them: a
    /// unified diff of the change.
    pub loses: Option<String>,
    /// True when the file already says all of it.
    pub unchanged: bool,
}

/// Merges `detected` into onramp.yaml's current text (`None`: no file yet).
/// Settings `detected` does not cover are kept; so is the comment block on
/// top. Any other line that would change or go is reported in
/// [`Update::loses`], so that the caller refuses unless told to force.
pub fn merge_detected(existing: Option<&str>, path: &Path, detected: &Detected) -> Result<Update> {
    let before = parse(existing.unwrap_or_default(), path)?;
    let mut file = before.clone();
    file.labels.extend(detected.labels.clone());
    let set = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    set(&mut file.grafana.sidecar_label, &detected.sidecar_label);
    set(&mut file.prometheus.service, &detected.prometheus_service);
    if let Some(text) = existing
        && file == before
    {
        // Already says it all: the person's layout and comments stay as they are.
        return Ok(Update {
            text: text.to_string(),
            loses: None,
            unchanged: true,
        });
    }
    let yaml = serde_saphyr::to_string(&file).map_err(|e| Error::Render {
        artifact: path.display().to_string(),
        message: format!("cannot serialise the settings as YAML: {e}"),
    })?;
    let header: String = match existing {
        Some(text) => text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect(),
        None => WRITTEN_HEADER.to_string(),
    };
    let text = format!("{header}{yaml}");
    let old = existing.unwrap_or_default();
    let loses = existing.and_then(|old| lost_lines(old, &text, path));
    Ok(Update {
        unchanged: text == old,
        text,
        loses,
    })
}

/// A unified diff from `old` to `new` when a non-blank line of `old` goes or
/// changes. A line that only moves (serialisation orders the keys) loses
/// nothing; one that goes or changes (a value, a comment) does.
fn lost_lines(old: &str, new: &str, path: &Path) -> Option<String> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut added: Vec<&str> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Insert)
        .map(|c| c.value())
        .collect();
    let drops = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete && !c.value().trim().is_empty())
        .any(|c| match added.iter().position(|a| *a == c.value()) {
            Some(i) => {
                added.swap_remove(i);
                false
            }
            None => true,
        });
    drops.then(|| {
        diff.unified_diff()
            .header(&path.display().to_string(), "onramp detect --write")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found() -> Detected {
        Detected {
            labels: BTreeMap::from([("release".to_string(), "kps".to_string())]),
            sidecar_label: Some("grafana_dashboard=1".to_string()),
            prometheus_service: Some("monitoring/prometheus-operated:9090".to_string()),
        }
    }

    #[test]
    fn a_new_file_gets_the_header_and_what_was_found() {
        let update = merge_detected(None, Path::new("onramp.yaml"), &found()).expect("merges");
        assert_eq!(
            update.text,
            format!(
                "{WRITTEN_HEADER}labels:\n  release: kps\ngrafana:\n  sidecar_label: grafana_dashboard=1\nprometheus:\n  service: monitoring/prometheus-operated:9090\n"
            )
        );
        assert_eq!(update.loses, None);
        assert!(!update.unchanged);
    }

    #[test]
    fn adding_to_a_person_s_file_keeps_their_settings_and_only_reorders() {
        let mine = "# ours\nneeds:\n- latency\nrunbook_base_url: https://runbooks.example.com/\n";
        let update =
            merge_detected(Some(mine), Path::new("onramp.yaml"), &found()).expect("merges");
        assert_eq!(update.loses, None, "{}", update.text);
        assert!(
            update
                .text
                .starts_with("# ours\nrunbook_base_url: https://runbooks.example.com/\nlabels:\n")
        );
        assert!(update.text.contains("needs:\n- latency\n"));
    }

    #[test]
    fn a_changed_value_or_a_comment_inside_the_file_would_be_lost_and_is_reported() {
        let other = "labels:\n  release: prod\n";
        let update =
            merge_detected(Some(other), Path::new("onramp.yaml"), &found()).expect("merges");
        let diff = update.loses.expect("a changed value is reported");
        assert!(
            diff.contains("-  release: prod\n+  release: kps\n"),
            "{diff}"
        );

        let commented = "labels:\n  # the helm release\n  release: kps\n";
        let update =
            merge_detected(Some(commented), Path::new("onramp.yaml"), &found()).expect("merges");
        assert!(
            update
                .loses
                .expect("a dropped comment is reported")
                .contains("-  # the helm release\n")
        );
    }

    #[test]
    fn a_file_that_already_says_it_all_is_left_as_it_is() {
        let mine = "# keep me\nprometheus: {service: \"monitoring/prometheus-operated:9090\"}\nlabels: {release: kps}\ngrafana:\n  # the sidecar\n  sidecar_label: grafana_dashboard=1\n";
        let update =
            merge_detected(Some(mine), Path::new("onramp.yaml"), &found()).expect("merges");
        assert!(update.unchanged);
        assert_eq!(update.text, mine);
    }
}
