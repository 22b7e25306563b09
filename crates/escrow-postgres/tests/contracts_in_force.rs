//! The contract in force is chosen by the time the caller's clock gives, not the database's: a
//! version takes effect at its instant, for every instant after it, cached or not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration as StdDuration;

use common::{World, T0};
use escrow_domain::contract::Contract;
use escrow_domain::ports::RulesRepository;
use escrow_postgres::PgRulesRepository;
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_version_is_in_force_from_its_instant_on() {
    let w = World::new().await;
    let mut v1 = Contract::standard_2022();
    v1.code = "v1".into();
    let mut v2 = Contract::standard_2022();
    v2.code = "v2".into();
    w.rules.set_contract(w.partner.id, &v1, T0).await.unwrap();
    // Far in the future of the database's own clock: only a caller's clock reaches it.
    let later = T0 + Duration::days(3650 * 5);
    w.rules
        .set_contract(w.partner.id, &v2, later)
        .await
        .unwrap();
    for rules in [
        PgRulesRepository::new(w.pool().clone()),
        PgRulesRepository::cached(w.pool().clone(), StdDuration::from_secs(60)),
    ] {
        let code = |at| {
            let rules = rules.clone();
            let partner = w.partner.id;
            async move { rules.contract_of(partner, at).await.unwrap().code }
        };
        assert_eq!(
            code(T0 - Duration::seconds(1)).await,
            Contract::standard_2022().code
        );
        assert_eq!(code(T0).await, "v1");
        assert_eq!(code(later - Duration::seconds(1)).await, "v1");
        assert_eq!(code(later).await, "v2");
        assert_eq!(
            code(T0 + Duration::days(1)).await,
            "v1",
            "from the cache too"
        );
    }
}
