//! The checkout and payment flow (SPEC §7): create a checkout (checks in SPEC's order, seller limits
//! reserved atomically), start the PG payment, and settle it from the browser return or the PG
//! callback — both of which only make the service query the PG.

use std::sync::Arc;

use crate::checkout::{
    Checkout, CheckoutRepository, CheckoutStatus, IdempotencyKey, OpenCheckoutError,
    OpenedCheckout, ShippingAddress,
};
use crate::contract::{PaymentMethod, TradeType};
use crate::ids::{CheckoutId, MemberId, PartnerId, ProductId, TradeId};
use crate::limits::LimitExceeded;
use crate::payment::{
    verify_transaction, MethodUnavailable, PaymentBuyer, PaymentGateway, PaymentOutcome,
    PaymentRequest, PaymentRouting, PaymentStep, PgError, PgFailure,
};
use crate::people::MemberStatus;
use crate::ports::{
    Clock, MemberRepository, PaymentRecords, ProductRepository, RepositoryError, RulesRepository,
};
use crate::product::ProductStatus;
use crate::quote::{QuoteError, QuoteRequest};
use crate::services::trades::{TradeService, TradeServiceError};
use crate::trade::OpenTrade;

/// How long after a checkout ended its PG transactions are queried again for late captures.
pub const RECONCILIATION_HOURS: i64 = 24;

/// A buyer's checkout request, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The product.
    pub product_id: ProductId,
    /// How to pay.
    pub method: PaymentMethod,
    /// GENERAL or PREMIUM.
    pub trade_type: TradeType,
    /// Where the goods go.
    pub shipping_address: ShippingAddress,
    /// Where the browser goes afterwards (an allowed origin of the partner).
    pub return_url: String,
    /// The partner's own trade number.
    pub partner_trade_no: Option<String>,
}

/// Why a checkout or payment step failed, each with its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    /// The buyer is not active (`BUYER_NOT_ACTIVE`).
    #[error("the buyer is not active")]
    BuyerNotActive,
    /// No such product (`PRODUCT_NOT_FOUND`).
    #[error("product not found")]
    ProductNotFound,
    /// The product is reserved, sold or stopped (`PRODUCT_NOT_AVAILABLE`).
    #[error("the product is not available")]
    ProductNotAvailable,
    /// The buyer is the seller (`SELF_TRADE`).
    #[error("a seller cannot buy their own product")]
    SelfTrade,
    /// The product does not accept the method, or no gateway serves it.
    #[error("payment method not available: {0}")]
    MethodNotAllowed(PaymentMethod),
    /// No connected and enabled gateway serves the method (`PAYMENT_METHOD_UNAVAILABLE`).
    #[error(transparent)]
    MethodUnavailable(MethodUnavailable),
    /// The price or fees refuse the quote (`PRICE_LIMIT_EXCEEDED`, …).
    #[error(transparent)]
    Quote(QuoteError),
    /// A seller limit refuses the amount (`SELLER_LIMIT_EXCEEDED`).
    #[error(transparent)]
    SellerLimit(LimitExceeded),
    /// `returnUrl` is not on an allowed origin.
    #[error("returnUrl is not an allowed origin of the partner")]
    ReturnUrlNotAllowed,
    /// The idempotency key came with another request (`IDEMPOTENCY_KEY_REUSED`).
    #[error("the idempotency key was used with another request")]
    IdempotencyKeyReused,
    /// No such checkout.
    #[error("checkout not found")]
    CheckoutNotFound,
    /// The PG failed or refused; the checkout is failed with this code.
    #[error("payment failed: {0}")]
    Payment(PgFailure),
    /// The PG could not be asked right now; the checkout stays open and the step can be retried.
    #[error("the payment gateway is unavailable: {0}")]
    GatewayUnavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Where a payment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentResult {
    /// Paid: the trade.
    Paid {
        /// The checkout.
        checkout: Box<Checkout>,
        /// Its trade.
        trade_id: TradeId,
    },
    /// Failed with a code.
    Failed {
        /// The checkout.
        checkout: Box<Checkout>,
        /// The partner-visible code.
        code: String,
    },
    /// Not paid yet, and the checkout is still open: the buyer may pay (again) until it expires.
    Pending {
        /// The checkout.
        checkout: Box<Checkout>,
    },
}

impl PaymentResult {
    /// The checkout either way.
    pub fn checkout(&self) -> &Checkout {
        match self {
            PaymentResult::Paid { checkout, .. }
            | PaymentResult::Failed { checkout, .. }
            | PaymentResult::Pending { checkout } => checkout,
        }
    }
}

/// Who told the service to look at a PG transaction. Neither is trusted (the PG is always queried);
/// they differ in what a FAILED answer means (SPEC §7 point 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentNotice {
    /// The browser came back from the PG's pages: the buyer may simply not have paid yet.
    BrowserReturn,
    /// The PG's callback: the PG reports a finished payment.
    PgCallback,
    /// The reconciliation job querying an ended checkout's transaction again.
    Reconciliation,
}

/// What one reconciliation pass found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconciliationRun {
    /// Transactions queried (a late capture among them is logged, refunded and told to the partner).
    pub checked: usize,
    /// Transactions the PG could not be asked about (tried again next pass).
    pub unavailable: usize,
}

/// Checkout and payment use cases.
pub struct CheckoutService {
    members: Arc<dyn MemberRepository>,
    products: Arc<dyn ProductRepository>,
    checkouts: Arc<dyn CheckoutRepository>,
    records: Arc<dyn PaymentRecords>,
    rules: Arc<dyn crate::ports::RulesRepository>,
    trades: Arc<TradeService>,
    gateways: Vec<Arc<dyn PaymentGateway>>,
    routing: PaymentRouting,
    clock: Arc<dyn Clock>,
}

/// Where a PG sends the buyer back and posts its notification for one checkout: built by the adapter
/// that serves those URLs (HTTP), not by the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLinks {
    /// The browser return.
    pub return_url: String,
    /// The PG's notification.
    pub callback_url: String,
}

/// The ports and settings a [`CheckoutService`] is built from.
pub struct CheckoutPorts {
    /// Members.
    pub members: Arc<dyn MemberRepository>,
    /// Products.
    pub products: Arc<dyn ProductRepository>,
    /// Checkouts.
    pub checkouts: Arc<dyn CheckoutRepository>,
    /// Payment records.
    pub records: Arc<dyn PaymentRecords>,
    /// Contracts and calendar.
    pub rules: Arc<dyn RulesRepository>,
}

impl CheckoutService {
    /// A service over these ports, gateways and the routing of methods to them.
    pub fn new(
        ports: CheckoutPorts,
        trades: Arc<TradeService>,
        gateways: Vec<Arc<dyn PaymentGateway>>,
        routing: PaymentRouting,
        clock: Arc<dyn Clock>,
    ) -> Self {
        CheckoutService {
            members: ports.members,
            products: ports.products,
            checkouts: ports.checkouts,
            records: ports.records,
            rules: ports.rules,
            trades,
            gateways,
            routing,
            clock,
        }
    }

    fn gateway(&self, name: &str) -> Option<&Arc<dyn PaymentGateway>> {
        self.gateways.iter().find(|g| g.name() == name)
    }

    /// The gateway a checkout was routed to.
    fn gateway_of(&self, checkout: &Checkout) -> Result<Arc<dyn PaymentGateway>, CheckoutError> {
        checkout
            .pg_gateway
            .as_deref()
            .and_then(|name| self.gateway(name))
            .cloned()
            .ok_or(CheckoutError::MethodUnavailable(MethodUnavailable(
                checkout.method,
            )))
    }

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
                    | CheckoutError::Storage(RepositoryError::Duplicate(_))),
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
        let buyer = self.members.get(partner.id, buyer_id).await?;
        if buyer.is_none_or(|b| b.status != MemberStatus::Active) {
            return Err(CheckoutError::BuyerNotActive);
        }
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
        let gateway = self
            .routing
            .gateway_for(request.method)
            .map_err(CheckoutError::MethodUnavailable)?;
        let contract = self.rules.contract_of(partner.id).await?;
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
        let now = self.clock.now();
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
            pg_gateway: Some(gateway.to_owned()),
            pg_transaction_id: None,
            expires_at: now.saturating_add(time::Duration::minutes(i64::from(
                contract.timers.checkout_expiry_minutes,
            ))),
            created_at: now,
            trade_id: None,
        };
        self.checkouts
            .open(&checkout, &contract.seller_limits, idempotency)
            .await
            .map_err(|e| match e {
                OpenCheckoutError::SellerLimitExceeded(l) => CheckoutError::SellerLimit(l),
                OpenCheckoutError::ProductUnavailable => CheckoutError::ProductNotAvailable,
                OpenCheckoutError::IdempotencyKeyReused => CheckoutError::IdempotencyKeyReused,
                OpenCheckoutError::Storage(RepositoryError::Duplicate(_)) => {
                    CheckoutError::ProductNotAvailable
                }
                OpenCheckoutError::Storage(s) => CheckoutError::Storage(s),
            })
    }

    /// The checkout `id` (hosted pages).
    pub async fn checkout(&self, id: CheckoutId) -> Result<Checkout, CheckoutError> {
        self.records
            .checkout(id)
            .await?
            .ok_or(CheckoutError::CheckoutNotFound)
    }

    async fn fail(&self, checkout: &Checkout, failure: PgFailure) -> Result<(), CheckoutError> {
        self.checkouts
            .fail(
                checkout.partner_id,
                checkout.id,
                failure.code(),
                self.clock.now(),
            )
            .await?;
        Ok(())
    }

    /// The buyer pressed "pay": asks the checkout's gateway to start the payment and returns what the
    /// browser does next. `links` builds the return and notification URLs of the checkout and its
    /// gateway. A PG failure fails the checkout with its code; an expired checkout fails with
    /// `PG_EXPIRED`.
    pub async fn start_payment(
        &self,
        id: CheckoutId,
        links: impl FnOnce(&Checkout, &str) -> PaymentLinks,
    ) -> Result<PaymentStep, CheckoutError> {
        let checkout = self.checkout(id).await?;
        if checkout.status != CheckoutStatus::Open {
            return Err(CheckoutError::Payment(match checkout.status {
                CheckoutStatus::Expired => PgFailure::Expired,
                _ => PgFailure::RejectedRequest,
            }));
        }
        if self.clock.now() >= checkout.expires_at {
            self.fail(&checkout, PgFailure::Expired).await?;
            return Err(CheckoutError::Payment(PgFailure::Expired));
        }
        let gateway = self.gateway_of(&checkout)?;
        let buyer = self
            .members
            .get(checkout.partner_id, checkout.buyer_id)
            .await?
            .ok_or(CheckoutError::BuyerNotActive)?;
        let product = self
            .products
            .get(checkout.partner_id, checkout.product_id)
            .await?
            .ok_or(CheckoutError::ProductNotFound)?;
        let PaymentLinks {
            return_url,
            callback_url,
        } = links(&checkout, gateway.name());
        let request = PaymentRequest {
            checkout_id: checkout.id,
            amount: checkout.quote.payment_amount,
            method: checkout.method,
            order_name: product.name,
            buyer: PaymentBuyer {
                name: buyer.name,
                phone: buyer.phone,
            },
            return_url,
            callback_url,
        };
        match gateway.create_payment(&request).await {
            Ok(start) => {
                self.records
                    .attach_transaction(checkout.id, gateway.name(), &start.transaction_id)
                    .await?;
                Ok(start.next)
            }
            Err(PgError::Failed { failure, detail }) => {
                tracing::warn!(checkout_id = %checkout.id, code = failure.code(), %detail, "payment could not start");
                self.fail(&checkout, failure).await?;
                Err(CheckoutError::Payment(failure))
            }
            Err(_) => Err(CheckoutError::Payment(PgFailure::RejectedRequest)),
        }
    }

    /// What a checkout's state says about its payment (for a return or callback after the fact).
    fn settled(checkout: Checkout) -> Option<PaymentResult> {
        match checkout.status {
            CheckoutStatus::Paid => checkout.trade_id.map(|trade_id| PaymentResult::Paid {
                trade_id,
                checkout: Box::new(checkout),
            }),
            CheckoutStatus::Failed => Some(PaymentResult::Failed {
                code: checkout
                    .failure_code
                    .clone()
                    .unwrap_or_else(|| PgFailure::Declined.code().to_owned()),
                checkout: Box::new(checkout),
            }),
            CheckoutStatus::Expired => Some(PaymentResult::Failed {
                code: PgFailure::Expired.code().to_owned(),
                checkout: Box::new(checkout),
            }),
            CheckoutStatus::Open => None,
        }
    }

    /// The browser came back, the PG called back, or the reconciliation job asks about
    /// `transaction_id`: queries the PG, checks its report against the checkout, and opens the trade
    /// or fails the checkout. Idempotent: whichever path comes first wins, the others get the same
    /// result. A capture for a checkout that is no longer open is refunded (SPEC §7 point 5).
    pub async fn settle(
        &self,
        gateway: &str,
        transaction_id: &str,
        notice: PaymentNotice,
    ) -> Result<PaymentResult, CheckoutError> {
        let checkout = self
            .records
            .checkout_by_transaction(gateway, transaction_id)
            .await?
            .ok_or(CheckoutError::CheckoutNotFound)?;
        if checkout.status == CheckoutStatus::Paid
            && checkout.pg_transaction_id.as_deref() == Some(transaction_id)
        {
            if let Some(done) = Self::settled(checkout.clone()) {
                return Ok(done);
            }
        }
        let gateway = self.gateway_of(&checkout)?;
        let verified = verify_transaction(
            gateway.as_ref(),
            transaction_id,
            checkout.id,
            checkout.quote.payment_amount,
        )
        .await;
        if checkout.status != CheckoutStatus::Open {
            return self
                .after_the_end(checkout, transaction_id, verified, notice)
                .await;
        }
        let outcome = match verified {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(checkout_id = %checkout.id, transaction_id, error = %e, "payment could not be verified yet");
                return Err(CheckoutError::GatewayUnavailable(e.to_string()));
            }
        };
        match outcome {
            PaymentOutcome::Approved { .. } => self.open_trade(checkout, transaction_id).await,
            PaymentOutcome::Pending => Ok(PaymentResult::Pending {
                checkout: Box::new(checkout),
            }),
            PaymentOutcome::Failed(_)
                if notice == PaymentNotice::BrowserReturn
                    && !gateway.reports_pending()
                    && self.clock.now() < checkout.expires_at =>
            {
                // Unifi Pay says FAILED also for a payment not made yet: the buyer may still pay.
                Ok(PaymentResult::Pending {
                    checkout: Box::new(checkout),
                })
            }
            PaymentOutcome::Failed(failure) => {
                self.refuse(&checkout, transaction_id, "FAILED", failure)
                    .await
            }
            PaymentOutcome::Forged { failure, reason } => {
                tracing::warn!(
                    target: "security",
                    checkout_id = %checkout.id,
                    transaction_id,
                    %reason,
                    "PG report does not match the checkout: possible forgery (위변조)"
                );
                self.refuse(&checkout, transaction_id, "FORGED", failure)
                    .await
            }
        }
    }

    /// The PG approved `transaction_id` for an open checkout: opens its trade, or — when the checkout
    /// stopped being open meanwhile — treats the capture as a late confirmation.
    async fn open_trade(
        &self,
        checkout: Checkout,
        transaction_id: &str,
    ) -> Result<PaymentResult, CheckoutError> {
        self.records
            .record_verification(checkout.id, transaction_id, "APPROVED", None)
            .await?;
        let product = self
            .products
            .get(checkout.partner_id, checkout.product_id)
            .await?
            .ok_or(CheckoutError::ProductNotFound)?;
        let name = checkout.pg_gateway.clone().unwrap_or_default();
        let open = OpenTrade {
            id: TradeId::random(),
            partner_id: checkout.partner_id,
            checkout_id: checkout.id,
            partner_trade_no: checkout.partner_trade_no.clone(),
            buyer_id: checkout.buyer_id,
            seller_id: checkout.seller_id,
            product_id: checkout.product_id,
            product_name: product.name,
            trade_type: checkout.trade_type,
            method: checkout.method,
            quote: checkout.quote,
            deposit_account: (checkout.method == PaymentMethod::VirtualAccount)
                .then(|| format!("{name} {transaction_id}")),
            payment_transaction_id: Some(transaction_id.to_owned()),
        };
        match self.trades.open(open).await {
            Ok(t) => Ok(PaymentResult::Paid {
                trade_id: t.trade.id,
                checkout: Box::new(Checkout {
                    pg_transaction_id: Some(transaction_id.to_owned()),
                    ..checkout
                }),
            }),
            // The checkout is not open any more: the other path (return or callback) opened the trade
            // with this transaction, or it failed, expired or was paid by another transaction.
            Err(TradeServiceError::Storage(RepositoryError::Duplicate(_)))
            | Err(TradeServiceError::Conflict) => {
                let now = self.checkout(checkout.id).await?;
                if now.status == CheckoutStatus::Paid
                    && now.pg_transaction_id.as_deref() == Some(transaction_id)
                {
                    return Self::settled(now).ok_or(CheckoutError::GatewayUnavailable(
                        "settling concurrently".into(),
                    ));
                }
                self.late_confirmation(&now, transaction_id).await?;
                Self::settled(now).ok_or(CheckoutError::GatewayUnavailable(
                    "settling concurrently".into(),
                ))
            }
            Err(TradeServiceError::Storage(e)) => Err(e.into()),
            Err(e) => Err(CheckoutError::Storage(RepositoryError::Unavailable(
                e.to_string(),
            ))),
        }
    }

    /// A transaction of a checkout that already ended (failed, expired, or paid by another
    /// transaction): a confirmed capture is refunded; anything else leaves the checkout as it is.
    async fn after_the_end(
        &self,
        checkout: Checkout,
        transaction_id: &str,
        verified: Result<PaymentOutcome, PgError>,
        notice: PaymentNotice,
    ) -> Result<PaymentResult, CheckoutError> {
        match verified {
            Ok(PaymentOutcome::Approved { .. }) => {
                self.late_confirmation(&checkout, transaction_id).await?;
            }
            Ok(PaymentOutcome::Forged { reason, .. }) => {
                tracing::warn!(
                    target: "security",
                    checkout_id = %checkout.id,
                    transaction_id,
                    %reason,
                    "PG report for an ended checkout does not match it: possible forgery (위변조)"
                );
            }
            Ok(PaymentOutcome::Failed(_) | PaymentOutcome::Pending) => {}
            // The reconciliation job asks again later; a browser or callback learns the ended state.
            Err(e) if notice == PaymentNotice::Reconciliation => {
                return Err(CheckoutError::GatewayUnavailable(e.to_string()));
            }
            Err(_) => {}
        }
        Self::settled(checkout.clone()).ok_or(CheckoutError::GatewayUnavailable(
            "checkout state changed".into(),
        ))
    }

    /// Money captured without a trade: recorded once, refunded in full by the refund job, and the
    /// partner told (`payment.refunded`, `LATE_CONFIRMATION`).
    async fn late_confirmation(
        &self,
        checkout: &Checkout,
        transaction_id: &str,
    ) -> Result<(), CheckoutError> {
        let recorded = self
            .records
            .record_late_confirmation(checkout, transaction_id, self.clock.now())
            .await?;
        if recorded {
            tracing::warn!(
                checkout_id = %checkout.id,
                transaction_id,
                checkout_status = checkout.status.code(),
                "PG confirmed a payment for a checkout that is no longer open: refunding it in full"
            );
        }
        Ok(())
    }

    /// The browser came back from the PG for checkout `checkout_id` naming `transaction_id`: settles it
    /// through the checkout's gateway. A transaction of another checkout is `CheckoutNotFound`.
    pub async fn settle_return(
        &self,
        checkout_id: CheckoutId,
        transaction_id: &str,
    ) -> Result<PaymentResult, CheckoutError> {
        let checkout = self.checkout(checkout_id).await?;
        let gateway = checkout
            .pg_gateway
            .clone()
            .ok_or(CheckoutError::CheckoutNotFound)?;
        let result = self
            .settle(&gateway, transaction_id, PaymentNotice::BrowserReturn)
            .await?;
        if result.checkout().id != checkout_id {
            return Err(CheckoutError::CheckoutNotFound);
        }
        Ok(result)
    }

    /// Gateway `gateway` posted a notification: its adapter reads the body, and the transaction it
    /// names is settled (the PG is queried; the body is not trusted). An unknown gateway is
    /// `CheckoutNotFound`; an unreadable body is `Payment(PG_REJECTED_REQUEST)`.
    pub async fn notify(&self, gateway: &str, body: &[u8]) -> Result<PaymentResult, CheckoutError> {
        let adapter = self
            .gateway(gateway)
            .ok_or(CheckoutError::CheckoutNotFound)?;
        let notice = adapter.parse_notification(body).map_err(|e| match e {
            PgError::Failed { failure, .. } => CheckoutError::Payment(failure),
            _ => CheckoutError::Payment(PgFailure::RejectedRequest),
        })?;
        self.settle(gateway, &notice.transaction_id, PaymentNotice::PgCallback)
            .await
    }

    /// Queries again the PG transactions of checkouts that ended without a trade in the last 24 hours
    /// (or were paid by another transaction), so a late capture is refunded even when no callback
    /// comes (a job).
    pub async fn reconcile(&self, limit: u32) -> Result<ReconciliationRun, CheckoutError> {
        let now = self.clock.now();
        let since = now - time::Duration::hours(RECONCILIATION_HOURS);
        let mut run = ReconciliationRun::default();
        for tx in self
            .records
            .transactions_to_reconcile(since, now, limit)
            .await?
        {
            run.checked += 1;
            match self
                .settle(
                    &tx.gateway,
                    &tx.transaction_id,
                    PaymentNotice::Reconciliation,
                )
                .await
            {
                Ok(_) => {}
                Err(CheckoutError::GatewayUnavailable(_)) => run.unavailable += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(run)
    }

    /// Records a refused verification, fails the checkout and answers its settled state.
    async fn refuse(
        &self,
        checkout: &Checkout,
        transaction_id: &str,
        outcome: &str,
        failure: PgFailure,
    ) -> Result<PaymentResult, CheckoutError> {
        self.records
            .record_verification(
                checkout.id,
                transaction_id,
                outcome,
                Some(failure.code().to_owned()),
            )
            .await?;
        self.fail(checkout, failure).await?;
        let now = self.checkout(checkout.id).await?;
        Self::settled(now).ok_or(CheckoutError::Payment(failure))
    }

    /// Expires the open checkouts whose time ran out (a job); returns how many.
    pub async fn expire_due(&self, limit: u32) -> Result<usize, CheckoutError> {
        let now = self.clock.now();
        let mut expired = 0;
        for checkout in self.records.expired_checkouts(now, limit).await? {
            if self
                .checkouts
                .fail(
                    checkout.partner_id,
                    checkout.id,
                    PgFailure::Expired.code(),
                    now,
                )
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
