//! Ports: what the use cases need from the outside world, as traits the adapters implement.
//!
//! One small trait per aggregate or outside system. With the `mocks` feature (and in this crate's
//! tests) each has a mockall mock, `MockClock`, `MockTradeRepository`, … for unit tests of services.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::calendar::BusinessCalendar;
use crate::contract::Contract;
use crate::ids::{PartnerId, TradeId};
use crate::trade::{Timer, Trade, Transition};

/// Where the time comes from. Tests set it; nothing else reads the system clock.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// Another change to the same record won the race (optimistic lock); reload and decide again.
    #[error("concurrent change")]
    Conflict,
    /// A record with the same unique key already exists.
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// The store could not be reached or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// A trade whose timer is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTimer {
    /// The trade's partner.
    pub partner_id: PartnerId,
    /// The trade.
    pub trade_id: TradeId,
    /// The timer.
    pub timer: Timer,
}

/// Trades, their events, timers and outbox rows.
///
/// `insert_opened` and `save_transition` write the trade, its event, its pending timers and the
/// outbox rows for its notifications and callback **in one transaction**; `save_transition` refuses
/// with [`RepositoryError::Conflict`] when the stored version is not `transition.previous_version()`.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TradeRepository: Send + Sync {
    /// The trade `id` of `partner_id`, or `None` (also when it belongs to another partner).
    async fn get(
        &self,
        partner_id: PartnerId,
        id: TradeId,
    ) -> Result<Option<Trade>, RepositoryError>;

    /// Stores a newly opened trade with everything its transition causes.
    async fn insert_opened(&self, transition: &Transition) -> Result<(), RepositoryError>;

    /// Stores an applied command with everything it causes.
    async fn save_transition(&self, transition: &Transition) -> Result<(), RepositoryError>;

    /// Timers due at `now`, oldest first, at most `limit`.
    async fn due_timers(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueTimer>, RepositoryError>;
}

/// The rules in force: each partner's contract and the business calendar.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RulesRepository: Send + Sync {
    /// The partner's current contract.
    async fn contract_of(&self, partner_id: PartnerId) -> Result<Contract, RepositoryError>;

    /// The business calendar as operators left it.
    async fn calendar(&self) -> Result<BusinessCalendar, RepositoryError>;
}
