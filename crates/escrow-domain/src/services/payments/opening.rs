//! Opening a checkout: the checks in SPEC §7's order, the quote, the seller limits reserved with the
//! checkout, idempotency keys; and the jobs that end checkouts nobody paid.

use crate::checkout::{Checkout, CheckoutStatus, IdempotencyKey, OpenedCheckout};
use crate::ids::{CheckoutId, MemberId, PartnerId};
use crate::payment::PgFailure;
use crate::people::MemberStatus;
use crate::ports::OpenCheckoutError;
use crate::ports::RepositoryError;
use crate::product::ProductStatus;
use crate::quote::QuoteRequest;

use super::{CheckoutError, CheckoutRequest, CheckoutService};

impl CheckoutService {
    /// Creates a checkout. Checks, in order: buyer active, product purchasable, buyer ≠ seller, method
    /// accepted, a gateway for it, price cap, seller limits (reserved atomically).
    ///
    /// With an idempotency key, a repeat answers what the first request got — also a copy sent at the
    /// same moment: the key is claimed in the checkout's own transaction (a copy waits for it there),
    /// and a copy refused by what the first one changed (its product is now reserved, its amount now
    /// counts against the limits) looks the key up again and answers the first one's checkout.
    pub async fn create(
        &self,
        partner: &crate::people::Partner,
        buyer_id: MemberId,
        request: CheckoutRequest,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<OpenedCheckout, CheckoutError> {
        if let Some(key) = &idempotency {
            if let Some(earlier) = self.earlier_answer(partner.id, key).await? {
                return Ok(earlier);
            }
        }
        let result = self
            .create_new(partner, buyer_id, request, idempotency.clone())
            .await;
        match (result, &idempotency) {
            (
                Err(
                    e @ (CheckoutError::ProductNotAvailable
                    | CheckoutError::SellerLimit(_)
                    | CheckoutError::Storage(RepositoryError::Conflict)),
                ),
                Some(key),
            ) => match self.earlier_answer(partner.id, key).await? {
                Some(earlier) => Ok(earlier),
                None => Err(e),
            },
            (result, _) => result,
        }
    }

    /// What an earlier request with this idempotency key got, if any (another body: refused).
    async fn earlier_answer(
        &self,
        partner_id: PartnerId,
        key: &IdempotencyKey,
    ) -> Result<Option<OpenedCheckout>, CheckoutError> {
        match self
            .checkouts
            .by_idempotency_key(partner_id, &key.key)
            .await?
        {
            Some((hash, _)) if hash != key.request_hash => Err(CheckoutError::IdempotencyKeyReused),
            Some((_, earlier)) => Ok(Some(OpenedCheckout::Replayed(earlier))),
            None => Ok(None),
        }
    }

    async fn create_new(
        &self,
        partner: &crate::people::Partner,
        buyer_id: MemberId,
        request: CheckoutRequest,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<OpenedCheckout, CheckoutError> {
        let buyer = self
            .members
            .get(partner.id, buyer_id)
            .await?
            .filter(|b| b.status == MemberStatus::Active)
            .ok_or(CheckoutError::BuyerNotActive)?;
        // A buyer on a test clock checks out at its clock's time (SPEC §16).
        let now = self.time.now_on(buyer.test_clock).await?;
        if !crate::services::members::return_url_allowed(partner, &request.return_url) {
            return Err(CheckoutError::ReturnUrlNotAllowed);
        }
        let product = self
            .products
            .get(partner.id, request.product_id)
            .await?
            .ok_or(CheckoutError::ProductNotFound)?;
        if product.status != ProductStatus::OnSale {
            return Err(CheckoutError::ProductNotAvailable);
        }
        if product.seller_id == buyer_id {
            return Err(CheckoutError::SelfTrade);
        }
        if !product.payment_methods.contains(&request.method) {
            return Err(CheckoutError::MethodNotAllowed(request.method));
        }
        let pg = self
            .setup
            .pg_info(partner, request.method)
            .await
            .map_err(super::setup_error)?;
        let contract = self.rules.contract_of(partner.id, now).await?;
        let quote = contract
            .quote(
                &QuoteRequest {
                    product_price: product.price,
                    shipping_fee: product.shipping_fee,
                    method: request.method,
                    trade_type: request.trade_type,
                },
                &product.payment_methods,
            )
            .map_err(CheckoutError::Quote)?;
        let checkout = Checkout {
            id: CheckoutId::random(),
            partner_id: partner.id,
            buyer_id,
            seller_id: product.seller_id,
            product_id: product.id,
            method: request.method,
            trade_type: request.trade_type,
            quote,
            shipping_address: request.shipping_address,
            return_url: request.return_url,
            partner_trade_no: request.partner_trade_no,
            status: CheckoutStatus::Open,
            failure_code: None,
            pg_gateway: Some(pg.gateway),
            pg_merchant: Some(pg.merchant.id),
            pg_transaction_id: None,
            expires_at: now.saturating_add(time::Duration::minutes(i64::from(
                contract.timers.checkout_expiry_minutes,
            ))),
            created_at: now,
            trade_id: None,
            test_clock: buyer.test_clock,
        };
        self.checkouts
            .open(&checkout, &contract.seller_limits, idempotency)
            .await
            .map_err(|e| match e {
                OpenCheckoutError::SellerLimitExceeded(l) => CheckoutError::SellerLimit(l),
                OpenCheckoutError::ProductUnavailable => CheckoutError::ProductNotAvailable,
                OpenCheckoutError::IdempotencyKeyReused => CheckoutError::IdempotencyKeyReused,
                OpenCheckoutError::Storage(s) => CheckoutError::Storage(s),
            })
    }

    /// Expires the open checkouts whose time ran out (a job); returns how many. Checkouts on a test
    /// clock are left to it.
    pub async fn expire_due(&self, limit: u32) -> Result<usize, CheckoutError> {
        self.expire_due_on(None, limit).await
    }

    /// Expires the open checkouts of `test_clock` (or on none) whose time ran out at its instant.
    pub async fn expire_due_on(
        &self,
        test_clock: Option<crate::ids::TestClockId>,
        limit: u32,
    ) -> Result<usize, CheckoutError> {
        let now = self.time.now_on(test_clock).await?;
        let mut expired = 0;
        for checkout in self
            .records
            .expired_checkouts(test_clock, now, limit)
            .await?
        {
            if self
                .checkouts
                .fail(&checkout.fail(PgFailure::Expired, now))
                .await?
            {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Deletes idempotency records created before `before` (a job); returns how many.
    pub async fn prune_idempotency_keys(
        &self,
        before: time::OffsetDateTime,
    ) -> Result<u64, CheckoutError> {
        Ok(self.records.prune_idempotency_keys(before).await?)
    }

    /// The partner `partner_id`'s checkout `id`.
    pub async fn partner_checkout(
        &self,
        partner_id: PartnerId,
        id: CheckoutId,
    ) -> Result<Checkout, CheckoutError> {
        self.checkouts
            .get(partner_id, id)
            .await?
            .ok_or(CheckoutError::CheckoutNotFound)
    }
}
