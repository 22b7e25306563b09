//! Trade use cases: open a trade, run a command on it, run the commands of due timers.

use std::sync::Arc;

use crate::ids::{MemberId, PartnerId, TestClockId, TradeId};
use crate::ports::{Clock, RepositoryError, RulesRepository, TradeRepository};
use crate::test_clock::{ClockTime, TestClockRepository};
use crate::trade::{
    Actor, ActorRole, OpenTrade, Trade, TradeCommand, TradeRules, Transition, TransitionError,
};

/// How often a command is decided again after losing a race to a concurrent change.
const CONFLICT_RETRIES: usize = 3;

/// Why a trade use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TradeServiceError {
    /// No such trade for this partner, or the actor is not a party to it (answered as 404).
    #[error("trade not found")]
    NotFound,
    /// The trade refused the command.
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// Concurrent changes kept winning; the caller may retry.
    #[error("the trade is being changed concurrently")]
    Conflict,
    /// Storage failed.
    #[error(transparent)]
    Storage(RepositoryError),
}

impl From<RepositoryError> for TradeServiceError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::Conflict => TradeServiceError::Conflict,
            other => TradeServiceError::Storage(other),
        }
    }
}

/// Trade use cases.
pub struct TradeService {
    trades: Arc<dyn TradeRepository>,
    rules: Arc<dyn RulesRepository>,
    time: ClockTime,
}

/// What one pass over due timers did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueRun {
    /// Commands applied.
    pub applied: usize,
    /// Timers skipped: held trades, already handled elsewhere, not due after all.
    pub skipped: usize,
}

impl TradeService {
    /// A service over these ports.
    pub fn new(
        trades: Arc<dyn TradeRepository>,
        rules: Arc<dyn RulesRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TradeService {
            trades,
            rules,
            time: ClockTime::real(clock),
        }
    }

    /// Trades on test clocks live by them (SPEC §16).
    pub fn with_test_clocks(mut self, clocks: Arc<dyn TestClockRepository>) -> Self {
        self.time = self.time.and_test_clocks(clocks);
        self
    }

    /// The trade `trade_id` of `partner_id`.
    pub async fn get(
        &self,
        partner_id: PartnerId,
        trade_id: TradeId,
    ) -> Result<Trade, TradeServiceError> {
        self.trades
            .get(partner_id, trade_id)
            .await?
            .ok_or(TradeServiceError::NotFound)
    }

    /// Now, for the trade `trade_id` of `partner_id`: its test clock's instant when it lives on one
    /// (what a delivery report without a time means, SPEC §16).
    pub async fn now_of(
        &self,
        partner_id: PartnerId,
        trade_id: TradeId,
    ) -> Result<time::OffsetDateTime, TradeServiceError> {
        let clock = self.get(partner_id, trade_id).await?.test_clock;
        Ok(self.time.now_on(clock).await?)
    }

    /// The trade `trade_id` of `partner_id` as member `member` may see it: `NotFound` unless the
    /// member is its buyer or seller.
    pub async fn get_as_member(
        &self,
        partner_id: PartnerId,
        trade_id: TradeId,
        member: MemberId,
    ) -> Result<Trade, TradeServiceError> {
        let trade = self.get(partner_id, trade_id).await?;
        if trade.is_party(member) {
            Ok(trade)
        } else {
            Err(TradeServiceError::NotFound)
        }
    }

    /// Runs a member's `command` given in `role` (the buyer's or the seller's request) on the trade
    /// `trade_id` of `partner_id`, reading the trade once: `NotFound` when the member is not a party,
    /// `ActorNotAllowed` when it is the other party ([`Trade::member_actor`]).
    pub async fn run_as_member(
        &self,
        partner_id: PartnerId,
        trade_id: TradeId,
        member: MemberId,
        role: ActorRole,
        command: TradeCommand,
    ) -> Result<Transition, TradeServiceError> {
        let trade = self.get(partner_id, trade_id).await?;
        let actor = trade
            .member_actor(member, role, &command)
            .map_err(|e| match e {
                TransitionError::NotParticipant => TradeServiceError::NotFound,
                other => TradeServiceError::Refused(other),
            })?;
        self.run_on(trade, &actor, command).await
    }

    /// Opens the trade of an approved payment and stores it.
    pub async fn open(&self, open: OpenTrade) -> Result<Transition, TradeServiceError> {
        let now = self.time.now_on(open.test_clock).await?;
        let contract = self.rules.contract_of(open.partner_id, now).await?;
        let calendar = self.rules.calendar().await?;
        let rules = TradeRules {
            contract: &contract,
            calendar: &calendar,
        };
        let transition = Trade::open(open, now, &rules)?;
        self.trades.insert_opened(&transition).await?;
        Ok(transition)
    }

    /// Runs `command` by `actor` on the trade `trade_id` of `partner_id` and stores the result.
    ///
    /// When a concurrent change wins the race, the trade is reloaded and the command decided again
    /// on the new state (so it is then usually refused as an invalid transition).
    pub async fn run(
        &self,
        partner_id: PartnerId,
        trade_id: TradeId,
        actor: &Actor,
        command: TradeCommand,
    ) -> Result<Transition, TradeServiceError> {
        let trade = self
            .trades
            .get(partner_id, trade_id)
            .await?
            .ok_or(TradeServiceError::NotFound)?;
        self.run_on(trade, actor, command).await
    }

    /// Like [`TradeService::run`], starting from a trade the caller already loaded (it is reloaded
    /// only after a lost race).
    pub async fn run_on(
        &self,
        loaded: Trade,
        actor: &Actor,
        command: TradeCommand,
    ) -> Result<Transition, TradeServiceError> {
        let (partner_id, trade_id) = (loaded.partner_id, loaded.id);
        // A trade on a test clock acts at its clock's instant (SPEC §16).
        let now = self.time.now_on(loaded.test_clock).await?;
        let contract = self.rules.contract_of(partner_id, now).await?;
        let calendar = self.rules.calendar().await?;
        let rules = TradeRules {
            contract: &contract,
            calendar: &calendar,
        };
        let mut trade = loaded;
        for attempt in 0..CONFLICT_RETRIES {
            if attempt > 0 {
                trade = self
                    .trades
                    .get(partner_id, trade_id)
                    .await?
                    .ok_or(TradeServiceError::NotFound)?;
            }
            let transition = match trade.apply(command.clone(), actor, now, &rules) {
                Ok(t) => t,
                Err(TransitionError::NotParticipant) => return Err(TradeServiceError::NotFound),
                Err(e) => return Err(e.into()),
            };
            match self.trades.save_transition(&transition).await {
                Ok(()) => return Ok(transition),
                Err(RepositoryError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(TradeServiceError::Conflict)
    }

    /// Runs the command of every timer due now (at most `limit`), as the job `job`.
    ///
    /// Idempotent: a timer whose trade moved on, is held or was handled by another instance is
    /// skipped, never applied twice (the optimistic version check sees to that).
    pub async fn run_due_timers(&self, job: &str, limit: u32) -> Result<DueRun, TradeServiceError> {
        self.run_due_timers_on(None, job, limit).await
    }

    /// When the timers of `test_clock`'s trades fall due, up to `until`, earliest first (at most a
    /// thousand).
    pub async fn due_instants_on(
        &self,
        test_clock: TestClockId,
        until: time::OffsetDateTime,
    ) -> Result<Vec<time::OffsetDateTime>, TradeServiceError> {
        let due = self
            .trades
            .due_timers(Some(test_clock), until, 1_000)
            .await?;
        Ok(due.into_iter().map(|d| d.timer.due).collect())
    }

    /// Like [`TradeService::run_due_timers`], for the trades of `test_clock` at its instant (`None`:
    /// the trades on no clock, in real time).
    pub async fn run_due_timers_on(
        &self,
        test_clock: Option<TestClockId>,
        job: &str,
        limit: u32,
    ) -> Result<DueRun, TradeServiceError> {
        let now = self.time.now_on(test_clock).await?;
        let mut run = DueRun::default();
        for due in self.trades.due_timers(test_clock, now, limit).await? {
            let actor = Actor::Batch(job.to_owned());
            match self
                .run(
                    due.partner_id,
                    due.trade_id,
                    &actor,
                    due.timer.kind.command(),
                )
                .await
            {
                Ok(_) => run.applied += 1,
                Err(TradeServiceError::Refused(_))
                | Err(TradeServiceError::Conflict)
                | Err(TradeServiceError::NotFound) => run.skipped += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::BusinessCalendar;
    use crate::contract::Contract;
    use crate::ports::{MockClock, MockRulesRepository, MockTradeRepository};
    use crate::trade::tests_support::{paid_trade, rules_fixture};
    use crate::trade::{Shipment, TradeStatus};
    use time::macros::datetime;

    fn rules_repo() -> MockRulesRepository {
        let mut rules = MockRulesRepository::new();
        rules
            .expect_contract_of()
            .returning(|_, _| Ok(Contract::standard_2022()));
        rules
            .expect_calendar()
            .returning(|| Ok(BusinessCalendar::korea()));
        rules
    }

    fn clock() -> MockClock {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2025-03-06 10:00 +9));
        clock
    }

    #[tokio::test]
    async fn run_saves_the_transition_the_trade_decided() {
        let (contract, calendar) = rules_fixture();
        let trade = paid_trade(&contract, &calendar);
        let seller = Actor::Seller(trade.seller_id);
        let mut repo = MockTradeRepository::new();
        let stored = trade.clone();
        repo.expect_get()
            .returning(move |_, _| Ok(Some(stored.clone())));
        repo.expect_save_transition()
            .withf(|t| t.trade.status == TradeStatus::Shipping && t.previous_version() == 1)
            .times(1)
            .returning(|_| Ok(()));
        let service = TradeService::new(Arc::new(repo), Arc::new(rules_repo()), Arc::new(clock()));
        let t = service
            .run(
                trade.partner_id,
                trade.id,
                &seller,
                TradeCommand::RegisterShipment(Shipment::new("005", "123456789").unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(t.trade.status, TradeStatus::Shipping);
    }

    #[tokio::test]
    async fn a_member_outside_the_trade_gets_not_found() {
        let (contract, calendar) = rules_fixture();
        let trade = paid_trade(&contract, &calendar);
        let mut repo = MockTradeRepository::new();
        let stored = trade.clone();
        repo.expect_get()
            .returning(move |_, _| Ok(Some(stored.clone())));
        repo.expect_save_transition().never();
        let service = TradeService::new(Arc::new(repo), Arc::new(rules_repo()), Arc::new(clock()));
        let stranger = Actor::Buyer(crate::ids::MemberId::random());
        let err = service
            .run(
                trade.partner_id,
                trade.id,
                &stranger,
                TradeCommand::ApprovePurchase,
            )
            .await
            .unwrap_err();
        assert_eq!(err, TradeServiceError::NotFound);
    }

    #[tokio::test]
    async fn a_lost_race_is_decided_again_on_the_new_state() {
        let (contract, calendar) = rules_fixture();
        let trade = paid_trade(&contract, &calendar);
        let mut shipped = trade.clone();
        shipped.status = TradeStatus::Shipping;
        shipped.version = 2;
        let mut repo = MockTradeRepository::new();
        let mut seq = mockall::Sequence::new();
        let first = trade.clone();
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(move |_, _| Ok(Some(first.clone())));
        repo.expect_save_transition()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Err(RepositoryError::Conflict));
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(move |_, _| Ok(Some(shipped.clone())));
        let service = TradeService::new(Arc::new(repo), Arc::new(rules_repo()), Arc::new(clock()));
        let err = service
            .run(
                trade.partner_id,
                trade.id,
                &Actor::Buyer(trade.buyer_id),
                TradeCommand::RequestCancel {
                    reason: crate::trade::Reason::new("단순변심").unwrap(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            TradeServiceError::Refused(TransitionError::InvalidTransition {
                status: TradeStatus::Shipping,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn due_timers_skip_held_trades_and_apply_the_rest() {
        let (contract, calendar) = rules_fixture();
        let mut cancelled = paid_trade(&contract, &calendar);
        let t = cancelled
            .apply(
                TradeCommand::RequestCancel {
                    reason: crate::trade::Reason::new("단순변심").unwrap(),
                },
                &Actor::Buyer(cancelled.buyer_id),
                datetime!(2025-03-06 10:00 +9),
                &TradeRules {
                    contract: &contract,
                    calendar: &calendar,
                },
            )
            .unwrap();
        cancelled = t.trade;
        let mut held = cancelled.clone();
        held.id = TradeId::random();
        held.held = true;
        let timer = t.timers[0];
        let due = vec![
            crate::ports::DueTimer {
                partner_id: cancelled.partner_id,
                trade_id: cancelled.id,
                timer,
            },
            crate::ports::DueTimer {
                partner_id: held.partner_id,
                trade_id: held.id,
                timer,
            },
        ];
        let mut repo = MockTradeRepository::new();
        repo.expect_due_timers()
            .returning(move |_, _, _| Ok(due.clone()));
        let (a, b) = (cancelled.clone(), held.clone());
        repo.expect_get()
            .returning(move |_, id| Ok(Some(if id == a.id { a.clone() } else { b.clone() })));
        repo.expect_save_transition()
            .times(1)
            .withf(|t| t.trade.status == TradeStatus::CancelledByBuyer)
            .returning(|_| Ok(()));
        let mut late = MockClock::new();
        late.expect_now()
            .return_const(datetime!(2025-03-11 10:00 +9));
        let service = TradeService::new(Arc::new(repo), Arc::new(rules_repo()), Arc::new(late));
        let run = service
            .run_due_timers("auto-cancel-agreement", 100)
            .await
            .unwrap();
        assert_eq!(
            run,
            DueRun {
                applied: 1,
                skipped: 1
            }
        );
    }
}
