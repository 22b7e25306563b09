//! What operators manage directly, and the manual refund queue they see.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::RepositoryError;
use crate::contract::Contract;
use crate::ids::{CheckoutId, PartnerId, TradeId};

/// A refund as operators see it (the manual refund queue).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRecord {
    /// The refund (what `POST /admin/v1/refunds/{id}/done` names).
    pub id: i64,
    /// The trade; `None` for a late confirmation (money captured for a checkout without a trade).
    pub trade_id: Option<TradeId>,
    /// The checkout the money was paid through.
    pub checkout_id: CheckoutId,
    /// `TRADE` (a cancel or return) or `LATE_CONFIRMATION`.
    pub reason: String,
    /// Its partner.
    pub partner_id: PartnerId,
    /// The amount.
    pub amount: crate::money::Money,
    /// The withdrawal code it records (81, 82, 84, 85).
    pub withdrawal_code: Option<u8>,
    /// Where it stands.
    pub status: crate::money_out::RefundStatus,
    /// When it is due (returns).
    pub due_date: Option<time::Date>,
    /// Why it is where it is (the PG's refusal, or "waiting for the buyer's refund account").
    pub detail: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What operators manage directly.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AdminRepository: Send + Sync {
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), RepositoryError>;
    /// The name of the live admin key with this SHA-256 hash.
    async fn admin_key(&self, key_hash: &str) -> Result<Option<String>, RepositoryError>;
    /// Stores an admin key by its hash.
    async fn create_admin_key(&self, name: &str, key_hash: &str) -> Result<(), RepositoryError>;
    /// Stores a new version of a partner's contract; returns the version.
    async fn set_contract(
        &self,
        partner_id: PartnerId,
        contract: &Contract,
        effective_from: OffsetDateTime,
    ) -> Result<i32, RepositoryError>;
    /// Adds or renames a holiday.
    async fn add_holiday(&self, date: time::Date, name: &str) -> Result<(), RepositoryError>;
    /// Removes a holiday; whether it was there.
    async fn remove_holiday(&self, date: time::Date) -> Result<bool, RepositoryError>;
    /// Refunds waiting for an operator (PG without refunds, or failed refunds).
    async fn refund_queue(&self) -> Result<Vec<RefundRecord>, RepositoryError>;
    /// The instructed payouts due on `date` (all when `None`) as the operator's bank transfer file (CSV).
    async fn payout_bank_file(&self, date: Option<time::Date>) -> Result<String, RepositoryError>;
}
