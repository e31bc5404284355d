//! The shell as a user runs onramp from it: quoting a word so a printed
//! command runs as shown, and finding a program on `PATH` as the shell would.

use std::path::{Path, PathBuf};

/// Quotes a word for a POSIX shell when it needs it, so a printed command
/// runs as shown.
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The path of `program` on `PATH`, as a shell would find it: the first
/// executable file of that name (a file without the exec bit is skipped, as
/// the shell skips it).
pub fn on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    find_in(&paths, program)
}

/// [`on_path`] over an explicit `PATH` value.
fn find_in(paths: &std::ffi::OsStr, program: &str) -> Option<PathBuf> {
    std::env::split_paths(paths)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("examples/shop/k8s"), "examples/shop/k8s");
        assert_eq!(shell_word("my dir"), "'my dir'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_the_exec_bit_was_taken_for_a_program() {
        use std::os::unix::fs::PermissionsExt;
        let (first, second) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let plain = first.path().join("kustomize");
        std::fs::write(&plain, "not a program\n").expect("write");
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let paths = std::env::join_paths([first.path(), second.path()]).expect("PATH");
        assert_eq!(find_in(&paths, "kustomize"), None);
        let program = second.path().join("kustomize");
        std::fs::write(&program, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(find_in(&paths, "kustomize"), Some(program));
    }
}
