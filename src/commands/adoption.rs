//! `onramp adoption [-A | -n NS]... [--team TEAM] [--next]`: reads the fleet
//! and the cluster's monitoring stack, asks Prometheus (and, with
//! `--grafana-url`, Grafana) a fixed number of questions, and prints where
//! every app stands per team (text or JSON), or with `--next` the team to
//! take next. Exit 0 with every level known; 3 when Prometheus or Grafana
//! could not be reached and 2 when no Prometheus is configured or found
//! (the report is printed first, the levels that need them unknown); 2 for
//! a namespace that does not exist or an unknown team.
//! `--dashboard` instead writes (`--out DIR`) and pushes (`--grafana-url`)
//! the platform-adoption dashboard, through the same plan, files sink and
//! Grafana push as an app's (`crate::plan::platform`).

use crate::check::adoption::grafana::GrafanaState;
use crate::check::adoption::{self, DEFAULT_TEAM_LABEL, Evidence, PrometheusState};
use crate::check::result::{NotChecked, output};
use crate::cli::config::Config;
use crate::cli::{AdoptionArgs, AdoptionFormat, RbacCommand};
use crate::client::kube::KubeClient;
use crate::client::prometheus::PrometheusClient;
use crate::cluster::fleet::{self, MissingNamespace, Reach};
use crate::commands::{Outcome, print, print_err, print_json};
use crate::error::{EXIT_BAD_INPUT, Error, Result};

/// The settings that name the Prometheus to ask.
const PROMETHEUS_SETTING: &str =
    "--prometheus-url, PROMETHEUS_URL or prometheus.url in onramp.yaml";
/// The settings that name the Grafana to ask.
const GRAFANA_SETTING: &str = "--grafana-url, GRAFANA_URL or grafana.url in onramp.yaml";

/// Runs `adoption`.
pub async fn run(args: &AdoptionArgs, config: &Config) -> Result<Outcome> {
    if args.dashboard {
        return dashboard(args, config).await;
    }
    formats(args)?;
    let reach = reach(args)?;
    let team_label = config
        .file
        .adoption
        .team_label
        .as_deref()
        .unwrap_or(DEFAULT_TEAM_LABEL);
    let given = args.prometheus.client(config)?;
    let grafana = args.grafana.client(config)?;
    let client = KubeClient::connect(&args.cluster.settings(RbacCommand::Adoption)).await?;
    let stack = crate::cluster::stack::detect(&client).await?;
    let fleet = match fleet::read(&client, &reach, stack.operator.is_some()).await? {
        Ok(fleet) => fleet,
        Err(MissingNamespace(namespace)) => {
            return Err(Error::Usage(format!(
                "-n {namespace}: the cluster has no namespace {namespace} (context {}); `kubectl get namespaces` lists them",
                client.context()
            )));
        }
    };
    let prometheus = match given {
        Some(given) => Some(given),
        None => crate::pipeline::prometheus::in_cluster(&client, &stack, config)?,
    };
    let catalog = crate::needs::Catalog::load(&config.file.needs_dirs)?;
    let ((state, status), (grafana, grafana_status)) = tokio::join!(
        ask(prometheus.as_ref(), &catalog),
        ask_grafana(grafana.as_ref(), &catalog)
    );
    let evidence = Evidence {
        fleet: &fleet,
        stack: &stack,
        prometheus: state,
        grafana,
        team_label,
        catalog: &catalog,
    };
    let mut report = adoption::assess(&evidence);
    if let Some(team) = &args.team {
        report.only_team(team).map_err(|teams| {
            Error::Usage(format!(
                "--team {team:?}: no app has that team (teams come from the label {team_label}, else the namespace); the teams are: {}",
                if teams.is_empty() { "none".to_string() } else { teams.join(", ") }
            ))
        })?;
    }
    print_report(args, &report, &catalog)?;
    for gap in &report.not_checked {
        let needs = if gap.what == "Grafana" {
            "the levels that need Grafana's dashboards are reported as unknown"
        } else {
            "the levels that need Prometheus are reported as unknown"
        };
        print_err(&format!("onramp adoption: {}; {needs}\n", gap.why))?;
    }
    match status.or(grafana_status) {
        Some(status) => Ok(Outcome::Partial(status)),
        None => Ok(Outcome::Success),
    }
}

/// Refuses `--next` and `--needs` with a format only the report has.
fn formats(args: &AdoptionArgs) -> Result<()> {
    match args.output {
        AdoptionFormat::Markdown | AdoptionFormat::Openmetrics if args.next || args.needs => {
            Err(Error::Usage(
                "--next and --needs print text or json (-o text|json); -o markdown and -o openmetrics are for the report".to_string(),
            ))
        }
        _ => Ok(()),
    }
}

/// Prints the report, the next team or the needs backlog in the chosen
/// format.
fn print_report(
    args: &AdoptionArgs,
    report: &adoption::AdoptionReport,
    catalog: &crate::needs::Catalog,
) -> Result<()> {
    use AdoptionFormat::{Json, Markdown, Openmetrics, Text};
    if args.needs || args.next {
        let backlog = args.needs.then(|| report.backlog(catalog));
        return match (args.output, backlog) {
            (Text, Some(backlog)) => print(&output::backlog_text(&backlog)),
            (Json, Some(backlog)) => print_json("needs backlog", &backlog),
            (Text, None) => print(&output::next_team_text(report.next_team().as_ref())),
            (Json, None) => print_json("next team", &report.next_team()),
            (Markdown | Openmetrics, _) => formats(args),
        };
    }
    match args.output {
        Text => print(&output::adoption_text(report)),
        Json => print_json("adoption report", report),
        Markdown => print(&output::adoption_markdown(report)),
        Openmetrics => print(&output::adoption_openmetrics(report)),
    }
}

/// Where the fleet is read: every namespace, or those `-n` names (each a
/// valid namespace name).
fn reach(args: &AdoptionArgs) -> Result<Reach> {
    if args.all_namespaces || args.namespace.is_empty() {
        return Ok(Reach::All);
    }
    let mut names = Vec::new();
    for namespace in &args.namespace {
        crate::app::validate::namespace(namespace)
            .map_err(|m| Error::Usage(format!("-n {namespace:?}: {m}")))?;
        if !names.contains(namespace) {
            names.push(namespace.clone());
        }
    }
    Ok(Reach::Namespaces(names))
}

/// Asks Prometheus once for the fleet; without one, or when it cannot be
/// asked, the gap and the exit status it leads to.
async fn ask(
    prometheus: Option<&PrometheusClient>,
    catalog: &crate::needs::Catalog,
) -> (std::result::Result<PrometheusState, NotChecked>, Option<u8>) {
    let Some(client) = prometheus else {
        let gap = NotChecked::new(
            "Prometheus",
            "no Prometheus configured and none found in the cluster (`onramp detect` shows what it sees)",
        )
        .allowed_by(PROMETHEUS_SETTING);
        return (Err(gap), Some(EXIT_BAD_INPUT));
    };
    match PrometheusState::ask(client, catalog).await {
        Ok(state) => (Ok(state), None),
        Err(err) => {
            let (gap, status) = unasked("Prometheus", &client.reached_via(), err.into());
            (Err(gap.allowed_by(PROMETHEUS_SETTING)), Some(status))
        }
    }
}

/// What a service that could not be asked leaves unchecked (its address
/// and the error, redacted), and the exit status that error leads to.
fn unasked(service: &str, via: &str, err: Error) -> (NotChecked, u8) {
    let why = format!(
        "{service} ({via}) could not be asked: {}",
        crate::error::report(&err)
    );
    (NotChecked::new(service, why), err.exit_status())
}

/// `--dashboard`: the platform-adoption dashboard, its sidecar ConfigMap
/// and a kustomization written by the files sink as `codify` writes an
/// app's (`--out`, with `--from-live` the dashboard as Grafana has it), and
/// the dashboard pushed as `apply` pushes an app's (`--grafana-url`).
async fn dashboard(args: &AdoptionArgs, config: &Config) -> Result<Outcome> {
    let grafana = if args.from_live {
        Some(crate::commands::codify::live_grafana(
            &args.grafana,
            config,
        )?)
    } else {
        args.grafana.client(config)?
    };
    if args.out.is_none() && grafana.is_none() {
        return Err(Error::Usage(
            "--dashboard needs somewhere to put the dashboard: --out DIR writes its files, --grafana-url (or GRAFANA_URL) pushes it".to_string(),
        ));
    }
    if let Some(out) = &args.out {
        crate::commands::codify::check_out_is_folder(out)?;
    }
    let catalog = crate::needs::Catalog::load(&config.file.needs_dirs)?;
    let need = &catalog.get(PLATFORM_NEED)?.need;
    let namespace = &args.dashboard_namespace;
    crate::app::validate::namespace(namespace)
        .map_err(|m| Error::Usage(format!("--dashboard-namespace {namespace:?}: {m}")))?;
    let mut command = "onramp adoption --dashboard".to_string();
    if namespace != crate::plan::platform::DEFAULT_NAMESPACE {
        command.push_str(&format!(" --dashboard-namespace {namespace}"));
    }
    let hint = |url: &str| format!("{command} --from-live --grafana-url {url} --out DIR");
    let stamp_command = format!("{command} --out DIR");
    let mut options = crate::cli::platform_plan_options(config)?;
    let build = |options: &crate::plan::PlanOptions| {
        crate::plan::platform::build(need, namespace, &stamp_command, options)
    };
    let mut plan = build(&options)?;
    let mut outcome = Outcome::Success;
    if let Some(out) = &args.out {
        if let (true, Some(client)) = (args.from_live, &grafana) {
            options.dashboard_overrides = crate::commands::codify::pull_live(client, &plan).await?;
            plan = build(&options)?;
            plan.notes.extend(crate::commands::codify::v2_note(&plan));
        }
        let report = crate::sink::files::write(&plan, out, args.force)?;
        let what = format!("the {PLATFORM_NEED} dashboard");
        let mut text = crate::sink::summary::codified(&what, namespace, &report);
        for note in &plan.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        print(&text)?;
    }
    if let (false, Some(client)) = (args.from_live, &grafana) {
        let edits = crate::commands::apply::EditPolicy {
            force: args.force,
            backup_dir: &args.backup_dir,
        };
        let url = crate::util::shell::shell_word(client.config().url().as_str());
        outcome =
            crate::commands::apply::push_plan(client, &plan, hint(&url), &edits, config).await?;
    }
    Ok(outcome)
}

/// The built-in platform need whose dashboard `--dashboard` writes.
const PLATFORM_NEED: &str = "platform-adoption";

/// Asks Grafana once for onramp's dashboards, when one is named; when it
/// cannot be asked, the gap and the exit status it leads to.
async fn ask_grafana(
    grafana: Option<&crate::client::grafana::Client>,
    catalog: &crate::needs::Catalog,
) -> (
    Option<std::result::Result<GrafanaState, NotChecked>>,
    Option<u8>,
) {
    let Some(client) = grafana else {
        return (None, None);
    };
    match GrafanaState::ask(client, &catalog.ids()).await {
        Ok(state) => (Some(Ok(state)), None),
        Err(err) => {
            let url = client.config().url().to_string();
            let (gap, status) = unasked("Grafana", &url, err.into());
            (Some(Err(gap.allowed_by(GRAFANA_SETTING))), Some(status))
        }
    }
}
