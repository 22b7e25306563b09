//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::handlers::{admin, member, ops, partner};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "member_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        // Partner calls carry X-Api-Key, X-Timestamp (epoch ms) and X-Signature =
        // BASE64(HMAC-SHA256(secret, METHOD + PATH_AND_QUERY + X-Api-Key + X-Timestamp + BODY)).
        components.add_security_scheme(
            "partner_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Signature",
                "With X-Api-Key and X-Timestamp (epoch ms): BASE64(HMAC-SHA256(secret, METHOD + PATH_AND_QUERY + X-Api-Key + X-Timestamp + BODY))",
            ))),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Admin-Key"))),
        );
    }
}

/// The API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Escrow (안전거래) API", description = "Partner, member and operator API of the escrow service. Partner calls are signed: X-Signature = BASE64(HMAC-SHA256(secret, METHOD + PATH_AND_QUERY + X-Api-Key + X-Timestamp + BODY))."),
    paths(
        partner::open_signup, partner::signup_session, partner::member_status, partner::withdraw, partner::token,
        partner::delivered,
        member::upsert_product, member::create_checkout, member::get_trade, member::list_trades,
        member::trade_by_partner_no, member::trade_events,
        member::buyer_cancel, member::buyer_approve, member::buyer_return_request, member::buyer_return_shipment,
        member::seller_shipment, member::seller_cancel_agree, member::seller_sale_cancel, member::seller_return_agree,
        member::seller_return_complete,
        admin::create_partner, admin::list_partners, admin::set_contract, admin::get_contract, admin::search_trades,
        admin::get_trade, admin::trade_action, admin::refund_queue, admin::holidays, admin::add_holiday,
        admin::remove_holiday, admin::dead_letters, admin::replay, admin::bank_file,
        ops::healthz, ops::readyz, ops::metrics, ops::openapi,
    ),
    components(schemas(dto::ErrorBody, member::Empty)),
    modifiers(&Security),
)]
pub struct ApiDoc;
