//! How `start` builds the use cases from the adapters: one small function per service.

use std::sync::Arc;

use escrow_domain::delivery::AlimTalkSender;
use escrow_domain::ports::Clock;
use escrow_domain::services::{
    CheckoutPorts, CheckoutService, MemberService, OutboxWorker, PayoutAccountService,
    PayoutService, ProductService, TradeService,
};
use escrow_postgres::{
    Directory, LedgerPayoutInstructor, PgCheckoutRepository, PgMoneyOut, PgRulesRepository,
    PgTradeRepository,
};

use crate::gateways;

/// Buyers' refund accounts and sellers' payout accounts, both verified through `verifier`.
pub(crate) fn account_services(
    verifier: Arc<dyn escrow_domain::payout_account::AccountVerifier>,
    directory: &Arc<Directory>,
    clock: Arc<dyn Clock>,
) -> (
    Arc<escrow_domain::services::RefundAccountService>,
    Arc<PayoutAccountService>,
) {
    (
        Arc::new(escrow_domain::services::RefundAccountService::new(
            verifier.clone(),
            directory.clone(),
            clock.clone(),
        )),
        Arc::new(PayoutAccountService::new(
            verifier,
            directory.clone(),
            clock,
        )),
    )
}

/// What a checkout needs from storage.
pub(crate) fn checkout_ports(
    directory: &Arc<Directory>,
    checkouts: &Arc<PgCheckoutRepository>,
    rules: &Arc<PgRulesRepository>,
) -> CheckoutPorts {
    CheckoutPorts {
        members: directory.clone(),
        products: directory.clone(),
        checkouts: checkouts.clone(),
        records: checkouts.clone(),
        rules: rules.clone(),
    }
}

/// The payment setup over storage, started with what configuration names (SPEC §12).
pub(crate) async fn payment_setup(
    pool: &escrow_postgres::DbPool,
    sealer: &escrow_postgres::SecretSealer,
    gateways: &gateways::Gateways,
    clock: Arc<dyn Clock>,
) -> std::io::Result<(
    Arc<escrow_postgres::PgPaymentSetup>,
    Arc<escrow_domain::payment_setup::PaymentSetupService>,
)> {
    let repository = Arc::new(escrow_postgres::PgPaymentSetup::new(
        pool.clone(),
        sealer.clone(),
    ));
    let setup = Arc::new(escrow_domain::payment_setup::PaymentSetupService::new(
        repository.clone(),
        gateways.profiles.clone(),
        clock,
    ));
    setup
        .seed(&gateways.routes, &gateways.merchants)
        .await
        .map_err(|e| std::io::Error::other(format!("payment setup: {e}")))?;
    Ok((repository, setup))
}

/// The trade and checkout use cases over the gateways, both living by test clocks too; `setup`
/// routes each method to a gateway and merchant.
pub(crate) fn trade_use_cases(
    trade_repo: Arc<PgTradeRepository>,
    ports: CheckoutPorts,
    adapters: Vec<Arc<dyn escrow_domain::payment::PaymentGateway>>,
    setup: Arc<escrow_domain::payment_setup::PaymentSetupService>,
    test_clocks: Arc<escrow_postgres::PgTestClocks>,
    clock: Arc<dyn Clock>,
) -> (Arc<TradeService>, Arc<CheckoutService>) {
    let trades = Arc::new(
        TradeService::new(trade_repo, ports.rules.clone(), clock.clone())
            .with_test_clocks(test_clocks.clone()),
    );
    let checkouts = Arc::new(
        CheckoutService::new(ports, trades.clone(), adapters, setup, clock)
            .with_test_clocks(test_clocks),
    );
    (trades, checkouts)
}

/// Payouts instructed into the bundled payout ledger (the bank file).
pub(crate) fn payout_service(
    money_out: Arc<PgMoneyOut>,
    pool: &escrow_postgres::DbPool,
    sealer: &escrow_postgres::SecretSealer,
    clock: Arc<dyn Clock>,
) -> Arc<PayoutService> {
    Arc::new(PayoutService::new(
        money_out,
        Arc::new(LedgerPayoutInstructor::new(pool.clone(), sealer.clone())),
        clock,
    ))
}

/// Products over the directory and the contracts.
pub(crate) fn product_service(
    directory: &Arc<Directory>,
    rules: &Arc<PgRulesRepository>,
    clock: Arc<dyn Clock>,
) -> Arc<ProductService> {
    Arc::new(ProductService::new(
        directory.clone(),
        directory.clone(),
        rules.clone(),
        clock,
    ))
}

/// Membership, with the configured identity verifier.
pub(crate) fn member_service(
    directory: Arc<Directory>,
    verifier: Arc<dyn escrow_domain::signup::IdentityVerifier>,
    clock: Arc<dyn Clock>,
) -> Arc<MemberService> {
    Arc::new(MemberService::new(directory, verifier, clock))
}

/// The outbox worker, sending test partners' AlimTalks to `test_alimtalk` when there is one.
pub(crate) fn outbox_worker(
    worker: OutboxWorker,
    test_alimtalk: Option<Arc<dyn AlimTalkSender>>,
) -> OutboxWorker {
    match test_alimtalk {
        Some(sender) => worker.with_test_alimtalk(sender),
        None => worker,
    }
}

/// Delivery requests over PortOne, and members' address books (SPEC §13).
pub(crate) fn custody(
    pool: &escrow_postgres::DbPool,
    fee_payments: Arc<dyn escrow_domain::custody::FeePayments>,
    rules: &Arc<PgRulesRepository>,
    directory: &Arc<Directory>,
    clock: Arc<dyn Clock>,
) -> (
    Arc<escrow_domain::custody::DeliveryRequests>,
    Arc<escrow_domain::address_book::AddressBook>,
) {
    (
        Arc::new(escrow_domain::custody::DeliveryRequests::new(
            Arc::new(escrow_postgres::PgCustody::new(pool.clone())),
            fee_payments,
            rules.clone(),
            clock.clone(),
        )),
        Arc::new(escrow_domain::address_book::AddressBook::new(
            directory.clone(),
            clock,
        )),
    )
}
