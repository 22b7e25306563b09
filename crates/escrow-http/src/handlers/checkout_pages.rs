//! The hosted checkout (결제) pages: what the buyer sees before paying (what is bought, from whom,
//! where it goes, how and how much is paid, the safe-trade protection, the time left), the pay
//! button, the virtual account to pay into, the PG's browser return; and the PG's callback.
//! The seller's fees and payout are never shown to the buyer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::checkout::{Checkout, CheckoutStatus};
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::CheckoutId;
use escrow_domain::payment::PaymentStep;
use escrow_domain::services::{CheckoutError, PaymentLinks, PaymentResult};

use super::layout::{dead_end, esc, page, seoul, won};
use super::pages::{bad_link, redirect, with_query, Sig};
use crate::state::AppState;

/// A payment method as buyers know it.
pub fn method_name(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Card => "신용카드",
        PaymentMethod::BankTransfer => "실시간 계좌이체",
        PaymentMethod::VirtualAccount => "무통장입금 (가상계좌)",
    }
}

/// `010-****-5678`.
fn masked_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len());
    }
    let (head, rest) = digits.split_at(3);
    let tail = &rest[rest.len() - 4..];
    format!("{head}-****-{tail}")
}

/// What the buyer is about to pay for, and how much.
struct Order<'a> {
    checkout: &'a Checkout,
    product_name: String,
    image_url: Option<String>,
    seller: String,
}

fn order_sections(o: &Order<'_>, now: time::OffsetDateTime) -> String {
    let c = o.checkout;
    let q = &c.quote;
    let cur = q.payment_amount.currency().code();
    let image = o
        .image_url
        .as_deref()
        .filter(|u| u.starts_with("https://"))
        .map(|u| format!("<img src=\"{}\" alt=\"\">", esc(u)))
        .unwrap_or_default();
    let a = &c.shipping_address;
    let minutes_left = (c.expires_at - now).whole_minutes().max(0);
    format!(
        "<section aria-labelledby=\"order\"><h2 id=\"order\">주문 상품</h2><div class=\"product\">{image}<div>\
         <strong id=\"product-name\">{}</strong><br><span>판매자 {}</span></div></div></section>\
         <section aria-labelledby=\"ship\"><h2 id=\"ship\">배송지</h2><p>{} · {}<br>({}) {} {}</p></section>\
         <section aria-labelledby=\"pay-info\"><h2 id=\"pay-info\">결제 정보</h2><table>\
         <tr><td>결제수단</td><td class=\"n\" id=\"method\">{}</td></tr>\
         <tr><td>상품금액</td><td class=\"n\">{}</td></tr><tr><td>배송비</td><td class=\"n\">{}</td></tr>\
         <tr class=\"total\"><td>총 결제금액</td><td class=\"n\" id=\"total\">{}</td></tr></table></section>\
         <section class=\"protect\"><h2>구매안전서비스</h2><p>결제하신 금액은 에스크로에 안전하게 보관되고, 상품을 받고 \
         구매확정하신 뒤에 판매자에게 지급됩니다.</p></section>\
         <p id=\"time-left\">결제 가능 시간: {minutes_left}분 남음 ({} 까지, 한국 시간)</p>",
        esc(&o.product_name),
        esc(&o.seller),
        esc(&a.recipient),
        esc(&masked_phone(a.phone.expose())),
        esc(&a.postcode),
        esc(&a.address),
        esc(&a.address_detail),
        method_name(c.method),
        won(q.product_price.minor_units(), cur),
        won(q.shipping_fee.minor_units(), cur),
        won(q.payment_amount.minor_units(), cur),
        seoul(c.expires_at),
    )
}

/// The checkout's product and seller as the buyer sees them (name masked).
async fn order<'a>(state: &AppState, c: &'a Checkout) -> Order<'a> {
    let product = state
        .product_repo
        .get(c.partner_id, c.product_id)
        .await
        .ok()
        .flatten();
    let seller = state
        .members
        .get(c.partner_id, c.seller_id)
        .await
        .map(|m| escrow_domain::people::masked_name(&m.name))
        .unwrap_or_default();
    Order {
        checkout: c,
        product_name: product.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        image_url: product.and_then(|p| p.image_url),
        seller,
    }
}

/// For a card payment, the interest-free installment notices that hold today for its amount at its
/// gateway (SPEC §12), as a popup the buyer opens (`<details>`, no script needed); empty otherwise.
async fn installment_popup(state: &AppState, c: &Checkout, now: time::OffsetDateTime) -> String {
    let (PaymentMethod::Card, Some(gateway)) = (c.method, c.pg_gateway.as_deref()) else {
        return String::new();
    };
    let notices = state
        .payment_setup
        .notices_holding(gateway, c.quote.payment_amount.minor_units(), now)
        .await
        .unwrap_or_default();
    if notices.is_empty() {
        return String::new();
    }
    let rows: String = notices
        .iter()
        .map(|n| {
            let months: Vec<String> = n.months.iter().map(|m| format!("{m}개월")).collect();
            let mut terms = vec![
                format!("{} 이상", won(n.min_amount, "KRW")),
                format!("{} ~ {}", n.valid_from, n.valid_to),
            ];
            if !n.exclusions.is_empty() {
                terms.push(esc(&n.exclusions));
            }
            format!(
                "<li><strong>{}</strong> {} 무이자{}<br><small>{}</small></li>",
                esc(&n.card_name),
                months.join(", "),
                if n.partial { " (부분무이자)" } else { "" },
                terms.join(" · "),
            )
        })
        .collect();
    format!(
        "<section class=\"installments\"><details id=\"installments\"><summary>무이자 할부 안내</summary>\
         <ul>{rows}</ul></details></section>"
    )
}

/// A checkout that cannot be paid any more: why, and the way back to the partner.
fn closed(c: &Checkout) -> HttpResponse {
    let (title, message) = match c.status {
        CheckoutStatus::Expired => (
            "결제 시간이 지났습니다",
            "결제 가능 시간이 지나 주문이 취소되었습니다. 쇼핑몰에서 다시 주문해 주세요.",
        ),
        CheckoutStatus::Paid => ("이미 결제된 주문입니다", "이 주문은 결제가 끝났습니다."),
        _ => (
            "결제할 수 없는 주문입니다",
            "이 주문은 결제할 수 없습니다. 쇼핑몰에서 다시 주문해 주세요.",
        ),
    };
    dead_end(StatusCode::GONE, title, message, Some(&c.return_url))
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
    let sig = q.sig().to_owned();
    let Some(cid) = checkout_id(&id) else {
        return bad_link();
    };
    if !state.links.verify("checkout", &id, &sig) {
        return bad_link();
    }
    let Ok(c) = state.checkouts.checkout(cid).await else {
        return bad_link();
    };
    let now = state
        .checkouts
        .now_of(&c)
        .await
        .unwrap_or_else(|_| state.clock.now());
    if c.status != CheckoutStatus::Open || c.expires_at <= now {
        return closed(&c);
    }
    let order = order(&state, &c).await;
    let installments = installment_popup(&state, &c, now).await;
    let total = won(
        c.quote.payment_amount.minor_units(),
        c.quote.payment_amount.currency().code(),
    );
    page(
        StatusCode::OK,
        "안전거래 결제",
        &format!(
            "{}{installments}<form method=\"post\" action=\"/checkout/{id}/pay\">\
             <input type=\"hidden\" name=\"sig\" value=\"{sig}\"><button type=\"submit\" id=\"pay\">{total} 결제하기</button></form>\
             <p><a href=\"{back}\">결제하지 않고 쇼핑몰로 돌아가기</a></p>",
            order_sections(&order, now),
            id = esc(&id),
            sig = esc(&sig),
            back = esc(&c.return_url),
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
        Ok(step) => payment_step(&step, &c),
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
            dead_end(
                StatusCode::SERVICE_UNAVAILABLE,
                "잠시 후 다시 시도해 주세요",
                "결제를 시작할 수 없습니다. 잠시 후 결제 페이지에서 다시 시도하거나 쇼핑몰로 돌아가 주세요.",
                Some(&c.return_url),
            )
        }
    }
}

/// What the browser does next to pay, as the gateway answered: a redirect to its page, a form to post
/// to it (shown with a button, so it works without JavaScript), or a virtual account to pay into.
fn payment_step(step: &PaymentStep, c: &Checkout) -> HttpResponse {
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
        } => page(
            StatusCode::OK,
            "입금 계좌 안내",
            &format!(
                "<section><p>아래 계좌로 <strong>입금 기한까지</strong> 정확한 금액을 입금해 주세요. 입금이 확인되면 \
                 결제가 완료되고 판매자에게 발송 요청이 전달됩니다.</p><table>\
                 <tr><td>은행</td><td class=\"n\" id=\"bank\">{}</td></tr>\
                 <tr><td>계좌번호</td><td class=\"n\" id=\"account\">{}</td></tr>\
                 <tr><td>예금주</td><td class=\"n\" id=\"holder\">{}</td></tr>\
                 <tr class=\"total\"><td>입금할 금액</td><td class=\"n\" id=\"amount\">{}</td></tr>\
                 <tr><td>입금 기한</td><td class=\"n\" id=\"due\">{} (한국 시간)</td></tr></table></section>\
                 <section class=\"protect\"><h2>구매안전서비스</h2><p>입금하신 금액은 구매확정 전까지 에스크로에 \
                 안전하게 보관됩니다. 기한이 지나면 주문은 자동으로 취소됩니다.</p></section>\
                 <p><a class=\"button\" href=\"{}\">쇼핑몰로 돌아가기</a></p>",
                esc(bank),
                esc(account),
                esc(holder),
                won(
                    c.quote.payment_amount.minor_units(),
                    c.quote.payment_amount.currency().code()
                ),
                esc(&seoul(*due)),
                esc(&c.return_url),
            ),
        ),
        _ => dead_end(
            StatusCode::SERVICE_UNAVAILABLE,
            "잠시 후 다시 시도해 주세요",
            "결제를 시작할 수 없습니다. 쇼핑몰로 돌아가 다시 시도해 주세요.",
            Some(&c.return_url),
        ),
    }
}

/// The PG's browser return: Unifi Pay's `transactionId`, or PortOne's `imp_uid` (only its presence
/// is read: the payment is looked up by the checkout id; `merchant_uid` and `imp_success` are not
/// trusted).
#[derive(Debug, serde::Deserialize)]
pub struct ReturnQuery {
    #[serde(rename = "transactionId")]
    transaction_id: Option<String>,
    imp_uid: Option<String>,
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

/// A virtual account was issued: the account to pay into, how much, by when; then on to the partner.
fn deposit_page(c: &Checkout, trade: &escrow_domain::trade::Trade) -> HttpResponse {
    let onward = with_query(
        &c.return_url,
        &[
            ("checkoutId", &c.id.to_string()),
            ("tradeId", &trade.id.to_string()),
            ("result", "success"),
        ],
    );
    let amount = won(
        c.quote.payment_amount.minor_units(),
        c.quote.payment_amount.currency().code(),
    );
    page(
        StatusCode::OK,
        "입금 계좌 안내",
        &format!(
            "<section><p>주문이 접수되었습니다. 아래 계좌로 <strong>입금 기한까지</strong> 정확한 금액을 입금해 주세요.</p><table>\
             <tr><td>입금 계좌</td><td class=\"n\" id=\"account\">{}</td></tr>\
             <tr class=\"total\"><td>입금할 금액</td><td class=\"n\" id=\"amount\">{amount}</td></tr>\
             <tr><td>입금 기한</td><td class=\"n\" id=\"due\">{} (한국 시간)</td></tr></table></section>\
             <section class=\"protect\"><h2>구매안전서비스</h2><p>입금하신 금액은 구매확정 전까지 에스크로에 안전하게 \
             보관됩니다. 기한이 지나면 주문은 자동으로 취소됩니다. 계좌 안내는 카카오 알림톡으로도 보내 드립니다.</p></section>\
             <p><a class=\"button\" id=\"continue\" href=\"{}\">쇼핑몰로 돌아가기</a></p>",
            esc(trade.deposit_account.as_deref().unwrap_or_default()),
            esc(&trade.deadlines.deposit_deadline.map(seoul).unwrap_or_default()),
            esc(&onward),
        ),
    )
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
        // PortOne: the transaction we keep is the checkout id (its merchant_uid).
        .or(q.imp_uid.as_ref().map(|_| id.as_str()))
        .filter(|t| !t.is_empty() && t.len() <= 128)
    else {
        return bad_link();
    };
    let result = state.checkouts.settle_return(cid, tid).await;
    let retry = format!("/checkout/{}/return?transactionId={}", id, tid);
    payment_answer(&state, result, &retry).await
}

/// A PG that posts the buyer's authentication back (KG Inicis) comes here: the service asks the PG
/// to approve it and checks the approval; nothing in the post is trusted.
pub async fn checkout_authenticated(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> HttpResponse {
    let id = path.into_inner();
    let Some(cid) = checkout_id(&id) else {
        return bad_link();
    };
    let authentication = escrow_domain::payment::PgAuthentication {
        fields: form.into_inner(),
    };
    let result = state.checkouts.authenticated(cid, &authentication).await;
    let retry = state.checkout_url(&id);
    payment_answer(&state, result, &retry).await
}

/// Where the browser goes after a payment was settled: the deposit page for an issued virtual
/// account, the partner's return URL otherwise; a "try again" page while the PG cannot be asked.
async fn payment_answer(
    state: &AppState,
    result: Result<PaymentResult, CheckoutError>,
    retry: &str,
) -> HttpResponse {
    match result {
        Ok(PaymentResult::Paid { checkout, trade_id })
            if checkout.method == PaymentMethod::VirtualAccount =>
        {
            match state.queries.get_any(trade_id).await {
                Ok(Some(trade)) => deposit_page(&checkout, &trade),
                _ => result_redirect(
                    &PaymentResult::Paid { checkout, trade_id },
                    |id| state.checkout_url(&id.to_string()),
                ),
            }
        }
        Ok(result) => result_redirect(&result, |id| state.checkout_url(&id.to_string())),
        Err(CheckoutError::GatewayUnavailable(_)) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "결제 확인 중",
            &format!(
                "<p>결제사에서 결과를 확인하고 있습니다. 잠시 후 <a href=\"{}\">다시 확인</a>해 주세요.</p>",
                esc(retry)
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "payment result could not be settled");
            bad_link()
        }
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
        Ok(_) => match state.checkouts.notification_ack(&gateway) {
            Some(text) => HttpResponse::Ok().content_type("text/plain").body(text),
            None => HttpResponse::Ok().json(serde_json::json!({ "received": true })),
        },
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
