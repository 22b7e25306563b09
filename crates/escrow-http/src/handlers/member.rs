//! Member-token endpoints: products, checkouts, the buyer's and seller's trade commands and reads, and
//! the seller's payout account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use escrow_domain::checkout::{IdempotencyKey, ShippingAddress};
use escrow_domain::ids::{ProductId, TradeId};
use escrow_domain::people::PhoneNumber;
use escrow_domain::ports::TradeFilter;
use escrow_domain::services::{CheckoutRequest, PayoutAccountError, ProductUpsert};
use escrow_domain::trade::{
    ActorRole, Reason, SaleCancelReason, Shipment, TradeCommand, TradeStatus,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{parse_json, MemberAuth};
use crate::dto::{
    text, CheckoutRequestDto, CheckoutView, EventView, PayoutAccountRequest, PayoutAccountView,
    ProductRequest, ProductView, ReasonRequest, ReturnAgreeRequest, ReturnRequestDto,
    SaleCancelRequest, ShipmentRequest, TradePageView, TradeView,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Registers or updates the seller's product.
#[utoipa::path(put, path = "/api/v1/products", tag = "products", request_body = ProductRequest,
    security(("member_token" = [])),
    responses((status = 200, body = ProductView), (status = 201, body = ProductView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn upsert_product(
    state: web::Data<AppState>,
    auth: MemberAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: ProductRequest = parse_json(&body)?;
    let upsert = ProductUpsert {
        product_id: r.product_id.map(ProductId),
        partner_product_id: text("partnerProductId", &r.partner_product_id, 100)?,
        name: text("name", &r.name, 200)?,
        price: r.price,
        shipping_fee: r.shipping_fee.unwrap_or(0),
        payment_methods: r.payment_methods.into_iter().map(Into::into).collect(),
        description: r.description,
        image_url: r.image_url,
        category_code: r.category_code,
    };
    let creating = upsert.product_id.is_none();
    let product = state
        .products
        .upsert(auth.partner_id, auth.member_id, upsert)
        .await?;
    let view = ProductView::from(&product);
    Ok(if creating {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

fn idempotency_key(req: &HttpRequest, body: &[u8]) -> Result<IdempotencyKey, ApiError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "IDEMPOTENCY_KEY_REQUIRED",
                "Idempotency-Key 헤더가 필요합니다.",
            )
        })?;
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "1–255 printable ASCII characters",
        ));
    }
    let mut hash = Sha256::new();
    hash.update(req.method().as_str().as_bytes());
    hash.update(req.path().as_bytes());
    hash.update(body);
    Ok(IdempotencyKey {
        key: key.to_owned(),
        request_hash: hex::encode(hash.finalize()),
    })
}

/// Creates a checkout (requires `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/checkouts", tag = "checkouts", request_body = CheckoutRequestDto,
    security(("member_token" = [])),
    params(("Idempotency-Key" = String, Header)),
    responses((status = 201, body = CheckoutView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn create_checkout(
    state: web::Data<AppState>,
    auth: MemberAuth,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req, &body)?;
    let r: CheckoutRequestDto = parse_json(&body)?;
    let address = checkout_address(&state, &auth, &r).await?;
    let (partner, _) = state
        .partners
        .get(auth.partner_id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))?;
    let request = CheckoutRequest {
        product_id: ProductId(r.product_id),
        method: r.payment_method.into(),
        trade_type: r.trade_type.into(),
        shipping_address: address,
        return_url: r.return_url.trim().to_owned(),
        partner_trade_no: r
            .partner_trade_no
            .as_deref()
            .map(|n| text("partnerTradeNo", n, 100))
            .transpose()?,
    };
    let opened = state
        .checkouts
        .create(&partner, auth.member_id, request, Some(key))
        .await?;
    let c = opened.checkout();
    if c.buyer_id != auth.member_id {
        // A key reused by another member of the partner: not theirs to see.
        return Err(ApiError::not_found("checkout"));
    }
    let id = c.id.to_string();
    Ok(HttpResponse::Created().json(CheckoutView::new(c, state.checkout_url(&id))))
}

/// The checkout's address: the one in the body, or the buyer's saved `addressId` (exactly one).
async fn checkout_address(
    state: &AppState,
    auth: &MemberAuth,
    r: &CheckoutRequestDto,
) -> Result<ShippingAddress, ApiError> {
    match (&r.shipping_address, r.address_id) {
        (Some(a), None) => Ok(ShippingAddress {
            recipient: text("shippingAddress.recipient", &a.recipient, 50)?,
            phone: PhoneNumber::new(&a.phone)
                .map_err(|_| ApiError::invalid("shippingAddress.phone", "a mobile number"))?,
            postcode: text("shippingAddress.postcode", &a.postcode, 10)?,
            address: text("shippingAddress.address", &a.address, 200)?,
            address_detail: text("shippingAddress.addressDetail", &a.address_detail, 200)?,
            requirement: a
                .requirement
                .as_deref()
                .map(|r| text("shippingAddress.requirement", r, 200))
                .transpose()?,
        }),
        (None, Some(id)) => crate::handlers::addresses::saved_shipping(state, auth, id).await,
        _ => Err(ApiError::invalid(
            "shippingAddress",
            "exactly one of shippingAddress and addressId",
        )),
    }
}

fn trade_id(raw: &str) -> Result<TradeId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("trade"))
}

/// Runs `command` as the member in `role` (the path's role); the domain decides whether the member
/// may (404 when not a party, 403 when a party in the other role), reading the trade once.
async fn run(
    state: &AppState,
    auth: &MemberAuth,
    raw_id: &str,
    role: ActorRole,
    command: TradeCommand,
) -> Result<HttpResponse, ApiError> {
    let t = state
        .trades
        .run_as_member(
            auth.partner_id,
            trade_id(raw_id)?,
            auth.member_id,
            role,
            command,
        )
        .await?;
    Ok(HttpResponse::Ok().json(TradeView::from(&t.trade)))
}

fn reason(r: &ReasonRequest) -> Result<Reason, ApiError> {
    Reason::new(r.reason.clone()).map_err(ApiError::from)
}

fn shipment(r: &ShipmentRequest) -> Result<Shipment, ApiError> {
    Shipment::new(r.carrier.trim(), r.invoice_number.trim()).map_err(ApiError::from)
}

macro_rules! trade_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, $role:expr, $body:ty, $make:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "trades", request_body = $body, security(("member_token" = [])),
            params(("id" = String, Path)),
            responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
        pub async fn $name(
            state: web::Data<AppState>,
            auth: MemberAuth,
            path: web::Path<String>,
            body: web::Bytes,
        ) -> Result<HttpResponse, ApiError> {
            let make: fn(&[u8]) -> Result<TradeCommand, ApiError> = $make;
            let command = make(&body)?;
            run(&state, &auth, &path, $role, command).await
        }
    };
}

/// An empty body or `{}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

fn empty(body: &[u8]) -> Result<(), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    parse_json::<Empty>(body).map(|_| ())
}

trade_command!(
    /// Buyer: asks to cancel after paying (31 → 34).
    buyer_cancel, "/api/v1/trades/{id}/cancel", ActorRole::Buyer, ReasonRequest,
    |b| Ok(TradeCommand::RequestCancel { reason: reason(&parse_json(b)?)? })
);
trade_command!(
    /// Buyer: approves the purchase (32 → 33).
    buyer_approve, "/api/v1/trades/{id}/approve", ActorRole::Buyer, Empty,
    |b| { empty(b)?; Ok(TradeCommand::ApprovePurchase) }
);
trade_command!(
    /// Buyer: asks to return the goods (32 → 51).
    buyer_return_request, "/api/v1/trades/{id}/return-request", ActorRole::Buyer, ReturnRequestDto,
    |b| {
        let r: ReturnRequestDto = parse_json(b)?;
        Ok(TradeCommand::RequestReturn { reason: Reason::new(r.reason)?, shipping_payer: r.return_shipping_payer.into() })
    }
);
trade_command!(
    /// Buyer: registers the return parcel (52 → 53).
    buyer_return_shipment, "/api/v1/trades/{id}/return-shipment", ActorRole::Buyer, ShipmentRequest,
    |b| Ok(TradeCommand::RegisterReturnShipment(shipment(&parse_json(b)?)?))
);
trade_command!(
    /// Seller: registers the parcel (31 → 32).
    seller_shipment, "/api/v1/trades/{id}/shipment", ActorRole::Seller, ShipmentRequest,
    |b| Ok(TradeCommand::RegisterShipment(shipment(&parse_json(b)?)?))
);
trade_command!(
    /// Seller: agrees to the buyer's cancel (34 → 35, full refund).
    seller_cancel_agree, "/api/v1/trades/{id}/cancel-agree", ActorRole::Seller, Empty,
    |b| { empty(b)?; Ok(TradeCommand::AgreeCancel) }
);
trade_command!(
    /// Seller: cancels the sale with a reason code 31–39 (31 → 36, full refund).
    seller_sale_cancel, "/api/v1/trades/{id}/sale-cancel", ActorRole::Seller, SaleCancelRequest,
    |b| {
        let r: SaleCancelRequest = parse_json(b)?;
        Ok(TradeCommand::CancelSale { reason: SaleCancelReason::new(r.reason_code, r.reason_detail)? })
    }
);
trade_command!(
    /// Seller: agrees to the return and gives the address (51 → 52).
    seller_return_agree, "/api/v1/trades/{id}/return-agree", ActorRole::Seller, ReturnAgreeRequest,
    |b| {
        let r: ReturnAgreeRequest = parse_json(b)?;
        Ok(TradeCommand::AgreeReturn { return_address: Reason::for_field("returnAddress", r.return_address)? })
    }
);
trade_command!(
    /// Seller: confirms receipt of the returned goods (53 → 54; refund the next business day).
    seller_return_complete, "/api/v1/trades/{id}/return-complete", ActorRole::Seller, Empty,
    |b| { empty(b)?; Ok(TradeCommand::ConfirmReturnReceipt) }
);

/// A trade the member is part of.
#[utoipa::path(get, path = "/api/v1/trades/{id}", tag = "trades", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_trade(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let trade = state
        .trades
        .get_as_member(auth.partner_id, trade_id(&path)?, auth.member_id)
        .await?;
    Ok(HttpResponse::Ok().json(TradeView::from(&trade)))
}

/// Query of the trade list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `buyer` or `seller`.
    #[param(pattern = r"^(buyer|seller)$")]
    pub role: String,
    /// A status code (31, 32, …).
    pub status: Option<u8>,
    /// From the previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Parses a status code and a cursor of a list query.
pub fn list_filter(
    status: Option<u8>,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<TradeFilter, ApiError> {
    let status = status
        .map(|s| {
            TradeStatus::from_code(s)
                .ok_or_else(|| ApiError::invalid("status", "a trade status code"))
        })
        .transpose()?;
    let (cursor, limit) = crate::dto::paging(cursor, limit)?;
    Ok(TradeFilter {
        status,
        cursor,
        limit,
        ..TradeFilter::default()
    })
}

/// The member's trades as buyer or seller, newest first, with cursor paging.
#[utoipa::path(get, path = "/api/v1/trades", tag = "trades", security(("member_token" = [])),
    params(ListQuery),
    responses((status = 200, body = TradePageView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_trades(
    state: web::Data<AppState>,
    auth: MemberAuth,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = list_filter(q.status, q.cursor.as_deref(), q.limit)?;
    match q.role.as_str() {
        "buyer" => filter.buyer_id = Some(auth.member_id),
        "seller" => filter.seller_id = Some(auth.member_id),
        _ => return Err(ApiError::invalid("role", "buyer or seller")),
    }
    let page = state.queries.list(Some(auth.partner_id), &filter).await?;
    Ok(HttpResponse::Ok().json(TradePageView {
        items: page.trades.iter().map(TradeView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A trade by the partner's own number.
#[utoipa::path(get, path = "/api/v1/trades/by-partner-no/{partnerTradeNo}", tag = "trades", security(("member_token" = [])),
    params(("partnerTradeNo" = String, Path)),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn trade_by_partner_no(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let no = text("partnerTradeNo", &path, 100)?;
    let trade = state
        .queries
        .by_partner_trade_no(auth.partner_id, &no)
        .await?
        .filter(|t| t.buyer_id == auth.member_id || t.seller_id == auth.member_id)
        .ok_or_else(|| ApiError::not_found("trade"))?;
    Ok(HttpResponse::Ok().json(TradeView::from(&trade)))
}

/// A trade's history.
#[utoipa::path(get, path = "/api/v1/trades/{id}/events", tag = "trades", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<EventView>), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn trade_events(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let trade = state
        .trades
        .get_as_member(auth.partner_id, trade_id(&path)?, auth.member_id)
        .await?;
    let events = state.queries.events(trade.id).await?;
    Ok(HttpResponse::Ok().json(events.iter().map(EventView::from).collect::<Vec<_>>()))
}

fn payout_account_error(e: PayoutAccountError) -> ApiError {
    use escrow_domain::payout_account::VerifierError;
    use ApiError as E;
    match e {
        PayoutAccountError::Invalid(e) => E::invalid(e.field(), e.to_string()),
        PayoutAccountError::NotFound => E::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ACCOUNT_NOT_FOUND",
            "은행에 없는 계좌입니다.",
        ),
        PayoutAccountError::HolderMismatch => E::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ACCOUNT_HOLDER_MISMATCH",
            "예금주 이름이 일치하지 않습니다.",
        ),
        PayoutAccountError::Verifier(VerifierError::Unavailable(detail)) => {
            tracing::warn!(%detail, "account verifier unavailable");
            E::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ACCOUNT_VERIFIER_UNAVAILABLE",
                "계좌 확인 서비스에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
            )
        }
        PayoutAccountError::Verifier(e) => {
            tracing::error!(error = %e, "account verifier refused the request");
            E::new(
                StatusCode::BAD_GATEWAY,
                "ACCOUNT_VERIFIER_REFUSED",
                "계좌 확인 서비스가 요청을 거절했습니다.",
            )
        }
        PayoutAccountError::Repository(e) => e.into(),
        _ => E::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "ACCOUNT_NOT_VERIFIED",
            "계좌를 확인하지 못했습니다.",
        ),
    }
}

/// Registers (or replaces) the member's payout account: checked by a holder-name lookup at the bank,
/// then stored sealed. Payouts to a seller wait until one is registered.
#[utoipa::path(put, path = "/api/v1/payout-account", tag = "members", request_body = PayoutAccountRequest,
    security(("member_token" = [])),
    responses((status = 200, body = PayoutAccountView), (status = "4XX", body = crate::dto::ErrorBody),
        (status = 503, body = crate::dto::ErrorBody)))]
pub async fn put_payout_account(
    state: web::Data<AppState>,
    auth: MemberAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: PayoutAccountRequest = parse_json(&body)?;
    let masked = state
        .payout_accounts
        .register(
            auth.partner_id,
            auth.member_id,
            &r.bank_code,
            &r.account_number,
            &r.holder_name,
        )
        .await
        .map_err(payout_account_error)?;
    Ok(HttpResponse::Ok().json(PayoutAccountView::from(&masked)))
}

/// The member's payout account, masked (404 when none is registered).
#[utoipa::path(get, path = "/api/v1/payout-account", tag = "members", security(("member_token" = [])),
    responses((status = 200, body = PayoutAccountView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_payout_account(
    state: web::Data<AppState>,
    auth: MemberAuth,
) -> Result<HttpResponse, ApiError> {
    let account = state
        .payout_accounts
        .get(auth.partner_id, auth.member_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payout account"))?;
    Ok(HttpResponse::Ok().json(PayoutAccountView::from(&account)))
}

/// Registers (or replaces) the buyer's refund account (환불계좌): checked by a holder-name lookup
/// through the account-verification MID, stored sealed, shown masked (`123-***-7890`). A
/// virtual-account payment is refunded there; its refund waits until one is registered.
#[utoipa::path(put, path = "/api/v1/refund-account", tag = "members", request_body = PayoutAccountRequest,
    security(("member_token" = [])),
    responses((status = 200, body = PayoutAccountView), (status = "4XX", body = crate::dto::ErrorBody),
        (status = 503, body = crate::dto::ErrorBody)))]
pub async fn put_refund_account(
    state: web::Data<AppState>,
    auth: MemberAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: PayoutAccountRequest = parse_json(&body)?;
    let masked = state
        .refund_accounts
        .register(
            auth.partner_id,
            auth.member_id,
            &r.bank_code,
            &r.account_number,
            &r.holder_name,
        )
        .await
        .map_err(payout_account_error)?;
    Ok(HttpResponse::Ok().json(PayoutAccountView::from(&masked)))
}

/// The buyer's refund account, masked (404 when none is registered).
#[utoipa::path(get, path = "/api/v1/refund-account", tag = "members", security(("member_token" = [])),
    responses((status = 200, body = PayoutAccountView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_refund_account(
    state: web::Data<AppState>,
    auth: MemberAuth,
) -> Result<HttpResponse, ApiError> {
    let account = state
        .refund_accounts
        .get(auth.partner_id, auth.member_id)
        .await?
        .ok_or_else(|| ApiError::not_found("refund account"))?;
    Ok(HttpResponse::Ok().json(PayoutAccountView::from(&account)))
}
