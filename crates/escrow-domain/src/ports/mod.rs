//! Ports: what the use cases need from the outside world, as traits the adapters implement.
//!
//! One small trait per aggregate or outside system. With the `mocks` feature (and in this crate's
//! tests) each has a mockall mock, `MockClock`, `MockTradeRepository`, … for unit tests of services.

use time::OffsetDateTime;

pub mod admin;
pub mod checkouts;
pub mod ledger;
pub mod payout_accounts;
pub mod people;
pub mod products;
pub mod rules;
pub mod trades;

pub use crate::notification::PartnerEvent;
pub use admin::{AdminRepository, RefundRecord};
pub use checkouts::{CheckoutRepository, OpenCheckoutError, PaymentRecords, IDEMPOTENCY_KEPT};
pub use ledger::{LedgerReader, SettlementLine, SettlementQueries, SettlementStatus};
pub use payout_accounts::{PayoutAccountRepository, RefundAccountRepository, WaitingPayout};
pub use people::{MemberRepository, PartnerRepository, SignupCompletion};
pub use products::ProductRepository;
pub use rules::RulesRepository;
pub use trades::{DueTimer, TradeFilter, TradePage, TradeQueries, TradeRepository};

#[cfg(any(test, feature = "mocks"))]
pub use admin::MockAdminRepository;
#[cfg(any(test, feature = "mocks"))]
pub use checkouts::{MockCheckoutRepository, MockPaymentRecords};
#[cfg(any(test, feature = "mocks"))]
pub use ledger::{MockLedgerReader, MockSettlementQueries};
#[cfg(any(test, feature = "mocks"))]
pub use payout_accounts::{MockPayoutAccountRepository, MockRefundAccountRepository};
#[cfg(any(test, feature = "mocks"))]
pub use people::{MockMemberRepository, MockPartnerRepository};
#[cfg(any(test, feature = "mocks"))]
pub use products::MockProductRepository;
#[cfg(any(test, feature = "mocks"))]
pub use rules::MockRulesRepository;
#[cfg(any(test, feature = "mocks"))]
pub use trades::{MockTradeQueries, MockTradeRepository};

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
    /// Now, to the microsecond: what databases keep, so a stored instant reads back equal.
    fn now(&self) -> OffsetDateTime {
        to_micros(OffsetDateTime::now_utc())
    }
}

/// `t` truncated to whole microseconds.
pub fn to_micros(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// Why a storage operation failed. What a method can expect to happen (a taken key, a session no
/// longer open) is its typed answer instead ([`Stored`], [`SignupCompletion`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RepositoryError {
    /// Another change to the same record won the race (optimistic lock, a row that changed state, a
    /// unique key taken meanwhile); reload and decide again.
    #[error("concurrent change")]
    Conflict,
    /// The store could not be reached or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A money invariant would break (a second refund or payout of one trade): never a harmless
    /// duplicate. Nothing was written; it is an alarm (HTTP 500, an error-level log, a metric).
    #[error("money invariant violated: {0}")]
    InvariantViolated(String),
}

/// What storing a record under a unique key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored.
    Created,
    /// Nothing stored: a record with the same key exists.
    AlreadyExists,
}

/// Where a page ends: lists (trades, products, events) run newest first by (creation time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    /// Creation time of the last item of the page, in microseconds since the epoch.
    pub created_at_micros: i64,
    /// Its id.
    pub id: uuid::Uuid,
}

impl PageCursor {
    /// The cursor after an item created at `at` with id `id`.
    pub fn at(at: OffsetDateTime, id: uuid::Uuid) -> Self {
        PageCursor {
            created_at_micros: i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX),
            id,
        }
    }

    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_micros, self.id.simple())
    }

    /// Parses what [`PageCursor::encode`] produced; `None` for anything else, including an instant
    /// nothing can have been created at (before 1970 or past the year 9999).
    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        let created_at_micros: i64 = micros.parse().ok()?;
        if created_at_micros < 0 {
            return None;
        }
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_at_micros) * 1_000)
            .ok()?;
        if at.year() > 9999 {
            return None;
        }
        Some(PageCursor {
            created_at_micros,
            id: uuid::Uuid::parse_str(id).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_outside_the_instants_anything_can_have_is_refused() {
        let id = uuid::Uuid::nil().simple();
        for bad in [
            format!("9223372036854775807.{id}"),
            format!("-1.{id}"),
            format!("253402300800000000.{id}"), // 10000-01-01
            "1.not-a-uuid".to_owned(),
            "".to_owned(),
        ] {
            assert_eq!(PageCursor::decode(&bad), None, "{bad}");
        }
        let good = PageCursor {
            created_at_micros: 1_700_000_000_000_000,
            id: uuid::Uuid::nil(),
        };
        assert_eq!(PageCursor::decode(&good.encode()), Some(good));
    }
}
