//! The API server's service proxy as an HTTP transport:
//! `/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH` reaches a Service
//! inside the cluster with the kubeconfig's own credentials and TLS, so a
//! client (Prometheus') can talk to it without a port-forward.
//!
//! Knows the proxy's paths; its RBAC (`get` and, for POST, `create` on
//! `services/proxy`) is the registry's [`super::access::SERVICE_PROXY`].
//! Knows nothing of what is behind the Service.

use super::KubeClient;
use crate::client::retry::Replay;

/// One Service port reached through the API server.
#[derive(Clone)]
pub struct ServiceProxy {
    client: KubeClient,
    namespace: String,
    service: String,
    port: String,
}

impl std::fmt::Debug for ServiceProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

/// An answer that came back through the proxy, read whole.
#[derive(Debug)]
pub struct ProxyAnswer {
    /// The HTTP status (the Service's, or the API server's own when it could
    /// not reach the Service: 503, or 401/403 `Status` objects for onramp's
    /// credentials; a plain-text 403 is someone else's refusal).
    pub status: u16,
    /// The body, as text (invalid UTF-8 replaced).
    pub body: String,
}

impl ProxyAnswer {
    /// The `Status` object the API server answered with, when the body is
    /// one (its own refusals and errors); `None` for the Service's answers
    /// and anything else passed through.
    pub fn api_status(&self) -> Option<kube::core::Status> {
        let value: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        if value.get("kind").and_then(|k| k.as_str()) != Some("Status") {
            return None;
        }
        serde_json::from_value(value).ok()
    }

    /// Whether this is the API server refusing onramp's identity (see
    /// [`super::refused_identity`]): a 401/403 `Status` with that reason.
    pub fn refused_identity(&self) -> bool {
        self.api_status()
            .is_some_and(|s| super::refused_identity(self.status, &s.reason))
    }
}

impl ServiceProxy {
    /// The proxy to `service`'s `port` (a number or a port name) in `namespace`.
    pub fn new(client: KubeClient, namespace: &str, service: &str, port: &str) -> ServiceProxy {
        ServiceProxy {
            client,
            namespace: namespace.to_string(),
            service: service.to_string(),
            port: port.to_string(),
        }
    }

    /// `/api/v1/namespaces/NS/services/NAME:PORT/proxy/`.
    pub fn path(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}:{}/proxy/",
            self.namespace, self.service, self.port
        )
    }

    /// The proxy's full URL on the API server, for messages and logs.
    pub fn url(&self) -> String {
        format!("{}{}", self.client.server(), self.path())
    }

    /// What grants the proxy to the command that runs (the role `onramp
    /// rbac COMMAND` prints), for a refusal.
    pub fn grant(&self) -> &str {
        self.client.grant()
    }

    /// `service monitoring/prometheus-operated:9090 through the API server
    /// https://… (context kind-onramp)`, for people.
    pub fn describe(&self) -> String {
        format!(
            "service {}/{}:{} through the Kubernetes API server {} (context {})",
            self.namespace,
            self.service,
            self.port,
            self.client.server(),
            self.client.context()
        )
    }

    /// Sends `method` to `relative` (a path and query under the Service's
    /// root, `api/v1/query`), with a form body when given, under the one
    /// transport policy: retried as `replay` allows, like a request sent to
    /// the Service directly. `Err` carries why no answer came (connection,
    /// TLS, timeout), with the number of attempts made.
    pub async fn send(
        &self,
        method: http::Method,
        relative: &str,
        form: Option<String>,
        replay: Replay,
    ) -> Result<ProxyAnswer, (String, u32)> {
        let path = format!("{}{relative}", self.path());
        let (outcome, attempts) = self
            .client
            .send_raw(&method, &path, form.as_deref(), replay)
            .await;
        match outcome {
            Ok((status, body)) => Ok(ProxyAnswer { status, body }),
            Err(reason) => Err((reason, attempts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_text_403_through_the_proxy_is_not_the_api_servers_refusal() {
        let network = ProxyAnswer {
            status: 403,
            body: "resolve_deny: denied destination".into(),
        };
        assert!(network.api_status().is_none());
        assert!(!network.refused_identity());
        let rbac = ProxyAnswer {
            status: 403,
            body: r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"prometheus-operated:9090\" is forbidden: User \"u\" cannot get resource \"services/proxy\"","reason":"Forbidden","code":403}"#.into(),
        };
        assert!(rbac.refused_identity());
        // Prometheus' own error body is not a Status.
        let prometheus = ProxyAnswer {
            status: 403,
            body: r#"{"status":"error","errorType":"forbidden","error":"no"}"#.into(),
        };
        assert!(!prometheus.refused_identity());
    }
}
