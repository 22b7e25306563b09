//! How a trade decides a command (SPEC §8): [`Trade::apply`] runs the checks in their order and hands
//! the command to the function of its group — deposit, delivery, cancel, return, money out,
//! oversight — each of which changes the next state and collects its effects; `apply` then builds the
//! [`Transition`].

use time::{OffsetDateTime, Time};

use super::{
    is_terminal, Actor, ActorRole, Deadlines, MoneyEffect, ProductEffect, Reminder, ReturnRequest,
    Trade, TradeCommand, TradeEvent, TradeRules, TradeStatus as S, Transition, TransitionError,
    WithdrawalStatus as W, DELIVERY_CLOCK_SKEW,
};
use crate::calendar::seoul_instant;
use crate::notification::{AlimTalkTemplate, CallbackType};
use crate::settlement::{payout_date, return_refund_date, PayoutBasis};

/// Accumulates a transition's side effects while a command is decided.
#[derive(Default)]
struct Effects {
    notify: Vec<AlimTalkTemplate>,
    money: Vec<MoneyEffect>,
    product: Option<ProductEffect>,
    reason: Option<String>,
}

/// One command being decided: the trade before, the next state and the effects so far.
struct Step<'a, 'r> {
    trade: &'a Trade,
    next: Trade,
    fx: Effects,
    now: OffsetDateTime,
    rules: &'a TradeRules<'r>,
    is_batch: bool,
    invalid: TransitionError,
}

impl Step<'_, '_> {
    /// A job's command whose time is `at`: refused before it (`NotDue`), and when there is none.
    fn due(&self, at: Option<OffsetDateTime>) -> Result<(), TransitionError> {
        match at {
            Some(due) if self.now < due => Err(TransitionError::NotDue { due }),
            Some(_) => Ok(()),
            None => Err(self.invalid.clone()),
        }
    }

    fn batch_time(&self) -> Time {
        self.rules.contract.timers.batch_time_of_day
    }

    /// The whole payment back to the buyer, recorded with `withdrawal`.
    fn full_refund(&self, withdrawal: W) -> MoneyEffect {
        MoneyEffect::Refund {
            amount: self.trade.quote.payment_amount,
            withdrawal,
        }
    }

    /// The payment no longer counts against the seller's limits.
    fn release_limits(&self) -> MoneyEffect {
        MoneyEffect::ReleaseSellerLimits {
            amount: self.trade.quote.payment_amount,
            method: self.trade.method,
        }
    }

    /// A refund that ends the trade: money back, limits and product released.
    fn refund_and_release(&mut self, withdrawal: W) {
        self.fx.money.push(self.full_refund(withdrawal));
        self.fx.money.push(self.release_limits());
        self.fx.product = Some(ProductEffect::Release);
    }

    /// 13 → 31 (the PG confirmed the deposit) or 13 → 14 (cancelled, or the deadline passed).
    fn deposit(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        match (command, self.trade.status) {
            (TradeCommand::ConfirmDeposit, S::AwaitingDeposit) => {
                // A deposit the PG confirms is real money: it is accepted while the trade is still
                // 13, even if the expiry job has not run yet.
                self.next.status = S::Paid;
                self.next.paid_at = Some(self.now);
                self.next.deadlines.deposit_deadline = None;
                self.fx.notify.push(AlimTalkTemplate::SellerShipmentRequest);
            }
            (TradeCommand::CancelDeposit, S::AwaitingDeposit) => {
                if self.is_batch {
                    self.due(self.trade.deadlines.deposit_deadline)?;
                }
                self.next.status = S::DepositCancelled;
                self.next.deadlines.deposit_deadline = None;
                self.fx.money.push(self.release_limits());
                self.fx.product = Some(ProductEffect::Release);
            }
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// 31 → 32 (shipped), the delivery report, 32 → 33 (approved, payout scheduled).
    fn delivery(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        let (trade, now) = (self.trade, self.now);
        let (contract, calendar) = (self.rules.contract, self.rules.calendar);
        match (command, trade.status) {
            (TradeCommand::RegisterShipment(shipment), S::Paid) => {
                self.next.status = S::Shipping;
                self.next.shipment = Some(shipment);
                self.next.shipped_at = Some(now);
                self.fx.notify.push(AlimTalkTemplate::BuyerShipmentNotice);
            }
            (TradeCommand::RegisterShipment(shipment), S::Shipping)
                if trade.held && trade.shipment_correction_allowed =>
            {
                self.next.shipment = Some(shipment);
                self.next.shipment_correction_allowed = false;
                self.fx.notify.push(AlimTalkTemplate::BuyerShipmentNotice);
            }
            (TradeCommand::ReportDelivery { delivered_at }, S::Shipping)
                if trade.delivered_at.is_none() =>
            {
                if delivered_at > now + DELIVERY_CLOCK_SKEW {
                    return Err(TransitionError::invalid_input(
                        "deliveredAt",
                        "must not be in the future",
                    ));
                }
                // A delivery before the parcel left would skip the buyer's inspection window.
                let shipped = trade
                    .shipped_at
                    .or(trade.paid_at)
                    .unwrap_or(trade.created_at);
                if delivered_at + DELIVERY_CLOCK_SKEW < shipped {
                    return Err(TransitionError::invalid_input(
                        "deliveredAt",
                        "must not be before the shipment was registered",
                    ));
                }
                self.next.delivered_at = Some(delivered_at);
                let approval_date = calendar.add_business_days(
                    calendar.business_date_of(delivered_at),
                    contract.timers.auto_approval_business_days,
                );
                self.next.deadlines.auto_approval_at =
                    Some(seoul_instant(approval_date, self.batch_time()));
            }
            (TradeCommand::ApprovePurchase, S::Shipping) => {
                if self.is_batch {
                    self.due(trade.deadlines.auto_approval_at)?;
                }
                let on = payout_date(
                    contract,
                    calendar,
                    &PayoutBasis {
                        trade_type: trade.trade_type,
                        method: trade.method,
                        payment_amount: trade.quote.payment_amount,
                        paid_at: trade.paid_at.unwrap_or(trade.created_at),
                        approved_at: now,
                    },
                );
                self.next.status = S::Completed;
                self.next.approved_at = Some(now);
                self.next.deadlines.auto_approval_at = None;
                self.next.deadlines.payout_date = Some(on);
                self.fx.money.push(MoneyEffect::SchedulePayout {
                    amount: trade.quote.seller_payout,
                    on,
                });
                self.fx.product = Some(ProductEffect::MarkSold);
                self.fx
                    .notify
                    .push(AlimTalkTemplate::SellerPurchaseApproved);
            }
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// 31 → 34 → 35 (the buyer's cancel), 31 → 36 (the seller's), → 37 (an operator's).
    fn cancel(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        let calendar = self.rules.calendar;
        match (command, self.trade.status) {
            (TradeCommand::RequestCancel { reason }, S::Paid) => {
                let agree_date = calendar.add_business_days(
                    calendar.business_date_of(self.now),
                    self.rules
                        .contract
                        .timers
                        .auto_cancel_agreement_business_days,
                );
                self.next.status = S::CancelRequested;
                self.next.cancel_reason = Some(reason.as_str().to_owned());
                self.next.deadlines.auto_cancel_agreement_at =
                    Some(seoul_instant(agree_date, self.batch_time()));
                self.fx.reason = Some(reason.as_str().to_owned());
                self.fx.notify.push(AlimTalkTemplate::SellerCancelRequest);
            }
            (TradeCommand::AgreeCancel, S::CancelRequested) => {
                if self.is_batch {
                    self.due(self.trade.deadlines.auto_cancel_agreement_at)?;
                }
                self.next.status = S::CancelledByBuyer;
                self.next.withdrawal = W::BuyerCancelRefunded;
                self.next.deadlines.auto_cancel_agreement_at = None;
                self.refund_and_release(W::BuyerCancelRefunded);
                self.fx.notify.push(AlimTalkTemplate::BuyerCancelAgreed);
            }
            (TradeCommand::CancelSale { reason }, S::Paid) => {
                self.next.status = S::CancelledBySeller;
                self.next.withdrawal = W::SellerCancelRefunded;
                self.next.cancel_reason = Some(reason.text());
                self.fx.reason = Some(format!("{}: {}", reason.code, reason.text()));
                self.refund_and_release(W::SellerCancelRefunded);
                self.fx.notify.push(AlimTalkTemplate::BuyerSaleCancelled);
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
                // 33 only before the payout (33/83 is terminal and refused before).
                if self.trade.status == S::Completed {
                    self.fx.money.push(MoneyEffect::CancelPayout {
                        amount: self.trade.quote.seller_payout,
                    });
                }
                self.next.status = S::CancelledByOperator;
                self.next.withdrawal = W::OperatorCancelRefunded;
                self.next.cancel_reason = Some(reason.as_str().to_owned());
                self.next.deadlines = Deadlines::default();
                self.fx.reason = Some(reason.as_str().to_owned());
                self.refund_and_release(W::OperatorCancelRefunded);
            }
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// 32 → 51 → 52 → 53 → 54 (a return, its refund scheduled).
    fn returns(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        match (command, self.trade.status) {
            (
                TradeCommand::RequestReturn {
                    reason,
                    shipping_payer,
                },
                S::Shipping,
            ) => {
                self.next.status = S::ReturnRequested;
                self.next.deadlines.auto_approval_at = None;
                self.fx.reason = Some(reason.as_str().to_owned());
                self.next.return_request = Some(ReturnRequest {
                    reason,
                    shipping_payer,
                });
                self.fx
                    .notify
                    .push(AlimTalkTemplate::SellerReturnAgreementRequest);
            }
            (TradeCommand::AgreeReturn { return_address }, S::ReturnRequested) => {
                self.next.status = S::ReturnAgreed;
                self.next.return_address = Some(return_address);
                self.fx
                    .notify
                    .push(AlimTalkTemplate::BuyerReturnShipmentRequest);
            }
            (TradeCommand::RegisterReturnShipment(shipment), S::ReturnAgreed) => {
                self.next.status = S::ReturnShipping;
                self.next.return_shipment = Some(shipment);
                self.fx
                    .notify
                    .push(AlimTalkTemplate::SellerReturnShipmentStarted);
            }
            (TradeCommand::ConfirmReturnReceipt, S::ReturnShipping) => {
                let on = return_refund_date(self.rules.contract, self.rules.calendar, self.now);
                self.next.status = S::Returned;
                self.next.returned_at = Some(self.now);
                self.next.deadlines.refund_date = Some(on);
                self.fx.money.push(MoneyEffect::ScheduleRefund {
                    amount: self.trade.quote.payment_amount,
                    on,
                });
                self.fx.notify.push(AlimTalkTemplate::BuyerReturnCompleted);
            }
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// 33/80 → 33/83 (paid out) and 54/80 → 54/84 (the return refunded), each on its date.
    fn money_out(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        let deadlines = &self.trade.deadlines;
        let batch_time = self.batch_time();
        match (command, self.trade.status) {
            (TradeCommand::PayOut, S::Completed) => {
                self.due(deadlines.payout_date.map(|d| seoul_instant(d, batch_time)))?;
                self.next.withdrawal = W::PaidOut;
                self.fx.money.push(MoneyEffect::PayOut {
                    amount: self.trade.quote.seller_payout,
                });
            }
            (TradeCommand::RefundReturn, S::Returned) => {
                self.due(deadlines.refund_date.map(|d| seoul_instant(d, batch_time)))?;
                self.next.withdrawal = W::ReturnRefunded;
                self.refund_and_release(W::ReturnRefunded);
            }
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// An operator's hold and release, and the reminders jobs send.
    fn oversight(&mut self, command: TradeCommand) -> Result<(), TransitionError> {
        let trade = self.trade;
        match command {
            TradeCommand::Hold { reason } => {
                if trade.held {
                    return Err(TransitionError::AlreadyHeld);
                }
                self.next.held = true;
                self.fx.reason = Some(reason.as_str().to_owned());
                self.next.hold_reason = Some(reason);
                // The correction request only makes sense once there is shipping info to correct.
                if trade.status == S::Shipping {
                    self.next.shipment_correction_allowed = true;
                    self.fx
                        .notify
                        .push(AlimTalkTemplate::SellerShippingInfoCorrection);
                }
            }
            TradeCommand::Release => {
                if !trade.held {
                    return Err(TransitionError::NotHeld);
                }
                self.next.held = false;
                self.next.hold_reason = None;
                self.next.shipment_correction_allowed = false;
            }
            TradeCommand::Remind(reminder) => {
                let timer = trade
                    .reminder_timer(reminder, self.rules)
                    .filter(|_| match reminder {
                        Reminder::DepositClosing => trade.status == S::AwaitingDeposit,
                        _ => trade.status == S::Shipping,
                    })
                    .ok_or(self.invalid.clone())?;
                if trade.reminders_sent.contains(&reminder) {
                    return Err(TransitionError::ReminderAlreadySent);
                }
                self.due(Some(timer.due))?;
                self.next.reminders_sent.insert(reminder);
                self.fx.notify.push(match reminder {
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
            _ => return Err(self.invalid.clone()),
        }
        Ok(())
    }

    /// The transition the decided command makes: the next version, its event, notifications,
    /// callback, money and product effects and the timers it leaves.
    fn finish(mut self, name: &'static str, actor: &Actor) -> Transition {
        let (trade, now) = (self.trade, self.now);
        self.next.version = trade.version + 1;
        self.next.updated_at = now;
        let next = self.next;
        let status_changed = next.status != trade.status || next.withdrawal != trade.withdrawal;
        let callback = if status_changed {
            Some(CallbackType::TradeStatusChanged)
        } else if name == "REMIND" {
            None
        } else {
            Some(CallbackType::TradeUpdated)
        };
        let event = TradeEvent {
            trade_id: trade.id,
            sequence: next.version,
            command: name.to_owned(),
            actor: actor.clone(),
            from_status: Some(trade.status),
            to_status: next.status,
            from_withdrawal: Some(trade.withdrawal),
            to_withdrawal: next.withdrawal,
            reason: self.fx.reason.clone(),
            at: now,
        };
        let notifications = self
            .fx
            .notify
            .iter()
            .map(|t| next.notification(*t, self.fx.reason.as_deref()))
            .collect();
        let timers = next.pending_timers(self.rules);
        let payout_scheduled = self
            .fx
            .money
            .iter()
            .any(|m| matches!(m, MoneyEffect::SchedulePayout { .. }))
            .then_some(CallbackType::TradePayoutScheduled);
        Transition {
            notifications,
            callbacks: callback.into_iter().chain(payout_scheduled).collect(),
            money: self.fx.money,
            product: self.fx.product,
            timers_changed: timers != trade.pending_timers(self.rules),
            timers,
            event,
            trade: next,
        }
    }
}

impl Trade {
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
        // At 13 nothing is paid yet, so the buyer's cancel and the operator's cancel are the deposit
        // cancel (13 → 14, SPEC §8): there is no money to refund, only the reservation to release.
        let command = match (command, self.status) {
            (
                TradeCommand::RequestCancel { .. } | TradeCommand::CancelByOperator { .. },
                S::AwaitingDeposit,
            ) => TradeCommand::CancelDeposit,
            (command, _) => command,
        };
        let mut step = Step {
            trade: self,
            next: self.clone(),
            fx: Effects::default(),
            now,
            rules,
            is_batch: role == ActorRole::Batch,
            invalid,
        };
        match command {
            TradeCommand::ConfirmDeposit | TradeCommand::CancelDeposit => step.deposit(command),
            TradeCommand::RegisterShipment(_)
            | TradeCommand::ReportDelivery { .. }
            | TradeCommand::ApprovePurchase => step.delivery(command),
            TradeCommand::RequestCancel { .. }
            | TradeCommand::AgreeCancel
            | TradeCommand::CancelSale { .. }
            | TradeCommand::CancelByOperator { .. } => step.cancel(command),
            TradeCommand::RequestReturn { .. }
            | TradeCommand::AgreeReturn { .. }
            | TradeCommand::RegisterReturnShipment(_)
            | TradeCommand::ConfirmReturnReceipt => step.returns(command),
            TradeCommand::PayOut | TradeCommand::RefundReturn => step.money_out(command),
            TradeCommand::Hold { .. } | TradeCommand::Release | TradeCommand::Remind(_) => {
                step.oversight(command)
            }
        }?;
        Ok(step.finish(name, actor))
    }
}
