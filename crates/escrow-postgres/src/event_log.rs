//! The partner's event log over the outbox: callback rows with their attempts, newest first, and
//! redelivery of one of them (SPEC §18).

use async_trait::async_trait;
use diesel::PgAnyJsonExpressionMethods;
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::delivery::{OutboxKind, OutboxPayload};
use escrow_domain::event_log::{
    DeliveryAttempt, DeliveryState, EventFilter, EventLog, LoggedEvent,
};
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{outbox, outbox_attempts};

/// The event log.
#[derive(Clone)]
pub struct PgEventLog {
    pool: DbPool,
}

impl PgEventLog {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgEventLog { pool }
    }
}

type EventRow = (
    i64,
    Uuid,
    Option<Uuid>,
    serde_json::Value,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

const CALLBACK: &str = "CALLBACK";

fn columns() -> (
    outbox::id,
    outbox::event_id,
    outbox::trade_id,
    outbox::payload,
    outbox::status,
    outbox::created_at,
    outbox::delivered_at,
) {
    (
        outbox::id,
        outbox::event_id,
        outbox::trade_id,
        outbox::payload,
        outbox::status,
        outbox::created_at,
        outbox::delivered_at,
    )
}

/// The rows with their attempts, in the rows' order.
async fn with_attempts(
    conn: &mut diesel_async::AsyncPgConnection,
    rows: Vec<EventRow>,
) -> Result<Vec<LoggedEvent>, RepositoryError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let attempts: Vec<(i64, OffsetDateTime, String, Option<String>)> = outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq_any(&ids))
        .order((outbox_attempts::outbox_id, outbox_attempts::id))
        .select((
            outbox_attempts::outbox_id,
            outbox_attempts::attempted_at,
            outbox_attempts::outcome,
            outbox_attempts::detail,
        ))
        .load(conn)
        .await
        .map_err(storage_error)?;
    rows.into_iter()
        .map(
            |(id, _, trade_id, payload, status, created_at, delivered_at)| {
                let callback = match OutboxPayload::from_stored(OutboxKind::Callback, payload)
                    .map_err(corrupt)?
                {
                    OutboxPayload::Callback(c) => c,
                    OutboxPayload::AlimTalk(_) => return Err(corrupt("callback payload")),
                };
                Ok(LoggedEvent {
                    callback,
                    trade_id: trade_id.map(TradeId),
                    created_at,
                    state: DeliveryState::from_code(&status)
                        .ok_or_else(|| corrupt("outbox status"))?,
                    delivered_at,
                    attempts: attempts
                        .iter()
                        .filter(|a| a.0 == id)
                        .map(|a| DeliveryAttempt {
                            at: a.1,
                            outcome: a.2.clone(),
                            detail: a.3.clone(),
                        })
                        .collect(),
                })
            },
        )
        .collect()
}

#[async_trait]
impl EventLog for PgEventLog {
    async fn list(
        &self,
        partner_id: PartnerId,
        since: OffsetDateTime,
        f: &EventFilter,
        limit: u32,
    ) -> Result<Vec<LoggedEvent>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut q = outbox::table
            .filter(outbox::partner_id.eq(partner_id.0))
            .filter(outbox::kind.eq(CALLBACK))
            .filter(outbox::created_at.ge(since))
            .select(columns())
            .into_boxed();
        if let Some(t) = &f.event_type {
            q = q.filter(outbox::payload.retrieve_as_text("type").eq(t.clone()));
        }
        if let Some(t) = f.trade_id {
            q = q.filter(outbox::trade_id.eq(t.0));
        }
        if let Some(after) = f.created_after {
            q = q.filter(outbox::created_at.gt(after));
        }
        match f.delivered {
            Some(true) => q = q.filter(outbox::status.eq(DeliveryState::Delivered.code())),
            Some(false) => q = q.filter(outbox::status.ne(DeliveryState::Delivered.code())),
            None => {}
        }
        if let Some(c) = f.cursor {
            let at = crate::queries::from_micros(c.created_at_micros)?;
            q = q.filter(
                outbox::created_at
                    .lt(at)
                    .or(outbox::created_at.eq(at).and(outbox::event_id.lt(c.id))),
            );
        }
        let rows: Vec<EventRow> = q
            .order((outbox::created_at.desc(), outbox::event_id.desc()))
            .limit(i64::from(limit.min(1_000)))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        with_attempts(&mut conn, rows).await
    }

    async fn redeliver(
        &self,
        partner_id: PartnerId,
        event_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Option<LoggedEvent>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Option<EventRow> = diesel::update(
            outbox::table
                .filter(outbox::partner_id.eq(partner_id.0))
                .filter(outbox::kind.eq(CALLBACK))
                .filter(outbox::event_id.eq(event_id)),
        )
        .set((
            outbox::status.eq(DeliveryState::Pending.code()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::retry_from.eq(Some(now)),
        ))
        .returning(columns())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(storage_error)?;
        match row {
            Some(row) => Ok(with_attempts(&mut conn, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }
}
