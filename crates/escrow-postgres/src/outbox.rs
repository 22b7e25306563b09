//! The outbox in PostgreSQL: claimed with `FOR UPDATE SKIP LOCKED` and leased, so any number of
//! workers in any number of instances share it; every attempt is recorded.

use async_trait::async_trait;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::delivery::{
    AttemptOutcome, OutboxKind, OutboxMessage, OutboxPayload, OutboxStats, OutboxStore,
    PartnerCallback,
};
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::ports::RepositoryError;
use escrow_domain::trade::Transition;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::errors::TxError;
use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{outbox, outbox_attempts};

/// The outbox.
#[derive(Clone)]
pub struct PgOutbox {
    pool: DbPool,
}

impl PgOutbox {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgOutbox { pool }
    }
}

// When a row about something that happened at `at` is queued and first tried. On a test clock (SPEC
// §16) `at` is the clock's instant, possibly far in the past or future: such a row counts as queued at
// the later of `at` and the database's now (listed, and retried for 24 hours, from then) and is first
// tried at the earlier (at once). Any other row is queued and tried at `at`, the service's now.
diesel::define_sql_function! {
    /// The database's `now()` as a `timestamptz`.
    #[sql_name = "now"]
    fn database_now() -> diesel::sql_types::Timestamptz;
}
diesel::define_sql_function! {
    /// SQL `GREATEST`.
    fn greatest(a: diesel::sql_types::Timestamptz, b: diesel::sql_types::Timestamptz) -> diesel::sql_types::Timestamptz;
}
diesel::define_sql_function! {
    /// SQL `LEAST`.
    fn least(a: diesel::sql_types::Timestamptz, b: diesel::sql_types::Timestamptz) -> diesel::sql_types::Timestamptz;
}

/// `(next_attempt_at, created_at)` of a row about `$at`, `$on_clock` saying whether it is a test
/// clock's.
macro_rules! queue_times {
    ($at:expr, $on_clock:expr) => {{
        use diesel::IntoSql;
        let at = $at;
        let on_clock = $on_clock.into_sql::<diesel::sql_types::Bool>();
        (
            outbox::next_attempt_at.eq(diesel::dsl::case_when(on_clock, least(database_now(), at))
                .otherwise(at.into_sql::<diesel::sql_types::Timestamptz>())),
            outbox::created_at.eq(
                diesel::dsl::case_when(on_clock, greatest(database_now(), at))
                    .otherwise(at.into_sql::<diesel::sql_types::Timestamptz>()),
            ),
        )
    }};
}

type Row = (
    i64,
    Uuid,
    String,
    Uuid,
    Option<Uuid>,
    serde_json::Value,
    i32,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

fn message(r: Row) -> Result<OutboxMessage, RepositoryError> {
    let kind = match r.2.as_str() {
        "ALIMTALK" => OutboxKind::Alimtalk,
        "CALLBACK" => OutboxKind::Callback,
        other => return Err(corrupt(format!("outbox kind {other}"))),
    };
    Ok(OutboxMessage {
        id: r.0,
        event_id: r.1,
        kind,
        partner_id: PartnerId(r.3),
        trade_id: r.4.map(TradeId),
        payload: OutboxPayload::from_stored(kind, r.5).map_err(corrupt)?,
        attempts: r.6,
        created_at: r.7,
        retry_from: r.8.unwrap_or(r.7),
    })
}

#[derive(diesel::QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    event_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    partner_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    trade_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = diesel::sql_types::Int4)]
    attempts: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    created_at: OffsetDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    retry_from: Option<OffsetDateTime>,
}

#[async_trait]
impl OutboxStore for PgOutbox {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Claimed> = diesel::sql_query(
            "UPDATE outbox SET next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM outbox WHERE status = 'PENDING' AND next_attempt_at <= $1 \
                          ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, event_id, kind, partner_id, trade_id, payload, attempts, created_at, retry_from",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .bind::<diesel::sql_types::Timestamptz, _>(now + lease)
        .bind::<diesel::sql_types::Int8, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        let mut out: Vec<OutboxMessage> = rows
            .into_iter()
            .map(|c| {
                message((
                    c.id,
                    c.event_id,
                    c.kind,
                    c.partner_id,
                    c.trade_id,
                    c.payload,
                    c.attempts,
                    c.created_at,
                    c.retry_from,
                ))
            })
            .collect::<Result<_, _>>()?;
        // Deliver in order: oldest first, and a trade's events by sequence.
        out.sort_by_key(|m| (m.created_at, m.id));
        Ok(out)
    }

    async fn record(
        &self,
        id: i64,
        now: OffsetDateTime,
        outcome: &AttemptOutcome,
    ) -> Result<(), RepositoryError> {
        let (status, next, error, label): (&str, Option<OffsetDateTime>, Option<String>, &str) =
            match outcome {
                AttemptOutcome::Delivered => ("DELIVERED", None, None, "DELIVERED"),
                AttemptOutcome::Skipped(why) => ("SKIPPED", None, Some(why.clone()), "SKIPPED"),
                AttemptOutcome::Retry { at, error } => {
                    ("PENDING", Some(*at), Some(error.clone()), "FAILED")
                }
                AttemptOutcome::Dead(error) => ("DEAD", None, Some(error.clone()), "DEAD"),
            };
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            diesel::update(outbox::table.filter(outbox::id.eq(id)))
                .set((
                    outbox::status.eq(status),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::next_attempt_at.eq(next.unwrap_or(now)),
                    outbox::last_error.eq(error.clone()),
                    outbox::delivered_at.eq((status == "DELIVERED").then_some(now)),
                ))
                .execute(conn)
                .await?;
            if status != "PENDING" {
                // Finished: the member key a signup callback carried is not kept at rest.
                diesel::sql_query(
                    "UPDATE outbox SET payload = payload #- '{data,memberKey}' \
                     WHERE id = $1 AND payload->'data' ? 'memberKey'",
                )
                .bind::<diesel::sql_types::Int8, _>(id)
                .execute(conn)
                .await?;
            }
            diesel::insert_into(outbox_attempts::table)
                .values((
                    outbox_attempts::outbox_id.eq(id),
                    outbox_attempts::attempted_at.eq(now),
                    outbox_attempts::outcome.eq(label),
                    outbox_attempts::detail.eq(error),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<OutboxMessage>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = outbox::table
            .filter(outbox::status.eq("DEAD"))
            .order(outbox::created_at.asc())
            .limit(i64::from(limit))
            .select((
                outbox::id,
                outbox::event_id,
                outbox::kind,
                outbox::partner_id,
                outbox::trade_id,
                outbox::payload,
                outbox::attempts,
                outbox::created_at,
                outbox::retry_from,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter().map(message).collect()
    }

    async fn replay(&self, id: i64, now: OffsetDateTime) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // A replay starts a new 24-hour horizon: the row is re-queued with its event id and creation
        // time, its retries counted from now.
        let n = diesel::update(
            outbox::table
                .filter(outbox::id.eq(id))
                .filter(outbox::status.eq("DEAD")),
        )
        .set((
            outbox::status.eq("PENDING"),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::retry_from.eq(Some(now)),
        ))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(n == 1)
    }

    async fn prune_delivered(&self, before: OffsetDateTime) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let finished = outbox::table
                .filter(outbox::status.eq_any(["DELIVERED", "SKIPPED"]))
                .filter(outbox::created_at.lt(before))
                .select(outbox::id);
            diesel::delete(
                outbox_attempts::table.filter(outbox_attempts::outbox_id.eq_any(finished)),
            )
            .execute(conn)
            .await?;
            let n = diesel::delete(
                outbox::table
                    .filter(outbox::status.eq_any(["DELIVERED", "SKIPPED"]))
                    .filter(outbox::created_at.lt(before)),
            )
            .execute(conn)
            .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
        .map_err(|e| e.0)
    }

    async fn stats(&self, now: OffsetDateTime) -> Result<OutboxStats, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct S {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            pending: i64,
            #[diesel(sql_type = diesel::sql_types::Int8)]
            dead: i64,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
            oldest: Option<OffsetDateTime>,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let s: S = diesel::sql_query(
            "SELECT count(*) FILTER (WHERE status = 'PENDING') AS pending, \
                    count(*) FILTER (WHERE status = 'DEAD') AS dead, \
                    min(created_at) FILTER (WHERE status = 'PENDING') AS oldest \
             FROM outbox WHERE status IN ('PENDING', 'DEAD')",
        )
        .get_result(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(OutboxStats {
            pending: s.pending,
            dead: s.dead,
            oldest_pending_seconds: s.oldest.map_or(0, |o| (now - o).whole_seconds().max(0)),
        })
    }
}

/// Queues a partner callback that is not about a trade's state, in the caller's transaction.
pub(crate) async fn insert_partner_event(
    conn: &mut AsyncPgConnection,
    partner_id: Uuid,
    event: &escrow_domain::ports::PartnerEvent,
    now: OffsetDateTime,
    on_test_clock: bool,
) -> Result<(), RepositoryError> {
    let event_id = Uuid::new_v4();
    let body = OutboxPayload::Callback(PartnerCallback::new(
        event_id,
        event.event_type,
        now,
        None,
        event.data.clone(),
    ));
    diesel::insert_into(outbox::table)
        .values((
            outbox::event_id.eq(event_id),
            outbox::kind.eq("CALLBACK"),
            outbox::partner_id.eq(partner_id),
            outbox::payload.eq(body.to_stored()),
            queue_times!(now, on_test_clock),
        ))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}

/// Queues a trade callback of `kind` that is not a transition's (`trade.paid_out`): `data` is the
/// trade as the API shows it, `sequence` the trade's version.
pub(crate) async fn insert_trade_callback(
    conn: &mut AsyncPgConnection,
    trade: &escrow_domain::trade::Trade,
    kind: escrow_domain::notification::CallbackType,
    data: serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), RepositoryError> {
    let event_id = Uuid::new_v4();
    let body = OutboxPayload::Callback(PartnerCallback::new(
        event_id,
        kind.as_str(),
        now,
        Some(trade.version),
        data,
    ));
    diesel::insert_into(outbox::table)
        .values((
            outbox::event_id.eq(event_id),
            outbox::kind.eq("CALLBACK"),
            outbox::partner_id.eq(trade.partner_id.0),
            outbox::trade_id.eq(Some(trade.id.0)),
            outbox::sequence.eq(Some(trade.version)),
            outbox::payload.eq(body.to_stored()),
            queue_times!(now, trade.test_clock.is_some()),
        ))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}

pub(crate) async fn insert_outbox(
    conn: &mut AsyncPgConnection,
    event_id: Uuid,
    kind: &str,
    t: &Transition,
    payload: serde_json::Value,
) -> Result<(), RepositoryError> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::event_id.eq(event_id),
            outbox::kind.eq(kind),
            outbox::partner_id.eq(t.trade.partner_id.0),
            outbox::trade_id.eq(Some(t.trade.id.0)),
            outbox::sequence.eq(Some(t.trade.version)),
            outbox::payload.eq(payload),
            queue_times!(t.event.at, t.trade.test_clock.is_some()),
        ))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}
