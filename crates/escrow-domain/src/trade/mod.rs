//! The trade (거래): its state, and the one function that changes it, [`Trade::apply`].
//!
//! `apply` either refuses with a typed [`TransitionError`] naming the current status, or returns a
//! [`Transition`]: the new trade, the event to record, the AlimTalk notifications, the partner
//! callback, the money and product effects, and the trade's pending timers. Services persist that
//! result in one transaction; they never re-derive a rule.

mod command;
mod decide;
mod notify;
mod status;
mod timers;

pub use command::{
    Actor, ActorRole, Reason, Reminder, ReturnShippingPayer, SaleCancelReason, Shipment,
    TradeCommand,
};
pub use status::{is_terminal, TradeStatus, WithdrawalStatus};
pub use timers::{Timer, TimerKind};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::calendar::BusinessCalendar;
use crate::contract::{Contract, PaymentMethod, TradeType};
use crate::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use crate::money::Money;
use crate::notification::{AlimTalkNotification, AlimTalkTemplate, CallbackType};
use crate::quote::Quote;

/// How far in the future a reported delivery time may be (clock skew between partner and service).
const DELIVERY_CLOCK_SKEW: Duration = Duration::minutes(5);

/// The rules a trade is judged by: its partner's contract and the business calendar.
#[derive(Debug, Clone, Copy)]
pub struct TradeRules<'a> {
    /// The partner's contract.
    pub contract: &'a Contract,
    /// The business calendar.
    pub calendar: &'a BusinessCalendar,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The command does not apply in the trade's current status (`409 INVALID_TRANSITION`).
    #[error("{command} is not possible in status {status} / withdrawal {}", withdrawal.code())]
    InvalidTransition {
        /// The trade's status.
        status: TradeStatus,
        /// Its withdrawal status.
        withdrawal: WithdrawalStatus,
        /// The refused command.
        command: &'static str,
    },
    /// This role may never give this command (a seller cannot approve a purchase).
    #[error("a {role:?} may not {command}")]
    ActorNotAllowed {
        /// The actor's role.
        role: ActorRole,
        /// The refused command.
        command: &'static str,
    },
    /// The acting member or partner is not part of this trade (answered as 404).
    #[error("not a party to this trade")]
    NotParticipant,
    /// The trade is on hold; jobs skip it.
    #[error("the trade is on hold")]
    OnHold,
    /// A job came before its time.
    #[error("not due before {due}")]
    NotDue {
        /// When it becomes due.
        due: OffsetDateTime,
    },
    /// The trade is already on hold.
    #[error("the trade is already on hold")]
    AlreadyHeld,
    /// The trade is not on hold.
    #[error("the trade is not on hold")]
    NotHeld,
    /// This reminder was already sent.
    #[error("reminder already sent")]
    ReminderAlreadySent,
    /// A field of the command is not acceptable.
    #[error("{field}: {problem}")]
    InvalidInput {
        /// The field, as named in the API.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl TransitionError {
    pub(crate) fn invalid_input(field: &'static str, problem: impl Into<String>) -> Self {
        TransitionError::InvalidInput {
            field,
            problem: problem.into(),
        }
    }
}

/// The return the buyer asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRequest {
    /// Why.
    pub reason: Reason,
    /// Who pays the return shipping.
    pub shipping_payer: ReturnShippingPayer,
}

/// The instants and dates a trade waits for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deadlines {
    /// 13: the virtual account must be paid before this.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deposit_deadline: Option<OffsetDateTime>,
    /// 32 delivered: approved automatically at this instant.
    #[serde(with = "time::serde::rfc3339::option")]
    pub auto_approval_at: Option<OffsetDateTime>,
    /// 34: the cancel is agreed automatically at this instant.
    #[serde(with = "time::serde::rfc3339::option")]
    pub auto_cancel_agreement_at: Option<OffsetDateTime>,
    /// 33: the seller is paid out on this date.
    pub payout_date: Option<Date>,
    /// 54: the buyer is refunded on this date.
    pub refund_date: Option<Date>,
}

/// What a trade is opened from: an approved payment (or an issued virtual account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTrade {
    /// The new trade's id.
    pub id: TradeId,
    /// The partner.
    pub partner_id: PartnerId,
    /// The checkout that was paid.
    pub checkout_id: CheckoutId,
    /// The partner's own number for the trade.
    pub partner_trade_no: Option<String>,
    /// The buyer.
    pub buyer_id: MemberId,
    /// The seller.
    pub seller_id: MemberId,
    /// The product.
    pub product_id: ProductId,
    /// Its name, as shown in notifications.
    pub product_name: String,
    /// The safe-trade type.
    pub trade_type: TradeType,
    /// The payment method.
    pub method: PaymentMethod,
    /// The amounts, as quoted at checkout.
    pub quote: Quote,
    /// The virtual account to pay into (virtual account only), as the PG issued it.
    pub deposit_account: Option<String>,
    /// The PG's deposit deadline for that account, when it set one (else the contract's timer).
    pub deposit_due: Option<OffsetDateTime>,
    /// The PG transaction that paid (refunds go to it; any other transaction of the checkout that
    /// captures money is a late confirmation and refunded).
    pub payment_transaction_id: Option<String>,
    /// The test clock of the checkout, if any.
    pub test_clock: Option<crate::ids::TestClockId>,
}

/// A trade. Change it only through [`Trade::apply`]; fields are public so adapters can store and
/// load it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    /// Its id.
    pub id: TradeId,
    /// The partner it belongs to.
    pub partner_id: PartnerId,
    /// The checkout it came from.
    pub checkout_id: CheckoutId,
    /// The partner's own number.
    pub partner_trade_no: Option<String>,
    /// The buyer.
    pub buyer_id: MemberId,
    /// The seller.
    pub seller_id: MemberId,
    /// The product.
    pub product_id: ProductId,
    /// The product's name.
    pub product_name: String,
    /// GENERAL or PREMIUM.
    pub trade_type: TradeType,
    /// How it was paid.
    pub method: PaymentMethod,
    /// The amounts.
    pub quote: Quote,
    /// The status.
    pub status: TradeStatus,
    /// The withdrawal status.
    pub withdrawal: WithdrawalStatus,
    /// Frozen by an operator.
    pub held: bool,
    /// Why it is held.
    pub hold_reason: Option<Reason>,
    /// Under a hold, the seller may correct the shipping info once.
    pub shipment_correction_allowed: bool,
    /// The virtual account to pay into.
    pub deposit_account: Option<String>,
    /// The PG transaction that paid.
    #[serde(default)]
    pub payment_transaction_id: Option<String>,
    /// The seller's parcel.
    pub shipment: Option<Shipment>,
    /// When the invoice was registered (31 → 32); delivery cannot be earlier.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub shipped_at: Option<OffsetDateTime>,
    /// When delivery happened, once reported (the 배송완료 sub-state of 32).
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    /// The buyer's (34) or seller's (36) or operator's (37) cancel reason.
    pub cancel_reason: Option<String>,
    /// The buyer's return request.
    pub return_request: Option<ReturnRequest>,
    /// Where the goods go back to.
    pub return_address: Option<Reason>,
    /// The buyer's return parcel.
    pub return_shipment: Option<Shipment>,
    /// Reminders already sent.
    pub reminders_sent: BTreeSet<Reminder>,
    /// Deadlines and dates the trade waits for.
    pub deadlines: Deadlines,
    /// When the trade was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was paid (for a virtual account: the deposit).
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    /// When the purchase was approved.
    #[serde(with = "time::serde::rfc3339::option")]
    pub approved_at: Option<OffsetDateTime>,
    /// When the return was completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Incremented by every applied command; the sequence of its events and callbacks.
    pub version: i64,
    /// The test clock it lives by (SPEC §16), if its buyer is on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<crate::ids::TestClockId>,
}

/// One recorded change (who, when, from, to, reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeEvent {
    /// The trade.
    pub trade_id: TradeId,
    /// The trade's version after this change: orders the events of one trade.
    pub sequence: i64,
    /// The command's name.
    pub command: String,
    /// Who.
    pub actor: Actor,
    /// The status before (`None` when the trade was opened).
    pub from_status: Option<TradeStatus>,
    /// The status after.
    pub to_status: TradeStatus,
    /// The withdrawal status before.
    pub from_withdrawal: Option<WithdrawalStatus>,
    /// The withdrawal status after.
    pub to_withdrawal: WithdrawalStatus,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A movement of money a transition causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MoneyEffect {
    /// Refund the buyer now, through the PG (or the manual refund queue), recording `withdrawal`.
    Refund {
        /// The amount: always the full payment amount.
        amount: Money,
        /// The withdrawal status the refund records.
        withdrawal: WithdrawalStatus,
    },
    /// A refund is due on `on` (after a return); a job executes it.
    ScheduleRefund {
        /// The amount.
        amount: Money,
        /// The date.
        on: Date,
    },
    /// The seller's payout is due on `on`; a job executes it.
    SchedulePayout {
        /// The seller payout.
        amount: Money,
        /// The payout date.
        on: Date,
    },
    /// The scheduled payout will not be made (an operator cancelled the approved trade before its
    /// payout date).
    CancelPayout {
        /// The seller payout that was scheduled.
        amount: Money,
    },
    /// Instruct the payout to the seller now.
    PayOut {
        /// The seller payout.
        amount: Money,
    },
    /// The payment no longer counts against the seller's limits (not paid, or refunded in full).
    ReleaseSellerLimits {
        /// The amount reserved at checkout.
        amount: Money,
        /// Its method.
        method: PaymentMethod,
    },
}

/// What happens to the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductEffect {
    /// Back to ON_SALE.
    Release,
    /// SOLD.
    MarkSold,
}

/// What an applied command did. Persist all of it in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The trade after the command (its `version` is one more than before).
    pub trade: Trade,
    /// The event to record.
    pub event: TradeEvent,
    /// AlimTalks to send.
    pub notifications: Vec<AlimTalkNotification>,
    /// The partner callbacks to send with the full trade (none for reminders).
    pub callbacks: Vec<CallbackType>,
    /// Money to move or schedule.
    pub money: Vec<MoneyEffect>,
    /// What happens to the product.
    pub product: Option<ProductEffect>,
    /// The trade's pending timers after the command: replace the stored ones with these.
    pub timers: Vec<Timer>,
    /// Whether `timers` differ from the trade's timers before the command (adapters may skip
    /// rewriting them when not).
    pub timers_changed: bool,
}

impl Transition {
    /// The version the trade had before the command (for optimistic locking).
    pub fn previous_version(&self) -> i64 {
        self.trade.version - 1
    }
}

impl Trade {
    /// Opens a trade for an approved payment (→ 31) or an issued virtual account (→ 13).
    pub fn open(
        open: OpenTrade,
        now: OffsetDateTime,
        rules: &TradeRules<'_>,
    ) -> Result<Transition, TransitionError> {
        if open.quote.payment_amount.minor_units() <= 0 {
            return Err(TransitionError::invalid_input(
                "paymentAmount",
                "must be positive",
            ));
        }
        let virtual_account = open.method == PaymentMethod::VirtualAccount;
        let timers = &rules.contract.timers;
        let trade = Trade {
            id: open.id,
            partner_id: open.partner_id,
            checkout_id: open.checkout_id,
            partner_trade_no: open.partner_trade_no,
            buyer_id: open.buyer_id,
            seller_id: open.seller_id,
            product_id: open.product_id,
            product_name: open.product_name,
            trade_type: open.trade_type,
            method: open.method,
            quote: open.quote,
            status: if virtual_account {
                TradeStatus::AwaitingDeposit
            } else {
                TradeStatus::Paid
            },
            withdrawal: WithdrawalStatus::NotPaidOut,
            held: false,
            hold_reason: None,
            shipment_correction_allowed: false,
            deposit_account: open.deposit_account,
            payment_transaction_id: open.payment_transaction_id,
            shipment: None,
            shipped_at: None,
            delivered_at: None,
            cancel_reason: None,
            return_request: None,
            return_address: None,
            return_shipment: None,
            reminders_sent: BTreeSet::new(),
            deadlines: Deadlines {
                deposit_deadline: virtual_account.then(|| {
                    open.deposit_due.unwrap_or_else(|| {
                        now.saturating_add(Duration::hours(i64::from(
                            timers.deposit_deadline_hours,
                        )))
                    })
                }),
                ..Deadlines::default()
            },
            created_at: now,
            paid_at: (!virtual_account).then_some(now),
            approved_at: None,
            returned_at: None,
            updated_at: now,
            version: 1,
            test_clock: open.test_clock,
        };
        let template = if virtual_account {
            AlimTalkTemplate::BuyerDepositAccount
        } else {
            AlimTalkTemplate::SellerShipmentRequest
        };
        let event = TradeEvent {
            trade_id: trade.id,
            sequence: trade.version,
            command: "OPEN".to_owned(),
            actor: Actor::PaymentGateway,
            from_status: None,
            to_status: trade.status,
            from_withdrawal: None,
            to_withdrawal: trade.withdrawal,
            reason: None,
            at: now,
        };
        Ok(Transition {
            notifications: vec![trade.notification(template, None)],
            callbacks: vec![
                CallbackType::PaymentSucceeded,
                CallbackType::TradeStatusChanged,
            ],
            money: Vec::new(),
            product: None,
            timers_changed: !trade.pending_timers(rules).is_empty(),
            timers: trade.pending_timers(rules),
            event,
            trade,
        })
    }

    /// Whether member `member` is the buyer or the seller of this trade.
    pub fn is_party(&self, member: MemberId) -> bool {
        member == self.buyer_id || member == self.seller_id
    }

    /// The actor member `member` is when it gives `command` in `role` (a buyer's or a seller's
    /// request): `NotParticipant` when it is neither party of this trade, `ActorNotAllowed` when it is
    /// the other party, or when `role` is not a member's role.
    pub fn member_actor(
        &self,
        member: MemberId,
        role: ActorRole,
        command: &TradeCommand,
    ) -> Result<Actor, TransitionError> {
        if !self.is_party(member) {
            return Err(TransitionError::NotParticipant);
        }
        match role {
            ActorRole::Buyer if member == self.buyer_id => Ok(Actor::Buyer(member)),
            ActorRole::Seller if member == self.seller_id => Ok(Actor::Seller(member)),
            _ => Err(TransitionError::ActorNotAllowed {
                role,
                command: command.name(),
            }),
        }
    }

    /// The role `actor` plays on this trade, refusing a member or partner that is not part of it.
    fn check_party(&self, actor: &Actor) -> Result<(), TransitionError> {
        let party = match actor {
            Actor::Buyer(id) => *id == self.buyer_id,
            Actor::Seller(id) => *id == self.seller_id,
            Actor::Partner(id) => *id == self.partner_id,
            Actor::Operator(_) | Actor::Batch(_) | Actor::PaymentGateway => true,
        };
        if party {
            Ok(())
        } else {
            Err(TransitionError::NotParticipant)
        }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod tests_support {
    //! Fixtures shared by the domain's tests.
    use super::*;
    use crate::quote::QuoteRequest;
    use time::macros::datetime;

    pub(crate) fn rules_fixture() -> (Contract, BusinessCalendar) {
        (Contract::standard_2022(), BusinessCalendar::korea())
    }

    pub(crate) fn open_trade(
        method: PaymentMethod,
        trade_type: TradeType,
        price: i64,
    ) -> OpenTrade {
        let quote = Contract::standard_2022()
            .quote(
                &QuoteRequest {
                    product_price: Money::krw(price),
                    shipping_fee: Money::krw(3_000),
                    method,
                    trade_type,
                },
                &PaymentMethod::ALL,
            )
            .unwrap();
        OpenTrade {
            id: TradeId::random(),
            partner_id: PartnerId::random(),
            checkout_id: CheckoutId::random(),
            partner_trade_no: Some("P-1".into()),
            buyer_id: MemberId::random(),
            seller_id: MemberId::random(),
            product_id: ProductId::random(),
            product_name: "중고 자전거".into(),
            trade_type,
            method,
            quote,
            deposit_account: (method == PaymentMethod::VirtualAccount)
                .then(|| "국민은행 123-456-789".into()),
            deposit_due: None,
            payment_transaction_id: None,
            test_clock: None,
        }
    }

    /// A card trade paid Thu 2025-03-06 10:00 Seoul, at 31.
    pub(crate) fn paid_trade(contract: &Contract, calendar: &BusinessCalendar) -> Trade {
        Trade::open(
            open_trade(PaymentMethod::Card, TradeType::General, 50_000),
            datetime!(2025-03-06 10:00 +9),
            &TradeRules { contract, calendar },
        )
        .unwrap()
        .trade
    }
}
