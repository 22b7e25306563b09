//! Hosted pages (Korean, server-rendered, usable without JavaScript, reached by signed links): signup,
//! checkout with its fee breakdown, the PG's return; and the PG's callback.

use std::collections::HashMap;

use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::checkout::{Checkout, CheckoutStatus};
use escrow_domain::ids::CheckoutId;
use escrow_domain::payment::PaymentStep;
use escrow_domain::people::PhoneNumber;
use escrow_domain::services::{CheckoutError, MemberError, PaymentLinks, PaymentResult};
use escrow_domain::signup::{IdentityClaim, SignupStatus, REQUIRED_TERMS};

use crate::state::AppState;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .body(format!(
            "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{t}</title><style>body{{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}}\
             table{{width:100%;border-collapse:collapse}}td{{padding:.3rem;border-bottom:1px solid #ddd}}td.n{{text-align:right}}\
             label{{display:block;margin:.5rem 0}}button{{font-size:1.1rem;padding:.6rem 1.2rem}}</style></head>\
             <body><h1>{t}</h1>{body}</body></html>",
            t = esc(title)
        ))
}

/// A 303 to `to`. Return URLs are checked when they are given, so `to` is always a valid header; any
/// byte that still is not is percent-encoded rather than failing the response after the work is done.
fn redirect(to: &str) -> HttpResponse {
    let mut safe = String::with_capacity(to.len());
    for c in to.chars() {
        if c.is_control() || c.is_whitespace() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                safe.push_str(&format!("%{b:02X}"));
            }
        } else {
            safe.push(c);
        }
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, safe))
        .finish()
}

fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        });
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub(crate) fn bad_link() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "링크가 올바르지 않습니다",
        "<p>만료되었거나 잘못된 링크입니다. 처음부터 다시 시도해 주세요.</p>",
    )
}

/// The link's `sig` query parameter.
#[derive(Debug, serde::Deserialize)]
pub struct Sig {
    sig: Option<String>,
}

impl Sig {
    /// The signature, or empty.
    pub fn sig(&self) -> &str {
        self.sig.as_deref().unwrap_or_default()
    }
}

fn signup_form(id: &str, sig: &str, error: Option<&str>) -> String {
    let mut terms = String::new();
    for (code, version, title) in REQUIRED_TERMS {
        terms.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"term_{code}\" value=\"{version}\" required> [필수] {} (버전 {})</label>",
            esc(title),
            esc(version)
        ));
    }
    let error = error
        .map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"/signup/{id}\"><input type=\"hidden\" name=\"sig\" value=\"{sig}\">\
         <h2>약관 동의</h2>{terms}<h2>본인인증</h2>\
         <label>이름 <input name=\"name\" required maxlength=\"50\"></label>\
         <label>생년월일 <input name=\"birthDate\" type=\"date\" required></label>\
         <label>휴대폰 번호 <input name=\"phone\" required inputmode=\"numeric\" placeholder=\"01012345678\"></label>\
         <label>국적 <select name=\"nationality\"><option value=\"KR\">내국인</option><option value=\"FOREIGN\">외국인</option></select></label>\
         <button type=\"submit\">가입하기</button></form>",
        id = esc(id),
        sig = esc(sig),
    )
}

/// The hosted signup page.
pub async fn signup_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Sig>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = q.sig.clone().unwrap_or_default();
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return bad_link();
    };
    if !state.links.verify("signup", &id, &sig) {
        return bad_link();
    }
    match state.members.session(uuid).await {
        Ok(s) if s.status == SignupStatus::Open => page(
            StatusCode::OK,
            "안전거래 회원가입",
            &signup_form(&id, &sig, None),
        ),
        Ok(s) => page(
            StatusCode::GONE,
            "가입 세션이 종료되었습니다",
            &format!("<p>상태: {}</p>", s.status.code()),
        ),
        Err(_) => bad_link(),
    }
}

/// The signup form was posted.
pub async fn signup_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = form.get("sig").cloned().unwrap_or_default();
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return bad_link();
    };
    if !state.links.verify("signup", &id, &sig) {
        return bad_link();
    }
    let retry = |message: &str| {
        page(
            StatusCode::BAD_REQUEST,
            "안전거래 회원가입",
            &signup_form(&id, &sig, Some(message)),
        )
    };
    let agreed: Vec<String> = REQUIRED_TERMS
        .iter()
        .filter(|(code, version, _)| {
            form.get(&format!("term_{code}"))
                .is_some_and(|v| v == version)
        })
        .map(|(code, _, _)| (*code).to_owned())
        .collect();
    let Some(birth_date) = form.get("birthDate").and_then(|d| {
        time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
    }) else {
        return retry("생년월일을 YYYY-MM-DD 형식으로 입력해 주세요.");
    };
    let Some(phone) = form.get("phone").and_then(|p| PhoneNumber::new(p).ok()) else {
        return retry("휴대폰 번호를 확인해 주세요.");
    };
    let name = form.get("name").map(|n| n.trim()).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 50 || name.chars().any(char::is_control) {
        return retry("이름을 확인해 주세요.");
    }
    let claim = IdentityClaim {
        name: name.to_owned(),
        birth_date,
        phone,
        foreigner: form.get("nationality").is_some_and(|n| n != "KR"),
    };
    match state.members.complete_signup(uuid, &agreed, &claim).await {
        Ok(done) => redirect(&with_query(
            &done.session.return_url,
            &[
                ("signupSessionId", &id),
                ("result", "success"),
                ("memberId", &done.member.id.to_string()),
            ],
        )),
        // Refused (foreigner, under 14, rejoin rules): back to the partner with the code, as
        // docs/api.md says; the session records the refusal and its reason.
        Err(MemberError::NotAllowed(refusal)) => match state.members.session(uuid).await {
            Ok(s) => redirect(&with_query(
                &s.return_url,
                &[
                    ("signupSessionId", &id),
                    ("result", "fail"),
                    ("code", refusal.code()),
                ],
            )),
            Err(_) => page(
                StatusCode::FORBIDDEN,
                "가입할 수 없습니다",
                &format!("<p>{}</p>", esc(refusal.message())),
            ),
        },
        Err(MemberError::TermsMissing(_)) => retry("필수 약관에 모두 동의해 주세요."),
        Err(MemberError::IdentityNotVerified(_)) => {
            retry("본인인증에 실패했습니다. 입력한 정보를 확인해 주세요.")
        }
        Err(MemberError::SessionClosed(_)) | Err(MemberError::NotFound) => bad_link(),
        Err(MemberError::AlreadyExists) => page(
            StatusCode::CONFLICT,
            "이미 가입된 회원입니다",
            "<p>이미 가입되어 있습니다.</p>",
        ),
        Err(e) => {
            tracing::error!(error = %e, "signup failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "잠시 후 다시 시도해 주세요",
                "<p>일시적인 오류입니다.</p>",
            )
        }
    }
}

fn won(amount: i64, currency: &str) -> String {
    if currency == "KRW" {
        let digits = amount.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{out}원")
    } else {
        format!("{}.{:02} {currency}", amount / 100, amount % 100)
    }
}

fn summary(c: &Checkout) -> String {
    let q = &c.quote;
    let cur = q.payment_amount.currency().code();
    let row = |k: &str, v: i64| {
        format!(
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(k),
            won(v, cur)
        )
    };
    format!(
        "<table>{}{}{}<tr><td colspan=\"2\"><small>안전거래 수수료 내역 (판매자 부담)</small></td></tr>{}{}{}{}</table>",
        row("상품금액", q.product_price.minor_units()),
        row("배송비", q.shipping_fee.minor_units()),
        row("결제금액", q.payment_amount.minor_units()),
        row("결제수수료", q.payment_fee.minor_units()),
        row("안전거래수수료", q.safe_trade_fee.minor_units()),
        row("에스크로 수수료 합계", q.escrow_fee.minor_units()),
        row("판매자 정산금액", q.seller_payout.minor_units()),
    )
}

fn checkout_id(raw: &str) -> Option<CheckoutId> {
    raw.parse().ok()
}

/// The hosted checkout page.
pub async fn checkout_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Sig>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = q.sig.clone().unwrap_or_default();
    let Some(cid) = checkout_id(&id) else {
        return bad_link();
    };
    if !state.links.verify("checkout", &id, &sig) {
        return bad_link();
    }
    let Ok(c) = state.checkouts.checkout(cid).await else {
        return bad_link();
    };
    if c.status != CheckoutStatus::Open {
        return page(
            StatusCode::GONE,
            "결제할 수 없는 주문입니다",
            &format!("<p>상태: {}</p>", c.status.code()),
        );
    }
    page(
        StatusCode::OK,
        "안전거래 결제",
        &format!(
            "{}<p>결제수단: {}</p><form method=\"post\" action=\"/checkout/{id}/pay\">\
             <input type=\"hidden\" name=\"sig\" value=\"{sig}\"><button type=\"submit\" id=\"pay\">결제하기</button></form>",
            summary(&c),
            esc(c.method.code()),
            id = esc(&id),
            sig = esc(&sig)
        ),
    )
}

/// The pay button: to the PG's start page, or back to the partner with the failure code.
pub async fn checkout_pay(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = form.get("sig").cloned().unwrap_or_default();
    let Some(cid) = checkout_id(&id) else {
        return bad_link();
    };
    if !state.links.verify("checkout", &id, &sig) {
        return bad_link();
    }
    let Ok(c) = state.checkouts.checkout(cid).await else {
        return bad_link();
    };
    let base = state.public_base_url.clone();
    let links = |checkout: &Checkout, gateway: &str| PaymentLinks {
        return_url: format!("{base}/checkout/{}/return", checkout.id),
        callback_url: format!("{base}/pg/{gateway}/callback"),
    };
    match state.checkouts.start_payment(cid, links).await {
        Ok(step) => payment_step(&step),
        Err(CheckoutError::Payment(failure)) => redirect(&with_query(
            &c.return_url,
            &[
                ("checkoutId", &id),
                ("result", "fail"),
                ("code", failure.code()),
            ],
        )),
        Err(e) => {
            tracing::error!(error = %e, "payment could not start");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "잠시 후 다시 시도해 주세요",
                "<p>결제를 시작할 수 없습니다.</p>",
            )
        }
    }
}

/// What the browser does next to pay, as the gateway answered: a redirect to its page, a form to post
/// to it (shown with a button, so it works without JavaScript), or a virtual account to pay into.
fn payment_step(step: &PaymentStep) -> HttpResponse {
    match step {
        PaymentStep::Redirect { url } => redirect(url),
        PaymentStep::Form { action, fields } => {
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
            page(
                StatusCode::OK,
                "결제사로 이동",
                &format!(
                    "<form method=\"post\" action=\"{}\">{inputs}<button id=\"pay\" type=\"submit\">결제하기</button></form>",
                    esc(action)
                ),
            )
        }
        PaymentStep::VirtualAccount {
            bank,
            account,
            holder,
            due,
        } => {
            let due = due
                .to_offset(time::macros::offset!(+9))
                .format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]"
                ))
                .unwrap_or_default();
            page(
                StatusCode::OK,
                "입금 계좌 안내",
                &format!(
                    "<table><tr><td>은행</td><td id=\"bank\">{}</td></tr><tr><td>계좌번호</td><td id=\"account\">{}</td></tr>\
                     <tr><td>예금주</td><td id=\"holder\">{}</td></tr><tr><td>입금 기한</td><td id=\"due\">{} (KST)</td></tr></table>",
                    esc(bank),
                    esc(account),
                    esc(holder),
                    esc(&due)
                ),
            )
        }
        _ => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "잠시 후 다시 시도해 주세요",
            "<p>결제를 시작할 수 없습니다.</p>",
        ),
    }
}

/// The PG's browser return.
#[derive(Debug, serde::Deserialize)]
pub struct ReturnQuery {
    #[serde(rename = "transactionId")]
    transaction_id: Option<String>,
}

fn result_redirect(
    result: &PaymentResult,
    checkout_link: impl Fn(CheckoutId) -> String,
) -> HttpResponse {
    match result {
        PaymentResult::Paid { checkout, trade_id } => redirect(&with_query(
            &checkout.return_url,
            &[
                ("checkoutId", &checkout.id.to_string()),
                ("tradeId", &trade_id.to_string()),
                ("result", "success"),
            ],
        )),
        PaymentResult::Failed { checkout, code } => redirect(&with_query(
            &checkout.return_url,
            &[
                ("checkoutId", &checkout.id.to_string()),
                ("result", "fail"),
                ("code", code),
            ],
        )),
        // Not paid (yet): the checkout stays open until it expires, so the buyer can pay again.
        PaymentResult::Pending { checkout } => page(
            StatusCode::OK,
            "결제가 완료되지 않았습니다",
            &format!(
                "<p>결제사에서 결제 완료를 확인하지 못했습니다. 결제를 마치지 않았다면 다시 시도해 주세요.</p>\
                 <p><a href=\"{}\">결제 페이지로 돌아가기</a></p>",
                esc(&checkout_link(checkout.id))
            ),
        ),
    }
}

/// The browser comes back from the PG: the PG is queried, never trusted.
pub async fn checkout_return(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ReturnQuery>,
) -> HttpResponse {
    let id = path.into_inner();
    let Some(cid) = checkout_id(&id) else {
        return bad_link();
    };
    let Some(tid) = q
        .transaction_id
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 128)
    else {
        return bad_link();
    };
    match state.checkouts.settle_return(cid, tid).await {
        Ok(result) => result_redirect(&result, |id| state.checkout_url(&id.to_string())),
        Err(CheckoutError::GatewayUnavailable(_)) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "결제 확인 중",
            &format!(
                "<p>결제사에서 결과를 확인하고 있습니다. 잠시 후 <a href=\"/checkout/{}/return?transactionId={}\">다시 확인</a>해 주세요.</p>",
                esc(&id),
                esc(tid)
            ),
        ),
        Err(_) => bad_link(),
    }
}

/// A PG's notification: its adapter reads the body, which only names the transaction; the PG is
/// queried for the rest.
pub async fn pg_callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let gateway = path.into_inner();
    match state.checkouts.notify(&gateway, &body).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({ "received": true })),
        Err(CheckoutError::CheckoutNotFound) => {
            crate::error::ApiError::not_found("transaction").as_response()
        }
        Err(CheckoutError::Payment(_)) => {
            crate::error::ApiError::invalid("transactionId", "required").as_response()
        }
        Err(CheckoutError::GatewayUnavailable(_)) => {
            // The PG will call again; the browser return may settle it first.
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "received": false, "gateway": gateway }))
        }
        Err(e) => crate::error::ApiError::from(e).as_response(),
    }
}
