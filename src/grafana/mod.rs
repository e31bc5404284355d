//! Grafana: the HTTP client that pushes and pulls the app's dashboards.
