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
    sealer: crate::SecretSealer,
}

impl PgAdmin {
    /// Over this pool; the bank file's accounts are opened with `sealer`.
    pub fn new(pool: DbPool, sealer: crate::SecretSealer) -> Self {
        PgAdmin {
            rules: PgRulesRepository::new(pool.clone()),
            pool,
            sealer,
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
        LedgerPayoutInstructor::new(self.pool.clone(), self.sealer.clone())
            .bank_file(date)
            .await
    }

    async fn refund_queue(&self) -> Result<Vec<RefundRecord>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Int8)]
            id: i64,
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
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            detail: Option<String>,
            #[diesel(sql_type = diesel::sql_types::Timestamptz)]
            created_at: OffsetDateTime,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // Trade refunds name their checkout through the trade; late confirmations name it directly.
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT r.id, r.trade_id, c.id AS checkout_id, r.reason, c.partner_id, r.amount, r.currency,                     r.withdrawal_cd, r.status, r.due_date, r.detail, r.created_at              FROM refunds r LEFT JOIN trades t ON t.id = r.trade_id              JOIN checkouts c ON c.id = coalesce(r.checkout_id, t.checkout_id)              WHERE r.status = ANY($1) ORDER BY r.created_at",
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
                    id: r.id,
                    trade_id: r.trade_id.map(TradeId),
                    checkout_id: escrow_domain::ids::CheckoutId(r.checkout_id),
                    reason: r.reason,
                    partner_id: PartnerId(r.partner_id),
                    amount: Money::new(r.amount, currency),
                    withdrawal_code: r.withdrawal_cd.and_then(|w| u8::try_from(w).ok()),
                    status: RefundStatus::from_code(&r.status)
                        .ok_or_else(|| corrupt("refund status"))?,
                    due_date: r.due_date,
                    detail: r.detail,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}

/// The bundled [`PayoutInstructor`](escrow_domain::delivery::PayoutInstructor): records each
/// instruction in `payout_instructions` with the seller's verified account as it is then (sealed), the
/// ledger the operator's bank transfer file is made from (`GET /admin/v1/payouts/bank-file`).
/// Idempotent per payout. The payout queue hands out only payouts whose seller has an account.
#[derive(Clone)]
pub struct LedgerPayoutInstructor {
    pool: DbPool,
    sealer: crate::SecretSealer,
}

impl LedgerPayoutInstructor {
    /// Over this pool; accounts are opened with `sealer` for the bank file.
    pub fn new(pool: DbPool, sealer: crate::SecretSealer) -> Self {
        LedgerPayoutInstructor { pool, sealer }
    }

    /// The instructions of payouts due on `date` (every date when `None`), as CSV with a header: the
    /// account each goes to (bank, number, holder), never the member id.
    pub async fn bank_file(&self, date: Option<Date>) -> Result<String, RepositoryError> {
        use crate::schema::payout_instructions as p;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        use crate::schema::{partners, trades};
        // Test partners' payouts are instructed (their trades complete) but never reach the bank.
        let test_trades = trades::table
            .filter(
                trades::partner_id.eq_any(
                    partners::table
                        .filter(partners::mode.eq(escrow_domain::people::PartnerMode::Test.code()))
                        .select(partners::id),
                ),
            )
            .select(trades::id);
        let mut q = p::table
            .filter(diesel::dsl::not(p::trade_id.eq_any(test_trades)))
            .into_boxed();
        if let Some(d) = date {
            q = q.filter(p::due_date.eq(d));
        }
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            i64,
            Uuid,
            Uuid,
            i64,
            String,
            Date,
            Option<String>,
            Option<String>,
            Option<String>,
        )> = q
            .order(p::id.asc())
            .select((
                p::payout_id,
                p::trade_id,
                p::seller_id,
                p::amount,
                p::currency,
                p::due_date,
                p::bank_code,
                p::account_sealed,
                p::holder_sealed,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut csv = String::from(
            "payout_id,trade_id,bank_code,bank_name,account_number,account_holder,amount,currency,due_date\n",
        );
        for (payout, trade, seller, amount, currency, due, bank, number, holder) in rows {
            let open = |sealed: Option<String>, column: &str| -> Result<String, RepositoryError> {
                sealed
                    .map(|s| {
                        self.sealer
                            .open(&s, &crate::directory::account_context(column, seller))
                    })
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
            let bank = bank.unwrap_or_default();
            let name = escrow_domain::reference::payout_bank_name(&bank).unwrap_or_default();
            let number = open(number, "number")?;
            let holder = open(holder, "holder")?.replace([',', '"', '\n', '\r'], " ");
            csv.push_str(&format!(
                "{payout},{trade},{bank},{name},{number},{holder},{amount},{currency},{due}\n"
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
        use escrow_domain::delivery::DeliveryError;
        let mut conn = self
            .pool
            .get()
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        // The account as it is now goes into the instruction; without one nothing is instructed.
        let written = diesel::sql_query(
            "INSERT INTO payout_instructions (payout_id, trade_id, seller_id, amount, currency, due_date, \
               instructed_at, bank_code, account_sealed, holder_sealed) \
             SELECT $1, $2, $3, $4, $5, $6, $7, a.bank_code, a.number_sealed, a.holder_sealed \
             FROM payout_accounts a WHERE a.member_id = $3 \
             ON CONFLICT (payout_id) DO UPDATE SET payout_id = EXCLUDED.payout_id",
        )
        .bind::<diesel::sql_types::Int8, _>(payout.id)
        .bind::<diesel::sql_types::Uuid, _>(payout.trade_id.0)
        .bind::<diesel::sql_types::Uuid, _>(payout.seller_id.0)
        .bind::<diesel::sql_types::Int8, _>(payout.amount.minor_units())
        .bind::<diesel::sql_types::Text, _>(payout.amount.currency().code())
        .bind::<diesel::sql_types::Date, _>(payout.due_date)
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .execute(&mut conn)
        .await
        .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        if written == 0 {
            return Err(DeliveryError::Transient(format!(
                "seller {} has no verified payout account",
                payout.seller_id
            )));
        }
        Ok(())
    }
}
