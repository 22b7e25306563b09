//! The money ledger's read side: what the ledger check looks at, and partners' settlements (SPEC §15).
//! The journal itself is written by the stores of the changes that move money, in their transactions.

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::RepositoryError;
use crate::ids::{MemberId, PartnerId, TradeId};
use crate::ledger::LedgerFacts;
use crate::money::Money;
use crate::money_out::PayoutStatus;

/// Reading the journal next to the rows it is about.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LedgerReader: Send + Sync {
    /// The facts of one partner's money (every partner's for `None`).
    async fn facts(&self, partner_id: Option<PartnerId>) -> Result<LedgerFacts, RepositoryError>;
}

/// Where a seller's payout stands, as partners see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementStatus {
    /// Fixed at purchase approval; not yet handed to the bank.
    Scheduled,
    /// In the bank transfer file.
    Instructed,
    /// Not paid: an operator cancelled the trade before its payout date and refunded the buyer.
    Cancelled,
}

impl SettlementStatus {
    /// The code partners see.
    pub fn code(self) -> &'static str {
        match self {
            SettlementStatus::Scheduled => "SCHEDULED",
            SettlementStatus::Instructed => "INSTRUCTED",
            SettlementStatus::Cancelled => "CANCELLED",
        }
    }
}

impl From<PayoutStatus> for SettlementStatus {
    fn from(s: PayoutStatus) -> Self {
        match s {
            PayoutStatus::Instructed => SettlementStatus::Instructed,
            PayoutStatus::Cancelled => SettlementStatus::Cancelled,
            PayoutStatus::Scheduled | PayoutStatus::Due | PayoutStatus::Instructing => {
                SettlementStatus::Scheduled
            }
        }
    }
}

/// One trade's payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    /// The trade.
    pub trade_id: TradeId,
    /// The partner's own number for it.
    pub partner_trade_no: Option<String>,
    /// The seller paid.
    pub seller_id: MemberId,
    /// What the buyer paid.
    pub payment_amount: Money,
    /// The escrow fee kept.
    pub escrow_fee: Money,
    /// What the seller is paid.
    pub seller_amount: Money,
    /// The payout date.
    pub payout_date: Date,
    /// Where the payout stands.
    pub status: SettlementStatus,
    /// When it was instructed.
    pub instructed_at: Option<OffsetDateTime>,
}

/// Payouts of one partner by payout date.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SettlementQueries: Send + Sync {
    /// The payouts of `partner_id` due from `from` to `to` (both included), by date then trade.
    async fn settlement_lines(
        &self,
        partner_id: PartnerId,
        from: Date,
        to: Date,
    ) -> Result<Vec<SettlementLine>, RepositoryError>;
}
