//! Trades: storing transitions with everything they cause, their timers, and reading them back.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{PageCursor, RepositoryError};
use crate::ids::{MemberId, PartnerId, TestClockId, TradeId};
use crate::trade::{Timer, Trade, TradeEvent, TradeStatus, Transition};

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

    /// Timers due at `now`, oldest first, at most `limit`: of the trades on no test clock
    /// (`test_clock` `None`, the real-time jobs), or of the trades on that test clock.
    async fn due_timers(
        &self,
        test_clock: Option<TestClockId>,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueTimer>, RepositoryError>;
}

/// A page of trades.
#[derive(Debug, Clone, PartialEq)]
pub struct TradePage {
    /// The trades, newest first.
    pub trades: Vec<Trade>,
    /// Pass it back for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Which trades to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TradeFilter {
    /// Trades where this member is the buyer.
    pub buyer_id: Option<MemberId>,
    /// Trades where this member is the seller.
    pub seller_id: Option<MemberId>,
    /// In this status.
    pub status: Option<TradeStatus>,
    /// Only held ones.
    pub held: Option<bool>,
    /// Only trades of partners in this mode (operators' lists never mix live and test, SPEC §16).
    pub partner_mode: Option<crate::people::PartnerMode>,
    /// Continue after this cursor.
    pub cursor: Option<PageCursor>,
    /// At most this many (1–100).
    pub limit: u32,
}

/// Reading trades.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TradeQueries: Send + Sync {
    /// Trades of `partner_id` (every partner for `None`, operators only) matching `filter`.
    async fn list(
        &self,
        partner_id: Option<PartnerId>,
        filter: &TradeFilter,
    ) -> Result<TradePage, RepositoryError>;
    /// The trade with the partner's own number.
    async fn by_partner_trade_no(
        &self,
        partner_id: PartnerId,
        partner_trade_no: &str,
    ) -> Result<Option<Trade>, RepositoryError>;
    /// A trade's events, in order.
    async fn events(&self, trade_id: TradeId) -> Result<Vec<TradeEvent>, RepositoryError>;
    /// A trade by id alone (operators).
    async fn get_any(&self, trade_id: TradeId) -> Result<Option<Trade>, RepositoryError>;
}
