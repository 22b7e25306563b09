//! What operators manage directly: admin keys, contracts, holidays, the manual refund queue.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::contract::Contract;
use escrow_domain::ids::{PartnerId, TradeId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::money_out::RefundStatus;
use escrow_domain::ports::{AdminRepository, RefundRecord, RepositoryError};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::rules::PgRulesRepository;
use crate::schema::admin_keys;

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

    async fn payout_bank_file(&self, date: Option<Date>) -> Result<String, RepositoryError> {
        LedgerPayoutInstructor::new(self.pool.clone())
            .bank_file(date)
            .await
    }

    async fn refund_queue(&self) -> Result<Vec<RefundRecord>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Uuid>)]
            trade_id: Option<Uuid>,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            checkout_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Text)]
            reason: String,
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            partner_id: Uuid,
            #[diesel(sql_type = diesel::sql_types::Int8)]
            amount: i64,
            #[diesel(sql_type = diesel::sql_types::Text)]
            currency: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Int2>)]
            withdrawal_cd: Option<i16>,
            #[diesel(sql_type = diesel::sql_types::Text)]
            status: String,
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
            due_date: Option<Date>,
            #[diesel(sql_type = diesel::sql_types::Timestamptz)]
            created_at: OffsetDateTime,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // Trade refunds name their checkout through the trade; late confirmations name it directly.
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT r.trade_id, c.id AS checkout_id, r.reason, c.partner_id, r.amount, r.currency,                     r.withdrawal_cd, r.status, r.due_date, r.created_at              FROM refunds r LEFT JOIN trades t ON t.id = r.trade_id              JOIN checkouts c ON c.id = coalesce(r.checkout_id, t.checkout_id)              WHERE r.status = ANY($1) ORDER BY r.created_at",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(
            RefundStatus::OPERATOR_QUEUE.map(RefundStatus::code).to_vec(),
        )
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        rows.into_iter()
            .map(|r| {
                let currency: Currency = r.currency.parse().map_err(corrupt)?;
                Ok(RefundRecord {
                    trade_id: r.trade_id.map(TradeId),
                    checkout_id: escrow_domain::ids::CheckoutId(r.checkout_id),
                    reason: r.reason,
                    partner_id: PartnerId(r.partner_id),
                    amount: Money::new(r.amount, currency),
                    withdrawal_code: r.withdrawal_cd.and_then(|w| u8::try_from(w).ok()),
                    status: RefundStatus::from_code(&r.status)
                        .ok_or_else(|| corrupt("refund status"))?,
                    due_date: r.due_date,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}

/// The bundled [`PayoutInstructor`](escrow_domain::delivery::PayoutInstructor): records each
/// instruction in `payout_instructions`, the ledger the operator's bank transfer file is made from
/// (`GET /admin/v1/payouts/bank-file`). Idempotent per payout.
#[derive(Clone)]
pub struct LedgerPayoutInstructor {
    pool: DbPool,
}

impl LedgerPayoutInstructor {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        LedgerPayoutInstructor { pool }
    }

    /// The ledger lines of payouts due on `date` (every date when `None`), as CSV with a header.
    pub async fn bank_file(&self, date: Option<Date>) -> Result<String, RepositoryError> {
        use crate::schema::payout_instructions as p;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut q = p::table.into_boxed();
        if let Some(d) = date {
            q = q.filter(p::due_date.eq(d));
        }
        let rows: Vec<(i64, Uuid, Uuid, i64, String, Date)> = q
            .order(p::id.asc())
            .select((
                p::payout_id,
                p::trade_id,
                p::seller_id,
                p::amount,
                p::currency,
                p::due_date,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut csv = String::from("payout_id,trade_id,seller_id,amount,currency,due_date\n");
        for (payout, trade, seller, amount, currency, due) in rows {
            csv.push_str(&format!(
                "{payout},{trade},{seller},{amount},{currency},{due}\n"
            ));
        }
        Ok(csv)
    }
}

#[async_trait]
impl escrow_domain::delivery::PayoutInstructor for LedgerPayoutInstructor {
    async fn instruct(
        &self,
        payout: &escrow_domain::delivery::DuePayout,
        now: OffsetDateTime,
    ) -> Result<(), escrow_domain::delivery::DeliveryError> {
        use crate::schema::payout_instructions as p;
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| escrow_domain::delivery::DeliveryError::Transient(e.to_string()))?;
        diesel::insert_into(p::table)
            .values((
                p::payout_id.eq(payout.id),
                p::trade_id.eq(payout.trade_id.0),
                p::seller_id.eq(payout.seller_id.0),
                p::amount.eq(payout.amount.minor_units()),
                p::currency.eq(payout.amount.currency().code()),
                p::due_date.eq(payout.due_date),
                p::instructed_at.eq(now),
            ))
            .on_conflict(p::payout_id)
            .do_nothing()
            .execute(&mut conn)
            .await
            .map_err(|e| escrow_domain::delivery::DeliveryError::Transient(e.to_string()))?;
        Ok(())
    }
}
