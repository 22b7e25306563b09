//! A broken money invariant is an error of its own, never a harmless duplicate: a second refund of a
//! trade is refused at the repository with `InvariantViolated`, and nothing of the change is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{count, World};
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ports::{Clock, RepositoryError};
use escrow_domain::services::{TradeService, TradeServiceError};
use escrow_domain::trade::{Actor, Reason, TradeCommand};
use time::macros::datetime;
use time::OffsetDateTime;

struct FixedClock(OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[tokio::test]
async fn a_second_refund_of_a_trade_is_an_invariant_violation_and_writes_nothing() {
    let w = World::new().await;
    let service = TradeService::new(
        Arc::new(w.trades.clone()),
        Arc::new(w.rules.clone()),
        Arc::new(FixedClock(datetime!(2025-03-06 12:00 +9))),
    );
    let trade = service
        .open(w.prepared_trade(PaymentMethod::Card).await)
        .await
        .unwrap()
        .trade;
    // The trade was refunded already (by whatever path): its refund row exists.
    common::execute(
        w.pool(),
        &format!(
            "INSERT INTO refunds (trade_id, amount, currency, withdrawal_cd, status, created_at) \
             VALUES ('{}', {}, 'KRW', 85, 'DONE', now())",
            trade.id,
            trade.quote.payment_amount.minor_units()
        ),
    )
    .await;
    let events_before = count(
        w.pool(),
        &format!(
            "SELECT count(*) AS n FROM trade_events WHERE trade_id = '{}'",
            trade.id
        ),
    )
    .await;
    let result = service
        .run(
            w.partner.id,
            trade.id,
            &Actor::Operator("ops".into()),
            TradeCommand::CancelByOperator {
                reason: Reason::new("사기 의심").unwrap(),
            },
        )
        .await;
    assert!(
        matches!(
            result,
            Err(TradeServiceError::Storage(
                RepositoryError::InvariantViolated(_)
            ))
        ),
        "{result:?}"
    );
    // Nothing of the cancel was written: no event, no second refund, the trade still at 31.
    let events_after = count(
        w.pool(),
        &format!(
            "SELECT count(*) AS n FROM trade_events WHERE trade_id = '{}'",
            trade.id
        ),
    )
    .await;
    assert_eq!(events_after, events_before);
    assert_eq!(
        count(
            w.pool(),
            &format!(
                "SELECT count(*) AS n FROM refunds WHERE trade_id = '{}'",
                trade.id
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            w.pool(),
            &format!(
                "SELECT status_cd::bigint AS n FROM trades WHERE id = '{}'",
                trade.id
            )
        )
        .await,
        31
    );
}
