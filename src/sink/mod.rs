//! The sinks: where a plan goes. [`files`] writes it as version-controlled
//! files (`codify`), [`grafana`] pushes its dashboards, [`prometheus_files`]
//! drops its scrape targets and rules into a plain Prometheus' config folder,
//! [`kubernetes`] server-side applies its objects into the cluster;
//! [`summary`] prints what each did, in one vocabulary ([`Change`]).
//! A sink depends on the plan and on a client, never on `render` or on
//! another sink; what sinks share lives here: the decision whether a file in
//! the way may be replaced (by its stamp, read through [`crate::plan::stamp`]),
//! and writing a set of files all together or not at all.

pub mod files;
pub mod grafana;
pub mod kubernetes;
pub mod prometheus_files;
pub mod summary;

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plan::{AppId, stamp};

/// What a sink did to one artifact — a file, a cluster object, a
/// dashboard: the one vocabulary of every sink's report, printed by
/// [`summary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// It did not exist.
    Created,
    /// It existed with other content, and now has the plan's.
    Updated,
    /// It already had this content; not touched.
    Unchanged,
    /// onramp wrote it earlier for this app and the plan no longer has it.
    Removed,
    /// Left alone: not onramp's to change now (fields another field manager
    /// owns, a person's edit in Grafana); the report says why.
    Refused,
    /// Left alone: owned by Grafana's file provisioning.
    Provisioned,
    /// Not attempted: an earlier error stopped the sink.
    #[serde(rename = "not pushed")]
    NotPushed,
}

impl Change {
    /// The word a report prints.
    pub fn word(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed",
            Change::Refused => "refused",
            Change::Provisioned => "provisioned",
            Change::NotPushed => "not pushed",
        }
    }

    /// The word `kubectl apply` prints for a cluster object: `configured`,
    /// `pruned`, and `conflict` for a refusal.
    pub fn kubectl_word(self) -> &'static str {
        match self {
            Change::Updated => "configured",
            Change::Removed => "pruned",
            Change::Refused => "conflict",
            other => other.word(),
        }
    }

    /// True when the artifact was left alone or not reached: the sink's
    /// work is incomplete.
    pub fn incomplete(self) -> bool {
        matches!(self, Change::Refused | Change::NotPushed)
    }
}

/// What is at a path below a folder onramp writes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Nothing.
    Missing,
    /// A regular file, reached without any link, with this text.
    File(String),
    /// Something onramp must not write to or through, and why.
    Unsafe(String),
}

/// Looks at `root/relative` without following any link below `root` (`root`
/// itself may be a link the user named).
pub fn inspect(root: &Path, relative: &str) -> Result<Existing> {
    let mut path = root.to_path_buf();
    let components: Vec<_> = Path::new(relative).components().collect();
    for (i, component) in components.iter().enumerate() {
        let Component::Normal(name) = component else {
            return Ok(Existing::Unsafe(
                "its path leaves the output folder".to_string(),
            ));
        };
        path.push(name);
        let last = i + 1 == components.len();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::Missing),
            Err(source) => return Err(Error::Read { path, source }),
        };
        let shown = path.strip_prefix(root).unwrap_or(&path).display();
        if meta.file_type().is_symlink() {
            return Ok(Existing::Unsafe(if last {
                "it is a symbolic link; onramp never writes through links".to_string()
            } else {
                format!("{shown} is a symbolic link; onramp never writes through links")
            }));
        }
        if !last && !meta.is_dir() {
            return Ok(Existing::Unsafe(format!("{shown} is not a folder")));
        }
        if last && !meta.is_file() {
            return Ok(Existing::Unsafe("it is not a regular file".to_string()));
        }
    }
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Existing::File(String::from_utf8_lossy(&bytes).into_owned())),
        Err(source) => Err(Error::Read { path, source }),
    }
}

/// Whether onramp may put `new` at a path, by what is there now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Write it (or leave it, when unchanged); `previous` is what was there.
    Write {
        /// What will happen.
        change: Change,
        /// The file's content before, for putting it back.
        previous: Option<String>,
    },
    /// Leave everything alone: this file is not onramp's to replace, and why.
    Refuse(String),
}

/// Decides whether `new` (for `app`) may replace what is at `root/relative`:
/// only a file onramp stamped for this app, unchanged since (or any such
/// file with `force`, which overwrites hand edits).
pub fn decide(
    root: &Path,
    relative: &str,
    new: &str,
    app: &AppId,
    force: bool,
) -> Result<Decision> {
    let existing = match inspect(root, relative)? {
        Existing::Missing => {
            return Ok(Decision::Write {
                change: Change::Created,
                previous: None,
            });
        }
        Existing::Unsafe(reason) => return Ok(Decision::Refuse(reason)),
        Existing::File(text) => text,
    };
    if existing == new {
        return Ok(Decision::Write {
            change: Change::Unchanged,
            previous: Some(existing),
        });
    }
    let refusal = match stamp::read(relative, &existing) {
        None => Some("it has no onramp stamp; move it away to let onramp write it".to_string()),
        Some(found) if found.app != app.to_string() => {
            Some(format!("onramp wrote it for {}", found.app))
        }
        Some(_) if force => None,
        Some(found) if !found.hashed => Some(
            "an older onramp wrote it without a content hash, so a hand edit cannot be ruled out; look at it, then move it away or overwrite it with --force".to_string(),
        ),
        Some(found) if !found.intact => Some(
            "it was edited by hand since onramp wrote it: its content no longer matches the hash in its stamp. To keep the edit, move the file away or make the change in the need or onramp.yaml; to overwrite it, run again with --force".to_string(),
        ),
        Some(found) if found.pulled && !stamp::read(relative, new).is_some_and(|n| n.pulled) => Some(
            "it holds an edit pulled from Grafana with `codify --from-live`; refresh it with --from-live, move it away to go back to the need's dashboard, or overwrite it with --force".to_string(),
        ),
        Some(_) => None,
    };
    Ok(match refusal {
        Some(reason) => Decision::Refuse(reason),
        None => Decision::Write {
            change: Change::Updated,
            previous: Some(existing),
        },
    })
}

/// What a sink run will do, once every file was allowed.
#[derive(Debug, Clone)]
pub struct Decided {
    /// Each file (relative path) and what will happen to it, in order.
    pub changes: Vec<(String, Change)>,
    /// The files to write (the changed ones).
    pub writes: Vec<FileWrite>,
}

/// Decides for every file (path relative to `root`, new content) of one
/// sink run: what will happen to each, and the writes to make — or, when any
/// file is not onramp's to replace, the refusal of all of them.
pub fn decide_all(
    root: &Path,
    files: &[(&str, &str)],
    app: &AppId,
    force: bool,
) -> Result<Decided> {
    let mut changes = Vec::new();
    let mut writes = Vec::new();
    let mut refused = Vec::new();
    for (relative, content) in files {
        let path = root.join(relative);
        match decide(root, relative, content, app, force)? {
            Decision::Refuse(reason) => refused.push((path, reason)),
            Decision::Write { change, previous } => {
                if change != Change::Unchanged {
                    writes.push(FileWrite {
                        path,
                        content: content.to_string(),
                        previous,
                    });
                }
                changes.push((relative.to_string(), change));
            }
        }
    }
    if !refused.is_empty() {
        return Err(Error::NotOurs {
            app: app.to_string(),
            paths: refused,
        });
    }
    Ok(Decided { changes, writes })
}

/// One file to write, with what it held before (`None`: it did not exist).
#[derive(Debug, Clone)]
pub struct FileWrite {
    /// Where.
    pub path: PathBuf,
    /// The new content.
    pub content: String,
    /// The content before, put back if a later file cannot be written.
    pub previous: Option<String>,
}

/// The prefix of onramp's temporary files: `.onramp-PID-RANDOM.tmp`.
const TEMP_PREFIX: &str = ".onramp-";
const TEMP_SUFFIX: &str = ".tmp";

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// A temporary file next to `path` holding `content`, created exclusively
/// (a file or link already at its random name makes the creation fail rather
/// than be followed); removed again when dropped unpersisted.
fn stage(path: &Path, content: &str) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(write_error(path))?;
    tmp.write_all(content.as_bytes())
        .map_err(write_error(path))?;
    Ok(tmp)
}

/// Creates the missing folders above `path`, returning those it created
/// (outermost first) so that a failure can remove them again.
fn create_parents(path: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        missing.push(d.to_path_buf());
        cursor = d.parent();
    }
    for d in missing.into_iter().rev() {
        std::fs::create_dir(&d).map_err(write_error(&d))?;
        created.push(d);
    }
    Ok(())
}

/// Writes `content` to `path` atomically: an exclusive temporary file in the
/// same folder, then a rename, so a reader (or a crash) sees the old file or
/// the new one, never half of one. No fsync: these files live in version
/// control, and an fsync per file would cost more than rendering them.
pub fn write_atomic(path: &Path, content: &str) -> Result<()> {
    write_all(&[FileWrite {
        path: path.to_path_buf(),
        content: content.to_string(),
        previous: None,
    }])
}

/// Writes every file or none: each is first staged as a temporary file next
/// to its target, then all are renamed into place. When a file cannot be
/// staged, the temporary files and the folders created for them are removed
/// and nothing changed; when a rename fails, the files already renamed get
/// their previous content back.
pub fn write_all(writes: &[FileWrite]) -> Result<()> {
    let mut created = Vec::new();
    let mut staged = Vec::new();
    let staging = writes.iter().try_for_each(|w| {
        create_parents(&w.path, &mut created)?;
        staged.push(stage(&w.path, &w.content)?);
        Ok(())
    });
    if let Err(err) = staging {
        drop(staged);
        remove_folders(&created);
        return Err(err);
    }
    for (i, (tmp, w)) in staged.into_iter().zip(writes).enumerate() {
        if let Err(e) = tmp.persist(&w.path) {
            let err = Error::Write {
                path: w.path.clone(),
                source: e.error,
            };
            // Temps not yet renamed are removed as the iterator drops them.
            let failures = restore(&writes[..i]);
            remove_folders(&created);
            // A failed restore is the worse news: the folder is not as it was.
            return Err(if failures.is_empty() {
                err
            } else {
                Error::RestoreFailed {
                    cause: crate::error::report(&err),
                    failures,
                }
            });
        }
    }
    Ok(())
}

/// Puts back what `writes` replaced (removes the files that did not exist
/// before); returns what could not be restored, each with why. It goes on
/// past a failure: every file it can put back, it does.
pub fn restore(writes: &[FileWrite]) -> Vec<String> {
    let mut failures = Vec::new();
    for w in writes {
        let outcome = match &w.previous {
            Some(old) => write_atomic(&w.path, old).map_err(|e| crate::error::report(&e)),
            None => match std::fs::remove_file(&w.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(format!("cannot remove {}: {e}", w.path.display()))
                }
                _ => Ok(()),
            },
        };
        if let Err(why) = outcome {
            failures.push(why);
        }
    }
    failures
}

fn remove_folders(created: &[PathBuf]) {
    // Innermost first; only folders onramp just created, and only when empty.
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// The process id in one of onramp's temporary file names: `.onramp-PID-X.tmp`,
/// or `.NAME.onramp-PID.tmp` from onramp 0.1 and earlier.
fn temp_file_pid(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(TEMP_SUFFIX)?;
    let pid = match stem.strip_prefix(TEMP_PREFIX) {
        Some(rest) => rest.split_once('-')?.0,
        None => stem.strip_prefix('.')?.rsplit_once(".onramp-")?.1,
    };
    pid.parse().ok()
}

/// True when process `pid` may still be running (and writing its temp file).
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    // Where /proc exists it answers; elsewhere a leftover is taken as stale.
    Path::new("/proc/self").exists() && Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes temporary files of onramp's own naming left in `root/relative`
/// by a run that was killed mid-write (regular files only; links and anything
/// else are not onramp's). A folder reached through a link below `root` is
/// left alone; `root` itself may be a link the user named.
pub fn clean_stale_temps(root: &Path, relative: &Path) -> Result<()> {
    let mut dir = root.to_path_buf();
    for component in relative.components() {
        dir.push(component);
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            return Ok(());
        }
    }
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(Error::Read { path: dir, source }),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = temp_file_pid(&name).is_some_and(|pid| !may_be_running(pid));
        if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(write_error(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: PathBuf, content: &str, previous: Option<&str>) -> FileWrite {
        FileWrite {
            path,
            content: content.to_string(),
            previous: previous.map(str::to_string),
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_that_cannot_be_staged_leaves_no_temp_and_no_new_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("blocker"), "a file, not a folder").expect("write");
        let writes = [
            write(dir.path().join("new/deep/a.yaml"), "a", None),
            write(dir.path().join("blocker/b.yaml"), "b", None),
        ];
        assert!(write_all(&writes).is_err());
        assert_eq!(names(dir.path()), vec!["blocker"]);
    }

    #[test]
    fn a_rename_that_fails_puts_back_the_files_already_renamed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = dir.path().join("a.yaml");
        std::fs::write(&first, "old").expect("write");
        // Renaming a file onto a folder that holds something fails.
        let folder = dir.path().join("b.yaml");
        std::fs::create_dir(&folder).expect("mkdir");
        std::fs::write(folder.join("x"), "x").expect("write");
        let writes = [
            write(first.clone(), "new", Some("old")),
            write(dir.path().join("c.yaml"), "c", None),
            write(folder, "b", None),
        ];
        let err = write_all(&writes).expect_err("the rename onto a folder fails");
        assert!(err.to_string().contains("b.yaml"), "{err}");
        assert_eq!(std::fs::read_to_string(&first).expect("read"), "old");
        assert_eq!(names(dir.path()), vec!["a.yaml", "b.yaml"]);
    }

    #[test]
    fn onramps_temp_names_are_recognised_and_others_are_not() {
        assert_eq!(temp_file_pid(".onramp-42-AbC123.tmp"), Some(42));
        assert_eq!(temp_file_pid(".runbook.md.onramp-7.tmp"), Some(7));
        assert_eq!(temp_file_pid(".my-onramp.tmp.bak"), None);
        assert_eq!(temp_file_pid("notes.onramp-7.tmp"), None);
        assert_eq!(temp_file_pid(".onramp-notes.tmp"), None);
    }
}
