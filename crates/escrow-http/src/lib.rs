//! # escrow-http
//!
//! The actix-web adapter: SPEC §4–§8 and §11 over HTTP.
//!
//! - Partner-signed endpoints (`X-Api-Key`, `X-Timestamp`, `X-Signature`, 5-minute window, replay
//!   refused), member-token endpoints (JWT HS256, `kid` rotation, 2 hours), admin endpoints
//!   (`X-Admin-Key`, stored hashed).
//! - Hosted signup and checkout pages (Korean, no JavaScript needed, signed links), the PG's browser
//!   return and callback.
//! - Every error is SPEC §11's JSON body with a request id; `/healthz`, `/readyz`, `/metrics`,
//!   `/openapi.json`, `/docs`.
//!
//! Build the [`AppState`] from the domain's services and hand [`app`] to an `HttpServer`.

pub mod auth;
pub mod credentials;
pub mod dto;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpResponse};

pub use auth::admin_key_hash;
pub use credentials::{LinkSigner, TokenIssuer, TokenKey};
pub use error::ApiError;
pub use metrics::Metrics;
pub use state::AppState;

use handlers::{
    addresses, admin, checkout_pages, custody, events, lookups, member, ops, pages, partner,
    payment_setup, payout_page, test_clocks,
};

/// Largest request body accepted (JSON and forms).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn json_error(
    e: impl std::fmt::Display,
    status: actix_web::http::StatusCode,
    code: &'static str,
) -> actix_web::Error {
    ApiError::new(status, code, "요청이 올바르지 않습니다.")
        .details(serde_json::json!({ "problem": e.to_string() }))
        .into()
}

/// Registers every route and the extractor settings.
pub fn configure(cfg: &mut web::ServiceConfig) {
    extractor_settings(cfg);
    ops_routes(cfg);
    partner_routes(cfg);
    member_routes(cfg);
    admin_routes(cfg);
    page_routes(cfg);
}

/// Body limits, and JSON errors for bodies, forms, queries and paths that do not parse.
fn extractor_settings(cfg: &mut web::ServiceConfig) {
    use actix_web::http::StatusCode;
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY_BYTES)
                .error_handler(|e, _| json_error(e, StatusCode::BAD_REQUEST, "INVALID_JSON")),
        )
        .app_data(
            web::FormConfig::default()
                .limit(MAX_BODY_BYTES)
                .error_handler(|e, _| json_error(e, StatusCode::BAD_REQUEST, "INVALID_FORM")),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| json_error(e, StatusCode::BAD_REQUEST, "INVALID_QUERY")),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| json_error(e, StatusCode::NOT_FOUND, "NOT_FOUND")),
        );
}

/// Health, metrics, the OpenAPI document and its UI.
fn ops_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/openapi.json", web::get().to(openapi::openapi_json))
        .route("/docs", web::get().to(ops::docs))
        .route("/docs/", web::get().to(ops::docs))
        .route("/docs/init.js", web::get().to(ops::docs_init))
        .route("/docs/swagger-ui-bundle.js", web::get().to(ops::docs_js))
        .route("/docs/swagger-ui.css", web::get().to(ops::docs_css));
}

/// Partner-signed.
fn partner_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/members/signup",
        web::post().to(partner::open_signup),
    )
    .route(
        "/api/v1/members/signup/{id}",
        web::get().to(partner::signup_session),
    )
    .route(
        "/api/v1/members/{partnerUserId}/status",
        web::get().to(partner::member_status),
    )
    .route(
        "/api/v1/members/{partnerUserId}/withdrawal",
        web::post().to(partner::withdraw),
    )
    .route("/api/v1/auth/token", web::post().to(partner::token))
    .route(
        "/api/v1/trades/{id}/delivered",
        web::post().to(partner::delivered),
    )
    .route("/api/v1/settlements", web::get().to(partner::settlements))
    .route(
        "/api/v1/members/{partnerUserId}/payout-account-link",
        web::post().to(partner::payout_account_link),
    )
    .route(
        "/api/v1/settlements.csv",
        web::get().to(partner::settlements_csv),
    )
    .route(
        "/api/v1/partner/trades/{partnerTradeNo}",
        web::get().to(lookups::partner_trade),
    )
    .route("/api/v1/events", web::get().to(events::list_events))
    .route("/api/v1/test-clocks", web::post().to(test_clocks::create))
    .route("/api/v1/test-clocks", web::get().to(test_clocks::list))
    .route("/api/v1/test-clocks/{id}", web::get().to(test_clocks::get))
    .route(
        "/api/v1/test-clocks/{id}/advance",
        web::post().to(test_clocks::advance),
    )
    .route(
        "/api/v1/events/{id}/redeliver",
        web::post().to(events::redeliver),
    );
}

/// Member token.
fn member_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/products", web::put().to(member::upsert_product))
        .route("/api/v1/products", web::get().to(lookups::list_products))
        .route("/api/v1/products/{id}", web::get().to(lookups::get_product))
        .route(
            "/api/v1/products/{id}/stop",
            web::post().to(lookups::stop_product),
        )
        .route("/api/v1/checkouts", web::post().to(member::create_checkout))
        .route(
            "/api/v1/checkouts/{id}",
            web::get().to(lookups::get_checkout),
        )
        .route(
            "/api/v1/payout-account",
            web::put().to(member::put_payout_account),
        )
        .route(
            "/api/v1/payout-account",
            web::get().to(member::get_payout_account),
        )
        .route(
            "/api/v1/refund-account",
            web::put().to(member::put_refund_account),
        )
        .route(
            "/api/v1/refund-account",
            web::get().to(member::get_refund_account),
        )
        .route("/api/v1/addresses", web::post().to(addresses::add))
        .route("/api/v1/addresses", web::get().to(addresses::list))
        .route("/api/v1/addresses/{id}", web::get().to(addresses::get))
        .route("/api/v1/addresses/{id}", web::put().to(addresses::update))
        .route(
            "/api/v1/addresses/{id}",
            web::delete().to(addresses::remove),
        )
        .route(
            "/api/v1/addresses/{id}/prime",
            web::patch().to(addresses::make_prime),
        )
        .route("/api/v1/vouchers", web::get().to(custody::my_vouchers))
        .route("/api/v1/delivery-requests", web::post().to(custody::create))
        .route(
            "/api/v1/delivery-requests",
            web::get().to(custody::list_mine),
        )
        .route(
            "/api/v1/delivery-requests/{id}",
            web::get().to(custody::get_mine),
        )
        .route(
            "/api/v1/delivery-requests/{id}",
            web::delete().to(custody::delete),
        )
        .route(
            "/api/v1/delivery-requests/{id}/payment",
            web::post().to(custody::verify_payment),
        )
        .route(
            "/api/v1/delivery-requests/{id}/refund",
            web::post().to(custody::refund),
        )
        .route("/api/v1/trades", web::get().to(member::list_trades))
        .route(
            "/api/v1/trades/by-partner-no/{partnerTradeNo}",
            web::get().to(member::trade_by_partner_no),
        )
        .route("/api/v1/trades/{id}", web::get().to(member::get_trade))
        .route(
            "/api/v1/trades/{id}/events",
            web::get().to(member::trade_events),
        )
        .route(
            "/api/v1/trades/{id}/cancel",
            web::post().to(member::buyer_cancel),
        )
        .route(
            "/api/v1/trades/{id}/approve",
            web::post().to(member::buyer_approve),
        )
        .route(
            "/api/v1/trades/{id}/return-request",
            web::post().to(member::buyer_return_request),
        )
        .route(
            "/api/v1/trades/{id}/return-shipment",
            web::post().to(member::buyer_return_shipment),
        )
        .route(
            "/api/v1/trades/{id}/shipment",
            web::post().to(member::seller_shipment),
        )
        .route(
            "/api/v1/trades/{id}/cancel-agree",
            web::post().to(member::seller_cancel_agree),
        )
        .route(
            "/api/v1/trades/{id}/sale-cancel",
            web::post().to(member::seller_sale_cancel),
        )
        .route(
            "/api/v1/trades/{id}/return-agree",
            web::post().to(member::seller_return_agree),
        )
        .route(
            "/api/v1/trades/{id}/return-complete",
            web::post().to(member::seller_return_complete),
        );
}

/// Operators.
fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/v1/payment-routes",
        web::get().to(payment_setup::list_routes),
    )
    .route(
        "/admin/v1/payment-routes/{gateway}/{method}",
        web::put().to(payment_setup::set_route),
    )
    .route(
        "/admin/v1/merchants",
        web::get().to(payment_setup::list_merchants),
    )
    .route(
        "/admin/v1/merchants",
        web::post().to(payment_setup::add_merchant),
    )
    .route(
        "/admin/v1/merchants/{id}",
        web::delete().to(payment_setup::remove_merchant),
    )
    .route(
        "/admin/v1/payment-setup/audit",
        web::get().to(payment_setup::audit),
    )
    .route(
        "/admin/v1/installment-notices",
        web::get().to(payment_setup::list_notices),
    )
    .route(
        "/admin/v1/installment-notices",
        web::post().to(payment_setup::add_notice),
    )
    .route(
        "/admin/v1/installment-notices/{id}",
        web::put().to(payment_setup::replace_notice),
    )
    .route(
        "/admin/v1/installment-notices/{id}",
        web::delete().to(payment_setup::remove_notice),
    )
    .route(
        "/api/v1/installment-notices",
        web::get().to(payment_setup::installment_notices),
    );
    cfg.route("/admin/v1/vouchers", web::post().to(custody::grant))
        .route(
            "/admin/v1/delivery-requests",
            web::get().to(custody::list_all),
        )
        .route(
            "/admin/v1/delivery-requests/{id}",
            web::get().to(custody::get_any),
        )
        .route(
            "/admin/v1/delivery-requests/{id}/approve",
            web::post().to(custody::approve),
        )
        .route("/admin/v1/partners", web::post().to(admin::create_partner))
        .route("/admin/v1/partners", web::get().to(admin::list_partners))
        .route(
            "/admin/v1/partners/{id}/contract",
            web::put().to(admin::set_contract),
        )
        .route(
            "/admin/v1/partners/{id}/contract",
            web::get().to(admin::get_contract),
        )
        .route(
            "/admin/v1/partners/{id}/mode",
            web::put().to(admin::set_mode),
        )
        .route("/admin/v1/trades", web::get().to(admin::search_trades))
        .route("/admin/v1/trades/{id}", web::get().to(admin::get_trade))
        .route(
            "/admin/v1/trades/{id}/{action}",
            web::post().to(admin::trade_action),
        )
        .route("/admin/v1/refunds", web::get().to(admin::refund_queue))
        .route(
            "/admin/v1/refunds/{id}/done",
            web::post().to(admin::refund_done),
        )
        .route(
            "/admin/v1/payouts/waiting-for-account",
            web::get().to(admin::payouts_waiting_for_account),
        )
        .route(
            "/admin/v1/payouts/bank-file",
            web::get().to(admin::bank_file),
        )
        .route(
            "/admin/v1/outbox/dead-letters",
            web::get().to(admin::dead_letters),
        )
        .route(
            "/admin/v1/outbox/{id}/replay",
            web::post().to(admin::replay),
        )
        .route("/admin/v1/holidays", web::get().to(admin::holidays))
        .route("/admin/v1/holidays", web::post().to(admin::add_holiday))
        .route(
            "/admin/v1/holidays/{date}",
            web::delete().to(admin::remove_holiday),
        );
}

/// Hosted pages and the PG.
fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/signup/{id}", web::get().to(pages::signup_page))
        .route("/signup/{id}", web::post().to(pages::signup_submit))
        .route(
            "/checkout/{id}",
            web::get().to(checkout_pages::checkout_page),
        )
        .route(
            "/checkout/{id}/pay",
            web::post().to(checkout_pages::checkout_pay),
        )
        .route(
            "/checkout/{id}/return",
            web::get().to(checkout_pages::checkout_return),
        )
        .route(
            "/checkout/{id}/return",
            web::post().to(checkout_pages::checkout_authenticated),
        )
        .route(
            "/pg/{gateway}/callback",
            web::post().to(checkout_pages::pg_callback),
        )
        .route(
            "/pg/portone/webhook",
            web::post().to(custody::portone_webhook),
        )
        .route(
            "/payout-account/{token}",
            web::get().to(payout_page::payout_account_page),
        )
        .route(
            "/payout-account/{token}",
            web::post().to(payout_page::payout_account_submit),
        );
}

/// The whole application: state, middleware, routes, and a JSON 404 for anything else.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .wrap_fn(middleware::around)
        .configure(configure)
        .default_service(web::to(no_route))
}

/// The hosted pages and documentation assets, which the OpenAPI document does not list.
const PAGE_ROUTES: &[(&str, &[&str])] = &[
    ("/docs", &["GET"]),
    ("/docs/", &["GET"]),
    ("/docs/init.js", &["GET"]),
    ("/docs/swagger-ui-bundle.js", &["GET"]),
    ("/docs/swagger-ui.css", &["GET"]),
    ("/signup/{id}", &["GET", "POST"]),
    ("/checkout/{id}", &["GET"]),
    ("/checkout/{id}/pay", &["POST"]),
    ("/checkout/{id}/return", &["GET", "POST"]),
    ("/pg/{gateway}/callback", &["POST"]),
    ("/pg/portone/webhook", &["POST"]),
    ("/payout-account/{token}", &["GET", "POST"]),
];

/// Every route pattern with the methods it answers: the OpenAPI document's paths and the pages.
fn route_methods() -> &'static [(actix_web::dev::ResourceDef, Vec<String>)] {
    static ROUTES: std::sync::OnceLock<Vec<(actix_web::dev::ResourceDef, Vec<String>)>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = openapi::document();
        let mut routes: Vec<(actix_web::dev::ResourceDef, Vec<String>)> = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let methods = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_ascii_uppercase())
                    .filter(|m| ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()))
                    .collect();
                (actix_web::dev::ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        routes.extend(PAGE_ROUTES.iter().map(|(path, methods)| {
            (
                actix_web::dev::ResourceDef::new(*path),
                methods.iter().map(|m| (*m).to_owned()).collect(),
            )
        }));
        routes
    })
}

/// No route took the request: `405` with `Allow` when the path exists under other methods, else `404`.
async fn no_route(req: actix_web::HttpRequest) -> HttpResponse {
    let mut allowed: Vec<&str> = route_methods()
        .iter()
        .filter(|(def, _)| def.is_match(req.path()))
        .flat_map(|(_, methods)| methods.iter().map(String::as_str))
        .collect();
    allowed.sort_unstable();
    allowed.dedup();
    if allowed.is_empty() {
        return ApiError::not_found("route").as_response();
    }
    let allow = allowed.join(", ");
    let mut res = ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "허용되지 않은 메서드입니다.",
    )
    .details(serde_json::json!({ "allow": allowed }))
    .as_response();
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}

/// A response-less helper kept for handlers that build HTML.
pub fn not_found() -> HttpResponse {
    ApiError::not_found("route").as_response()
}
