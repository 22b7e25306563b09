//! A trade's timers: what a job must do for it and when, derived from its state and the contract's
//! timers (reminders, deposit deadline, automatic approval and cancel agreement, payout, return
//! refund).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{is_terminal, Reminder, Trade, TradeCommand, TradeRules, TradeStatus};
use crate::calendar::{seoul_instant, SEOUL};

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

impl Trade {
    /// When a reminder is due for this trade, if it applies to it at all.
    pub(super) fn reminder_timer(
        &self,
        reminder: Reminder,
        rules: &TradeRules<'_>,
    ) -> Option<Timer> {
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
}
