//! Conflicting commands on one trade, in parallel against a real database: exactly one wins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::World;
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ports::{Clock, TradeRepository};
use escrow_domain::services::{TradeService, TradeServiceError};
use escrow_domain::trade::{
    Actor, Reason, SaleCancelReason, Shipment, TradeCommand, TransitionError,
};
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::sync::Barrier;

struct FixedClock(OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_conflicting_commands_exactly_one_wins() {
    let w = Arc::new(World::new().await);
    let open = w.prepared_trade(PaymentMethod::Card).await;
    let service = Arc::new(TradeService::new(
        Arc::new(w.trades.clone()),
        Arc::new(w.rules.clone()),
        Arc::new(FixedClock(datetime!(2025-03-06 12:00 +9))),
    ));
    let opened = service.open(open).await.unwrap();
    let trade = opened.trade.clone();
    // Three mutually exclusive commands from 31: once one applies, the others are invalid in the new
    // status (32, 34 or 36). (An operator's cancel is not among them: it is still valid after a
    // shipment, so it would rightly apply second.)
    let commands: Vec<(Actor, TradeCommand)> = (0..32)
        .map(|i| match i % 3 {
            0 => (
                Actor::Seller(trade.seller_id),
                TradeCommand::RegisterShipment(Shipment::new("005", format!("9000{i}")).unwrap()),
            ),
            1 => (
                Actor::Buyer(trade.buyer_id),
                TradeCommand::RequestCancel {
                    reason: Reason::new("단순변심").unwrap(),
                },
            ),
            _ => (
                Actor::Seller(trade.seller_id),
                TradeCommand::CancelSale {
                    reason: SaleCancelReason::new(32, None).unwrap(),
                },
            ),
        })
        .collect();
    let barrier = Arc::new(Barrier::new(commands.len()));
    let tasks: Vec<_> = commands
        .into_iter()
        .map(|(actor, command)| {
            let (service, barrier) = (service.clone(), barrier.clone());
            let (partner, id) = (trade.partner_id, trade.id);
            tokio::spawn(async move {
                barrier.wait().await;
                service.run(partner, id, &actor, command).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(transition) => winners.push(transition),
            Err(TradeServiceError::Refused(TransitionError::InvalidTransition { .. }))
            | Err(TradeServiceError::Conflict) => {}
            Err(other) => panic!("a loser failed in another way: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one command wins");
    let winner = &winners[0];
    let stored = w
        .trades
        .get(trade.partner_id, trade.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, winner.trade);
    assert_eq!(stored.version, 2);

    let id = trade.id;
    let events = common::count(
        w.pool(),
        &format!("SELECT count(*) AS n FROM trade_events WHERE trade_id = '{id}'"),
    )
    .await;
    assert_eq!(events, 2, "the opening and the one applied command");
    let winner_rows = common::count(
        w.pool(),
        &format!("SELECT count(*) AS n FROM outbox WHERE trade_id = '{id}' AND sequence = 2"),
    )
    .await;
    assert_eq!(
        winner_rows,
        (winner.notifications.len() + winner.callbacks.len()) as i64,
        "its AlimTalks and its callback, once"
    );
    let all_rows = common::count(
        w.pool(),
        &format!("SELECT count(*) AS n FROM outbox WHERE trade_id = '{id}'"),
    )
    .await;
    assert_eq!(
        all_rows,
        (opened.notifications.len() + opened.callbacks.len()) as i64 + winner_rows
    );
    let refunds = common::count(
        w.pool(),
        &format!("SELECT count(*) AS n FROM refunds WHERE trade_id = '{id}'"),
    )
    .await;
    assert!(refunds <= 1);
}
