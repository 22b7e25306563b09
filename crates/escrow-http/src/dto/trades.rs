//! Trades: the public trade document (also every trade callback's `data`), its history, and the
//! bodies of the commands on it.

use escrow_domain::trade::{ReturnShippingPayer, Trade, TradeEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::*;

/// A parcel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentView {
    /// Courier code.
    pub carrier: String,
    /// Courier name.
    pub carrier_name: String,
    /// Invoice number.
    pub invoice_number: String,
}

/// A trade.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeView {
    /// Its id.
    pub trade_id: String,
    /// The partner's own number.
    pub partner_trade_no: Option<String>,
    /// The checkout it came from.
    pub checkout_id: String,
    /// Trade status (`status_cd`).
    pub status: CodeView,
    /// Withdrawal status (출금상태).
    pub withdrawal: CodeView,
    /// Held by an operator.
    pub held: bool,
    /// The buyer.
    pub buyer_id: String,
    /// The seller.
    pub seller_id: String,
    /// The product.
    pub product_id: String,
    /// The product's name.
    pub product_name: String,
    /// GENERAL or PREMIUM.
    pub trade_type: String,
    /// How it was paid.
    pub payment_method: String,
    /// The amounts.
    pub amounts: AmountsView,
    /// The seller's parcel.
    pub shipment: Option<ShipmentView>,
    /// When delivery was reported.
    pub delivered_at: Option<String>,
    /// The return parcel.
    pub return_shipment: Option<ShipmentView>,
    /// When the purchase is approved automatically.
    pub auto_approval_at: Option<String>,
    /// When the payout is due.
    pub payout_date: Option<String>,
    /// When the return refund is due.
    pub refund_date: Option<String>,
    /// When it was paid.
    pub paid_at: Option<String>,
    /// When the purchase was approved.
    pub approved_at: Option<String>,
    /// When it was opened.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Its version: the sequence of its latest event.
    pub version: i64,
}

/// The trade as partners see it, in the API (`GET /api/v1/trades/{id}`) and as the `data` of its
/// callbacks: one public shape.
pub fn trade_document(t: &Trade) -> serde_json::Value {
    serde_json::to_value(TradeView::from(t)).unwrap_or_default()
}

impl From<&Trade> for TradeView {
    fn from(t: &Trade) -> Self {
        let shipment = |s: &escrow_domain::trade::Shipment| ShipmentView {
            carrier: s.carrier.clone(),
            carrier_name: s.courier_name().to_owned(),
            invoice_number: s.invoice_number.clone(),
        };
        TradeView {
            trade_id: t.id.to_string(),
            partner_trade_no: t.partner_trade_no.clone(),
            checkout_id: t.checkout_id.to_string(),
            status: CodeView {
                code: t.status.code(),
                name: name_of(&t.status),
            },
            withdrawal: CodeView {
                code: t.withdrawal.code(),
                name: name_of(&t.withdrawal),
            },
            held: t.held,
            buyer_id: t.buyer_id.to_string(),
            seller_id: t.seller_id.to_string(),
            product_id: t.product_id.to_string(),
            product_name: t.product_name.clone(),
            trade_type: name_of(&t.trade_type),
            payment_method: t.method.code().to_owned(),
            amounts: AmountsView::from(&t.quote),
            shipment: t.shipment.as_ref().map(shipment),
            delivered_at: t.delivered_at.map(rfc3339),
            return_shipment: t.return_shipment.as_ref().map(shipment),
            auto_approval_at: t.deadlines.auto_approval_at.map(rfc3339),
            payout_date: t.deadlines.payout_date.map(|d| d.to_string()),
            refund_date: t.deadlines.refund_date.map(|d| d.to_string()),
            paid_at: t.paid_at.map(rfc3339),
            approved_at: t.approved_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            version: t.version,
        }
    }
}

/// A page of trades.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradePageView {
    /// The trades, newest first.
    pub items: Vec<TradeView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One event of a trade's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Order within the trade.
    pub sequence: i64,
    /// What was done.
    pub command: String,
    /// Who: `BUYER`, `SELLER`, `PARTNER`, `OPERATOR`, `BATCH`, `PAYMENT_GATEWAY`.
    pub actor: String,
    /// Status before (absent for the opening).
    pub from_status: Option<u8>,
    /// Status after.
    pub to_status: u8,
    /// Withdrawal status before.
    pub from_withdrawal: Option<u8>,
    /// Withdrawal status after.
    pub to_withdrawal: u8,
    /// The reason given.
    pub reason: Option<String>,
    /// When.
    pub at: String,
}

impl From<&TradeEvent> for EventView {
    fn from(e: &TradeEvent) -> Self {
        EventView {
            sequence: e.sequence,
            command: e.command.clone(),
            actor: name_of(&e.actor.role()),
            from_status: e.from_status.map(|s| s.code()),
            to_status: e.to_status.code(),
            from_withdrawal: e.from_withdrawal.map(|w| w.code()),
            to_withdrawal: e.to_withdrawal.code(),
            reason: e.reason.clone(),
            at: rfc3339(e.at),
        }
    }
}

/// `POST …/shipment` and `…/return-shipment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentRequest {
    /// Courier code from the manual's table (`005` = CJ 대한통운).
    #[schema(pattern = r"^[0-9]{2,3}$")]
    pub carrier: String,
    /// Invoice number.
    #[schema(pattern = r"^[0-9A-Za-z-]{1,40}$")]
    pub invoice_number: String,
}

/// A reason (cancel request, hold, operator cancel).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why (1–500 characters).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason: String,
}

/// `POST …/sale-cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaleCancelRequest {
    /// The manual's sale-cancel code, 31–39.
    #[schema(minimum = 31, maximum = 39)]
    pub reason_code: u8,
    /// Text; required for 39 (직접입력).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason_detail: Option<String>,
}

/// Who pays the return shipping.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnShippingPayerDto {
    /// The buyer.
    Buyer,
    /// The seller.
    Seller,
}

impl From<ReturnShippingPayerDto> for ReturnShippingPayer {
    fn from(p: ReturnShippingPayerDto) -> Self {
        match p {
            ReturnShippingPayerDto::Buyer => ReturnShippingPayer::Buyer,
            ReturnShippingPayerDto::Seller => ReturnShippingPayer::Seller,
        }
    }
}

/// `POST …/return-request`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnRequestDto {
    /// Why.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason: String,
    /// Who pays the return shipping.
    pub return_shipping_payer: ReturnShippingPayerDto,
}

/// `POST …/return-agree`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnAgreeRequest {
    /// Where the buyer sends the goods back.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub return_address: String,
}

/// `POST /api/v1/trades/{id}/delivered` (partner) and its admin twin.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveredRequest {
    /// When it was delivered (RFC 3339); now when absent.
    pub delivered_at: Option<String>,
}
