//! Trades: the `TradeRepository` port. One transaction per transition writes the trade (optimistically
//! locked on its version), its event, its timers, its outbox rows and its money and product effects.

use std::sync::Arc;

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::checkout::CheckoutStatus;
use escrow_domain::delivery::{OutboxPayload, PartnerCallback, QueuedAlimTalk};
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::notification::Recipient;
use escrow_domain::ports::{DueTimer, RepositoryError, TradeRepository};
use escrow_domain::trade::{
    Actor, Timer, TimerKind, Trade, TradeStatus, Transition, WithdrawalStatus,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error, TxError};
use crate::migrate::DbPool;
use crate::schema::{checkouts, products, trade_events, trade_timers, trades};

/// A `trades` row.
#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = trades, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct TradeRow {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub checkout_id: Uuid,
    pub partner_trade_no: Option<String>,
    pub buyer_id: Uuid,
    pub seller_id: Uuid,
    pub product_id: Uuid,
    pub method: String,
    pub trade_type: String,
    pub currency: String,
    pub payment_amount: i64,
    pub escrow_fee: i64,
    pub seller_payout: i64,
    pub status_cd: i16,
    pub complete_cd: i16,
    pub held: bool,
    pub delivered_at: Option<OffsetDateTime>,
    pub payout_date: Option<time::Date>,
    pub version: i64,
    pub snapshot: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub test_clock_id: Option<Uuid>,
}

fn code_of<T: serde::Serialize>(value: &T) -> Result<String, RepositoryError> {
    match serde_json::to_value(value).map_err(corrupt)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(corrupt(format!("expected a code, got {other}"))),
    }
}

impl TradeRow {
    pub(crate) fn from_domain(t: &Trade) -> Result<Self, RepositoryError> {
        Ok(TradeRow {
            id: t.id.0,
            partner_id: t.partner_id.0,
            checkout_id: t.checkout_id.0,
            partner_trade_no: t.partner_trade_no.clone(),
            buyer_id: t.buyer_id.0,
            seller_id: t.seller_id.0,
            product_id: t.product_id.0,
            method: t.method.code().to_owned(),
            trade_type: code_of(&t.trade_type)?,
            currency: t.quote.payment_amount.currency().code().to_owned(),
            payment_amount: t.quote.payment_amount.minor_units(),
            escrow_fee: t.quote.escrow_fee.minor_units(),
            seller_payout: t.quote.seller_payout.minor_units(),
            status_cd: i16::from(t.status.code()),
            complete_cd: i16::from(t.withdrawal.code()),
            held: t.held,
            delivered_at: t.delivered_at,
            payout_date: t.deadlines.payout_date,
            version: t.version,
            snapshot: serde_json::to_value(t).map_err(corrupt)?,
            created_at: t.created_at,
            updated_at: t.updated_at,
            test_clock_id: t.test_clock.map(|c| c.0),
        })
    }
}

impl TryFrom<TradeRow> for Trade {
    type Error = RepositoryError;

    /// The snapshot, checked against the columns queries rely on.
    fn try_from(row: TradeRow) -> Result<Self, Self::Error> {
        let trade: Trade = serde_json::from_value(row.snapshot).map_err(corrupt)?;
        let consistent = trade.id.0 == row.id
            && trade.partner_id.0 == row.partner_id
            && i16::from(trade.status.code()) == row.status_cd
            && i16::from(trade.withdrawal.code()) == row.complete_cd
            && trade.version == row.version
            && trade.held == row.held
            && trade.quote.payment_amount.minor_units() == row.payment_amount;
        if !consistent {
            return Err(corrupt(format!(
                "trade {} columns disagree with its snapshot",
                row.id
            )));
        }
        Ok(trade)
    }
}

/// The stable key of a timer kind (`APPROVAL_REMINDER_3`).
pub(crate) fn timer_key(kind: TimerKind) -> String {
    match kind {
        TimerKind::DepositReminder => "DEPOSIT_REMINDER".into(),
        TimerKind::DepositDeadline => "DEPOSIT_DEADLINE".into(),
        TimerKind::DeliveredApprovalRequest => "DELIVERED_APPROVAL_REQUEST".into(),
        TimerKind::ApprovalReminder {
            business_days_before,
        } => format!("APPROVAL_REMINDER_{business_days_before}"),
        TimerKind::AutoApproval => "AUTO_APPROVAL".into(),
        TimerKind::AutoCancelAgreement => "AUTO_CANCEL_AGREEMENT".into(),
        TimerKind::Payout => "PAYOUT".into(),
        TimerKind::ReturnRefund => "RETURN_REFUND".into(),
    }
}

fn actor_parts(actor: &Actor) -> (&'static str, Option<String>) {
    match actor {
        Actor::Buyer(id) => ("BUYER", Some(id.to_string())),
        Actor::Seller(id) => ("SELLER", Some(id.to_string())),
        Actor::Partner(id) => ("PARTNER", Some(id.to_string())),
        Actor::Operator(name) => ("OPERATOR", Some(name.clone())),
        Actor::Batch(job) => ("BATCH", Some(job.clone())),
        Actor::PaymentGateway => ("PAYMENT_GATEWAY", None),
    }
}

/// The partner callback body (SPEC §9): `{eventId, type, occurredAt, sequence, data}`.
pub fn callback_body(
    event_id: Uuid,
    transition: &Transition,
    kind: &str,
    document: &TradeDocument,
) -> PartnerCallback {
    PartnerCallback::new(
        event_id,
        kind,
        transition.event.at,
        Some(transition.trade.version),
        document(&transition.trade),
    )
}

/// The outbox rows a transition causes: one per AlimTalk, one per callback, as
/// `(event id, kind, payload)`.
fn outbox_rows(
    t: &Transition,
    document: &TradeDocument,
) -> Result<Vec<(Uuid, &'static str, serde_json::Value)>, RepositoryError> {
    let trade = &t.trade;
    let mut rows = Vec::new();
    for n in &t.notifications {
        let member = match n.recipient {
            Recipient::Buyer => trade.buyer_id,
            Recipient::Seller => trade.seller_id,
        };
        let event_id = Uuid::new_v4();
        rows.push((
            event_id,
            "ALIMTALK",
            OutboxPayload::AlimTalk(QueuedAlimTalk {
                event_id,
                template: n.template,
                recipient: n.recipient,
                member_id: member,
                trade_id: Some(trade.id),
                variables: n.variables.clone(),
            })
            .to_stored(),
        ));
    }
    for kind in &t.callbacks {
        let event_id = Uuid::new_v4();
        rows.push((
            event_id,
            "CALLBACK",
            OutboxPayload::Callback(callback_body(event_id, t, kind.as_str(), document))
                .to_stored(),
        ));
    }
    Ok(rows)
}

/// Whether a transition touches more than the trade row, its event and its outbox rows (a transition
/// that moves money always does: its journal entries).
fn has_side_tables(t: &Transition) -> bool {
    t.timers_changed || !t.money.is_empty() || t.product.is_some() || moves_money(t)
}

fn moves_money(t: &Transition) -> bool {
    !escrow_domain::ledger::entries_for(t).is_empty()
}

/// One statement that updates the trade (if its version is still `previous`), records the event and
/// queues the outbox rows; returns whether the trade was updated. Atomic on its own.
async fn update_with_event_and_outbox(
    conn: &mut AsyncPgConnection,
    row: &TradeRow,
    previous: i64,
    t: &Transition,
    document: &TradeDocument,
) -> Result<bool, RepositoryError> {
    use diesel::sql_types::{
        Bool, Int2, Int8, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
    };
    #[derive(diesel::QueryableByName)]
    struct Updated {
        #[diesel(sql_type = Int8)]
        n: i64,
    }
    let (actor_role, actor_id) = actor_parts(&t.event.actor);
    let outbox: Vec<serde_json::Value> = outbox_rows(t, document)?
        .into_iter()
        .map(|(id, kind, payload)| serde_json::json!({ "event_id": id, "kind": kind, "payload": payload }))
        .collect();
    // A test clock's outbox rows are first tried at once and count as queued from the later of the
    // change and the database's now, whatever instant the clock stands at (as `outbox::queue_times`).
    let updated: Updated = diesel::sql_query(
        "WITH u AS ( \
           UPDATE trades SET status_cd = $2, complete_cd = $3, held = $4, delivered_at = $5, payout_date = $6, \
             version = $7, snapshot = $8, updated_at = $9 \
           WHERE id = $1 AND version = $10 RETURNING id, partner_id), \
         e AS ( \
           INSERT INTO trade_events (trade_id, sequence, command, actor_role, actor_id, from_status, to_status, \
             from_withdrawal, to_withdrawal, reason, occurred_at) \
           SELECT id, $7, $11, $12, $13, $14, $15, $16, $17, $18, $9 FROM u), \
         o AS ( \
           INSERT INTO outbox (event_id, kind, partner_id, trade_id, sequence, payload, next_attempt_at, created_at) \
           SELECT x.event_id, x.kind, u.partner_id, u.id, $7, x.payload, \
             CASE WHEN $20 THEN LEAST(now(), $9) ELSE $9 END, CASE WHEN $20 THEN GREATEST(now(), $9) ELSE $9 END \
           FROM u, jsonb_to_recordset($19) AS x(event_id uuid, kind text, payload jsonb)) \
         SELECT count(*) AS n FROM u",
    )
    .bind::<SqlUuid, _>(row.id)
    .bind::<Int2, _>(row.status_cd)
    .bind::<Int2, _>(row.complete_cd)
    .bind::<Bool, _>(row.held)
    .bind::<Nullable<Timestamptz>, _>(row.delivered_at)
    .bind::<Nullable<diesel::sql_types::Date>, _>(row.payout_date)
    .bind::<Int8, _>(row.version)
    .bind::<Jsonb, _>(&row.snapshot)
    .bind::<Timestamptz, _>(row.updated_at)
    .bind::<Int8, _>(previous)
    .bind::<Text, _>(&t.event.command)
    .bind::<Text, _>(actor_role)
    .bind::<Nullable<Text>, _>(actor_id)
    .bind::<Nullable<Int2>, _>(t.event.from_status.map(|s| i16::from(s.code())))
    .bind::<Int2, _>(i16::from(t.event.to_status.code()))
    .bind::<Nullable<Int2>, _>(t.event.from_withdrawal.map(|w| i16::from(w.code())))
    .bind::<Int2, _>(i16::from(t.event.to_withdrawal.code()))
    .bind::<Nullable<Text>, _>(&t.event.reason)
    .bind::<Jsonb, _>(serde_json::Value::Array(outbox))
    .bind::<Bool, _>(t.trade.test_clock.is_some())
    .get_result(conn)
    .await
    .map_err(storage_error)?;
    Ok(updated.n == 1)
}

/// Writes everything a transition causes except the trade row itself.
pub(crate) async fn write_effects(
    conn: &mut AsyncPgConnection,
    t: &Transition,
    document: &TradeDocument,
) -> Result<(), RepositoryError> {
    write_event_and_outbox(conn, t, document).await?;
    write_side_tables(conn, t).await
}

async fn write_event_and_outbox(
    conn: &mut AsyncPgConnection,
    t: &Transition,
    document: &TradeDocument,
) -> Result<(), RepositoryError> {
    let trade = &t.trade;
    let now = t.event.at;
    let (actor_role, actor_id) = actor_parts(&t.event.actor);
    diesel::insert_into(trade_events::table)
        .values((
            trade_events::trade_id.eq(trade.id.0),
            trade_events::sequence.eq(t.event.sequence),
            trade_events::command.eq(&t.event.command),
            trade_events::actor_role.eq(actor_role),
            trade_events::actor_id.eq(actor_id),
            trade_events::from_status.eq(t.event.from_status.map(|s| i16::from(s.code()))),
            trade_events::to_status.eq(i16::from(t.event.to_status.code())),
            trade_events::from_withdrawal.eq(t.event.from_withdrawal.map(|w| i16::from(w.code()))),
            trade_events::to_withdrawal.eq(i16::from(t.event.to_withdrawal.code())),
            trade_events::reason.eq(&t.event.reason),
            trade_events::occurred_at.eq(now),
        ))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    for (event_id, kind, payload) in outbox_rows(t, document)? {
        crate::outbox::insert_outbox(conn, event_id, kind, t, payload).await?;
    }
    Ok(())
}

/// Timers, money and product effects of a transition, and the journal entries of the money it moves.
async fn write_side_tables(
    conn: &mut AsyncPgConnection,
    t: &Transition,
) -> Result<(), RepositoryError> {
    let trade = &t.trade;
    let now = t.event.at;
    if t.timers_changed {
        write_timers(conn, t).await?;
    }
    let rows = crate::money_out::write_money_and_product(conn, t, trade, now).await?;
    crate::ledger::post(conn, &escrow_domain::ledger::entries_for(t), rows, now).await
}

async fn write_timers(conn: &mut AsyncPgConnection, t: &Transition) -> Result<(), RepositoryError> {
    let trade = &t.trade;
    diesel::delete(trade_timers::table.filter(trade_timers::trade_id.eq(trade.id.0)))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    for Timer { kind, due } in &t.timers {
        diesel::insert_into(trade_timers::table)
            .values((
                trade_timers::trade_id.eq(trade.id.0),
                trade_timers::kind.eq(timer_key(*kind)),
                trade_timers::partner_id.eq(trade.partner_id.0),
                trade_timers::due_at.eq(*due),
                trade_timers::payload.eq(serde_json::to_value(kind).map_err(corrupt)?),
            ))
            .execute(conn)
            .await
            .map_err(storage_error)?;
    }

    Ok(())
}

/// Trades in PostgreSQL.
#[derive(Clone)]
pub struct PgTradeRepository {
    pool: DbPool,
    document: TradeDocument,
}

/// How a trade appears to partners: the `data` of its callbacks, which must be exactly the body the
/// API answers for the trade (SPEC §9). The HTTP adapter owns that format; the server passes it in.
pub type TradeDocument = Arc<dyn Fn(&Trade) -> serde_json::Value + Send + Sync>;

impl PgTradeRepository {
    /// Over this pool, with callbacks carrying `document` of the trade (the API's trade body).
    pub fn new(pool: DbPool, document: TradeDocument) -> Self {
        PgTradeRepository { pool, document }
    }
}

#[async_trait]
impl TradeRepository for PgTradeRepository {
    async fn get(
        &self,
        partner_id: PartnerId,
        id: TradeId,
    ) -> Result<Option<Trade>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = trades::table
            .filter(trades::id.eq(id.0))
            .filter(trades::partner_id.eq(partner_id.0))
            .select(TradeRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        row.map(Trade::try_from).transpose()
    }

    async fn insert_opened(&self, transition: &Transition) -> Result<(), RepositoryError> {
        let row = TradeRow::from_domain(&transition.trade)?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            diesel::insert_into(trades::table)
                .values(&row)
                .execute(conn)
                .await?;
            let updated = diesel::update(
                checkouts::table
                    .filter(checkouts::id.eq(row.checkout_id))
                    .filter(checkouts::status.eq(CheckoutStatus::Open.code())),
            )
            .set((
                checkouts::status.eq(CheckoutStatus::Paid.code()),
                checkouts::trade_id.eq(Some(row.id)),
                // The transaction that paid: any other one of this checkout is a late confirmation.
                checkouts::pg_transaction_id.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Text>,
                >("coalesce(")
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(
                    transition.trade.payment_transaction_id.clone(),
                )
                .sql(", pg_transaction_id)")),
                checkouts::updated_at.eq(row.created_at),
            ))
            .execute(conn)
            .await?;
            if updated != 1 {
                // The checkout changed meanwhile (paid by the other path, failed or expired).
                return Err(TxError(RepositoryError::Conflict));
            }
            diesel::update(products::table.filter(products::id.eq(row.product_id)))
                .set(products::has_trades.eq(true))
                .execute(conn)
                .await?;
            write_effects(conn, transition, &self.document).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn save_transition(&self, transition: &Transition) -> Result<(), RepositoryError> {
        let row = TradeRow::from_domain(&transition.trade)?;
        let previous = transition.previous_version();
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        if !has_side_tables(transition) {
            // One statement, atomic on its own: no transaction round trips needed.
            return if update_with_event_and_outbox(
                &mut conn,
                &row,
                previous,
                transition,
                &self.document,
            )
            .await?
            {
                Ok(())
            } else {
                Err(RepositoryError::Conflict)
            };
        }
        conn.transaction(async move |conn| -> Result<_, TxError> {
            if !update_with_event_and_outbox(conn, &row, previous, transition, &self.document)
                .await?
            {
                return Err(TxError(RepositoryError::Conflict));
            }
            write_side_tables(conn, transition).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn due_timers(
        &self,
        test_clock: Option<escrow_domain::ids::TestClockId>,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<DueTimer>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut q = trade_timers::table
            .filter(trade_timers::due_at.le(now))
            .into_boxed();
        // Trades on a test clock are left to their clock; the real-time jobs see the others.
        q = match test_clock {
            Some(c) => q.filter(
                trade_timers::trade_id.eq_any(
                    trades::table
                        .filter(trades::test_clock_id.eq(c.0))
                        .select(trades::id),
                ),
            ),
            None => q.filter(diesel::dsl::not(
                trade_timers::trade_id.eq_any(
                    trades::table
                        .filter(trades::test_clock_id.is_not_null())
                        .select(trades::id),
                ),
            )),
        };
        let rows: Vec<(Uuid, Uuid, serde_json::Value, OffsetDateTime)> = q
            .order(trade_timers::due_at.asc())
            .limit(i64::from(limit))
            .select((
                trade_timers::trade_id,
                trade_timers::partner_id,
                trade_timers::payload,
                trade_timers::due_at,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(|(trade_id, partner_id, payload, due)| {
                Ok(DueTimer {
                    partner_id: PartnerId(partner_id),
                    trade_id: TradeId(trade_id),
                    timer: Timer {
                        kind: serde_json::from_value(payload).map_err(corrupt)?,
                        due,
                    },
                })
            })
            .collect()
    }
}

/// A trade's status and withdrawal columns, for tests and admin lists that need no snapshot.
pub async fn status_of(
    pool: &DbPool,
    id: TradeId,
) -> Result<Option<(TradeStatus, WithdrawalStatus)>, RepositoryError> {
    let mut conn = pool.get().await.map_err(pool_error)?;
    let row: Option<(i16, i16)> = trades::table
        .filter(trades::id.eq(id.0))
        .select((trades::status_cd, trades::complete_cd))
        .first(&mut conn)
        .await
        .optional()
        .map_err(storage_error)?;
    row.map(|(s, w)| {
        let s = u8::try_from(s)
            .ok()
            .and_then(TradeStatus::from_code)
            .ok_or_else(|| corrupt("status_cd"))?;
        let w = u8::try_from(w)
            .ok()
            .and_then(WithdrawalStatus::from_code)
            .ok_or_else(|| corrupt("complete_cd"))?;
        Ok((s, w))
    })
    .transpose()
}
