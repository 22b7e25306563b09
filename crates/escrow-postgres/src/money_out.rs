//! What a transition does to money and products, written in the transition's own transaction:
//! refund and payout rows (their status codes from the domain's `money_out` enums), the seller-limit
//! reservation released, the product released or sold.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use escrow_domain::money_out::{PayoutStatus, RefundStatus};
use escrow_domain::ports::RepositoryError;
use escrow_domain::product::ProductStatus;
use escrow_domain::trade::{MoneyEffect, ProductEffect, Trade, Transition};
use time::OffsetDateTime;

use crate::errors::storage_error;
use crate::ledger::MoneyRows;
use crate::schema::{payouts, products, refunds};

/// Writes a transition's money effects (refunds, payouts, released seller limits) and its product
/// effect, in the caller's transaction; returns the refund or payout row it made due or scheduled (for
/// the journal). A second refund or payout of one trade is `InvariantViolated`.
pub(crate) async fn write_money_and_product(
    conn: &mut AsyncPgConnection,
    t: &Transition,
    trade: &Trade,
    now: OffsetDateTime,
) -> Result<MoneyRows, RepositoryError> {
    let currency = trade.quote.payment_amount.currency().code();
    let mut rows = MoneyRows::default();
    for effect in &t.money {
        match effect {
            MoneyEffect::Refund { amount, withdrawal } => {
                rows.refund_id =
                    Some(make_refund_due(conn, trade, *amount, *withdrawal, now).await?);
            }
            MoneyEffect::ScheduleRefund { amount, on } => {
                diesel::insert_into(refunds::table)
                    .values((
                        refunds::trade_id.eq(trade.id.0),
                        refunds::amount.eq(amount.minor_units()),
                        refunds::currency.eq(currency),
                        refunds::status.eq(RefundStatus::Scheduled.code()),
                        refunds::due_date.eq(Some(*on)),
                        refunds::created_at.eq(now),
                    ))
                    .execute(conn)
                    .await
                    .map_err(storage_error)?;
            }
            MoneyEffect::SchedulePayout { amount, on } => {
                let id = diesel::insert_into(payouts::table)
                    .values((
                        payouts::trade_id.eq(trade.id.0),
                        payouts::seller_id.eq(trade.seller_id.0),
                        payouts::amount.eq(amount.minor_units()),
                        payouts::currency.eq(currency),
                        payouts::due_date.eq(*on),
                        payouts::status.eq(PayoutStatus::Scheduled.code()),
                        payouts::created_at.eq(now),
                    ))
                    .returning(payouts::id)
                    .get_result(conn)
                    .await
                    .map_err(storage_error)?;
                rows.payout_id = Some(id);
            }
            MoneyEffect::CancelPayout { amount } => {
                let id: Option<i64> = diesel::update(
                    payouts::table
                        .filter(payouts::trade_id.eq(trade.id.0))
                        .filter(payouts::status.eq(PayoutStatus::Scheduled.code()))
                        .filter(payouts::amount.eq(amount.minor_units())),
                )
                .set(payouts::status.eq(PayoutStatus::Cancelled.code()))
                .returning(payouts::id)
                .get_result(conn)
                .await
                .optional()
                .map_err(storage_error)?;
                let Some(id) = id else {
                    return Err(RepositoryError::InvariantViolated(format!(
                        "trade {} has no scheduled payout of {} to cancel",
                        trade.id,
                        amount.minor_units()
                    )));
                };
                rows.payout_id = Some(id);
            }
            MoneyEffect::PayOut { amount } => {
                let updated = diesel::update(
                    payouts::table
                        .filter(payouts::trade_id.eq(trade.id.0))
                        .filter(payouts::status.eq(PayoutStatus::Scheduled.code()))
                        .filter(payouts::amount.eq(amount.minor_units())),
                )
                // Due now; the payout job hands it to the PayoutInstructor.
                .set(payouts::status.eq(PayoutStatus::Due.code()))
                .execute(conn)
                .await
                .map_err(storage_error)?;
                if updated != 1 {
                    return Err(RepositoryError::InvariantViolated(format!(
                        "trade {} has no scheduled payout of {} to pay (already paid out?)",
                        trade.id,
                        amount.minor_units()
                    )));
                }
            }
            MoneyEffect::ReleaseSellerLimits { .. } => {
                crate::seller_limits::release_reservation(conn, trade.checkout_id.0, now).await?;
            }
        }
    }

    if let Some(effect) = t.product {
        let status = match effect {
            ProductEffect::Release => ProductStatus::OnSale,
            ProductEffect::MarkSold => ProductStatus::Sold,
        };
        diesel::update(products::table.filter(products::id.eq(trade.product_id.0)))
            .set((
                products::status.eq(status.code()),
                products::updated_at.eq(now),
            ))
            .execute(conn)
            .await
            .map_err(storage_error)?;
    }
    Ok(rows)
}

/// The trade's refund becomes due: a new row, or its scheduled one (after a return). Returns its id.
async fn make_refund_due(
    conn: &mut AsyncPgConnection,
    trade: &Trade,
    amount: escrow_domain::money::Money,
    withdrawal: escrow_domain::trade::WithdrawalStatus,
    now: OffsetDateTime,
) -> Result<i64, RepositoryError> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        id: i64,
    }
    let currency = amount.currency().code();
    // A scheduled refund (after a return) becomes due; any other existing refund means a
    // second refund of the same trade, which must never happen.
    let updated: Vec<Id> = diesel::sql_query(
        "INSERT INTO refunds (trade_id, amount, currency, withdrawal_cd, status, created_at) \
         VALUES ($1, $2, $3, $4, $6, $5) \
         ON CONFLICT (trade_id) DO UPDATE SET status = $6, withdrawal_cd = EXCLUDED.withdrawal_cd \
         WHERE refunds.status = $7 AND refunds.amount = EXCLUDED.amount \
         RETURNING id",
    )
    .bind::<diesel::sql_types::Uuid, _>(trade.id.0)
    .bind::<diesel::sql_types::Int8, _>(amount.minor_units())
    .bind::<diesel::sql_types::Text, _>(currency)
    .bind::<diesel::sql_types::Int2, _>(i16::from(withdrawal.code()))
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .bind::<diesel::sql_types::Text, _>(RefundStatus::Pending.code())
    .bind::<diesel::sql_types::Text, _>(RefundStatus::Scheduled.code())
    .load(conn)
    .await
    .map_err(storage_error)?;
    let [Id { id }] = updated[..] else {
        return Err(RepositoryError::InvariantViolated(format!(
            "trade {} is already refunded",
            trade.id
        )));
    };
    Ok(id)
}
