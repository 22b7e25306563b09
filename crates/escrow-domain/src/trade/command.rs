//! Who acts on a trade, and what they ask for.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{MemberId, PartnerId};
use crate::reference::{courier_name, sale_cancel_reason};

use super::TransitionError;

/// The role an actor plays on a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActorRole {
    /// The trade's buyer.
    Buyer,
    /// The trade's seller.
    Seller,
    /// The trade's partner (reports delivery; it is liable).
    Partner,
    /// An operator of the service.
    Operator,
    /// A scheduled job.
    Batch,
    /// The payment gateway.
    PaymentGateway,
}

impl ActorRole {
    /// Every role.
    pub const ALL: [ActorRole; 6] = [
        ActorRole::Buyer,
        ActorRole::Seller,
        ActorRole::Partner,
        ActorRole::Operator,
        ActorRole::Batch,
        ActorRole::PaymentGateway,
    ];
}

/// Who acts: the role and the identity recorded in the trade's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Actor {
    /// A member acting as the buyer.
    Buyer(MemberId),
    /// A member acting as the seller.
    Seller(MemberId),
    /// A partner.
    Partner(PartnerId),
    /// An operator, by operator name or admin key id.
    Operator(String),
    /// A job, by job name.
    Batch(String),
    /// The payment gateway.
    PaymentGateway,
}

impl Actor {
    /// The actor's role.
    pub fn role(&self) -> ActorRole {
        match self {
            Actor::Buyer(_) => ActorRole::Buyer,
            Actor::Seller(_) => ActorRole::Seller,
            Actor::Partner(_) => ActorRole::Partner,
            Actor::Operator(_) => ActorRole::Operator,
            Actor::Batch(_) => ActorRole::Batch,
            Actor::PaymentGateway => ActorRole::PaymentGateway,
        }
    }
}

const MAX_TEXT: usize = 500;

fn checked_text(field: &'static str, value: String) -> Result<String, TransitionError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(TransitionError::invalid_input(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_TEXT {
        return Err(TransitionError::invalid_input(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(TransitionError::invalid_input(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A free-text reason (cancel, return, hold), 1–500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// Checks and trims the text.
    pub fn new(text: impl Into<String>) -> Result<Self, TransitionError> {
        Reason::for_field("reason", text)
    }

    /// Checks and trims the text of the request field `field` (a refusal names it).
    pub fn for_field(
        field: &'static str,
        text: impl Into<String>,
    ) -> Result<Self, TransitionError> {
        checked_text(field, text.into()).map(Reason)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reason {
    type Error = TransitionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Reason::new(value)
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> String {
        r.0
    }
}

/// A parcel: the courier (manual courier code) and its invoice number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// Courier code from the manual's table (`005` = CJ 대한통운).
    pub carrier: String,
    /// The invoice (waybill) number: 1–40 letters, digits or hyphens.
    pub invoice_number: String,
}

impl Shipment {
    /// Checks the courier code and the invoice number.
    pub fn new(
        carrier: impl Into<String>,
        invoice_number: impl Into<String>,
    ) -> Result<Self, TransitionError> {
        let carrier = carrier.into();
        let invoice_number = invoice_number.into().trim().to_owned();
        if courier_name(&carrier).is_none() {
            return Err(TransitionError::invalid_input(
                "carrier",
                "unknown courier code",
            ));
        }
        if invoice_number.is_empty()
            || invoice_number.len() > 40
            || !invoice_number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(TransitionError::invalid_input(
                "invoiceNumber",
                "1–40 letters, digits or hyphens",
            ));
        }
        Ok(Shipment {
            carrier,
            invoice_number,
        })
    }

    /// The courier's name.
    pub fn courier_name(&self) -> &'static str {
        courier_name(&self.carrier).unwrap_or("")
    }
}

/// A seller's reason to cancel a sale: a manual code 31–39, with text for 39 (직접입력).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleCancelReason {
    /// The code, 31–39.
    pub code: u8,
    /// Free text; required for 39.
    pub detail: Option<String>,
}

impl SaleCancelReason {
    /// Checks the code and, for 39, the text.
    pub fn new(code: u8, detail: Option<String>) -> Result<Self, TransitionError> {
        if sale_cancel_reason(code).is_none() {
            return Err(TransitionError::invalid_input(
                "reasonCode",
                "must be 31–39",
            ));
        }
        let detail = detail
            .map(|d| checked_text("reasonDetail", d))
            .transpose()?;
        if code == 39 && detail.is_none() {
            return Err(TransitionError::invalid_input(
                "reasonDetail",
                "required for code 39",
            ));
        }
        Ok(SaleCancelReason { code, detail })
    }

    /// The text shown to people: the detail, or the code's description.
    pub fn text(&self) -> String {
        match &self.detail {
            Some(d) => d.clone(),
            None => sale_cancel_reason(self.code).unwrap_or("").to_owned(),
        }
    }
}

/// Who pays the return shipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnShippingPayer {
    /// The buyer pays (e.g. change of mind).
    Buyer,
    /// The seller pays (e.g. defective goods).
    Seller,
}

/// A reminder a job sends without changing the trade's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reminder {
    /// 입금종료 안내, some hours after the virtual account was issued.
    DepositClosing,
    /// 구매승인 요청(배송완료), the day delivery is reported.
    DeliveredApprovalRequest,
    /// 구매승인 요청/안내, some business days before the automatic approval.
    ApprovalReminder {
        /// How many business days before the automatic approval.
        business_days_before: u32,
    },
}

/// What an actor asks of a trade. [`super::Trade::apply`] decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeCommand {
    /// 13 → 31: the PG confirms the deposit.
    ConfirmDeposit,
    /// 13 → 14: the buyer or an operator cancels, or the deadline passed (batch).
    CancelDeposit,
    /// 31 → 32: the seller registers the invoice (or corrects it once under a hold).
    RegisterShipment(Shipment),
    /// 32: delivery is reported; starts the automatic-approval timer.
    ReportDelivery {
        /// When the parcel was delivered.
        #[serde(with = "time::serde::rfc3339")]
        delivered_at: OffsetDateTime,
    },
    /// 32 → 33: the buyer approves the purchase, or the batch does once the time has come.
    ApprovePurchase,
    /// 31 → 34: the buyer asks to cancel.
    RequestCancel {
        /// Why.
        reason: Reason,
    },
    /// 34 → 35: the seller agrees to the cancel (or the batch, after the timer).
    AgreeCancel,
    /// 31 → 36: the seller cancels the sale.
    CancelSale {
        /// Why.
        reason: SaleCancelReason,
    },
    /// → 37: an operator cancels the trade.
    CancelByOperator {
        /// Why.
        reason: Reason,
    },
    /// 32 → 51: the buyer asks to return the goods.
    RequestReturn {
        /// Why.
        reason: Reason,
        /// Who pays the return shipping.
        shipping_payer: ReturnShippingPayer,
    },
    /// 51 → 52: the seller agrees and gives the return address.
    AgreeReturn {
        /// Where to send the goods back.
        return_address: Reason,
    },
    /// 52 → 53: the buyer registers the return invoice.
    RegisterReturnShipment(Shipment),
    /// 53 → 54: the seller confirms receipt of the returned goods.
    ConfirmReturnReceipt,
    /// 33/80 → 33/83: the payout date came; pay the seller.
    PayOut,
    /// 54/80 → 54/84: the refund date came; refund the buyer.
    RefundReturn,
    /// An operator freezes the trade.
    Hold {
        /// Why.
        reason: Reason,
    },
    /// An operator lifts the freeze.
    Release,
    /// A job sends a reminder.
    Remind(Reminder),
}

impl TradeCommand {
    /// A stable name for the command (recorded in events).
    pub fn name(&self) -> &'static str {
        match self {
            TradeCommand::ConfirmDeposit => "CONFIRM_DEPOSIT",
            TradeCommand::CancelDeposit => "CANCEL_DEPOSIT",
            TradeCommand::RegisterShipment(_) => "REGISTER_SHIPMENT",
            TradeCommand::ReportDelivery { .. } => "REPORT_DELIVERY",
            TradeCommand::ApprovePurchase => "APPROVE_PURCHASE",
            TradeCommand::RequestCancel { .. } => "REQUEST_CANCEL",
            TradeCommand::AgreeCancel => "AGREE_CANCEL",
            TradeCommand::CancelSale { .. } => "CANCEL_SALE",
            TradeCommand::CancelByOperator { .. } => "CANCEL_BY_OPERATOR",
            TradeCommand::RequestReturn { .. } => "REQUEST_RETURN",
            TradeCommand::AgreeReturn { .. } => "AGREE_RETURN",
            TradeCommand::RegisterReturnShipment(_) => "REGISTER_RETURN_SHIPMENT",
            TradeCommand::ConfirmReturnReceipt => "CONFIRM_RETURN_RECEIPT",
            TradeCommand::PayOut => "PAY_OUT",
            TradeCommand::RefundReturn => "REFUND_RETURN",
            TradeCommand::Hold { .. } => "HOLD",
            TradeCommand::Release => "RELEASE",
            TradeCommand::Remind(_) => "REMIND",
        }
    }

    /// The roles that may give this command at all (SPEC §8's "who" column).
    pub fn allowed_roles(&self) -> &'static [ActorRole] {
        use ActorRole::*;
        match self {
            TradeCommand::ConfirmDeposit => &[PaymentGateway],
            TradeCommand::CancelDeposit => &[Buyer, Operator, Batch],
            TradeCommand::RegisterShipment(_) => &[Seller, Operator],
            TradeCommand::ReportDelivery { .. } => &[Partner, Operator, Batch],
            TradeCommand::ApprovePurchase => &[Buyer, Batch],
            TradeCommand::RequestCancel { .. } => &[Buyer],
            TradeCommand::AgreeCancel => &[Seller, Operator, Batch],
            TradeCommand::CancelSale { .. } => &[Seller],
            TradeCommand::CancelByOperator { .. } => &[Operator],
            TradeCommand::RequestReturn { .. } => &[Buyer],
            TradeCommand::AgreeReturn { .. } => &[Seller, Operator],
            TradeCommand::RegisterReturnShipment(_) => &[Buyer, Operator],
            TradeCommand::ConfirmReturnReceipt => &[Seller, Operator],
            TradeCommand::PayOut | TradeCommand::RefundReturn | TradeCommand::Remind(_) => &[Batch],
            TradeCommand::Hold { .. } | TradeCommand::Release => &[Operator],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_checks_courier_and_invoice() {
        assert!(Shipment::new("005", "1234-5678").is_ok());
        assert!(Shipment::new("999", "1234").is_err());
        assert!(Shipment::new("005", "").is_err());
        assert!(Shipment::new("005", "12 34").is_err());
        assert!(Shipment::new("005", "1".repeat(41)).is_err());
    }

    #[test]
    fn reasons_are_checked() {
        assert!(Reason::new("  ").is_err());
        assert!(Reason::new("x".repeat(501)).is_err());
        assert_eq!(Reason::new(" 단순변심 ").unwrap().as_str(), "단순변심");
        assert!(serde_json::from_str::<Reason>("\"\"").is_err());
        assert!(SaleCancelReason::new(39, None).is_err());
        assert!(SaleCancelReason::new(30, None).is_err());
        assert_eq!(
            SaleCancelReason::new(32, None).unwrap().text(),
            "상품파손 또는 분실"
        );
    }
}
