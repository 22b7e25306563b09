//! The contracts every storage adapter must pass (feature `contract-tests`), one suite per port:
//!
//! - this module: `TradeRepository` ([`TradeStoreHarness`],
//!   [`trade_repository_contract!`](crate::trade_repository_contract));
//! - [`checkouts`]: `CheckoutRepository` — seller limits under concurrency, one open checkout per
//!   product, idempotency keys, release exactly once
//!   ([`checkout_repository_contract!`](crate::checkout_repository_contract));
//! - [`money_out`]: the `OutboxStore` and the refund and payout queues, fed by real transitions
//!   ([`outbox_store_contract!`](crate::outbox_store_contract),
//!   [`money_out_queue_contract!`](crate::money_out_queue_contract)).
//!
//! An adapter crate implements the harness (its stores, and records whose references exist in them)
//! and invokes each macro with an async expression giving a fresh harness; a macro expands to one
//! `#[tokio::test]` per rule.

#![allow(clippy::expect_used)] // test support: a failed step fails the adapter's test

use std::sync::Arc;

use async_trait::async_trait;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::calendar::BusinessCalendar;
use crate::contract::{Contract, PaymentMethod};
use crate::ids::{PartnerId, TradeId};
use crate::ports::{RepositoryError, TradeRepository};
use crate::trade::{Actor, OpenTrade, Shipment, Trade, TradeCommand, TradeRules, TradeStatus};

pub mod checkouts;
pub mod money_out;

pub use checkouts::CheckoutStoreHarness;
pub use money_out::MoneyOutHarness;

/// What an adapter gives the suite.
#[async_trait]
pub trait TradeStoreHarness: Send + Sync {
    /// The repository under test.
    fn repository(&self) -> Arc<dyn TradeRepository>;

    /// A trade to open, paid with `method`, whose references exist in the store.
    async fn prepared_trade(&self, method: PaymentMethod) -> OpenTrade;
}

/// Runs `futures` at once and returns their outputs in order. Each one holds its own connection, so
/// the store sees them concurrently; std only, so the domain needs no runtime crate.
pub async fn all_at_once<'a, T>(futures: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut pending: Vec<Option<BoxFuture<'a, T>>> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut waiting = false;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(
                std::mem::take(&mut done)
                    .into_iter()
                    .map(|v| v.expect("every future finished"))
                    .collect(),
            )
        }
    })
    .await
}

/// A boxed future, as [`all_at_once`] takes them.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// When the suite's trades are opened (a Thursday, Seoul time).
pub const OPENED_AT: OffsetDateTime = datetime!(2025-03-06 10:00 +9);

pub(crate) fn rules() -> (Contract, BusinessCalendar) {
    (Contract::standard_2022(), BusinessCalendar::korea())
}

pub(crate) async fn open(h: &dyn TradeStoreHarness, method: PaymentMethod) -> Trade {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let opened = Trade::open(h.prepared_trade(method).await, OPENED_AT, &rules).expect("open");
    h.repository()
        .insert_opened(&opened)
        .await
        .expect("insert_opened");
    opened.trade
}

/// A stored trade reads back equal, and only for its own partner.
pub async fn stored_trade_reads_back_only_for_its_partner(h: &dyn TradeStoreHarness) {
    let trade = open(h, PaymentMethod::Card).await;
    let repo = h.repository();
    assert_eq!(
        repo.get(trade.partner_id, trade.id).await.expect("get"),
        Some(trade.clone())
    );
    assert_eq!(
        repo.get(PartnerId::random(), trade.id).await.expect("get"),
        None
    );
    assert_eq!(
        repo.get(trade.partner_id, TradeId::random())
            .await
            .expect("get"),
        None
    );
}

/// A saved transition is what the next read returns.
pub async fn saved_transition_is_read_back(h: &dyn TradeStoreHarness) {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let trade = open(h, PaymentMethod::Card).await;
    let shipped = trade
        .apply(
            TradeCommand::RegisterShipment(Shipment::new("005", "1234567890").expect("shipment")),
            &Actor::Seller(trade.seller_id),
            OPENED_AT + Duration::hours(1),
            &rules,
        )
        .expect("ship");
    h.repository()
        .save_transition(&shipped)
        .await
        .expect("save");
    let read = h
        .repository()
        .get(trade.partner_id, trade.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(read, shipped.trade);
    assert_eq!(read.status, TradeStatus::Shipping);
}

/// A transition decided on a stale version is refused with `Conflict`, and changes nothing.
pub async fn stale_transition_is_a_conflict(h: &dyn TradeStoreHarness) {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let trade = open(h, PaymentMethod::Card).await;
    let at = OPENED_AT + Duration::hours(1);
    let ship = trade
        .apply(
            TradeCommand::RegisterShipment(Shipment::new("005", "1234567890").expect("shipment")),
            &Actor::Seller(trade.seller_id),
            at,
            &rules,
        )
        .expect("ship");
    let cancel = trade
        .apply(
            TradeCommand::CancelByOperator {
                reason: crate::trade::Reason::new("test").expect("reason"),
            },
            &Actor::Operator("op".into()),
            at,
            &rules,
        )
        .expect("cancel");
    let repo = h.repository();
    repo.save_transition(&ship).await.expect("first wins");
    assert_eq!(
        repo.save_transition(&cancel).await,
        Err(RepositoryError::Conflict)
    );
    assert_eq!(
        repo.save_transition(&ship).await,
        Err(RepositoryError::Conflict)
    );
    let read = repo
        .get(trade.partner_id, trade.id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(read.status, TradeStatus::Shipping);
}

/// Only due timers are listed, and a transition replaces a trade's timers.
pub async fn timers_are_listed_when_due_and_replaced_by_transitions(h: &dyn TradeStoreHarness) {
    let (contract, calendar) = rules();
    let rules = TradeRules {
        contract: &contract,
        calendar: &calendar,
    };
    let trade = open(h, PaymentMethod::VirtualAccount).await;
    let repo = h.repository();
    let due_for = |list: Vec<crate::ports::DueTimer>| -> Vec<_> {
        list.into_iter()
            .filter(|d| d.trade_id == trade.id)
            .map(|d| d.timer.kind)
            .collect()
    };
    assert!(due_for(
        repo.due_timers(None, OPENED_AT + Duration::hours(4), 1000)
            .await
            .expect("due")
    )
    .is_empty());
    assert_eq!(
        due_for(
            repo.due_timers(None, OPENED_AT + Duration::hours(6), 1000)
                .await
                .expect("due")
        ),
        [crate::trade::TimerKind::DepositReminder]
    );
    assert_eq!(
        due_for(
            repo.due_timers(None, OPENED_AT + Duration::hours(25), 1000)
                .await
                .expect("due")
        )
        .len(),
        2
    );
    let paid = trade
        .apply(
            TradeCommand::ConfirmDeposit,
            &Actor::PaymentGateway,
            OPENED_AT + Duration::hours(1),
            &rules,
        )
        .expect("deposit");
    repo.save_transition(&paid).await.expect("save");
    assert!(due_for(
        repo.due_timers(None, OPENED_AT + Duration::hours(25), 1000)
            .await
            .expect("due")
    )
    .is_empty());
}

/// Expands to one test per rule of the suite. `$harness` is an async expression giving a
/// [`TradeStoreHarness`].
#[macro_export]
macro_rules! trade_repository_contract {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_stored_trade_reads_back_only_for_its_partner() {
            let h = $harness.await;
            $crate::contract_tests::stored_trade_reads_back_only_for_its_partner(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_saved_transition_is_read_back() {
            let h = $harness.await;
            $crate::contract_tests::saved_transition_is_read_back(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_stale_transition_is_a_conflict() {
            let h = $harness.await;
            $crate::contract_tests::stale_transition_is_a_conflict(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_timers_are_listed_when_due_and_replaced_by_transitions() {
            let h = $harness.await;
            $crate::contract_tests::timers_are_listed_when_due_and_replaced_by_transitions(&h)
                .await;
        }
    };
}
