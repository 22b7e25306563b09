//! The rules in force: contracts and the business calendar.

use async_trait::async_trait;

use super::RepositoryError;
use crate::calendar::BusinessCalendar;
use crate::contract::Contract;
use crate::ids::PartnerId;

/// The rules in force: each partner's contract and the business calendar.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RulesRepository: Send + Sync {
    /// The partner's contract in force at `at` (the latest version effective by then; the standard
    /// contract when there is none). Services pass their `Clock`'s now.
    async fn contract_of(
        &self,
        partner_id: PartnerId,
        at: time::OffsetDateTime,
    ) -> Result<Contract, RepositoryError>;

    /// The business calendar as operators left it.
    async fn calendar(&self) -> Result<BusinessCalendar, RepositoryError>;
}
