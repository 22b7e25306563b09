//! The rules in force: partners' contracts (versioned) and the holiday calendar.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::calendar::{BusinessCalendar, Holiday};
use escrow_domain::contract::Contract;
use escrow_domain::ids::PartnerId;
use escrow_domain::ports::{RepositoryError, RulesRepository};
use time::{Date, OffsetDateTime};

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{contracts, holidays};

type Cached<T> = Arc<Mutex<Option<(Instant, T)>>>;

/// A partner's contract versions, newest first, each with the instant it takes effect.
type Versions = Vec<(OffsetDateTime, Contract)>;

/// The version in force at `at`: the newest one effective by then, or the standard contract.
fn in_force(versions: &Versions, at: OffsetDateTime) -> Contract {
    versions
        .iter()
        .find(|(from, _)| *from <= at)
        .map_or_else(Contract::standard_2022, |(_, c)| c.clone())
}

/// Contracts and holidays in PostgreSQL, optionally kept in memory for a short time.
///
/// The cache only saves reads: a contract or holiday change reaches every instance within `ttl`,
/// exactly as if the request had started that much earlier. Nothing relies on it for correctness.
#[derive(Clone)]
pub struct PgRulesRepository {
    pool: DbPool,
    ttl: Duration,
    calendar: Cached<BusinessCalendar>,
    contracts: Arc<Mutex<HashMap<PartnerId, (Instant, Versions)>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PgRulesRepository {
    /// Over this pool, reading the database every time.
    pub fn new(pool: DbPool) -> Self {
        Self::cached(pool, Duration::ZERO)
    }

    /// Over this pool, keeping what it read for `ttl`.
    pub fn cached(pool: DbPool, ttl: Duration) -> Self {
        PgRulesRepository {
            pool,
            ttl,
            calendar: Arc::default(),
            contracts: Arc::default(),
        }
    }

    /// Stores a new version of a partner's contract, in effect from `effective_from`; returns the
    /// version number. The contract is validated first.
    pub async fn set_contract(
        &self,
        partner_id: PartnerId,
        contract: &Contract,
        effective_from: OffsetDateTime,
    ) -> Result<i32, RepositoryError> {
        contract
            .validate()
            .map_err(|e| RepositoryError::Unavailable(e.to_string()))?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let latest: Option<i32> = contracts::table
            .filter(contracts::partner_id.eq(partner_id.0))
            .select(diesel::dsl::max(contracts::version))
            .first(&mut conn)
            .await
            .map_err(storage_error)?;
        let version = latest.unwrap_or(0) + 1;
        diesel::insert_into(contracts::table)
            .values((
                contracts::partner_id.eq(partner_id.0),
                contracts::version.eq(version),
                contracts::code.eq(&contract.code),
                contracts::terms.eq(serde_json::to_value(contract).map_err(corrupt)?),
                contracts::effective_from.eq(effective_from),
                contracts::created_at.eq(OffsetDateTime::now_utc()),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(version)
    }

    /// Adds or renames a holiday.
    pub async fn add_holiday(&self, date: Date, name: &str) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(holidays::table)
            .values((holidays::holiday_date.eq(date), holidays::name.eq(name)))
            .on_conflict(holidays::holiday_date)
            .do_update()
            .set((
                holidays::name.eq(name),
                holidays::updated_at.eq(OffsetDateTime::now_utc()),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// Removes a holiday; returns whether it was there.
    pub async fn remove_holiday(&self, date: Date) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n = diesel::delete(holidays::table.filter(holidays::holiday_date.eq(date)))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(n == 1)
    }
}

#[async_trait]
impl RulesRepository for PgRulesRepository {
    async fn contract_of(
        &self,
        partner_id: PartnerId,
        at: OffsetDateTime,
    ) -> Result<Contract, RepositoryError> {
        if let Some((read, versions)) = lock(&self.contracts).get(&partner_id) {
            if read.elapsed() < self.ttl {
                return Ok(in_force(versions, at));
            }
        }
        let versions = self.load_contracts(partner_id).await?;
        let contract = in_force(&versions, at);
        if !self.ttl.is_zero() {
            lock(&self.contracts).insert(partner_id, (Instant::now(), versions));
        }
        Ok(contract)
    }

    async fn calendar(&self) -> Result<BusinessCalendar, RepositoryError> {
        if let Some((at, c)) = lock(&self.calendar).as_ref() {
            if at.elapsed() < self.ttl {
                return Ok(c.clone());
            }
        }
        let calendar = self.load_calendar().await?;
        if !self.ttl.is_zero() {
            *lock(&self.calendar) = Some((Instant::now(), calendar.clone()));
        }
        Ok(calendar)
    }
}

impl PgRulesRepository {
    async fn load_contracts(&self, partner_id: PartnerId) -> Result<Versions, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(OffsetDateTime, serde_json::Value)> = contracts::table
            .filter(contracts::partner_id.eq(partner_id.0))
            .order(contracts::version.desc())
            .select((contracts::effective_from, contracts::terms))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(|(from, terms)| Ok((from, serde_json::from_value(terms).map_err(corrupt)?)))
            .collect()
    }

    async fn load_calendar(&self) -> Result<BusinessCalendar, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(Date, String)> = holidays::table
            .select((holidays::holiday_date, holidays::name))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(BusinessCalendar::new(
            rows.into_iter().map(|(date, name)| Holiday { date, name }),
        ))
    }
}
