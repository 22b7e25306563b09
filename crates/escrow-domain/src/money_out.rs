//! The lifecycles of money leaving escrow: refunds to buyers and payouts to sellers, each a status with
//! its stored code and one function that says whether a change is allowed (the model is cashubtc/cdk's
//! `state.rs`: typed errors, a test per edge). Adapters store these codes; they decide nothing.

use serde::{Deserialize, Serialize};

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Due on a later date (a return is refunded the business day after it completes).
    Scheduled,
    /// Due now: the refund job will send it.
    Pending,
    /// The PG is being asked (a row left here by a crash is for an operator to check).
    Refunding,
    /// The PG refunded.
    Done,
    /// An operator refunds by hand (the PG has no refund call, or refused).
    ManualQueue,
}

/// Where a payout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PayoutStatus {
    /// Fixed at purchase approval, due on the payout date.
    Scheduled,
    /// The payout date came: the payout job will instruct it.
    Due,
    /// Handed to the payout instructor.
    Instructing,
    /// Instructed (in the bank transfer file).
    Instructed,
    /// The trade was cancelled by an operator before its payout date; the buyer is refunded instead.
    Cancelled,
}

/// A refund or payout status change that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyOutError {
    /// The refund is finished (done, or handed to operators): it never moves again by itself.
    #[error("the refund is already {0:?}")]
    RefundFinished(RefundStatus),
    /// Not a step of the refund lifecycle.
    #[error("a refund cannot go from {0:?} to {1:?}")]
    RefundTransition(RefundStatus, RefundStatus),
    /// The payout was instructed already: never twice.
    #[error("the payout was instructed already")]
    PayoutInstructed,
    /// Not a step of the payout lifecycle.
    #[error("a payout cannot go from {0:?} to {1:?}")]
    PayoutTransition(PayoutStatus, PayoutStatus),
}

impl RefundStatus {
    /// Every status.
    pub const ALL: [RefundStatus; 5] = [
        RefundStatus::Scheduled,
        RefundStatus::Pending,
        RefundStatus::Refunding,
        RefundStatus::Done,
        RefundStatus::ManualQueue,
    ];

    /// The statuses an operator sees in the refund queue (not finished by the PG).
    pub const OPERATOR_QUEUE: [RefundStatus; 3] = [
        RefundStatus::Pending,
        RefundStatus::Refunding,
        RefundStatus::ManualQueue,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            RefundStatus::Scheduled => "SCHEDULED",
            RefundStatus::Pending => "PENDING",
            RefundStatus::Refunding => "REFUNDING",
            RefundStatus::Done => "DONE",
            RefundStatus::ManualQueue => "MANUAL_QUEUE",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the refund may go from `self` to `to`: scheduled → pending (the date came), pending →
    /// refunding (claimed), refunding → done, manual queue, or back to pending (PG unavailable), and
    /// manual queue → done (an operator refunded it by hand and says so).
    pub fn check(self, to: RefundStatus) -> Result<(), MoneyOutError> {
        use RefundStatus as S;
        match (self, to) {
            (S::ManualQueue, S::Done) => Ok(()),
            (S::Done | S::ManualQueue, _) => Err(MoneyOutError::RefundFinished(self)),
            (S::Scheduled, S::Pending)
            | (S::Pending, S::Refunding)
            | (S::Refunding, S::Done | S::ManualQueue | S::Pending) => Ok(()),
            _ => Err(MoneyOutError::RefundTransition(self, to)),
        }
    }
}

impl PayoutStatus {
    /// Every status.
    pub const ALL: [PayoutStatus; 5] = [
        PayoutStatus::Scheduled,
        PayoutStatus::Due,
        PayoutStatus::Instructing,
        PayoutStatus::Instructed,
        PayoutStatus::Cancelled,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            PayoutStatus::Scheduled => "SCHEDULED",
            PayoutStatus::Due => "DUE",
            PayoutStatus::Instructing => "INSTRUCTING",
            PayoutStatus::Instructed => "INSTRUCTED",
            PayoutStatus::Cancelled => "CANCELLED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the payout may go from `self` to `to`: scheduled → due (the date came) or cancelled
    /// (the trade was cancelled first), due → instructing (claimed), instructing → instructed, or
    /// back to due (the instructor failed).
    pub fn check(self, to: PayoutStatus) -> Result<(), MoneyOutError> {
        use PayoutStatus as S;
        match (self, to) {
            (S::Instructed, _) => Err(MoneyOutError::PayoutInstructed),
            (S::Scheduled, S::Due | S::Cancelled)
            | (S::Due, S::Instructing)
            | (S::Instructing, S::Instructed | S::Due) => Ok(()),
            _ => Err(MoneyOutError::PayoutTransition(self, to)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_edges_exactly() {
        use RefundStatus as S;
        let allowed = [
            (S::Scheduled, S::Pending),
            (S::Pending, S::Refunding),
            (S::Refunding, S::Done),
            (S::Refunding, S::ManualQueue),
            (S::Refunding, S::Pending),
            (S::ManualQueue, S::Done),
        ];
        for from in S::ALL {
            for to in S::ALL {
                let result = from.check(to);
                if allowed.contains(&(from, to)) {
                    assert_eq!(result, Ok(()), "{from:?} → {to:?}");
                } else if matches!(from, S::Done | S::ManualQueue) {
                    assert_eq!(result, Err(MoneyOutError::RefundFinished(from)));
                } else {
                    assert_eq!(result, Err(MoneyOutError::RefundTransition(from, to)));
                }
            }
        }
    }

    #[test]
    fn payout_edges_exactly() {
        use PayoutStatus as S;
        let allowed = [
            (S::Scheduled, S::Due),
            (S::Scheduled, S::Cancelled),
            (S::Due, S::Instructing),
            (S::Instructing, S::Instructed),
            (S::Instructing, S::Due),
        ];
        for from in S::ALL {
            for to in S::ALL {
                let result = from.check(to);
                if allowed.contains(&(from, to)) {
                    assert_eq!(result, Ok(()), "{from:?} → {to:?}");
                } else if from == S::Instructed {
                    assert_eq!(result, Err(MoneyOutError::PayoutInstructed));
                } else {
                    assert_eq!(result, Err(MoneyOutError::PayoutTransition(from, to)));
                }
            }
        }
    }

    #[test]
    fn codes_round_trip() {
        for s in RefundStatus::ALL {
            assert_eq!(RefundStatus::from_code(s.code()), Some(s));
        }
        for s in PayoutStatus::ALL {
            assert_eq!(PayoutStatus::from_code(s.code()), Some(s));
        }
        assert_eq!(RefundStatus::from_code("LOST"), None);
    }
}
