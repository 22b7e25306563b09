//! Per-partner request counts in one-minute windows (SPEC §18 rate limit): one upsert per request,
//! so every instance counts against the same budget.

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use escrow_domain::ids::PartnerId;
use escrow_domain::ports::RepositoryError;
use escrow_domain::rate_limit::RequestCounter;
use time::OffsetDateTime;

use crate::errors::{pool_error, storage_error};
use crate::migrate::DbPool;

/// The request counter.
#[derive(Clone)]
pub struct PgRequestCounter {
    pool: DbPool,
}

impl PgRequestCounter {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgRequestCounter { pool }
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    requests: i64,
}

#[async_trait]
impl RequestCounter for PgRequestCounter {
    async fn count(
        &self,
        partner_id: PartnerId,
        window: OffsetDateTime,
    ) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Count = diesel::sql_query(
            "INSERT INTO partner_request_windows (partner_id, window_start, requests) VALUES ($1, $2, 1) \
             ON CONFLICT (partner_id, window_start) \
             DO UPDATE SET requests = partner_request_windows.requests + 1 \
             RETURNING requests",
        )
        .bind::<diesel::sql_types::Uuid, _>(partner_id.0)
        .bind::<diesel::sql_types::Timestamptz, _>(window)
        .get_result(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(u64::try_from(row.requests).unwrap_or(0))
    }

    async fn prune(&self, before: OffsetDateTime) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n = diesel::sql_query("DELETE FROM partner_request_windows WHERE window_start < $1")
            .bind::<diesel::sql_types::Timestamptz, _>(before)
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
