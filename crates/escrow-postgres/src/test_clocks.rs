//! Test clocks (SPEC §16): a test partner's frozen instants, moved forward one advance at a time.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::{PartnerId, TestClockId};
use escrow_domain::ports::RepositoryError;
use escrow_domain::test_clock::{TestClock, TestClockRepository};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::test_clocks;

/// The test clocks.
#[derive(Clone)]
pub struct PgTestClocks {
    pool: DbPool,
}

impl PgTestClocks {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgTestClocks { pool }
    }
}

type Row = (Uuid, Uuid, String, OffsetDateTime, OffsetDateTime);

fn clock((id, partner_id, name, frozen_at, created_at): Row) -> TestClock {
    TestClock {
        id: TestClockId(id),
        partner_id: PartnerId(partner_id),
        name,
        frozen_at,
        created_at,
    }
}

fn columns() -> (
    test_clocks::id,
    test_clocks::partner_id,
    test_clocks::name,
    test_clocks::frozen_at,
    test_clocks::created_at,
) {
    (
        test_clocks::id,
        test_clocks::partner_id,
        test_clocks::name,
        test_clocks::frozen_at,
        test_clocks::created_at,
    )
}

#[async_trait]
impl TestClockRepository for PgTestClocks {
    async fn create(&self, c: &TestClock) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(test_clocks::table)
            .values((
                test_clocks::id.eq(c.id.0),
                test_clocks::partner_id.eq(c.partner_id.0),
                test_clocks::name.eq(&c.name),
                test_clocks::frozen_at.eq(c.frozen_at),
                test_clocks::created_at.eq(c.created_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn get(
        &self,
        partner_id: PartnerId,
        id: TestClockId,
    ) -> Result<Option<TestClock>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        Ok(test_clocks::table
            .filter(test_clocks::id.eq(id.0))
            .filter(test_clocks::partner_id.eq(partner_id.0))
            .select(columns())
            .first::<Row>(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(clock))
    }

    async fn list(&self, partner_id: PartnerId) -> Result<Vec<TestClock>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        Ok(test_clocks::table
            .filter(test_clocks::partner_id.eq(partner_id.0))
            .order((test_clocks::created_at.asc(), test_clocks::id.asc()))
            .select(columns())
            .load::<Row>(&mut conn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(clock)
            .collect())
    }

    async fn move_to(
        &self,
        id: TestClockId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n = diesel::update(
            test_clocks::table
                .filter(test_clocks::id.eq(id.0))
                .filter(test_clocks::frozen_at.eq(from)),
        )
        .set(test_clocks::frozen_at.eq(to))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(n == 1)
    }

    async fn frozen_at(&self, id: TestClockId) -> Result<Option<OffsetDateTime>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        test_clocks::table
            .filter(test_clocks::id.eq(id.0))
            .select(test_clocks::frozen_at)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)
    }
}
