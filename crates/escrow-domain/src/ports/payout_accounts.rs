//! Sellers' payout accounts, stored sealed (SPEC §15).

use async_trait::async_trait;
use time::{Date, OffsetDateTime};

use super::RepositoryError;
use crate::ids::{MemberId, PartnerId, TradeId};
use crate::money::Money;
use crate::payout_account::{BankAccount, MaskedAccount};

/// A payout that is due but waits for its seller to register a verified account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingPayout {
    /// The payout row.
    pub payout_id: i64,
    /// Its trade.
    pub trade_id: TradeId,
    /// The partner.
    pub partner_id: PartnerId,
    /// The seller.
    pub seller_id: MemberId,
    /// The amount.
    pub amount: Money,
    /// The payout date.
    pub due_date: Date,
}

/// Verified payout accounts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PayoutAccountRepository: Send + Sync {
    /// Stores the member's verified account, replacing any earlier one (sealed at rest).
    async fn save(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        account: &BankAccount,
        verified_at: OffsetDateTime,
    ) -> Result<(), RepositoryError>;

    /// The member's account, masked; `None` when none is registered (or the member is another
    /// partner's).
    async fn get(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<MaskedAccount>, RepositoryError>;

    /// Due payouts whose seller has no verified account, oldest date first.
    async fn payouts_waiting(&self) -> Result<Vec<WaitingPayout>, RepositoryError>;
}

/// Buyers' verified refund accounts (SPEC §12), stored sealed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RefundAccountRepository: Send + Sync {
    /// Stores the member's verified refund account, replacing any earlier one.
    async fn save_refund_account(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        account: &BankAccount,
        verified_at: OffsetDateTime,
    ) -> Result<(), RepositoryError>;

    /// The member's refund account (opened, for the refund itself) and when it was verified.
    async fn refund_account(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<(BankAccount, OffsetDateTime)>, RepositoryError>;
}
