//! `escrow-bench`: starts the server on a private PostgreSQL, creates the data it needs, drives
//! concurrent load on (a) checkout creation and (b) the ship transition, and runs pgbench (TPC-B-like,
//! same client count) on the same PostgreSQL; prints req/s, p50, p99, errors and the ratio to pgbench.
//!
//! `cargo run --release -p escrow-bench -- --clients 16 --requests 4000`

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

mod measure;

use clap::Parser;
use escrow_domain::checkout::{Checkout, CheckoutStatus, ShippingAddress};
use escrow_domain::contract::{Contract, PaymentMethod, TradeType};
use escrow_domain::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use escrow_domain::money::Money;
use escrow_domain::people::{
    Member, MemberStatus, Partner, PartnerSecrets, PartnerStatus, PhoneNumber, Secret,
};
use escrow_domain::ports::CheckoutRepository;
use escrow_domain::ports::{Clock, PartnerRepository, SystemClock};
use escrow_domain::product::{Product, ProductStatus};
use escrow_domain::quote::QuoteRequest;
use escrow_domain::trade::OpenTrade;
use escrow_http::{TokenIssuer, TokenKey};
use escrow_postgres::cluster::{free_port, LocalCluster};
use escrow_postgres::{Directory, PgCheckoutRepository};
use escrow_server::{start, ServerParts};
use escrow_unifipay::simulator::{Simulator, SimulatorConfig};
use measure::{drive, pgbench, Stats};

/// Load test of the escrow server against pgbench on the same PostgreSQL.
#[derive(Parser, Debug)]
struct Args {
    /// Concurrent clients (HTTP and pgbench alike).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Requests per scenario (bounded; the run also stops after --max-seconds).
    #[arg(long, default_value_t = 4000)]
    requests: usize,
    /// Longest a scenario may run.
    #[arg(long, default_value_t = 60)]
    max_seconds: u64,
    /// pgbench duration in seconds.
    #[arg(long, default_value_t = 15)]
    pgbench_seconds: u64,
    /// HTTP worker threads of the server.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("escrow-bench: {message}");
    std::process::exit(1);
}

/// The benchmark delivers nothing (the outbox worker does not run): these only satisfy the wiring.
struct NoMessages;

/// The benchmark registers no payout accounts: any lookup is answered as unavailable.
#[async_trait::async_trait]
impl escrow_domain::payout_account::AccountVerifier for NoMessages {
    async fn holder_of(
        &self,
        _bank_code: &str,
        _number: &str,
    ) -> Result<Option<String>, escrow_domain::payout_account::VerifierError> {
        Err(escrow_domain::payout_account::VerifierError::Unavailable(
            "not in the benchmark".into(),
        ))
    }
}

#[async_trait::async_trait]
impl escrow_domain::custody::FeePayments for NoMessages {
    async fn find(
        &self,
        _imp_uid: &str,
    ) -> Result<
        Option<escrow_domain::custody::GatewayPayment>,
        escrow_domain::custody::FeePaymentError,
    > {
        Err(escrow_domain::custody::FeePaymentError::Unavailable(
            "not in the benchmark".into(),
        ))
    }

    async fn cancel(
        &self,
        _imp_uid: &str,
        _checksum: i64,
        _reason: &str,
    ) -> Result<escrow_domain::custody::GatewayPayment, escrow_domain::custody::FeePaymentError>
    {
        Err(escrow_domain::custody::FeePaymentError::Unavailable(
            "not in the benchmark".into(),
        ))
    }
}

#[async_trait::async_trait]
impl escrow_domain::delivery::AlimTalkSender for NoMessages {
    async fn send(
        &self,
        _: &escrow_domain::delivery::AlimTalkMessage,
    ) -> Result<(), escrow_domain::delivery::DeliveryError> {
        Ok(())
    }
}

#[async_trait::async_trait]
impl escrow_domain::delivery::CallbackSender for NoMessages {
    async fn post(
        &self,
        _: &str,
        _: &[u8],
        _: &[Vec<u8>],
    ) -> Result<(), escrow_domain::delivery::DeliveryError> {
        Ok(())
    }
}

/// The seeded people: the partner, one buyer, and sellers with at most [`PER_SELLER`] products each.
struct People {
    partner: Partner,
    buyer: Member,
    sellers: Vec<Member>,
}

/// Products per seller, so no seller limit is reached by the run.
const PER_SELLER: usize = 500;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let work = std::env::temp_dir().join(format!("escrow-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap_or_else(|e| fail(e));
    let (cluster, db) = start_database(&work, args.clients).await;
    let sealer =
        escrow_postgres::SecretSealer::from_base64(
            &[escrow_postgres::SecretSealer::generate_key()],
        )
        .unwrap_or_else(|e| fail(e));
    let directory = Directory::new(db.pool.clone(), sealer.clone());
    let people = seed_people(&directory, 2 * args.requests).await;
    let sim = Simulator::start(
        SimulatorConfig {
            app_id: "a".into(),
            api_key: "k".into(),
            app_secret: "s".into(),
            store_id: "st".into(),
            currency: "KRW".into(),
        },
        TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(e)),
    )
    .unwrap_or_else(|e| fail(e));
    let key = TokenKey {
        kid: "bench".into(),
        secret: b"bench-token-key-0123456789abcdef0".to_vec(),
    };
    let (running, base) = start_server(&db, sealer, &sim.base_url, key.clone(), args.workers).await;
    eprintln!(
        "preparing {} products and {} trades…",
        args.requests, args.requests
    );
    let mut checkout_products = Vec::new();
    for i in 0..args.requests {
        let p = product(&people, i);
        directory
            .create_product(&p)
            .await
            .unwrap_or_else(|e| fail(e));
        checkout_products.push(p.id);
    }
    let checkouts = PgCheckoutRepository::new(db.pool.clone());
    let mut trade_ids = Vec::new();
    for i in args.requests..2 * args.requests {
        let p = product(&people, i);
        directory
            .create_product(&p)
            .await
            .unwrap_or_else(|e| fail(e));
        trade_ids.push((
            paid_trade(&running, &checkouts, &people, &p).await,
            p.seller_id,
        ));
    }
    let issuer = TokenIssuer::new(vec![key]);
    let token = |m: MemberId| {
        issuer
            .issue(people.partner.id, m, SystemClock.now())
            .map(|(t, _)| t)
            .unwrap_or_else(|_| fail("token"))
    };
    let buyer_token = token(people.buyer.id);
    let seller_tokens: std::collections::HashMap<MemberId, String> =
        people.sellers.iter().map(|s| (s.id, token(s.id))).collect();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .unwrap_or_else(|e| fail(e));
    let max = Duration::from_secs(args.max_seconds);

    let (h, b) = (http.clone(), base.clone());
    let baseline = drive(
        "GET /healthz (no DB)",
        args.clients,
        args.requests,
        max,
        move |_| h.get(format!("{b}/healthz")),
    )
    .await;
    let (h, b) = (http.clone(), base.clone());
    let checkout = drive("checkout creation", args.clients, args.requests, max, move |i| {
        h.post(format!("{b}/api/v1/checkouts"))
            .bearer_auth(&buyer_token)
            .header("Idempotency-Key", format!("bench-{i}"))
            .json(&serde_json::json!({
                "productId": checkout_products[i],
                "paymentMethod": "CARD",
                "tradeType": "GENERAL",
                "shippingAddress": { "recipient": "a", "phone": "01012345678", "postcode": "1", "address": "a", "addressDetail": "a" },
                "returnUrl": "https://market.example/r"
            }))
    })
    .await;
    let (h, b) = (http.clone(), base.clone());
    let ship = drive(
        "ship (31→32)",
        args.clients,
        args.requests,
        max,
        move |i| {
            let (id, seller) = trade_ids[i];
            h.post(format!("{b}/api/v1/trades/{id}/shipment"))
                .bearer_auth(&seller_tokens[&seller])
                .json(&serde_json::json!({ "carrier": "005", "invoiceNumber": format!("{i}") }))
        },
    )
    .await;
    running.handle.stop(true).await;
    sim.stop().await;

    let pgbench = pgbench(&cluster, args.clients, args.pgbench_seconds, &work);
    report(&args, &[&baseline, &checkout, &ship], pgbench);
    let _ = cluster.stop();
    let _ = std::fs::remove_dir_all(&work);
}

/// A private, durable PostgreSQL cluster under `work` with a migrated `escrow` database.
async fn start_database(work: &Path, clients: usize) -> (LocalCluster, escrow_postgres::Database) {
    let cluster = LocalCluster::new(work.join("pg"), free_port().unwrap_or_else(|e| fail(e)))
        .unwrap_or_else(|e| fail(e));
    cluster.init().unwrap_or_else(|e| fail(e));
    // Durable settings (fsync on): both the service and pgbench pay for real commits.
    cluster.start(false).unwrap_or_else(|e| fail(e));
    // However the run ends, the cluster and its folder go with the process.
    cluster
        .remove_when_process_exits(std::process::id())
        .unwrap_or_else(|e| fail(e));
    let created = Command::new(cluster.bin_dir().join("createdb"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port().to_string(),
            "-U",
            "postgres",
            "escrow",
        ])
        .output()
        .unwrap_or_else(|e| fail(format!("createdb: {e}")));
    if !created.status.success() {
        fail(format!(
            "createdb: {}",
            String::from_utf8_lossy(&created.stderr)
        ));
    }
    let db = escrow_postgres::connect(&cluster.url("escrow"), clients + 8)
        .await
        .unwrap_or_else(|e| fail(e));
    (cluster, db)
}

/// A partner, a buyer, and enough sellers for `products` products.
async fn seed_people(directory: &Directory, products: usize) -> People {
    let partner = Partner {
        id: PartnerId::random(),
        code: "bench".into(),
        name: "bench".into(),
        api_key_id: "pk_bench".into(),
        webhook_url: None,
        allowed_redirect_origins: vec!["https://market.example".into()],
        status: PartnerStatus::Active,
        mode: escrow_domain::people::PartnerMode::Live,
        created_at: SystemClock.now(),
    };
    let secrets = PartnerSecrets {
        api_secret: Secret::new("sk_bench_0123456789abcdef"),
        webhook_secret: None,
        webhook_secret_previous: None,
    };
    PartnerRepository::create(directory, &partner, &secrets)
        .await
        .unwrap_or_else(|e| fail(e));
    let member = |user: String| Member {
        id: MemberId::random(),
        partner_id: partner.id,
        partner_user_id: user,
        status: MemberStatus::Active,
        name: "벤치".into(),
        phone: PhoneNumber::new("01012345678").unwrap_or_else(|_| fail("phone")),
        birth_date: time::macros::date!(1990 - 01 - 01),
        created_at: SystemClock.now(),
        withdrawn_at: None,
        test_clock: None,
    };
    let buyer = member("buyer".into());
    directory
        .create_member(&buyer, "x")
        .await
        .unwrap_or_else(|e| fail(e));
    let mut sellers = Vec::new();
    for s in 0..products.div_ceil(PER_SELLER) {
        let m = member(format!("seller-{s}"));
        directory
            .create_member(&m, "x")
            .await
            .unwrap_or_else(|e| fail(e));
        sellers.push(m);
    }
    People {
        partner,
        buyer,
        sellers,
    }
}

/// The server on a random port, its gateway the simulator at `pg_url`; and its base URL.
async fn start_server(
    db: &escrow_postgres::Database,
    sealer: escrow_postgres::SecretSealer,
    pg_url: &str,
    key: TokenKey,
    workers: usize,
) -> (escrow_server::RunningServer, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(e));
    let base = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| fail(e))
    );
    let pg =
        escrow_server::config::GatewaySettings::unifipay("unifipay", pg_url, "a", "k", "s", "st");
    let running = start(
        db,
        ServerParts {
            listener,
            public_base_url: base.clone(),
            gateways: vec![pg],
            token_keys: vec![key],
            link_key: b"bench-link-key-0123456789abcdef01".to_vec(),
            sealer,
            clock: Arc::new(SystemClock),
            workers,
            job_interval: None,
            alimtalk: Arc::new(NoMessages),
            test_alimtalk: None,
            callbacks: Arc::new(NoMessages),
            template_overrides: Default::default(),
            account_verifier: Arc::new(NoMessages),
            fee_payments: Arc::new(NoMessages),
            identity_verifier: Arc::new(escrow_domain::signup::SandboxIdentityVerifier),
        },
    )
    .await
    .unwrap_or_else(|e| fail(e));
    (running, base)
}

/// Product `i`, of seller `i / PER_SELLER`.
fn product(people: &People, i: usize) -> Product {
    let now = SystemClock.now();
    Product {
        id: ProductId::random(),
        partner_id: people.partner.id,
        seller_id: people.sellers[i / PER_SELLER].id,
        partner_product_id: format!("p-{i}"),
        name: "벤치 상품".into(),
        price: Money::krw(10_000),
        shipping_fee: Money::krw(0),
        payment_methods: vec![PaymentMethod::Card],
        description: None,
        image_url: None,
        category_code: None,
        status: ProductStatus::OnSale,
        has_trades: false,
        created_at: now,
        updated_at: now,
    }
}

/// A trade at 31 on `p`: its checkout opened and paid, as the payment flow leaves them.
async fn paid_trade(
    running: &escrow_server::RunningServer,
    checkouts: &PgCheckoutRepository,
    people: &People,
    p: &Product,
) -> TradeId {
    let contract = Contract::standard_2022();
    let now = SystemClock.now();
    let quote = contract
        .quote(
            &QuoteRequest {
                product_price: p.price,
                shipping_fee: p.shipping_fee,
                method: PaymentMethod::Card,
                trade_type: TradeType::General,
            },
            &p.payment_methods,
        )
        .unwrap_or_else(|e| fail(e));
    let c = Checkout {
        id: CheckoutId::random(),
        partner_id: people.partner.id,
        buyer_id: people.buyer.id,
        seller_id: p.seller_id,
        product_id: p.id,
        method: PaymentMethod::Card,
        trade_type: TradeType::General,
        quote,
        shipping_address: ShippingAddress {
            recipient: "a".into(),
            phone: PhoneNumber::new("01012345678").unwrap_or_else(|_| fail("phone")),
            postcode: "1".into(),
            address: "a".into(),
            address_detail: "a".into(),
            requirement: None,
        },
        return_url: "https://market.example/r".into(),
        partner_trade_no: None,
        status: CheckoutStatus::Open,
        failure_code: None,
        pg_gateway: Some("unifipay".into()),
        pg_merchant: None,
        pg_transaction_id: None,
        expires_at: now + time::Duration::minutes(30),
        created_at: now,
        trade_id: None,
        test_clock: None,
    };
    checkouts
        .open(&c, &contract.seller_limits, None)
        .await
        .unwrap_or_else(|e| fail(e));
    running
        .trades
        .open(OpenTrade {
            id: TradeId::random(),
            partner_id: people.partner.id,
            checkout_id: c.id,
            partner_trade_no: None,
            buyer_id: people.buyer.id,
            seller_id: p.seller_id,
            product_id: p.id,
            product_name: p.name.clone(),
            trade_type: TradeType::General,
            method: PaymentMethod::Card,
            quote,
            deposit_account: None,
            deposit_due: None,
            payment_transaction_id: None,
            test_clock: None,
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .trade
        .id
}

/// Prints each scenario and the ship scenario against pgbench's `(tps, p50, p99)`.
fn report(args: &Args, scenarios: &[&Stats], (tps, pg50, pg99): (f64, f64, f64)) {
    println!(
        "\nclients: {}, requests per scenario: {}",
        args.clients, args.requests
    );
    for s in scenarios {
        s.print();
    }
    println!(
        "{:<22} {:>6}    {:>4}         {:>8.1} tps    p50 {:>6.2} ms  p99 {:>6.2} ms",
        "pgbench (TPC-B-like)", "", "", tps, pg50, pg99
    );
    if let Some(ship) = scenarios.last() {
        println!(
            "\nship / pgbench: {:.0}% of pgbench's TPS; p99 {:.2} ms vs pgbench p99 + 5 ms = {:.2} ms; errors {}",
            100.0 * ship.rate() / tps,
            ship.percentile(99.0),
            pg99 + 5.0,
            ship.errors
        );
    }
}
