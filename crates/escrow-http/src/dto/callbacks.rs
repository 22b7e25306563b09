//! The bodies partners receive at their webhook URL, declared in the OpenAPI document's `webhooks`.

use serde::Serialize;
use utoipa::ToSchema;

use super::*;

/// A trade callback (`payment.succeeded`, `trade.status_changed`, `trade.updated`,
/// `trade.payout_scheduled`, `trade.paid_out`): `data` is the trade exactly as `GET
/// /api/v1/trades/{id}` answers it at that version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeCallback {
    /// Unique per event: drop duplicates by it.
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// Orders one trade's events (the trade's version).
    pub sequence: i64,
    /// The trade.
    pub data: TradeView,
}

/// `payment.failed`'s data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailedData {
    /// The checkout.
    pub checkout_id: String,
    /// The partner's trade number, if given.
    pub partner_trade_no: Option<String>,
    /// `PG_DECLINED`, `PG_AMOUNT_MISMATCH`, `PG_CURRENCY_UNSUPPORTED`, `PG_UNAVAILABLE`,
    /// `PG_REJECTED_REQUEST` or `PG_EXPIRED`.
    pub code: String,
}

/// `payment.refunded`'s data: money captured for a checkout that was no longer open, refunded in full.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefundedData {
    /// The checkout.
    pub checkout_id: String,
    /// The partner's trade number, if given.
    pub partner_trade_no: Option<String>,
    /// The PG transaction refunded.
    pub transaction_id: String,
    /// The amount (minor units).
    pub amount: i64,
    /// Its currency.
    pub currency: String,
    /// `LATE_CONFIRMATION`.
    pub reason: String,
}

/// `member.signed_up`'s data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberSignedUpData {
    /// The member.
    pub member_id: String,
    /// The partner's user.
    pub partner_user_id: String,
    /// The member key (shown once; keep it to ask for member tokens).
    pub member_key: String,
    /// The signup session.
    pub signup_session_id: String,
}
