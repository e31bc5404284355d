//! The sinks: where a plan goes. [`files`] writes it as version-controlled
//! files (`codify`), [`grafana`] pushes its dashboards, [`prometheus_files`]
//! drops its scrape targets and rules into a plain Prometheus' config folder.
//! A sink depends on the plan and on a client, never on `render` or on
//! another sink; what sinks share lives here.

pub mod files;
pub mod grafana;
pub mod prometheus_files;

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// It did not exist.
    Created,
    /// It existed with other content.
    Updated,
    /// It already had this content; not touched.
    Unchanged,
    /// onramp wrote it earlier for this app and the plan no longer has it.
    Removed,
}

/// Writes `content` to `path` atomically: a temporary file in the same folder,
/// then a rename, so a reader (or a crash) sees the old file or the new one,
/// never half of one. No fsync: these files live in version control, and an
/// fsync per file would cost more than rendering them.
pub fn write_atomic(path: &Path, content: &str) -> Result<()> {
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.onramp-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(content.as_bytes())?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}
