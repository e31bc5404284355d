//! `onramp rbac [COMMAND]`: prints the least-privilege ClusterRole each
//! command that talks to the cluster needs, built from the same permission
//! list the command's requests declare.

use crate::cli::{RbacArgs, RbacCommand};
use crate::client::kube::Access;
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};

/// Prometheus through the API server's service proxy (GET queries, POST
/// long ones).
const PROXY: [Access; 2] = [
    crate::client::kube::PROXY_GET,
    crate::client::kube::PROXY_CREATE,
];

/// The permissions a command's requests use.
fn access(command: RbacCommand) -> Vec<Access> {
    match command {
        RbacCommand::Detect => crate::check::stack::ACCESS.to_vec(),
        // The app's objects, what detect reads to find Prometheus, and
        // Prometheus through the service proxy.
        RbacCommand::Troubleshoot => [
            &crate::check::troubleshoot::cluster::ACCESS[..],
            &crate::check::stack::ACCESS,
            &PROXY,
        ]
        .concat(),
        // The app, what detect reads (the labels monitors need), and
        // Prometheus through the service proxy.
        RbacCommand::Plan => [
            &crate::app::cluster::ACCESS[..],
            &crate::check::stack::ACCESS,
            &PROXY,
        ]
        .concat(),
        // Apply reads the app as plan does, then writes its objects.
        RbacCommand::Apply => {
            [access(RbacCommand::Plan), crate::sink::kubernetes::access()].concat()
        }
    }
}

/// Prints one ClusterRole per command (`---` between them); for `apply -n
/// NAMESPACE`, its reads as a ClusterRole and its writes as a Role in that
/// namespace.
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
            .filter(|_| command == RbacCommand::Apply);
        let Some(namespace) = namespace else {
            let role = crate::client::kube::cluster_role(&name, &access(command));
            documents.push(format!(
                "# What `onramp {what}` needs, and nothing more. Bind it to the identity onramp runs as:\n#   kubectl create clusterrolebinding {name} --clusterrole={name} --user=NAME\n#   (or --serviceaccount=NAMESPACE:NAME)\n{}",
                to_yaml(&name, &role)?
            ));
            continue;
        };
        crate::app::validate::namespace(namespace)
            .map_err(|m| Error::Usage(format!("-n {namespace:?}: {m}")))?;
        let reads = crate::client::kube::cluster_role(&name, &access(RbacCommand::Plan));
        let writes =
            crate::client::kube::role(&name, namespace, &crate::sink::kubernetes::access());
        documents.push(format!(
            "# What `onramp {what}` reads, in every namespace. Bind it to the identity onramp runs as:\n#   kubectl create clusterrolebinding {name} --clusterrole={name} --user=NAME\n#   (or --serviceaccount=NAMESPACE:NAME)\n{}",
            to_yaml(&name, &reads)?
        ));
        documents.push(format!(
            "# What `onramp {what}` writes, in namespace {namespace} only:\n#   kubectl create rolebinding {name} -n {namespace} --role={name} --user=NAME\n{}",
            to_yaml(&name, &writes)?
        ));
    }
    print(&documents.join("---\n"))?;
    Ok(Outcome::Success)
}

/// A role as YAML, built from its typed value.
fn to_yaml(name: &str, role: &impl serde::Serialize) -> Result<String> {
    serde_saphyr::to_string(role).map_err(|e| Error::Render {
        artifact: name.to_string(),
        message: format!("cannot serialise the role as YAML: {e}"),
    })
}
