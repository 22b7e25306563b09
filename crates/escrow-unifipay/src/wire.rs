//! Unifi Pay's request and response bodies (seed 001), as sent on the wire.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `POST /api/v1/payment` body. `orderAmount` is our addition (SPEC §7, decided): it binds the charged
/// amount to the checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentBody {
    /// Our checkout id.
    pub order_id: String,
    /// The merchant id.
    pub store_id: String,
    /// Unique per request.
    pub request_id: String,
    /// Where the browser returns (`?transactionId=` is appended).
    pub return_url: String,
    /// Where the callback goes.
    pub callback_url: String,
    /// ISO alpha-3.
    pub country_code: String,
    /// ISO 4217.
    pub order_currency_code: String,
    /// Major units, as a string ("12.34").
    pub order_amount: String,
}

/// `POST /api/v1/payment` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentResponse {
    /// Where to send the browser.
    pub start_page_url: String,
    /// The transaction id.
    pub transaction_id: String,
}

/// What Unifi Pay posts to the callback URL. Only the transaction id is used: the transaction is
/// queried, never taken from this body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackBody {
    /// The transaction.
    pub transaction_id: String,
    /// Our checkout id.
    #[serde(default)]
    pub order_id: Option<String>,
    /// `CONFIRMED` or `FAILED`.
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/payment/{transactionId}` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStatusResponse {
    /// `CONFIRMED` or `FAILED`.
    pub status: String,
    /// Our checkout id.
    pub order_id: String,
    /// The merchant id.
    pub store_id: String,
    /// Paid amount (a JSON number, major units).
    #[serde(
        serialize_with = "decimal_as_number",
        deserialize_with = "decimal_from_number"
    )]
    pub pay_amount: Decimal,
    /// Ordered amount (a string, major units).
    pub order_amount: String,
    /// The transaction id.
    pub transaction_id: String,
    /// Discount (a JSON number, major units).
    #[serde(
        serialize_with = "decimal_as_number",
        deserialize_with = "decimal_from_number"
    )]
    pub discount_amount: Decimal,
    /// Currency of the paid amount.
    pub pay_currency_code: String,
    /// Currency of the order.
    pub order_currency_code: String,
}

/// Reads a JSON number exactly (through its text) into a `Decimal`.
fn decimal_from_number<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.to_string()
        .parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&n.to_string()))
        .map_err(serde::de::Error::custom)
}

/// Writes a `Decimal` as a JSON number.
fn decimal_as_number<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    let n: serde_json::Number = v
        .normalize()
        .to_string()
        .parse()
        .map_err(serde::ser::Error::custom)?;
    n.serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn status_amounts_are_read_exactly_from_json_numbers() {
        let json = r#"{"status":"CONFIRMED","orderId":"o","storeId":"s","payAmount":10.34,
            "orderAmount":"12.34","transactionId":"t","discountAmount":2,"payCurrencyCode":"USD",
            "orderCurrencyCode":"USD"}"#;
        let r: PaymentStatusResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.pay_amount, dec!(10.34));
        assert_eq!(r.discount_amount, dec!(2));
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["payAmount"], serde_json::json!(10.34));
    }
}
