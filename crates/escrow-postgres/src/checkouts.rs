//! Checkouts: the `CheckoutRepository` port, with the seller-limit reservation (`seller_limits`) and
//! the idempotency key in the checkout's own transaction.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::checkout::{
    Checkout, CheckoutFailure, CheckoutStatus, IdempotencyKey, OpenedCheckout,
};
use escrow_domain::contract::{PaymentMethod, SellerLimitPolicy, TradeType};
use escrow_domain::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use escrow_domain::limits::LimitWindow;
use escrow_domain::money::{Currency, Money};
use escrow_domain::ports::RepositoryError;
use escrow_domain::ports::{CheckoutRepository, OpenCheckoutError};
use escrow_domain::product::ProductStatus;
use escrow_domain::quote::Quote;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{checkouts, idempotency_keys, limit_reservations, products};
use crate::seller_limits::{release_reservation, reserve_limits};
pub use crate::seller_limits::{set_usage, stored_usage};

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
    test_clock_id: Option<Uuid>,
    pg_merchant_id: Option<Uuid>,
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
            test_clock_id: c.test_clock.map(|t| t.0),
            pg_merchant_id: c.pg_merchant.map(|m| m.0),
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
            pg_merchant: r.pg_merchant_id.map(escrow_domain::ids::MerchantId),
            pg_transaction_id: r.pg_transaction_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
            trade_id: r.trade_id.map(TradeId),
            test_clock: r.test_clock_id.map(escrow_domain::ids::TestClockId),
        })
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

pub(crate) async fn load(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<Checkout>, RepositoryError> {
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
    pub(crate) pool: DbPool,
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
                .await?
                .map_err(|e| OpenError::Refused(OpenCheckoutError::SellerLimitExceeded(e)))?;
                diesel::insert_into(checkouts::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                let period_start =
                    |window: LimitWindow| limits.period_start_date(window, checkout.created_at);
                diesel::insert_into(limit_reservations::table)
                    .values((
                        limit_reservations::checkout_id.eq(checkout.id.0),
                        limit_reservations::seller_id.eq(checkout.seller_id.0),
                        limit_reservations::method.eq(checkout.method.code()),
                        limit_reservations::amount.eq(amount.minor_units()),
                        limit_reservations::day_start.eq(period_start(LimitWindow::Day)),
                        limit_reservations::month_start.eq(period_start(LimitWindow::Month)),
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

    async fn fail(&self, failure: &CheckoutFailure) -> Result<bool, RepositoryError> {
        let (id, partner_id, now) = (failure.checkout_id, failure.partner_id, failure.at);
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, crate::errors::TxError> {
            let failed = diesel::update(
                checkouts::table
                    .filter(checkouts::id.eq(id.0))
                    .filter(checkouts::partner_id.eq(partner_id.0))
                    .filter(checkouts::status.eq(CheckoutStatus::Open.code())),
            )
            .set((
                checkouts::status.eq(failure.status.code()),
                checkouts::failure_code.eq(failure.failure_code.as_deref()),
                checkouts::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            if failed != 1 {
                return Ok(false);
            }
            release_reservation(conn, id.0, now).await?;
            crate::outbox::insert_partner_event(
                conn,
                partner_id.0,
                &failure.event,
                now,
                failure.on_test_clock,
            )
            .await?;
            diesel::update(
                products::table
                    .filter(products::id.eq(failure.product_id.0))
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
