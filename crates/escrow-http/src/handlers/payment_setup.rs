//! Operator endpoints of the payment setup (SPEC §12): method connections (연결여부, 사용여부,
//! priority), merchants (MIDs and keys, never shown back), interest-free installment notices and the
//! audit of every change; and the partners' list of the notices that hold today.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use escrow_domain::contract::PaymentMethod;
use escrow_domain::payment_setup::installments::{Funder, NoticeDraft};
use escrow_domain::payment_setup::GatewayRoute;
use escrow_domain::payment_setup::{MerchantKeys, NewMerchant, SetupError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{parse_json, AdminAuth};
use crate::error::ApiError;
use crate::state::AppState;

impl From<SetupError> for ApiError {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::UnknownGateway(g) => {
                ApiError::invalid("gateway", format!("{g:?} is not a configured gateway"))
            }
            SetupError::Invalid { field, message } => ApiError::invalid(field, message),
            SetupError::MerchantNotFound => ApiError::not_found("merchant"),
            SetupError::NoticeNotFound => ApiError::not_found("installment notice"),
            SetupError::Storage(s) => s.into(),
            other => ApiError::invalid("method", other.to_string()),
        }
    }
}

/// `PUT /admin/v1/payment-routes/{gateway}/{method}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteRequest {
    /// The PG has the method enabled for us (연결여부).
    pub connected: bool,
    /// We offer it (사용여부).
    pub enabled: bool,
    /// Among several connected and enabled gateways, the lowest number serves the method.
    #[schema(minimum = 0, maximum = 1000)]
    #[serde(default)]
    pub priority: i32,
}

/// `POST /admin/v1/merchants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantRequest {
    /// A configured gateway (`inicis`, `unifipay`).
    #[schema(min_length = 1, max_length = 40)]
    pub gateway: String,
    /// Only for this partner.
    pub partner_id: Option<String>,
    /// `LIVE` or `TEST`.
    #[schema(pattern = "^(LIVE|TEST)$")]
    pub mode: String,
    /// The MID (Inicis' test MID: `INIpayTest`).
    #[schema(min_length = 1, max_length = 40)]
    pub mid: String,
    /// The keys the gateway needs (Inicis: `signKey`, `iniapiKey`, `iniapiIv`); stored sealed,
    /// never shown back.
    #[serde(default)]
    pub keys: BTreeMap<String, String>,
}

/// Paging of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries after this position.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

fn method(raw: &str) -> Result<PaymentMethod, ApiError> {
    PaymentMethod::from_code(raw)
        .ok_or_else(|| ApiError::invalid("method", "CARD, BANK_TRANSFER or VIRTUAL_ACCOUNT"))
}

/// Every (gateway, method) connection.
#[utoipa::path(get, path = "/admin/v1/payment-routes", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_routes(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let routes = state.payment_setup.routes().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "routes": routes })))
}

/// Sets a method's connection to a gateway; holds from the next checkout on. Audited.
#[utoipa::path(put, path = "/admin/v1/payment-routes/{gateway}/{method}", tag = "admin",
    security(("admin_key" = [])),
    params(("gateway" = String, Path), ("method" = String, Path)), request_body = RouteRequest,
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn set_route(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (gateway, raw_method) = path.into_inner();
    let method = method(&raw_method)?;
    let r: RouteRequest = parse_json(&body)?;
    let route = GatewayRoute {
        method,
        gateway,
        connected: r.connected,
        enabled: r.enabled,
        priority: r.priority,
    };
    state
        .payment_setup
        .set_route(&admin.name, route.clone())
        .await?;
    Ok(HttpResponse::Ok().json(route))
}

/// Every merchant (key names only), removed ones too.
#[utoipa::path(get, path = "/admin/v1/merchants", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_merchants(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let merchants = state.payment_setup.merchants().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "merchants": merchants })))
}

/// Adds a merchant (MID and keys, sealed at rest). Audited without the keys' values.
#[utoipa::path(post, path = "/admin/v1/merchants", tag = "admin", security(("admin_key" = [])),
    request_body = MerchantRequest,
    responses((status = 201, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn add_merchant(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: MerchantRequest = parse_json(&body)?;
    let mode = escrow_domain::people::PartnerMode::from_code(&r.mode)
        .ok_or_else(|| ApiError::invalid("mode", "LIVE or TEST"))?;
    let partner_id = match r.partner_id.as_deref() {
        None => None,
        Some(raw) => {
            let id = raw
                .parse()
                .map_err(|_| ApiError::invalid("partnerId", "a partner id"))?;
            state
                .partners
                .get(id)
                .await?
                .ok_or_else(|| ApiError::invalid("partnerId", "no such partner"))?;
            Some(id)
        }
    };
    let view = state
        .payment_setup
        .add_merchant(
            &admin.name,
            NewMerchant {
                gateway: r.gateway,
                partner_id,
                mode,
                mid: r.mid,
                keys: r.keys.into_iter().collect::<MerchantKeys>(),
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Takes a merchant out of use: new payments cannot use it (`MERCHANT_NOT_CONFIGURED` when it was
/// the only one); payments made with it still refund through it. Audited.
#[utoipa::path(delete, path = "/admin/v1/merchants/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn remove_merchant(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.parse().map_err(|_| ApiError::not_found("merchant"))?;
    state.payment_setup.remove_merchant(&admin.name, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The audit of every payment-setup change: who, when, before, after (never a key's value).
#[utoipa::path(get, path = "/admin/v1/payment-setup/audit", tag = "admin",
    security(("admin_key" = [])), params(AuditQuery),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn audit(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 200"));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid("after", "0 or more"));
    }
    let entries = state.payment_setup.audit(q.after, limit).await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries, "nextAfter": next })))
}

/// `GET /api/v1/installment-notices`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// The card payment's amount, won.
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub amount: Option<i64>,
}

/// The interest-free installment notices that hold today (Asia/Seoul) for a card payment of
/// `amount` won at the gateway serving the partner's card payments (partner-signed).
#[utoipa::path(get, path = "/api/v1/installment-notices", tag = "checkout",
    params(NoticeQuery), security(("partner_signature" = [])),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn installment_notices(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    q: web::Query<NoticeQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = crate::auth::verify_partner(&state, &req, &body).await?;
    let amount = q
        .amount
        .filter(|a| (0..=1_000_000_000).contains(a))
        .ok_or_else(|| ApiError::invalid("amount", "0 to 1,000,000,000 won"))?;
    let notices = state
        .payment_setup
        .notices_for(&partner, amount, state.clock.now())
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "notices": notices })))
}

/// Every installment notice in use.
#[utoipa::path(get, path = "/admin/v1/installment-notices", tag = "admin",
    security(("admin_key" = [])),
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_notices(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<HttpResponse, ApiError> {
    let notices = state.payment_setup.notices().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "notices": notices })))
}

/// An installment notice as an operator writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoticeRequest {
    /// A configured gateway (`inicis`).
    #[schema(min_length = 1, max_length = 40)]
    pub gateway: String,
    /// Inicis' card company code (`11` BC, `14` 신한, …).
    #[schema(pattern = "^[0-9]{2}$")]
    pub card_code: String,
    /// The interest-free months (2–36).
    pub months: Vec<u8>,
    /// The smallest payment it applies to, won.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub min_amount: i64,
    /// First day (Asia/Seoul), `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub valid_from: String,
    /// Last day (Asia/Seoul), inclusive.
    #[schema(value_type = String, format = Date)]
    pub valid_to: String,
    /// `CARD_COMPANY` or `MERCHANT` (merchant-funded ones are sent to Inicis).
    #[schema(pattern = "^(CARD_COMPANY|MERCHANT)$")]
    pub funded_by: String,
    /// Partial interest-free (부분무이자).
    #[serde(default)]
    pub partial: bool,
    /// What is excluded.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub exclusions: String,
}

fn draft(body: &[u8]) -> Result<NoticeDraft, ApiError> {
    let r: NoticeRequest = parse_json(body)?;
    let date = |field: &'static str, raw: &str| {
        time::Date::parse(
            raw,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| ApiError::invalid(field, "a date, YYYY-MM-DD"))
    };
    let funded_by = match r.funded_by.as_str() {
        "CARD_COMPANY" => Funder::CardCompany,
        "MERCHANT" => Funder::Merchant,
        _ => return Err(ApiError::invalid("fundedBy", "CARD_COMPANY or MERCHANT")),
    };
    Ok(NoticeDraft {
        gateway: r.gateway,
        card_code: r.card_code,
        months: r.months,
        min_amount: r.min_amount,
        valid_from: date("validFrom", &r.valid_from)?,
        valid_to: date("validTo", &r.valid_to)?,
        funded_by,
        partial: r.partial,
        exclusions: r.exclusions,
    })
}

/// Adds an installment notice. Audited.
#[utoipa::path(post, path = "/admin/v1/installment-notices", tag = "admin",
    security(("admin_key" = [])), request_body = NoticeRequest,
    responses((status = 201, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn add_notice(
    state: web::Data<AppState>,
    admin: AdminAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let notice = state
        .payment_setup
        .save_notice(&admin.name, None, draft(&body)?)
        .await?;
    Ok(HttpResponse::Created().json(notice))
}

fn notice_id(raw: &str) -> Result<escrow_domain::ids::InstallmentNoticeId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("installment notice"))
}

/// Replaces an installment notice. Audited (before and after).
#[utoipa::path(put, path = "/admin/v1/installment-notices/{id}", tag = "admin",
    security(("admin_key" = [])), params(("id" = String, Path)), request_body = NoticeRequest,
    responses((status = 200, body = Object), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn replace_notice(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = notice_id(&path)?;
    let notice = state
        .payment_setup
        .save_notice(&admin.name, Some(id), draft(&body)?)
        .await?;
    Ok(HttpResponse::Ok().json(notice))
}

/// Removes an installment notice. Audited.
#[utoipa::path(delete, path = "/admin/v1/installment-notices/{id}", tag = "admin",
    security(("admin_key" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn remove_notice(
    state: web::Data<AppState>,
    admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = notice_id(&path)?;
    state.payment_setup.remove_notice(&admin.name, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
