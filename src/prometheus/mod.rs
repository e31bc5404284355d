//! Prometheus: the HTTP client used by verify and the plain-Prometheus sink.
