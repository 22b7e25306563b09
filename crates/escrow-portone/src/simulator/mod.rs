//! A local PortOne (V1 REST) for tests and the sandbox: `POST /users/getToken`, `GET
//! /payments/{imp_uid}`, `POST /payments/cancel` (refusing a `checksum` that is not the refundable
//! balance), `GET /certifications/{imp_uid}`, a pay page the buyer's browser opens (approve or
//! decline), and the unsigned webhook it posts after a payment — with switches to misbehave: decline,
//! report another amount, answer 5xx, hang, and expire every token it issued.
//!
//! Start it in-process with [`Simulator::start`] or as the `portone-sim` binary. Switches:
//! [`SimulatorHandle::set_behavior`] or `PUT /_sim/behavior`; token rotation:
//! [`SimulatorHandle::expire_tokens`] or `POST /_sim/expire-tokens`; what happened: `GET /_sim/state`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use serde::{Deserialize, Serialize};

mod handlers;

use crate::wire::{Certification, Payment, Webhook};

/// How the API endpoints (payments, cancel, certifications) answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointMode {
    /// Normally.
    #[default]
    Normal,
    /// HTTP 500.
    ServerError,
    /// Waits `hang_ms` before answering.
    Hang,
}

/// The switches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behavior {
    /// The card company declines: the payment is `failed`.
    pub decline: bool,
    /// The buyer paid another amount than was asked (a forged client: 100 won).
    pub other_amount: bool,
    /// How the API endpoints answer.
    pub api: EndpointMode,
    /// Tokens it issues live only 30 seconds (under any client's caching margin).
    pub short_tokens: bool,
    /// How long `Hang` waits, ms (default 30 s).
    pub hang_ms: Option<u64>,
}

/// What happened, for tests (`GET /_sim/state`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimState {
    /// Access tokens issued.
    pub tokens_issued: usize,
    /// Calls refused for an unknown or expired token.
    pub unauthorized: usize,
    /// Cancels made: the payment and the amount.
    pub cancelled: Vec<(String, i64)>,
    /// Cancels refused, with PortOne's message.
    pub cancels_refused: Vec<(String, String)>,
    /// Webhooks posted: the payment and the HTTP status they got.
    pub webhooks: Vec<(String, u16)>,
}

struct State {
    imp_key: String,
    imp_secret: String,
    public_url: String,
    webhook_url: Mutex<Option<String>>,
    behavior: Mutex<Behavior>,
    /// token → expires (unix seconds).
    tokens: Mutex<HashMap<String, i64>>,
    payments: Mutex<HashMap<String, Payment>>,
    certifications: Mutex<HashMap<String, Certification>>,
    record: Mutex<SimState>,
    http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn new_uid(prefix: &str) -> String {
    let digits: String = uuid::Uuid::new_v4()
        .as_u128()
        .to_string()
        .chars()
        .take(12)
        .collect();
    format!("{prefix}_{digits}")
}

impl State {
    async fn post_webhook(&self, payment: &Payment) -> u16 {
        let Some(url) = lock(&self.webhook_url).clone() else {
            return 0;
        };
        let hook = Webhook {
            imp_uid: payment.imp_uid.clone(),
            merchant_uid: payment.merchant_uid.clone(),
            status: payment.status.clone(),
        };
        let status = match self.http.post(&url).json(&hook).send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        lock(&self.record)
            .webhooks
            .push((payment.imp_uid.clone(), status));
        status
    }
}

/// A certification to create (`POST /_sim/certifications`): what the person proved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCertification {
    /// Name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birthday: String,
    /// Mobile phone (digits).
    pub phone: String,
    /// A foreign national.
    pub foreigner: bool,
}

/// A running simulator.
pub struct SimulatorHandle {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    server: ServerHandle,
}

impl SimulatorHandle {
    /// Changes the switches.
    pub fn set_behavior(&self, behavior: Behavior) {
        *lock(&self.state.behavior) = behavior;
    }

    /// Where webhooks go (our `/pg/portone/webhook`).
    pub fn set_webhook_url(&self, url: &str) {
        *lock(&self.state.webhook_url) = Some(url.to_owned());
    }

    /// What happened so far.
    pub fn state(&self) -> SimState {
        lock(&self.state.record).clone()
    }

    /// A payment as PortOne keeps it.
    pub fn payment(&self, imp_uid: &str) -> Option<Payment> {
        lock(&self.state.payments).get(imp_uid).cloned()
    }

    /// Every token issued so far stops working (PortOne rotated them).
    pub fn expire_tokens(&self) {
        lock(&self.state.tokens).clear();
    }

    /// Posts the webhook of a payment (again); the HTTP status it got (0 when not posted).
    pub async fn send_webhook(&self, imp_uid: &str) -> u16 {
        let Some(payment) = self.payment(imp_uid) else {
            return 0;
        };
        self.state.post_webhook(&payment).await
    }

    /// A completed identity verification, as if the person went through PortOne's window.
    pub fn certify(&self, person: NewCertification) -> String {
        handlers::certify(&self.state, person)
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// As the buyer's browser, for tests: opens the pay page for `merchant_uid` and `amount` and presses
/// `decision` (`approve` or `decline`); PortOne's `imp_uid` of the attempt.
pub async fn buyer_pays(
    base_url: &str,
    merchant_uid: &str,
    amount: i64,
    decision: &str,
) -> Result<String, String> {
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{base_url}/pay/decide"))
        .form(&[
            ("merchant_uid", merchant_uid),
            ("amount", &amount.to_string()),
            ("name", "배송비"),
            ("decision", decision),
            ("format", "json"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    answer["imp_uid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no imp_uid in {answer}"))
}

/// The simulator.
pub struct Simulator;

impl Simulator {
    /// Starts on `listener` accepting `imp_key`/`imp_secret`; webhooks go to `webhook_url` when given.
    pub fn start(
        imp_key: &str,
        imp_secret: &str,
        listener: TcpListener,
        webhook_url: Option<String>,
    ) -> std::io::Result<SimulatorHandle> {
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            imp_key: imp_key.to_owned(),
            imp_secret: imp_secret.to_owned(),
            public_url: base_url.clone(),
            webhook_url: Mutex::new(webhook_url),
            behavior: Mutex::new(Behavior::default()),
            tokens: Mutex::new(HashMap::new()),
            payments: Mutex::new(HashMap::new()),
            certifications: Mutex::new(HashMap::new()),
            record: Mutex::new(SimState::default()),
            http,
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route("/users/getToken", web::post().to(handlers::get_token))
                .route("/payments/cancel", web::post().to(handlers::cancel))
                .route(
                    "/payments/find/{merchant_uid}",
                    web::get().to(handlers::find_by_merchant_uid),
                )
                .route("/payments/{imp_uid}", web::get().to(handlers::payment))
                .route(
                    "/certifications/{imp_uid}",
                    web::get().to(handlers::certification),
                )
                .route("/pay", web::get().to(handlers::pay_page))
                .route("/pay/decide", web::post().to(handlers::decide))
                .route("/_sim/behavior", web::put().to(handlers::set_behavior))
                .route("/_sim/state", web::get().to(handlers::get_state))
                .route(
                    "/_sim/expire-tokens",
                    web::post().to(handlers::expire_tokens),
                )
                .route(
                    "/_sim/certifications",
                    web::post().to(handlers::new_certification),
                )
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        tracing::info!(%addr, "PortOne simulator listening");
        Ok(SimulatorHandle {
            base_url,
            state,
            server: handle,
        })
    }
}
