//! What the payment flow records about checkouts (the `PaymentRecords` port): PG transactions and
//! their verifications, late confirmations refunded in full, the transactions to query again, expired
//! checkouts, and idempotency records past their keeping time.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};
use escrow_domain::checkout::{Checkout, CheckoutStatus};
use escrow_domain::ids::CheckoutId;
use escrow_domain::payment::PgTransactionRef;
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;

use crate::checkouts::{load, CheckoutRow, PgCheckoutRepository, LATE_CONFIRMATION};
use crate::errors::{pool_error, storage_error};
use crate::schema::{checkouts, idempotency_keys};

#[async_trait]
impl escrow_domain::ports::PaymentRecords for PgCheckoutRepository {
    async fn checkout(&self, id: CheckoutId) -> Result<Option<Checkout>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        load(&mut conn, id.0).await
    }

    async fn checkout_by_transaction(
        &self,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<Option<Checkout>, RepositoryError> {
        use crate::schema::pg_transactions as t;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // Any transaction started for the checkout (the buyer may have pressed pay twice).
        checkouts::table
            .filter(
                checkouts::id.eq_any(
                    t::table
                        .filter(t::gateway.eq(gateway))
                        .filter(t::transaction_id.eq(transaction_id))
                        .filter(t::outcome.eq("STARTED"))
                        .select(t::checkout_id),
                ),
            )
            .select(CheckoutRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(Checkout::try_from)
            .transpose()
    }

    async fn attach_transaction(
        &self,
        id: CheckoutId,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, crate::errors::TxError> {
            let updated = diesel::update(
                checkouts::table
                    .filter(checkouts::id.eq(id.0))
                    .filter(checkouts::status.eq(CheckoutStatus::Open.code())),
            )
            .set((
                checkouts::pg_gateway.eq(Some(gateway)),
                checkouts::pg_transaction_id.eq(Some(transaction_id)),
                checkouts::updated_at.eq(OffsetDateTime::now_utc()),
            ))
            .execute(conn)
            .await?;
            if updated != 1 {
                // The checkout changed meanwhile (paid, failed or expired).
                return Err(crate::errors::TxError(RepositoryError::Conflict));
            }
            diesel::insert_into(crate::schema::pg_transactions::table)
                .values((
                    crate::schema::pg_transactions::checkout_id.eq(id.0),
                    crate::schema::pg_transactions::gateway.eq(gateway),
                    crate::schema::pg_transactions::transaction_id.eq(transaction_id),
                    crate::schema::pg_transactions::outcome.eq("STARTED"),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn record_verification(
        &self,
        id: CheckoutId,
        transaction_id: &str,
        outcome: &str,
        failure_code: Option<String>,
    ) -> Result<(), RepositoryError> {
        use crate::schema::pg_transactions as t;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let gateway: Option<Option<String>> = checkouts::table
            .filter(checkouts::id.eq(id.0))
            .select(checkouts::pg_gateway)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        diesel::insert_into(t::table)
            .values((
                t::checkout_id.eq(id.0),
                t::gateway.eq(gateway.flatten().unwrap_or_default()),
                t::transaction_id.eq(transaction_id),
                t::outcome.eq(outcome),
                t::failure_code.eq(failure_code),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn record_late_confirmation(
        &self,
        checkout: &Checkout,
        transaction_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        use crate::schema::refunds;
        let amount = checkout.quote.payment_amount;
        let checkout = checkout.clone();
        let transaction_id = transaction_id.to_owned();
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, crate::errors::TxError> {
            let inserted: Option<i64> = diesel::insert_into(refunds::table)
                .values((
                    refunds::checkout_id.eq(Some(checkout.id.0)),
                    refunds::pg_transaction_id.eq(Some(&transaction_id)),
                    refunds::pg_gateway.eq(checkout.pg_gateway.as_deref()),
                    refunds::reason.eq(LATE_CONFIRMATION),
                    refunds::amount.eq(amount.minor_units()),
                    refunds::currency.eq(amount.currency().code()),
                    refunds::status.eq(escrow_domain::money_out::RefundStatus::Pending.code()),
                    refunds::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .returning(refunds::id)
                .get_result(conn)
                .await
                .optional()?;
            let Some(refund_id) = inserted else {
                return Ok(false);
            };
            // Captured and due back at once, in the journal too.
            let origin = escrow_domain::ledger::MoneyOrigin {
                partner_id: checkout.partner_id,
                checkout_id: checkout.id,
                trade_id: None,
            };
            let rows = crate::ledger::MoneyRows {
                refund_id: Some(refund_id),
                payout_id: None,
            };
            crate::ledger::post(
                conn,
                &escrow_domain::ledger::late_capture(origin, amount),
                rows,
                now,
            )
            .await?;
            let event = escrow_domain::ports::PartnerEvent {
                event_type: "payment.refunded",
                data: serde_json::json!({
                    "checkoutId": checkout.id,
                    "partnerTradeNo": checkout.partner_trade_no,
                    "transactionId": transaction_id,
                    "amount": amount.minor_units(),
                    "currency": amount.currency().code(),
                    "reason": LATE_CONFIRMATION,
                }),
            };
            crate::outbox::insert_partner_event(
                conn,
                checkout.partner_id.0,
                &event,
                now,
                checkout.test_clock.is_some(),
            )
            .await?;
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n =
            diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn transactions_to_reconcile(
        &self,
        ended_after: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PgTransactionRef>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            gateway: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            transaction_id: String,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = diesel::sql_query(
            "UPDATE pg_transactions SET reconciled_at = $6 WHERE id IN ( \
               SELECT p.id FROM pg_transactions p JOIN checkouts c ON c.id = p.checkout_id \
               WHERE p.outcome = 'STARTED' AND c.updated_at > $1 \
                 AND (c.status <> $2 OR c.pg_transaction_id IS DISTINCT FROM p.transaction_id) \
                 AND c.status <> $3 \
                 AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.pg_transaction_id = p.transaction_id \
                   AND r.pg_gateway IS NOT DISTINCT FROM p.gateway AND r.reason = $4) \
               ORDER BY p.reconciled_at NULLS FIRST, p.id LIMIT $5 FOR UPDATE OF p SKIP LOCKED) \
             RETURNING gateway, transaction_id",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(ended_after)
        .bind::<diesel::sql_types::Text, _>(CheckoutStatus::Paid.code())
        .bind::<diesel::sql_types::Text, _>(CheckoutStatus::Open.code())
        .bind::<diesel::sql_types::Text, _>(LATE_CONFIRMATION)
        .bind::<diesel::sql_types::Int8, _>(i64::from(limit))
        .bind::<diesel::sql_types::Timestamptz, _>(now)
        .load(&mut conn)
        .await
        .map_err(storage_error)?;
        let mut ids: Vec<PgTransactionRef> = rows
            .into_iter()
            .map(|r| PgTransactionRef {
                gateway: r.gateway,
                transaction_id: r.transaction_id,
            })
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    async fn expired_checkouts(
        &self,
        test_clock: Option<escrow_domain::ids::TestClockId>,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Checkout>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut q = checkouts::table
            .filter(checkouts::status.eq(CheckoutStatus::Open.code()))
            .filter(checkouts::expires_at.le(now))
            .into_boxed();
        q = match test_clock {
            Some(c) => q.filter(checkouts::test_clock_id.eq(c.0)),
            None => q.filter(checkouts::test_clock_id.is_null()),
        };
        q.order(checkouts::expires_at.asc())
            .limit(i64::from(limit))
            .select(CheckoutRow::as_select())
            .load(&mut conn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(Checkout::try_from)
            .collect()
    }
}
