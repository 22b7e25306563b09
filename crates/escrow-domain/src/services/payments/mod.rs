//! The checkout and payment flow (SPEC §7): create a checkout (checks in SPEC's order, seller limits
//! reserved atomically), start the PG payment, and settle it from the browser return or the PG
//! callback — both of which only make the service query the PG.

mod approval;
mod opening;
mod settling;

use std::sync::Arc;

use crate::checkout::{Checkout, ShippingAddress};
use crate::contract::{PaymentMethod, TradeType};
use crate::ids::{CheckoutId, ProductId, TradeId};
use crate::limits::LimitExceeded;
use crate::payment::{MethodUnavailable, PaymentGateway, PgFailure};
use crate::payment_setup::{Merchant, PaymentSetupService, SetupError};
use crate::ports::CheckoutRepository;
use crate::ports::{
    Clock, MemberRepository, PaymentRecords, ProductRepository, RepositoryError, RulesRepository,
};
use crate::quote::QuoteError;
use crate::services::trades::TradeService;
use crate::test_clock::{ClockTime, TestClockRepository};

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
    /// The routed gateway has no merchant for the partner (`MERCHANT_NOT_CONFIGURED`).
    #[error("no merchant is configured at {0}")]
    MerchantNotConfigured(String),
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
    setup: Arc<PaymentSetupService>,
    time: ClockTime,
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
    /// A service over these ports and gateways; `setup` routes each method to a gateway and merchant.
    pub fn new(
        ports: CheckoutPorts,
        trades: Arc<TradeService>,
        gateways: Vec<Arc<dyn PaymentGateway>>,
        setup: Arc<PaymentSetupService>,
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
            setup,
            time: ClockTime::real(clock),
        }
    }

    /// Checkouts on test clocks live by them (SPEC §16).
    pub fn with_test_clocks(mut self, clocks: Arc<dyn TestClockRepository>) -> Self {
        self.time = self.time.and_test_clocks(clocks);
        self
    }

    /// The instant `checkout` lives at (its test clock's, or now).
    pub async fn now_of(&self, checkout: &Checkout) -> Result<time::OffsetDateTime, CheckoutError> {
        Ok(self.time.now_on(checkout.test_clock).await?)
    }

    fn gateway(&self, name: &str) -> Option<&Arc<dyn PaymentGateway>> {
        self.gateways.iter().find(|g| g.name() == name)
    }

    /// The gateway a checkout was routed to and the merchant it pays with.
    async fn gateway_of(
        &self,
        checkout: &Checkout,
    ) -> Result<(Arc<dyn PaymentGateway>, Merchant), CheckoutError> {
        let unavailable = || CheckoutError::MethodUnavailable(MethodUnavailable(checkout.method));
        let gateway = checkout
            .pg_gateway
            .as_deref()
            .and_then(|name| self.gateway(name))
            .cloned()
            .ok_or_else(unavailable)?;
        let merchant = self
            .setup
            .merchant_of_payment(gateway.name(), checkout.pg_merchant)
            .await
            .map_err(setup_error)?;
        Ok((gateway, merchant))
    }

    /// The checkout `id` (hosted pages).
    pub async fn checkout(&self, id: CheckoutId) -> Result<Checkout, CheckoutError> {
        self.records
            .checkout(id)
            .await?
            .ok_or(CheckoutError::CheckoutNotFound)
    }

    /// Fails an open checkout with `failure` ([`Checkout::fail`] decides what that means).
    async fn fail(&self, checkout: &Checkout, failure: PgFailure) -> Result<(), CheckoutError> {
        let now = self.now_of(checkout).await?;
        self.checkouts.fail(&checkout.fail(failure, now)).await?;
        Ok(())
    }
}

/// A payment-setup refusal as a checkout error.
pub(crate) fn setup_error(e: SetupError) -> CheckoutError {
    match e {
        SetupError::MethodUnavailable(m) => CheckoutError::MethodUnavailable(MethodUnavailable(m)),
        SetupError::MerchantNotConfigured(g) => CheckoutError::MerchantNotConfigured(g),
        SetupError::Storage(s) => CheckoutError::Storage(s),
        other => CheckoutError::Storage(RepositoryError::Unavailable(other.to_string())),
    }
}
