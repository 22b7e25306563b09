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
    /// The merchant account (MID) it pays with; its refunds and inquiries use the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_merchant: Option<crate::ids::MerchantId>,
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
    /// The buyer's test clock (SPEC §16), if any: the checkout and its trade live by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<crate::ids::TestClockId>,
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

/// How a checkout ended without payment, as the domain decides it; the repository stores it in one
/// transaction if the checkout is still open: the status and code, the seller-limit reservation and
/// the product released, and the partner's `payment.failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutFailure {
    /// The checkout's partner.
    pub partner_id: PartnerId,
    /// The checkout.
    pub checkout_id: CheckoutId,
    /// Its product, released (on sale again).
    pub product_id: ProductId,
    /// `FAILED`, or `EXPIRED` for an expiry.
    pub status: CheckoutStatus,
    /// The code kept on the checkout (none for an expiry, whose status says it).
    pub failure_code: Option<String>,
    /// The partner's `payment.failed` with the code.
    pub event: crate::notification::PartnerEvent,
    /// When.
    pub at: OffsetDateTime,
    /// Whether the checkout lives on a test clock (`at` is then the clock's instant).
    pub on_test_clock: bool,
}

impl Checkout {
    /// This checkout failing with `failure` at `at` (`PG_EXPIRED` is an expiry).
    pub fn fail(&self, failure: crate::payment::PgFailure, at: OffsetDateTime) -> CheckoutFailure {
        let expired = failure == crate::payment::PgFailure::Expired;
        CheckoutFailure {
            partner_id: self.partner_id,
            checkout_id: self.id,
            product_id: self.product_id,
            status: if expired {
                CheckoutStatus::Expired
            } else {
                CheckoutStatus::Failed
            },
            failure_code: (!expired).then(|| failure.code().to_owned()),
            event: crate::notification::PartnerEvent {
                event_type: "payment.failed",
                data: serde_json::json!({
                    "checkoutId": self.id,
                    "partnerTradeNo": self.partner_trade_no,
                    "code": failure.code(),
                }),
            },
            at,
            on_test_clock: self.test_clock.is_some(),
        }
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;
    use crate::payment::PgFailure;
    use time::macros::datetime;

    fn checkout() -> Checkout {
        let quote = crate::contract::Contract::standard_2022()
            .quote(
                &crate::quote::QuoteRequest {
                    product_price: crate::money::Money::krw(10_000),
                    shipping_fee: crate::money::Money::krw(0),
                    method: PaymentMethod::Card,
                    trade_type: TradeType::General,
                },
                &[PaymentMethod::Card],
            )
            .unwrap();
        Checkout {
            id: CheckoutId::random(),
            partner_id: PartnerId::random(),
            buyer_id: MemberId::random(),
            seller_id: MemberId::random(),
            product_id: ProductId::random(),
            method: PaymentMethod::Card,
            trade_type: TradeType::General,
            quote,
            shipping_address: ShippingAddress {
                recipient: "홍길동".into(),
                phone: PhoneNumber::new("01012345678").unwrap(),
                postcode: "04524".into(),
                address: "서울".into(),
                address_detail: "1층".into(),
                requirement: None,
            },
            return_url: "https://market.example/r".into(),
            partner_trade_no: Some("order-1".into()),
            status: CheckoutStatus::Open,
            failure_code: None,
            pg_gateway: Some("unifipay".into()),
            pg_merchant: None,
            pg_transaction_id: None,
            expires_at: datetime!(2025-03-14 15:30 +9),
            created_at: datetime!(2025-03-14 15:00 +9),
            trade_id: None,
            test_clock: None,
        }
    }

    #[test]
    fn an_expiry_is_expired_and_any_other_failure_keeps_its_code() {
        let c = checkout();
        let at = datetime!(2025-03-14 15:31 +9);
        let expired = c.fail(PgFailure::Expired, at);
        assert_eq!(expired.status, CheckoutStatus::Expired);
        assert_eq!(expired.failure_code, None);
        assert_eq!(expired.event.event_type, "payment.failed");
        assert_eq!(expired.event.data["code"], "PG_EXPIRED");
        let declined = c.fail(PgFailure::Declined, at);
        assert_eq!(declined.status, CheckoutStatus::Failed);
        assert_eq!(declined.failure_code.as_deref(), Some("PG_DECLINED"));
        assert_eq!(declined.event.data["partnerTradeNo"], "order-1");
        assert_eq!(declined.product_id, c.product_id);
        assert_eq!(declined.at, at);
    }
}
