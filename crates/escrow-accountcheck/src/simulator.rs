//! A local holder-lookup service for tests and the sandbox. It checks `mid` and `hashData` like the
//! real one, answers the holders of the accounts it was given ([`AccountSimulator::add_account`] or
//! `PUT /_sim/accounts`), answers "no such account" for any other number ending in `0000`, and `홍길동`
//! for every other account (so the sandbox accepts what people type). Switches: fail (500), hang.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};

use crate::{hash_data, LookupRequest, FOUND, LOOKUP_PATH, LOOKUP_TYPE, NO_SUCH_ACCOUNT};

/// The holder every account the simulator was not told about has (numbers ending in `0000` aside).
pub const DEFAULT_HOLDER: &str = "홍길동";

/// The simulator's switches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behavior {
    /// Answer 500.
    pub fail: bool,
    /// Wait this long before answering (ms).
    pub hang_ms: Option<u64>,
}

/// An account the simulator knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownAccount {
    /// The bank code.
    pub bank_code: String,
    /// The number, digits only.
    pub account_number: String,
    /// The holder.
    pub holder_name: String,
}

struct State {
    mid: String,
    api_key: String,
    behavior: Mutex<Behavior>,
    accounts: Mutex<HashMap<(String, String), String>>,
    lookups: Mutex<usize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running simulator.
pub struct AccountSimulator {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    server: ServerHandle,
}

impl AccountSimulator {
    /// Starts on `listener` inside the current tokio runtime; requests must carry `mid` and be hashed
    /// with `api_key`.
    pub fn start(listener: TcpListener, mid: &str, api_key: &str) -> std::io::Result<Self> {
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State {
            mid: mid.to_owned(),
            api_key: api_key.to_owned(),
            behavior: Mutex::new(Behavior::default()),
            accounts: Mutex::new(HashMap::new()),
            lookups: Mutex::new(0),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(LOOKUP_PATH, web::post().to(lookup))
                .route("/_sim/behavior", web::put().to(put_behavior))
                .route("/_sim/accounts", web::put().to(put_account))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(AccountSimulator {
            base_url,
            state,
            server: handle,
        })
    }

    /// Changes the switches.
    pub fn set_behavior(&self, b: Behavior) {
        *lock(&self.state.behavior) = b;
    }

    /// Makes `holder` the holder of the account.
    pub fn add_account(&self, bank_code: &str, number: &str, holder: &str) {
        lock(&self.state.accounts)
            .insert((bank_code.to_owned(), number.to_owned()), holder.to_owned());
    }

    /// How many well-formed lookups it answered.
    pub fn lookups(&self) -> usize {
        *lock(&self.state.lookups)
    }

    /// Stops the server: it is then down (connections refused).
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

fn answer(code: &str, message: &str, holder: Option<&str>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "resultCode": code,
        "resultMsg": message,
        "data": holder.map(|h| serde_json::json!({ "holderName": h })),
    }))
}

async fn lookup(state: web::Data<State>, body: web::Json<LookupRequest>) -> HttpResponse {
    let behavior = lock(&state.behavior).clone();
    if let Some(ms) = behavior.hang_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if behavior.fail {
        return HttpResponse::InternalServerError().finish();
    }
    let r = body.into_inner();
    if r.mid != state.mid {
        return answer("01", "unknown mid", None);
    }
    if r.kind != LOOKUP_TYPE {
        return answer("02", "unknown type", None);
    }
    let well_timed = r.timestamp.len() == 14 && r.timestamp.chars().all(|c| c.is_ascii_digit());
    if !well_timed {
        return answer("03", "timestamp must be YYYYMMDDhhmmss", None);
    }
    if r.hash_data != hash_data(&state.api_key, &r.mid, &r.kind, &r.timestamp, &r.data) {
        return answer("04", "hashData does not match", None);
    }
    *lock(&state.lookups) += 1;
    let key = (r.data.bank_code.clone(), r.data.account_number.clone());
    let known = lock(&state.accounts).get(&key).cloned();
    match known {
        Some(holder) => answer(FOUND, "정상처리", Some(&holder)),
        None if r.data.account_number.ends_with("0000") => {
            answer(NO_SUCH_ACCOUNT, "계좌 없음", None)
        }
        None => answer(FOUND, "정상처리", Some(DEFAULT_HOLDER)),
    }
}

async fn put_behavior(state: web::Data<State>, b: web::Json<Behavior>) -> HttpResponse {
    *lock(&state.behavior) = b.into_inner();
    HttpResponse::NoContent().finish()
}

async fn put_account(state: web::Data<State>, a: web::Json<KnownAccount>) -> HttpResponse {
    let a = a.into_inner();
    lock(&state.accounts).insert((a.bank_code, a.account_number), a.holder_name);
    HttpResponse::NoContent().finish()
}
