//! `onramp needs new APP --story … [--signal NAME=METRIC[.LABEL]…]`: from a
//! developer's story to a checked need file. The story, the proposals and
//! the draft are `needs::story` and `needs::draft`; this reads the app and
//! Prometheus through the pipeline, writes the file and shows the plan. On a
//! terminal it asks for the story and lets the person pick the signals
//! (`commands::prompt`) when the flags do not give them.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::cli::config::Config;
use crate::cli::{AppSelection, NeedSelection, NeedsNewArgs, RenderArgs};
use crate::client::prometheus::PrometheusClient;
use crate::commands::prompt::{self, Answer};
use crate::commands::{Outcome, print};
use crate::error::{Error, Result};
use crate::needs::draft::{self, AlertCandidate, Chosen, SignalSpec, Threshold};
use crate::needs::resolve::{ResolvedNeed, Scope, SignalOverrides};
use crate::needs::story::{self, Exposure, Framework, Proposal, Story};
use crate::pipeline::{Planned, Request};

/// Runs `needs new` on a runtime of its own (a few requests at most).
/// `needs_dirs` are `--needs-dir`: the first, when given, is where the need
/// is written (else onramp.yaml's first `needs_dirs`).
pub fn run_blocking(
    args: &NeedsNewArgs,
    needs_dirs: &[PathBuf],
    config: &Config,
) -> Result<Outcome> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?
        .block_on(run(args, needs_dirs, config))
}

/// Where the need file goes, and what onramp.yaml must say for it to load.
struct Target {
    dir: PathBuf,
    file: PathBuf,
    /// The config file to add `needs_dirs:` to, when it has none.
    add_setting: Option<PathBuf>,
}

/// The story parsed, or why it cannot be used: it has no want.
fn check_story(text: &str) -> std::result::Result<Story, String> {
    let story = Story::parse(text);
    if story.want.is_none() {
        return Err(format!(
            "the story has no want: write it as \"As a developer, I want to see …, so that …\" — the want says what the dashboard shows (got {:?})",
            story.text
        ));
    }
    Ok(story)
}

/// The story: `--story`, else, on a terminal, asked for until it has a want
/// (each time saying what it lacks).
fn given_story(args: &NeedsNewArgs, interactive: bool) -> Result<Answer<Story>> {
    if let Some(text) = &args.story {
        return check_story(text).map(Answer::Given).map_err(Error::Usage);
    }
    if !interactive {
        return Err(Error::Usage(
            "--story is required when not on a terminal: --story \"As a developer, I want to see …, so that …\"".into(),
        ));
    }
    print("Your story, as \"As a ROLE, I want WANT, so that REASON\" (Ctrl-D to stop):\n")?;
    loop {
        let text = match prompt::line("Story: ")? {
            Answer::Given(text) => text,
            Answer::Cancelled => return Ok(Answer::Cancelled),
        };
        match check_story(&text) {
            Ok(story) => return Ok(Answer::Given(story)),
            Err(why) => {
                let lacks: String = Story::parse(&text)
                    .missing()
                    .iter()
                    .map(|part| format!("  The story lacks {part}.\n"))
                    .collect();
                print(&format!("{lacks}Not used: {why}. Try again.\n"))?;
            }
        }
    }
}

/// The id and the target file, checked before anything is asked or written.
fn validate(
    args: &NeedsNewArgs,
    story: &Story,
    needs_dirs: &[PathBuf],
    config: &Config,
) -> Result<(String, Target)> {
    let id = args.id.clone().unwrap_or_else(|| draft::id_from(story));
    let valid = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(Error::Usage(format!(
            "--id {id:?}: a need id is 1–40 characters of a-z, 0-9 and '-'"
        )));
    }
    if crate::needs::built_in_source(&id).is_some() {
        return Err(Error::Usage(format!(
            "need id {id:?} is a built-in need's; choose another with --id"
        )));
    }
    let target = target(needs_dirs, config, &id);
    if target.file.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} exists; pass --force to overwrite it, or choose another --id",
            target.file.display()
        )));
    }
    Ok((id, target))
}

fn target(needs_dirs: &[PathBuf], config: &Config, id: &str) -> Target {
    let first = needs_dirs.first().or(config.file.needs_dirs.first());
    let (dir, add_setting) = match first {
        Some(dir) => (dir.clone(), None),
        None => {
            let config_file = config
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("onramp.yaml"));
            let base = config_file.parent().unwrap_or(Path::new(".")).to_path_buf();
            (base.join("needs"), Some(config_file))
        }
    };
    Target {
        file: dir.join(format!("{id}.yaml")),
        dir,
        add_setting,
    }
}

/// The app and the Prometheus to ask, through the pipeline as `plan` reads them.
async fn planned(
    args: &NeedsNewArgs,
    config: &Config,
    need: Option<(&str, &Path)>,
    ask_prometheus: bool,
) -> Result<Planned> {
    let selection = AppSelection {
        app: args.app.clone(),
        needs: NeedSelection {
            needs: need.map(|(id, _)| vec![id.to_string()]).unwrap_or_default(),
            // The folder, unless onramp.yaml already lists it (loading a
            // folder twice would define each of its needs twice).
            needs_dirs: need
                .map(|(_, d)| d.to_path_buf())
                .filter(|d| !config.file.needs_dirs.contains(d))
                .into_iter()
                .collect(),
            signals: Vec::new(),
        },
        render: RenderArgs {
            labels: Vec::new(),
            runbook_url: None,
            target: None,
        },
        prometheus: if ask_prometheus {
            args.prometheus.clone()
        } else {
            crate::cli::PrometheusArgs {
                prometheus_url: None,
            }
        },
        cluster: args.cluster.clone(),
    };
    Planned::new(Request::new(&selection, config, "codify")).await
}

/// The app and Prometheus; when Prometheus cannot be reached, the app
/// without it and why (the signals are then taken as `--signal` names them),
/// or, without `--signal`, a usage error saying it is required.
async fn reach(
    args: &NeedsNewArgs,
    config: &Config,
    no_signals: bool,
) -> Result<(Planned, Option<String>)> {
    match planned(args, config, None, true).await {
        Err(Error::Prometheus(err)) if err.is_transient() => {
            let why = crate::error::report(&err);
            if no_signals {
                return Err(Error::Usage(format!(
                    "{why}. Without a reachable Prometheus, name the signals yourself with --signal NAME=METRIC[.LABEL]"
                )));
            }
            Ok((planned(args, config, None, false).await?, Some(why)))
        }
        other => Ok((other?, None)),
    }
}

/// `needs new`: the story (asked for on a terminal), validates, reads the
/// app's metrics, proposes (a picker on a terminal) or drafts, writes,
/// checks, and shows the plan.
pub async fn run(args: &NeedsNewArgs, needs_dirs: &[PathBuf], config: &Config) -> Result<Outcome> {
    let interactive = prompt::on_terminal();
    let story = match given_story(args, interactive)? {
        Answer::Given(story) => story,
        Answer::Cancelled => return stopped(),
    };
    let (id, target) = validate(args, &story, needs_dirs, config)?;
    let mut specs = args
        .signals
        .iter()
        .map(|s| SignalSpec::parse(s).map_err(Error::Usage))
        .collect::<Result<Vec<_>>>()?;
    let (planned, unreached) = reach(args, config, specs.is_empty()).await?;
    let app = planned.loaded.app.clone();
    let exposed = match &planned.prometheus {
        Some(client) => Some(crate::needs::exposed::exposures(client, &app).await?),
        None => None,
    };
    let Some(exposed_ref) = exposed
        .as_deref()
        .or(if specs.is_empty() { None } else { Some(&[]) })
    else {
        return Err(Error::Usage(
            "no Prometheus to read what the app exposes: pass --prometheus-url URL (or a cluster whose Prometheus onramp finds), or name the signals yourself with --signal NAME=METRIC[.LABEL]".into(),
        ));
    };
    let mut out = story_text(&story);
    if specs.is_empty() {
        let proposals = story::propose(&story, exposed_ref, PROPOSALS);
        if !interactive || proposals.is_empty() {
            out.push_str(&proposals_text(
                &proposals,
                exposed_ref.len(),
                &args.app.app,
            ));
            print(&out)?;
            return Ok(Outcome::BadInput);
        }
        print(&out)?;
        out.clear();
        match pick_signals(&story, &proposals)? {
            Answer::Given(picked) => specs = picked,
            Answer::Cancelled => return stopped(),
        }
    }
    let drafted = Drafted {
        story: &story,
        id: &id,
        target: &target,
        exposed: exposed.as_deref(),
    };
    out.push_str(
        &drafted
            .write(&specs, planned.prometheus.as_ref(), &app)
            .await?,
    );
    print(&out)?;
    if let Some(why) = &unreached {
        print(&format!("\nPrometheus was not asked: {why}\n"))?;
    }
    show_plan(args, config, &id, &target.dir, unreached.is_none()).await
}

/// How many proposals are listed (and offered to pick from).
const PROPOSALS: usize = 8;

/// A prompt ended without an answer (Esc, or the end of input): nothing is
/// written, exit 2 as without `--signal` off a terminal. (Ctrl-C ends the
/// process by SIGINT: status 130, nothing written either.)
fn stopped() -> Result<Outcome> {
    print("Cancelled: nothing was written.\n")?;
    Ok(Outcome::BadInput)
}

/// One pick per signal the story needs, from the ranked proposals: a share
/// needs two counters (the part, then the whole); "how many … per X" may
/// take a second counter to divide by (or none); anything else one signal.
fn pick_signals(story: &Story, proposals: &[Proposal]) -> Result<Answer<Vec<SignalSpec>>> {
    let asks = story.asks();
    let steps: &[(&str, bool)] = if asks.share {
        &[
            ("Signal 1 of 2, the part (a counter)", true),
            (
                "Signal 2 of 2, the whole it is a share of (a counter)",
                true,
            ),
        ]
    } else if asks.count && !story.per().is_empty() {
        &[
            ("Signal 1, what to count", true),
            (
                "Signal 2 (or none), a counter to divide by for \"per\"",
                false,
            ),
        ]
    } else {
        &[("Signal", true)]
    };
    let mut picked: Vec<SignalSpec> = Vec::new();
    for (title, required) in steps {
        let left: Vec<&Proposal> = proposals
            .iter()
            .filter(|p| picked.iter().all(|s| s.metric != p.metric))
            .collect();
        if left.is_empty() {
            break;
        }
        let none = usize::from(!required);
        let mut items: Vec<String> = Vec::new();
        if !required {
            items.push("(none: no second signal)".into());
        }
        items.extend(left.iter().map(|p| proposal_line(p)));
        let prompt =
            format!("{title} — arrows to move, type to filter, Enter to pick, Esc to cancel");
        let index = match prompt::pick(&prompt, &items)? {
            Answer::Given(index) => index,
            Answer::Cancelled => return Ok(Answer::Cancelled),
        };
        let Some(p) = index.checked_sub(none).and_then(|i| left.get(i)) else {
            break;
        };
        picked.push(SignalSpec {
            name: String::new(),
            metric: p.metric.clone(),
            label: p.label.clone(),
        });
    }
    name_signals(&mut picked);
    let flags: Vec<String> = picked
        .iter()
        .map(|s| format!("--signal {}", spec_flag(s)))
        .collect();
    print(&format!("Picked: {}\n", flags.join(" ")))?;
    Ok(Answer::Given(picked))
}

/// Names the picked signals after a word of their metric the others' lack
/// (`container_cpu_cfs_throttled_periods_total` beside
/// `container_cpu_cfs_periods_total` is `throttled`), else as `--signal`'s
/// proposals name them; a name taken twice gets a `2`.
fn name_signals(picked: &mut [SignalSpec]) {
    let metrics: Vec<String> = picked.iter().map(|s| s.metric.clone()).collect();
    let mut taken: Vec<String> = Vec::new();
    for (i, spec) in picked.iter_mut().enumerate() {
        let others: Vec<&str> = metrics
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, m)| m.split('_'))
            .collect();
        let own: Vec<&str> = spec
            .metric
            .split('_')
            .filter(|w| !others.contains(w))
            .collect();
        let mut name = story::signal_name(&own.join("_"));
        if own.is_empty() || name == "signal" {
            name = story::signal_name(&spec.metric);
        }
        if taken.contains(&name) {
            name.push('2');
        }
        taken.push(name.clone());
        spec.name = name;
    }
}

/// A proposal on one line: the metric, its label, type and why.
fn proposal_line(p: &Proposal) -> String {
    let label = p.label.as_ref().map_or(String::new(), |l| format!(".{l}"));
    format!("{}{label} ({}) — {}", p.metric, p.kind.word(), p.why)
}

/// `NAME=METRIC[.LABEL]`, as `--signal` takes it.
fn spec_flag(spec: &SignalSpec) -> String {
    let label = spec
        .label
        .as_ref()
        .map_or(String::new(), |l| format!(".{l}"));
    format!("{}={}{label}", spec.name, spec.metric)
}

/// What the need is drafted from and where it goes.
struct Drafted<'a> {
    story: &'a Story,
    id: &'a str,
    target: &'a Target,
    /// What the app exposes, when Prometheus was asked.
    exposed: Option<&'a [Exposure]>,
}

impl Drafted<'_> {
    /// Chooses the signals, drafts the need with its alert, checks and
    /// writes it; the text says what was chosen and written.
    async fn write(
        &self,
        specs: &[SignalSpec],
        client: Option<&PrometheusClient>,
        app: &crate::app::App,
    ) -> Result<String> {
        let names: Vec<&str> = self
            .exposed
            .unwrap_or_default()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        let framework = Framework::detect(&names);
        let chosen = specs
            .iter()
            .map(|s| s.choose(self.exposed, framework).map_err(Error::Usage))
            .collect::<Result<Vec<Chosen>>>()?;
        let alert = match client {
            Some(client) => alert(client, app, self.story, &chosen, self.id).await?,
            None => None,
        };
        let yaml = draft::need_yaml(
            self.id,
            self.story,
            &chosen,
            alert.as_ref().map(|(c, t)| (c, t)),
        );
        let file = &self.target.file;
        let problems = crate::needs::check::check_texts(
            &[(file.display().to_string(), yaml.clone())],
            crate::needs::check::BuiltInIds::Refuse,
        );
        if let Some(problem) = problems.first() {
            return Err(Error::NeedFile {
                location: problem.location.clone(),
                message: format!(
                    "the drafted need fails its checks (a bug of onramp's): {}",
                    problem.message
                ),
            });
        }
        write(self.target, &yaml)?;
        let mut out = chosen_text(
            &chosen,
            framework,
            alert.as_ref().map(|(_, t)| t),
            self.exposed.is_some(),
        );
        let _ = writeln!(out, "\nWrote {} — checked: no problems.", file.display());
        Ok(out)
    }
}

fn story_text(story: &Story) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Story: {}", story.text);
    let _ = writeln!(
        out,
        "  role:   {}",
        story.role.as_deref().unwrap_or("(missing)")
    );
    let _ = writeln!(
        out,
        "  want:   {}",
        story.want.as_deref().unwrap_or("(missing)")
    );
    let _ = writeln!(
        out,
        "  reason: {}",
        story.reason.as_deref().unwrap_or("(missing)")
    );
    for part in story.missing() {
        let _ = writeln!(out, "  The story lacks {part}.");
    }
    out
}

fn proposals_text(proposals: &[Proposal], exposed: usize, app: &str) -> String {
    let mut out = String::new();
    if proposals.is_empty() {
        let _ = writeln!(
            out,
            "\nNone of the {exposed} metrics {app} exposes matches the story's words. Name the signals the story needs with --signal NAME=METRIC[.LABEL]: a metric the app lacks is written as a backlog item, with the instrumentation to add."
        );
        return out;
    }
    let _ = writeln!(out, "\nMetrics of {app} that fit the story, best first:");
    for (i, p) in proposals.iter().enumerate() {
        let label = p.label.as_ref().map_or(String::new(), |l| format!(".{l}"));
        let name = story::signal_name(&p.metric);
        let _ = writeln!(
            out,
            "  {}. {} ({}) — {}",
            i + 1,
            p.metric,
            p.kind.word(),
            p.why
        );
        let _ = writeln!(out, "     --signal {name}={}{label}", p.metric);
    }
    let _ = writeln!(
        out,
        "\nNot on a terminal: nothing was written. Pick the signals with --signal NAME=METRIC[.LABEL] (two counters for a share or a per-X)."
    );
    out
}

fn chosen_text(
    chosen: &[Chosen],
    framework: Option<Framework>,
    alert: Option<&Threshold>,
    asked: bool,
) -> String {
    let mut out = String::from("\nSignals:\n");
    for c in chosen {
        let by = c
            .label
            .as_ref()
            .map_or(String::new(), |l| format!(" by {l}"));
        let state = if c.missing {
            "MISSING: the app does not expose it yet"
        } else if asked {
            "exposed"
        } else {
            "not checked: no Prometheus was asked"
        };
        let _ = writeln!(
            out,
            "  {}: {} {}{by} — {state}",
            c.name,
            c.kind.word(),
            c.metric
        );
        if c.missing {
            let _ = writeln!(out, "      {}", c.instrumentation);
        }
    }
    if chosen.iter().any(|c| c.missing) {
        let which = framework.map_or("its framework".to_string(), |f| f.name().to_string());
        let _ = writeln!(
            out,
            "  The need is written as a backlog item: add the missing metrics to the app ({which}); `onramp verify` and `onramp adoption --needs` report it until then."
        );
    }
    match alert {
        Some(t) => {
            let _ = writeln!(out, "Alert: {}.", t.why);
        }
        None => {
            let _ = writeln!(
                out,
                "Alert: none — it needs a \"so that …\" in the story, a histogram, gauge or share, and data in Prometheus to set its threshold from."
            );
        }
    }
    out
}

/// The alert the story supports, its threshold read from the value now.
async fn alert(
    client: &PrometheusClient,
    app: &crate::app::App,
    story: &Story,
    chosen: &[Chosen],
    id: &str,
) -> Result<Option<(AlertCandidate, Threshold)>> {
    if story.reason.is_none() || chosen.iter().any(|c| c.missing) {
        return Ok(None);
    }
    let Some(candidate) = draft::alert_candidate(story, chosen) else {
        return Ok(None);
    };
    let yaml = draft::need_yaml(id, story, chosen, None);
    let need = crate::needs::parse_need("draft", &yaml)?;
    let resolved = ResolvedNeed::new(&need, Scope::of(app), &SignalOverrides::default(), None);
    let expr = resolved
        .expr(&candidate.expr)
        .map_err(|m| Error::Usage(format!("the drafted alert does not expand: {m}")))?;
    let now = client
        .query(&format!("max({expr})"), None)
        .await?
        .first_value();
    Ok(now
        .and_then(|v| draft::threshold(&candidate, v))
        .map(|t| (candidate, t)))
}

/// Writes the need file (creating its folder) and, when onramp.yaml has no
/// `needs_dirs`, adds the folder to it (creating the file when there is none).
fn write(target: &Target, yaml: &str) -> Result<()> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::create_dir_all(&target.dir).map_err(write_err(&target.dir))?;
    std::fs::write(&target.file, yaml).map_err(write_err(&target.file))?;
    if let Some(config) = &target.add_setting {
        let mut text = std::fs::read_to_string(config).unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("needs_dirs: [needs]   # added by `onramp needs new`\n");
        std::fs::write(config, text).map_err(write_err(config))?;
    }
    Ok(())
}

/// What `onramp plan APP --need ID` makes of the new need, and whether each
/// of its queries returns data now.
async fn show_plan(
    args: &NeedsNewArgs,
    config: &Config,
    id: &str,
    dir: &Path,
    ask_prometheus: bool,
) -> Result<Outcome> {
    let planned = planned(args, config, Some((id, dir)), ask_prometheus).await?;
    let mut out = format!(
        "\n`onramp plan {} --need {id}` would produce:\n\n{}",
        crate::plan::app_args(&planned.loaded.app, &args.app.filenames),
        crate::commands::plan::summary(&planned.plan)
    );
    if let Some(client) = &planned.prometheus {
        let _ = writeln!(out, "\nQueries now:");
        for need in &planned.plan.needs {
            for q in &need.queries {
                let expr = crate::check::verify::instant_query(&q.expr, &need.variables);
                let series = client.query(&expr, None).await.map(|r| r.samples().len());
                let said = match series {
                    Ok(0) => "no data yet".to_string(),
                    Ok(n) => format!("{n} series"),
                    Err(e) => format!("failed: {e}"),
                };
                let _ = writeln!(out, "  {} [{}]: {said}", q.panel, q.ref_id);
            }
        }
    }
    print(&out)?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(metric: &str) -> SignalSpec {
        SignalSpec {
            name: String::new(),
            metric: metric.into(),
            label: None,
        }
    }

    #[test]
    fn picked_signals_are_named_after_the_word_the_other_lacks() {
        let mut picked = [
            spec("container_cpu_cfs_throttled_periods_total"),
            spec("container_cpu_cfs_periods_total"),
        ];
        name_signals(&mut picked);
        let names: Vec<&str> = picked.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["throttled", "periods"]);
        let mut same = [spec("a_requests_total"), spec("b_requests_total")];
        name_signals(&mut same);
        let names: Vec<&str> = same.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let mut one = [spec("http_request_duration_highr_seconds")];
        name_signals(&mut one);
        assert_eq!(one[0].name, "highr");
    }
}
