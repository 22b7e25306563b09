//! The contract every `CheckoutRepository` adapter must pass: seller limits hold under concurrent
//! checkouts, a product has one open checkout at a time, an idempotency key gives one checkout
//! however many copies race, and a failed checkout releases its product and limits exactly once.

use std::sync::Arc;

use async_trait::async_trait;
use time::macros::datetime;
use time::OffsetDateTime;

use super::{all_at_once, BoxFuture};
use crate::checkout::{Checkout, CheckoutStatus, IdempotencyKey, OpenedCheckout};
use crate::contract::{Contract, SellerLimitPolicy};
use crate::ids::{CheckoutId, MemberId, PartnerId};
use crate::money::Money;
use crate::payment::PgFailure;
use crate::ports::{CheckoutRepository, OpenCheckoutError};

/// What an adapter gives the checkout suite.
#[async_trait]
pub trait CheckoutStoreHarness: Send + Sync {
    /// The repository under test.
    fn checkouts(&self) -> Arc<dyn CheckoutRepository>;

    /// Its payment records (the same store).
    fn records(&self) -> Arc<dyn crate::ports::PaymentRecords>;

    /// A new seller, with no usage of its limits yet.
    async fn seller(&self) -> MemberId;

    /// An open card checkout, not stored yet, of a buyer that exists, for a new product of `seller`
    /// priced `price` won with no shipping fee, created at `at` (whole microseconds).
    async fn prepared_checkout(&self, seller: MemberId, price: i64, at: OffsetDateTime)
        -> Checkout;
}

/// When the suite's checkouts are made (a Friday afternoon, Seoul time).
pub const AT: OffsetDateTime = datetime!(2025-03-14 15:00 +9);

const PRICE: i64 = 100_000;

/// Standard limits, except that a seller's card payments may reach five times [`PRICE`] a day.
fn five_a_day() -> SellerLimitPolicy {
    let mut limits = Contract::standard_2022().seller_limits;
    limits.day.per_method.card = 5 * PRICE;
    limits
}

/// The same request again: a new id, as a server mints one per request.
fn copy(checkout: &Checkout) -> Checkout {
    Checkout {
        id: CheckoutId::random(),
        ..checkout.clone()
    }
}

async fn open_all(
    repo: &Arc<dyn CheckoutRepository>,
    checkouts: Vec<Checkout>,
    limits: &SellerLimitPolicy,
    key: Option<IdempotencyKey>,
) -> Vec<Result<OpenedCheckout, OpenCheckoutError>> {
    let futures: Vec<BoxFuture<'_, _>> = checkouts
        .into_iter()
        .map(|c| {
            let (repo, limits, key) = (repo.clone(), limits.clone(), key.clone());
            Box::pin(async move { repo.open(&c, &limits, key).await }) as BoxFuture<'_, _>
        })
        .collect();
    all_at_once(futures).await
}

/// Sixteen concurrent checkouts of one seller: exactly the five that fit the daily card limit are
/// stored, every other is refused with the limit; a failed checkout gives back exactly its amount,
/// once, however many times it is failed concurrently.
pub async fn seller_limits_hold_under_concurrency_and_are_released_once(
    h: &dyn CheckoutStoreHarness,
) {
    let repo = h.checkouts();
    let seller = h.seller().await;
    let limits = five_a_day();
    let mut checkouts = Vec::new();
    for _ in 0..16 {
        checkouts.push(h.prepared_checkout(seller, PRICE, AT).await);
    }
    let results = open_all(&repo, checkouts, &limits, None).await;
    let mut created = Vec::new();
    for r in results {
        match r {
            Ok(OpenedCheckout::Created(c)) => created.push(c),
            Err(OpenCheckoutError::SellerLimitExceeded(e)) => {
                assert_eq!(e.remaining, Money::krw(0), "{e:?}");
            }
            other => panic!("a checkout failed in another way: {other:?}"),
        }
    }
    assert_eq!(created.len(), 5, "exactly what fits the limit is taken");

    let first = created[0].clone();
    let fails: Vec<BoxFuture<'_, Result<bool, crate::ports::RepositoryError>>> = (0..4)
        .map(|_| {
            let (repo, c) = (repo.clone(), first.clone());
            Box::pin(async move { repo.fail(&c.fail(PgFailure::Declined, AT)).await })
                as BoxFuture<'_, _>
        })
        .collect();
    let released: Vec<bool> = all_at_once(fails)
        .await
        .into_iter()
        .map(|r| r.expect("fail"))
        .collect();
    assert_eq!(
        released.iter().filter(|r| **r).count(),
        1,
        "failed once: {released:?}"
    );
    let stored = repo
        .get(first.partner_id, first.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.status, CheckoutStatus::Failed);
    assert_eq!(stored.failure_code.as_deref(), Some("PG_DECLINED"));

    // Exactly one payment's worth came back.
    let again = h.prepared_checkout(seller, PRICE, AT).await;
    assert!(matches!(
        repo.open(&again, &limits, None).await,
        Ok(OpenedCheckout::Created(_))
    ));
    let more = h.prepared_checkout(seller, PRICE, AT).await;
    assert!(matches!(
        repo.open(&more, &limits, None).await,
        Err(OpenCheckoutError::SellerLimitExceeded(_))
    ));
}

/// Concurrent checkouts of one product: one is stored, the others find it reserved; once that one
/// failed (expired), the product can be bought again.
pub async fn a_product_has_one_open_checkout(h: &dyn CheckoutStoreHarness) {
    let repo = h.checkouts();
    let limits = Contract::standard_2022().seller_limits;
    let seller = h.seller().await;
    let first = h.prepared_checkout(seller, PRICE, AT).await;
    let copies = (0..8).map(|_| copy(&first)).collect();
    let results = open_all(&repo, copies, &limits, None).await;
    let mut stored = None;
    for r in results {
        match r {
            Ok(OpenedCheckout::Created(c)) => {
                assert!(
                    stored.replace(c).is_none(),
                    "two open checkouts of a product"
                )
            }
            Err(OpenCheckoutError::ProductUnavailable) => {}
            other => panic!("a checkout failed in another way: {other:?}"),
        }
    }
    let stored = stored.expect("one checkout is stored");
    assert!(repo
        .fail(&stored.fail(PgFailure::Expired, AT))
        .await
        .expect("fail"));
    let expired = repo
        .get(stored.partner_id, stored.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(expired.status, CheckoutStatus::Expired);
    assert!(matches!(
        repo.open(&copy(&first), &limits, None).await,
        Ok(OpenedCheckout::Created(_))
    ));
}

/// Copies of one request under one idempotency key, concurrently: one checkout, the same answer for
/// every copy, the limit counted once; the key with another request is refused.
pub async fn an_idempotency_key_gives_one_checkout(h: &dyn CheckoutStoreHarness) {
    let repo = h.checkouts();
    let limits = five_a_day();
    let seller = h.seller().await;
    let first = h.prepared_checkout(seller, PRICE, AT).await;
    let key = IdempotencyKey {
        key: "order-7f3a".into(),
        request_hash: "sha256:aaaa".into(),
    };
    let copies = (0..8).map(|_| copy(&first)).collect();
    let results: Vec<OpenedCheckout> = open_all(&repo, copies, &limits, Some(key.clone()))
        .await
        .into_iter()
        .map(|r| r.expect("every copy is answered"))
        .collect();
    let created = results
        .iter()
        .filter(|r| matches!(r, OpenedCheckout::Created(_)))
        .count();
    assert_eq!(created, 1);
    let answer = results[0].checkout().clone();
    assert!(results.iter().all(|r| r.checkout() == &answer));
    assert_eq!(
        repo.by_idempotency_key(answer.partner_id, &key.key)
            .await
            .expect("lookup"),
        Some((key.request_hash.clone(), answer.clone()))
    );
    assert_eq!(
        repo.by_idempotency_key(PartnerId::random(), &key.key)
            .await
            .expect("lookup"),
        None,
        "keys are per partner"
    );

    let other = h.prepared_checkout(seller, PRICE, AT).await;
    let reused = IdempotencyKey {
        request_hash: "sha256:bbbb".into(),
        ..key
    };
    assert_eq!(
        repo.open(&other, &limits, Some(reused)).await,
        Err(OpenCheckoutError::IdempotencyKeyReused)
    );
    // The limit counted the first request once: four more fit, the fifth does not.
    for n in 0..5 {
        let next = h.prepared_checkout(seller, PRICE, AT).await;
        let result = repo.open(&next, &limits, None).await;
        if n < 4 {
            assert!(
                matches!(result, Ok(OpenedCheckout::Created(_))),
                "{result:?}"
            );
        } else {
            assert!(
                matches!(result, Err(OpenCheckoutError::SellerLimitExceeded(_))),
                "{result:?}"
            );
        }
    }
}

/// A stored checkout reads back equal, and only for its own partner.
pub async fn a_checkout_reads_back_only_for_its_partner(h: &dyn CheckoutStoreHarness) {
    let repo = h.checkouts();
    let seller = h.seller().await;
    let checkout = h.prepared_checkout(seller, PRICE, AT).await;
    repo.open(&checkout, &Contract::standard_2022().seller_limits, None)
        .await
        .expect("open");
    assert_eq!(
        repo.get(checkout.partner_id, checkout.id)
            .await
            .expect("get"),
        Some(checkout.clone())
    );
    assert_eq!(
        repo.get(PartnerId::random(), checkout.id)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        repo.get(checkout.partner_id, CheckoutId::random())
            .await
            .expect("get"),
        None
    );
}

/// A late capture is refunded once per PG transaction — and a transaction is named by its gateway and
/// its id: two gateways may hand out the same id, and each capture must still be refunded.
pub async fn a_late_capture_is_recorded_once_per_gateway_and_transaction(
    h: &dyn CheckoutStoreHarness,
) {
    let repo = h.checkouts();
    let records = h.records();
    let seller = h.seller().await;
    let mut by_gateway = Vec::new();
    for gateway in ["pg-a", "pg-b"] {
        let mut checkout = h.prepared_checkout(seller, PRICE, AT).await;
        repo.open(&checkout, &Contract::standard_2022().seller_limits, None)
            .await
            .expect("open");
        checkout.pg_gateway = Some(gateway.to_owned());
        by_gateway.push(checkout);
    }
    let later = AT + time::Duration::hours(1);
    for checkout in &by_gateway {
        assert!(
            records
                .record_late_confirmation(checkout, "T-SAME", later)
                .await
                .expect("record"),
            "the capture of {:?} is recorded",
            checkout.pg_gateway
        );
    }
    for checkout in &by_gateway {
        assert!(
            !records
                .record_late_confirmation(checkout, "T-SAME", later)
                .await
                .expect("record again"),
            "recorded once"
        );
    }
}

/// Expands to one test per rule of the checkout suite. `$harness` is an async expression giving a
/// [`CheckoutStoreHarness`].
#[macro_export]
macro_rules! checkout_repository_contract {
    ($harness:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_seller_limits_hold_under_concurrency_and_are_released_once() {
            let h = $harness.await;
            $crate::contract_tests::checkouts::seller_limits_hold_under_concurrency_and_are_released_once(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_product_has_one_open_checkout() {
            let h = $harness.await;
            $crate::contract_tests::checkouts::a_product_has_one_open_checkout(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_an_idempotency_key_gives_one_checkout() {
            let h = $harness.await;
            $crate::contract_tests::checkouts::an_idempotency_key_gives_one_checkout(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_late_capture_is_recorded_once_per_gateway_and_transaction() {
            let h = $harness.await;
            $crate::contract_tests::checkouts::a_late_capture_is_recorded_once_per_gateway_and_transaction(&h).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn contract_a_checkout_reads_back_only_for_its_partner() {
            let h = $harness.await;
            $crate::contract_tests::checkouts::a_checkout_reads_back_only_for_its_partner(&h).await;
        }
    };
}
