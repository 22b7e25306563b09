//! The trade (거래): its state, and the one function that changes it, [`Trade::apply`].
//!
//! `apply` either refuses with a typed [`TransitionError`] naming the current status, or returns a
//! [`Transition`]: the new trade, the event to record, the AlimTalk notifications, the partner
//! callback, the money and product effects, and the trade's pending timers. Services persist that
//! result in one transaction; they never re-derive a rule.

mod command;
mod status;

pub use command::{
    Actor, ActorRole, Reason, Reminder, ReturnShippingPayer, SaleCancelReason, Shipment,
    TradeCommand,
};
pub use status::{is_terminal, TradeStatus, WithdrawalStatus};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::calendar::{seoul_instant, BusinessCalendar, SEOUL};
use crate::contract::{Contract, PaymentMethod, TradeType};
use crate::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use crate::money::{Currency, Money};
use crate::notification::{AlimTalkNotification, AlimTalkTemplate, CallbackType};
use crate::quote::Quote;
use crate::settlement::{payout_date, return_refund_date, PayoutBasis};

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
    /// The PG transaction that paid (refunds go to it; any other transaction of the checkout that
    /// captures money is a late confirmation and refunded).
    pub payment_transaction_id: Option<String>,
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

/// Something a job must do for a trade at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimerKind {
    /// Send 입금종료 안내.
    DepositReminder,
    /// Cancel the unpaid virtual account (13 → 14).
    DepositDeadline,
    /// Send 구매승인 요청(배송완료).
    DeliveredApprovalRequest,
    /// Send an approval reminder.
    ApprovalReminder {
        /// Business days before the automatic approval.
        business_days_before: u32,
    },
    /// Approve the purchase (32 → 33).
    AutoApproval,
    /// Agree the cancel (34 → 35).
    AutoCancelAgreement,
    /// Pay the seller out (33/80 → 33/83).
    Payout,
    /// Refund the return (54/80 → 54/84).
    ReturnRefund,
}

impl TimerKind {
    /// The command a job gives when the timer is due.
    pub fn command(self) -> TradeCommand {
        match self {
            TimerKind::DepositReminder => TradeCommand::Remind(Reminder::DepositClosing),
            TimerKind::DepositDeadline => TradeCommand::CancelDeposit,
            TimerKind::DeliveredApprovalRequest => {
                TradeCommand::Remind(Reminder::DeliveredApprovalRequest)
            }
            TimerKind::ApprovalReminder {
                business_days_before,
            } => TradeCommand::Remind(Reminder::ApprovalReminder {
                business_days_before,
            }),
            TimerKind::AutoApproval => TradeCommand::ApprovePurchase,
            TimerKind::AutoCancelAgreement => TradeCommand::AgreeCancel,
            TimerKind::Payout => TradeCommand::PayOut,
            TimerKind::ReturnRefund => TradeCommand::RefundReturn,
        }
    }
}

/// A pending timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timer {
    /// What to do.
    pub kind: TimerKind,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
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

fn format_amount(m: Money) -> String {
    match m.currency() {
        Currency::Krw => {
            let digits = m.minor_units().unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            let sign = if m.is_negative() { "-" } else { "" };
            format!("{sign}{out}원")
        }
        Currency::Usd => m.to_string(),
    }
}

fn format_seoul(t: OffsetDateTime) -> String {
    let t = t.to_offset(SEOUL);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// Accumulates a transition's side effects while `apply` decides.
#[derive(Default)]
struct Effects {
    notify: Vec<AlimTalkTemplate>,
    money: Vec<MoneyEffect>,
    product: Option<ProductEffect>,
    reason: Option<String>,
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
                    now.saturating_add(Duration::hours(i64::from(timers.deposit_deadline_hours)))
                }),
                ..Deadlines::default()
            },
            created_at: now,
            paid_at: (!virtual_account).then_some(now),
            approved_at: None,
            returned_at: None,
            updated_at: now,
            version: 1,
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

    /// Decides `command` by `actor` at `now`: the new state and everything it causes, or why not.
    ///
    /// Checks, in order: the actor is a party to the trade; its role may give the command; the trade
    /// is not finished; a job does not touch a held trade; the command applies in this status; a
    /// job's time has come.
    pub fn apply(
        &self,
        command: TradeCommand,
        actor: &Actor,
        now: OffsetDateTime,
        rules: &TradeRules<'_>,
    ) -> Result<Transition, TransitionError> {
        use TradeStatus as S;
        use WithdrawalStatus as W;

        self.check_party(actor)?;
        let name = command.name();
        let role = actor.role();
        if !command.allowed_roles().contains(&role) {
            return Err(TransitionError::ActorNotAllowed {
                role,
                command: name,
            });
        }
        let invalid = TransitionError::InvalidTransition {
            status: self.status,
            withdrawal: self.withdrawal,
            command: name,
        };
        if is_terminal(self.status, self.withdrawal) {
            return Err(invalid);
        }
        if role == ActorRole::Batch && self.held {
            return Err(TransitionError::OnHold);
        }
        let is_batch = role == ActorRole::Batch;
        let due = |at: Option<OffsetDateTime>| -> Result<(), TransitionError> {
            match at {
                Some(due) if now < due => Err(TransitionError::NotDue { due }),
                Some(_) => Ok(()),
                None => Err(invalid.clone()),
            }
        };
        let contract = rules.contract;
        let calendar = rules.calendar;
        let batch_time = contract.timers.batch_time_of_day;
        let full_refund = |withdrawal| MoneyEffect::Refund {
            amount: self.quote.payment_amount,
            withdrawal,
        };
        let release_limits = MoneyEffect::ReleaseSellerLimits {
            amount: self.quote.payment_amount,
            method: self.method,
        };

        // At 13 nothing is paid yet, so the buyer's cancel and the operator's cancel are the deposit
        // cancel (13 → 14, SPEC §8): there is no money to refund, only the reservation to release.
        let command = match (command, self.status) {
            (
                TradeCommand::RequestCancel { .. } | TradeCommand::CancelByOperator { .. },
                S::AwaitingDeposit,
            ) => TradeCommand::CancelDeposit,
            (command, _) => command,
        };
        let mut next = self.clone();
        let mut fx = Effects::default();
        match (command, self.status) {
            (TradeCommand::ConfirmDeposit, S::AwaitingDeposit) => {
                // A deposit the PG confirms is real money: it is accepted while the trade is still
                // 13, even if the expiry job has not run yet.
                next.status = S::Paid;
                next.paid_at = Some(now);
                next.deadlines.deposit_deadline = None;
                fx.notify.push(AlimTalkTemplate::SellerShipmentRequest);
            }
            (TradeCommand::CancelDeposit, S::AwaitingDeposit) => {
                if is_batch {
                    due(self.deadlines.deposit_deadline)?;
                }
                next.status = S::DepositCancelled;
                next.deadlines.deposit_deadline = None;
                fx.money.push(release_limits);
                fx.product = Some(ProductEffect::Release);
            }
            (TradeCommand::RegisterShipment(shipment), S::Paid) => {
                next.status = S::Shipping;
                next.shipment = Some(shipment);
                next.shipped_at = Some(now);
                fx.notify.push(AlimTalkTemplate::BuyerShipmentNotice);
            }
            (TradeCommand::RegisterShipment(shipment), S::Shipping)
                if self.held && self.shipment_correction_allowed =>
            {
                next.shipment = Some(shipment);
                next.shipment_correction_allowed = false;
                fx.notify.push(AlimTalkTemplate::BuyerShipmentNotice);
            }
            (TradeCommand::ReportDelivery { delivered_at }, S::Shipping)
                if self.delivered_at.is_none() =>
            {
                if delivered_at > now + DELIVERY_CLOCK_SKEW {
                    return Err(TransitionError::invalid_input(
                        "deliveredAt",
                        "must not be in the future",
                    ));
                }
                // A delivery before the parcel left would skip the buyer's inspection window.
                let shipped = self.shipped_at.or(self.paid_at).unwrap_or(self.created_at);
                if delivered_at + DELIVERY_CLOCK_SKEW < shipped {
                    return Err(TransitionError::invalid_input(
                        "deliveredAt",
                        "must not be before the shipment was registered",
                    ));
                }
                next.delivered_at = Some(delivered_at);
                let approval_date = calendar.add_business_days(
                    calendar.business_date_of(delivered_at),
                    contract.timers.auto_approval_business_days,
                );
                next.deadlines.auto_approval_at = Some(seoul_instant(approval_date, batch_time));
            }
            (TradeCommand::ApprovePurchase, S::Shipping) => {
                if is_batch {
                    due(self.deadlines.auto_approval_at)?;
                }
                let paid_at = self.paid_at.unwrap_or(self.created_at);
                let on = payout_date(
                    contract,
                    calendar,
                    &PayoutBasis {
                        trade_type: self.trade_type,
                        method: self.method,
                        payment_amount: self.quote.payment_amount,
                        paid_at,
                        approved_at: now,
                    },
                );
                next.status = S::Completed;
                next.approved_at = Some(now);
                next.deadlines.auto_approval_at = None;
                next.deadlines.payout_date = Some(on);
                fx.money.push(MoneyEffect::SchedulePayout {
                    amount: self.quote.seller_payout,
                    on,
                });
                fx.product = Some(ProductEffect::MarkSold);
                fx.notify.push(AlimTalkTemplate::SellerPurchaseApproved);
            }
            (TradeCommand::RequestCancel { reason }, S::Paid) => {
                let agree_date = calendar.add_business_days(
                    calendar.business_date_of(now),
                    contract.timers.auto_cancel_agreement_business_days,
                );
                next.status = S::CancelRequested;
                next.cancel_reason = Some(reason.as_str().to_owned());
                next.deadlines.auto_cancel_agreement_at =
                    Some(seoul_instant(agree_date, batch_time));
                fx.reason = Some(reason.as_str().to_owned());
                fx.notify.push(AlimTalkTemplate::SellerCancelRequest);
            }
            (TradeCommand::AgreeCancel, S::CancelRequested) => {
                if is_batch {
                    due(self.deadlines.auto_cancel_agreement_at)?;
                }
                next.status = S::CancelledByBuyer;
                next.withdrawal = W::BuyerCancelRefunded;
                next.deadlines.auto_cancel_agreement_at = None;
                fx.money.push(full_refund(W::BuyerCancelRefunded));
                fx.money.push(release_limits);
                fx.product = Some(ProductEffect::Release);
                fx.notify.push(AlimTalkTemplate::BuyerCancelAgreed);
            }
            (TradeCommand::CancelSale { reason }, S::Paid) => {
                next.status = S::CancelledBySeller;
                next.withdrawal = W::SellerCancelRefunded;
                next.cancel_reason = Some(reason.text());
                fx.reason = Some(format!("{}: {}", reason.code, reason.text()));
                fx.money.push(full_refund(W::SellerCancelRefunded));
                fx.money.push(release_limits);
                fx.product = Some(ProductEffect::Release);
                fx.notify.push(AlimTalkTemplate::BuyerSaleCancelled);
            }
            (
                TradeCommand::CancelByOperator { reason },
                S::Paid
                | S::Shipping
                | S::Completed
                | S::ReturnRequested
                | S::ReturnAgreed
                | S::ReturnShipping,
            ) => {
                // 33 only before the payout (33/83 is terminal and refused above).
                next.status = S::CancelledByOperator;
                next.withdrawal = W::OperatorCancelRefunded;
                next.cancel_reason = Some(reason.as_str().to_owned());
                next.deadlines = Deadlines::default();
                fx.reason = Some(reason.as_str().to_owned());
                fx.money.push(full_refund(W::OperatorCancelRefunded));
                fx.money.push(release_limits);
                fx.product = Some(ProductEffect::Release);
            }
            (
                TradeCommand::RequestReturn {
                    reason,
                    shipping_payer,
                },
                S::Shipping,
            ) => {
                next.status = S::ReturnRequested;
                next.deadlines.auto_approval_at = None;
                fx.reason = Some(reason.as_str().to_owned());
                next.return_request = Some(ReturnRequest {
                    reason,
                    shipping_payer,
                });
                fx.notify
                    .push(AlimTalkTemplate::SellerReturnAgreementRequest);
            }
            (TradeCommand::AgreeReturn { return_address }, S::ReturnRequested) => {
                next.status = S::ReturnAgreed;
                next.return_address = Some(return_address);
                fx.notify.push(AlimTalkTemplate::BuyerReturnShipmentRequest);
            }
            (TradeCommand::RegisterReturnShipment(shipment), S::ReturnAgreed) => {
                next.status = S::ReturnShipping;
                next.return_shipment = Some(shipment);
                fx.notify
                    .push(AlimTalkTemplate::SellerReturnShipmentStarted);
            }
            (TradeCommand::ConfirmReturnReceipt, S::ReturnShipping) => {
                let on = return_refund_date(contract, calendar, now);
                next.status = S::Returned;
                next.returned_at = Some(now);
                next.deadlines.refund_date = Some(on);
                fx.money.push(MoneyEffect::ScheduleRefund {
                    amount: self.quote.payment_amount,
                    on,
                });
                fx.notify.push(AlimTalkTemplate::BuyerReturnCompleted);
            }
            (TradeCommand::PayOut, S::Completed) => {
                due(self
                    .deadlines
                    .payout_date
                    .map(|d| seoul_instant(d, batch_time)))?;
                next.withdrawal = W::PaidOut;
                fx.money.push(MoneyEffect::PayOut {
                    amount: self.quote.seller_payout,
                });
            }
            (TradeCommand::RefundReturn, S::Returned) => {
                due(self
                    .deadlines
                    .refund_date
                    .map(|d| seoul_instant(d, batch_time)))?;
                next.withdrawal = W::ReturnRefunded;
                fx.money.push(full_refund(W::ReturnRefunded));
                fx.money.push(release_limits);
                fx.product = Some(ProductEffect::Release);
            }
            (TradeCommand::Hold { reason }, _) => {
                if self.held {
                    return Err(TransitionError::AlreadyHeld);
                }
                next.held = true;
                fx.reason = Some(reason.as_str().to_owned());
                next.hold_reason = Some(reason);
                // The correction request only makes sense once there is shipping info to correct.
                if self.status == S::Shipping {
                    next.shipment_correction_allowed = true;
                    fx.notify
                        .push(AlimTalkTemplate::SellerShippingInfoCorrection);
                }
            }
            (TradeCommand::Release, _) => {
                if !self.held {
                    return Err(TransitionError::NotHeld);
                }
                next.held = false;
                next.hold_reason = None;
                next.shipment_correction_allowed = false;
            }
            (TradeCommand::Remind(reminder), status) => {
                let timer = self
                    .reminder_timer(reminder, rules)
                    .filter(|_| match reminder {
                        Reminder::DepositClosing => status == S::AwaitingDeposit,
                        _ => status == S::Shipping,
                    })
                    .ok_or(invalid.clone())?;
                if self.reminders_sent.contains(&reminder) {
                    return Err(TransitionError::ReminderAlreadySent);
                }
                due(Some(timer.due))?;
                next.reminders_sent.insert(reminder);
                fx.notify.push(match reminder {
                    Reminder::DepositClosing => AlimTalkTemplate::BuyerDepositClosing,
                    Reminder::DeliveredApprovalRequest => {
                        AlimTalkTemplate::BuyerApprovalRequestDelivered
                    }
                    Reminder::ApprovalReminder {
                        business_days_before: 1,
                    } => AlimTalkTemplate::BuyerApprovalReminder,
                    Reminder::ApprovalReminder { .. } => AlimTalkTemplate::BuyerApprovalRequest,
                });
            }
            _ => return Err(invalid),
        }

        next.version = self.version + 1;
        next.updated_at = now;
        let status_changed = next.status != self.status || next.withdrawal != self.withdrawal;
        let callback = if status_changed {
            Some(CallbackType::TradeStatusChanged)
        } else if name == "REMIND" {
            None
        } else {
            Some(CallbackType::TradeUpdated)
        };
        let event = TradeEvent {
            trade_id: self.id,
            sequence: next.version,
            command: name.to_owned(),
            actor: actor.clone(),
            from_status: Some(self.status),
            to_status: next.status,
            from_withdrawal: Some(self.withdrawal),
            to_withdrawal: next.withdrawal,
            reason: fx.reason.clone(),
            at: now,
        };
        let notifications = fx
            .notify
            .iter()
            .map(|t| next.notification(*t, fx.reason.as_deref()))
            .collect();
        Ok(Transition {
            notifications,
            callbacks: callback.into_iter().collect(),
            money: fx.money,
            product: fx.product,
            timers_changed: next.pending_timers(rules) != self.pending_timers(rules),
            timers: next.pending_timers(rules),
            event,
            trade: next,
        })
    }

    /// When a reminder is due for this trade, if it applies to it at all.
    fn reminder_timer(&self, reminder: Reminder, rules: &TradeRules<'_>) -> Option<Timer> {
        let timers = &rules.contract.timers;
        match reminder {
            Reminder::DepositClosing => self.deadlines.deposit_deadline.map(|_| Timer {
                kind: TimerKind::DepositReminder,
                due: self
                    .created_at
                    .saturating_add(Duration::hours(i64::from(timers.deposit_reminder_hours))),
            }),
            // Due as soon as delivery is known: sent the same day.
            Reminder::DeliveredApprovalRequest => self.delivered_at.map(|due| Timer {
                kind: TimerKind::DeliveredApprovalRequest,
                due,
            }),
            Reminder::ApprovalReminder {
                business_days_before,
            } => {
                if !timers
                    .approval_reminder_business_days
                    .contains(&business_days_before)
                {
                    return None;
                }
                let approval = self.deadlines.auto_approval_at?;
                let date = rules
                    .calendar
                    .sub_business_days(approval.to_offset(SEOUL).date(), business_days_before);
                Some(Timer {
                    kind: TimerKind::ApprovalReminder {
                        business_days_before,
                    },
                    due: seoul_instant(date, timers.batch_time_of_day),
                })
            }
        }
    }

    /// The timers this trade waits for, derived from its state (sent reminders excluded).
    pub fn pending_timers(&self, rules: &TradeRules<'_>) -> Vec<Timer> {
        let batch_time = rules.contract.timers.batch_time_of_day;
        let mut timers = Vec::new();
        let remind = |reminder: Reminder, timers: &mut Vec<Timer>| {
            if !self.reminders_sent.contains(&reminder) {
                timers.extend(self.reminder_timer(reminder, rules));
            }
        };
        if is_terminal(self.status, self.withdrawal) {
            return timers;
        }
        match self.status {
            TradeStatus::AwaitingDeposit => {
                remind(Reminder::DepositClosing, &mut timers);
                if let Some(due) = self.deadlines.deposit_deadline {
                    timers.push(Timer {
                        kind: TimerKind::DepositDeadline,
                        due,
                    });
                }
            }
            TradeStatus::Shipping => {
                if self.delivered_at.is_some() {
                    remind(Reminder::DeliveredApprovalRequest, &mut timers);
                    for days in &rules.contract.timers.approval_reminder_business_days {
                        remind(
                            Reminder::ApprovalReminder {
                                business_days_before: *days,
                            },
                            &mut timers,
                        );
                    }
                }
                if let Some(due) = self.deadlines.auto_approval_at {
                    timers.push(Timer {
                        kind: TimerKind::AutoApproval,
                        due,
                    });
                }
            }
            TradeStatus::CancelRequested => {
                if let Some(due) = self.deadlines.auto_cancel_agreement_at {
                    timers.push(Timer {
                        kind: TimerKind::AutoCancelAgreement,
                        due,
                    });
                }
            }
            TradeStatus::Completed => {
                if let Some(date) = self.deadlines.payout_date {
                    timers.push(Timer {
                        kind: TimerKind::Payout,
                        due: seoul_instant(date, batch_time),
                    });
                }
            }
            TradeStatus::Returned => {
                if let Some(date) = self.deadlines.refund_date {
                    timers.push(Timer {
                        kind: TimerKind::ReturnRefund,
                        due: seoul_instant(date, batch_time),
                    });
                }
            }
            _ => {}
        }
        timers.sort_by_key(|t| t.due);
        timers
    }

    /// Builds `template`'s notification, filling exactly the variables the template declares.
    fn notification(
        &self,
        template: AlimTalkTemplate,
        reason: Option<&str>,
    ) -> AlimTalkNotification {
        let spec = template.spec();
        let shipment = match template {
            AlimTalkTemplate::SellerReturnShipmentStarted => self.return_shipment.as_ref(),
            _ => self.shipment.as_ref(),
        };
        let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let variables = spec
            .variables
            .iter()
            .map(|name| {
                let value = match *name {
                    "tradeId" => self.id.to_string(),
                    "partnerTradeNo" => self.partner_trade_no.clone().unwrap_or_default(),
                    "productName" => self.product_name.clone(),
                    "paymentAmount" => format_amount(self.quote.payment_amount),
                    "sellerPayout" => format_amount(self.quote.seller_payout),
                    "payoutDate" => date(self.deadlines.payout_date),
                    "refundDate" => date(self.deadlines.refund_date),
                    "depositAccount" => self.deposit_account.clone().unwrap_or_default(),
                    "depositDeadline" => self
                        .deadlines
                        .deposit_deadline
                        .map(format_seoul)
                        .unwrap_or_default(),
                    "courierName" => shipment
                        .map(|s| s.courier_name().to_owned())
                        .unwrap_or_default(),
                    "invoiceNumber" => shipment
                        .map(|s| s.invoice_number.clone())
                        .unwrap_or_default(),
                    "autoApprovalDate" => self
                        .deadlines
                        .auto_approval_at
                        .map(|t| t.to_offset(SEOUL).date().to_string())
                        .unwrap_or_default(),
                    "returnAddress" => self
                        .return_address
                        .as_ref()
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                    "reason" => reason
                        .map(str::to_owned)
                        .or_else(|| self.hold_reason.as_ref().map(|r| r.as_str().to_owned()))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                ((*name).to_owned(), value)
            })
            .collect::<BTreeMap<_, _>>();
        AlimTalkNotification {
            template,
            recipient: spec.recipient,
            variables,
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
            payment_transaction_id: None,
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
