//! Delivering what the outbox holds: AlimTalks to members and signed callbacks to partners, at least
//! once, with exponential backoff and jitter for 24 hours, then dead-lettered for operators to replay.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::ids::{PartnerId, TradeId};
use crate::notification::AlimTalkTemplate;
use crate::people::PhoneNumber;
use crate::ports::RepositoryError;

/// How long delivery is retried before a message is dead-lettered.
pub const RETRY_HORIZON: Duration = Duration::hours(24);

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying: a timeout, a connection error, a 5xx.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help (an unknown template, a blocked sender): dead-letter now.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// An AlimTalk ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlimTalkMessage {
    /// Sent as the provider's idempotency key: a retry never sends twice.
    pub idempotency_key: String,
    /// The partner whose member receives it.
    pub partner_id: PartnerId,
    /// The template.
    pub template: AlimTalkTemplate,
    /// The partner's own provider template code for it, if it has one; the adapter knows the
    /// default codes.
    pub partner_template_code: Option<String>,
    /// The member's phone.
    pub recipient: PhoneNumber,
    /// The template's variables.
    pub variables: std::collections::BTreeMap<String, String>,
    /// Groups the messages of one trade at the provider.
    pub grouping_key: String,
}

/// Sends AlimTalks (NHN Cloud KakaoTalk Bizmessage, or a simulator).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AlimTalkSender: Send + Sync {
    /// Sends one message.
    async fn send(&self, message: &AlimTalkMessage) -> Result<(), DeliveryError>;
}

/// Posts signed callbacks to partners.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// Posts `body` to `url`, signed (`X-Escrow-Signature`) with each of `secrets` (several during a
    /// rotation) at the real time of sending — never a test clock's or a replayed job's time, which
    /// receivers' 5-minute window would refuse.
    async fn post(&self, url: &str, body: &[u8], secrets: &[Vec<u8>]) -> Result<(), DeliveryError>;
}

/// What an outbox row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxKind {
    /// An AlimTalk to a member.
    Alimtalk,
    /// A callback to the partner.
    Callback,
}

/// What an outbox row carries, typed: the adapter that stores it and the worker that delivers it
/// read and write the same structure ([`OutboxPayload::to_stored`], [`OutboxPayload::from_stored`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxPayload {
    /// An AlimTalk to a member.
    AlimTalk(QueuedAlimTalk),
    /// A callback to the partner: its body exactly as posted.
    Callback(PartnerCallback),
}

/// An AlimTalk waiting to be sent: the notice and its variables, to a member (whose phone is read at
/// sending time, so no phone number sits in the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedAlimTalk {
    /// The event id (the provider's idempotency key).
    pub event_id: uuid::Uuid,
    /// The notice.
    pub template: AlimTalkTemplate,
    /// Buyer or seller.
    pub recipient: crate::notification::Recipient,
    /// The member it goes to.
    pub member_id: crate::ids::MemberId,
    /// The trade it is about.
    #[serde(default)]
    pub trade_id: Option<TradeId>,
    /// The template's variables.
    pub variables: std::collections::BTreeMap<String, String>,
}

/// A partner callback's body (SPEC §9): `{eventId, type, occurredAt, sequence, data}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerCallback {
    /// The event id.
    pub event_id: uuid::Uuid,
    /// The callback type (`trade.status_changed`, `payment.failed`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// The trade's version, for trade callbacks.
    pub sequence: Option<i64>,
    /// The type's data.
    pub data: serde_json::Value,
}

impl PartnerCallback {
    /// A callback of `event_type` with `data`, at `at`.
    pub fn new(
        event_id: uuid::Uuid,
        event_type: &str,
        at: OffsetDateTime,
        sequence: Option<i64>,
        data: serde_json::Value,
    ) -> Self {
        PartnerCallback {
            event_id,
            event_type: event_type.to_owned(),
            occurred_at: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            sequence,
            data,
        }
    }
}

impl OutboxPayload {
    /// AlimTalk or callback.
    pub fn kind(&self) -> OutboxKind {
        match self {
            OutboxPayload::AlimTalk(_) => OutboxKind::Alimtalk,
            OutboxPayload::Callback(_) => OutboxKind::Callback,
        }
    }

    /// The event id.
    pub fn event_id(&self) -> uuid::Uuid {
        match self {
            OutboxPayload::AlimTalk(a) => a.event_id,
            OutboxPayload::Callback(c) => c.event_id,
        }
    }

    /// The stored (JSON) form.
    pub fn to_stored(&self) -> serde_json::Value {
        match self {
            OutboxPayload::AlimTalk(a) => serde_json::to_value(a),
            OutboxPayload::Callback(c) => serde_json::to_value(c),
        }
        .unwrap_or_default()
    }

    /// Reads a stored payload of `kind`.
    pub fn from_stored(kind: OutboxKind, stored: serde_json::Value) -> Result<Self, String> {
        match kind {
            OutboxKind::Alimtalk => serde_json::from_value(stored).map(OutboxPayload::AlimTalk),
            OutboxKind::Callback => serde_json::from_value(stored).map(OutboxPayload::Callback),
        }
        .map_err(|e| e.to_string())
    }
}

/// A claimed outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Row id.
    pub id: i64,
    /// The event id (the callback's `eventId`, the AlimTalk's idempotency key).
    pub event_id: uuid::Uuid,
    /// AlimTalk or callback.
    pub kind: OutboxKind,
    /// The partner.
    pub partner_id: PartnerId,
    /// The trade, if any.
    pub trade_id: Option<TradeId>,
    /// What it carries.
    pub payload: OutboxPayload,
    /// Attempts made before this one.
    pub attempts: i32,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Where its 24-hour retry horizon starts: when it was queued, or last replayed or redelivered.
    pub retry_from: OffsetDateTime,
}

/// The backlog, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting rows.
    pub pending: i64,
    /// Dead letters.
    pub dead: i64,
    /// Age of the oldest waiting row, seconds.
    pub oldest_pending_seconds: i64,
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Delivered.
    Delivered,
    /// Nothing to deliver to (the partner has no webhook URL).
    Skipped(String),
    /// Retry at this time.
    Retry {
        /// When.
        at: OffsetDateTime,
        /// Why it failed.
        error: String,
    },
    /// Given up.
    Dead(String),
}

/// The outbox, shared by every worker of every instance.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due rows (`FOR UPDATE SKIP LOCKED`) and leases them until `now + lease`,
    /// so no other worker takes them while this one sends; a worker that dies lets the lease run out.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError>;
    /// Records an attempt and its outcome. Once a row is finished (delivered, skipped or dead) the
    /// secrets it carried for its one delivery (a `member.signed_up` callback's `memberKey`) are
    /// removed from the stored payload.
    async fn record(
        &self,
        id: i64,
        now: OffsetDateTime,
        outcome: &AttemptOutcome,
    ) -> Result<(), RepositoryError>;
    /// Dead letters, oldest first.
    async fn dead_letters(&self, limit: u32) -> Result<Vec<OutboxMessage>, RepositoryError>;
    /// Puts a dead letter back in line; false when `id` is not dead.
    async fn replay(&self, id: i64, now: OffsetDateTime) -> Result<bool, RepositoryError>;
    /// The backlog.
    async fn stats(&self, now: OffsetDateTime) -> Result<OutboxStats, RepositoryError>;
    /// Deletes rows delivered or skipped before `before`, with their attempts (SPEC §10: 30 days);
    /// returns how many.
    async fn prune_delivered(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
}

/// How long delivered outbox rows are kept (SPEC §10).
pub const DELIVERED_OUTBOX_KEPT: Duration = Duration::days(30);

/// When to try again after `attempts` failed attempts: 10 s × 2^(attempts−1), at most an hour, with up
/// to ±20% jitter taken from `jitter` (0.0–1.0); `None` once the message is older than the horizon.
pub fn next_attempt(
    created_at: OffsetDateTime,
    attempts: i32,
    now: OffsetDateTime,
    jitter: f64,
) -> Option<OffsetDateTime> {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let base = (10i64 << exponent).min(3_600);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    let delay = Duration::milliseconds((base as f64 * 1_000.0 * factor) as i64);
    let at = now + delay;
    (at - created_at <= RETRY_HORIZON).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn payloads_read_back_as_written_and_rows_written_before_still_read() {
        let alimtalk = OutboxPayload::AlimTalk(QueuedAlimTalk {
            event_id: uuid::Uuid::nil(),
            template: AlimTalkTemplate::BuyerShipmentNotice,
            recipient: crate::notification::Recipient::Buyer,
            member_id: crate::ids::MemberId(uuid::Uuid::nil()),
            trade_id: None,
            variables: [("tradeId".to_owned(), "t-1".to_owned())].into(),
        });
        let callback = OutboxPayload::Callback(PartnerCallback::new(
            uuid::Uuid::nil(),
            "payment.failed",
            datetime!(2025-03-06 10:00 UTC),
            None,
            serde_json::json!({ "code": "PG_DECLINED" }),
        ));
        for p in [&alimtalk, &callback] {
            assert_eq!(
                OutboxPayload::from_stored(p.kind(), p.to_stored()).as_ref(),
                Ok(p)
            );
        }
        assert_eq!(callback.to_stored()["occurredAt"], "2025-03-06T10:00:00Z");
        assert_eq!(callback.to_stored()["sequence"], serde_json::Value::Null);
        // Rows queued before the payload was typed carried a `templateCode` too.
        let mut old = alimtalk.to_stored();
        old["templateCode"] = "ESCROW_B_SHIPPED".into();
        assert_eq!(
            OutboxPayload::from_stored(OutboxKind::Alimtalk, old),
            Ok(alimtalk)
        );
        assert!(OutboxPayload::from_stored(OutboxKind::Callback, serde_json::json!({})).is_err());
    }

    #[test]
    fn backoff_doubles_to_an_hour_and_stops_after_a_day() {
        let t0 = datetime!(2025-03-06 10:00 UTC);
        assert_eq!(
            next_attempt(t0, 1, t0, 0.5),
            Some(t0 + Duration::seconds(10))
        );
        assert_eq!(
            next_attempt(t0, 2, t0, 0.5),
            Some(t0 + Duration::seconds(20))
        );
        assert_eq!(next_attempt(t0, 12, t0, 0.5), Some(t0 + Duration::hours(1)));
        assert_eq!(
            next_attempt(t0, 1, t0, 0.0),
            Some(t0 + Duration::seconds(8))
        );
        assert_eq!(
            next_attempt(t0, 1, t0, 1.0),
            Some(t0 + Duration::seconds(12))
        );
        assert_eq!(
            next_attempt(
                t0,
                30,
                t0 + Duration::hours(23) + Duration::minutes(30),
                0.5
            ),
            None
        );
        assert!(next_attempt(t0, 30, t0 + Duration::hours(22), 0.5).is_some());
    }
}

/// A refund the PG should make now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueRefund {
    /// Row id.
    pub id: i64,
    /// The trade; `None` for a late confirmation, which has no trade.
    pub trade_id: Option<TradeId>,
    /// The checkout it was paid through.
    pub checkout_id: crate::ids::CheckoutId,
    /// The PG transaction to refund when it is not the checkout's paying one (late confirmations).
    pub transaction_id: Option<String>,
    /// The amount: the whole payment.
    pub amount: crate::money::Money,
}

/// Where an attempted refund ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    /// The PG refunded.
    Done,
    /// An operator must refund by hand (the PG has no refund call, or refused).
    ManualQueue,
    /// Try again later (the PG was unavailable).
    Pending,
}

impl RefundState {
    /// The refund's status after the attempt (from [`crate::money_out::RefundStatus::Refunding`]).
    pub fn status(self) -> crate::money_out::RefundStatus {
        use crate::money_out::RefundStatus;
        match self {
            RefundState::Done => RefundStatus::Done,
            RefundState::ManualQueue => RefundStatus::ManualQueue,
            RefundState::Pending => RefundStatus::Pending,
        }
    }
}

/// Refunds waiting to be executed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RefundQueue: Send + Sync {
    /// Claims up to `limit` due refunds (`FOR UPDATE SKIP LOCKED`), marking them in progress.
    async fn claim_due(&self, limit: u32) -> Result<Vec<DueRefund>, RepositoryError>;
    /// Records where a claimed refund ended.
    async fn settle(
        &self,
        id: i64,
        state: RefundState,
        detail: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(), RepositoryError>;
    /// An operator refunded a refund of the manual queue by hand (`detail` says who and how): it is
    /// done, and the money leaves the ledger. False when refund `id` is not in the manual queue.
    async fn settle_by_hand(
        &self,
        id: i64,
        detail: String,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}

/// A payout to instruct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePayout {
    /// Row id.
    pub id: i64,
    /// The trade.
    pub trade_id: TradeId,
    /// The seller to pay.
    pub seller_id: crate::ids::MemberId,
    /// The seller payout.
    pub amount: crate::money::Money,
    /// The payout date.
    pub due_date: time::Date,
}

/// Instructs payouts to sellers (a bank's transfer API, or the operator's transfer file).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PayoutInstructor: Send + Sync {
    /// Instructs one payout; must be idempotent per payout (a retry after a crash repeats it).
    async fn instruct(&self, payout: &DuePayout, now: OffsetDateTime) -> Result<(), DeliveryError>;
}

/// Payouts waiting to be instructed.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PayoutQueue: Send + Sync {
    /// Claims up to `limit` due payouts (`FOR UPDATE SKIP LOCKED`), marking them in progress.
    async fn claim_due(&self, limit: u32) -> Result<Vec<DuePayout>, RepositoryError>;
    /// Records a claimed payout as instructed, or puts it back to be tried again.
    async fn settle(
        &self,
        id: i64,
        instructed: bool,
        now: OffsetDateTime,
    ) -> Result<(), RepositoryError>;
}
