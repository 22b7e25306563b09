//! Measuring: concurrent clients driving one scenario with its throughput and latency percentiles,
//! and pgbench on the same PostgreSQL as the yardstick.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use escrow_postgres::cluster::LocalCluster;

use crate::fail;

pub(crate) struct Stats {
    pub(crate) name: &'static str,
    pub(crate) ok: usize,
    pub(crate) errors: usize,
    pub(crate) elapsed: Duration,
    pub(crate) latencies_ms: Vec<f64>,
}

impl Stats {
    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub(crate) fn percentile(&self, p: f64) -> f64 {
        percentile(&self.latencies_ms, p)
    }

    pub(crate) fn print(&self) {
        println!(
            "{:<22} {:>6} ok {:>4} errors  {:>8.1} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            self.name,
            self.ok,
            self.errors,
            self.rate(),
            self.percentile(50.0),
            self.percentile(99.0)
        );
    }
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[rank.min(v.len() - 1)]
}

/// Runs `requests` through `clients` workers; each request is built by `make(i)`.
pub(crate) async fn drive<F>(
    name: &'static str,
    clients: usize,
    requests: usize,
    max: Duration,
    make: F,
) -> Stats
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (make, next) = (make.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut lat) = (0usize, 0usize, Vec::new());
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= requests || started.elapsed() > max {
                    break;
                }
                let t = Instant::now();
                match make(i).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok += 1;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!(
                                "{name}: HTTP {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors <= 3 {
                            eprintln!("{name}: {e}");
                        }
                    }
                }
            }
            (ok, errors, lat)
        }));
    }
    let mut stats = Stats {
        name,
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_ms: Vec::new(),
    };
    for t in tasks {
        let (ok, errors, lat) = t.await.unwrap_or_default();
        stats.ok += ok;
        stats.errors += errors;
        stats.latencies_ms.extend(lat);
    }
    stats.elapsed = started.elapsed();
    stats
}

/// pgbench (TPC-B-like) on the same server: (tps, p50 ms, p99 ms).
pub(crate) fn pgbench(
    cluster: &LocalCluster,
    clients: usize,
    seconds: u64,
    work: &Path,
) -> (f64, f64, f64) {
    let bin = cluster.bin_dir().join("pgbench");
    let port = cluster.port().to_string();
    let base = ["-h", "127.0.0.1", "-p", port.as_str(), "-U", "postgres"];
    let created = Command::new(cluster.bin_dir().join("createdb"))
        .args(base)
        .arg("pgbench")
        .output();
    if created.is_err() {
        fail("createdb failed");
    }
    let init = Command::new(&bin)
        .args(base)
        .args(["-i", "-s", "10", "-q", "pgbench"])
        .output();
    if !init.is_ok_and(|o| o.status.success()) {
        fail("pgbench -i failed");
    }
    let prefix = work.join("pgbench_log");
    let out = Command::new(&bin)
        .args(base)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-l",
        ])
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg("pgbench")
        .output()
        .unwrap_or_else(|e| fail(format!("pgbench: {e}")));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| fail(format!("no tps in pgbench output: {text}")));
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(work).into_iter().flatten().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("pgbench_log")
        {
            for line in std::fs::read_to_string(entry.path())
                .unwrap_or_default()
                .lines()
            {
                if let Some(us) = line
                    .split_whitespace()
                    .nth(2)
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    latencies.push(us / 1000.0);
                }
            }
        }
    }
    (
        tps,
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
    )
}
