//! Checkouts: the `CheckoutRepository` port, with the seller-limit reservation and the idempotency key
//! in the checkout's own transaction.
//!
//! Calendar windows keep one counter row per (seller, window, scope, period) and add to it with a
//! single conditional update (`used + amount <= cap`), so concurrent checkouts can never pass a cap:
//! the row lock serialises them and the loser sees the winner's sum. Rolling windows have no fixed
//! period to count in, so they take a per-seller advisory lock and sum the unreleased reservations.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::checkout::{Checkout, CheckoutStatus, IdempotencyKey, OpenedCheckout};
use escrow_domain::contract::{PaymentMethod, SellerLimitPolicy, TradeType, WindowKind};
use escrow_domain::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use escrow_domain::limits::{LimitCounter, LimitExceeded, LimitScope, LimitUsage, LimitWindow};
use escrow_domain::money::{Currency, Money};
use escrow_domain::payment::PgTransactionRef;
use escrow_domain::ports::RepositoryError;
use escrow_domain::ports::{CheckoutRepository, OpenCheckoutError};
use escrow_domain::product::ProductStatus;
use escrow_domain::quote::Quote;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{
    checkouts, idempotency_keys, limit_reservations, products, seller_limit_usage,
};

/// The `refunds.reason` of money captured for a checkout that was no longer open.
pub(crate) const LATE_CONFIRMATION: &str = "LATE_CONFIRMATION";

/// A `checkouts` row.
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = checkouts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CheckoutRow {
    id: Uuid,
    partner_id: Uuid,
    buyer_id: Uuid,
    seller_id: Uuid,
    product_id: Uuid,
    method: String,
    trade_type: String,
    currency: String,
    product_price: i64,
    shipping_fee: i64,
    payment_amount: i64,
    payment_fee: i64,
    safe_trade_fee: i64,
    escrow_fee: i64,
    seller_payout: i64,
    shipping_address: serde_json::Value,
    return_url: String,
    partner_trade_no: Option<String>,
    status: String,
    failure_code: Option<String>,
    pg_gateway: Option<String>,
    pg_transaction_id: Option<String>,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    trade_id: Option<Uuid>,
}

fn enum_code<T: serde::Serialize>(v: &T) -> Result<String, RepositoryError> {
    match serde_json::to_value(v).map_err(corrupt)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(corrupt(other)),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(code: &str) -> Result<T, RepositoryError> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).map_err(corrupt)
}

impl CheckoutRow {
    fn from_domain(c: &Checkout) -> Result<Self, RepositoryError> {
        let q = &c.quote;
        Ok(CheckoutRow {
            id: c.id.0,
            partner_id: c.partner_id.0,
            buyer_id: c.buyer_id.0,
            seller_id: c.seller_id.0,
            product_id: c.product_id.0,
            method: c.method.code().to_owned(),
            trade_type: enum_code(&c.trade_type)?,
            currency: q.payment_amount.currency().code().to_owned(),
            product_price: q.product_price.minor_units(),
            shipping_fee: q.shipping_fee.minor_units(),
            payment_amount: q.payment_amount.minor_units(),
            payment_fee: q.payment_fee.minor_units(),
            safe_trade_fee: q.safe_trade_fee.minor_units(),
            escrow_fee: q.escrow_fee.minor_units(),
            seller_payout: q.seller_payout.minor_units(),
            shipping_address: serde_json::to_value(&c.shipping_address).map_err(corrupt)?,
            return_url: c.return_url.clone(),
            partner_trade_no: c.partner_trade_no.clone(),
            status: c.status.code().to_owned(),
            failure_code: c.failure_code.clone(),
            pg_gateway: c.pg_gateway.clone(),
            pg_transaction_id: c.pg_transaction_id.clone(),
            expires_at: c.expires_at,
            created_at: c.created_at,
            updated_at: c.created_at,
            trade_id: c.trade_id.map(|t| t.0),
        })
    }
}

impl TryFrom<CheckoutRow> for Checkout {
    type Error = RepositoryError;
    fn try_from(r: CheckoutRow) -> Result<Self, Self::Error> {
        let currency: Currency = r.currency.parse().map_err(corrupt)?;
        let m = |v| Money::new(v, currency);
        Ok(Checkout {
            id: CheckoutId(r.id),
            partner_id: PartnerId(r.partner_id),
            buyer_id: MemberId(r.buyer_id),
            seller_id: MemberId(r.seller_id),
            product_id: ProductId(r.product_id),
            method: enum_from::<PaymentMethod>(&r.method)?,
            trade_type: enum_from::<TradeType>(&r.trade_type)?,
            quote: Quote {
                product_price: m(r.product_price),
                shipping_fee: m(r.shipping_fee),
                payment_amount: m(r.payment_amount),
                payment_fee: m(r.payment_fee),
                safe_trade_fee: m(r.safe_trade_fee),
                escrow_fee: m(r.escrow_fee),
                seller_payout: m(r.seller_payout),
            },
            shipping_address: serde_json::from_value(r.shipping_address).map_err(corrupt)?,
            return_url: r.return_url,
            partner_trade_no: r.partner_trade_no,
            status: CheckoutStatus::from_code(&r.status)
                .ok_or_else(|| corrupt("checkout status"))?,
            failure_code: r.failure_code,
            pg_gateway: r.pg_gateway,
            pg_transaction_id: r.pg_transaction_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
            trade_id: r.trade_id.map(TradeId),
        })
    }
}

fn scope_code(scope: LimitScope) -> &'static str {
    match scope {
        LimitScope::Total => "TOTAL",
        LimitScope::Method(m) => m.code(),
    }
}

fn window_code(window: LimitWindow) -> &'static str {
    match window {
        LimitWindow::Day => "DAY",
        LimitWindow::Month => "MONTH",
    }
}

#[derive(Debug)]
enum OpenError {
    Refused(OpenCheckoutError),
    Replayed(Box<Checkout>),
}

impl From<diesel::result::Error> for OpenError {
    fn from(e: diesel::result::Error) -> Self {
        OpenError::Refused(OpenCheckoutError::Storage(storage_error(e)))
    }
}

impl From<RepositoryError> for OpenError {
    fn from(e: RepositoryError) -> Self {
        OpenError::Refused(OpenCheckoutError::Storage(e))
    }
}

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
            .filter(seller_limit_usage::limit_window.eq(window_code(counter.window)))
            .filter(seller_limit_usage::scope.eq(scope_code(counter.scope)))
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
async fn reserve_limits(
    conn: &mut AsyncPgConnection,
    seller: Uuid,
    method: PaymentMethod,
    amount: Money,
    limits: &SellerLimitPolicy,
    now: OffsetDateTime,
) -> Result<(), OpenError> {
    let refused = |e: LimitExceeded| OpenError::Refused(OpenCheckoutError::SellerLimitExceeded(e));
    match limits.window_kind {
        WindowKind::Calendar => {
            for counter in limits.counters(method, now) {
                let key = (
                    seller_limit_usage::seller_id.eq(seller),
                    seller_limit_usage::limit_window.eq(window_code(counter.window)),
                    seller_limit_usage::scope.eq(scope_code(counter.scope)),
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
                    return Err(match limits.check(method, amount, &usage, now) {
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
                    });
                }
            }
        }
        WindowKind::Rolling => {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))")
                .bind::<diesel::sql_types::Text, _>(seller.to_string())
                .execute(conn)
                .await?;
            let (day_total, day_method) =
                rolling_sum(conn, seller, method, now - Duration::hours(24)).await?;
            let (month_total, month_method) =
                rolling_sum(conn, seller, method, now - Duration::days(30)).await?;
            let usage = LimitUsage {
                day_total,
                day_method,
                month_total,
                month_method,
            };
            limits.check(method, amount, &usage, now).map_err(refused)?;
        }
    }
    Ok(())
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

async fn load(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<Checkout>, RepositoryError> {
    checkouts::table
        .filter(checkouts::id.eq(id))
        .select(CheckoutRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(storage_error)?
        .map(Checkout::try_from)
        .transpose()
}

/// Checkouts in PostgreSQL.
#[derive(Clone)]
pub struct PgCheckoutRepository {
    pool: DbPool,
}

impl PgCheckoutRepository {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgCheckoutRepository { pool }
    }
}

#[async_trait]
impl CheckoutRepository for PgCheckoutRepository {
    async fn open(
        &self,
        checkout: &Checkout,
        limits: &SellerLimitPolicy,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<OpenedCheckout, OpenCheckoutError> {
        let row = CheckoutRow::from_domain(checkout)?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let result = conn
            .transaction(async move |conn| -> Result<_, OpenError> {
                if let Some(key) = &idempotency {
                    // A concurrent duplicate blocks here until the first transaction ends.
                    let inserted = diesel::insert_into(idempotency_keys::table)
                        .values((
                            idempotency_keys::partner_id.eq(checkout.partner_id.0),
                            idempotency_keys::idempotency_key.eq(&key.key),
                            idempotency_keys::request_hash.eq(&key.request_hash),
                            idempotency_keys::resource_id.eq(Some(checkout.id.0)),
                            idempotency_keys::created_at.eq(checkout.created_at),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    if inserted == 0 {
                        let (hash, resource): (String, Option<Uuid>) = idempotency_keys::table
                            .filter(idempotency_keys::partner_id.eq(checkout.partner_id.0))
                            .filter(idempotency_keys::idempotency_key.eq(&key.key))
                            .select((
                                idempotency_keys::request_hash,
                                idempotency_keys::resource_id,
                            ))
                            .first(conn)
                            .await?;
                        if hash != key.request_hash {
                            return Err(OpenError::Refused(
                                OpenCheckoutError::IdempotencyKeyReused,
                            ));
                        }
                        let earlier = match resource {
                            Some(id) => load(conn, id).await?,
                            None => None,
                        };
                        return match earlier {
                            Some(c) => Err(OpenError::Replayed(Box::new(c))),
                            None => Err(OpenError::Refused(OpenCheckoutError::Storage(corrupt(
                                "idempotency key without its checkout",
                            )))),
                        };
                    }
                }
                let reserved = diesel::update(
                    products::table
                        .filter(products::id.eq(checkout.product_id.0))
                        .filter(products::partner_id.eq(checkout.partner_id.0))
                        .filter(products::status.eq(ProductStatus::OnSale.code())),
                )
                .set((
                    products::status.eq(ProductStatus::Reserved.code()),
                    products::updated_at.eq(checkout.created_at),
                ))
                .execute(conn)
                .await?;
                if reserved != 1 {
                    return Err(OpenError::Refused(OpenCheckoutError::ProductUnavailable));
                }
                let amount = checkout.quote.payment_amount;
                reserve_limits(
                    conn,
                    checkout.seller_id.0,
                    checkout.method,
                    amount,
                    limits,
                    checkout.created_at,
                )
                .await?;
                diesel::insert_into(checkouts::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                let counters = limits.counters(checkout.method, checkout.created_at);
                diesel::insert_into(limit_reservations::table)
                    .values((
                        limit_reservations::checkout_id.eq(checkout.id.0),
                        limit_reservations::seller_id.eq(checkout.seller_id.0),
                        limit_reservations::method.eq(checkout.method.code()),
                        limit_reservations::amount.eq(amount.minor_units()),
                        limit_reservations::day_start.eq(counters[0].period_start),
                        limit_reservations::month_start.eq(counters[2].period_start),
                        limit_reservations::reserved_at.eq(checkout.created_at),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(OpenedCheckout::Created(checkout.clone())),
            Err(OpenError::Replayed(c)) => Ok(OpenedCheckout::Replayed(*c)),
            Err(OpenError::Refused(e)) => Err(e),
        }
    }

    async fn get(
        &self,
        partner_id: PartnerId,
        id: CheckoutId,
    ) -> Result<Option<Checkout>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        Ok(load(&mut conn, id.0)
            .await?
            .filter(|c| c.partner_id == partner_id))
    }

    async fn by_idempotency_key(
        &self,
        partner_id: PartnerId,
        key: &str,
    ) -> Result<Option<(String, Checkout)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Option<(String, Option<Uuid>)> = idempotency_keys::table
            .filter(idempotency_keys::partner_id.eq(partner_id.0))
            .filter(idempotency_keys::idempotency_key.eq(key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::resource_id,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        let Some((hash, Some(resource))) = row else {
            return Ok(None);
        };
        Ok(load(&mut conn, resource).await?.map(|c| (hash, c)))
    }

    async fn fail(
        &self,
        partner_id: PartnerId,
        id: CheckoutId,
        failure_code: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let (status, code) = if failure_code == "PG_EXPIRED" {
            (CheckoutStatus::Expired, None)
        } else {
            (CheckoutStatus::Failed, Some(failure_code.to_owned()))
        };
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, crate::trades::TxError> {
            let failed: Option<(Uuid, Option<String>)> = diesel::update(
                checkouts::table
                    .filter(checkouts::id.eq(id.0))
                    .filter(checkouts::partner_id.eq(partner_id.0))
                    .filter(checkouts::status.eq(CheckoutStatus::Open.code())),
            )
            .set((
                checkouts::status.eq(status.code()),
                checkouts::failure_code.eq(code),
                checkouts::updated_at.eq(now),
            ))
            .returning((checkouts::product_id, checkouts::partner_trade_no))
            .get_result(conn)
            .await
            .optional()?;
            let Some((product, partner_trade_no)) = failed else {
                return Ok(false);
            };
            release_reservation(conn, id.0, now).await?;
            let event = escrow_domain::ports::PartnerEvent {
                event_type: "payment.failed",
                data: serde_json::json!({
                    "checkoutId": id,
                    "partnerTradeNo": partner_trade_no,
                    "code": failure_code,
                }),
            };
            crate::trades::insert_partner_event(conn, partner_id.0, &event, now).await?;
            diesel::update(
                products::table
                    .filter(products::id.eq(product))
                    .filter(products::status.eq(ProductStatus::Reserved.code())),
            )
            .set((
                products::status.eq(ProductStatus::OnSale.code()),
                products::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
    }
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
        .filter(seller_limit_usage::limit_window.eq(window_code(window)))
        .filter(seller_limit_usage::scope.eq(scope_code(scope)))
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
            seller_limit_usage::limit_window.eq(window_code(counter.window)),
            seller_limit_usage::scope.eq(scope_code(counter.scope)),
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
        conn.transaction(async move |conn| -> Result<_, crate::trades::TxError> {
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
                return Err(crate::trades::TxError(RepositoryError::Duplicate(
                    "checkout is not open".into(),
                )));
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
        conn.transaction(async move |conn| -> Result<_, crate::trades::TxError> {
            let inserted = diesel::insert_into(refunds::table)
                .values((
                    refunds::checkout_id.eq(Some(checkout.id.0)),
                    refunds::pg_transaction_id.eq(Some(&transaction_id)),
                    refunds::reason.eq(LATE_CONFIRMATION),
                    refunds::amount.eq(amount.minor_units()),
                    refunds::currency.eq(amount.currency().code()),
                    refunds::status.eq(escrow_domain::money_out::RefundStatus::Pending.code()),
                    refunds::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 0 {
                return Ok(false);
            }
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
            crate::trades::insert_partner_event(conn, checkout.partner_id.0, &event, now).await?;
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
                 AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.pg_transaction_id = p.transaction_id AND r.reason = $4) \
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
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Checkout>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        checkouts::table
            .filter(checkouts::status.eq(CheckoutStatus::Open.code()))
            .filter(checkouts::expires_at.le(now))
            .order(checkouts::expires_at.asc())
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
