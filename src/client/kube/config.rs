//! Where the cluster's configuration comes from, in kubectl's order:
//! `--kubeconfig FILE`, then `KUBECONFIG`, then `~/.kube/config`, then the
//! pod's service account when onramp runs in a cluster. `--context NAME`
//! picks a context of the kubeconfig. Every credential read is registered
//! with `client::secret` before anything can print it.

use std::path::{Path, PathBuf};

use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use secrecy::ExposeSecret;

use super::{Error, Result};

/// Which cluster to talk to, and what grants the requests: from the
/// command line (`--kubeconfig`, `--context`) and the command that runs.
#[derive(Debug, Clone, Default)]
pub struct ClusterRef {
    /// `--kubeconfig FILE`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context NAME`.
    pub context: Option<String>,
    /// The command line that prints the RBAC rules the running command
    /// needs (`onramp rbac detect`), quoted in a 403's message.
    pub grant: String,
}

/// A usable configuration and where it came from.
pub(super) struct Found {
    pub config: kube::Config,
    /// `--kubeconfig FILE`, `KUBECONFIG=…`, a path, or `in-cluster`.
    pub origin: String,
    /// The context name, or `in-cluster`.
    pub context: String,
}

/// Finds the configuration; see the module documentation for the order.
pub(super) async fn load(settings: &ClusterRef) -> Result<Found> {
    let Some((kubeconfig, origin)) = locate(settings)? else {
        return in_cluster(settings);
    };
    let bad = |reason: String| Error::BadConfig {
        origin: origin.clone(),
        reason,
    };
    let names: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let context = match settings
        .context
        .clone()
        .or(kubeconfig.current_context.clone())
    {
        Some(name) if names.contains(&name.as_str()) => name,
        Some(name) => {
            return Err(bad(format!(
                "it has no context {name:?}; its contexts are: {} (pass one with --context NAME)",
                list_or_none(&names)
            )));
        }
        None => {
            return Err(bad(format!(
                "it sets no current-context; pass --context NAME, one of: {}",
                list_or_none(&names)
            )));
        }
    };
    for named in &kubeconfig.auth_infos {
        if let Some(auth) = &named.auth_info {
            remember(auth);
        }
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| bad(crate::client::http::innermost(&e)))?;
    remember(&config.auth_info);
    Ok(Found {
        config,
        origin,
        context,
    })
}

/// The kubeconfig to read, if any, and how to name it in messages.
fn locate(settings: &ClusterRef) -> Result<Option<(Kubeconfig, String)>> {
    if let Some(path) = &settings.kubeconfig {
        let origin = format!("--kubeconfig {}", path.display());
        return read(path, &origin).map(|k| Some((k, origin)));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let origin = format!("KUBECONFIG={}", value.to_string_lossy());
        return match Kubeconfig::from_env() {
            Ok(Some(k)) => Ok(Some((k, origin))),
            Ok(None) => Ok(None),
            Err(e) => Err(Error::BadConfig {
                origin,
                reason: crate::client::http::innermost(&e),
            }),
        };
    }
    match default_path() {
        Some(path) if path.is_file() => {
            let origin = path.display().to_string();
            read(&path, &origin).map(|k| Some((k, origin)))
        }
        _ => Ok(None),
    }
}

/// `~/.kube/config`, when the home folder is known.
fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| PathBuf::from(home).join(".kube").join("config"))
}

/// Reads one kubeconfig file.
fn read(path: &Path, origin: &str) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| Error::BadConfig {
        origin: origin.to_string(),
        reason: crate::client::http::innermost(&e),
    })
}

/// The pod's service account, or the message that says where onramp looked.
fn in_cluster(settings: &ClusterRef) -> Result<Found> {
    let home = match default_path() {
        Some(path) => format!("{} (not found)", path.display()),
        None => "~/.kube/config (HOME is not set)".to_string(),
    };
    let looked = format!(
        "--kubeconfig (not given), KUBECONFIG (not set), {home}, the pod's service account (KUBERNETES_SERVICE_HOST not set)"
    );
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none_or(|h| h.is_empty()) {
        return Err(Error::NoConfig { looked });
    }
    if let Some(name) = &settings.context {
        return Err(Error::BadConfig {
            origin: "in-cluster".to_string(),
            reason: format!(
                "--context {name:?} needs a kubeconfig, and none was found ({looked}); pass --kubeconfig FILE"
            ),
        });
    }
    let config = kube::Config::incluster().map_err(|e| Error::BadConfig {
        origin: "in-cluster".to_string(),
        reason: crate::client::http::innermost(&e),
    })?;
    remember(&config.auth_info);
    Ok(Found {
        config,
        origin: "in-cluster".to_string(),
        context: "in-cluster".to_string(),
    })
}

/// Registers every credential of a user entry for redaction, including the
/// content of a token file (a service account's token).
fn remember(auth: &AuthInfo) {
    for secret in [&auth.token, &auth.password].into_iter().flatten() {
        crate::client::secret::remember(secret.expose_secret());
    }
    if let Some(file) = &auth.token_file
        && let Ok(token) = std::fs::read_to_string(file)
    {
        crate::client::secret::remember(token.trim());
    }
}

/// `a, b` or `(none)`.
fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}
