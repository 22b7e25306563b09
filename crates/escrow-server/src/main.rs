//! `escrow-server`: runs the service (default), or an operator command.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use escrow_alimtalk::simulator::AlimTalkSimulator;
use escrow_alimtalk::{AlimTalkClient, AlimTalkConfig, Fallback};
use escrow_callbacks::HttpCallbackSender;
use escrow_domain::ports::AdminRepository;
use escrow_http::TokenKey;
use escrow_server::config::Settings;
use escrow_server::{sandbox, start, system_clock, ServerParts};
use secrecy::ExposeSecret;
use std::sync::Arc;

mod partner_cli;
use partner_cli::{partner_command, PartnerCommand};

/// The escrow (안전거래) service.
#[derive(Parser)]
#[command(name = "escrow-server", version, about)]
struct Cli {
    /// A TOML configuration file (default: ./escrow.toml when it exists). `ESCROW__…` variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the HTTP server and the jobs (the default).
    Serve,
    /// Applies pending database migrations and exits.
    Migrate,
    /// Partner administration.
    Partner {
        #[command(subcommand)]
        command: PartnerCommand,
    },
    /// Admin keys.
    AdminKey {
        #[command(subcommand)]
        command: AdminKeyCommand,
    },
    /// Batch jobs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Payouts.
    Payouts {
        #[command(subcommand)]
        command: PayoutsCommand,
    },
    /// Secrets at rest.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// The money ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Checks the journal against the trades, refunds and payouts (SPEC §15) and prints a report.
    /// Exit status: 0 when everything agrees, 1 on any mismatch, 2 when the check could not run.
    Check,
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Seals again every partner secret stored in plaintext or with an older master key (after
    /// putting a new key first in `security.master_keys`).
    Reseal,
}

#[derive(Subcommand)]
enum PayoutsCommand {
    /// Prints the instructed payouts as CSV, the operator's bank transfer file.
    BankFile {
        /// Only payouts due on this date (YYYY-MM-DD).
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminKeyCommand {
    /// Creates an admin key and prints it (shown once).
    Create {
        /// Who it is for.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Runs every job once (checkout expiry, trade timers, outbox delivery) and exits.
    Run {
        /// The time the jobs see (RFC 3339); now when absent.
        #[arg(long)]
        at: Option<String>,
    },
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("escrow-server: {message}");
    std::process::exit(2);
}

struct Env {
    settings: Settings,
    db: escrow_postgres::Database,
    secrets: Option<sandbox::SandboxSecrets>,
    cluster: Option<escrow_postgres::cluster::LocalCluster>,
    sealer: escrow_postgres::SecretSealer,
}

impl Env {
    /// Ends an operator command: stops the sandbox PostgreSQL if this process started it.
    fn finish(self) {
        if let Some(c) = self.cluster {
            let _ = c.stop();
        }
    }
}

/// The master keys: configured, or the sandbox's; a deployment without them does not start.
fn sealer(
    settings: &Settings,
    secrets: Option<&sandbox::SandboxSecrets>,
) -> escrow_postgres::SecretSealer {
    let keys: Vec<String> = if settings.security.master_keys.is_empty() {
        match secrets.and_then(|s| s.master_key.clone()) {
            Some(k) => vec![k],
            None => fail("security.master_keys is required when database.url is set"),
        }
    } else {
        settings.master_keys()
    };
    escrow_postgres::SecretSealer::from_base64(&keys)
        .unwrap_or_else(|e| fail(format!("security.master_keys: {}", e.0)))
}

async fn environment(config: Option<&std::path::Path>) -> Env {
    let settings = Settings::load(config).unwrap_or_else(|e| fail(e));
    let (url, secrets, cluster) = match &settings.database_url() {
        Some(url) => (url.clone(), None, None),
        None => {
            let secrets = sandbox::secrets(&settings.data_dir)
                .unwrap_or_else(|e| fail(format!("sandbox data folder: {e}")));
            let (cluster, url) = sandbox::database_url(&settings.data_dir, secrets.pg_port)
                .await
                .unwrap_or_else(|e| fail(format!("could not start the sandbox PostgreSQL: {e}")));
            (url, Some(secrets), cluster)
        }
    };
    let sealer = sealer(&settings, secrets.as_ref());
    let db = escrow_postgres::connect(&url, settings.database.pool_size)
        .await
        .unwrap_or_else(|e| fail(format!("database: {e}")));
    Env {
        settings,
        db,
        secrets,
        cluster,
        sealer,
    }
}

struct Launched {
    running: escrow_server::RunningServer,
    public: String,
    secrets: Option<sandbox::SandboxSecrets>,
    cluster: Option<escrow_postgres::cluster::LocalCluster>,
    alimtalk_sim: Option<AlimTalkSimulator>,
    account_sim: Option<escrow_accountcheck::simulator::AccountSimulator>,
    portone_sim: Option<escrow_portone::simulator::SimulatorHandle>,
}

/// The PortOne client, and the simulator it talks to when `[portone] mode = "simulator"` (its
/// webhooks go to our `/pg/portone/webhook`).
fn portone(
    p: &escrow_server::config::PortOneSettings,
    public: &str,
) -> std::io::Result<(
    Arc<escrow_portone::PortOneClient>,
    Option<escrow_portone::simulator::SimulatorHandle>,
)> {
    let (url, sim) = if p.mode == escrow_server::config::PeerMode::Simulator {
        let sim = escrow_portone::simulator::Simulator::start(
            &p.imp_key,
            p.imp_secret.expose_secret(),
            TcpListener::bind("127.0.0.1:0")?,
            Some(format!("{public}/pg/portone/webhook")),
        )?;
        (sim.base_url.clone(), Some(sim))
    } else {
        (p.base_url.clone().unwrap_or_default(), None)
    };
    let client = escrow_portone::PortOneClient::new(escrow_portone::PortOneConfig {
        api_url: url,
        imp_key: p.imp_key.clone(),
        imp_secret: p.imp_secret.expose_secret().to_owned(),
        timeout: Duration::from_millis(p.timeout_ms),
    })
    .unwrap_or_else(|e| fail(format!("PortOne client: {e}")));
    Ok((Arc::new(client), sim))
}

/// Builds every adapter from the configuration and starts the server (`listen`, or the configured
/// address) with `clock`; jobs run on their schedule when `scheduled`.
/// The AlimTalk sender, and the simulator it talks to when `[alimtalk] mode = "simulator"`.
fn alimtalk(
    a: &escrow_server::config::AlimTalkSettings,
) -> std::io::Result<(
    Arc<dyn escrow_domain::delivery::AlimTalkSender>,
    Option<AlimTalkSimulator>,
)> {
    let (alimtalk_url, alimtalk_sim) = if a.mode == escrow_server::config::PeerMode::Simulator {
        let sim = AlimTalkSimulator::start(
            TcpListener::bind("127.0.0.1:0")?,
            a.secret_key.expose_secret(),
        )?;
        (sim.base_url.clone(), Some(sim))
    } else {
        (a.base_url.clone().unwrap_or_default(), None)
    };
    let client = AlimTalkClient::new(AlimTalkConfig {
        base_url: alimtalk_url,
        app_key: a.app_key.clone(),
        secret_key: a.secret_key.clone(),
        sender_key: a.sender_key.clone(),
        fallback: a.fallback_type.clone().zip(a.fallback_send_no.clone()).map(
            |(resend_type, send_no)| Fallback {
                resend_type,
                send_no,
            },
        ),
        timeout: Duration::from_millis(a.timeout_ms),
    })
    .unwrap_or_else(|e| fail(format!("AlimTalk client: {e}")));
    Ok((Arc::new(client), alimtalk_sim))
}

async fn launch(
    env: Env,
    clock: Arc<dyn escrow_domain::ports::Clock>,
    listen: Option<&str>,
    scheduled: bool,
) -> std::io::Result<Launched> {
    let Env {
        settings,
        db,
        secrets,
        cluster,
        sealer,
    } = env;
    let public = settings.public_base_url();
    if let Some(s) = &secrets {
        sandbox::seed(&db, s, &sealer, &public)
            .await
            .unwrap_or_else(|e| fail(format!("sandbox seed: {e}")));
    }
    let token_keys: Vec<TokenKey> = if settings.security.token_keys.is_empty() {
        match &secrets {
            Some(s) => vec![TokenKey {
                kid: "sandbox".into(),
                secret: s.token_secret.clone().into_bytes(),
            }],
            None => fail("security.token_keys is required when database.url is set"),
        }
    } else {
        settings
            .security
            .token_keys
            .iter()
            .map(|k| TokenKey {
                kid: k.kid.clone(),
                secret: k.secret.expose_secret().as_bytes().to_vec(),
            })
            .collect()
    };
    let link_key = match (&settings.security.link_key, &secrets) {
        (Some(k), _) => k.expose_secret().as_bytes().to_vec(),
        (None, Some(s)) => s.link_key.clone().into_bytes(),
        (None, None) => fail("security.link_key is required when database.url is set"),
    };
    let (alimtalk, alimtalk_sim) = alimtalk(&settings.alimtalk)?;
    let v = &settings.account_verifier;
    let (verifier_url, account_sim) = if v.mode == escrow_server::config::PeerMode::Simulator {
        let sim = escrow_accountcheck::simulator::AccountSimulator::start(
            TcpListener::bind("127.0.0.1:0")?,
            &v.mid,
            v.api_key.expose_secret(),
        )?;
        (sim.base_url.clone(), Some(sim))
    } else {
        (v.base_url.clone().unwrap_or_default(), None)
    };
    let account_verifier =
        escrow_accountcheck::InicisAccountVerifier::new(&verifier_url, &v.mid, v.api_key.clone())
            .unwrap_or_else(|e| fail(format!("account verifier client: {e}")));
    let (portone_client, portone_sim) = portone(&settings.portone, &public)?;
    let callbacks = HttpCallbackSender::new(Duration::from_secs(10))
        .unwrap_or_else(|e| fail(format!("callback client: {e}")));
    let address = listen.unwrap_or(&settings.http.listen).to_owned();
    let listener = TcpListener::bind(&address)
        .unwrap_or_else(|e| fail(format!("cannot listen on {address}: {e}")));
    let running = start(
        &db,
        ServerParts {
            listener,
            public_base_url: public.clone(),
            gateways: settings.gateways(),
            token_keys,
            link_key,
            sealer,
            clock,
            workers: settings
                .http
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
            job_interval: (scheduled && settings.jobs.enabled)
                .then(|| Duration::from_secs(settings.jobs.interval_seconds)),
            test_alimtalk: alimtalk_sim
                .is_some()
                .then(|| -> Arc<dyn escrow_domain::delivery::AlimTalkSender> { alimtalk.clone() }),
            alimtalk,
            callbacks: Arc::new(callbacks),
            template_overrides: settings.alimtalk.overrides(),
            account_verifier: Arc::new(account_verifier),
            identity_verifier: match settings.identity.provider {
                escrow_server::config::IdentityProvider::Portone => Arc::new(
                    escrow_portone::PortOneIdentityVerifier::new(portone_client.clone()),
                ),
                escrow_server::config::IdentityProvider::Sandbox => {
                    Arc::new(escrow_domain::signup::SandboxIdentityVerifier)
                }
            },
            fee_payments: portone_client,
        },
    )
    .await?;
    Ok(Launched {
        running,
        public,
        secrets,
        cluster,
        alimtalk_sim,
        account_sim,
        portone_sim,
    })
}

async fn shutdown(mut l: Launched) {
    for sim in std::mem::take(&mut l.running.gateway_simulators) {
        sim.stop().await;
    }
    if let Some(sim) = l.alimtalk_sim {
        sim.stop().await;
    }
    if let Some(sim) = l.portone_sim.take() {
        sim.stop().await;
    }
    if let Some(sim) = l.account_sim {
        sim.stop().await;
    }
    if let Some(c) = l.cluster {
        let _ = c.stop();
    }
}

async fn serve(env: Env) -> std::io::Result<()> {
    let mut l = launch(env, system_clock(), None, true).await?;
    tracing::info!(url = %l.running.base_url, "escrow-server listening");
    if let Some(s) = &l.secrets {
        println!(
            "{}",
            sandbox::banner(
                s,
                &l.public,
                l.running
                    .gateway_simulators
                    .first()
                    .map_or("-", |s| s.base_url())
            )
        );
        if let Some(sim) = &l.portone_sim {
            println!("PortOne simulator (delivery fees): {}/pay", sim.base_url);
        }
    }
    let server = std::mem::replace(&mut l.running.server, tokio::spawn(async { Ok(()) }));
    let result = server
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    shutdown(l).await;
    result
}

/// A clock stopped at one instant (`jobs run --at`).
struct FixedClock(time::OffsetDateTime);

impl escrow_domain::ports::Clock for FixedClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Human-readable lines on a terminal (the sandbox console), JSON otherwise;
    // ESCROW_LOG_FORMAT=json|text decides instead.
    let logs = tracing_subscriber::fmt().with_env_filter(escrow_server::log_filter(
        std::env::var("ESCROW_LOG").ok().as_deref(),
    ));
    let text = match std::env::var("ESCROW_LOG_FORMAT").ok().as_deref() {
        Some("json") => false,
        Some("text") => true,
        _ => std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    if text {
        logs.compact().init();
    } else {
        logs.json().with_current_span(true).init();
    }
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(environment(config).await).await,
        Command::Migrate => {
            let env = environment(config).await;
            println!("database migrated");
            env.finish();
            Ok(())
        }
        Command::Partner { command } => partner_command(environment(config).await, command).await,
        Command::AdminKey {
            command: AdminKeyCommand::Create { name },
        } => create_admin_key(environment(config).await, &name).await,
        Command::Payouts {
            command: PayoutsCommand::BankFile { date },
        } => payout_bank_file(environment(config).await, date).await,
        Command::Secrets {
            command: SecretsCommand::Reseal,
        } => reseal_secrets(environment(config).await).await,
        Command::Jobs {
            command: JobsCommand::Run { at },
        } => run_jobs(environment(config).await, at).await,
        Command::Ledger {
            command: LedgerCommand::Check,
        } => ledger_check(environment(config).await).await,
    }
}

/// `admin-key create`: prints the new key once; only its hash is stored.
async fn create_admin_key(env: Env, name: &str) -> std::io::Result<()> {
    let key = format!(
        "adm_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    escrow_postgres::PgAdmin::new(env.db.pool.clone(), env.sealer.clone())
        .create_admin_key(name, &escrow_http::admin_key_hash(&key))
        .await
        .unwrap_or_else(|e| fail(e));
    println!("{key}");
    env.finish();
    Ok(())
}

/// `payouts bank-file`: the instructed payouts of a date (or all) as CSV.
async fn payout_bank_file(env: Env, date: Option<String>) -> std::io::Result<()> {
    let date = date.map(|d| {
        time::Date::parse(
            &d,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .unwrap_or_else(|_| fail(format!("--date {d:?}: use YYYY-MM-DD")))
    });
    let csv = escrow_postgres::LedgerPayoutInstructor::new(env.db.pool.clone(), env.sealer.clone())
        .bank_file(date)
        .await
        .unwrap_or_else(|e| fail(e));
    print!("{csv}");
    env.finish();
    Ok(())
}

/// `ledger check`: every mismatch on its own line, then a summary; exit 1 on any mismatch.
async fn ledger_check(env: Env) -> std::io::Result<()> {
    use escrow_domain::ports::LedgerReader;
    let ledger = escrow_postgres::PgLedger::new(env.db.pool.clone());
    let facts = ledger.facts(None).await.unwrap_or_else(|e| fail(e));
    let found = escrow_domain::ledger::check(&facts);
    for m in &found {
        println!("MISMATCH {m}");
    }
    println!(
        "ledger check: {} trades, {} payouts, {} refunds, {} account totals; {} mismatches",
        facts.trades.len(),
        facts.payouts.len(),
        facts.refunds.len(),
        facts.postings.len(),
        found.len()
    );
    env.finish();
    if !found.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

/// `secrets reseal`: partner secrets, payout and refund accounts and merchant keys sealed again with the first master key.
async fn reseal_secrets(env: Env) -> std::io::Result<()> {
    let directory = escrow_postgres::Directory::new(env.db.pool.clone(), env.sealer.clone());
    let n = directory
        .reseal_partner_secrets()
        .await
        .unwrap_or_else(|e| fail(e));
    println!("{n} partner(s) sealed with the current master key");
    let n = directory
        .reseal_payout_accounts()
        .await
        .unwrap_or_else(|e| fail(e));
    println!("{n} payout account row(s) sealed with the current master key");
    let n = directory
        .reseal_refund_accounts()
        .await
        .unwrap_or_else(|e| fail(e));
    println!("{n} refund account(s) sealed with the current master key");
    let n = escrow_postgres::PgPaymentSetup::new(env.db.pool.clone(), env.sealer.clone())
        .reseal_merchant_keys()
        .await
        .unwrap_or_else(|e| fail(e));
    println!("{n} merchant(s) sealed with the current master key");
    env.finish();
    Ok(())
}

/// `jobs run [--at T]`: every job once, at `T` or now.
async fn run_jobs(env: Env, at: Option<String>) -> std::io::Result<()> {
    let clock: Arc<dyn escrow_domain::ports::Clock> = match at {
        Some(text) => Arc::new(FixedClock(
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| {
                    fail(format!(
                        "--at {text:?}: use RFC 3339, e.g. 2025-03-11T10:01:00+09:00"
                    ))
                }),
        )),
        None => system_clock(),
    };
    let l = launch(env, clock, Some("127.0.0.1:0"), false).await?;
    let report = l.running.jobs.run_once().await.unwrap_or_else(|e| fail(e));
    println!("{report:?}");
    l.running.handle.stop(true).await;
    shutdown(l).await;
    Ok(())
}
