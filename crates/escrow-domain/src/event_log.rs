//! The partner's event log (SPEC §18 events API): every callback we queued for a partner, with its
//! delivery attempts, for 30 days; and sending one again with the same `eventId`.
//!
//! Callbacks are the outbox's rows ([`crate::delivery`]); this is the partner's read of them and the
//! one write it may make (redeliver).

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::delivery::PartnerCallback;
use crate::ids::{PartnerId, TradeId};
use crate::ports::{PageCursor, RepositoryError};

/// How long events are listed.
pub const EVENTS_KEPT: Duration = Duration::days(30);

/// Where a callback's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The partner answered 2xx.
    Delivered,
    /// There was nowhere to send it (no webhook URL).
    Skipped,
    /// Given up after the retry horizon or a permanent refusal.
    Dead,
}

impl DeliveryState {
    /// The stored and shown code.
    pub fn code(self) -> &'static str {
        match self {
            DeliveryState::Pending => "PENDING",
            DeliveryState::Delivered => "DELIVERED",
            DeliveryState::Skipped => "SKIPPED",
            DeliveryState::Dead => "DEAD",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Skipped,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// One attempt to deliver a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// When.
    pub at: OffsetDateTime,
    /// `DELIVERED`, `SKIPPED`, `FAILED` (will retry) or `DEAD`.
    pub outcome: String,
    /// The error, when it failed.
    pub detail: Option<String>,
}

/// A callback as the partner's event log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The body exactly as posted (its `eventId` is the event's id).
    pub callback: PartnerCallback,
    /// The trade it is about, if any.
    pub trade_id: Option<TradeId>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Where delivery stands.
    pub state: DeliveryState,
    /// When it was last delivered.
    pub delivered_at: Option<OffsetDateTime>,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

/// Which events to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventFilter {
    /// Only this callback type.
    pub event_type: Option<String>,
    /// Only about this trade.
    pub trade_id: Option<TradeId>,
    /// Only created after this instant.
    pub created_after: Option<OffsetDateTime>,
    /// Only delivered (`true`) or not delivered yet (`false`).
    pub delivered: Option<bool>,
    /// Continue after this cursor.
    pub cursor: Option<PageCursor>,
    /// Page size, 1–100.
    pub limit: u32,
}

/// A page of events.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// Newest first.
    pub events: Vec<LoggedEvent>,
    /// Pass it back for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// The partner's callbacks, as stored by the outbox.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync {
    /// The partner's callbacks created at or after `since` matching `filter`, newest first by
    /// (creation time, event id), at most `limit`.
    async fn list(
        &self,
        partner_id: PartnerId,
        since: OffsetDateTime,
        filter: &EventFilter,
        limit: u32,
    ) -> Result<Vec<LoggedEvent>, RepositoryError>;

    /// Queues the partner's callback `event_id` for delivery again at `now` (same body, same
    /// `eventId`, a fresh 24-hour retry horizon); one waiting already is only brought forward.
    /// `None` when the partner has no such callback.
    async fn redeliver(
        &self,
        partner_id: PartnerId,
        event_id: uuid::Uuid,
        now: OffsetDateTime,
    ) -> Result<Option<LoggedEvent>, RepositoryError>;
}

/// Lists a page of the partner's events of the last [`EVENTS_KEPT`] before `now`.
pub async fn page(
    log: &dyn EventLog,
    partner_id: PartnerId,
    filter: &EventFilter,
    now: OffsetDateTime,
) -> Result<EventPage, RepositoryError> {
    let limit = filter.limit.clamp(1, 100);
    let mut events = log
        .list(partner_id, now - EVENTS_KEPT, filter, limit + 1)
        .await?;
    let more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_cursor = more
        .then(|| events.last())
        .flatten()
        .map(|e| PageCursor::at(e.created_at, e.callback.event_id).encode());
    Ok(EventPage {
        events,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn event(at: OffsetDateTime) -> LoggedEvent {
        LoggedEvent {
            callback: PartnerCallback::new(
                uuid::Uuid::new_v4(),
                "trade.status_changed",
                at,
                Some(1),
                serde_json::json!({}),
            ),
            trade_id: None,
            created_at: at,
            state: DeliveryState::Delivered,
            delivered_at: Some(at),
            attempts: vec![],
        }
    }

    #[tokio::test]
    async fn a_page_asks_one_more_than_it_shows_and_looks_back_thirty_days() {
        let now = time::macros::datetime!(2026-12-04 09:00 UTC);
        let stored: Vec<LoggedEvent> = (0..3).map(|i| event(now - Duration::hours(i))).collect();
        let last_shown = stored[1].clone();
        let mut log = MockEventLog::new();
        log.expect_list()
            .withf(move |_, since, _, limit| *since == now - Duration::days(30) && *limit == 3)
            .returning(move |_, _, _, _| Ok(stored.clone()));
        let filter = EventFilter {
            limit: 2,
            ..EventFilter::default()
        };
        let page = page(&log, PartnerId(uuid::Uuid::nil()), &filter, now)
            .await
            .unwrap();
        assert_eq!(page.events.len(), 2);
        let cursor = PageCursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cursor.id, last_shown.callback.event_id);
        assert_eq!(
            cursor,
            PageCursor::at(last_shown.created_at, last_shown.callback.event_id)
        );
    }
}
