//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto;
use crate::handlers::{
    addresses, admin, custody, events, lookups, member, ops, partner, payment_setup, test_clocks,
};

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
        partner::delivered, partner::settlements, partner::settlements_csv, partner::payout_account_link,
        member::upsert_product, member::create_checkout, member::get_trade, member::list_trades,
        member::trade_by_partner_no, member::trade_events,
        member::buyer_cancel, member::buyer_approve, member::buyer_return_request, member::buyer_return_shipment,
        member::seller_shipment, member::seller_cancel_agree, member::seller_sale_cancel, member::seller_return_agree,
        member::seller_return_complete, member::put_payout_account, member::put_refund_account, member::get_refund_account, member::get_payout_account,
        addresses::add, addresses::list, addresses::get, addresses::update, addresses::remove,
        addresses::make_prime, custody::my_vouchers, custody::create, custody::list_mine,
        custody::get_mine, custody::delete, custody::verify_payment, custody::refund,
        custody::grant, custody::list_all, custody::get_any, custody::approve,
        lookups::get_checkout, lookups::get_product, lookups::list_products, lookups::stop_product,
        lookups::partner_trade, events::list_events, events::redeliver,
        test_clocks::create, test_clocks::list, test_clocks::get, test_clocks::advance,
        admin::create_partner, admin::list_partners, admin::set_mode, admin::set_contract, admin::get_contract, admin::search_trades,
        admin::get_trade, admin::trade_action, admin::refund_queue, admin::holidays, admin::add_holiday,
        admin::remove_holiday, admin::dead_letters, admin::replay, admin::bank_file,
        admin::payouts_waiting_for_account, admin::refund_done,
        payment_setup::list_routes, payment_setup::set_route, payment_setup::list_merchants,
        payment_setup::add_merchant, payment_setup::remove_merchant, payment_setup::audit,
        payment_setup::list_notices, payment_setup::add_notice, payment_setup::replace_notice,
        payment_setup::remove_notice, payment_setup::installment_notices,
        ops::healthz, ops::readyz, ops::metrics, openapi_json,
    ),
    components(schemas(
        dto::ErrorBody, member::Empty, dto::TradeCallback, dto::PaymentFailedData,
        dto::PaymentRefundedData, dto::MemberSignedUpData, dto::SettlementsView, dto::SettlementDayView,
        dto::SettlementLineView, payment_setup::RouteRequest, payment_setup::MerchantRequest,
        payment_setup::NoticeRequest, dto::DeliveryRequestCallbackData,
    )),
    modifiers(&Security),
)]
pub struct ApiDoc;

/// The callbacks partners receive, by type, with the schema of their body (OpenAPI 3.1 `webhooks`).
const WEBHOOKS: &[(&str, &str, &str)] = &[
    (
        "payment.succeeded",
        "TradeCallback",
        "A payment was approved: the trade (31, or 13 for a virtual account).",
    ),
    (
        "trade.status_changed",
        "TradeCallback",
        "A trade's status or withdrawal status changed.",
    ),
    (
        "trade.updated",
        "TradeCallback",
        "Another change of a trade (delivery reported, hold, shipping correction).",
    ),
    (
        "trade.payout_scheduled",
        "TradeCallback",
        "The purchase was approved: the payout date (payoutDate, Unicro's saleReservationDate) and the seller's amount (sellerPayout, sellerAmt) are fixed.",
    ),
    (
        "trade.paid_out",
        "TradeCallback",
        "The seller's payout was instructed to the bank; occurredAt is the payout's completion (saleCompleteDate).",
    ),
    (
        "payment.failed",
        "PaymentFailedData",
        "A checkout failed or expired, with its code.",
    ),
    (
        "payment.refunded",
        "PaymentRefundedData",
        "A capture for a checkout no longer open was refunded in full (LATE_CONFIRMATION).",
    ),
    (
        "member.signed_up",
        "MemberSignedUpData",
        "A member completed the hosted signup.",
    ),
    (
        "delivery_request.created",
        "DeliveryRequestCallbackData",
        "A member asked for delivery of its vouchers; the shipping fee is to be paid.",
    ),
    (
        "delivery_request.paid",
        "DeliveryRequestCallbackData",
        "The shipping fee's payment was verified at PortOne.",
    ),
    (
        "delivery_request.forgeried",
        "DeliveryRequestCallbackData",
        "The payment at PortOne did not match the fee: the request is forgeried and the payment cancelled.",
    ),
    (
        "delivery_request.refunded",
        "DeliveryRequestCallbackData",
        "The shipping fee was refunded; the vouchers are available again.",
    ),
    (
        "delivery_request.shipped",
        "DeliveryRequestCallbackData",
        "The operator shipped the request; its vouchers are shipped.",
    ),
    (
        "delivery_request.deleted",
        "DeliveryRequestCallbackData",
        "The member deleted an unpaid request; its vouchers are available again.",
    ),
];

/// The OpenAPI document as served: the generated one plus the `webhooks` section, where each callback
/// type names its body (the envelope `{eventId, type, occurredAt, sequence, data}`; a trade event's
/// `data` is the trade exactly as the API shows it).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let webhooks: serde_json::Map<String, serde_json::Value> = WEBHOOKS
        .iter()
        .map(|(event, schema, summary)| {
            let body = if *schema == "TradeCallback" {
                serde_json::json!({ "$ref": "#/components/schemas/TradeCallback" })
            } else {
                serde_json::json!({
                    "type": "object",
                    "required": ["eventId", "type", "occurredAt", "data"],
                    "properties": {
                        "eventId": { "type": "string", "format": "uuid" },
                        "type": { "type": "string", "enum": [event] },
                        "occurredAt": { "type": "string", "format": "date-time" },
                        "sequence": { "type": ["integer", "null"] },
                        "data": { "$ref": format!("#/components/schemas/{schema}") },
                    },
                })
            };
            (
                (*event).to_owned(),
                serde_json::json!({ "post": {
                    "summary": summary,
                    "description": "Signed: X-Escrow-Signature: t=<unix>,v1=<hex HMAC-SHA256(webhookSecret, t + \".\" + body)>. Answer 2xx; anything else is retried for 24 hours.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": body } } },
                    "responses": { "200": { "description": "Received" } },
                }}),
            )
        })
        .collect();
    doc["webhooks"] = serde_json::Value::Object(webhooks);
    doc
}

/// The OpenAPI document, generated from the handlers.
#[utoipa::path(get, path = "/openapi.json", tag = "ops", responses((status = 200, body = Object)))]
pub async fn openapi_json() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document())
}
