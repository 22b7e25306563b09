//! Every failure as SPEC §11's body: `{"code", "message" (Korean, for end users), "details",
//! "requestId"}`, with its HTTP status chosen here, in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use escrow_domain::limits::{LimitExceeded, LimitScope, LimitWindow};
use escrow_domain::ports::OpenCheckoutError;
use escrow_domain::ports::RepositoryError;
use escrow_domain::quote::QuoteError;
use escrow_domain::services::{CheckoutError, MemberError, ProductError, TradeServiceError};
use escrow_domain::trade::TransitionError;
use serde_json::{json, Value};

tokio::task_local! {
    /// The id of the request being served (set by the request-id middleware).
    pub static REQUEST_ID: String;
}

/// The current request's id, or `-` outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// An API error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The machine-readable code.
    pub code: &'static str,
    /// A message for end users, in Korean.
    pub message: String,
    /// Structured details.
    pub details: Value,
    /// Seconds for a `Retry-After` header (429 and 503 answers that know when to come back).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)
    }
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    /// 429 `RATE_LIMITED`: the partner is over its contract's requests per minute.
    pub fn throttled(t: escrow_domain::rate_limit::Throttled) -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
        )
        .details(json!({
            "limitPerMinute": t.limit,
            "retryAfterSeconds": t.retry_after_seconds,
        }));
        e.retry_after = Some(t.retry_after_seconds);
        e
    }

    /// Adds details.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// 400 `VALIDATION_FAILED` naming the field.
    pub fn invalid(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_FAILED",
            "요청 값이 올바르지 않습니다.",
        )
        .details(json!({ "field": field, "problem": problem }))
    }

    /// 404 `NOT_FOUND` (also for another partner's resources).
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "요청한 정보를 찾을 수 없습니다.",
        )
        .details(json!({ "resource": what }))
    }

    /// The error as a response (for handlers that answer HTML otherwise).
    pub fn as_response(&self) -> HttpResponse {
        self.error_response()
    }

    /// 401 with a code.
    pub fn unauthorized(code: &'static str, message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, details = %self.details, "request failed");
        } else {
            tracing::info!(
                code = self.code,
                status = self.status.as_u16(),
                "request refused"
            );
        }
        let mut res = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        res.json(json!({
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "requestId": current_request_id(),
        }))
    }
}

impl From<RepositoryError> for ApiError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                "다른 요청과 충돌했습니다. 다시 시도해 주세요.",
            ),
            RepositoryError::InvariantViolated(detail) => {
                crate::metrics::invariant_violated();
                tracing::error!(target: "invariant", %detail, "money invariant violated: nothing was written");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.",
                )
            }
            RepositoryError::Unavailable(detail) => {
                tracing::error!(%detail, "storage unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.",
                )
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.",
                )
            }
        }
    }
}

fn window_name(w: LimitWindow) -> &'static str {
    match w {
        LimitWindow::Day => "DAY",
        LimitWindow::Month => "MONTH",
    }
}

/// `SELLER_LIMIT_EXCEEDED` naming the window, the method or total, the remaining amount and the reset.
pub fn limit_error(e: &LimitExceeded) -> ApiError {
    let scope = match e.scope {
        LimitScope::Total => "TOTAL".to_owned(),
        LimitScope::Method(m) => m.code().to_owned(),
    };
    let resets_at = e.resets_at.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "SELLER_LIMIT_EXCEEDED",
        "판매자의 거래 한도를 초과했습니다.",
    )
    .details(json!({
        "window": window_name(e.window),
        "scope": scope,
        "limit": e.limit.minor_units(),
        "used": e.used.minor_units(),
        "remaining": e.remaining.minor_units(),
        "currency": e.limit.currency().code(),
        "resetsAt": resets_at,
    }))
}

/// A quote refusal.
pub fn quote_error(e: &QuoteError) -> ApiError {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        QuoteError::PriceLimitExceeded { method, cap } => {
            ApiError::new(unprocessable, "PRICE_LIMIT_EXCEEDED", "결제수단의 상품금액 한도를 초과했습니다.")
                .details(json!({ "method": method.code(), "cap": cap.minor_units() }))
        }
        QuoteError::BelowMinimumPrice { minimum } => {
            ApiError::new(unprocessable, "PRICE_BELOW_MINIMUM", "상품금액이 최소 금액보다 적습니다.")
                .details(json!({ "minimum": minimum.minor_units() }))
        }
        QuoteError::MethodNotAllowed(m) => {
            ApiError::new(unprocessable, "PAYMENT_METHOD_NOT_ALLOWED", "이 상품에 사용할 수 없는 결제수단입니다.")
                .details(json!({ "method": m.code() }))
        }
        QuoteError::FeesExceedAmount { escrow_fee, payment_amount } => {
            ApiError::new(unprocessable, "FEES_EXCEED_AMOUNT", "수수료가 결제금액보다 많아 거래할 수 없습니다.")
                .details(json!({ "escrowFee": escrow_fee.minor_units(), "paymentAmount": payment_amount.minor_units() }))
        }
        QuoteError::CurrencyMismatch { expected, found } => ApiError::invalid("currency", format!("{found} instead of {expected}")),
        QuoteError::NegativeAmount => ApiError::invalid("price", "must not be negative"),
        QuoteError::Overflow => ApiError::invalid("price", "too large"),
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::InvalidTransition {
                status,
                withdrawal,
                command,
            } => ApiError::new(
                StatusCode::CONFLICT,
                "INVALID_TRANSITION",
                "현재 거래 상태에서는 할 수 없는 요청입니다.",
            )
            .details(json!({
                "status": status.code(),
                "statusName": status,
                "withdrawal": withdrawal.code(),
                "command": command,
            })),
            TransitionError::ActorNotAllowed { role, command } => ApiError::new(
                StatusCode::FORBIDDEN,
                "ROLE_NOT_ALLOWED",
                "이 요청을 할 수 있는 권한이 없습니다.",
            )
            .details(json!({ "role": role, "command": command })),
            TransitionError::NotParticipant => ApiError::not_found("trade"),
            TransitionError::OnHold => {
                ApiError::new(StatusCode::CONFLICT, "TRADE_ON_HOLD", "보류된 거래입니다.")
            }
            TransitionError::NotDue { due } => ApiError::new(
                StatusCode::CONFLICT,
                "NOT_DUE",
                "아직 처리할 수 있는 시점이 아닙니다.",
            )
            .details(
                json!({ "due": due.format(&time::format_description::well_known::Rfc3339).ok() }),
            ),
            TransitionError::AlreadyHeld => ApiError::new(
                StatusCode::CONFLICT,
                "ALREADY_HELD",
                "이미 보류된 거래입니다.",
            ),
            TransitionError::NotHeld => {
                ApiError::new(StatusCode::CONFLICT, "NOT_HELD", "보류된 거래가 아닙니다.")
            }
            TransitionError::ReminderAlreadySent => {
                ApiError::new(StatusCode::CONFLICT, "ALREADY_SENT", "이미 발송되었습니다.")
            }
            TransitionError::InvalidInput { field, problem } => ApiError::invalid(field, problem),
        }
    }
}

impl From<TradeServiceError> for ApiError {
    fn from(e: TradeServiceError) -> Self {
        match e {
            TradeServiceError::NotFound => ApiError::not_found("trade"),
            TradeServiceError::Refused(t) => t.into(),
            TradeServiceError::Conflict => RepositoryError::Conflict.into(),
            TradeServiceError::Storage(s) => s.into(),
        }
    }
}

impl From<MemberError> for ApiError {
    fn from(e: MemberError) -> Self {
        match e {
            MemberError::AlreadyExists => ApiError::new(
                StatusCode::CONFLICT,
                "MEMBER_ALREADY_EXISTS",
                "이미 가입된 회원입니다.",
            ),
            MemberError::NotAllowed(r) => {
                ApiError::new(StatusCode::FORBIDDEN, "SIGNUP_NOT_ALLOWED", r.message())
                    .details(json!({ "reason": r.code() }))
            }
            MemberError::ReturnUrlNotAllowed => {
                ApiError::invalid("returnUrl", "not an allowed origin of the partner")
            }
            MemberError::NotFound => ApiError::not_found("member"),
            MemberError::SessionClosed(s) => ApiError::new(
                StatusCode::CONFLICT,
                "SIGNUP_SESSION_CLOSED",
                "가입 세션이 종료되었습니다.",
            )
            .details(json!({ "status": s.code() })),
            MemberError::TermsMissing(t) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "TERMS_NOT_AGREED",
                "필수 약관에 동의해 주세요.",
            )
            .details(json!({ "missing": t })),
            MemberError::IdentityNotVerified(f) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "IDENTITY_NOT_VERIFIED",
                "본인인증에 실패했습니다.",
            )
            .details(json!({ "field": f })),
            MemberError::HasOpenTrades => ApiError::new(
                StatusCode::CONFLICT,
                "MEMBER_HAS_OPEN_TRADES",
                "진행 중인 거래가 있어 탈퇴할 수 없습니다.",
            ),
            MemberError::KeyInvalid => {
                ApiError::unauthorized("MEMBER_KEY_INVALID", "회원 키가 올바르지 않습니다.")
            }
            MemberError::NotActive(s) => ApiError::new(
                StatusCode::FORBIDDEN,
                "MEMBER_NOT_ACTIVE",
                "이용할 수 없는 회원입니다.",
            )
            .details(json!({ "status": s.code() })),
            MemberError::Storage(s) => s.into(),
        }
    }
}

impl From<ProductError> for ApiError {
    fn from(e: ProductError) -> Self {
        match e {
            ProductError::SellerNotActive => ApiError::new(
                StatusCode::FORBIDDEN,
                "SELLER_NOT_ACTIVE",
                "판매할 수 없는 회원입니다.",
            ),
            ProductError::Price(q) => quote_error(&q),
            ProductError::Invalid { field, problem } => ApiError::invalid(field, problem),
            ProductError::AlreadyRegistered(id) => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_ALREADY_REGISTERED",
                "이미 등록된 상품입니다.",
            )
            .details(json!({ "productId": id })),
            ProductError::NotFound => ApiError::not_found("product"),
            ProductError::HasTrades => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_HAS_TRADES",
                "거래가 있었던 상품은 수정할 수 없습니다.",
            ),
            ProductError::Reserved => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_RESERVED",
                "결제 중이거나 거래 중인 상품은 판매를 중지할 수 없습니다.",
            ),
            ProductError::Sold => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_SOLD",
                "이미 판매된 상품입니다.",
            ),
            ProductError::FieldImmutable(f) => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_FIELD_IMMUTABLE",
                "상품명과 가격은 바꿀 수 없습니다. 새 상품으로 등록해 주세요.",
            )
            .details(json!({ "field": f })),
            ProductError::Storage(s) => s.into(),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(e: CheckoutError) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            CheckoutError::BuyerNotActive => ApiError::new(
                StatusCode::FORBIDDEN,
                "BUYER_NOT_ACTIVE",
                "구매할 수 없는 회원입니다.",
            ),
            CheckoutError::ProductNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "PRODUCT_NOT_FOUND",
                "상품을 찾을 수 없습니다.",
            )
            .details(json!({ "resource": "product" })),
            CheckoutError::ProductNotAvailable => ApiError::new(
                StatusCode::CONFLICT,
                "PRODUCT_NOT_AVAILABLE",
                "구매할 수 없는 상품입니다.",
            ),
            CheckoutError::SelfTrade => ApiError::new(
                unprocessable,
                "SELF_TRADE",
                "자신의 상품은 구매할 수 없습니다.",
            ),
            CheckoutError::MethodNotAllowed(m) => ApiError::new(
                unprocessable,
                "PAYMENT_METHOD_NOT_ALLOWED",
                "이 상품에 사용할 수 없는 결제수단입니다.",
            )
            .details(json!({ "method": m.code() })),
            CheckoutError::MethodUnavailable(m) => ApiError::new(
                unprocessable,
                "PAYMENT_METHOD_UNAVAILABLE",
                "현재 사용할 수 없는 결제수단입니다.",
            )
            .details(json!({ "method": m.0.code() })),
            CheckoutError::MerchantNotConfigured(gateway) => ApiError::new(
                unprocessable,
                "MERCHANT_NOT_CONFIGURED",
                "결제사 가맹점 정보가 설정되지 않아 결제할 수 없습니다.",
            )
            .details(json!({ "gateway": gateway })),
            CheckoutError::Quote(q) => quote_error(&q),
            CheckoutError::SellerLimit(l) => limit_error(&l),
            CheckoutError::ReturnUrlNotAllowed => {
                ApiError::invalid("returnUrl", "not an allowed origin of the partner")
            }
            CheckoutError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "같은 멱등키로 다른 요청을 보낼 수 없습니다.",
            ),
            CheckoutError::CheckoutNotFound => ApiError::not_found("checkout"),
            CheckoutError::Payment(f) => {
                ApiError::new(StatusCode::BAD_GATEWAY, f.code(), "결제에 실패했습니다.")
            }
            CheckoutError::GatewayUnavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "PG_UNAVAILABLE",
                "결제사 응답이 없습니다. 잠시 후 다시 시도해 주세요.",
            ),
            CheckoutError::Storage(s) => s.into(),
        }
    }
}

impl From<OpenCheckoutError> for ApiError {
    fn from(e: OpenCheckoutError) -> Self {
        match e {
            OpenCheckoutError::SellerLimitExceeded(l) => limit_error(&l),
            OpenCheckoutError::ProductUnavailable => CheckoutError::ProductNotAvailable.into(),
            OpenCheckoutError::IdempotencyKeyReused => CheckoutError::IdempotencyKeyReused.into(),
            OpenCheckoutError::Storage(s) => s.into(),
        }
    }
}
