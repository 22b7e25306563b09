//! Migrations: they apply, revert and apply again, and `connect` migrates a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use escrow_postgres::migrate::revert_all_migrations;
use escrow_postgres::testing::empty_database;
use escrow_postgres::{connect, run_migrations};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_apply_revert_and_apply_again() {
    let (url, _) = empty_database().await;
    let applied = run_migrations(&url).await.unwrap();
    assert!(applied >= 1);
    assert_eq!(
        run_migrations(&url).await.unwrap(),
        0,
        "nothing left to apply"
    );
    assert_eq!(revert_all_migrations(&url).await.unwrap(), applied);
    assert_eq!(run_migrations(&url).await.unwrap(), applied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_fresh_database_migrates_it() {
    let (url, _) = empty_database().await;
    let db = connect(&url, 2).await.unwrap();
    let holidays = common::count(&db.pool, "SELECT count(*) AS n FROM holidays").await;
    assert_eq!(holidays, 143);
    let tables = common::count(
        &db.pool,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN \
         ('partners','members','products','checkouts','trades','trade_events','outbox','idempotency_keys','seller_limit_usage')",
    )
    .await;
    assert_eq!(tables, 9);
}
