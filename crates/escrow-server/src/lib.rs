//! # escrow-server
//!
//! Wires the adapters into the domain's services and runs the HTTP server and the jobs. Thin on
//! purpose: every rule lives in `escrow-domain`, every I/O in an adapter crate.
//!
//! [`start`] is what `main` runs and what end-to-end tests call to get a real server on a random port.

pub mod config;
pub mod gateways;
mod logging;
pub mod sandbox;
mod wiring;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, HttpServer};
use escrow_domain::delivery::{AlimTalkSender, CallbackSender, OutboxStore};
use escrow_domain::ports::{Clock, PartnerRepository, SystemClock};
use escrow_domain::services::{
    CheckoutService, LedgerCheck, OutboxWorker, PayoutService, RefundService, Settlements,
    TemplateOverrides, TradeService,
};
use escrow_http::{AppState, LinkSigner, Metrics, TokenIssuer, TokenKey};
use escrow_postgres::{
    Database, Directory, PgAdmin, PgCheckoutRepository, PgLedger, PgMoneyOut, PgOutbox,
    PgRulesRepository, PgTradeQueries, PgTradeRepository,
};
use wiring::{
    account_services, checkout_ports, member_service, outbox_worker, payment_setup, payout_service,
    product_service, trade_use_cases,
};

/// Everything `start` needs besides the database.
pub struct ServerParts {
    /// The HTTP listener (bind `127.0.0.1:0` for a random port).
    pub listener: TcpListener,
    /// Where browsers and PGs reach the service.
    pub public_base_url: String,
    /// The payment gateways and the methods each serves ([`gateways::build`]).
    pub gateways: Vec<config::GatewaySettings>,
    /// Member-token keys (the first signs).
    pub token_keys: Vec<TokenKey>,
    /// The hosted-link key.
    pub link_key: Vec<u8>,
    /// Seals partner secrets at rest with the master keys.
    pub sealer: escrow_postgres::SecretSealer,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// HTTP worker threads.
    pub workers: usize,
    /// Run the jobs every this often (`None`: not at all).
    pub job_interval: Option<Duration>,
    /// Sends AlimTalks.
    pub alimtalk: Arc<dyn AlimTalkSender>,
    /// Sends test partners' AlimTalks: the AlimTalk simulator (SPEC §16); `None`: they are not sent.
    pub test_alimtalk: Option<Arc<dyn AlimTalkSender>>,
    /// Posts partner callbacks.
    pub callbacks: Arc<dyn CallbackSender>,
    /// Partners' own AlimTalk template codes.
    pub template_overrides: TemplateOverrides,
    /// The holder lookup of sellers' payout accounts.
    pub account_verifier: Arc<dyn escrow_domain::payout_account::AccountVerifier>,
    /// PortOne, where delivery requests' shipping fees are paid (SPEC §13).
    pub fee_payments: Arc<dyn escrow_domain::custody::FeePayments>,
    /// Verifies identities at the hosted signup.
    pub identity_verifier: Arc<dyn escrow_domain::signup::IdentityVerifier>,
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
    /// Every job, to run on demand (tests, `escrow-server jobs run`).
    pub jobs: Arc<Jobs>,
    /// The simulators of gateways configured in `simulator` mode.
    pub gateway_simulators: Vec<gateways::GatewaySimulator>,
}

/// The batch jobs and the outbox worker of one instance.
pub struct Jobs {
    /// Trade timers.
    pub trades: Arc<TradeService>,
    /// Checkout expiry.
    pub checkouts: Arc<CheckoutService>,
    /// Outbox delivery.
    pub outbox: Arc<OutboxWorker>,
    /// The outbox's backlog, for metrics.
    pub store: Arc<dyn OutboxStore>,
    /// Refunds through the PG.
    pub refunds: Arc<RefundService>,
    /// Payouts through the payout instructor.
    pub payouts: Arc<PayoutService>,
    /// Partners (to forget request signatures older than the replay window).
    pub partners: Arc<dyn PartnerRepository>,
    /// Partners' request counts (to forget finished windows).
    pub request_counts: Arc<dyn escrow_domain::rate_limit::RequestCounter>,
    /// The ledger check.
    pub ledger: Arc<LedgerCheck>,
    /// When this instance last ran the ledger check.
    pub last_ledger_check: std::sync::Mutex<Option<time::OffsetDateTime>>,
    /// Metrics.
    pub metrics: Metrics,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// What one pass of every job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    /// Checkouts expired.
    pub checkouts_expired: usize,
    /// PG transactions of ended checkouts queried again for late captures.
    pub transactions_reconciled: usize,
    /// Trade timers applied.
    pub timers_applied: usize,
    /// Trade timers skipped (held, moved on, handled elsewhere).
    pub timers_skipped: usize,
    /// Outbox rows delivered.
    pub delivered: usize,
    /// Outbox rows to retry.
    pub retried: usize,
    /// Refunds the PG made.
    pub refunds_done: usize,
    /// Refunds handed to operators.
    pub refunds_manual: usize,
    /// Payouts instructed.
    pub payouts_instructed: usize,
    /// Outbox rows dead-lettered.
    pub dead: usize,
    /// Idempotency records and delivered outbox rows past their keeping time, deleted.
    pub pruned: u64,
    /// Ledger mismatches found, when the ledger check ran (at most every [`LEDGER_CHECK_EVERY`]).
    pub ledger_mismatches: Option<usize>,
}

/// How often the jobs run the ledger check (it reads every partner's money).
pub const LEDGER_CHECK_EVERY: time::Duration = time::Duration::minutes(10);

impl Jobs {
    /// Runs every job once, in order: checkout expiry, trade timers (until none is due), PG
    /// reconciliation, refunds and payouts, signature pruning, outbox.
    pub async fn run_once(&self) -> Result<JobReport, String> {
        let mut report = JobReport {
            checkouts_expired: self
                .checkouts
                .expire_due(500)
                .await
                .map_err(|e| e.to_string())?,
            ..JobReport::default()
        };
        self.metrics
            .job_runs
            .with_label_values(&["checkout-expiry", "ok"])
            .inc();
        // A timer's command can make another timer due at once (delivery → same-day reminder).
        for _ in 0..5 {
            let run = self
                .trades
                .run_due_timers("scheduler", 500)
                .await
                .map_err(|e| e.to_string())?;
            report.timers_applied += run.applied;
            report.timers_skipped += run.skipped;
            if run.applied == 0 {
                break;
            }
        }
        self.metrics
            .job_runs
            .with_label_values(&["trade-timers", "ok"])
            .inc();
        // Late captures (SPEC §7 point 5) before refunds, so a capture found now is refunded now.
        report.transactions_reconciled = self
            .checkouts
            .reconcile(200)
            .await
            .map_err(|e| e.to_string())?
            .checked;
        self.metrics
            .job_runs
            .with_label_values(&["pg-reconciliation", "ok"])
            .inc();
        let refunds = self
            .refunds
            .run_once(100)
            .await
            .map_err(|e| e.to_string())?;
        report.refunds_done = refunds.done;
        report.refunds_manual = refunds.manual;
        report.payouts_instructed = self
            .payouts
            .run_once(100)
            .await
            .map_err(|e| e.to_string())?
            .instructed;
        self.metrics
            .job_runs
            .with_label_values(&["refunds", "ok"])
            .inc();
        // Signatures only matter inside the 5-minute window; keep twice that. Idempotency records
        // and delivered callbacks are kept as long as SPEC §10 says, then pruned.
        let now = self.clock.now();
        self.partners
            .prune_signatures(now - time::Duration::minutes(10))
            .await
            .map_err(|e| e.to_string())?;
        report.pruned += self
            .checkouts
            .prune_idempotency_keys(now - escrow_domain::ports::IDEMPOTENCY_KEPT)
            .await
            .map_err(|e| e.to_string())?;
        self.request_counts
            .prune(now - time::Duration::hours(1))
            .await
            .map_err(|e| e.to_string())?;
        report.pruned += self
            .store
            .prune_delivered(now - escrow_domain::delivery::DELIVERED_OUTBOX_KEPT)
            .await
            .map_err(|e| e.to_string())?;
        loop {
            let run = self.outbox.run_once(200).await.map_err(|e| e.to_string())?;
            report.delivered += run.delivered + run.skipped;
            report.retried += run.retried;
            report.dead += run.dead;
            self.metrics
                .outbox_attempts
                .with_label_values(&["delivered"])
                .inc_by(run.delivered as u64);
            self.metrics
                .outbox_attempts
                .with_label_values(&["retried"])
                .inc_by(run.retried as u64);
            self.metrics
                .outbox_attempts
                .with_label_values(&["dead"])
                .inc_by(run.dead as u64);
            self.metrics
                .outbox_attempts
                .with_label_values(&["skipped"])
                .inc_by(run.skipped as u64);
            if run.delivered + run.retried + run.dead + run.skipped < 200 {
                break;
            }
        }
        self.metrics
            .job_runs
            .with_label_values(&["outbox", "ok"])
            .inc();
        report.ledger_mismatches = self.check_ledger_when_due().await?;
        if let Ok(stats) = self.store.stats(self.clock.now()).await {
            self.metrics.outbox_pending.set(stats.pending);
            self.metrics.outbox_dead.set(stats.dead);
            self.metrics
                .outbox_oldest_seconds
                .set(stats.oldest_pending_seconds);
        }
        Ok(report)
    }
}

/// How a trade appears in callbacks: exactly the API's trade body.
fn trade_document() -> escrow_postgres::trades::TradeDocument {
    Arc::new(escrow_http::dto::trade_document)
}

impl Jobs {
    /// Runs the ledger check if this instance has not in the last [`LEDGER_CHECK_EVERY`]; the
    /// number of mismatches when it ran.
    async fn check_ledger_when_due(&self) -> Result<Option<usize>, String> {
        let now = self.clock.now();
        let due = self
            .last_ledger_check
            .lock()
            .map(|last| last.is_none_or(|at| now - at >= LEDGER_CHECK_EVERY))
            .unwrap_or(true);
        if !due {
            return Ok(None);
        }
        Ok(Some(self.check_ledger().await?.len()))
    }

    /// Runs the ledger check now (every mismatch logged at error level) and sets the
    /// `escrow_ledger_mismatches` gauge.
    pub async fn check_ledger(&self) -> Result<Vec<escrow_domain::ledger::Mismatch>, String> {
        let found = self.ledger.run(None).await.map_err(|e| e.to_string())?;
        self.metrics.ledger_mismatches.set(found.len() as i64);
        self.metrics
            .job_runs
            .with_label_values(&["ledger-check", "ok"])
            .inc();
        if let Ok(mut last) = self.last_ledger_check.lock() {
            *last = Some(self.clock.now());
        }
        Ok(found)
    }
}

/// Builds the services over `db` and starts the HTTP server (and the jobs, if asked).
pub async fn start(db: &Database, parts: ServerParts) -> std::io::Result<RunningServer> {
    let pool = db.pool.clone();
    let directory = Arc::new(Directory::new(pool.clone(), parts.sealer.clone()));
    let trade_repo = Arc::new(PgTradeRepository::new(pool.clone(), trade_document()));
    // Contracts and holidays change rarely; five seconds of staleness saves two reads per command.
    let rules = Arc::new(PgRulesRepository::cached(
        pool.clone(),
        Duration::from_secs(5),
    ));
    let checkout_repo = Arc::new(PgCheckoutRepository::new(pool.clone()));
    let clock = parts.clock.clone();
    let test_clocks = Arc::new(escrow_postgres::PgTestClocks::new(pool.clone()));
    let gateways = gateways::build(&parts.gateways, &parts.public_base_url)?;
    let (setup_repo, payment_setup) =
        payment_setup(&pool, &parts.sealer, &gateways, clock.clone()).await?;
    let (trades, checkouts) = trade_use_cases(
        trade_repo,
        checkout_ports(&directory, &checkout_repo, &rules),
        gateways.adapters.clone(),
        payment_setup.clone(),
        test_clocks.clone(),
        clock.clone(),
    );
    let outbox_store = Arc::new(PgOutbox::new(pool.clone()));
    let metrics = Metrics::new();
    let money_out = Arc::new(PgMoneyOut::new(pool.clone(), trade_document()));
    let refund_queue: Arc<dyn escrow_domain::delivery::RefundQueue> = money_out.clone();
    let ledger = Arc::new(PgLedger::new(pool.clone()));
    let request_counter = Arc::new(escrow_postgres::PgRequestCounter::new(pool.clone()));
    let jobs = Arc::new(Jobs {
        trades: trades.clone(),
        checkouts: checkouts.clone(),
        outbox: Arc::new(outbox_worker(
            OutboxWorker::new(
                outbox_store.clone(),
                directory.clone(),
                directory.clone(),
                parts.alimtalk,
                parts.callbacks,
                clock.clone(),
                parts.template_overrides,
            ),
            parts.test_alimtalk,
        )),
        store: outbox_store.clone(),
        refunds: Arc::new(
            RefundService::new(
                refund_queue.clone(),
                checkout_repo.clone(),
                gateways.adapters,
                setup_repo,
                clock.clone(),
            )
            .with_refund_accounts(directory.clone()),
        ),
        payouts: payout_service(money_out, &pool, &parts.sealer, clock.clone()),
        partners: directory.clone(),
        request_counts: request_counter.clone(),
        ledger: Arc::new(LedgerCheck::new(ledger.clone())),
        last_ledger_check: std::sync::Mutex::new(None),
        metrics: metrics.clone(),
        clock: clock.clone(),
    });
    let (refund_accounts, payout_accounts) =
        account_services(parts.account_verifier, &directory, clock.clone());
    let (deliveries, address_book) =
        wiring::custody(&pool, parts.fee_payments, &rules, &directory, clock.clone());
    let state = AppState {
        partners: directory.clone(),
        members: member_service(directory.clone(), parts.identity_verifier, clock.clone()),
        products: product_service(&directory, &rules, clock.clone()),
        product_repo: directory.clone(),
        checkouts: checkouts.clone(),
        trades: trades.clone(),
        queries: Arc::new(PgTradeQueries::new(pool.clone())),
        rules: rules.clone(),
        admin: Arc::new(PgAdmin::new(pool.clone(), parts.sealer)),
        outbox: outbox_store,
        events: Arc::new(escrow_postgres::PgEventLog::new(pool.clone())),
        tokens: TokenIssuer::new(parts.token_keys),
        links: LinkSigner::new(parts.link_key),
        clock: clock.clone(),
        public_base_url: parts.public_base_url.trim_end_matches('/').to_owned(),
        metrics,
        settlements: Arc::new(Settlements::new(ledger)),
        test_clocks: Arc::new(escrow_domain::services::TestClockService::new(
            test_clocks.clone(),
            trades.clone(),
            checkouts.clone(),
            clock.clone(),
        )),
        limiter: Arc::new(escrow_domain::rate_limit::RequestLimiter::new(
            request_counter,
            rules.clone(),
            clock.clone(),
        )),
        refunds: refund_queue,
        refund_accounts,
        payout_accounts,
        payment_setup,
        deliveries,
        address_book,
    };
    let (base_url, handle, server) = listen(state, parts.listener, parts.workers)?;
    if let Some(every) = parts.job_interval {
        spawn_jobs(jobs.clone(), every);
    }
    Ok(RunningServer {
        base_url,
        handle,
        server,
        trades,
        checkouts,
        jobs,
        gateway_simulators: gateways.simulators,
    })
}

/// Serves `state` on `listener` with `workers` threads; answers the base URL, the handle and the task.
#[allow(clippy::type_complexity)]
fn listen(
    state: AppState,
    listener: std::net::TcpListener,
    workers: usize,
) -> std::io::Result<(
    String,
    ServerHandle,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    let addr = listener.local_addr()?;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || escrow_http::app(data.clone()))
        .workers(workers.max(1))
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
    let handle = server.handle();
    Ok((format!("http://{addr}"), handle, tokio::spawn(server)))
}

fn spawn_jobs(jobs: Arc<Jobs>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match jobs.run_once().await {
                Ok(report) => tracing::debug!(?report, "jobs ran"),
                Err(error) => {
                    jobs.metrics
                        .job_runs
                        .with_label_values(&["all", "error"])
                        .inc();
                    tracing::warn!(%error, "a job failed; the next run retries")
                }
            }
        }
    });
}

/// The real clock.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

pub use logging::{log_filter, SECRET_BEARING_LOG_TARGETS};
