//! Operator endpoints (`X-Admin-Key`): partners and their contracts, trade search and operator
//! commands, the manual refund queue, holidays.

use actix_web::{web, HttpResponse};
use escrow_domain::contract::Contract;
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::people::{Partner, PartnerSecrets, PartnerStatus, Secret};
use escrow_domain::trade::{Actor, Reason, Shipment, TradeCommand};
use serde::Deserialize;

use crate::auth::{parse_json, AdminAuth};
use crate::dto::{
    text, DeliveredRequest, HolidayRequest, HolidayView, PartnerCreateRequest, PartnerCreatedView,
    PartnerView, ReasonRequest, RefundView, ShipmentRequest, TradePageView, TradeView,
};
use crate::error::ApiError;
use crate::handlers::member::list_filter;
use crate::handlers::partner::delivered_at;
use crate::state::AppState;

fn random_secret(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Creates a partner with fresh credentials, shown once.
#[utoipa::path(post, path = "/admin/v1/partners", tag = "admin", request_body = PartnerCreateRequest,
    security(("admin_key" = [])),
    responses((status = 201, body = PartnerCreatedView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn create_partner(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: PartnerCreateRequest = parse_json(&body)?;
    let code = text("code", &r.code, 63)?;
    if !code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || code.len() < 2
    {
        return Err(ApiError::invalid(
            "code",
            "2–63 lowercase letters, digits and hyphens",
        ));
    }
    for origin in &r.allowed_redirect_origins {
        if escrow_domain::services::origin_of(origin) != Some(origin.trim_end_matches('/')) {
            return Err(ApiError::invalid(
                "allowedRedirectOrigins",
                "origins like https://market.example",
            ));
        }
    }
    if let Some(url) = &r.webhook_url {
        if escrow_domain::services::origin_of(url).is_none() {
            return Err(ApiError::invalid("webhookUrl", "an http(s) URL"));
        }
    }
    let mode = partner_mode(r.mode.as_deref().unwrap_or("LIVE"))?;
    let partner = Partner {
        id: PartnerId::random(),
        code: code.clone(),
        name: text("name", &r.name, 200)?,
        api_key_id: format!("pk_{}", uuid::Uuid::new_v4().simple()),
        webhook_url: r.webhook_url.clone(),
        allowed_redirect_origins: r
            .allowed_redirect_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect(),
        status: PartnerStatus::Active,
        mode,
        created_at: state.clock.now(),
    };
    let api_secret = random_secret("sk_");
    let webhook_secret = random_secret("whsec_");
    let secrets = PartnerSecrets {
        api_secret: Secret::new(api_secret.clone()),
        webhook_secret: Some(Secret::new(webhook_secret.clone())),
        webhook_secret_previous: None,
    };
    match state.partners.create(&partner, &secrets).await? {
        escrow_domain::ports::Stored::Created => {}
        escrow_domain::ports::Stored::AlreadyExists => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::CONFLICT,
                "PARTNER_ALREADY_EXISTS",
                "이미 있는 제휴사 코드입니다.",
            ));
        }
    }
    Ok(HttpResponse::Created().json(PartnerCreatedView {
        partner_id: partner.id.to_string(),
        code,
        api_key: partner.api_key_id,
        api_secret,
        webhook_secret,
    }))
}

/// Every partner.
#[utoipa::path(get, path = "/admin/v1/partners", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Vec<PartnerView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_partners(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let partners = state.partners.list().await?;
    Ok(HttpResponse::Ok().json(
        partners
            .into_iter()
            .map(|p| PartnerView {
                partner_id: p.id.to_string(),
                code: p.code,
                name: p.name,
                api_key: p.api_key_id,
                webhook_url: p.webhook_url,
                allowed_redirect_origins: p.allowed_redirect_origins,
                status: p.status.code().to_owned(),
                mode: p.mode.code().to_owned(),
            })
            .collect::<Vec<_>>(),
    ))
}

fn partner_id(raw: &str) -> Result<PartnerId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("partner"))
}

/// Sets a new version of a partner's contract (validated), in effect now.
#[utoipa::path(put, path = "/admin/v1/partners/{id}/contract", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "A contract, as GET returns it"),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn set_contract(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = partner_id(&path)?;
    state
        .partners
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))?;
    let contract: Contract = parse_json(&body)?;
    contract
        .validate()
        .map_err(|e| ApiError::invalid("contract", e.problems.join("; ")))?;
    let version = state
        .admin
        .set_contract(id, &contract, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "partnerId": id, "version": version, "contract": contract })))
}

fn partner_mode(raw: &str) -> Result<escrow_domain::people::PartnerMode, ApiError> {
    escrow_domain::people::PartnerMode::from_code(raw)
        .ok_or_else(|| ApiError::invalid("mode", "LIVE or TEST"))
}

/// Switches a partner between live and test (SPEC §16).
#[utoipa::path(put, path = "/admin/v1/partners/{id}/mode", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)), request_body = crate::dto::PartnerModeRequest,
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn set_mode(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = partner_id(&path)?;
    let r: crate::dto::PartnerModeRequest = parse_json(&body)?;
    let mode = partner_mode(&r.mode)?;
    if !state.partners.set_mode(id, mode).await? {
        return Err(ApiError::not_found("partner"));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "partnerId": id, "mode": mode.code() })))
}

/// A partner's contract in force.
#[utoipa::path(get, path = "/admin/v1/partners/{id}/contract", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_contract(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = partner_id(&path)?;
    state
        .partners
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))?;
    Ok(HttpResponse::Ok().json(state.rules.contract_of(id, state.clock.now()).await?))
}

/// Admin trade search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdminTradeQuery {
    /// Only this partner's.
    #[param(format = Uuid)]
    pub partner_id: Option<String>,
    /// A status code.
    pub status: Option<u8>,
    /// Only held (or not held) trades.
    pub held: Option<bool>,
    /// `LIVE` (default) or `TEST`: live and test partners' trades are never listed together.
    #[param(pattern = "^(LIVE|TEST)$")]
    pub mode: Option<String>,
    /// From the previous page.
    pub cursor: Option<String>,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Searches trades across partners.
#[utoipa::path(get, path = "/admin/v1/trades", tag = "admin", security(("admin_key" = [])), params(AdminTradeQuery),
    responses((status = 200, body = TradePageView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn search_trades(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    q: web::Query<AdminTradeQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = list_filter(q.status, q.cursor.as_deref(), q.limit)?;
    filter.held = q.held;
    filter.partner_mode = Some(partner_mode(q.mode.as_deref().unwrap_or("LIVE"))?);
    let partner = q
        .partner_id
        .as_deref()
        .map(|p| {
            p.parse::<PartnerId>()
                .map_err(|_| ApiError::invalid("partnerId", "a partner id"))
        })
        .transpose()?;
    let page = state.queries.list(partner, &filter).await?;
    Ok(HttpResponse::Ok().json(TradePageView {
        items: page.trades.iter().map(TradeView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn admin_trade(state: &AppState, raw: &str) -> Result<escrow_domain::trade::Trade, ApiError> {
    let id: TradeId = raw.parse().map_err(|_| ApiError::not_found("trade"))?;
    state
        .queries
        .get_any(id)
        .await?
        .ok_or_else(|| ApiError::not_found("trade"))
}

/// One trade.
#[utoipa::path(get, path = "/admin/v1/trades/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_trade(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(TradeView::from(&admin_trade(&state, &path).await?)))
}

async fn operate(
    state: &AppState,
    admin: &AdminAuth,
    raw: &str,
    command: TradeCommand,
) -> Result<HttpResponse, ApiError> {
    let trade = admin_trade(state, raw).await?;
    let t = state
        .trades
        .run(
            trade.partner_id,
            trade.id,
            &Actor::Operator(admin.name.clone()),
            command,
        )
        .await?;
    Ok(HttpResponse::Ok().json(TradeView::from(&t.trade)))
}

/// Operator command on a trade: `hold`, `release`, `cancel`, `delivered` or `shipment`.
#[utoipa::path(post, path = "/admin/v1/trades/{id}/{action}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "hold | release | cancel | delivered | shipment")),
    request_body(content = Object, description = "hold/cancel: {reason}; delivered: {deliveredAt?}; shipment: {carrier, invoiceNumber}; release: none"),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn trade_action(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let command = match action.as_str() {
        "hold" => TradeCommand::Hold {
            reason: Reason::new(parse_json::<ReasonRequest>(&body)?.reason)?,
        },
        "release" => TradeCommand::Release,
        "cancel" => TradeCommand::CancelByOperator {
            reason: Reason::new(parse_json::<ReasonRequest>(&body)?.reason)?,
        },
        "delivered" => {
            let r: DeliveredRequest = if body.iter().all(u8::is_ascii_whitespace) {
                DeliveredRequest::default()
            } else {
                parse_json(&body)?
            };
            let delivered_at = match &r.delivered_at {
                Some(_) => delivered_at(&state, &r)?,
                // Unsaid: now, in the trade's time (its test clock's).
                None => {
                    let t = admin_trade(&state, &id).await?;
                    crate::handlers::partner::trade_now(&state, t.partner_id, t.id).await?
                }
            };
            TradeCommand::ReportDelivery { delivered_at }
        }
        "shipment" => {
            let r: ShipmentRequest = parse_json(&body)?;
            TradeCommand::RegisterShipment(Shipment::new(
                r.carrier.trim(),
                r.invoice_number.trim(),
            )?)
        }
        _ => return Err(ApiError::not_found("action")),
    };
    operate(&state, &admin, &id, command).await
}

/// Refunds waiting for an operator (PGs without a refund call, failed refunds).
#[utoipa::path(get, path = "/admin/v1/refunds", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Vec<RefundView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn refund_queue(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let queue = state.admin.refund_queue().await?;
    Ok(HttpResponse::Ok().json(
        queue
            .into_iter()
            .map(|r| RefundView {
                id: r.id,
                trade_id: r.trade_id.map(|t| t.to_string()),
                checkout_id: r.checkout_id.to_string(),
                reason: r.reason,
                partner_id: r.partner_id.to_string(),
                amount: r.amount.minor_units(),
                currency: r.amount.currency().code().to_owned(),
                withdrawal_code: r.withdrawal_code,
                status: r.status.code().to_owned(),
                detail: r.detail,
                created_at: crate::dto::rfc3339(r.created_at),
            })
            .collect::<Vec<_>>(),
    ))
}

/// The holidays of the business calendar.
#[utoipa::path(get, path = "/admin/v1/holidays", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Vec<HolidayView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn holidays(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let calendar = state.rules.calendar().await?;
    Ok(HttpResponse::Ok().json(
        calendar
            .holidays()
            .map(|h| HolidayView {
                date: h.date.to_string(),
                name: h.name,
            })
            .collect::<Vec<_>>(),
    ))
}

fn date(raw: &str) -> Result<time::Date, ApiError> {
    time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| ApiError::invalid("date", "YYYY-MM-DD"))
}

/// Adds (or renames) a holiday.
#[utoipa::path(post, path = "/admin/v1/holidays", tag = "admin", security(("admin_key" = [])), request_body = HolidayRequest,
    responses((status = 201, body = HolidayView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn add_holiday(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: HolidayRequest = parse_json(&body)?;
    let d = date(&r.date)?;
    let name = text("name", &r.name, 100)?;
    state.admin.add_holiday(d, &name).await?;
    Ok(HttpResponse::Created().json(HolidayView {
        date: d.to_string(),
        name,
    }))
}

/// Removes a holiday.
#[utoipa::path(delete, path = "/admin/v1/holidays/{date}", tag = "admin", security(("admin_key" = [])),
    params(("date" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn remove_holiday(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = date(&path)?;
    if state.admin.remove_holiday(d).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("holiday"))
    }
}

/// A dead letter.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterView {
    /// Row id (for replay).
    pub id: i64,
    /// The event id the partner deduplicates by.
    pub event_id: String,
    /// `ALIMTALK` or `CALLBACK`.
    pub kind: String,
    /// The partner.
    pub partner_id: String,
    /// The trade, if any.
    pub trade_id: Option<String>,
    /// Attempts made.
    pub attempts: i32,
    /// When it was queued.
    pub created_at: String,
    /// What was to be delivered.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// Messages given up after 24 hours of retries (or refused for good).
#[utoipa::path(get, path = "/admin/v1/outbox/dead-letters", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Vec<DeadLetterView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn dead_letters(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let dead = state.outbox.dead_letters(500).await?;
    Ok(HttpResponse::Ok().json(
        dead.into_iter()
            .map(|m| DeadLetterView {
                id: m.id,
                event_id: m.event_id.to_string(),
                kind: if m.kind == escrow_domain::delivery::OutboxKind::Alimtalk {
                    "ALIMTALK"
                } else {
                    "CALLBACK"
                }
                .to_owned(),
                partner_id: m.partner_id.to_string(),
                trade_id: m.trade_id.map(|t| t.to_string()),
                attempts: m.attempts,
                created_at: crate::dto::rfc3339(m.created_at),
                payload: m.payload.to_stored(),
            })
            .collect::<Vec<_>>(),
    ))
}

/// Puts a dead letter back in line (same event id, a new 24-hour horizon).
#[utoipa::path(post, path = "/admin/v1/outbox/{id}/replay", tag = "admin", security(("admin_key" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn replay(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = path
        .parse()
        .map_err(|_| ApiError::not_found("dead letter"))?;
    if state.outbox.replay(id, state.clock.now()).await? {
        Ok(HttpResponse::Accepted().json(serde_json::json!({ "id": id, "status": "PENDING" })))
    } else {
        Err(ApiError::not_found("dead letter"))
    }
}

/// Query of the bank transfer file.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BankFileQuery {
    /// Only payouts due on this date (YYYY-MM-DD).
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
}

/// The instructed payouts as the operator's bank transfer file (CSV).
#[utoipa::path(get, path = "/admin/v1/payouts/bank-file", tag = "admin", security(("admin_key" = [])), params(BankFileQuery),
    responses((status = 200, body = String, content_type = "text/csv"), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn bank_file(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    q: web::Query<BankFileQuery>,
) -> Result<HttpResponse, ApiError> {
    let d = q.date.as_deref().map(date).transpose()?;
    let csv = state.admin.payout_bank_file(d).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(csv))
}

/// Due payouts waiting because their seller has no verified payout account yet.
#[utoipa::path(get, path = "/admin/v1/payouts/waiting-for-account", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Vec<crate::dto::WaitingPayoutView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn payouts_waiting_for_account(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let waiting = state.payout_accounts.waiting().await?;
    Ok(HttpResponse::Ok().json(
        waiting
            .iter()
            .map(crate::dto::WaitingPayoutView::from)
            .collect::<Vec<_>>(),
    ))
}

/// The operator refunded a manual-queue refund by hand: it is done and leaves the ledger (404 when
/// there is no such refund in the manual queue, including one finished already).
#[utoipa::path(post, path = "/admin/v1/refunds/{id}/done", tag = "admin", security(("admin_key" = [])),
    params(("id" = i64, Path)), request_body = crate::dto::RefundDoneRequest,
    responses((status = 204), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn refund_done(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = path
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("refund"))?;
    let r: crate::dto::RefundDoneRequest = crate::auth::parse_json(&body)?;
    let reference = crate::dto::text("reference", &r.reference, 200)?;
    let detail = format!("refunded by hand by {}: {reference}", admin.name);
    // One conditional update decides: finished only if it was in the manual queue.
    if state
        .refunds
        .settle_by_hand(id, detail, state.clock.now())
        .await?
    {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("refund in the manual queue"))
    }
}
