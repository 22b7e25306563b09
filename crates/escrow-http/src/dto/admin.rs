//! The operators' API: partners, holidays, the manual refund queue.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /admin/v1/partners`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerCreateRequest {
    /// A short code (`demo-market`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Where callbacks go.
    pub webhook_url: Option<String>,
    /// Origins its return URLs may use (`https://market.example`).
    pub allowed_redirect_origins: Vec<String>,
    /// `LIVE` (default) or `TEST` (SPEC §16: simulators only, test clocks).
    #[schema(pattern = "^(LIVE|TEST)$")]
    pub mode: Option<String>,
}

/// `PUT /admin/v1/partners/{id}/mode`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerModeRequest {
    /// `LIVE` or `TEST`.
    #[schema(pattern = "^(LIVE|TEST)$")]
    pub mode: String,
}

/// A partner and its credentials, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerCreatedView {
    /// Its id.
    pub partner_id: String,
    /// Its code.
    pub code: String,
    /// `X-Api-Key`.
    pub api_key: String,
    /// The HMAC secret of its requests (shown once).
    pub api_secret: String,
    /// The HMAC secret of its callbacks (shown once).
    pub webhook_secret: String,
}

/// A partner.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerView {
    /// Its id.
    pub partner_id: String,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// `X-Api-Key`.
    pub api_key: String,
    /// Callback URL.
    pub webhook_url: Option<String>,
    /// Allowed return origins.
    pub allowed_redirect_origins: Vec<String>,
    /// `ACTIVE` or `SUSPENDED`.
    pub status: String,
    /// `LIVE` or `TEST`.
    pub mode: String,
}

/// `POST /admin/v1/holidays`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HolidayRequest {
    /// `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: String,
    /// Its name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
}

/// A holiday.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Its name.
    pub name: String,
}

/// A refund waiting for an operator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    /// The refund (`POST /admin/v1/refunds/{id}/done` names it).
    pub id: i64,
    /// The trade (absent for a late confirmation: money captured for a checkout without a trade).
    pub trade_id: Option<String>,
    /// The checkout the money was paid through.
    pub checkout_id: String,
    /// `TRADE` (cancel or return) or `LATE_CONFIRMATION`.
    pub reason: String,
    /// Its partner.
    pub partner_id: String,
    /// Amount (minor units).
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Withdrawal code it records.
    pub withdrawal_code: Option<u8>,
    /// `PENDING`, `REFUNDING` or `MANUAL_QUEUE`.
    pub status: String,
    /// Why it is there: the PG's refusal, or `waiting for the buyer's refund account` (a
    /// virtual-account payment is refunded only to the buyer's verified account).
    pub detail: Option<String>,
    /// When it was recorded.
    pub created_at: String,
}

/// `POST /admin/v1/refunds/{id}/done`: how the operator refunded it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundDoneRequest {
    /// The bank transfer's reference, or how else the money went back (1–200 characters).
    pub reference: String,
}
