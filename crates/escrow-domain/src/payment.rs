//! Paying through a PG: the failure codes partners see, the `PaymentGateway` port, the check of a PG's
//! report against the checkout (never trusting a callback body), and which gateway serves a method.

use std::fmt;

use async_trait::async_trait;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::contract::PaymentMethod;
use crate::ids::CheckoutId;
use crate::money::{Currency, Money};
use crate::payment_setup::Merchant;

/// A PG failure, as delivered to partners (seed 000: "에러코드는 구분하여 전달").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PgFailure {
    /// The buyer's payment was declined.
    #[serde(rename = "PG_DECLINED")]
    Declined,
    /// The PG reports another amount or currency than the checkout's: forgery (위변조).
    #[serde(rename = "PG_AMOUNT_MISMATCH")]
    AmountMismatch,
    /// The PG's merchant account does not take this currency.
    #[serde(rename = "PG_CURRENCY_UNSUPPORTED")]
    CurrencyUnsupported,
    /// Timeout, 5xx or no connection.
    #[serde(rename = "PG_UNAVAILABLE")]
    Unavailable,
    /// The PG refused our request (4xx, e.g. a bad signature).
    #[serde(rename = "PG_REJECTED_REQUEST")]
    RejectedRequest,
    /// The checkout expired before payment.
    #[serde(rename = "PG_EXPIRED")]
    Expired,
}

impl PgFailure {
    /// The code partners receive.
    pub fn code(self) -> &'static str {
        match self {
            PgFailure::Declined => "PG_DECLINED",
            PgFailure::AmountMismatch => "PG_AMOUNT_MISMATCH",
            PgFailure::CurrencyUnsupported => "PG_CURRENCY_UNSUPPORTED",
            PgFailure::Unavailable => "PG_UNAVAILABLE",
            PgFailure::RejectedRequest => "PG_REJECTED_REQUEST",
            PgFailure::Expired => "PG_EXPIRED",
        }
    }
}

impl fmt::Display for PgFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a call to a PG failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// A failure with its partner-visible code; `detail` is for logs (never secrets).
    #[error("{failure}: {detail}")]
    Failed {
        /// The code.
        failure: PgFailure,
        /// What happened.
        detail: String,
    },
    /// The PG has no refund call: the refund goes to the operators' manual refund queue.
    #[error("refunds are not supported by this gateway")]
    RefundUnsupported,
}

impl PgError {
    /// A failure with its code and a detail for the logs.
    pub fn failed(failure: PgFailure, detail: impl Into<String>) -> Self {
        PgError::Failed {
            failure,
            detail: detail.into(),
        }
    }
}

/// Who pays, as the PG's pages and receipts show them. Redacted in `Debug` (the phone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentBuyer {
    /// The buyer's verified name.
    pub name: String,
    /// The buyer's verified mobile number.
    pub phone: crate::people::PhoneNumber,
}

/// Asks the PG to start a payment for a checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The checkout (the PG's order id).
    pub checkout_id: CheckoutId,
    /// What to charge.
    pub amount: Money,
    /// How the buyer pays.
    pub method: PaymentMethod,
    /// What is bought, as the PG shows it (the product name).
    pub order_name: String,
    /// Who pays.
    pub buyer: PaymentBuyer,
    /// Where the PG sends the browser back (built by the HTTP adapter).
    pub return_url: String,
    /// Where the PG posts its notification (built by the HTTP adapter).
    pub callback_url: String,
    /// Interest-free installments the merchant funds (KG Inicis' `quotabase`/`nointerest`).
    pub installments: InstallmentTerms,
}

/// Installment terms sent with a card payment: which months the buyer may choose and which of them
/// are interest-free per card company, in KG Inicis' notation (SPEC §12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallmentTerms {
    /// The months offered (`2:3:6`); empty: the PG's default.
    pub quotabase: String,
    /// Card company and interest-free months (`11-2:3:6,34-2:6`); empty: none.
    pub nointerest: String,
}

/// What the buyer's browser does next to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PaymentStep {
    /// Go to the PG's start page (Unifi Pay, PortOne).
    Redirect {
        /// The page.
        url: String,
    },
    /// Post this form to the PG (KG Inicis' standard payment).
    Form {
        /// Where the form posts.
        action: String,
        /// Its fields, in order.
        fields: Vec<(String, String)>,
    },
    /// Pay into this account by the deadline (a virtual account issued at once).
    VirtualAccount {
        /// The bank.
        bank: String,
        /// The account number.
        account: String,
        /// The holder's name.
        holder: String,
        /// The deadline.
        #[serde(with = "time::serde::rfc3339")]
        due: time::OffsetDateTime,
    },
}

/// The PG's answer to a payment start: its transaction id, and what the browser does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStart {
    /// The PG's transaction id.
    pub transaction_id: String,
    /// What the buyer's browser does next.
    pub next: PaymentStep,
}

/// A PG transaction: which gateway, and its id there (ids are unique per gateway only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PgTransactionRef {
    /// The gateway's name.
    pub gateway: String,
    /// The transaction id.
    pub transaction_id: String,
}

/// What a PG's notification (its callback to us) says, once its adapter parsed it. Never trusted: it
/// only names the transaction to query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgNotification {
    /// The transaction the PG says changed.
    pub transaction_id: String,
}

/// A transaction's state as the PG reports it when queried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PgPaymentStatus {
    /// Paid.
    Confirmed,
    /// Not paid. A gateway whose [`PaymentGateway::reports_pending`] is false says this also for a
    /// payment the buyer has not finished yet.
    Failed,
    /// Not paid yet (only from gateways that can tell).
    Pending,
}

/// What a PG reports about a transaction, with amounts in major units as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PgPaymentReport {
    /// The PG's transaction id.
    pub transaction_id: String,
    /// The order id the PG holds (our checkout id).
    pub order_id: String,
    /// The merchant (store) id.
    pub store_id: String,
    /// Confirmed or failed.
    pub status: PgPaymentStatus,
    /// The ordered amount, major units.
    pub order_amount: Decimal,
    /// What the buyer paid, major units.
    pub pay_amount: Decimal,
    /// What a sub method (points, coupons) covered, major units.
    pub discount_amount: Decimal,
    /// Currency of `pay_amount`.
    pub pay_currency: String,
    /// Currency of `order_amount`.
    pub order_currency: String,
}

/// What the checkout expects the PG to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPayment {
    /// The transaction the browser or callback named.
    pub transaction_id: String,
    /// The checkout.
    pub checkout_id: CheckoutId,
    /// The merchant id the gateway is configured with.
    pub store_id: String,
    /// The checkout's amount.
    pub amount: Money,
}

/// The verdict on a PG report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// Paid as expected.
    Approved {
        /// The PG's transaction id.
        transaction_id: String,
    },
    /// Not paid.
    Failed(PgFailure),
    /// Not paid yet: the buyer may still pay.
    Pending,
    /// The report does not match the checkout: forgery (위변조), logged as a security event.
    Forged {
        /// Always [`PgFailure::AmountMismatch`].
        failure: PgFailure,
        /// What did not match (no secrets).
        reason: String,
    },
}

/// `amount` (major units) in minor units of `currency`, if it is a whole number of minor units.
pub fn major_to_minor(amount: Decimal, currency: Currency) -> Option<i64> {
    let scaled = amount.checked_mul(Decimal::from(10i64.pow(currency.minor_unit_digits())))?;
    if scaled.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(scaled).ok()
}

/// Minor units as major units (`1234` USD cents → `12.34`).
pub fn minor_to_major(amount: Money) -> Decimal {
    Decimal::new(amount.minor_units(), amount.currency().minor_unit_digits())
}

/// Checks a PG's report against the checkout: ids, status, currency and
/// `orderAmount = payAmount + discountAmount = checkout amount` (SPEC §7).
pub fn verify_payment(expected: &ExpectedPayment, report: &PgPaymentReport) -> PaymentOutcome {
    let forged = |reason: String| PaymentOutcome::Forged {
        failure: PgFailure::AmountMismatch,
        reason,
    };
    if report.transaction_id != expected.transaction_id {
        return forged("transaction id differs".into());
    }
    if report.order_id != expected.checkout_id.to_string() {
        return forged("order id differs".into());
    }
    if report.store_id != expected.store_id {
        return forged("store id differs".into());
    }
    match report.status {
        PgPaymentStatus::Failed => return PaymentOutcome::Failed(PgFailure::Declined),
        PgPaymentStatus::Pending => return PaymentOutcome::Pending,
        PgPaymentStatus::Confirmed => {}
    }
    let currency = expected.amount.currency().code();
    if report.pay_currency != currency || report.order_currency != currency {
        return forged(format!(
            "currency {}/{} instead of {currency}",
            report.pay_currency, report.order_currency
        ));
    }
    let amount = minor_to_major(expected.amount);
    let paid = report.pay_amount.checked_add(report.discount_amount);
    if report.order_amount != amount || paid != Some(amount) {
        return forged(format!(
            "order {} / paid {} + discount {} instead of {amount}",
            report.order_amount, report.pay_amount, report.discount_amount
        ));
    }
    PaymentOutcome::Approved {
        transaction_id: report.transaction_id.clone(),
    }
}

/// Whether `raw` can be a PG's reference id (PortOne's `imp_uid`, a certification's id): 1–100
/// ASCII letters, digits, `_` and `-`. Anything else is refused before it reaches a URL path.
pub fn is_gateway_reference(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 100
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A refund to send to the PG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The PG's transaction id.
    pub transaction_id: String,
    /// The amount.
    pub amount: Money,
    /// For a virtual-account payment: the buyer's verified refund account the money goes to.
    pub to_account: Option<crate::payout_account::BankAccount>,
}

/// A virtual account a PG issued for a payment (가상계좌): where and until when the buyer pays.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedAccount {
    /// The bank's name as buyers know it.
    pub bank: String,
    /// The account number.
    pub number: String,
    /// The holder's name.
    pub holder: String,
    /// The deposit deadline.
    #[serde(with = "time::serde::rfc3339")]
    pub due: time::OffsetDateTime,
}

impl fmt::Debug for IssuedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccount")
            .field("bank", &self.bank)
            .field("number", &crate::people::masked_account(&self.number))
            .field("due", &self.due)
            .finish_non_exhaustive()
    }
}

/// What a PG that posts the buyer's authentication back to us (KG Inicis) sent to the return URL:
/// its fields as posted. Not trusted: the adapter checks where it may call and what it gets back.
#[derive(Clone, PartialEq, Eq)]
pub struct PgAuthentication {
    /// The posted fields.
    pub fields: Vec<(String, String)>,
}

impl fmt::Debug for PgAuthentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("PgAuthentication")
            .field("fields", &names)
            .finish()
    }
}

impl PgAuthentication {
    /// The field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A PG's approval of an authenticated payment, its signature already checked by the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgApproval {
    /// The PG's transaction id (Inicis' `tid`).
    pub transaction_id: String,
    /// The order id it approved (our checkout id).
    pub order_id: String,
    /// The approved amount, major units.
    pub amount: Decimal,
    /// The issued account, for a virtual-account payment (paid later).
    pub issued_account: Option<IssuedAccount>,
    /// What the adapter needs to cancel this approval (망취소) if we cannot use it: opaque.
    pub cancel_token: Vec<(String, String)>,
}

/// A payment gateway (Unifi Pay, KG Inicis; PortOne later behind the same port). Each call names the
/// merchant account (MID and keys) it is made with.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The gateway's name in routing and in its callback URL (`unifipay`), from configuration.
    fn name(&self) -> &str;

    /// The key names each of its merchants must have (none: the MID alone).
    fn merchant_keys(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether the status query tells "not paid yet" ([`PgPaymentStatus::Pending`]) from "failed".
    /// Unifi Pay answers only CONFIRMED or FAILED, so a FAILED there may still be paid later: the
    /// browser's return alone does not fail a checkout within its expiry (SPEC §7 point 5).
    fn reports_pending(&self) -> bool {
        false
    }

    /// Asks the PG to start a payment; refuses a currency the merchant account does not take before
    /// any call.
    async fn create_payment(
        &self,
        merchant: &Merchant,
        request: &PaymentRequest,
    ) -> Result<PaymentStart, PgError>;

    /// What the PG expects as the answer to a notification it posted, as plain text (KG Inicis
    /// wants `OK`); `None`: a JSON acknowledgement.
    fn notification_ack(&self) -> Option<&'static str> {
        None
    }

    /// Reads the PG's notification (the body it posted to our callback URL) in its own wire format.
    /// A body it cannot read is [`PgFailure::RejectedRequest`].
    fn parse_notification(&self, body: &[u8]) -> Result<PgNotification, PgError>;

    /// Queries a transaction.
    async fn payment_status(
        &self,
        merchant: &Merchant,
        transaction_id: &str,
    ) -> Result<PgPaymentReport, PgError>;

    /// Refunds a payment, or [`PgError::RefundUnsupported`].
    async fn refund(&self, merchant: &Merchant, request: &RefundRequest) -> Result<(), PgError>;

    /// For a PG that posts the buyer's authentication to the return URL (KG Inicis): asks it to
    /// approve the payment, and checks the approval's signature. Others refuse.
    async fn approve(
        &self,
        _merchant: &Merchant,
        _authentication: &PgAuthentication,
    ) -> Result<PgApproval, PgError> {
        Err(PgError::failed(
            PgFailure::RejectedRequest,
            "this gateway does not approve authentications",
        ))
    }

    /// Cancels an approval we could not use (망취소): only when our own processing failed after it.
    async fn cancel_approval(
        &self,
        _merchant: &Merchant,
        _approval: &PgApproval,
    ) -> Result<(), PgError> {
        Err(PgError::RefundUnsupported)
    }
}

/// Queries the PG for `transaction_id` and checks the report against the checkout. The browser
/// return and the PG callback both come here; neither's own data is trusted.
pub async fn verify_transaction(
    gateway: &dyn PaymentGateway,
    merchant: &Merchant,
    transaction_id: &str,
    checkout_id: CheckoutId,
    amount: Money,
) -> Result<PaymentOutcome, PgError> {
    let report = gateway.payment_status(merchant, transaction_id).await?;
    Ok(verify_payment(
        &ExpectedPayment {
            transaction_id: transaction_id.to_owned(),
            checkout_id,
            store_id: merchant.mid.clone(),
            amount,
        },
        &report,
    ))
}

/// Checks an approval against the checkout: the order id and the amount (anything else is forgery).
pub fn verify_approval(
    approval: &PgApproval,
    checkout_id: CheckoutId,
    amount: Money,
) -> Result<(), String> {
    if approval.order_id != checkout_id.to_string() {
        return Err("approved order id differs".into());
    }
    if approval.amount != minor_to_major(amount) {
        return Err(format!(
            "approved amount {} instead of {}",
            approval.amount,
            minor_to_major(amount)
        ));
    }
    Ok(())
}

/// A method without a connected, enabled gateway (`PAYMENT_METHOD_UNAVAILABLE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no connected and enabled payment gateway for {0}")]
pub struct MethodUnavailable(pub PaymentMethod);

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn expected() -> ExpectedPayment {
        ExpectedPayment {
            transaction_id: "tx-1".into(),
            checkout_id: CheckoutId(uuid::Uuid::nil()),
            store_id: "store-1".into(),
            amount: Money::new(1_234, Currency::Usd),
        }
    }

    fn report() -> PgPaymentReport {
        PgPaymentReport {
            transaction_id: "tx-1".into(),
            order_id: uuid::Uuid::nil().to_string(),
            store_id: "store-1".into(),
            status: PgPaymentStatus::Confirmed,
            order_amount: dec!(12.34),
            pay_amount: dec!(10.34),
            discount_amount: dec!(2.00),
            pay_currency: "USD".into(),
            order_currency: "USD".into(),
        }
    }

    #[test]
    fn a_matching_report_is_approved() {
        assert_eq!(
            verify_payment(&expected(), &report()),
            PaymentOutcome::Approved {
                transaction_id: "tx-1".into()
            }
        );
    }

    #[test]
    fn a_failed_status_is_declined() {
        let r = PgPaymentReport {
            status: PgPaymentStatus::Failed,
            ..report()
        };
        assert_eq!(
            verify_payment(&expected(), &r),
            PaymentOutcome::Failed(PgFailure::Declined)
        );
    }

    #[test]
    fn any_amount_currency_or_id_difference_is_forgery() {
        let cases = [
            PgPaymentReport {
                order_amount: dec!(12.35),
                ..report()
            },
            PgPaymentReport {
                pay_amount: dec!(10.33),
                ..report()
            },
            PgPaymentReport {
                discount_amount: dec!(0),
                ..report()
            },
            PgPaymentReport {
                pay_currency: "KRW".into(),
                ..report()
            },
            PgPaymentReport {
                order_currency: "EUR".into(),
                ..report()
            },
            PgPaymentReport {
                order_id: "other".into(),
                ..report()
            },
            PgPaymentReport {
                store_id: "store-2".into(),
                ..report()
            },
            PgPaymentReport {
                transaction_id: "tx-2".into(),
                ..report()
            },
        ];
        for r in cases {
            assert!(
                matches!(
                    verify_payment(&expected(), &r),
                    PaymentOutcome::Forged {
                        failure: PgFailure::AmountMismatch,
                        ..
                    }
                ),
                "{r:?}"
            );
        }
    }

    #[test]
    fn major_and_minor_units_convert_exactly() {
        assert_eq!(major_to_minor(dec!(12.34), Currency::Usd), Some(1_234));
        assert_eq!(major_to_minor(dec!(12.345), Currency::Usd), None);
        assert_eq!(major_to_minor(dec!(15500), Currency::Krw), Some(15_500));
        assert_eq!(major_to_minor(dec!(0.5), Currency::Krw), None);
        assert_eq!(
            minor_to_major(Money::new(1_234, Currency::Usd)).to_string(),
            "12.34"
        );
        assert_eq!(minor_to_major(Money::krw(15_500)).to_string(), "15500");
    }

    #[test]
    fn failure_codes_serialize_as_partners_see_them() {
        assert_eq!(
            serde_json::to_string(&PgFailure::Unavailable).unwrap(),
            "\"PG_UNAVAILABLE\""
        );
        assert_eq!(PgFailure::Expired.code(), "PG_EXPIRED");
    }
}
