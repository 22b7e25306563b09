//! Test clock use cases (SPEC §16): create, read and advance a test partner's clocks. Advancing runs
//! the jobs for the clock's trades and checkouts at each instant a timer falls due, in order, up to
//! the target: what the real-time jobs would have done had the time passed.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::ids::TestClockId;
use crate::people::Partner;
use crate::ports::Clock;
use crate::services::{CheckoutService, TradeService, TradeServiceError};
use crate::test_clock::{
    check_advance, check_new, test_partner, TestClock, TestClockError, TestClockRepository,
    CLOCKS_PER_PARTNER,
};

/// The name jobs run under when a clock is advanced (events' actor).
pub const CLOCK_JOB: &str = "test-clock";

/// How many timers one step may run; a step runs until none is left.
const STEP_BATCH: u32 = 200;

/// Test clock use cases.
pub struct TestClockService {
    clocks: Arc<dyn TestClockRepository>,
    trades: Arc<TradeService>,
    checkouts: Arc<CheckoutService>,
    clock: Arc<dyn Clock>,
}

impl From<TradeServiceError> for TestClockError {
    fn from(e: TradeServiceError) -> Self {
        match e {
            TradeServiceError::Storage(s) => TestClockError::Storage(s),
            other => TestClockError::Storage(crate::ports::RepositoryError::Unavailable(
                other.to_string(),
            )),
        }
    }
}

impl TestClockService {
    /// A service over these ports and use cases.
    pub fn new(
        clocks: Arc<dyn TestClockRepository>,
        trades: Arc<TradeService>,
        checkouts: Arc<CheckoutService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TestClockService {
            clocks,
            trades,
            checkouts,
            clock,
        }
    }

    /// A new clock of the test partner, frozen at `frozen_at`.
    pub async fn create(
        &self,
        partner: &Partner,
        name: &str,
        frozen_at: OffsetDateTime,
    ) -> Result<TestClock, TestClockError> {
        let partner_id = test_partner(partner)?;
        check_new(name, frozen_at)?;
        if self.clocks.list(partner_id).await?.len() >= CLOCKS_PER_PARTNER {
            return Err(TestClockError::TooMany);
        }
        let clock = TestClock {
            id: TestClockId::random(),
            partner_id,
            name: name.trim().to_owned(),
            frozen_at: crate::ports::to_micros(frozen_at),
            created_at: self.clock.now(),
        };
        self.clocks.create(&clock).await?;
        Ok(clock)
    }

    /// The partner's clock `id` (`NotFound` for live partners and other partners' clocks).
    pub async fn get(
        &self,
        partner: &Partner,
        id: TestClockId,
    ) -> Result<TestClock, TestClockError> {
        let partner_id = test_partner(partner)?;
        self.clocks
            .get(partner_id, id)
            .await?
            .ok_or(TestClockError::NotFound)
    }

    /// Checks that `id` is one of the test partner's clocks (for a signup naming it).
    pub async fn owned(
        &self,
        partner: &Partner,
        id: TestClockId,
    ) -> Result<TestClockId, TestClockError> {
        self.get(partner, id).await.map(|c| c.id)
    }

    /// The partner's clocks.
    pub async fn list(&self, partner: &Partner) -> Result<Vec<TestClock>, TestClockError> {
        Ok(self.clocks.list(test_partner(partner)?).await?)
    }

    /// Moves the clock to `to`, stopping at every instant one of its trades' timers falls due (and
    /// running the jobs there: timers, checkout expiry), then at `to`.
    pub async fn advance(
        &self,
        partner: &Partner,
        id: TestClockId,
        to: OffsetDateTime,
    ) -> Result<TestClock, TestClockError> {
        let clock = self.get(partner, id).await?;
        let to = crate::ports::to_micros(to);
        check_advance(clock.frozen_at, to)?;
        let mut at = clock.frozen_at;
        loop {
            let next = self.next_stop(id, at, to).await?;
            if !self.clocks.move_to(id, at, next).await? {
                return Err(TestClockError::Busy);
            }
            at = next;
            self.run_jobs_at(id).await?;
            if at == to {
                break;
            }
        }
        Ok(TestClock {
            frozen_at: to,
            ..clock
        })
    }

    /// The first instant after `at` a timer of the clock's trades falls due, or `to`.
    async fn next_stop(
        &self,
        id: TestClockId,
        at: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<OffsetDateTime, TestClockError> {
        Ok(self
            .trades
            .due_instants_on(id, to)
            .await?
            .into_iter()
            .find(|due| *due > at)
            .map_or(to, |due| due.min(to)))
    }

    /// Runs every job of the clock at its instant until nothing more is due.
    async fn run_jobs_at(&self, id: TestClockId) -> Result<(), TestClockError> {
        loop {
            let timers = self
                .trades
                .run_due_timers_on(Some(id), CLOCK_JOB, STEP_BATCH)
                .await?;
            let expired = self
                .checkouts
                .expire_due_on(Some(id), STEP_BATCH)
                .await
                .map_err(|e| {
                    TestClockError::Storage(crate::ports::RepositoryError::Unavailable(
                        e.to_string(),
                    ))
                })?;
            // Skipped timers (held trades) stay due; only applied work can make more due.
            if timers.applied == 0 && expired == 0 {
                return Ok(());
            }
        }
    }
}
