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
    /// A money invariant would break (a second refund or payout of one trade): never a harmless
    /// duplicate. Nothing was written; it is an alarm (HTTP 500, an error-level log, a metric).
    #[error("money invariant violated: {0}")]
    InvariantViolated(String),
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

use crate::checkout::Checkout;
use crate::ids::{CheckoutId, MemberId, ProductId};
use crate::people::{Member, Partner, PartnerSecrets};
use crate::product::Product;
use crate::signup::{AgreedTerm, SignupSession};
use crate::trade::{TradeEvent, TradeStatus};

/// A partner-visible notice that is not about a trade's state (`member.signed_up`, `payment.failed`):
/// written to the outbox in the transaction of the change that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerEvent {
    /// The callback type.
    pub event_type: &'static str,
    /// Its `data`.
    pub data: serde_json::Value,
}

/// Partners, their secrets, and the request signatures they already used.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PartnerRepository: Send + Sync {
    /// The partner signing with `api_key_id`.
    async fn by_api_key(
        &self,
        api_key_id: &str,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError>;
    /// The partner `id`.
    async fn get(
        &self,
        id: PartnerId,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError>;
    /// Stores a new partner.
    async fn create(
        &self,
        partner: &Partner,
        secrets: &PartnerSecrets,
    ) -> Result<(), RepositoryError>;
    /// Every partner.
    async fn list(&self) -> Result<Vec<Partner>, RepositoryError>;
    /// Records a request signature; false when it was already used (a replay).
    async fn record_signature(
        &self,
        partner_id: PartnerId,
        signature: &str,
        seen_at: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
    /// Forgets signatures seen before `before` (their timestamps are refused anyway); returns how many.
    async fn prune_signatures(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
}

/// Members and their signup sessions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MemberRepository: Send + Sync {
    /// The member `id` of `partner_id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<Member>, RepositoryError>;
    /// The newest member of a partner user, with its member key hash.
    async fn latest_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError>;
    /// When a partner user's memberships were withdrawn, newest first.
    async fn withdrawals(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Vec<OffsetDateTime>, RepositoryError>;
    /// Stores a new signup session.
    async fn open_signup(&self, session: &SignupSession) -> Result<(), RepositoryError>;
    /// The signup session `id`.
    async fn signup_session(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<SignupSession>, RepositoryError>;
    /// In one transaction: stores the member (with the SHA-256 of `member_key`), its terms, completes
    /// the session (keeping `member_key` for one read by the partner) and queues `event`. Refused with
    /// `Duplicate` when the session is no longer open or the user already has a live membership.
    async fn complete_signup(
        &self,
        session_id: uuid::Uuid,
        member: &Member,
        member_key: &str,
        terms: &[AgreedTerm],
        event: &PartnerEvent,
    ) -> Result<(), RepositoryError>;
    /// Marks an open session refused with a reason.
    async fn refuse_signup(
        &self,
        session_id: uuid::Uuid,
        reason: &str,
    ) -> Result<(), RepositoryError>;
    /// Hands out the member key kept for the partner, once; `None` afterwards.
    async fn take_member_key(
        &self,
        session_id: uuid::Uuid,
    ) -> Result<Option<String>, RepositoryError>;
    /// Withdraws a member unless it has an open trade; returns false when it has one.
    async fn withdraw(
        &self,
        partner_id: PartnerId,
        id: MemberId,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}

/// Products.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// The product `id` of `partner_id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: ProductId,
    ) -> Result<Option<Product>, RepositoryError>;
    /// The product of `partner_id` with the partner's own id.
    async fn by_partner_product_id(
        &self,
        partner_id: PartnerId,
        partner_product_id: &str,
    ) -> Result<Option<Product>, RepositoryError>;
    /// Stores a new product (`Duplicate` when the partner product id is taken).
    async fn create(&self, product: &Product) -> Result<(), RepositoryError>;
    /// Updates a product's editable fields, only while no trade was ever made on it; false otherwise.
    async fn update_untraded(&self, product: &Product) -> Result<bool, RepositoryError>;
}

/// A page of trades.
#[derive(Debug, Clone, PartialEq)]
pub struct TradePage {
    /// The trades, newest first.
    pub trades: Vec<Trade>,
    /// Pass it back for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Where a page of trades ends: trades are listed newest first by (creation time, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeCursor {
    /// Creation time of the last trade of the page, in microseconds since the epoch.
    pub created_at_micros: i64,
    /// Its id.
    pub id: TradeId,
}

impl TradeCursor {
    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_micros, self.id.0.simple())
    }

    /// Parses what [`TradeCursor::encode`] produced; `None` for anything else, including an instant
    /// no trade can have been created at (before 1970 or past the year 9999).
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
        Some(TradeCursor {
            created_at_micros,
            id: TradeId(uuid::Uuid::parse_str(id).ok()?),
        })
    }
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
    /// Continue after this cursor.
    pub cursor: Option<TradeCursor>,
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

/// What the checkout flow needs beyond [`crate::checkout::CheckoutRepository`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentRecords: Send + Sync {
    /// The checkout `id`, whatever its partner (hosted pages carry a signed link, not a partner).
    async fn checkout(&self, id: CheckoutId) -> Result<Option<Checkout>, RepositoryError>;
    /// The checkout PG transaction `transaction_id` of `gateway` was started for.
    async fn checkout_by_transaction(
        &self,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<Option<Checkout>, RepositoryError>;
    /// Records the PG transaction started for an open checkout.
    async fn attach_transaction(
        &self,
        id: CheckoutId,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<(), RepositoryError>;
    /// Records what the PG reported (audit trail of verifications).
    async fn record_verification(
        &self,
        id: CheckoutId,
        transaction_id: &str,
        outcome: &str,
        failure_code: Option<String>,
    ) -> Result<(), RepositoryError>;
    /// Open checkouts whose time ran out before `now`.
    async fn expired_checkouts(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Checkout>, RepositoryError>;
    /// Records, in one transaction, that PG transaction `transaction_id` captured money for
    /// `checkout` though the checkout was no longer open: a full refund of it (to be executed by the
    /// refund job) and the partner's `payment.refunded` callback (`reason: LATE_CONFIRMATION`).
    /// Returns false when this transaction's refund was already recorded (nothing is written twice).
    async fn record_late_confirmation(
        &self,
        checkout: &Checkout,
        transaction_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
    /// Deletes idempotency records created before `before` (SPEC §10: kept 7 days, at least the 24
    /// hours SPEC §18 promises); returns how many.
    async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
    /// Claims up to `limit` PG transactions to query again (SPEC §7 point 5): started for a checkout
    /// that ended without a trade (or was paid by another transaction) after `ended_after`, and not
    /// refunded yet; the least recently checked first, each marked checked at `now`, so a bounded
    /// batch goes round all of them.
    async fn transactions_to_reconcile(
        &self,
        ended_after: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<crate::payment::PgTransactionRef>, RepositoryError>;
}

/// How long idempotency records are kept (SPEC §10).
pub const IDEMPOTENCY_KEPT: time::Duration = time::Duration::days(7);

/// A refund as operators see it (the manual refund queue).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRecord {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_outside_the_instants_a_trade_can_have_is_refused() {
        let id = uuid::Uuid::nil().simple();
        for bad in [
            format!("9223372036854775807.{id}"),
            format!("-1.{id}"),
            format!("253402300800000000.{id}"), // 10000-01-01
            "1.not-a-uuid".to_owned(),
            "".to_owned(),
        ] {
            assert_eq!(TradeCursor::decode(&bad), None, "{bad}");
        }
        let good = TradeCursor {
            created_at_micros: 1_700_000_000_000_000,
            id: TradeId(uuid::Uuid::nil()),
        };
        assert_eq!(TradeCursor::decode(&good.encode()), Some(good));
    }
}
