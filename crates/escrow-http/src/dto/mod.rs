//! Request and response bodies (camelCase JSON). Requests refuse unknown fields and parse into domain
//! types at the edge; responses are built from domain values.

use escrow_domain::contract::{PaymentMethod, TradeType};
use escrow_domain::quote::Quote;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::ApiError;

mod addresses;
mod admin;
mod callbacks;
mod catalog;
mod custody;
mod members;
mod settlements;
mod trades;

pub use addresses::*;
pub use admin::*;
pub use callbacks::*;
pub use catalog::*;
pub use custody::*;
pub use members::*;
pub use settlements::*;
pub use trades::*;

/// RFC 3339 text of an instant.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// SPEC §11's error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Machine-readable code (`SELLER_LIMIT_EXCEEDED`).
    pub code: String,
    /// Message for end users, in Korean.
    pub message: String,
    /// Structured details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The request's id (also in the logs).
    pub request_id: String,
}

/// A payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethodDto {
    /// 신용카드.
    Card,
    /// 실시간 계좌이체.
    BankTransfer,
    /// 가상계좌.
    VirtualAccount,
}

impl From<PaymentMethodDto> for PaymentMethod {
    fn from(m: PaymentMethodDto) -> Self {
        match m {
            PaymentMethodDto::Card => PaymentMethod::Card,
            PaymentMethodDto::BankTransfer => PaymentMethod::BankTransfer,
            PaymentMethodDto::VirtualAccount => PaymentMethod::VirtualAccount,
        }
    }
}

/// A safe-trade type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeTypeDto {
    /// 일반 안전거래.
    General,
    /// 프리미엄 안전거래.
    Premium,
}

impl From<TradeTypeDto> for TradeType {
    fn from(t: TradeTypeDto) -> Self {
        match t {
            TradeTypeDto::General => TradeType::General,
            TradeTypeDto::Premium => TradeType::Premium,
        }
    }
}

/// The amounts of a checkout or trade, in minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountsView {
    /// Currency.
    pub currency: String,
    /// Product price.
    pub product_price: i64,
    /// Shipping fee.
    pub shipping_fee: i64,
    /// What the buyer pays.
    pub payment_amount: i64,
    /// 결제수수료.
    pub payment_fee: i64,
    /// 안전거래수수료.
    pub safe_trade_fee: i64,
    /// Payment fee + safe-trade fee.
    pub escrow_fee: i64,
    /// What the seller is paid out.
    pub seller_payout: i64,
}

impl From<&Quote> for AmountsView {
    fn from(q: &Quote) -> Self {
        AmountsView {
            currency: q.payment_amount.currency().code().to_owned(),
            product_price: q.product_price.minor_units(),
            shipping_fee: q.shipping_fee.minor_units(),
            payment_amount: q.payment_amount.minor_units(),
            payment_fee: q.payment_fee.minor_units(),
            safe_trade_fee: q.safe_trade_fee.minor_units(),
            escrow_fee: q.escrow_fee.minor_units(),
            seller_payout: q.seller_payout.minor_units(),
        }
    }
}

/// A status with its Unicro code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeView {
    /// The code (31, 83, …).
    pub code: u8,
    /// The name (`PAID`, `PAID_OUT`, …).
    pub name: String,
}

fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A list query's paging: the cursor from a previous page, and 1–100 items (20 when unsaid).
pub fn paging(
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<(Option<escrow_domain::ports::PageCursor>, u32), ApiError> {
    let cursor = cursor
        .map(|c| {
            escrow_domain::ports::PageCursor::decode(c)
                .ok_or_else(|| ApiError::invalid("cursor", "a cursor from a previous page"))
        })
        .transpose()?;
    let limit = limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "1–100"));
    }
    Ok((cursor, limit))
}

/// Bounded text: trimmed, 1..=`max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("1–{max} characters, no control characters"),
        ));
    }
    Ok(v.to_owned())
}
