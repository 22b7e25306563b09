//! The contracts of the stores the workers drain: the outbox (each row leased to one worker, retried,
//! dead-lettered, replayed, pruned) and the refund and payout queues (each due item claimed by one
//! worker, settled once). Every row is made by a real transition through the harness's
//! `TradeRepository`, as in production.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};

use super::{all_at_once, open, rules, BoxFuture, TradeStoreHarness, OPENED_AT};
use crate::contract::PaymentMethod;
use crate::delivery::{
    AttemptOutcome, DuePayout, DueRefund, OutboxMessage, OutboxStore, PayoutQueue, RefundQueue,
    RefundState,
};
use crate::trade::{Actor, SaleCancelReason, Shipment, Trade, TradeCommand, TradeRules};

/// What an adapter gives the outbox and money-out suites, beside its trade store.
pub trait MoneyOutHarness: TradeStoreHarness {
    /// The outbox under test.
    fn outbox(&self) -> Arc<dyn OutboxStore>;
    /// The refund queue under test.
    fn refunds(&self) -> Arc<dyn RefundQueue>;
    /// The payout queue under test.
    fn payouts(&self) -> Arc<dyn PayoutQueue>;
    /// Where sellers' payout accounts are stored (the payout queue hands out only payouts whose
    /// seller has one).
    fn payout_accounts(&self) -> Arc<dyn crate::ports::PayoutAccountRepository>;
}

const LEASE: Duration = Duration::minutes(2);

/// After every opening's messages are due.
fn later() -> OffsetDateTime {
    OPENED_AT + Duration::hours(1)
}

/// Runs `command` by `actor` on `trade` at `at` and stores it; the new trade.
async fn run(
    h: &dyn MoneyOutHarness,
    trade: &Trade,
    command: TradeCommand,
    actor: Actor,
    at: OffsetDateTime,
) -> Trade {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let t = trade.apply(command, &actor, at, &rules).expect("apply");
    h.repository().save_transition(&t).await.expect("save");
    t.trade
}

async fn claim_concurrently(
    outbox: &Arc<dyn OutboxStore>,
    workers: usize,
    at: OffsetDateTime,
) -> Vec<OutboxMessage> {
    let claims: Vec<BoxFuture<'_, _>> = (0..workers)
        .map(|_| {
            let outbox = outbox.clone();
            Box::pin(async move { outbox.claim_due(at, 100, LEASE).await.expect("claim") })
                as BoxFuture<'_, _>
        })
        .collect();
    all_at_once(claims).await.into_iter().flatten().collect()
}

fn ids(messages: &[OutboxMessage]) -> Vec<i64> {
    let mut ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    ids
}

/// Workers claiming at once share the due rows without overlap; a claimed row is leased (nobody
/// takes it before the lease runs out) and comes back after it, for a worker that died.
pub async fn outbox_rows_are_leased_to_one_worker(h: &dyn MoneyOutHarness) {
    for _ in 0..3 {
        open(h, PaymentMethod::Card).await;
    }
    let outbox = h.outbox();
    let claimed = claim_concurrently(&outbox, 4, later()).await;
    let all = ids(&claimed);
    let mut unique = all.clone();
    unique.dedup();
    assert_eq!(all, unique, "a row was claimed twice");
    assert!(all.len() >= 3, "each opening queues messages: {all:?}");
    assert!(outbox
        .claim_due(later() + Duration::minutes(1), 100, LEASE)
        .await
        .expect("claim")
        .is_empty());
    let again = outbox
        .claim_due(later() + LEASE + Duration::seconds(1), 100, LEASE)
        .await
        .expect("claim");
    assert_eq!(
        ids(&again),
        all,
        "the lease ran out: every row is due again"
    );
}

/// A delivered row is never claimed again and is pruned after its keeping time; a retried row comes
/// back at its time; a dead row is a dead letter until replayed.
pub async fn outbox_rows_end_delivered_retried_or_dead(h: &dyn MoneyOutHarness) {
    open(h, PaymentMethod::Card).await;
    let outbox = h.outbox();
    let claimed = outbox.claim_due(later(), 100, LEASE).await.expect("claim");
    assert!(claimed.len() >= 2, "{claimed:?}");
    let (delivered, retried) = (claimed[0].id, claimed[1].id);
    let now = later();
    outbox
        .record(delivered, now, &AttemptOutcome::Delivered)
        .await
        .expect("record");
    outbox
        .record(
            retried,
            now,
            &AttemptOutcome::Retry {
                at: now + Duration::minutes(10),
                error: "503".into(),
            },
        )
        .await
        .expect("record");
    for other in &claimed[2..] {
        outbox
            .record(other.id, now, &AttemptOutcome::Dead("gave up".into()))
            .await
            .expect("record");
    }
    let soon = outbox
        .claim_due(now + Duration::minutes(5), 100, LEASE)
        .await
        .expect("claim");
    assert!(soon.is_empty(), "{soon:?}");
    let at_retry = outbox
        .claim_due(now + Duration::minutes(11), 100, LEASE)
        .await
        .expect("claim");
    assert_eq!(ids(&at_retry), [retried]);
    assert_eq!(at_retry[0].attempts, 1);

    let dead = outbox.dead_letters(100).await.expect("dead letters");
    assert_eq!(ids(&dead), ids(&claimed[2..]));
    if let Some(letter) = dead.first() {
        assert!(outbox.replay(letter.id, now).await.expect("replay"));
        assert!(!outbox.replay(letter.id, now).await.expect("replay"));
    }
    assert!(!outbox.replay(delivered, now).await.expect("replay"));

    assert_eq!(
        outbox
            .prune_delivered(now - Duration::days(1))
            .await
            .expect("prune"),
        0
    );
    assert_eq!(
        outbox
            .prune_delivered(now + Duration::days(31))
            .await
            .expect("prune"),
        1,
        "only the delivered row goes"
    );
}

/// A cancelled trade's refund is claimed by exactly one of the workers asking at once; put back, it
/// is claimed again; done, never again.
pub async fn a_refund_is_claimed_by_one_worker_and_settled_once(h: &dyn MoneyOutHarness) {
    let trade = open(h, PaymentMethod::Card).await;
    let refunds = h.refunds();
    assert!(refunds.claim_due(10).await.expect("claim").is_empty());
    run(
        h,
        &trade,
        TradeCommand::CancelSale {
            reason: SaleCancelReason::new(31, None).expect("reason"),
        },
        Actor::Seller(trade.seller_id),
        OPENED_AT + Duration::hours(1),
    )
    .await;
    let claims: Vec<BoxFuture<'_, _>> = (0..16)
        .map(|_| {
            let refunds = refunds.clone();
            Box::pin(async move { refunds.claim_due(10).await.expect("claim") }) as BoxFuture<'_, _>
        })
        .collect();
    let claimed: Vec<DueRefund> = all_at_once(claims).await.into_iter().flatten().collect();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let refund = &claimed[0];
    assert_eq!(refund.trade_id, Some(trade.id));
    assert_eq!(refund.checkout_id, trade.checkout_id);
    assert_eq!(refund.amount, trade.quote.payment_amount);
    assert!(refunds.claim_due(10).await.expect("claim").is_empty());

    let now = later();
    refunds
        .settle(
            refund.id,
            RefundState::Pending,
            Some("PG unavailable".into()),
            now,
        )
        .await
        .expect("settle");
    let retried = refunds.claim_due(10).await.expect("claim");
    assert_eq!(retried.len(), 1);
    refunds
        .settle(refund.id, RefundState::Done, None, now)
        .await
        .expect("settle");
    assert!(refunds.claim_due(10).await.expect("claim").is_empty());
    assert!(
        !refunds
            .settle_by_hand(refund.id, "by hand".into(), now)
            .await
            .expect("by hand"),
        "a refund the PG made is not in the manual queue"
    );
}

/// A refund handed to operators is finished by hand once: it never goes back to the refund job.
pub async fn a_manual_refund_is_finished_by_hand_once(h: &dyn MoneyOutHarness) {
    let trade = open(h, PaymentMethod::Card).await;
    let refunds = h.refunds();
    run(
        h,
        &trade,
        TradeCommand::CancelSale {
            reason: SaleCancelReason::new(31, None).expect("reason"),
        },
        Actor::Seller(trade.seller_id),
        OPENED_AT + Duration::hours(1),
    )
    .await;
    let claimed = refunds.claim_due(10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let now = later();
    refunds
        .settle(
            claimed[0].id,
            RefundState::ManualQueue,
            Some("no refund call".into()),
            now,
        )
        .await
        .expect("settle");
    for (attempt, expected) in [(1, true), (2, false)] {
        assert_eq!(
            refunds
                .settle_by_hand(claimed[0].id, "bank transfer 123".into(), now)
                .await
                .expect("by hand"),
            expected,
            "attempt {attempt}"
        );
    }
    assert!(refunds.claim_due(10).await.expect("claim").is_empty());
}

/// An approved trade's payout waits for its date; once due it is claimed by exactly one worker; put
/// back it is claimed again; instructed, never again.
pub async fn a_payout_is_claimed_by_one_worker_and_instructed_once(h: &dyn MoneyOutHarness) {
    let trade = open(h, PaymentMethod::Card).await;
    let payouts = h.payouts();
    let shipped = run(
        h,
        &trade,
        TradeCommand::RegisterShipment(Shipment::new("005", "1234567890").expect("shipment")),
        Actor::Seller(trade.seller_id),
        OPENED_AT + Duration::hours(1),
    )
    .await;
    let approved = run(
        h,
        &shipped,
        TradeCommand::ApprovePurchase,
        Actor::Buyer(trade.buyer_id),
        OPENED_AT + Duration::days(2),
    )
    .await;
    assert!(
        payouts.claim_due(10).await.expect("claim").is_empty(),
        "scheduled, not due yet"
    );
    run(
        h,
        &approved,
        TradeCommand::PayOut,
        Actor::Batch("payouts".into()),
        OPENED_AT + Duration::days(60),
    )
    .await;
    assert!(
        payouts.claim_due(10).await.expect("claim").is_empty(),
        "due, but the seller has no payout account: it waits"
    );
    let account =
        crate::payout_account::BankAccount::new("90", "3333012345678", "홍길동").expect("account");
    h.payout_accounts()
        .save(
            trade.partner_id,
            trade.seller_id,
            &account,
            OPENED_AT + Duration::days(60),
        )
        .await
        .expect("save account");
    let claims: Vec<BoxFuture<'_, _>> = (0..16)
        .map(|_| {
            let payouts = payouts.clone();
            Box::pin(async move { payouts.claim_due(10).await.expect("claim") }) as BoxFuture<'_, _>
        })
        .collect();
    let claimed: Vec<DuePayout> = all_at_once(claims).await.into_iter().flatten().collect();
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let payout = &claimed[0];
    assert_eq!(payout.trade_id, trade.id);
    assert_eq!(payout.seller_id, trade.seller_id);
    assert_eq!(payout.amount, trade.quote.seller_payout);

    let now = OPENED_AT + Duration::days(60);
    payouts.settle(payout.id, false, now).await.expect("settle");
    assert_eq!(payouts.claim_due(10).await.expect("claim").len(), 1);
    payouts.settle(payout.id, true, now).await.expect("settle");
    assert!(payouts.claim_due(10).await.expect("claim").is_empty());
}

/// Expands to one test per rule of the outbox suite. `$harness` is an async expression giving a
/// [`MoneyOutHarness`].
#[macro_export]
macro_rules! outbox_store_contract {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_outbox_rows_are_leased_to_one_worker() {
            let h = $harness.await;
            $crate::contract_tests::money_out::outbox_rows_are_leased_to_one_worker(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_outbox_rows_end_delivered_retried_or_dead() {
            let h = $harness.await;
            $crate::contract_tests::money_out::outbox_rows_end_delivered_retried_or_dead(&h).await;
        }
    };
}

/// Expands to one test per rule of the refund and payout queue suite. `$harness` is an async
/// expression giving a [`MoneyOutHarness`].
#[macro_export]
macro_rules! money_out_queue_contract {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_refund_is_claimed_by_one_worker_and_settled_once() {
            let h = $harness.await;
            $crate::contract_tests::money_out::a_refund_is_claimed_by_one_worker_and_settled_once(
                &h,
            )
            .await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_manual_refund_is_finished_by_hand_once() {
            let h = $harness.await;
            $crate::contract_tests::money_out::a_manual_refund_is_finished_by_hand_once(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_payout_is_claimed_by_one_worker_and_instructed_once() {
            let h = $harness.await;
            $crate::contract_tests::money_out::a_payout_is_claimed_by_one_worker_and_instructed_once(&h)
                .await;
        }
    };
}
