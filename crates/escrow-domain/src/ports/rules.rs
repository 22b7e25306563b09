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
    /// The partner's current contract.
    async fn contract_of(&self, partner_id: PartnerId) -> Result<Contract, RepositoryError>;

    /// The business calendar as operators left it.
    async fn calendar(&self) -> Result<BusinessCalendar, RepositoryError>;
}
