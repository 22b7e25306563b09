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

/// The index that keeps one open trade per product lists, as literals, the statuses the domain never
/// counts as finished (whatever the withdrawal): the two must not drift apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_open_trade_per_product_index_lists_the_domains_open_statuses() {
    use diesel_async::RunQueryDsl;
    use escrow_domain::trade::{is_terminal, TradeStatus, WithdrawalStatus};
    #[derive(diesel::QueryableByName)]
    struct Def {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexdef: String,
    }
    let w = common::World::new().await;
    let mut conn = w.pool().get().await.unwrap();
    let def = diesel::sql_query(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'trades_one_open_per_product'",
    )
    .get_result::<Def>(&mut conn)
    .await
    .unwrap()
    .indexdef;
    let predicate = &def[def.find("WHERE").expect("a partial index")..];
    let mut in_index: Vec<u8> = predicate
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    in_index.sort_unstable();
    let mut open: Vec<u8> = TradeStatus::ALL
        .into_iter()
        .filter(|s| {
            WithdrawalStatus::ALL
                .into_iter()
                .all(|w| !is_terminal(*s, w))
        })
        .map(TradeStatus::code)
        .collect();
    open.sort_unstable();
    assert_eq!(in_index, open, "{def}");
}
