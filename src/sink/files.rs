//! The file sink: writes a plan's artifacts into a folder, atomically.
//!
//! Running it twice changes nothing. It never overwrites or deletes a file it
//! did not write for this app, nor one edited by hand since (it recognises its
//! own files by their stamp and its content by the hash in it), and never
//! writes through a link inside the folder; when one is in the way it writes
//! nothing and says which. Files it provably wrote for this app that the plan
//! no longer has are removed; nothing else in the folder (backups, notes) is
//! looked at.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plan::{Plan, paths, stamp};
use crate::sink::{Change, Decided, Existing, clean_stale_temps, decide_all, inspect, write_all};

/// The outcome of a codify run.
#[derive(Debug, Clone, Serialize)]
pub struct WriteReport {
    /// The folder written to.
    pub out: PathBuf,
    /// Each file and what happened to it, in plan order (removals last).
    pub files: Vec<(String, Change)>,
}

/// Joins a plan path onto the output folder, refusing anything that could escape it.
pub fn safe_join(out: &Path, relative: &str) -> Result<PathBuf> {
    let rel = Path::new(relative);
    let clean = !relative.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !clean {
        return Err(Error::Render {
            artifact: relative.to_string(),
            message: "artifact path must stay inside the output folder".to_string(),
        });
    }
    Ok(out.join(rel))
}

/// Writes the plan's artifacts under `out`: every file or none. `force`
/// overwrites generated files edited by hand; files onramp did not write for
/// this app are never touched.
pub fn write(plan: &Plan, out: &Path, force: bool) -> Result<WriteReport> {
    // First decide everything, then write: a refusal leaves the folder untouched.
    for artifact in &plan.artifacts {
        safe_join(out, &artifact.path)?;
    }
    let planned: Vec<(&str, &str)> = plan
        .artifacts
        .iter()
        .map(|a| (a.path.as_str(), a.content.as_str()))
        .collect();
    let Decided {
        changes: mut files,
        writes,
    } = decide_all(out, &planned, &plan.app, force)?;
    let stale = stale_files(plan, out)?;
    for dir in folders(plan) {
        clean_stale_temps(out, &dir)?;
    }
    write_all(&writes)?;
    for rel in stale {
        let path = out.join(&rel);
        std::fs::remove_file(&path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        files.push((rel, Change::Removed));
    }
    Ok(WriteReport {
        out: out.to_path_buf(),
        files,
    })
}

/// True when `path` is a folder and not a link to one.
fn is_real_folder(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// The folders onramp writes into, relative to the output folder.
fn folders(plan: &Plan) -> BTreeSet<PathBuf> {
    plan.artifacts
        .iter()
        .map(|a| a.path.as_str())
        .chain(paths::FIXED.iter().copied())
        .filter_map(|rel| Path::new(rel).parent().map(Path::to_path_buf))
        .collect()
}

/// Files of this app the plan no longer has that onramp can prove it wrote:
/// at a path the plan could generate, with an exact stamp for this app (and,
/// for a dashboard, for the need its name says), and no hand edit since.
fn stale_files(plan: &Plan, out: &Path) -> Result<Vec<String>> {
    let mut candidates: Vec<String> = paths::FIXED.iter().map(|p| p.to_string()).collect();
    let dashboards = out.join(paths::DASHBOARDS_DIR);
    if is_real_folder(&dashboards)
        && let Ok(entries) = std::fs::read_dir(&dashboards)
    {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json") && !name.starts_with('.'))
            .map(|name| format!("{}/{name}", paths::DASHBOARDS_DIR))
            .collect();
        names.sort();
        candidates.extend(names);
    }
    let mut stale = Vec::new();
    for rel in candidates {
        if plan.artifact(&rel).is_some() {
            continue;
        }
        let Existing::File(text) = inspect(out, &rel)? else {
            continue;
        };
        let provably_ours = stamp::read(&rel, &text).is_some_and(|found| {
            found.app == plan.app.to_string()
                && found.intact
                && match found.need {
                    // A dashboard must be the one its file name says.
                    Some(need) => paths::dashboard(&need) == rel,
                    None => stamp::Format::of(&rel) != stamp::Format::Json,
                }
        });
        if provably_ours {
            stale.push(rel);
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        let out = Path::new("/tmp/out");
        assert!(safe_join(out, "../x").is_err());
        assert!(safe_join(out, "/etc/passwd").is_err());
        assert!(safe_join(out, "dashboards/../../x").is_err());
        assert_eq!(
            safe_join(out, "dashboards/a.json").expect("inside"),
            PathBuf::from("/tmp/out/dashboards/a.json")
        );
    }
}
