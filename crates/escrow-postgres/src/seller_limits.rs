//! Seller limits in PostgreSQL: reserving a payment on the seller's counters in the checkout's
//! transaction, releasing it once, and reading usage.
//!
//! Calendar windows keep one counter row per (seller, window, scope, period) and add to it with a
//! single conditional update (`used + amount <= cap`), so concurrent checkouts can never pass a cap:
//! the row lock serialises them and the loser sees the winner's sum. Rolling windows have no fixed
//! period to count in, so they take a per-seller advisory lock and sum the unreleased reservations
//! since the start of the policy's window.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use escrow_domain::contract::{PaymentMethod, SellerLimitPolicy, WindowKind};
use escrow_domain::ids::MemberId;
use escrow_domain::limits::{LimitCounter, LimitExceeded, LimitScope, LimitUsage, LimitWindow};
use escrow_domain::money::{Currency, Money};
use escrow_domain::ports::RepositoryError;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{limit_reservations, seller_limit_usage};

/// What a seller has used in the windows containing `now`, from the counter rows (calendar windows).
async fn counter_usage(
    conn: &mut AsyncPgConnection,
    seller: Uuid,
    method: PaymentMethod,
    limits: &SellerLimitPolicy,
    now: OffsetDateTime,
) -> Result<LimitUsage, diesel::result::Error> {
    let mut usage = LimitUsage::default();
    for counter in limits.counters(method, now) {
        let used: Option<i64> = seller_limit_usage::table
            .filter(seller_limit_usage::seller_id.eq(seller))
            .filter(seller_limit_usage::limit_window.eq(counter.window.code()))
            .filter(seller_limit_usage::scope.eq(counter.scope.code()))
            .filter(seller_limit_usage::period_start.eq(counter.period_start))
            .select(seller_limit_usage::used)
            .first(conn)
            .await
            .optional()?;
        let used = used.unwrap_or(0);
        match (counter.window, counter.scope) {
            (LimitWindow::Day, LimitScope::Total) => usage.day_total = used,
            (LimitWindow::Day, LimitScope::Method(_)) => usage.day_method = used,
            (LimitWindow::Month, LimitScope::Total) => usage.month_total = used,
            (LimitWindow::Month, LimitScope::Method(_)) => usage.month_method = used,
        }
    }
    Ok(usage)
}

/// What a seller has reserved and not released since `since`, per method and in total.
async fn rolling_sum(
    conn: &mut AsyncPgConnection,
    seller: Uuid,
    method: PaymentMethod,
    since: OffsetDateTime,
) -> Result<(i64, i64), diesel::result::Error> {
    let rows: Vec<(String, i64)> = limit_reservations::table
        .filter(limit_reservations::seller_id.eq(seller))
        .filter(limit_reservations::reserved_at.gt(since))
        .filter(limit_reservations::released_at.is_null())
        .select((limit_reservations::method, limit_reservations::amount))
        .load(conn)
        .await?;
    let total = rows.iter().map(|(_, a)| *a).sum();
    let by_method = rows
        .iter()
        .filter(|(m, _)| m == method.code())
        .map(|(_, a)| *a)
        .sum();
    Ok((total, by_method))
}

/// Reserves `amount` on the seller's limits at `now`, or says which cap refuses it.
pub(crate) async fn reserve_limits(
    conn: &mut AsyncPgConnection,
    seller: Uuid,
    method: PaymentMethod,
    amount: Money,
    limits: &SellerLimitPolicy,
    now: OffsetDateTime,
) -> Result<Result<(), LimitExceeded>, diesel::result::Error> {
    let refused = |e: LimitExceeded| e;
    match limits.window_kind {
        WindowKind::Calendar => {
            for counter in limits.counters(method, now) {
                let key = (
                    seller_limit_usage::seller_id.eq(seller),
                    seller_limit_usage::limit_window.eq(counter.window.code()),
                    seller_limit_usage::scope.eq(counter.scope.code()),
                    seller_limit_usage::period_start.eq(counter.period_start),
                );
                diesel::insert_into(seller_limit_usage::table)
                    .values((
                        key,
                        seller_limit_usage::currency.eq(amount.currency().code()),
                        seller_limit_usage::used.eq(0i64),
                        seller_limit_usage::cap.eq(counter.cap),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                let added = diesel::update(
                    seller_limit_usage::table
                        .filter(key.0)
                        .filter(key.1)
                        .filter(key.2)
                        .filter(key.3)
                        .filter((seller_limit_usage::used + amount.minor_units()).le(counter.cap)),
                )
                .set((
                    seller_limit_usage::used.eq(seller_limit_usage::used + amount.minor_units()),
                    seller_limit_usage::cap.eq(counter.cap),
                ))
                .execute(conn)
                .await?;
                if added != 1 {
                    let usage = counter_usage(conn, seller, method, limits, now).await?;
                    return Ok(Err(match limits.check(method, amount, &usage, now) {
                        Err(e) => refused(e),
                        // The counter refused although the sums fit: its cap is the contract's, so this
                        // only happens with a counter above its cap; report that counter.
                        Ok(()) => refused(LimitExceeded {
                            window: counter.window,
                            scope: counter.scope,
                            limit: Money::new(counter.cap, amount.currency()),
                            used: Money::new(counter.cap, amount.currency()),
                            remaining: Money::zero(amount.currency()),
                            resets_at: limits.period(counter.window, now).resets_at,
                        }),
                    }));
                }
            }
        }
        WindowKind::Rolling => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
                .bind::<diesel::sql_types::Text, _>(seller.to_string())
                .execute(conn)
                .await?;
            // The windows are the policy's: the last 24 hours and the last 30 days.
            let day = limits.period(LimitWindow::Day, now).start;
            let month = limits.period(LimitWindow::Month, now).start;
            let (day_total, day_method) = rolling_sum(conn, seller, method, day).await?;
            let (month_total, month_method) = rolling_sum(conn, seller, method, month).await?;
            let usage = LimitUsage {
                day_total,
                day_method,
                month_total,
                month_method,
            };
            if let Err(e) = limits.check(method, amount, &usage, now) {
                return Ok(Err(refused(e)));
            }
        }
    }
    Ok(Ok(()))
}

/// Releases what checkout `checkout_id` reserved, once; a second call does nothing.
pub(crate) async fn release_reservation(
    conn: &mut AsyncPgConnection,
    checkout_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), RepositoryError> {
    let released: Option<(Uuid, String, i64, Date, Date)> = diesel::update(
        limit_reservations::table
            .filter(limit_reservations::checkout_id.eq(checkout_id))
            .filter(limit_reservations::released_at.is_null()),
    )
    .set(limit_reservations::released_at.eq(Some(now)))
    .returning((
        limit_reservations::seller_id,
        limit_reservations::method,
        limit_reservations::amount,
        limit_reservations::day_start,
        limit_reservations::month_start,
    ))
    .get_result(conn)
    .await
    .optional()
    .map_err(storage_error)?;
    let Some((seller, method, amount, day, month)) = released else {
        return Ok(());
    };
    for (window, period, scope) in [
        ("DAY", day, method.as_str()),
        ("DAY", day, "TOTAL"),
        ("MONTH", month, method.as_str()),
        ("MONTH", month, "TOTAL"),
    ] {
        // Rolling windows have no counter rows: nothing to decrement there.
        diesel::update(
            seller_limit_usage::table
                .filter(seller_limit_usage::seller_id.eq(seller))
                .filter(seller_limit_usage::limit_window.eq(window))
                .filter(seller_limit_usage::scope.eq(scope))
                .filter(seller_limit_usage::period_start.eq(period)),
        )
        .set(seller_limit_usage::used.eq(seller_limit_usage::used - amount))
        .execute(conn)
        .await
        .map_err(storage_error)?;
    }
    Ok(())
}

/// The stored usage counter of a seller (tests and the admin API).
pub async fn stored_usage(
    pool: &DbPool,
    seller: MemberId,
    window: LimitWindow,
    scope: LimitScope,
    period_start: Date,
) -> Result<i64, RepositoryError> {
    let mut conn = pool.get().await.map_err(pool_error)?;
    let used: Option<i64> = seller_limit_usage::table
        .filter(seller_limit_usage::seller_id.eq(seller.0))
        .filter(seller_limit_usage::limit_window.eq(window.code()))
        .filter(seller_limit_usage::scope.eq(scope.code()))
        .filter(seller_limit_usage::period_start.eq(period_start))
        .select(seller_limit_usage::used)
        .first(&mut conn)
        .await
        .optional()
        .map_err(storage_error)?;
    Ok(used.unwrap_or(0))
}

/// Sets a seller's usage counter (operators correcting a counter; tests preparing one).
pub async fn set_usage(
    pool: &DbPool,
    seller: MemberId,
    counter: &LimitCounter,
    currency: Currency,
    used: i64,
) -> Result<(), RepositoryError> {
    let mut conn = pool.get().await.map_err(pool_error)?;
    diesel::insert_into(seller_limit_usage::table)
        .values((
            seller_limit_usage::seller_id.eq(seller.0),
            seller_limit_usage::limit_window.eq(counter.window.code()),
            seller_limit_usage::scope.eq(counter.scope.code()),
            seller_limit_usage::period_start.eq(counter.period_start),
            seller_limit_usage::currency.eq(currency.code()),
            seller_limit_usage::used.eq(used),
            seller_limit_usage::cap.eq(counter.cap),
        ))
        .on_conflict((
            seller_limit_usage::seller_id,
            seller_limit_usage::limit_window,
            seller_limit_usage::scope,
            seller_limit_usage::period_start,
        ))
        .do_update()
        .set(seller_limit_usage::used.eq(used))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}
