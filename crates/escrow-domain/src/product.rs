//! Products (상품): what a seller offers, quantity 1.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contract::PaymentMethod;
use crate::ids::{MemberId, PartnerId, ProductId};
use crate::money::Money;

/// Where a product stands (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    /// Can be bought.
    OnSale,
    /// A checkout or open trade holds it.
    Reserved,
    /// Its trade completed (33).
    Sold,
    /// The seller stopped selling it.
    Stopped,
}

impl ProductStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            ProductStatus::OnSale => "ON_SALE",
            ProductStatus::Reserved => "RESERVED",
            ProductStatus::Sold => "SOLD",
            ProductStatus::Stopped => "STOPPED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ON_SALE" => Some(ProductStatus::OnSale),
            "RESERVED" => Some(ProductStatus::Reserved),
            "SOLD" => Some(ProductStatus::Sold),
            "STOPPED" => Some(ProductStatus::Stopped),
            _ => None,
        }
    }
}

/// A seller's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Its id.
    pub id: ProductId,
    /// Its partner.
    pub partner_id: PartnerId,
    /// The seller.
    pub seller_id: MemberId,
    /// The partner's own product id.
    pub partner_product_id: String,
    /// Its name (≤ 200 characters); never changes.
    pub name: String,
    /// Its price; never changes.
    pub price: Money,
    /// The shipping fee the buyer pays on top.
    pub shipping_fee: Money,
    /// How it may be paid.
    pub payment_methods: Vec<PaymentMethod>,
    /// Free text.
    pub description: Option<String>,
    /// A picture.
    pub image_url: Option<String>,
    /// A category code from the manual.
    pub category_code: Option<String>,
    /// Where it stands.
    pub status: ProductStatus,
    /// Whether a trade was ever made on it (then it can no longer be edited).
    pub has_trades: bool,
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}
