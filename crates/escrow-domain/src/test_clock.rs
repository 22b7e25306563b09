//! Test clocks (SPEC §16, as Stripe's): a test partner freezes time at an instant, creates members on
//! the clock (their checkouts and trades follow it) and advances it; every timer of the clock's
//! trades then fires at its own instant, in order, exactly as the real-time jobs would have fired it.
//!
//! Entities on a clock are invisible to the real-time jobs; their time is the clock's
//! ([`ClockTime`]). Callbacks say `occurredAt` in clock time and are signed and sent in real time.

use std::sync::Arc;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::ids::{PartnerId, TestClockId};
use crate::people::{Partner, PartnerMode};
use crate::ports::{Clock, RepositoryError};

/// The furthest one advance may move a clock (Stripe allows two billing intervals; a year covers
/// every timer of a trade, whose longest is a few weeks).
pub const LONGEST_ADVANCE: Duration = Duration::days(366);

/// How many clocks a partner may keep.
pub const CLOCKS_PER_PARTNER: usize = 100;

/// A test clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClock {
    /// Its id.
    pub id: TestClockId,
    /// The test partner it belongs to.
    pub partner_id: PartnerId,
    /// The partner's name for it.
    pub name: String,
    /// The instant its entities live at.
    pub frozen_at: OffsetDateTime,
    /// When it was created (real time).
    pub created_at: OffsetDateTime,
}

/// Stores test clocks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TestClockRepository: Send + Sync {
    /// Stores a new clock.
    async fn create(&self, clock: &TestClock) -> Result<(), RepositoryError>;
    /// The partner's clock `id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: TestClockId,
    ) -> Result<Option<TestClock>, RepositoryError>;
    /// The partner's clocks, oldest first.
    async fn list(&self, partner_id: PartnerId) -> Result<Vec<TestClock>, RepositoryError>;
    /// Moves the clock from `from` to `to` if it still stands at `from` (one advance at a time);
    /// false when it moved meanwhile.
    async fn move_to(
        &self,
        id: TestClockId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
    /// The instant clock `id` stands at (any partner's: entities carry only the id).
    async fn frozen_at(&self, id: TestClockId) -> Result<Option<OffsetDateTime>, RepositoryError>;
}

/// The time an entity lives by: the real clock, or its test clock's frozen instant.
#[derive(Clone)]
pub struct ClockTime {
    clock: Arc<dyn Clock>,
    clocks: Option<Arc<dyn TestClockRepository>>,
}

impl ClockTime {
    /// Real time only (entities on a test clock are refused).
    pub fn real(clock: Arc<dyn Clock>) -> Self {
        ClockTime {
            clock,
            clocks: None,
        }
    }

    /// Real time, and the test clocks in `clocks`.
    pub fn with_test_clocks(clock: Arc<dyn Clock>, clocks: Arc<dyn TestClockRepository>) -> Self {
        ClockTime {
            clock,
            clocks: Some(clocks),
        }
    }

    /// The same real clock, and the test clocks in `clocks`.
    pub fn and_test_clocks(self, clocks: Arc<dyn TestClockRepository>) -> Self {
        ClockTime {
            clock: self.clock,
            clocks: Some(clocks),
        }
    }

    /// The real instant.
    pub fn real_now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The instant for an entity on `test_clock` (or on none).
    pub async fn now_on(
        &self,
        test_clock: Option<TestClockId>,
    ) -> Result<OffsetDateTime, RepositoryError> {
        let Some(id) = test_clock else {
            return Ok(self.clock.now());
        };
        let clocks = self.clocks.as_ref().ok_or_else(|| {
            RepositoryError::Unavailable("test clocks are not configured".to_owned())
        })?;
        clocks
            .frozen_at(id)
            .await?
            .ok_or_else(|| RepositoryError::Unavailable(format!("test clock {id} is gone")))
    }
}

/// Why a test-clock request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestClockError {
    /// Live partners have no clocks; another partner's clock does not exist (both 404).
    #[error("no such test clock")]
    NotFound,
    /// `to` is not after the clock's instant, or too far (`LONGEST_ADVANCE`).
    #[error("{0}")]
    InvalidAdvance(&'static str),
    /// A field is wrong.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// The partner keeps `CLOCKS_PER_PARTNER` clocks already.
    #[error("too many test clocks")]
    TooMany,
    /// Another advance of the same clock won.
    #[error("the clock is being advanced")]
    Busy,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The clocks of `partner`, refusing live partners as if nothing existed.
pub fn test_partner(partner: &Partner) -> Result<PartnerId, TestClockError> {
    match partner.mode {
        PartnerMode::Test => Ok(partner.id),
        PartnerMode::Live => Err(TestClockError::NotFound),
    }
}

/// Checks a new clock's name and instant.
pub fn check_new(name: &str, frozen_at: OffsetDateTime) -> Result<(), TestClockError> {
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(TestClockError::Invalid {
            field: "name",
            problem: "at most 100 characters, no control characters",
        });
    }
    if !(2000..=2100).contains(&frozen_at.year()) {
        return Err(TestClockError::Invalid {
            field: "frozenTime",
            problem: "an instant between the years 2000 and 2100",
        });
    }
    Ok(())
}

/// Checks an advance from `from` to `to`.
pub fn check_advance(from: OffsetDateTime, to: OffsetDateTime) -> Result<(), TestClockError> {
    if to <= from {
        return Err(TestClockError::InvalidAdvance(
            "to must be after the clock's frozen time",
        ));
    }
    if to - from > LONGEST_ADVANCE {
        return Err(TestClockError::InvalidAdvance(
            "a clock moves at most 366 days at a time",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_clock_only_moves_forward_and_not_too_far_at_once() {
        let at = datetime!(2026-01-05 01:00 UTC);
        assert!(check_advance(at, at + Duration::days(5)).is_ok());
        assert!(check_advance(at, at).is_err());
        assert!(check_advance(at, at - Duration::seconds(1)).is_err());
        assert!(check_advance(at, at + Duration::days(367)).is_err());
        assert!(check_new("checkout tests", at).is_ok());
        assert!(check_new("bad\u{0}", at).is_err());
        assert!(check_new("x", datetime!(1970-01-01 00:00 UTC)).is_err());
    }
}
