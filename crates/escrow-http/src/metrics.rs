//! Prometheus metrics (`GET /metrics`): HTTP requests, the outbox backlog and deliveries, job runs.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The registry and the instruments.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by method, route and status.
    pub requests: IntCounterVec,
    /// Request durations by route.
    pub durations: HistogramVec,
    /// Outbox rows waiting.
    pub outbox_pending: IntGauge,
    /// Outbox dead letters.
    pub outbox_dead: IntGauge,
    /// Age of the oldest waiting outbox row, seconds.
    pub outbox_oldest_seconds: IntGauge,
    /// Delivery attempts by outcome (delivered, retried, dead, skipped).
    pub outbox_attempts: IntCounterVec,
    /// Job runs by job and outcome.
    pub job_runs: IntCounterVec,
    /// Mismatches the last ledger check found (alarm on any).
    pub ledger_mismatches: IntGauge,
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|_| unreachable!("static metric definition"))
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).unwrap_or_else(|_| unreachable!("static metric definition"))
}

impl Metrics {
    /// A fresh registry with every instrument.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = counter(
            "escrow_http_requests_total",
            "HTTP requests by method, route and status",
            &["method", "route", "status"],
        );
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
        let outbox_pending = gauge("escrow_outbox_pending", "Outbox rows waiting for delivery");
        let outbox_dead = gauge("escrow_outbox_dead", "Outbox rows given up (dead letters)");
        let outbox_oldest_seconds = gauge(
            "escrow_outbox_oldest_pending_seconds",
            "Age of the oldest waiting outbox row",
        );
        let outbox_attempts = counter(
            "escrow_outbox_attempts_total",
            "Outbox delivery attempts by outcome",
            &["outcome"],
        );
        let job_runs = counter(
            "escrow_job_runs_total",
            "Job runs by job and outcome",
            &["job", "outcome"],
        );
        let ledger_mismatches = gauge(
            "escrow_ledger_mismatches",
            "Mismatches the last ledger check found between the journal, trades, refunds and payouts (alarm on any)",
        );
        let _ = registry.register(Box::new(ledger_mismatches.clone()));
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(durations.clone()));
        let _ = registry.register(Box::new(outbox_pending.clone()));
        let _ = registry.register(Box::new(outbox_dead.clone()));
        let _ = registry.register(Box::new(outbox_oldest_seconds.clone()));
        let _ = registry.register(Box::new(outbox_attempts.clone()));
        let _ = registry.register(Box::new(job_runs.clone()));
        Metrics {
            registry,
            requests,
            durations,
            outbox_pending,
            outbox_dead,
            outbox_oldest_seconds,
            outbox_attempts,
            job_runs,
            ledger_mismatches,
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
        let mut text = String::from_utf8(buffer).unwrap_or_default();
        text.push_str(&format!(
            "# HELP escrow_money_invariant_violations_total Writes refused because a money invariant would break (alarm on any)\n\
             # TYPE escrow_money_invariant_violations_total counter\n\
             escrow_money_invariant_violations_total {}\n",
            INVARIANT_VIOLATIONS.load(std::sync::atomic::Ordering::Relaxed)
        ));
        text
    }
}

/// Money invariant violations seen by this process (the storage error has no handle on `Metrics`).
static INVARIANT_VIOLATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts a money invariant violation (rendered as `escrow_money_invariant_violations_total`).
pub fn invariant_violated() {
    INVARIANT_VIOLATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
