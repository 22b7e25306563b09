//! Use cases over the ports. Each service takes its ports as `Arc<dyn …>`, so adapters (or mocks) are
//! chosen by whoever builds it.

mod catalog;
mod ledger;
mod members;
mod outbox;
mod payments;
mod payout_accounts;
mod refunds;
mod test_clocks;
mod trades;

pub use catalog::{ProductError, ProductPage, ProductService, ProductUpsert};
pub use ledger::{
    by_payout_date, LedgerCheck, SettlementDay, SettlementError, Settlements, SETTLEMENT_MAX_DAYS,
};
pub use members::{
    member_key_hash, origin_of, return_url_allowed, MemberError, MemberService, SignupResult,
};
pub use outbox::{OutboxRun, OutboxWorker, TemplateOverrides};
pub use payments::{
    CheckoutError, CheckoutPorts, CheckoutRequest, CheckoutService, PaymentLinks, PaymentNotice,
    PaymentResult, ReconciliationRun, RECONCILIATION_HOURS,
};
pub use payout_accounts::{
    verified_account, PayoutAccountError, PayoutAccountService, RefundAccountService,
};
pub use refunds::{PayoutRun, PayoutService, RefundRun, RefundService};
pub use test_clocks::{TestClockService, CLOCK_JOB};
pub use trades::{DueRun, TradeService, TradeServiceError};
