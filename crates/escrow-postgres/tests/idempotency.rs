//! Idempotency keys: one effect and identical answers for concurrent repeats; another request with the
//! same key is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::World;
use escrow_domain::checkout::{IdempotencyKey, OpenedCheckout};
use escrow_domain::contract::{Contract, PaymentMethod};
use escrow_domain::limits::{LimitScope, LimitWindow};
use escrow_domain::ports::{CheckoutRepository, OpenCheckoutError};
use escrow_postgres::checkouts::stored_usage;
use time::macros::{date, datetime};
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_repeats_have_one_effect_and_the_same_answer() {
    let w = Arc::new(World::new().await);
    let (buyer, seller) = (w.member().await, w.member().await);
    let product = w.product(&seller, 100_000).await;
    let at = datetime!(2025-03-14 15:00 +9);
    let key = IdempotencyKey {
        key: "order-7f3a".into(),
        request_hash: "sha256:aaaa".into(),
    };
    let barrier = Arc::new(Barrier::new(10));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            // Each repeat is its own request: same body, but the server would mint a new id.
            let checkout = w.checkout(&buyer, &product, PaymentMethod::Card, at);
            let (w, barrier, key) = (w.clone(), barrier.clone(), key.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                w.checkouts
                    .open(
                        &checkout,
                        &Contract::standard_2022().seller_limits,
                        Some(key),
                    )
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().unwrap());
    }
    let created = results
        .iter()
        .filter(|r| matches!(r, OpenedCheckout::Created(_)))
        .count();
    assert_eq!(created, 1);
    let first = results[0].checkout().clone();
    for r in &results {
        assert_eq!(r.checkout(), &first, "every answer is the same checkout");
    }
    assert_eq!(
        common::count(w.pool(), "SELECT count(*) AS n FROM checkouts").await,
        1
    );
    let card = LimitScope::Method(PaymentMethod::Card);
    assert_eq!(
        stored_usage(
            w.pool(),
            seller.id,
            LimitWindow::Day,
            card,
            date!(2025 - 03 - 14)
        )
        .await
        .unwrap(),
        100_000,
        "the limit is counted once"
    );

    // The same key with another request is refused, and changes nothing.
    let other = w.checkout(
        &buyer,
        &w.product(&seller, 5_000).await,
        PaymentMethod::Card,
        at,
    );
    let reused = IdempotencyKey {
        key: "order-7f3a".into(),
        request_hash: "sha256:bbbb".into(),
    };
    assert_eq!(
        w.checkouts
            .open(
                &other,
                &Contract::standard_2022().seller_limits,
                Some(reused)
            )
            .await,
        Err(OpenCheckoutError::IdempotencyKeyReused)
    );
    assert_eq!(
        common::count(w.pool(), "SELECT count(*) AS n FROM checkouts").await,
        1
    );
}
