//! Custody vouchers and delivery requests (SPEC §13, seed 004 배송 요청): the member's vouchers and
//! requests (create, list, read, delete, payment verification, refund), the operators' grants, list
//! and approval, and PortOne's webhook.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::custody::{
    DeliveryError, FeePaymentState, NewVoucher, RequestFilter, ShippingState, Verifier,
    VoucherRefusal,
};
use escrow_domain::ids::PartnerId;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use crate::auth::{parse_json, AdminAuth, MemberAuth};
use crate::dto::{
    text, DeletedRequest, DeliveryRequestBody, DeliveryRequestDetailView, DeliveryRequestList,
    DeliveryRequestView, Paging, PaymentVerification, VoucherGrant, VoucherList, VoucherView,
};
use crate::error::ApiError;
use crate::state::AppState;

impl From<DeliveryError> for ApiError {
    fn from(e: DeliveryError) -> Self {
        use DeliveryError as E;
        let (status, code, message) = match e {
            E::NotFound => (
                StatusCode::NOT_FOUND,
                "DELIVERY_REQUEST_NOT_FOUND",
                "해당 배송 요청을 찾지 못했어요.".to_owned(),
            ),
            E::Voucher(VoucherRefusal::NotFound(id)) => {
                return ApiError::new(
                    StatusCode::NOT_FOUND,
                    "VOUCHER_NOT_FOUND",
                    "사용하려는 소유권을 찾지 못했어요.",
                )
                .details(json!({ "voucherId": id }))
            }
            E::Voucher(VoucherRefusal::NotOwned(id)) => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "VOUCHER_NOT_OWNED",
                    "당신의 소유권이 아니에요.",
                )
                .details(json!({ "voucherId": id }))
            }
            E::Voucher(VoucherRefusal::NotAvailable(id)) => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "VOUCHER_NOT_AVAILABLE",
                    "배송 요청하려는 소유권 중에 이용가능 상태가 아닌 소유권이 있어요.",
                )
                .details(json!({ "voucherId": id }))
            }
            E::BadVoucherList(problem) => return ApiError::invalid("voucherIds", problem),
            E::MemberNotFound => return ApiError::not_found("member"),
            E::PaidCannotDelete => (
                StatusCode::CONFLICT,
                "DELIVERY_REQUEST_PAID",
                "아직 미결제 상태인 경우에만 삭제할 수 있어요.".to_owned(),
            ),
            E::ShippedCannotDelete => (
                StatusCode::CONFLICT,
                "DELIVERY_REQUEST_SHIPPED",
                "관리자가 이미 배송처리한 경우에는 삭제할 수 없어요.".to_owned(),
            ),
            E::ShippedCannotRefund => (
                StatusCode::CONFLICT,
                "DELIVERY_REQUEST_SHIPPED",
                "관리자가 이미 배송 처리한 경우에는 취소할 수 없어요.".to_owned(),
            ),
            E::NothingToRefund => (
                StatusCode::NOT_FOUND,
                "FEE_PAYMENT_NOT_FOUND",
                "해당 결제 정보를 찾지 못했어요.".to_owned(),
            ),
            E::AlreadyShipped => (
                StatusCode::CONFLICT,
                "DELIVERY_REQUEST_ALREADY_SHIPPED",
                "이미 완료 처리된 요청이에요.".to_owned(),
            ),
            E::NotPaid => (
                StatusCode::CONFLICT,
                "DELIVERY_REQUEST_NOT_PAID",
                "아직 결제되지 않은 배송 요청은 발송 완료할 수 없어요.".to_owned(),
            ),
            E::GatewayPaymentNotFound => (
                StatusCode::NOT_FOUND,
                "PORTONE_PAYMENT_NOT_FOUND",
                "포트원 결제 정보를 찾지 못했어요.".to_owned(),
            ),
            E::PaymentNotCompleted(status) => {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "PAYMENT_NOT_COMPLETED",
                    "결제가 완료되지 않았어요.",
                )
                .details(json!({ "portoneStatus": status }))
            }
            E::PaymentOfAnotherOrder => (
                StatusCode::CONFLICT,
                "PAYMENT_OF_ANOTHER_ORDER",
                "다른 주문의 결제 정보예요.".to_owned(),
            ),
            E::RefundRefused(message) => (StatusCode::BAD_REQUEST, "PORTONE_REFUSED", message),
            E::Unavailable(_) => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "PG_UNAVAILABLE",
                    "결제사와 통신하지 못했어요. 잠시 후 다시 시도해주세요.",
                );
                e.retry_after = Some(30);
                return e;
            }
            E::Storage(s) => return s.into(),
        };
        ApiError::new(status, code, message)
    }
}

fn request_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| DeliveryError::NotFound.into())
}

fn detail(d: &escrow_domain::custody::DeliveryRequestDetail) -> HttpResponse {
    HttpResponse::Ok().json(DeliveryRequestDetailView::from(d))
}

/// The member's vouchers (소유권), newest first.
#[utoipa::path(get, path = "/api/v1/vouchers", tag = "delivery", security(("member_token" = [])),
    responses((status = 200, body = VoucherList), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn my_vouchers(
    state: web::Data<AppState>,
    auth: MemberAuth,
) -> Result<HttpResponse, ApiError> {
    let all = state
        .deliveries
        .vouchers(auth.partner_id, auth.member_id)
        .await?;
    Ok(HttpResponse::Ok().json(VoucherList {
        vouchers: all.iter().map(VoucherView::from).collect(),
    }))
}

/// Asks for delivery of some of the member's available vouchers (배송 요청 등록); the shipping fee is
/// then paid through PortOne under the answer's `payment.merchantUid`.
#[utoipa::path(post, path = "/api/v1/delivery-requests", tag = "delivery", request_body = DeliveryRequestBody,
    security(("member_token" = [])),
    responses((status = 201, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    auth: MemberAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: DeliveryRequestBody = parse_json(&body)?;
    let address = match (r.address_id, &r.address) {
        (None, Some(a)) => a.draft()?.shipping,
        (Some(id), None) => crate::handlers::addresses::saved_shipping(&state, &auth, id).await?,
        _ => {
            return Err(ApiError::invalid(
                "address",
                "exactly one of address and addressId",
            ))
        }
    };
    let d = state
        .deliveries
        .open(auth.partner_id, auth.member_id, r.voucher_ids, address)
        .await?;
    Ok(HttpResponse::Created().json(DeliveryRequestDetailView::from(&d)))
}

/// The list's filters (seed: `filter.userNames`, `filter.shippingState`, `filter.paymentState`,
/// `pageParam`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    /// Operators: the partner (required there).
    pub partner_id: Option<uuid::Uuid>,
    /// Operators: only these requesters, comma-separated partner user ids.
    #[param(max_length = 2000)]
    pub partner_user_ids: Option<String>,
    /// `all` (default), `waiting`, `shipped`.
    #[param(pattern = "^(all|waiting|shipped)$")]
    pub shipping_state: Option<String>,
    /// `all` (default), `waiting`, `paid`, `forgeried`, `refunding`, `refunded`.
    #[param(pattern = "^(all|waiting|paid|forgeried|refunding|refunded)$")]
    pub payment_state: Option<String>,
    /// The page, from 0.
    #[param(minimum = 0, maximum = 100000)]
    pub page_param: Option<u32>,
}

impl RequestListQuery {
    fn filter(&self, partner_id: PartnerId) -> Result<RequestFilter, ApiError> {
        let shipping = match self.shipping_state.as_deref().unwrap_or("all") {
            "all" => None,
            s => Some(
                ShippingState::from_code(s)
                    .ok_or_else(|| ApiError::invalid("shippingState", "all, waiting or shipped"))?,
            ),
        };
        let payment = match self.payment_state.as_deref().unwrap_or("all") {
            "all" => None,
            s => Some(FeePaymentState::from_code(s).ok_or_else(|| {
                ApiError::invalid(
                    "paymentState",
                    "all, waiting, paid, forgeried, refunding or refunded",
                )
            })?),
        };
        let page = self.page_param.unwrap_or(0);
        if page > 100_000 {
            return Err(ApiError::invalid("pageParam", "0 to 100000"));
        }
        let partner_user_ids = match self.partner_user_ids.as_deref() {
            None => Vec::new(),
            Some(raw) => {
                let ids: Vec<String> = raw
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if ids.len() > 100 {
                    return Err(ApiError::invalid("partnerUserIds", "at most 100"));
                }
                for id in &ids {
                    text("partnerUserIds", id, 100)?;
                }
                ids
            }
        };
        Ok(RequestFilter {
            partner_id,
            requester: None,
            partner_user_ids,
            shipping,
            payment,
            page,
        })
    }
}

fn list_answer(page: escrow_domain::custody::RequestPage, page_param: u32) -> HttpResponse {
    HttpResponse::Ok().json(DeliveryRequestList {
        shippings: page
            .requests
            .iter()
            .map(DeliveryRequestView::from)
            .collect(),
        paging: Paging {
            page_param,
            has_next_page: page.has_next_page,
        },
    })
}

/// The member's delivery requests, newest first (배송 요청 목록).
#[utoipa::path(get, path = "/api/v1/delivery-requests", tag = "delivery", security(("member_token" = [])),
    params(RequestListQuery),
    responses((status = 200, body = DeliveryRequestList), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_mine(
    state: web::Data<AppState>,
    auth: MemberAuth,
    q: web::Query<RequestListQuery>,
) -> Result<HttpResponse, ApiError> {
    if q.partner_id.is_some() || q.partner_user_ids.is_some() {
        return Err(ApiError::invalid(
            "partnerUserIds",
            "operators only: a member lists its own requests",
        ));
    }
    let mut filter = q.filter(auth.partner_id)?;
    filter.requester = Some(auth.member_id);
    let page = state.deliveries.list(&filter).await?;
    Ok(list_answer(page, filter.page))
}

/// One of the member's requests with its vouchers and payment (배송 요청 상세).
#[utoipa::path(get, path = "/api/v1/delivery-requests/{id}", tag = "delivery", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_mine(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .deliveries
        .detail(
            Some(auth.partner_id),
            Some(auth.member_id),
            request_id(&path)?,
        )
        .await?;
    Ok(detail(&d))
}

/// Deletes an unpaid, unshipped request (배송 요청 삭제): its vouchers are available again.
#[utoipa::path(delete, path = "/api/v1/delivery-requests/{id}", tag = "delivery", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeletedRequest), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let voucher_ids = state
        .deliveries
        .delete(auth.partner_id, auth.member_id, request_id(&path)?)
        .await?;
    Ok(HttpResponse::Ok().json(DeletedRequest { voucher_ids }))
}

/// Verifies the shipping fee's payment at PortOne (결제 검증): `payment.state` becomes `paid`, or
/// `forgeried` (cancelled at PortOne) when PortOne's amount is not the fee.
#[utoipa::path(post, path = "/api/v1/delivery-requests/{id}/payment", tag = "delivery", request_body = PaymentVerification,
    security(("member_token" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody),
        (status = 503, body = crate::dto::ErrorBody)))]
pub async fn verify_payment(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = request_id(&path)?;
    let r: PaymentVerification = parse_json(&body)?;
    if !escrow_domain::payment::is_gateway_reference(&r.imp_uid) {
        return Err(ApiError::invalid("impUid", "PortOne's imp_uid"));
    }
    let d = state
        .deliveries
        .verify(
            auth.partner_id,
            Verifier::Member(auth.member_id),
            id,
            &r.imp_uid,
        )
        .await?;
    Ok(detail(&d))
}

/// Refunds the paid shipping fee of an unshipped request (결제 환불): the vouchers are available again.
#[utoipa::path(post, path = "/api/v1/delivery-requests/{id}/refund", tag = "delivery", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody),
        (status = 503, body = crate::dto::ErrorBody)))]
pub async fn refund(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .deliveries
        .refund(auth.partner_id, auth.member_id, request_id(&path)?)
        .await?;
    Ok(detail(&d))
}

/// Grants a voucher to a member (operators).
#[utoipa::path(post, path = "/admin/v1/vouchers", tag = "admin", request_body = VoucherGrant,
    security(("admin_key" = [])),
    responses((status = 201, body = VoucherView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn grant(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let r: VoucherGrant = parse_json(&body)?;
    let image_url = match r.image_url.as_deref() {
        Some(u)
            if u.len() <= 2000
                && (u.starts_with("https://") || u.starts_with("http://"))
                && !u.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Some(u.to_owned())
        }
        Some(_) => return Err(ApiError::invalid("imageUrl", "an http(s) URL")),
        None => None,
    };
    let v = state
        .deliveries
        .grant(NewVoucher {
            partner_id: PartnerId(r.partner_id),
            owner_partner_user_id: text("partnerUserId", &r.partner_user_id, 100)?,
            item_name: text("itemName", &r.item_name, 200)?,
            image_url,
        })
        .await?;
    Ok(HttpResponse::Created().json(VoucherView::from(&v)))
}

/// A partner's delivery requests (operators), with the seed's filters and paging.
#[utoipa::path(get, path = "/admin/v1/delivery-requests", tag = "admin", security(("admin_key" = [])),
    params(RequestListQuery),
    responses((status = 200, body = DeliveryRequestList), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_all(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    q: web::Query<RequestListQuery>,
) -> Result<HttpResponse, ApiError> {
    let partner = q
        .partner_id
        .ok_or_else(|| ApiError::invalid("partnerId", "required"))?;
    let filter = q.filter(PartnerId(partner))?;
    let page = state.deliveries.list(&filter).await?;
    Ok(list_answer(page, filter.page))
}

/// One request (operators).
#[utoipa::path(get, path = "/admin/v1/delivery-requests/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_any(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state
        .deliveries
        .detail(None, None, request_id(&path)?)
        .await?;
    Ok(detail(&d))
}

/// The operator shipped a paid request (발송 완료 처리): its vouchers become `shipped`.
#[utoipa::path(post, path = "/admin/v1/delivery-requests/{id}/approve", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DeliveryRequestDetailView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn approve(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let d = state.deliveries.approve(request_id(&path)?).await?;
    Ok(detail(&d))
}

/// PortOne's webhook (`{imp_uid, merchant_uid, status}`, unsigned): only a reason to look the payment
/// up again; the answer is 200 unless PortOne could not be reached (then PortOne retries).
pub async fn portone_webhook(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    #[derive(Deserialize)]
    struct Hook {
        imp_uid: String,
        merchant_uid: String,
    }
    let Ok(hook) = serde_json::from_slice::<Hook>(&body) else {
        return ApiError::invalid("imp_uid", "PortOne's webhook body").as_response();
    };
    if !escrow_domain::payment::is_gateway_reference(&hook.imp_uid)
        || hook.merchant_uid.is_empty()
        || hook.merchant_uid.len() > 100
    {
        return ApiError::invalid("imp_uid", "PortOne's ids").as_response();
    }
    match state
        .deliveries
        .webhook(&hook.imp_uid, &hook.merchant_uid)
        .await
    {
        Ok(true) => HttpResponse::Ok().json(json!({ "received": true })),
        // Not a delivery request's: a trade's payment through the PortOne gateway (its
        // merchant_uid is the checkout id), settled like any PG's notification.
        Ok(false) => {
            let gateway = web::Path::from(PORTONE_GATEWAY.to_owned());
            let answer = crate::handlers::checkout_pages::pg_callback(state, gateway, body).await;
            if answer.status() == StatusCode::NOT_FOUND {
                // Neither a delivery request's nor a checkout's: nothing to do, and PortOne
                // retrying would not change that.
                tracing::info!(merchant_uid = %hook.merchant_uid, "PortOne webhook for no order of ours: ignored");
                return HttpResponse::Ok().json(json!({ "received": true, "matched": false }));
            }
            answer
        }
        Err(e) => ApiError::from(e).as_response(),
    }
}

/// The PortOne gateway's name in routing: its trade payments' webhooks are settled as its.
const PORTONE_GATEWAY: &str = "portone";
