//! Checkouts and payments: storing a checkout with its seller-limit reservation and idempotency
//! key, and what the payment flow records (PG transactions, verifications, late confirmations).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::RepositoryError;
use crate::checkout::{Checkout, CheckoutFailure, IdempotencyKey, OpenedCheckout};
use crate::contract::SellerLimitPolicy;
use crate::ids::{CheckoutId, PartnerId};
use crate::limits::LimitExceeded;

/// Why a checkout was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenCheckoutError {
    /// The payment would take a seller sum over its cap.
    #[error(transparent)]
    SellerLimitExceeded(LimitExceeded),
    /// The product is not on sale (reserved, sold or stopped).
    #[error("the product is not available")]
    ProductUnavailable,
    /// The idempotency key was used with another request.
    #[error("the idempotency key was used with another request")]
    IdempotencyKeyReused,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Stores checkouts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CheckoutRepository: Send + Sync {
    /// In one transaction: records the idempotency key (a concurrent duplicate waits for the first and
    /// then gets its checkout), reserves the product, adds the payment to the seller's limit counters
    /// (refusing when any cap would be passed) and stores the checkout.
    async fn open(
        &self,
        checkout: &Checkout,
        limits: &SellerLimitPolicy,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<OpenedCheckout, OpenCheckoutError>;

    /// The checkout `id` of `partner_id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: CheckoutId,
    ) -> Result<Option<Checkout>, RepositoryError>;

    /// The request hash and checkout stored under an idempotency key of `partner_id`, if any.
    async fn by_idempotency_key(
        &self,
        partner_id: PartnerId,
        key: &str,
    ) -> Result<Option<(String, Checkout)>, RepositoryError>;

    /// Stores `failure` ([`Checkout::fail`]) if the checkout is still open, in one transaction: its
    /// status and code, the seller-limit reservation and the product released, the partner's event.
    /// False when it was not open any more (nothing written).
    async fn fail(&self, failure: &CheckoutFailure) -> Result<bool, RepositoryError>;
}

/// What the checkout flow needs beyond [`CheckoutRepository`].
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentRecords: Send + Sync {
    /// The checkout `id`, whatever its partner (hosted pages carry a signed link, not a partner).
    async fn checkout(&self, id: CheckoutId) -> Result<Option<Checkout>, RepositoryError>;
    /// The checkout PG transaction `transaction_id` of `gateway` was started for.
    async fn checkout_by_transaction(
        &self,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<Option<Checkout>, RepositoryError>;
    /// Records the PG transaction started for an open checkout.
    async fn attach_transaction(
        &self,
        id: CheckoutId,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<(), RepositoryError>;
    /// Records what the PG reported (audit trail of verifications).
    async fn record_verification(
        &self,
        id: CheckoutId,
        transaction_id: &str,
        outcome: &str,
        failure_code: Option<String>,
    ) -> Result<(), RepositoryError>;
    /// Open checkouts whose time ran out before `now`: those on no test clock (`test_clock`
    /// `None`), or those on that test clock.
    async fn expired_checkouts(
        &self,
        test_clock: Option<crate::ids::TestClockId>,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Checkout>, RepositoryError>;
    /// Records, in one transaction, that PG transaction `transaction_id` captured money for
    /// `checkout` though the checkout was no longer open: a full refund of it (to be executed by the
    /// refund job) and the partner's `payment.refunded` callback (`reason: LATE_CONFIRMATION`).
    /// Returns false when this transaction's refund was already recorded (nothing is written twice). A
    /// transaction is named by the checkout's gateway and its id: another gateway's equal id is another
    /// capture.
    async fn record_late_confirmation(
        &self,
        checkout: &Checkout,
        transaction_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
    /// Deletes idempotency records created before `before` (SPEC §10: kept 7 days, at least the 24
    /// hours SPEC §18 promises); returns how many.
    async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
    /// Claims up to `limit` PG transactions to query again (SPEC §7 point 5): started for a checkout
    /// that ended without a trade (or was paid by another transaction) after `ended_after`, and not
    /// refunded yet; the least recently checked first, each marked checked at `now`, so a bounded
    /// batch goes round all of them.
    async fn transactions_to_reconcile(
        &self,
        ended_after: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<crate::payment::PgTransactionRef>, RepositoryError>;
}

/// How long idempotency records are kept (SPEC §10).
pub const IDEMPOTENCY_KEPT: time::Duration = time::Duration::days(7);
