//! The rules in force: partners' contracts (versioned) and the holiday calendar.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::calendar::{BusinessCalendar, Holiday};
use escrow_domain::contract::Contract;
use escrow_domain::ids::PartnerId;
use escrow_domain::ports::{RepositoryError, RulesRepository};
use time::{Date, OffsetDateTime};

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{contracts, holidays};

/// Contracts and holidays in PostgreSQL.
#[derive(Clone)]
pub struct PgRulesRepository {
    pool: DbPool,
}

impl PgRulesRepository {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgRulesRepository { pool }
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
    async fn contract_of(&self, partner_id: PartnerId) -> Result<Contract, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let terms: Option<serde_json::Value> = contracts::table
            .filter(contracts::partner_id.eq(partner_id.0))
            .filter(contracts::effective_from.le(OffsetDateTime::now_utc()))
            .order(contracts::version.desc())
            .select(contracts::terms)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        match terms {
            Some(t) => serde_json::from_value(t).map_err(corrupt),
            None => Ok(Contract::standard_2022()),
        }
    }

    async fn calendar(&self) -> Result<BusinessCalendar, RepositoryError> {
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
