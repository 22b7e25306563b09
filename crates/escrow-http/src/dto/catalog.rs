//! Products and checkouts: what partners register and what buyers start paying.

use escrow_domain::checkout::Checkout;
use escrow_domain::product::Product;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::*;

/// `PUT /api/v1/products`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRequest {
    /// Present to update that product.
    pub product_id: Option<uuid::Uuid>,
    /// The partner's own product id.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_product_id: String,
    /// Name (≤ 200 characters); never changes.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
    /// Price in minor units; never changes.
    #[schema(minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub price: i64,
    /// Shipping fee in minor units (default 0).
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub shipping_fee: Option<i64>,
    /// Accepted methods.
    #[schema(min_items = 1)]
    pub payment_methods: Vec<PaymentMethodDto>,
    /// Free text.
    #[schema(max_length = 4000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
    pub description: Option<String>,
    /// A picture.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub image_url: Option<String>,
    /// A category code.
    #[schema(max_length = 20, pattern = r"^[^\s\x00-\x1f\x7f]*$")]
    pub category_code: Option<String>,
}

/// A product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    /// Its id.
    pub product_id: String,
    /// The partner's own id.
    pub partner_product_id: String,
    /// The seller.
    pub seller_id: String,
    /// Name.
    pub name: String,
    /// Price (minor units).
    pub price: i64,
    /// Shipping fee (minor units).
    pub shipping_fee: i64,
    /// Currency.
    pub currency: String,
    /// Accepted methods.
    pub payment_methods: Vec<String>,
    /// `ON_SALE`, `RESERVED`, `SOLD` or `STOPPED`.
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// A picture.
    pub image_url: Option<String>,
    /// A category code.
    pub category_code: Option<String>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            product_id: p.id.to_string(),
            partner_product_id: p.partner_product_id.clone(),
            seller_id: p.seller_id.to_string(),
            name: p.name.clone(),
            price: p.price.minor_units(),
            shipping_fee: p.shipping_fee.minor_units(),
            currency: p.price.currency().code().to_owned(),
            payment_methods: p
                .payment_methods
                .iter()
                .map(|m| m.code().to_owned())
                .collect(),
            status: p.status.code().to_owned(),
            description: p.description.clone(),
            image_url: p.image_url.clone(),
            category_code: p.category_code.clone(),
        }
    }
}

/// Where the goods go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressDto {
    /// Recipient.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub recipient: String,
    /// Recipient's mobile phone.
    #[schema(pattern = r"^01[0-9]{8,9}$")]
    pub phone: String,
    /// Postcode.
    #[schema(
        min_length = 1,
        max_length = 10,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub postcode: String,
    /// Address.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address: String,
    /// Address detail.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address_detail: String,
    /// A note for the courier.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub requirement: Option<String>,
}

/// `POST /api/v1/checkouts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequestDto {
    /// The product.
    pub product_id: uuid::Uuid,
    /// How to pay.
    pub payment_method: PaymentMethodDto,
    /// GENERAL or PREMIUM.
    pub trade_type: TradeTypeDto,
    /// Where the goods go (or `addressId`: exactly one of the two).
    pub shipping_address: Option<AddressDto>,
    /// One of the buyer's saved addresses (SPEC §13) instead of `shippingAddress`.
    #[schema(minimum = 1)]
    pub address_id: Option<i64>,
    /// Where the browser goes after paying: an allowed origin of the partner.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub return_url: String,
    /// The partner's own trade number.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_trade_no: Option<String>,
}

/// A checkout.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutView {
    /// Its id.
    pub checkout_id: String,
    /// The hosted checkout page to send the buyer to.
    pub checkout_url: String,
    /// When it expires unpaid.
    pub expires_at: String,
    /// `OPEN`, `PAID`, `FAILED`, `EXPIRED`.
    pub status: String,
    /// The failure code, when failed.
    pub failure_code: Option<String>,
    /// The trade, once paid.
    pub trade_id: Option<String>,
    /// The amounts.
    pub amounts: AmountsView,
}

impl CheckoutView {
    /// The view of `c`, with its signed page link.
    pub fn new(c: &Checkout, checkout_url: String) -> Self {
        CheckoutView {
            checkout_id: c.id.to_string(),
            checkout_url,
            expires_at: rfc3339(c.expires_at),
            status: c.status.code().to_owned(),
            failure_code: c.failure_code.clone(),
            trade_id: c.trade_id.map(|t| t.to_string()),
            amounts: AmountsView::from(&c.quote),
        }
    }
}
