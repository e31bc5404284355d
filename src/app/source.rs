//! Where manifests come from: the `-f` sources (files, folders, stdin) read
//! into texts, each named the way the user will recognise it in a message.
//!
//! A folder is read as the user deploys it: a kustomize folder is built with
//! `kubectl kustomize` or `kustomize build` (or refused with the command to pipe
//! in), a Helm chart is refused with the `helm template` command, and a source
//! that holds nothing is an error naming it — reading raw files of such a
//! folder would onboard the app under the wrong names. This module does not
//! parse documents into objects; [`crate::app::manifest`] does.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Location, Result};
use crate::util::shell::{on_path, shell_word};

/// The file names kustomize recognises in a folder, in its own order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The file that makes a folder a Helm chart.
const HELM_CHART_FILE: &str = "Chart.yaml";

/// One source of manifests as given with `-f`: a file, a folder, or `-` for stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file or a folder (read recursively: `*.yaml`, `*.yml`, `*.json`).
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// Parses a `-f` argument.
    pub fn parse(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// The `-f` argument that names this source again (`-` for stdin).
    pub fn as_arg(&self) -> String {
        match self {
            Source::Stdin => "-".to_string(),
            Source::Path(path) => path.display().to_string(),
        }
    }
}

/// The text of one manifest file, with the name to show in messages.
#[derive(Debug, Clone)]
pub struct ManifestText {
    /// The file name as the user gave it, `<stdin>`, or the build command.
    pub name: String,
    /// The whole text.
    pub text: String,
}

/// Reads every source into texts, folders recursively in a stable (sorted)
/// order. A source that yields no YAML document is an error naming it.
pub fn read_sources(sources: &[Source]) -> Result<Vec<ManifestText>> {
    let mut texts = Vec::new();
    for source in sources {
        let first = texts.len();
        match source {
            Source::Stdin => texts.push(read_stdin()?),
            Source::Path(path) => read_path(path, &mut texts)?,
        }
        refuse_empty(source, &texts[first..])?;
    }
    Ok(texts)
}

/// The names of the texts read, for messages that say what was looked at.
pub fn names(texts: &[ManifestText]) -> String {
    const SHOWN: usize = 8;
    let mut shown: Vec<&str> = texts.iter().take(SHOWN).map(|t| t.name.as_str()).collect();
    let more = texts.len().saturating_sub(SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        shown.push(&more_text);
    }
    shown.join(", ")
}

fn read_stdin() -> Result<ManifestText> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|source| Error::Read {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
    Ok(ManifestText {
        name: "<stdin>".to_string(),
        text,
    })
}

/// True when a text holds no YAML document (empty, or only comments).
fn is_empty(text: &ManifestText) -> bool {
    crate::app::manifest::split_documents(&text.name, &text.text).is_empty()
}

/// Refuses a source that produced no document: an empty file, an empty
/// folder, or a folder of empty files.
fn refuse_empty(source: &Source, texts: &[ManifestText]) -> Result<()> {
    if texts.iter().any(|t| !is_empty(t)) {
        return Ok(());
    }
    let name = match source {
        Source::Stdin => "<stdin>".to_string(),
        Source::Path(path) => path.display().to_string(),
    };
    let message = match (source, texts) {
        (Source::Stdin, _) => {
            "nothing was piped in: standard input is empty (did the command before `|` fail?)"
                .to_string()
        }
        (_, []) => "this folder holds no manifest files (*.yaml, *.yml, *.json)".to_string(),
        (_, [one]) if one.name == name => {
            "the file is empty: it holds no Kubernetes object".to_string()
        }
        (_, many) => format!(
            "every manifest file read is empty ({}); there is no Kubernetes object to read",
            names(many)
        ),
    };
    Err(Error::Manifest {
        location: Location::file(name),
        message,
    })
}

fn read_path(path: &Path, texts: &mut Vec<ManifestText>) -> Result<()> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_dir() {
        return read_file(path, texts);
    }
    if let Some(file) = marker(path, &KUSTOMIZATION_FILES) {
        texts.push(kustomize(path, &file)?);
        return Ok(());
    }
    if let Some(file) = marker(path, &[HELM_CHART_FILE]) {
        return Err(helm_chart(path, &file));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !hidden && (entry.is_dir() || is_manifest_file(&entry)) {
            read_path(&entry, texts)?;
        }
    }
    Ok(())
}

/// Reads one file. A kustomization or a Chart.yaml named directly stands for
/// its folder, which is read as a folder would be.
fn read_file(path: &Path, texts: &mut Vec<ManifestText>) -> Result<()> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if KUSTOMIZATION_FILES.contains(&file_name) || file_name == HELM_CHART_FILE {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        return read_path(&folder, texts);
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| Error::Manifest {
        location: Location::file(path.display().to_string()),
        message: "the file is not UTF-8 text; manifests must be YAML or JSON".to_string(),
    })?;
    texts.push(ManifestText {
        name: path.display().to_string(),
        text,
    });
    Ok(())
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// The first of `names` that is a file in `folder`.
fn marker(folder: &Path, names: &[&str]) -> Option<PathBuf> {
    names.iter().map(|n| folder.join(n)).find(|p| p.is_file())
}

/// The folder as the user typed it (`k8s/`), for commands shown to them.
fn folder_arg(folder: &Path) -> String {
    shell_word(&folder.display().to_string())
}

/// Builds a kustomize folder with the first tool on PATH, or refuses with
/// the command that builds it and pipes it in.
fn kustomize(folder: &Path, file: &Path) -> Result<ManifestText> {
    let dir = folder_arg(folder);
    let tools = [("kubectl", "kustomize"), ("kustomize", "build")];
    let Some((program, sub)) = tools.into_iter().find(|(p, _)| on_path(p).is_some()) else {
        return Err(Error::Manifest {
            location: Location::file(file.display().to_string()),
            message: format!(
                "this folder is a kustomization, and neither `kubectl` nor `kustomize` is on PATH to build it; reading its files raw would ignore its namespace, name prefixes and patches. Build it and pipe it in:\n  kustomize build {dir} | {}",
                piped_command(folder)
            ),
        });
    };
    let shown = format!("`{program} {sub} {dir}`");
    let output = Command::new(program)
        .args([sub.as_ref(), folder.as_os_str()])
        .output()
        .map_err(|source| Error::Read {
            path: folder.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Manifest {
            location: Location::file(file.display().to_string()),
            message: format!("{shown} failed: {}", stderr.trim()),
        });
    }
    let text = String::from_utf8(output.stdout).map_err(|_| Error::Manifest {
        location: Location::file(file.display().to_string()),
        message: format!("{shown} printed text that is not UTF-8"),
    })?;
    let built = ManifestText { name: shown, text };
    if is_empty(&built) {
        return Err(Error::Manifest {
            location: Location::file(folder.display().to_string()),
            message: format!(
                "{} printed no Kubernetes object: the kustomization lists no resources",
                built.name
            ),
        });
    }
    Ok(built)
}

/// A Helm chart is templates, not manifests: say how to render it. onramp does
/// not run `helm template` itself because the release name (which the chart's
/// object names usually contain) is the user's to choose.
fn helm_chart(folder: &Path, file: &Path) -> Error {
    Error::Manifest {
        location: Location::file(file.display().to_string()),
        message: format!(
            "this folder is a Helm chart: its templates are not manifests yet. Render it with the release name you install it under and pipe it in:\n  helm template RELEASE {} | {}",
            folder_arg(folder),
            piped_command(folder)
        ),
    }
}

/// This run's own command line with the `-f` that named `folder` (a folder
/// above it, or a file in it) replaced by `-f -`, so the user can pipe the
/// built manifests in.
fn piped_command(folder: &Path) -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names_folder = |arg: &str| {
        let path = Path::new(arg);
        folder.starts_with(path) || path.parent() == Some(folder)
    };
    let mut words = vec!["onramp".to_string()];
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let flag = matches!(arg.as_str(), "-f" | "--filename");
        if flag && iter.peek().is_some_and(|next| names_folder(next)) {
            iter.next();
            words.push(format!("{arg} -"));
        } else if arg.strip_prefix("--filename=").is_some_and(&names_folder) {
            words.push("--filename=-".to_string());
        } else {
            words.push(shell_word(arg));
        }
    }
    words.join(" ")
}
