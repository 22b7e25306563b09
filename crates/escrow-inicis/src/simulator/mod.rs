//! A local KG Inicis for tests and the sandbox: the payment page the form posts to (checking
//! `signature`, `verification` and `mKey`), the auth result posted back to the merchant's
//! `returnUrl`, `payAuth` and `netCancel` under `/{idc}/api/…` (checking their hashes), INIAPI's
//! refund and inquiry (checking `hashData`), and deposit notices — with switches to misbehave:
//! decline, 5xx, hang, forge `authSignature`, report another amount, notify a deposit twice, refuse
//! refunds.
//!
//! Start it in-process with [`Simulator::start`] or as the `inicis-sim` binary. Switches:
//! [`SimulatorHandle::set_behavior`] or `PUT /_sim/behavior`; what happened: `GET /_sim/state`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};

mod iniapi;

use crate::hashes;
use crate::wire::{ApprovalAnswer, ApprovalRequest};

/// A merchant the simulator knows.
#[derive(Clone)]
pub struct SimMerchant {
    /// The MID.
    pub mid: String,
    /// Its signKey.
    pub sign_key: String,
    /// Its INIAPI key (16 bytes).
    pub iniapi_key: String,
    /// Its INIAPI IV (16 bytes).
    pub iniapi_iv: String,
}

impl std::fmt::Debug for SimMerchant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMerchant")
            .field("mid", &self.mid)
            .finish_non_exhaustive()
    }
}

/// How `payAuth` answers.
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
    /// `payAuth` answers a refusal (`resultCode` `R201`).
    pub decline: bool,
    /// How `payAuth` answers.
    pub pay_auth: EndpointMode,
    /// `authSignature` is wrong.
    pub forge_auth_signature: bool,
    /// `TotPrice` is 1,000 won more than was ordered.
    pub other_amount: bool,
    /// A deposit is notified twice.
    pub duplicate_deposit_notice: bool,
    /// INIAPI refuses refunds.
    pub refuse_refunds: bool,
    /// How long `Hang` waits, ms (default 30 s).
    pub hang_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Payment {
    mid: String,
    oid: String,
    price: i64,
    method: String,
    return_url: String,
    goodname: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Transaction {
    tid: String,
    oid: String,
    mid: String,
    price: i64,
    method: String,
    /// `PAID`, `WAITING`, `CANCELLED`.
    status: String,
}

/// What happened, for tests (`GET /_sim/state`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimState {
    /// Transactions cancelled by a net cancel.
    pub net_cancelled: Vec<String>,
    /// Transactions refunded through INIAPI.
    pub refunded: Vec<String>,
    /// Virtual-account refunds: the transaction and the account (bank code, number, holder) the
    /// money went to.
    pub refunded_to: Vec<(String, String, String, String)>,
    /// Approvals made (tids).
    pub approved: Vec<String>,
    /// Deposit notices posted, with the HTTP status they got.
    pub notices: Vec<(String, u16)>,
}

struct State {
    merchants: Vec<SimMerchant>,
    public_url: String,
    notice_url: Mutex<Option<String>>,
    behavior: Mutex<Behavior>,
    /// authToken → the payment it authenticates.
    authenticated: Mutex<HashMap<String, Payment>>,
    /// session → payment waiting for the buyer's decision.
    sessions: Mutex<HashMap<String, Payment>>,
    /// authToken → tid once approved.
    approved_tokens: Mutex<HashMap<String, String>>,
    transactions: Mutex<HashMap<String, Transaction>>,
    record: Mutex<SimState>,
    http: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn merchant(&self, mid: &str) -> Option<&SimMerchant> {
        self.merchants.iter().find(|m| m.mid == mid)
    }
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

    /// Where deposit notices go (our `/pg/{name}/callback`).
    pub fn set_notice_url(&self, url: &str) {
        *lock(&self.state.notice_url) = Some(url.to_owned());
    }

    /// What happened so far.
    pub fn state(&self) -> SimState {
        lock(&self.state.record).clone()
    }

    /// The form action the gateway is configured with.
    pub fn form_action(&self) -> String {
        format!("{}/payMain/pay", self.base_url)
    }

    /// The whitelist template of its approval endpoints.
    pub fn auth_url_template(&self) -> String {
        format!("{}/{{idc}}", self.base_url)
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.server.stop(false).await;
    }
}

/// As the buyer's browser, for tests: posts the merchant's payment form (`action`, `fields`) to
/// the simulator's page, presses `decision` (`approve` or `decline`) and answers where the auth
/// result goes (the merchant's return URL) and its fields — what the browser would post there.
pub async fn buyer_decides(
    action: &str,
    fields: &[(String, String)],
    decision: &str,
) -> Result<(String, Vec<(String, String)>), String> {
    let http = reqwest::Client::new();
    let page = http
        .post(action)
        .form(fields)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !page.status().is_success() {
        return Err(format!(
            "the payment page refused the form: {}",
            page.status()
        ));
    }
    let html = page.text().await.map_err(|e| e.to_string())?;
    let session = html
        .split("name=\"session\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no session on the payment page")?
        .to_owned();
    let result: serde_json::Value = http
        .post(action.replace("/payMain/pay", "/payMain/decide"))
        .form(&[
            ("session", session.as_str()),
            ("decision", decision),
            ("format", "json"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let fields = result["fields"]
        .as_array()
        .ok_or("no auth result")?
        .iter()
        .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned())))
        .collect();
    Ok((
        result["action"].as_str().unwrap_or_default().to_owned(),
        fields,
    ))
}

/// The simulator.
pub struct Simulator;

impl Simulator {
    /// Starts on `listener` serving `merchants`; deposit notices go to `notice_url` when given.
    pub fn start(
        merchants: Vec<SimMerchant>,
        listener: TcpListener,
        notice_url: Option<String>,
    ) -> std::io::Result<SimulatorHandle> {
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            merchants,
            public_url: base_url.clone(),
            notice_url: Mutex::new(notice_url),
            behavior: Mutex::new(Behavior::default()),
            authenticated: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            approved_tokens: Mutex::new(HashMap::new()),
            transactions: Mutex::new(HashMap::new()),
            record: Mutex::new(SimState::default()),
            http,
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024))
                .route("/payMain/pay", web::post().to(pay_page))
                .route("/payMain/decide", web::post().to(decide))
                .route("/{idc}/api/payAuth", web::post().to(pay_auth))
                .route("/{idc}/api/netCancel", web::post().to(net_cancel))
                .route("/v2/pg/refund", web::post().to(iniapi::refund))
                .route("/v2/pg/inquiry", web::post().to(iniapi::inquiry))
                .route("/_sim/behavior", web::put().to(set_behavior))
                .route("/_sim/state", web::get().to(get_state))
                .route("/_sim/deposit/{tid}", web::post().to(iniapi::deposit))
        })
        .workers(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        tracing::info!(%addr, "Inicis simulator listening");
        Ok(SimulatorHandle {
            base_url,
            state,
            server: handle,
        })
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .content_type("text/html; charset=utf-8")
    .body(format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    ))
}

fn form_html(id: &str, action: &str, fields: &[(String, String)], button: &str) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(
        "<form id=\"{id}\" method=\"post\" action=\"{}\">{inputs}<button type=\"submit\">{}</button></form>",
        esc(action),
        esc(button)
    )
}

/// The payment page the merchant's form posts to: checks the form's hashes against the MID's
/// signKey, then offers approve and decline.
async fn pay_page(
    state: web::Data<State>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    let Some(merchant) = state.merchant(&f("mid")) else {
        return page(400, "알 수 없는 상점아이디", "<p>unknown mid</p>");
    };
    let (oid, price, timestamp) = (f("oid"), f("price"), f("timestamp"));
    let ok = hashes::same_digest(
        &f("signature"),
        &hashes::form_signature(&oid, &price, &timestamp),
    ) && hashes::same_digest(
        &f("verification"),
        &hashes::form_verification(&oid, &price, &merchant.sign_key, &timestamp),
    ) && hashes::same_digest(&f("mKey"), &hashes::m_key(&merchant.sign_key));
    let Ok(amount) = price.parse::<i64>() else {
        return page(400, "금액 오류", "<p>price</p>");
    };
    if !ok {
        return page(
            400,
            "위변조 검증 실패",
            "<p>signature, verification or mKey</p>",
        );
    }
    let session = uuid::Uuid::new_v4().simple().to_string();
    let payment = Payment {
        mid: merchant.mid.clone(),
        oid: oid.clone(),
        price: amount,
        method: f("gopaymethod"),
        return_url: f("returnUrl"),
        goodname: f("goodname"),
    };
    lock(&state.sessions).insert(session.clone(), payment.clone());
    let decide = format!("{}/payMain/decide", state.public_url);
    let approve = form_html(
        "approve",
        &decide,
        &[
            ("session".into(), session.clone()),
            ("decision".into(), "approve".into()),
        ],
        "결제하기",
    );
    let decline = form_html(
        "decline",
        &decide,
        &[
            ("session".into(), session),
            ("decision".into(), "decline".into()),
        ],
        "취소",
    );
    page(
        200,
        "KG이니시스 결제 (시뮬레이터)",
        &format!(
            "<p>{} — {} 원 ({})</p>{approve}{decline}",
            esc(&payment.goodname),
            payment.price,
            esc(&payment.method)
        ),
    )
}

#[derive(Deserialize)]
struct Decision {
    session: String,
    decision: String,
    #[serde(default)]
    format: Option<String>,
}

/// The buyer decided: the auth result is posted (by the browser, an auto-submitting form) to the
/// merchant's `returnUrl`. With `format=json` the form is answered as JSON `{action, fields}`.
async fn decide(state: web::Data<State>, form: web::Form<Decision>) -> HttpResponse {
    let Some(payment) = lock(&state.sessions).remove(&form.session) else {
        return page(400, "만료된 결제", "<p>unknown session</p>");
    };
    let approved = form.decision == "approve";
    let token = uuid::Uuid::new_v4().simple().to_string();
    let base = format!("{}/fc", state.public_url);
    let fields: Vec<(String, String)> = vec![
        (
            "resultCode".into(),
            if approved { "0000" } else { "V013" }.into(),
        ),
        (
            "resultMsg".into(),
            if approved {
                "정상처리"
            } else {
                "사용자 취소"
            }
            .into(),
        ),
        ("mid".into(), payment.mid.clone()),
        ("orderNumber".into(), payment.oid.clone()),
        ("authToken".into(), token.clone()),
        ("authUrl".into(), format!("{base}/api/payAuth")),
        ("netCancelUrl".into(), format!("{base}/api/netCancel")),
        ("idc_name".into(), "fc".into()),
        ("merchantData".into(), payment.oid.clone()),
        ("charset".into(), "UTF-8".into()),
    ];
    let action = payment.return_url.clone();
    if approved {
        lock(&state.authenticated).insert(token, payment);
    }
    if form.format.as_deref() == Some("json") {
        return HttpResponse::Ok().json(serde_json::json!({"action": action, "fields": fields}));
    }
    page(
        200,
        "결제 결과 전달",
        &format!(
            "{}<script>document.getElementById('result').submit()</script>",
            form_html("result", &action, &fields, "계속")
        ),
    )
}

fn auth_checks(state: &State, req: &ApprovalRequest) -> Result<(), &'static str> {
    let merchant = state.merchant(&req.mid).ok_or("unknown mid")?;
    let ok = hashes::same_digest(
        &req.signature,
        &hashes::auth_signature_request(&req.auth_token, &req.timestamp),
    ) && hashes::same_digest(
        &req.verification,
        &hashes::auth_verification(&req.auth_token, &merchant.sign_key, &req.timestamp),
    );
    if ok {
        Ok(())
    } else {
        Err("signature or verification")
    }
}

async fn pay_auth(state: web::Data<State>, form: web::Form<ApprovalRequest>) -> HttpResponse {
    let behavior = lock(&state.behavior).clone();
    match behavior.pay_auth {
        EndpointMode::Normal => {}
        EndpointMode::ServerError => return HttpResponse::InternalServerError().finish(),
        EndpointMode::Hang => {
            tokio::time::sleep(Duration::from_millis(behavior.hang_ms.unwrap_or(30_000))).await;
        }
    }
    if let Err(why) = auth_checks(&state, &form) {
        return HttpResponse::Ok().json(ApprovalAnswer {
            result_code: "V801".into(),
            result_msg: why.into(),
            ..Default::default()
        });
    }
    let Some(payment) = lock(&state.authenticated).remove(&form.auth_token) else {
        return HttpResponse::Ok().json(ApprovalAnswer {
            result_code: "V802".into(),
            result_msg: "unknown or used authToken".into(),
            ..Default::default()
        });
    };
    if behavior.decline {
        return HttpResponse::Ok().json(ApprovalAnswer {
            result_code: "R201".into(),
            result_msg: "카드 승인 거절".into(),
            ..Default::default()
        });
    }
    let tid = format!("StdpayINIpayTest{}", uuid::Uuid::new_v4().simple());
    let vbank = payment.method == "VBank";
    let price = if behavior.other_amount {
        payment.price + 1000
    } else {
        payment.price
    };
    let tot_price = price.to_string();
    let mut signature =
        hashes::approval_signature(&payment.oid, &payment.mid, &form.timestamp, &tot_price)
            .unwrap_or_default();
    if behavior.forge_auth_signature {
        signature = hashes::sha256_hex("forged");
    }
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    let due = now + time::Duration::days(1);
    let ymd = |t: time::OffsetDateTime| {
        format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
    };
    let hms =
        |t: time::OffsetDateTime| format!("{:02}{:02}{:02}", t.hour(), t.minute(), t.second());
    let answer = ApprovalAnswer {
        result_code: "0000".into(),
        result_msg: "정상처리".into(),
        tid: tid.clone(),
        moid: payment.oid.clone(),
        tot_price,
        pay_method: payment.method.clone(),
        appl_date: ymd(now),
        appl_time: hms(now),
        card_quota: "00".into(),
        card_interest: "0".into(),
        vact_num: if vbank {
            "56211104012345".into()
        } else {
            String::new()
        },
        vact_bank_code: if vbank { "04".into() } else { String::new() },
        vact_name: if vbank {
            "(주)케이지이니시스".into()
        } else {
            String::new()
        },
        vact_date: if vbank { ymd(due) } else { String::new() },
        vact_time: if vbank {
            "235959".into()
        } else {
            String::new()
        },
        auth_signature: signature,
    };
    lock(&state.transactions).insert(
        tid.clone(),
        Transaction {
            tid: tid.clone(),
            oid: payment.oid.clone(),
            mid: payment.mid.clone(),
            price,
            method: payment.method.clone(),
            status: if vbank { "WAITING" } else { "PAID" }.into(),
        },
    );
    lock(&state.approved_tokens).insert(form.auth_token.clone(), tid.clone());
    lock(&state.record).approved.push(tid);
    HttpResponse::Ok().json(answer)
}

async fn net_cancel(state: web::Data<State>, form: web::Form<ApprovalRequest>) -> HttpResponse {
    if let Err(why) = auth_checks(&state, &form) {
        return HttpResponse::Ok()
            .json(serde_json::json!({"resultCode": "V801", "resultMsg": why}));
    }
    let tid = lock(&state.approved_tokens).get(&form.auth_token).cloned();
    match tid {
        Some(tid) => {
            if let Some(t) = lock(&state.transactions).get_mut(&tid) {
                t.status = "CANCELLED".into();
            }
            lock(&state.record).net_cancelled.push(tid);
        }
        // Nothing approved with the token (a timeout before approval): nothing to cancel.
        None => {
            lock(&state.authenticated).remove(&form.auth_token);
        }
    }
    HttpResponse::Ok().json(serde_json::json!({"resultCode": "0000", "resultMsg": "망취소 완료"}))
}

async fn set_behavior(state: web::Data<State>, body: web::Json<Behavior>) -> HttpResponse {
    *lock(&state.behavior) = body.into_inner();
    HttpResponse::NoContent().finish()
}

async fn get_state(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(lock(&state.record).clone())
}
