//! Small helpers every layer may use: quoting a word for a shell
//! ([`shell`]), finding a program on `PATH` ([`shell::on_path`]), and the
//! one-line message of a YAML error ([`yaml`]).
//!
//! A leaf: it depends on nothing of onramp's, so any module may call it
//! without an import flowing up. It owns no policy of its own; a helper
//! belongs here only when two rooms need it and neither owns it.

pub mod shell;
pub mod yaml;
