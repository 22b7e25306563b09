//! A local Unifi Pay for tests and the sandbox: both API endpoints with the real HMAC and timestamp
//! checks, a start page with approve and decline buttons, the browser redirect and the callback — and
//! switches to misbehave (decline, 500, hang, wrong amount or currency, double or early callback).
//!
//! Start it in-process with [`Simulator::start`], or as a process with the `unifipay-sim` binary. The
//! switches can be changed at run time through [`SimulatorHandle::set_behavior`] or
//! `PUT /_sim/behavior` (JSON [`Behavior`]).

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use escrow_signature::{verify_request_signature, RequestParts};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::wire::{CreatePaymentBody, CreatePaymentResponse, PaymentStatusResponse};

/// The merchant account the simulator accepts.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// Expected `X-AppId`.
    pub app_id: String,
    /// Expected `X-Api-Key`.
    pub api_key: String,
    /// The HMAC key.
    pub app_secret: String,
    /// The merchant id it reports.
    pub store_id: String,
    /// The only currency it takes.
    pub currency: String,
}

impl std::fmt::Debug for SimulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorConfig")
            .field("app_id", &self.app_id)
            .field("store_id", &self.store_id)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// How an endpoint answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointMode {
    /// Normally.
    #[default]
    Normal,
    /// HTTP 500.
    ServerError,
    /// Waits `hang_ms` before answering (past the client's timeout).
    Hang,
}

/// When and how often the callback is posted after the buyer pays or declines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMode {
    /// Once, while the browser is being redirected (a race, as in production).
    #[default]
    Once,
    /// Once, delivered before the browser is redirected.
    BeforeRedirect,
    /// Twice, both delivered before the browser is redirected.
    Twice,
    /// Never.
    Never,
}

/// The simulator's switches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behavior {
    /// `POST /api/v1/payment`.
    pub create: EndpointMode,
    /// `GET /api/v1/payment/{id}`.
    pub status: EndpointMode,
    /// The approve button declines instead.
    pub decline_all: bool,
    /// Status reports one more major unit than was ordered.
    pub wrong_amount: bool,
    /// Status reports another currency.
    pub wrong_currency: bool,
    /// The callback.
    pub callback: CallbackMode,
    /// How long `Hang` waits, milliseconds (default 30 s).
    pub hang_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxnStatus {
    Pending,
    Confirmed,
    Failed,
}

#[derive(Debug, Clone)]
struct Transaction {
    order_id: String,
    amount: Decimal,
    return_url: String,
    callback_url: String,
    status: TxnStatus,
}

/// A callback the simulator posted, for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCallback {
    /// The URL.
    pub url: String,
    /// The HTTP status it answered (0 when unreachable).
    pub answered: u16,
}

struct State {
    config: SimulatorConfig,
    public_url: String,
    behavior: Mutex<Behavior>,
    transactions: Mutex<HashMap<String, Transaction>>,
    callbacks: Mutex<Vec<SentCallback>>,
    api_calls: std::sync::atomic::AtomicUsize,
    http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// The callbacks posted so far.
    pub fn callbacks(&self) -> Vec<SentCallback> {
        lock(&self.state.callbacks).clone()
    }

    /// How many API requests (create or status, authenticated or not) reached the simulator.
    pub fn api_calls(&self) -> usize {
        self.state
            .api_calls
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// The simulator.
pub struct Simulator;

impl Simulator {
    /// Starts on `listener` (use port 0 for a random port) inside the current tokio runtime.
    pub fn start(
        config: SimulatorConfig,
        listener: TcpListener,
    ) -> std::io::Result<SimulatorHandle> {
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        Self::start_with_public_url(config, listener, base_url)
    }

    /// Starts, using `public_url` in the start page links it hands out.
    pub fn start_with_public_url(
        config: SimulatorConfig,
        listener: TcpListener,
        public_url: String,
    ) -> std::io::Result<SimulatorHandle> {
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            config,
            public_url,
            behavior: Mutex::new(Behavior::default()),
            transactions: Mutex::new(HashMap::new()),
            callbacks: Mutex::new(Vec::new()),
            api_calls: std::sync::atomic::AtomicUsize::new(0),
            http,
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route("/api/v1/payment", web::post().to(create_payment))
                .route("/api/v1/payment/{id}", web::get().to(payment_status))
                .route("/pay/{id}", web::get().to(start_page))
                .route("/pay/{id}/{decision}", web::post().to(decide))
                .route("/_sim/behavior", web::put().to(put_behavior))
                .route("/_sim/behavior", web::get().to(get_behavior))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(SimulatorHandle {
            base_url: format!("http://{addr}"),
            state,
            server: handle,
        })
    }
}

fn unauthorized(reason: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(serde_json::json!({ "error": "UNAUTHORIZED", "reason": reason }))
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The seed's checks: app id, API key, timestamp window, HMAC over the exact body.
fn authenticate(state: &State, req: &HttpRequest, body: &[u8]) -> Result<(), String> {
    state
        .api_calls
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if header_str(req, "X-AppId") != Some(state.config.app_id.as_str()) {
        return Err("unknown X-AppId".into());
    }
    let api_key = header_str(req, "X-Api-Key").ok_or("missing X-Api-Key")?;
    if api_key != state.config.api_key {
        return Err("unknown X-Api-Key".into());
    }
    let timestamp = header_str(req, "X-Timestamp").ok_or("missing X-Timestamp")?;
    let signature =
        header_str(req, "X-Authorization-Hmac").ok_or("missing X-Authorization-Hmac")?;
    let now_ms = i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    verify_request_signature(
        state.config.app_secret.as_bytes(),
        &RequestParts {
            method: req.method().as_str(),
            uri: req.uri().path(),
            api_key,
            timestamp,
            body,
        },
        signature,
        now_ms,
    )
    .map_err(|e| e.to_string())
}

async fn misbehave(state: &State, mode: EndpointMode) -> Option<HttpResponse> {
    match mode {
        EndpointMode::Normal => None,
        EndpointMode::ServerError => Some(
            HttpResponse::InternalServerError().json(serde_json::json!({ "error": "SIMULATED" })),
        ),
        EndpointMode::Hang => {
            let ms = lock(&state.behavior).hang_ms.unwrap_or(30_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Some(HttpResponse::GatewayTimeout().finish())
        }
    }
}

async fn create_payment(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(reason) = authenticate(&state, &req, &body) {
        return unauthorized(&reason);
    }
    let mode = lock(&state.behavior).create;
    if let Some(r) = misbehave(&state, mode).await {
        return r;
    }
    let Ok(request) = serde_json::from_slice::<CreatePaymentBody>(&body) else {
        return HttpResponse::BadRequest().json(serde_json::json!({ "error": "BAD_BODY" }));
    };
    if request.store_id != state.config.store_id {
        return HttpResponse::BadRequest().json(serde_json::json!({ "error": "UNKNOWN_STORE" }));
    }
    if request.order_currency_code != state.config.currency {
        return HttpResponse::BadRequest()
            .json(serde_json::json!({ "error": "CURRENCY_NOT_SUPPORTED" }));
    }
    let Ok(amount) = request.order_amount.parse::<Decimal>() else {
        return HttpResponse::BadRequest().json(serde_json::json!({ "error": "BAD_AMOUNT" }));
    };
    let transaction_id = format!("usim-{}", uuid::Uuid::new_v4().simple());
    lock(&state.transactions).insert(
        transaction_id.clone(),
        Transaction {
            order_id: request.order_id,
            amount,
            return_url: request.return_url,
            callback_url: request.callback_url,
            status: TxnStatus::Pending,
        },
    );
    HttpResponse::Ok().json(CreatePaymentResponse {
        start_page_url: format!("{}/pay/{transaction_id}", state.public_url),
        transaction_id,
    })
}

async fn payment_status(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Err(reason) = authenticate(&state, &req, b"") {
        return unauthorized(&reason);
    }
    let behavior = lock(&state.behavior).clone();
    if let Some(r) = misbehave(&state, behavior.status).await {
        return r;
    }
    let id = path.into_inner();
    let Some(txn) = lock(&state.transactions).get(&id).cloned() else {
        return HttpResponse::NotFound()
            .json(serde_json::json!({ "error": "UNKNOWN_TRANSACTION" }));
    };
    let amount = if behavior.wrong_amount {
        txn.amount + Decimal::ONE
    } else {
        txn.amount
    };
    let currency = if behavior.wrong_currency {
        if state.config.currency == "EUR" {
            "USD"
        } else {
            "EUR"
        }
        .to_owned()
    } else {
        state.config.currency.clone()
    };
    HttpResponse::Ok().json(PaymentStatusResponse {
        status: match txn.status {
            TxnStatus::Confirmed => "CONFIRMED",
            // A transaction nobody paid yet is reported as not confirmed.
            TxnStatus::Pending | TxnStatus::Failed => "FAILED",
        }
        .to_owned(),
        order_id: txn.order_id,
        store_id: state.config.store_id.clone(),
        pay_amount: amount,
        order_amount: amount.to_string(),
        transaction_id: id,
        discount_amount: Decimal::ZERO,
        pay_currency_code: currency.clone(),
        order_currency_code: currency,
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn start_page(state: web::Data<State>, path: web::Path<String>) -> HttpResponse {
    let id = path.into_inner();
    let Some(txn) = lock(&state.transactions).get(&id).cloned() else {
        return HttpResponse::NotFound().body("unknown transaction");
    };
    let id = html_escape(&id);
    let page = format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>Unifi Pay (simulator)</title></head>\
         <body><h1>Unifi Pay 결제 (시뮬레이터)</h1><p>주문 {order} · {amount} {currency}</p>\
         <form method=\"post\" action=\"/pay/{id}/approve\"><button type=\"submit\" id=\"approve\">결제 승인</button></form>\
         <form method=\"post\" action=\"/pay/{id}/decline\"><button type=\"submit\" id=\"decline\">결제 거절</button></form>\
         </body></html>",
        order = html_escape(&txn.order_id),
        amount = txn.amount,
        currency = html_escape(&state.config.currency),
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

async fn post_callback(state: &State, txn_id: &str, txn: &Transaction) {
    let body = crate::wire::CallbackBody {
        transaction_id: txn_id.to_owned(),
        order_id: Some(txn.order_id.clone()),
        status: Some(
            if txn.status == TxnStatus::Confirmed {
                "CONFIRMED"
            } else {
                "FAILED"
            }
            .to_owned(),
        ),
    };
    let answered = match state.http.post(&txn.callback_url).json(&body).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    };
    lock(&state.callbacks).push(SentCallback {
        url: txn.callback_url.clone(),
        answered,
    });
}

async fn decide(state: web::Data<State>, path: web::Path<(String, String)>) -> HttpResponse {
    let (id, decision) = path.into_inner();
    let behavior = lock(&state.behavior).clone();
    let approve = match decision.as_str() {
        "approve" => !behavior.decline_all,
        "decline" => false,
        _ => return HttpResponse::NotFound().finish(),
    };
    let txn = {
        let mut txns = lock(&state.transactions);
        let Some(txn) = txns.get_mut(&id) else {
            return HttpResponse::NotFound().body("unknown transaction");
        };
        if txn.status == TxnStatus::Pending {
            txn.status = if approve {
                TxnStatus::Confirmed
            } else {
                TxnStatus::Failed
            };
        }
        txn.clone()
    };
    match behavior.callback {
        CallbackMode::Once => {
            let state = state.clone();
            let (id, txn) = (id.clone(), txn.clone());
            tokio::spawn(async move { post_callback(&state, &id, &txn).await });
        }
        CallbackMode::BeforeRedirect => post_callback(&state, &id, &txn).await,
        CallbackMode::Twice => {
            post_callback(&state, &id, &txn).await;
            post_callback(&state, &id, &txn).await;
        }
        CallbackMode::Never => {}
    }
    let separator = if txn.return_url.contains('?') {
        '&'
    } else {
        '?'
    };
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{}{separator}transactionId={id}", txn.return_url),
        ))
        .finish()
}

async fn put_behavior(state: web::Data<State>, body: web::Json<Behavior>) -> HttpResponse {
    *lock(&state.behavior) = body.into_inner();
    HttpResponse::NoContent().finish()
}

async fn get_behavior(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(lock(&state.behavior).clone())
}
