//! What operators manage directly: admin keys, contracts, holidays, the manual refund queue.

use async_trait::async_trait;
use diesel::{ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::contract::Contract;
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::ports::{AdminRepository, RefundRecord, RepositoryError};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::rules::PgRulesRepository;
use crate::schema::{admin_keys, refunds, trades};

/// Operator data in PostgreSQL.
#[derive(Clone)]
pub struct PgAdmin {
    pool: DbPool,
    rules: PgRulesRepository,
}

impl PgAdmin {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgAdmin {
            rules: PgRulesRepository::new(pool.clone()),
            pool,
        }
    }
}

#[async_trait]
impl AdminRepository for PgAdmin {
    async fn ping(&self) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn admin_key(&self, key_hash: &str) -> Result<Option<String>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        admin_keys::table
            .filter(admin_keys::key_hash.eq(key_hash))
            .filter(admin_keys::revoked_at.is_null())
            .select(admin_keys::name)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)
    }

    async fn create_admin_key(&self, name: &str, key_hash: &str) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(admin_keys::table)
            .values((
                admin_keys::id.eq(Uuid::new_v4()),
                admin_keys::name.eq(name),
                admin_keys::key_hash.eq(key_hash),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn set_contract(
        &self,
        partner_id: PartnerId,
        contract: &Contract,
        effective_from: OffsetDateTime,
    ) -> Result<i32, RepositoryError> {
        self.rules
            .set_contract(partner_id, contract, effective_from)
            .await
    }

    async fn add_holiday(&self, date: Date, name: &str) -> Result<(), RepositoryError> {
        self.rules.add_holiday(date, name).await
    }

    async fn remove_holiday(&self, date: Date) -> Result<bool, RepositoryError> {
        self.rules.remove_holiday(date).await
    }

    async fn refund_queue(&self) -> Result<Vec<RefundRecord>, RepositoryError> {
        type Row = (
            Uuid,
            Uuid,
            i64,
            String,
            Option<i16>,
            String,
            Option<Date>,
            OffsetDateTime,
        );
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = refunds::table
            .inner_join(trades::table.on(trades::id.eq(refunds::trade_id)))
            .filter(refunds::status.eq_any(["PENDING", "REFUNDING", "MANUAL_QUEUE"]))
            .order(refunds::created_at.asc())
            .select((
                refunds::trade_id,
                trades::partner_id,
                refunds::amount,
                refunds::currency,
                refunds::withdrawal_cd,
                refunds::status,
                refunds::due_date,
                refunds::created_at,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(
                |(trade, partner, amount, currency, w, status, due, created)| {
                    let currency: Currency = currency.parse().map_err(corrupt)?;
                    Ok(RefundRecord {
                        trade_id: TradeId(trade),
                        partner_id: PartnerId(partner),
                        amount: Money::new(amount, currency),
                        withdrawal_code: w.and_then(|w| u8::try_from(w).ok()),
                        status,
                        due_date: due,
                        created_at: created,
                    })
                },
            )
            .collect()
    }
}

#[async_trait]
impl escrow_domain::delivery::RefundQueue for PgAdmin {
    async fn claim_due(
        &self,
        limit: u32,
    ) -> Result<Vec<escrow_domain::delivery::DueRefund>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            id: i64,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            trade_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            checkout_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Int8)]
            amount: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            currency: String,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = diesel::sql_query(
            "UPDATE refunds r SET status = 'REFUNDING' FROM trades t \
             WHERE t.id = r.trade_id AND r.id IN \
               (SELECT id FROM refunds WHERE status = 'PENDING' ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
             RETURNING r.id, r.trade_id, t.checkout_id, r.amount, r.currency",
        )
        .bind::<diesel::sql_types::Int8, _>(i64::from(limit))
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        rows.into_iter()
            .map(|r| {
                let currency: Currency = r.currency.parse().map_err(corrupt)?;
                Ok(escrow_domain::delivery::DueRefund {
                    id: r.id,
                    trade_id: TradeId(r.trade_id),
                    checkout_id: escrow_domain::ids::CheckoutId(r.checkout_id),
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
        use escrow_domain::delivery::RefundState;
        let status = match state {
            RefundState::Done => "DONE",
            RefundState::ManualQueue => "MANUAL_QUEUE",
            RefundState::Pending => "PENDING",
        };
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::update(
            refunds::table
                .filter(refunds::id.eq(id))
                .filter(refunds::status.eq("REFUNDING")),
        )
        .set((
            refunds::status.eq(status),
            refunds::detail.eq(detail),
            refunds::completed_at.eq((state == RefundState::Done).then_some(now)),
        ))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(())
    }
}
