//! Seller limits under real concurrency: parallel checkouts never take a sum over its cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::World;
use escrow_domain::checkout::OpenedCheckout;
use escrow_domain::contract::{Contract, PaymentMethod};
use escrow_domain::limits::{LimitScope, LimitWindow};
use escrow_domain::money::Currency;
use escrow_domain::payment::PgFailure;
use escrow_domain::ports::{CheckoutRepository, OpenCheckoutError};
use escrow_postgres::checkouts::{set_usage, stored_usage};
use time::macros::{date, datetime};
use time::OffsetDateTime;
use tokio::sync::Barrier;

const AMOUNT: i64 = 100_000;

/// Sets the seller's four card counters at `at` to the given usage.
async fn prepare_usage(
    w: &World,
    seller: &escrow_domain::people::Member,
    at: OffsetDateTime,
    day: i64,
    month: i64,
) {
    let policy = Contract::standard_2022().seller_limits;
    for counter in policy.counters(PaymentMethod::Card, at) {
        let used = match counter.window {
            LimitWindow::Day => day,
            LimitWindow::Month => month,
        };
        set_usage(w.pool(), seller.id, &counter, Currency::Krw, used)
            .await
            .unwrap();
    }
}

/// Runs one checkout per `at` for `seller`, all released at once; returns the outcomes in order.
async fn parallel_checkouts(
    w: &Arc<World>,
    seller: &escrow_domain::people::Member,
    times: Vec<OffsetDateTime>,
) -> Vec<Result<OpenedCheckout, OpenCheckoutError>> {
    let buyer = w.member().await;
    let mut prepared = Vec::new();
    for at in &times {
        let product = w.product(seller, AMOUNT).await;
        prepared.push(w.checkout(&buyer, &product, PaymentMethod::Card, *at));
    }
    let barrier = Arc::new(Barrier::new(prepared.len()));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|checkout| {
            let (w, barrier) = (w.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                w.checkouts
                    .open(&checkout, &Contract::standard_2022().seller_limits, None)
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

fn accepted(results: &[Result<OpenedCheckout, OpenCheckoutError>]) -> usize {
    for r in results {
        match r {
            Ok(OpenedCheckout::Created(_)) | Err(OpenCheckoutError::SellerLimitExceeded(_)) => {}
            other => panic!("a checkout failed in another way: {other:?}"),
        }
    }
    results.iter().filter(|r| r.is_ok()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_parallel_checkouts_exactly_ten_fit_the_remaining_daily_card_limit() {
    let w = Arc::new(World::new().await);
    let seller = w.member().await;
    let at = datetime!(2025-03-14 15:00 +9);
    // 1,000,000 won left on every card counter: ten payments of 100,000.
    prepare_usage(&w, &seller, at, 9_000_000, 9_000_000).await;
    let results = parallel_checkouts(&w, &seller, vec![at; 64]).await;
    assert_eq!(accepted(&results), 10);
    for r in &results {
        if let Err(OpenCheckoutError::SellerLimitExceeded(e)) = r {
            assert_eq!(e.remaining.minor_units(), 0);
            assert_eq!(e.scope, LimitScope::Method(PaymentMethod::Card));
        }
    }
    let day = date!(2025 - 03 - 14);
    let month = date!(2025 - 03 - 01);
    let card = LimitScope::Method(PaymentMethod::Card);
    assert_eq!(
        stored_usage(w.pool(), seller.id, LimitWindow::Day, card, day)
            .await
            .unwrap(),
        9_000_000 + 10 * AMOUNT
    );
    assert_eq!(
        stored_usage(w.pool(), seller.id, LimitWindow::Month, card, month)
            .await
            .unwrap(),
        9_000_000 + 10 * AMOUNT
    );
    assert_eq!(
        stored_usage(
            w.pool(),
            seller.id,
            LimitWindow::Day,
            LimitScope::Total,
            day
        )
        .await
        .unwrap(),
        9_000_000 + 10 * AMOUNT
    );
    let checkouts = common::count(w.pool(), "SELECT count(*) AS n FROM checkouts").await;
    assert_eq!(checkouts, 10);
    let reserved = common::count(
        w.pool(),
        "SELECT coalesce(sum(amount), 0)::bigint AS n FROM limit_reservations",
    )
    .await;
    assert_eq!(reserved, 10 * AMOUNT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn across_midnight_in_seoul_the_new_day_has_its_own_limit() {
    let w = Arc::new(World::new().await);
    let seller = w.member().await;
    let before = datetime!(2025-03-14 23:59:59.900 +9);
    let after = datetime!(2025-03-15 00:00:00.100 +9);
    // Day of the 14th: ten payments left; the month has room for fifty.
    prepare_usage(&w, &seller, before, 9_000_000, 5_000_000).await;
    let times: Vec<_> = (0..64)
        .map(|i| if i % 2 == 0 { before } else { after })
        .collect();
    let results = parallel_checkouts(&w, &seller, times.clone()).await;
    assert_eq!(accepted(&results), 10 + 32);
    let accepted_after = results
        .iter()
        .zip(&times)
        .filter(|(r, t)| r.is_ok() && **t == after)
        .count();
    assert_eq!(accepted_after, 32, "the 15th starts from zero");
    let card = LimitScope::Method(PaymentMethod::Card);
    let usage = |window, day| stored_usage(w.pool(), seller.id, window, card, day);
    assert_eq!(
        usage(LimitWindow::Day, date!(2025 - 03 - 14))
            .await
            .unwrap(),
        10_000_000
    );
    assert_eq!(
        usage(LimitWindow::Day, date!(2025 - 03 - 15))
            .await
            .unwrap(),
        32 * AMOUNT
    );
    assert_eq!(
        usage(LimitWindow::Month, date!(2025 - 03 - 01))
            .await
            .unwrap(),
        5_000_000 + 42 * AMOUNT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_checkout_releases_its_limits_and_product_once() {
    let w = World::new().await;
    let seller = w.member().await;
    let buyer = w.member().await;
    let product = w.product(&seller, AMOUNT).await;
    let at = datetime!(2025-03-14 15:00 +9);
    let checkout = w.checkout(&buyer, &product, PaymentMethod::Card, at);
    w.checkouts
        .open(&checkout, &Contract::standard_2022().seller_limits, None)
        .await
        .unwrap();
    let card = LimitScope::Method(PaymentMethod::Card);
    let day = date!(2025 - 03 - 14);
    assert_eq!(
        stored_usage(w.pool(), seller.id, LimitWindow::Day, card, day)
            .await
            .unwrap(),
        AMOUNT
    );
    // The product is reserved: a second checkout on it is refused.
    let again = w.checkout(&buyer, &product, PaymentMethod::Card, at);
    assert_eq!(
        w.checkouts
            .open(&again, &Contract::standard_2022().seller_limits, None)
            .await,
        Err(OpenCheckoutError::ProductUnavailable)
    );
    assert!(w
        .checkouts
        .fail(&checkout.fail(PgFailure::Declined, at))
        .await
        .unwrap());
    assert!(!w
        .checkouts
        .fail(&checkout.fail(PgFailure::Declined, at))
        .await
        .unwrap());
    assert_eq!(
        stored_usage(w.pool(), seller.id, LimitWindow::Day, card, day)
            .await
            .unwrap(),
        0
    );
    let stored = w
        .checkouts
        .get(w.partner.id, checkout.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.failure_code.as_deref(), Some("PG_DECLINED"));
    // On sale again.
    assert!(w
        .checkouts
        .open(&again, &Contract::standard_2022().seller_limits, None)
        .await
        .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rolling_windows_hold_under_concurrency_too() {
    let w = Arc::new(World::new().await);
    let seller = w.member().await;
    let mut contract = Contract::standard_2022();
    contract.seller_limits.window_kind = escrow_domain::contract::WindowKind::Rolling;
    contract.seller_limits.day.per_method.card = 10 * AMOUNT;
    let buyer = w.member().await;
    let at = datetime!(2025-03-14 15:00 +9);
    let mut tasks = Vec::new();
    let barrier = Arc::new(Barrier::new(24));
    for _ in 0..24 {
        let product = w.product(&seller, AMOUNT).await;
        let checkout = w.checkout(&buyer, &product, PaymentMethod::Card, at);
        let (w, barrier, limits) = (w.clone(), barrier.clone(), contract.seller_limits.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            w.checkouts.open(&checkout, &limits, None).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(accepted(&results), 10);
}
