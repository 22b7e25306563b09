//! Prometheus metrics of the HTTP layer (`GET /metrics`).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The registry and the HTTP instruments.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route and status.
    pub requests: IntCounterVec,
    /// Request durations by route.
    pub durations: HistogramVec,
}

impl Metrics {
    /// A fresh registry with the HTTP instruments.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "escrow_http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|_| unreachable!("static metric definition"));
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "escrow_http_request_duration_seconds",
                "HTTP request durations by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .unwrap_or_else(|_| unreachable!("static metric definition"));
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(durations.clone()));
        Metrics {
            registry,
            requests,
            durations,
        }
    }

    /// The registry, for other components to register their metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
