//! What every handler reaches: the use cases, the ports they need directly, and the HTTP settings.

use std::sync::Arc;

use escrow_domain::delivery::OutboxStore;
use escrow_domain::ports::{
    AdminRepository, Clock, PartnerRepository, ProductRepository, RulesRepository, TradeQueries,
};
use escrow_domain::services::{CheckoutService, MemberService, ProductService, TradeService};

use crate::credentials::{LinkSigner, TokenIssuer};
use crate::metrics::Metrics;

/// Shared state of the HTTP adapter (one per process; cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// Partners and signatures.
    pub partners: Arc<dyn PartnerRepository>,
    /// Membership use cases.
    pub members: Arc<MemberService>,
    /// Product use cases.
    pub products: Arc<ProductService>,
    /// Products (reads).
    pub product_repo: Arc<dyn ProductRepository>,
    /// Checkout and payment use cases.
    pub checkouts: Arc<CheckoutService>,
    /// Trade use cases.
    pub trades: Arc<TradeService>,
    /// Trade reads.
    pub queries: Arc<dyn TradeQueries>,
    /// Contracts and calendar.
    pub rules: Arc<dyn RulesRepository>,
    /// Operator data.
    pub admin: Arc<dyn AdminRepository>,
    /// The outbox (dead letters, replay).
    pub outbox: Arc<dyn OutboxStore>,
    /// Partners' callbacks as their events API shows them.
    pub events: Arc<dyn escrow_domain::event_log::EventLog>,
    /// Member tokens.
    pub tokens: TokenIssuer,
    /// Hosted-page links.
    pub links: LinkSigner,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Where browsers and PGs reach this service (`https://escrow.example`), no trailing slash.
    pub public_base_url: String,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Partners' settlement reports.
    pub settlements: Arc<escrow_domain::services::Settlements>,
    /// The refund queue (operators finish manual refunds).
    pub refunds: Arc<dyn escrow_domain::delivery::RefundQueue>,
    /// Test partners' clocks (SPEC §16).
    pub test_clocks: Arc<escrow_domain::services::TestClockService>,
    /// Partners' request limits.
    pub limiter: Arc<escrow_domain::rate_limit::RequestLimiter>,
    /// Sellers' payout accounts.
    pub payout_accounts: Arc<escrow_domain::services::PayoutAccountService>,
    /// Buyers' refund accounts (SPEC §12).
    pub refund_accounts: Arc<escrow_domain::services::RefundAccountService>,
    /// Custody vouchers and delivery requests (SPEC §13).
    pub deliveries: Arc<escrow_domain::custody::DeliveryRequests>,
    /// Members' address books (SPEC §13).
    pub address_book: Arc<escrow_domain::address_book::AddressBook>,
    /// Payment methods' gateways and merchants (SPEC §12).
    pub payment_setup: Arc<escrow_domain::payment_setup::PaymentSetupService>,
}

impl AppState {
    /// The signed hosted signup page of a session.
    pub fn signup_url(&self, session_id: &str) -> String {
        format!(
            "{}/signup/{session_id}?sig={}",
            self.public_base_url,
            self.links.sign("signup", session_id)
        )
    }

    /// The signed hosted checkout page of a checkout.
    pub fn checkout_url(&self, checkout_id: &str) -> String {
        format!(
            "{}/checkout/{checkout_id}?sig={}",
            self.public_base_url,
            self.links.sign("checkout", checkout_id)
        )
    }
}
