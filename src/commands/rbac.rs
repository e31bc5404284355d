//! `onramp rbac [COMMAND]`: prints the least-privilege ClusterRole each
//! command that talks to the cluster needs, built from the registry groups
//! ([`crate::client::kube::access`]) the command declares here: the same
//! entries its requests are sent with.

use crate::cli::{RbacArgs, RbacCommand};
use crate::client::kube::Access;
use crate::client::kube::access::{
    APP, APPLY, FLEET, FLEET_IN_NAMESPACE, GET_NAMESPACE, SERVICE_PROXY, STACK, WORKLOAD,
};
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};

/// The registry groups a command reads with, in any namespace.
pub fn reads(command: RbacCommand) -> Vec<Access> {
    let groups: &[&[Access]] = match command {
        RbacCommand::Detect => &[STACK],
        // The app's objects, what detect reads to find Prometheus, and
        // Prometheus through the service proxy.
        RbacCommand::Troubleshoot => &[WORKLOAD, STACK, SERVICE_PROXY],
        // The app, what detect reads (the labels monitors need), and
        // Prometheus through the service proxy. Apply reads the app as plan
        // does; onboard's steps are apply (Grafana is not the cluster),
        // codify (the disk) and verify, which reads as plan does.
        RbacCommand::Plan | RbacCommand::Apply | RbacCommand::Onboard => {
            &[APP, STACK, SERVICE_PROXY]
        }
        // What detect reads (the Prometheus' selectors), Prometheus through
        // the service proxy, and the fleet: across namespaces (-A), or in
        // the namespaces -n names (each checked to exist).
        RbacCommand::Adoption => &[
            STACK,
            SERVICE_PROXY,
            FLEET,
            &[GET_NAMESPACE],
            FLEET_IN_NAMESPACE,
        ],
    };
    groups.concat()
}

/// With `rbac COMMAND -n NAMESPACE`: what is granted in that namespace only
/// (a Role): apply's and onboard's writes, adoption's reads of the apps.
pub fn in_namespace(command: RbacCommand) -> Vec<Access> {
    match command {
        RbacCommand::Adoption => FLEET_IN_NAMESPACE.to_vec(),
        other => writes(other),
    }
}

/// With `rbac COMMAND -n NAMESPACE`: what is granted in every namespace (a
/// ClusterRole) beside [`in_namespace`].
fn cluster_wide(command: RbacCommand) -> Vec<Access> {
    match command {
        RbacCommand::Adoption => [STACK, SERVICE_PROXY, &[GET_NAMESPACE]].concat(),
        other => reads(other),
    }
}

/// The registry groups a command writes with, in the app's namespace.
pub fn writes(command: RbacCommand) -> Vec<Access> {
    match command {
        RbacCommand::Detect
        | RbacCommand::Troubleshoot
        | RbacCommand::Plan
        | RbacCommand::Adoption => Vec::new(),
        // Onboard's step 1 is apply's, with the dashboards' ConfigMaps when
        // no Grafana is given.
        RbacCommand::Apply | RbacCommand::Onboard => APPLY.to_vec(),
    }
}

/// Prints one ClusterRole per command (`---` between them); for `apply -n
/// NAMESPACE` and `onboard -n NAMESPACE`, the reads as a ClusterRole and
/// the writes as a Role in that namespace; for `adoption -n NAMESPACE`, what
/// it reads cluster-wide as a ClusterRole and its reads of the namespace's
/// apps as a Role there.
pub fn run(args: &RbacArgs) -> Result<Outcome> {
    let commands = match args.command {
        Some(command) => vec![command],
        None => clap::ValueEnum::value_variants().to_vec(),
    };
    let mut documents = Vec::new();
    for command in commands {
        let name = format!("onramp-{}", command.name());
        let what = command.name();
        let namespace = args
            .namespace
            .as_deref()
            .filter(|_| !in_namespace(command).is_empty());
        let Some(namespace) = namespace else {
            let access = [reads(command), writes(command)].concat();
            let role = crate::client::kube::cluster_role(&name, &access);
            documents.push(format!(
                "# What `onramp {what}` needs, and nothing more. Bind it to the identity onramp runs as:\n#   kubectl create clusterrolebinding {name} --clusterrole={name} --user=NAME\n#   (or --serviceaccount=NAMESPACE:NAME)\n{}{}",
                not_narrowed(args.namespace.as_deref(), what),
                to_yaml(&name, &role)?
            ));
            continue;
        };
        crate::app::validate::namespace(namespace)
            .map_err(|m| Error::Usage(format!("-n {namespace:?}: {m}")))?;
        let reads = crate::client::kube::cluster_role(&name, &cluster_wide(command));
        let local = crate::client::kube::role(&name, namespace, &in_namespace(command));
        let does = if writes(command).is_empty() {
            "reads"
        } else {
            "writes"
        };
        documents.push(format!(
            "# What `onramp {what}` reads, in every namespace. Bind it to the identity onramp runs as:\n#   kubectl create clusterrolebinding {name} --clusterrole={name} --user=NAME\n#   (or --serviceaccount=NAMESPACE:NAME)\n{}",
            to_yaml(&name, &reads)?
        ));
        documents.push(format!(
            "# What `onramp {what}` {does}, in namespace {namespace} only:\n#   kubectl create rolebinding {name} -n {namespace} --role={name} --user=NAME\n{}",
            to_yaml(&name, &local)?
        ));
    }
    print(&documents.join("---\n"))?;
    Ok(Outcome::Success)
}

/// With `-n` for a command that writes nothing, the line saying why its
/// role stays a ClusterRole (it reads the monitoring stack, and Prometheus
/// through the proxy, in other namespaces than the app's); never ignored
/// silently.
fn not_narrowed(namespace: Option<&str>, what: &str) -> String {
    namespace.map_or_else(String::new, |namespace| {
        format!(
            "# -n {namespace} narrows only what apply and onboard write: `onramp {what}` writes nothing, and it reads the monitoring stack and Prometheus outside {namespace}, so its role stays a ClusterRole.\n"
        )
    })
}

/// A role as YAML, built from its typed value.
fn to_yaml(name: &str, role: &impl serde::Serialize) -> Result<String> {
    serde_saphyr::to_string(role).map_err(|e| Error::Render {
        artifact: name.to_string(),
        message: format!("cannot serialise the role as YAML: {e}"),
    })
}
