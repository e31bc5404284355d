//! YAML errors as onramp prints them: the message alone, the location left to
//! the caller, which prints it in its own `file:line:col` form.

/// The message of a YAML error without the snippet and location decoration
/// (the caller prints the location in the `file:line:col` form).
pub fn yaml_message(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    // serde-saphyr appends " at line N, column M"; the location is printed separately.
    match first.rfind(" at line ") {
        Some(idx) => first[..idx].to_string(),
        None => first.to_string(),
    }
}
