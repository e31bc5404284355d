//! The errors of the Kubernetes client: one variant per failure area, each
//! naming the kubeconfig, the API server or the request involved and saying
//! what to do. Tokens never appear: the crate error's report redacts every
//! remembered secret, and the client registers the kubeconfig's token when it
//! reads it. Mapping to exit statuses happens in `crate::error`.

/// Result of a Kubernetes client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to the Kubernetes API server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No kubeconfig was found and onramp is not running in a pod.
    #[error(
        "no Kubernetes cluster configured: looked at {looked}; pass --kubeconfig FILE, set KUBECONFIG, or run onramp in a pod with a service account"
    )]
    NoConfig {
        /// Every place onramp looked, and what it found there.
        looked: String,
    },

    /// A kubeconfig was found but cannot be used (unreadable, malformed, an
    /// unknown `--context`, a cluster without a server URL).
    #[error("cannot use the kubeconfig {origin}: {reason}")]
    BadConfig {
        /// Where the kubeconfig came from (`--kubeconfig FILE`, `KUBECONFIG=…`, a path).
        origin: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// No HTTP answer: connection refused, DNS, TLS or timeout.
    #[error(
        "cannot reach the Kubernetes API server at {server} ({context}): {reason}; check the cluster is up and that this kubeconfig context points at it"
    )]
    Unreachable {
        /// The API server URL.
        server: String,
        /// The kubeconfig context (or `in-cluster`).
        context: String,
        /// The innermost cause.
        reason: String,
    },

    /// The API server answered 401: the credentials are missing, expired or
    /// rejected.
    #[error(
        "the Kubernetes API server at {server} rejected the credentials of {context} (401 {message}); log in again or refresh the kubeconfig's token"
    )]
    Unauthorized {
        /// The API server URL.
        server: String,
        /// The kubeconfig context (or `in-cluster`).
        context: String,
        /// The server's message.
        message: String,
    },

    /// The API server answered 403: the identity may not do this request.
    #[error(
        "the Kubernetes API server refused to let onramp {verb} {resource} {scope} (403: {message}); grant it with: {grant}"
    )]
    Forbidden {
        /// The verb refused (`list`, `get`).
        verb: String,
        /// The resource, with its group (`prometheuses.monitoring.coreos.com`).
        resource: String,
        /// `in namespace NS` or `in all namespaces`.
        scope: String,
        /// The server's message.
        message: String,
        /// The command line that prints the RBAC rules granting it.
        grant: String,
    },

    /// A 401 or 403 that is not the API server refusing onramp's identity
    /// (no `Status` with reason `Unauthorized` or `Forbidden`): something
    /// between onramp and the API server refused the request.
    #[error(
        "{method} {path} was refused with HTTP {code} ({message}), which is not the Kubernetes API server's authorization refusing onramp (that answers a Status with reason Forbidden): something between onramp and the API server, such as a proxy or a network policy, refused it; RBAC rules do not change this"
    )]
    Refused {
        /// The HTTP method.
        method: String,
        /// The request path and query.
        path: String,
        /// 401 or 403.
        code: u16,
        /// What was answered, as it was answered.
        message: String,
    },

    /// The API server answered with another error status.
    #[error("the Kubernetes API server answered {code} to {method} {path}: {message}")]
    Status {
        /// The HTTP method.
        method: String,
        /// The request path and query.
        path: String,
        /// The HTTP status code.
        code: u16,
        /// The server's message.
        message: String,
    },

    /// A server-side apply met fields another field manager owns (409):
    /// nothing was changed.
    #[error("{message}")]
    Conflict {
        /// The object's path.
        path: String,
        /// Each field and the manager that owns it.
        conflicts: Vec<super::FieldConflict>,
        /// The server's message.
        message: String,
    },

    /// The answer could not be decoded as the object onramp asked for.
    #[error("the Kubernetes API server's answer to {path} is not what onramp expected: {reason}")]
    Decode {
        /// The request path and query.
        path: String,
        /// What did not decode.
        reason: String,
    },
}
