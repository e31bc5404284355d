//! Kubernetes' own syntax rules for the names and labels onramp copies into
//! PromQL, YAML, JSON, Markdown and file paths. Anything the API server would
//! reject is refused here with a message saying which rule it breaks, so that
//! no generated artifact ever carries a broken value.

/// A DNS-1123 label: at most 63 characters of `a-z0-9-`, alphanumeric at both ends
/// (namespaces, container names, Service names).
pub fn dns_label(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 63 {
        return Err("must be 1 to 63 characters".to_string());
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may only contain lower-case letters, digits and '-'".to_string());
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err("must start and end with a letter or digit".to_string());
    }
    Ok(())
}

/// A DNS-1123 subdomain: at most 253 characters, dot-separated DNS labels
/// (Deployment, StatefulSet and DaemonSet names).
pub fn dns_subdomain(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 253 {
        return Err("must be 1 to 253 characters".to_string());
    }
    value.split('.').try_for_each(dns_label)
}

/// A namespace name.
pub fn namespace(value: &str) -> Result<(), String> {
    dns_label(value).map_err(|m| format!("not a valid namespace name: {m}"))
}

fn qualified_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("the name part must be 1 to 63 characters".to_string());
    }
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let ok_ends = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok_chars && ok_ends {
        Ok(())
    } else {
        Err("the name part may only contain letters, digits, '-', '_' and '.', and must start and end with a letter or digit".to_string())
    }
}

/// A label key and value, as Kubernetes accepts them.
pub fn label(key: &str, value: &str) -> Result<(), String> {
    let name = match key.rsplit_once('/') {
        Some((prefix, name)) => {
            dns_subdomain(prefix).map_err(|m| format!("label key {key:?}: prefix {m}"))?;
            name
        }
        None => key,
    };
    qualified_name(name).map_err(|m| format!("label key {key:?}: {m}"))?;
    if value.len() > 63 {
        return Err(format!(
            "label {key}: the value must be at most 63 characters"
        ));
    }
    if !value.is_empty() {
        qualified_name(value).map_err(|_| {
            format!(
                "label {key}: the value {value:?} may only contain letters, digits, '-', '_' and '.', and must start and end with a letter or digit"
            )
        })?;
    }
    Ok(())
}

/// A metrics path: absolute, printable, no spaces or quotes.
pub fn metrics_path(value: &str) -> Result<(), String> {
    if !value.starts_with('/') {
        return Err("must start with '/'".to_string());
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '{' | '}'))
    {
        return Err("must not contain spaces, quotes, backslashes or braces".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_quotes_backslashes_newlines_or_braces_are_refused() {
        for bad in ["a\"b", "a\\b", "a\nb", "a{b}", "../x", "A", "-a"] {
            assert!(dns_subdomain(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(dns_subdomain("checkout.v2").is_ok());
        assert!(dns_label("checkout").is_ok());
    }

    #[test]
    fn labels_follow_kubernetes_rules() {
        assert!(label("app.kubernetes.io/name", "checkout").is_ok());
        assert!(label("app", "").is_ok());
        assert!(label("app", "a\"b").is_err());
        assert!(label("app", "{x}").is_err());
        assert!(label("bad key", "x").is_err());
    }

    #[test]
    fn metrics_paths() {
        assert!(metrics_path("/metrics").is_ok());
        assert!(metrics_path("metrics").is_err());
        assert!(metrics_path("/m\"x").is_err());
    }
}
