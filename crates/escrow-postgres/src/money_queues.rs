//! Money leaving escrow, in PostgreSQL: the refund and payout queues the jobs claim from (`FOR UPDATE
//! SKIP LOCKED`), and what settling a claimed item writes in one transaction — its status, its journal
//! entry (refunded through the PG; payout instructed) and, for a payout, the `trade.paid_out` callback.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};
use escrow_domain::ids::{CheckoutId, PartnerId, TradeId};
use escrow_domain::ledger::{payout_instructed, refund_sent, MoneyOrigin};
use escrow_domain::money::{Currency, Money};
use escrow_domain::money_out::{PayoutStatus, RefundStatus};
use escrow_domain::notification::CallbackType;
use escrow_domain::ports::RepositoryError;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error, TxError};
use crate::ledger::{post, MoneyRows};
use crate::migrate::DbPool;
use crate::trades::TradeDocument;

/// The refund and payout queues.
#[derive(Clone)]
pub struct PgMoneyOut {
    pool: DbPool,
    document: TradeDocument,
}

impl PgMoneyOut {
    /// Over this pool; `trade.paid_out` callbacks carry `document` of the trade (the API's trade body).
    pub fn new(pool: DbPool, document: TradeDocument) -> Self {
        PgMoneyOut { pool, document }
    }
}

#[async_trait]
impl escrow_domain::delivery::RefundQueue for PgMoneyOut {
    async fn claim_due(
        &self,
        limit: u32,
    ) -> Result<Vec<escrow_domain::delivery::DueRefund>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            id: i64,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
            trade_id: Option<Uuid>,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            checkout_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            pg_transaction_id: Option<String>,
            #[diesel(sql_type = diesel::sql_types::Int8)]
            amount: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            currency: String,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = diesel::sql_query(
            "UPDATE refunds r SET status = $2 WHERE r.id IN \
               (SELECT id FROM refunds WHERE status = $3 ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING r.id, r.trade_id, \
               coalesce(r.checkout_id, (SELECT t.checkout_id FROM trades t WHERE t.id = r.trade_id)) AS checkout_id, \
               r.pg_transaction_id, r.amount, r.currency",
        )
        .bind::<diesel::sql_types::Int8, _>(i64::from(limit))
        .bind::<diesel::sql_types::Text, _>(RefundStatus::Refunding.code())
        .bind::<diesel::sql_types::Text, _>(RefundStatus::Pending.code())
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        rows.into_iter()
            .map(|r| {
                let currency: Currency = r.currency.parse().map_err(corrupt)?;
                Ok(escrow_domain::delivery::DueRefund {
                    id: r.id,
                    trade_id: r.trade_id.map(TradeId),
                    checkout_id: escrow_domain::ids::CheckoutId(r.checkout_id),
                    transaction_id: r.pg_transaction_id,
                    amount: Money::new(r.amount, currency),
                })
            })
            .collect()
    }

    async fn settle(
        &self,
        id: i64,
        state: escrow_domain::delivery::RefundState,
        detail: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        let status = state.status();
        RefundStatus::Refunding
            .check(status)
            .map_err(|e| RepositoryError::InvariantViolated(e.to_string()))?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            finish_refund(conn, id, RefundStatus::Refunding, status, detail, now).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn settle_by_hand(
        &self,
        id: i64,
        detail: String,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let from = RefundStatus::ManualQueue;
            Ok(finish_refund(conn, id, from, RefundStatus::Done, Some(detail), now).await?)
        })
        .await
        .map_err(|e| e.0)
    }
}

/// Moves refund `id` from `from` to `to` (in the caller's transaction); when it is done, posts the
/// refund leaving the ledger. False when the refund was not at `from`.
async fn finish_refund(
    conn: &mut diesel_async::AsyncPgConnection,
    id: i64,
    from: RefundStatus,
    to: RefundStatus,
    detail: Option<String>,
    now: OffsetDateTime,
) -> Result<bool, RepositoryError> {
    let settled: Option<Settled> = diesel::sql_query(
        "UPDATE refunds r SET status = $2, detail = $3, completed_at = $4 \
         FROM checkouts c \
         WHERE r.id = $1 AND r.status = $5 AND c.id = coalesce(r.checkout_id, \
           (SELECT t.checkout_id FROM trades t WHERE t.id = r.trade_id)) \
         RETURNING r.trade_id, c.id AS checkout_id, c.partner_id, r.amount, r.currency",
    )
    .bind::<diesel::sql_types::Int8, _>(id)
    .bind::<diesel::sql_types::Text, _>(to.code())
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(detail)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, _>(
        (to == RefundStatus::Done).then_some(now),
    )
    .bind::<diesel::sql_types::Text, _>(from.code())
    .get_result(conn)
    .await
    .optional()
    .map_err(crate::errors::storage_error)?;
    let Some(r) = settled else {
        return Ok(false);
    };
    if to == RefundStatus::Done {
        let entry = refund_sent(r.origin(), r.money()?);
        let rows = MoneyRows {
            refund_id: Some(id),
            payout_id: None,
        };
        post(conn, &[entry], rows, now).await?;
    }
    Ok(true)
}

#[async_trait]
impl escrow_domain::delivery::PayoutQueue for PgMoneyOut {
    async fn claim_due(
        &self,
        limit: u32,
    ) -> Result<Vec<escrow_domain::delivery::DuePayout>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            id: i64,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            trade_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            seller_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Int8)]
            amount: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            currency: String,
            #[diesel(sql_type = diesel::sql_types::Date)]
            due_date: Date,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = diesel::sql_query(
            "UPDATE payouts SET status = $2 WHERE id IN \
               (SELECT id FROM payouts WHERE status = $3 \
                AND EXISTS (SELECT 1 FROM payout_accounts a WHERE a.member_id = payouts.seller_id) \
                ORDER BY due_date, id LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, trade_id, seller_id, amount, currency, due_date",
        )
        .bind::<diesel::sql_types::Int8, _>(i64::from(limit))
        .bind::<diesel::sql_types::Text, _>(PayoutStatus::Instructing.code())
        .bind::<diesel::sql_types::Text, _>(PayoutStatus::Due.code())
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        rows.into_iter()
            .map(|r| {
                let currency: Currency = r.currency.parse().map_err(corrupt)?;
                Ok(escrow_domain::delivery::DuePayout {
                    id: r.id,
                    trade_id: TradeId(r.trade_id),
                    seller_id: escrow_domain::ids::MemberId(r.seller_id),
                    amount: Money::new(r.amount, currency),
                    due_date: r.due_date,
                })
            })
            .collect()
    }

    async fn settle(
        &self,
        id: i64,
        instructed: bool,
        now: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        use crate::schema::payouts;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        if !instructed {
            diesel::update(
                payouts::table
                    .filter(payouts::id.eq(id))
                    .filter(payouts::status.eq(PayoutStatus::Instructing.code())),
            )
            .set(payouts::status.eq(PayoutStatus::Due.code()))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
            return Ok(());
        }
        let document = self.document.clone();
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let settled: Option<Settled> = diesel::sql_query(
                "UPDATE payouts p SET status = $2, instructed_at = $3 FROM trades t \
                 WHERE p.id = $1 AND p.status = $4 AND t.id = p.trade_id \
                 RETURNING p.trade_id, t.checkout_id, t.partner_id, p.amount, p.currency",
            )
            .bind::<diesel::sql_types::Int8, _>(id)
            .bind::<diesel::sql_types::Text, _>(PayoutStatus::Instructed.code())
            .bind::<diesel::sql_types::Timestamptz, _>(now)
            .bind::<diesel::sql_types::Text, _>(PayoutStatus::Instructing.code())
            .get_result(conn)
            .await
            .optional()?;
            let Some(p) = settled else {
                return Ok(());
            };
            let entry = payout_instructed(p.origin(), p.money()?);
            let rows = MoneyRows {
                refund_id: None,
                payout_id: Some(id),
            };
            post(conn, &[entry], rows, now).await?;
            // The partner hears of it with the trade as the API shows it.
            let row = crate::schema::trades::table
                .filter(crate::schema::trades::id.eq(p.trade_id.unwrap_or_default()))
                .select(crate::trades::TradeRow::as_select())
                .first(conn)
                .await?;
            let trade = escrow_domain::trade::Trade::try_from(row)?;
            crate::outbox::insert_trade_callback(
                conn,
                &trade,
                CallbackType::TradePaidOut,
                document(&trade),
                now,
            )
            .await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }
}

/// What settling a refund or payout returns: whose money, how much.
#[derive(diesel::QueryableByName)]
struct Settled {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
    trade_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    checkout_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    partner_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    amount: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
}

impl Settled {
    fn origin(&self) -> MoneyOrigin {
        MoneyOrigin {
            partner_id: PartnerId(self.partner_id),
            checkout_id: CheckoutId(self.checkout_id),
            trade_id: self.trade_id.map(TradeId),
        }
    }

    fn money(&self) -> Result<Money, RepositoryError> {
        let currency: Currency = self.currency.parse().map_err(corrupt)?;
        Ok(Money::new(self.amount, currency))
    }
}
