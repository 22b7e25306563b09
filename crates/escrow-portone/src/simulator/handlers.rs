//! The simulator's endpoints.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{lock, new_uid, unix_now, Behavior, EndpointMode, NewCertification, State};
use crate::wire::{CancelRequest, Certification, Envelope, Payment, TokenAnswer, TokenRequest};

fn envelope<T: serde::Serialize>(status: StatusCode, body: &Envelope<T>) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

fn refused(status: StatusCode, code: i64, message: &str) -> HttpResponse {
    envelope::<()>(status, &Envelope::refused(code, message))
}

/// The token check and the API switches every authorised endpoint goes through; `Some` answer when
/// the call stops here.
async fn gate(state: &State, req: &HttpRequest) -> Option<HttpResponse> {
    let behavior = lock(&state.behavior).clone();
    match behavior.api {
        EndpointMode::ServerError => {
            return Some(refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                -1,
                "일시적인 오류입니다.",
            ))
        }
        EndpointMode::Hang => {
            tokio::time::sleep(std::time::Duration::from_millis(
                behavior.hang_ms.unwrap_or(30_000),
            ))
            .await;
        }
        EndpointMode::Normal => {}
    }
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .map(|t| t.trim_start_matches("Bearer ").to_owned())
        .unwrap_or_default();
    let valid = lock(&state.tokens)
        .get(&token)
        .is_some_and(|expires| unix_now() < *expires);
    if valid {
        None
    } else {
        lock(&state.record).unauthorized += 1;
        Some(refused(StatusCode::UNAUTHORIZED, -1, "Unauthorized"))
    }
}

pub(super) async fn get_token(state: web::Data<State>, body: web::Bytes) -> HttpResponse {
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body) else {
        return refused(
            StatusCode::BAD_REQUEST,
            -1,
            "imp_key, imp_secret 파라메터가 누락되었습니다.",
        );
    };
    if request.imp_key != state.imp_key || request.imp_secret != state.imp_secret {
        return refused(
            StatusCode::UNAUTHORIZED,
            -1,
            "imp_key, imp_secret 정보가 올바르지 않습니다.",
        );
    }
    let now = unix_now();
    let lifetime = if lock(&state.behavior).short_tokens {
        30
    } else {
        1800
    };
    let token = uuid::Uuid::new_v4().simple().to_string();
    lock(&state.tokens).insert(token.clone(), now + lifetime);
    lock(&state.record).tokens_issued += 1;
    envelope(
        StatusCode::OK,
        &Envelope::ok(TokenAnswer {
            access_token: token,
            now,
            expired_at: now + lifetime,
        }),
    )
}

pub(super) async fn payment(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(stop) = gate(&state, &req).await {
        return stop;
    }
    match lock(&state.payments).get(path.as_str()) {
        Some(p) => envelope(StatusCode::OK, &Envelope::ok(p.clone())),
        None => refused(StatusCode::NOT_FOUND, 1, "존재하지 않는 결제정보입니다."),
    }
}

/// `GET /payments/find/{merchant_uid}`: the order's payment (a paid one first).
pub(super) async fn find_by_merchant_uid(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(stop) = gate(&state, &req).await {
        return stop;
    }
    let payments = lock(&state.payments);
    let mut of_order: Vec<&Payment> = payments
        .values()
        .filter(|p| p.merchant_uid == path.as_str())
        .collect();
    of_order.sort_by_key(|p| {
        (
            p.status != "paid",
            p.status != "cancelled",
            std::cmp::Reverse(p.paid_at),
        )
    });
    match of_order.first() {
        Some(p) => envelope(StatusCode::OK, &Envelope::ok((*p).clone())),
        None => refused(StatusCode::NOT_FOUND, 1, "존재하지 않는 결제정보입니다."),
    }
}

pub(super) async fn cancel(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(stop) = gate(&state, &req).await {
        return stop;
    }
    let Ok(request) = serde_json::from_slice::<CancelRequest>(&body) else {
        return refused(
            StatusCode::BAD_REQUEST,
            -1,
            "imp_uid 또는 merchant_uid 파라메터가 필요합니다.",
        );
    };
    let outcome = {
        let mut payments = lock(&state.payments);
        match payments.get_mut(&request.imp_uid) {
            None => Err("취소할 결제건이 존재하지 않습니다.".to_owned()),
            Some(p) if p.status != "paid" => Err(if p.status == "cancelled" {
                "이미 전액취소된 주문입니다.".to_owned()
            } else {
                "결제완료 상태가 아닌 주문은 취소할 수 없습니다.".to_owned()
            }),
            Some(p) => {
                let remaining = p.amount - p.cancel_amount;
                let amount = request.amount.unwrap_or(remaining);
                if request.checksum != remaining {
                    Err(format!(
                        "[checksum] 취소 가능 금액({remaining})이 요청한 checksum({})과 일치하지 않습니다.",
                        request.checksum
                    ))
                } else if amount <= 0 || amount > remaining {
                    Err(format!("취소 가능 금액({remaining})을 초과하였습니다."))
                } else {
                    p.cancel_amount += amount;
                    if p.cancel_amount == p.amount {
                        p.status = "cancelled".into();
                    }
                    Ok((p.clone(), amount))
                }
            }
        }
    };
    match outcome {
        Ok((p, amount)) => {
            lock(&state.record)
                .cancelled
                .push((p.imp_uid.clone(), amount));
            envelope(StatusCode::OK, &Envelope::ok(p))
        }
        Err(message) => {
            lock(&state.record)
                .cancels_refused
                .push((request.imp_uid.clone(), message.clone()));
            refused(StatusCode::OK, 1, &message)
        }
    }
}

pub(super) async fn certification(
    state: web::Data<State>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    if let Some(stop) = gate(&state, &req).await {
        return stop;
    }
    match lock(&state.certifications).get(path.as_str()) {
        Some(c) => envelope(StatusCode::OK, &Envelope::ok(c.clone())),
        None => refused(StatusCode::NOT_FOUND, 1, "인증결과가 존재하지 않습니다."),
    }
}

pub(super) fn certify(state: &State, person: NewCertification) -> String {
    let imp_uid = new_uid("imp");
    let unique_key = format!("ci-{}-{}", person.name, person.birthday);
    lock(&state.certifications).insert(
        imp_uid.clone(),
        Certification {
            imp_uid: imp_uid.clone(),
            merchant_uid: None,
            name: person.name,
            birthday: person.birthday,
            phone: person.phone,
            foreigner: person.foreigner,
            certified: true,
            unique_key,
        },
    );
    imp_uid
}

pub(super) async fn new_certification(
    state: web::Data<State>,
    body: web::Json<NewCertification>,
) -> HttpResponse {
    let imp_uid = certify(&state, body.into_inner());
    HttpResponse::Ok().json(serde_json::json!({ "imp_uid": imp_uid }))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The pay page's fields (query of `GET /pay`, form of `POST /pay/decide`).
#[derive(Debug, Deserialize)]
pub(super) struct PayFields {
    merchant_uid: String,
    amount: i64,
    #[serde(default)]
    name: String,
    /// Where the browser goes after (with `imp_uid`, `merchant_uid`, `imp_success`).
    #[serde(default)]
    m_redirect_url: Option<String>,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

pub(super) async fn pay_page(q: web::Query<PayFields>) -> HttpResponse {
    let hidden = |k: &str, v: &str| {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        )
    };
    let fields = [
        hidden("merchant_uid", &q.merchant_uid),
        hidden("amount", &q.amount.to_string()),
        hidden("name", &q.name),
        hidden("m_redirect_url", q.m_redirect_url.as_deref().unwrap_or("")),
    ]
    .concat();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>PortOne 결제</title></head>\
             <body><h1>PortOne 결제 (simulator)</h1><p>{} — {}원</p>\
             <form method=\"post\" action=\"/pay/decide\">{fields}\
             <button name=\"decision\" value=\"approve\">결제</button>\
             <button name=\"decision\" value=\"decline\">취소</button></form></body></html>",
            esc(&q.name),
            q.amount
        ))
}

pub(super) async fn decide(state: web::Data<State>, form: web::Form<PayFields>) -> HttpResponse {
    let f = form.into_inner();
    if f.amount <= 0 || f.merchant_uid.is_empty() {
        return HttpResponse::BadRequest().body("merchant_uid and a positive amount are required");
    }
    let behavior = lock(&state.behavior).clone();
    let approved = f.decision.as_deref() == Some("approve") && !behavior.decline;
    let amount = if behavior.other_amount { 100 } else { f.amount };
    let payment = Payment {
        imp_uid: new_uid("imp"),
        merchant_uid: f.merchant_uid.clone(),
        amount,
        cancel_amount: 0,
        status: if approved { "paid" } else { "failed" }.into(),
        pay_method: "card".into(),
        currency: "KRW".into(),
        paid_at: if approved { unix_now() } else { 0 },
        fail_reason: (!approved).then(|| "카드사 승인 거절".to_owned()),
    };
    lock(&state.payments).insert(payment.imp_uid.clone(), payment.clone());
    state.post_webhook(&payment).await;
    let query = format!(
        "imp_uid={}&merchant_uid={}&imp_success={approved}",
        payment.imp_uid, payment.merchant_uid
    );
    if f.format.as_deref() == Some("json") {
        return HttpResponse::Ok().json(serde_json::json!({
            "imp_uid": payment.imp_uid, "merchant_uid": payment.merchant_uid,
            "imp_success": approved, "base": state.public_url,
        }));
    }
    match f.m_redirect_url.filter(|u| !u.is_empty()) {
        Some(url) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            HttpResponse::SeeOther()
                .insert_header(("Location", format!("{url}{sep}{query}")))
                .finish()
        }
        None => HttpResponse::Ok().json(serde_json::json!({ "imp_uid": payment.imp_uid })),
    }
}

pub(super) async fn set_behavior(
    state: web::Data<State>,
    body: web::Json<Behavior>,
) -> HttpResponse {
    *lock(&state.behavior) = body.into_inner();
    HttpResponse::NoContent().finish()
}

pub(super) async fn get_state(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(lock(&state.record).clone())
}

pub(super) async fn expire_tokens(state: web::Data<State>) -> HttpResponse {
    lock(&state.tokens).clear();
    HttpResponse::NoContent().finish()
}
