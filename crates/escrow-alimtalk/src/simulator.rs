//! A local AlimTalk provider (NHN Cloud v2.3 shape) for tests and the sandbox: records every message,
//! honours the idempotency key (a repeat is answered but not sent twice), and can be told to fail
//! (500), hang, be down (connection refused: stop it), or reject a template.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};

use crate::SendRequest;

/// One message the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The idempotency key it came with.
    pub idempotency_key: String,
    /// The template code.
    pub template_code: String,
    /// The phone number.
    pub recipient_no: String,
    /// The variables.
    pub variables: std::collections::BTreeMap<String, String>,
}

/// The simulator's switches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behavior {
    /// Answer 500.
    pub fail: bool,
    /// Wait this long before answering (ms).
    pub hang_ms: Option<u64>,
    /// Template codes answered as unknown (`isSuccessful: false`).
    pub rejected_templates: Vec<String>,
}

struct State {
    secret_key: String,
    behavior: Mutex<Behavior>,
    received: Mutex<Vec<Received>>,
    seen_keys: Mutex<HashSet<String>>,
    requests: Mutex<HashMap<String, usize>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running simulator.
pub struct AlimTalkSimulator {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    server: ServerHandle,
}

impl AlimTalkSimulator {
    /// Starts on `listener` inside the current tokio runtime; requests must carry `secret_key`.
    pub fn start(listener: TcpListener, secret_key: &str) -> std::io::Result<Self> {
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            secret_key: secret_key.to_owned(),
            behavior: Mutex::new(Behavior::default()),
            received: Mutex::new(Vec::new()),
            seen_keys: Mutex::new(HashSet::new()),
            requests: Mutex::new(HashMap::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/alimtalk/v2.3/appkeys/{appkey}/messages",
                    web::post().to(send),
                )
                .route("/_sim/behavior", web::put().to(put_behavior))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(AlimTalkSimulator {
            base_url,
            state,
            server: handle,
        })
    }

    /// Changes the switches.
    pub fn set_behavior(&self, b: Behavior) {
        *lock(&self.state.behavior) = b;
    }

    /// Messages accepted (each idempotency key once).
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state.received).clone()
    }

    /// How many requests came with each idempotency key (retries included).
    pub fn requests_per_key(&self) -> HashMap<String, usize> {
        lock(&self.state.requests).clone()
    }

    /// Stops the server: it is then down (connections refused).
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

fn answer(ok: bool, code: i64, message: &str, recipient: &str) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "header": { "resultCode": if ok { 0 } else { code }, "resultMessage": message, "isSuccessful": ok },
        "message": { "requestId": "sim", "sendResults": [{ "recipientNo": recipient, "resultCode": if ok { 0 } else { code }, "resultMessage": message }] }
    }))
}

async fn send(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Json<SendRequest>,
) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    if header("X-Secret-Key") != state.secret_key {
        return HttpResponse::Unauthorized().json(serde_json::json!({ "header": { "resultCode": -1, "resultMessage": "bad secret", "isSuccessful": false } }));
    }
    let key = header("X-NC-API-IDEMPOTENCY-KEY");
    *lock(&state.requests).entry(key.clone()).or_default() += 1;
    let behavior = lock(&state.behavior).clone();
    if let Some(ms) = behavior.hang_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if behavior.fail {
        return HttpResponse::InternalServerError().finish();
    }
    let recipient = body
        .recipient_list
        .first()
        .map(|r| r.recipient_no.clone())
        .unwrap_or_default();
    if behavior.rejected_templates.contains(&body.template_code) {
        return answer(false, -1006, "template not found", &recipient);
    }
    if !key.is_empty() && !lock(&state.seen_keys).insert(key.clone()) {
        return answer(true, 0, "already sent", &recipient);
    }
    for r in &body.recipient_list {
        lock(&state.received).push(Received {
            idempotency_key: key.clone(),
            template_code: body.template_code.clone(),
            recipient_no: r.recipient_no.clone(),
            variables: r.template_parameter.clone(),
        });
    }
    answer(true, 0, "success", &recipient)
}

async fn put_behavior(state: web::Data<State>, b: web::Json<Behavior>) -> HttpResponse {
    *lock(&state.behavior) = b.into_inner();
    HttpResponse::NoContent().finish()
}
