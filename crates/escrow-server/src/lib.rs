//! # escrow-server
//!
//! Wires the adapters into the domain's services and runs the HTTP server and the jobs. Thin on
//! purpose: every rule lives in `escrow-domain`, every I/O in an adapter crate.
//!
//! [`start`] is what `main` runs and what end-to-end tests call to get a real server on a random port.

pub mod config;
pub mod sandbox;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};
use escrow_domain::payment::{PaymentGateway, PaymentRouting};
use escrow_domain::ports::{Clock, SystemClock};
use escrow_domain::services::{
    CheckoutPorts, CheckoutService, MemberService, ProductService, TradeService,
};
use escrow_domain::signup::SandboxIdentityVerifier;
use escrow_http::{AppState, LinkSigner, Metrics, TokenIssuer, TokenKey};
use escrow_postgres::{
    Database, Directory, PgAdmin, PgCheckoutRepository, PgRulesRepository, PgTradeQueries,
    PgTradeRepository,
};
use escrow_unifipay::{UnifiPayClient, UnifiPayConfig};

/// Everything `start` needs besides the database.
pub struct ServerParts {
    /// The HTTP listener (bind `127.0.0.1:0` for a random port).
    pub listener: TcpListener,
    /// Where browsers and PGs reach the service.
    pub public_base_url: String,
    /// The Unifi Pay client configuration.
    pub unifipay: UnifiPayConfig,
    /// Member-token keys (the first signs).
    pub token_keys: Vec<TokenKey>,
    /// The hosted-link key.
    pub link_key: Vec<u8>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// HTTP worker threads.
    pub workers: usize,
    /// Run the jobs every this often (`None`: not at all).
    pub job_interval: Option<Duration>,
}

/// A running server.
pub struct RunningServer {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Stops the HTTP server.
    pub handle: ServerHandle,
    /// The server's future (await it to wait for shutdown).
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The trade use cases (tests drive jobs with them).
    pub trades: Arc<TradeService>,
    /// The checkout use cases.
    pub checkouts: Arc<CheckoutService>,
}

/// Builds the services over `db` and starts the HTTP server (and the jobs, if asked).
pub fn start(db: &Database, parts: ServerParts) -> std::io::Result<RunningServer> {
    let pool = db.pool.clone();
    let directory = Arc::new(Directory::new(pool.clone()));
    let trade_repo = Arc::new(PgTradeRepository::new(pool.clone()));
    // Contracts and holidays change rarely; five seconds of staleness saves two reads per command.
    let rules = Arc::new(PgRulesRepository::cached(
        pool.clone(),
        Duration::from_secs(5),
    ));
    let checkout_repo = Arc::new(PgCheckoutRepository::new(pool.clone()));
    let clock = parts.clock.clone();
    let trades = Arc::new(TradeService::new(trade_repo, rules.clone(), clock.clone()));
    let gateway: Arc<dyn PaymentGateway> = Arc::new(
        UnifiPayClient::new(parts.unifipay).map_err(|e| std::io::Error::other(e.to_string()))?,
    );
    let routing = PaymentRouting::all_through(gateway.name());
    let checkouts = Arc::new(CheckoutService::new(
        CheckoutPorts {
            members: directory.clone(),
            products: directory.clone(),
            checkouts: checkout_repo.clone(),
            records: checkout_repo,
            rules: rules.clone(),
        },
        trades.clone(),
        vec![gateway],
        routing,
        clock.clone(),
        parts.public_base_url.clone(),
    ));
    let state = AppState {
        partners: directory.clone(),
        members: Arc::new(MemberService::new(
            directory.clone(),
            Arc::new(SandboxIdentityVerifier),
            clock.clone(),
        )),
        products: Arc::new(ProductService::new(
            directory.clone(),
            directory.clone(),
            rules.clone(),
            clock.clone(),
        )),
        product_repo: directory,
        checkouts: checkouts.clone(),
        trades: trades.clone(),
        queries: Arc::new(PgTradeQueries::new(pool.clone())),
        rules,
        admin: Arc::new(PgAdmin::new(pool)),
        tokens: TokenIssuer::new(parts.token_keys),
        links: LinkSigner::new(parts.link_key),
        clock,
        public_base_url: parts.public_base_url.trim_end_matches('/').to_owned(),
        metrics: Metrics::new(),
    };
    let addr = parts.listener.local_addr()?;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || escrow_http::app(data.clone()))
        .workers(parts.workers.max(1))
        .shutdown_timeout(10)
        .listen(parts.listener)?
        .run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    if let Some(every) = parts.job_interval {
        spawn_jobs(trades.clone(), checkouts.clone(), every);
    }
    Ok(RunningServer {
        base_url: format!("http://{addr}"),
        handle,
        server,
        trades,
        checkouts,
    })
}

/// Runs every job once: checkout expiry, then the commands of due trade timers. Returns a summary.
pub async fn run_jobs_once(trades: &TradeService, checkouts: &CheckoutService) -> String {
    let expired = match checkouts.expire_due(500).await {
        Ok(n) => n.to_string(),
        Err(e) => format!("error: {e}"),
    };
    let due = match trades.run_due_timers("scheduler", 500).await {
        Ok(run) => format!("{} applied, {} skipped", run.applied, run.skipped),
        Err(e) => format!("error: {e}"),
    };
    format!("checkouts expired: {expired}; trade timers: {due}")
}

fn spawn_jobs(trades: Arc<TradeService>, checkouts: Arc<CheckoutService>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let summary = run_jobs_once(&trades, &checkouts).await;
            tracing::debug!(%summary, "jobs ran");
        }
    });
}

/// The real clock.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
