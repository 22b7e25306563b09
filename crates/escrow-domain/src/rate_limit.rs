//! Per-partner request limits (SPEC §18): a contract field caps how many API requests a partner makes
//! per minute; past it the API answers `429` with `Retry-After`.
//!
//! The count is kept in fixed one-minute windows (UTC minute boundaries) in shared storage, so every
//! server instance counts against the same budget. A partner may see up to twice its limit across a
//! window boundary; never more than its limit within one window.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::PartnerId;
use crate::ports::{Clock, RepositoryError, RulesRepository};

/// How many API requests a partner may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per minute (partner-signed and member-token calls together), at least 1.
    pub requests_per_minute: u32,
}

impl Default for RateLimit {
    /// 6,000 requests a minute (100 a second on average).
    fn default() -> Self {
        RateLimit {
            requests_per_minute: 6_000,
        }
    }
}

/// The window an instant falls in: the start of its UTC minute.
pub fn window_of(at: OffsetDateTime) -> OffsetDateTime {
    let into_minute = Duration::seconds(i64::from(at.second()))
        + Duration::nanoseconds(i64::from(at.nanosecond()));
    at - into_minute
}

/// Counts requests per partner and window, shared by every instance.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RequestCounter: Send + Sync {
    /// Adds one request of `partner_id` to the window starting at `window` and answers the window's
    /// count including it.
    async fn count(
        &self,
        partner_id: PartnerId,
        window: OffsetDateTime,
    ) -> Result<u64, RepositoryError>;
    /// Forgets windows that started before `before`; returns how many.
    async fn prune(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
}

/// A request over the partner's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("over {limit} requests a minute; retry in {retry_after_seconds} s")]
pub struct Throttled {
    /// The partner's limit.
    pub limit: u32,
    /// Whole seconds until the window ends (at least 1).
    pub retry_after_seconds: u64,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// Over the limit.
    #[error(transparent)]
    Throttled(Throttled),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Admits a partner's requests within its contract's limit.
pub struct RequestLimiter {
    counter: Arc<dyn RequestCounter>,
    rules: Arc<dyn RulesRepository>,
    clock: Arc<dyn Clock>,
}

impl RequestLimiter {
    /// A limiter over these ports.
    pub fn new(
        counter: Arc<dyn RequestCounter>,
        rules: Arc<dyn RulesRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        RequestLimiter {
            counter,
            rules,
            clock,
        }
    }

    /// Counts one request of `partner_id`; `Throttled` when it is past the limit of the contract in
    /// force.
    pub async fn admit(&self, partner_id: PartnerId) -> Result<(), AdmissionError> {
        let now = self.clock.now();
        let limit = self.rules.contract_of(partner_id, now).await?.rate_limit;
        let window = window_of(now);
        let count = self.counter.count(partner_id, window).await?;
        if count <= u64::from(limit.requests_per_minute) {
            return Ok(());
        }
        let left = window + Duration::minutes(1) - now;
        let retry_after_seconds = u64::try_from(left.whole_seconds()).unwrap_or(0)
            + u64::from(left.subsec_nanoseconds() > 0);
        Err(AdmissionError::Throttled(Throttled {
            limit: limit.requests_per_minute,
            retry_after_seconds: retry_after_seconds.max(1),
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::contract::Contract;
    use crate::ports::{MockClock, MockRulesRepository};
    use time::macros::datetime;

    fn limiter(count: u64, limit: u32, now: OffsetDateTime) -> RequestLimiter {
        let mut counter = MockRequestCounter::new();
        counter
            .expect_count()
            .withf(|_, w| *w == datetime!(2026-12-04 09:15:00 UTC))
            .returning(move |_, _| Ok(count));
        let mut rules = MockRulesRepository::new();
        rules.expect_contract_of().returning(move |_, _| {
            let mut c = Contract::standard_2022();
            c.rate_limit = RateLimit {
                requests_per_minute: limit,
            };
            Ok(c)
        });
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        RequestLimiter::new(Arc::new(counter), Arc::new(rules), Arc::new(clock))
    }

    #[tokio::test]
    async fn the_limit_is_admitted_and_one_more_waits_for_the_next_minute() {
        let now = datetime!(2026-12-04 09:15:42.5 UTC);
        let partner = PartnerId(uuid::Uuid::nil());
        assert_eq!(limiter(10, 10, now).admit(partner).await, Ok(()));
        assert_eq!(
            limiter(11, 10, now).admit(partner).await,
            Err(AdmissionError::Throttled(Throttled {
                limit: 10,
                retry_after_seconds: 18
            }))
        );
        let last_instant = datetime!(2026-12-04 09:15:59.999 UTC);
        match limiter(11, 10, last_instant).admit(partner).await {
            Err(AdmissionError::Throttled(t)) => assert_eq!(t.retry_after_seconds, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_window_starts_at_its_minute() {
        assert_eq!(
            window_of(datetime!(2026-12-04 09:15:42.123456 UTC)),
            datetime!(2026-12-04 09:15:00 UTC)
        );
        assert_eq!(
            window_of(datetime!(2026-12-04 09:15:00 UTC)),
            datetime!(2026-12-04 09:15:00 UTC)
        );
    }

    #[test]
    fn contracts_stored_before_the_field_existed_get_the_default() {
        let mut json = serde_json::to_value(Contract::standard_2022()).unwrap();
        json.as_object_mut().unwrap().remove("rateLimit");
        let c: Contract = serde_json::from_value(json).unwrap();
        assert_eq!(c.rate_limit, RateLimit::default());
    }
}
