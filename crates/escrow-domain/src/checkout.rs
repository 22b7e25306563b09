//! Checkouts (결제요청): a buyer's payment attempt, which becomes a trade when the PG approves. The
//! port that stores one is `ports::CheckoutRepository`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contract::{PaymentMethod, TradeType};
use crate::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use crate::people::PhoneNumber;
use crate::quote::Quote;

/// Where a checkout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckoutStatus {
    /// Waiting for payment.
    Open,
    /// Paid: a trade exists.
    Paid,
    /// The PG refused or failed (with a failure code).
    Failed,
    /// Not paid in time.
    Expired,
}

impl CheckoutStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            CheckoutStatus::Open => "OPEN",
            CheckoutStatus::Paid => "PAID",
            CheckoutStatus::Failed => "FAILED",
            CheckoutStatus::Expired => "EXPIRED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "OPEN" => Some(CheckoutStatus::Open),
            "PAID" => Some(CheckoutStatus::Paid),
            "FAILED" => Some(CheckoutStatus::Failed),
            "EXPIRED" => Some(CheckoutStatus::Expired),
            _ => None,
        }
    }
}

/// Where the goods go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingAddress {
    /// Who receives it.
    pub recipient: String,
    /// Their phone.
    pub phone: PhoneNumber,
    /// Postcode.
    pub postcode: String,
    /// Address.
    pub address: String,
    /// Address detail.
    pub address_detail: String,
    /// A note for the courier.
    pub requirement: Option<String>,
}

/// A checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkout {
    /// Its id (the PG's order id).
    pub id: CheckoutId,
    /// The partner.
    pub partner_id: PartnerId,
    /// The buyer.
    pub buyer_id: MemberId,
    /// The seller.
    pub seller_id: MemberId,
    /// The product.
    pub product_id: ProductId,
    /// How the buyer pays.
    pub method: PaymentMethod,
    /// GENERAL or PREMIUM.
    pub trade_type: TradeType,
    /// The amounts.
    pub quote: Quote,
    /// Where the goods go.
    pub shipping_address: ShippingAddress,
    /// Where the browser goes after paying.
    pub return_url: String,
    /// The partner's own trade number.
    pub partner_trade_no: Option<String>,
    /// Where it stands.
    pub status: CheckoutStatus,
    /// The failure code (`PG_DECLINED` …) when failed.
    pub failure_code: Option<String>,
    /// The PG serving it.
    pub pg_gateway: Option<String>,
    /// The PG's transaction.
    pub pg_transaction_id: Option<String>,
    /// When it expires unpaid.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was created (and the seller limits reserved).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The trade, once paid.
    pub trade_id: Option<TradeId>,
}

/// An `Idempotency-Key` with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key, 1–255 characters.
    pub key: String,
    /// A hash of the request (method, path, body).
    pub request_hash: String,
}

/// What storing a checkout did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenedCheckout {
    /// Stored now.
    Created(Checkout),
    /// The same key and request were seen before: the checkout stored then.
    Replayed(Checkout),
}

impl OpenedCheckout {
    /// The checkout either way.
    pub fn checkout(&self) -> &Checkout {
        match self {
            OpenedCheckout::Created(c) | OpenedCheckout::Replayed(c) => c,
        }
    }
}
