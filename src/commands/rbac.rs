//! `onramp rbac [COMMAND]`: prints the least-privilege ClusterRole each
//! command that talks to the cluster needs, built from the same permission
//! list the command's requests declare.

use crate::cli::{RbacArgs, RbacCommand};
use crate::client::kube::Access;
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};

/// The permissions a command's requests use.
fn access(command: RbacCommand) -> &'static [Access] {
    match command {
        RbacCommand::Detect => &crate::check::stack::ACCESS,
        RbacCommand::Troubleshoot => &crate::check::troubleshoot::cluster::ACCESS,
    }
}

/// Prints one ClusterRole per command (`---` between them).
pub fn run(args: &RbacArgs) -> Result<Outcome> {
    let commands = match args.command {
        Some(command) => vec![command],
        None => clap::ValueEnum::value_variants().to_vec(),
    };
    let mut documents = Vec::new();
    for command in commands {
        let name = format!("onramp-{}", command.name());
        let role = crate::client::kube::cluster_role(&name, access(command));
        let yaml = serde_saphyr::to_string(&role).map_err(|e| Error::Render {
            artifact: name.clone(),
            message: format!("cannot serialise the ClusterRole as YAML: {e}"),
        })?;
        let what = command.name();
        documents.push(format!(
            "# What `onramp {what}` needs, and nothing more. Bind it to the identity onramp runs as:\n#   kubectl create clusterrolebinding {name} --clusterrole={name} --user=NAME\n#   (or --serviceaccount=NAMESPACE:NAME)\n{yaml}"
        ));
    }
    print(&documents.join("---\n"))?;
    Ok(Outcome::Success)
}
