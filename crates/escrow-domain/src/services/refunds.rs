//! Money out: refunds through the PG that took the payment (what a PG cannot refund goes to the
//! operators' manual refund queue, never silently dropped) and payouts through the payout instructor.

use std::sync::Arc;

use crate::delivery::{RefundQueue, RefundState};
use crate::payment::{PaymentGateway, PgError, PgFailure, RefundRequest};
use crate::payment_setup::PaymentSetupRepository;
use crate::ports::{Clock, PaymentRecords, RepositoryError};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefundRun {
    /// Refunded by the PG.
    pub done: usize,
    /// Handed to operators.
    pub manual: usize,
    /// Left for the next run.
    pub pending: usize,
}

/// The refund executor.
pub struct RefundService {
    queue: Arc<dyn RefundQueue>,
    records: Arc<dyn PaymentRecords>,
    gateways: Vec<Arc<dyn PaymentGateway>>,
    merchants: Arc<dyn PaymentSetupRepository>,
    refund_accounts: Option<Arc<dyn crate::ports::RefundAccountRepository>>,
    clock: Arc<dyn Clock>,
}

impl RefundService {
    /// An executor over these ports and gateways; `merchants` holds the MIDs payments were made with.
    pub fn new(
        queue: Arc<dyn RefundQueue>,
        records: Arc<dyn PaymentRecords>,
        gateways: Vec<Arc<dyn PaymentGateway>>,
        merchants: Arc<dyn PaymentSetupRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        RefundService {
            queue,
            records,
            gateways,
            merchants,
            refund_accounts: None,
            clock,
        }
    }

    /// Virtual-account payments are refunded to the buyer's registered refund account (SPEC §12);
    /// without this, or while the buyer has none, such a refund waits.
    pub fn with_refund_accounts(
        mut self,
        accounts: Arc<dyn crate::ports::RefundAccountRepository>,
    ) -> Self {
        self.refund_accounts = Some(accounts);
        self
    }

    /// The buyer's refund account for a virtual-account checkout; `Err(detail)` while there is
    /// none (the refund waits), `Ok(None)` for other methods.
    async fn refund_account_for(
        &self,
        checkout: &crate::checkout::Checkout,
    ) -> Result<Result<Option<crate::payout_account::BankAccount>, String>, RepositoryError> {
        if checkout.method != crate::contract::PaymentMethod::VirtualAccount {
            return Ok(Ok(None));
        }
        let Some(accounts) = &self.refund_accounts else {
            return Ok(Err("no refund accounts are kept".into()));
        };
        Ok(
            match accounts
                .refund_account(checkout.partner_id, checkout.buyer_id)
                .await?
            {
                Some((account, _)) => Ok(Some(account)),
                None => Err("waiting for the buyer's refund account".into()),
            },
        )
    }

    /// Executes the refunds that are due (at most `limit`).
    pub async fn run_once(&self, limit: u32) -> Result<RefundRun, RepositoryError> {
        let mut run = RefundRun::default();
        for refund in self.queue.claim_due(limit).await? {
            let checkout = self.records.checkout(refund.checkout_id).await?;
            let target = checkout.as_ref().and_then(|c| {
                let gateway = self
                    .gateways
                    .iter()
                    .find(|g| Some(g.name()) == c.pg_gateway.as_deref())?;
                // A late confirmation names its own transaction; a trade's refund goes to the
                // transaction that paid the checkout.
                let transaction = refund
                    .transaction_id
                    .clone()
                    .or_else(|| c.pg_transaction_id.clone())?;
                Some((gateway, c.pg_merchant, transaction))
            });
            // The refund goes through the merchant (MID) the payment was made with.
            let target = match target {
                Some((gateway, merchant, transaction)) => crate::payment_setup::payment_merchant(
                    self.merchants.as_ref(),
                    gateway.name(),
                    merchant,
                )
                .await?
                .map(|m| (gateway, m, transaction)),
                None => None,
            };
            let (state, detail) = match target {
                None => (
                    RefundState::ManualQueue,
                    Some("no PG transaction to refund".to_owned()),
                ),
                Some((gateway, merchant, transaction_id)) => {
                    let to_account = match &checkout {
                        Some(c) => self.refund_account_for(c).await?,
                        None => Ok(None),
                    };
                    match to_account {
                        Err(detail) => (RefundState::Pending, Some(detail)),
                        Ok(to_account) => match gateway
                            .refund(
                                &merchant,
                                &RefundRequest {
                                    transaction_id,
                                    amount: refund.amount,
                                    to_account,
                                },
                            )
                            .await
                        {
                            Ok(()) => (RefundState::Done, None),
                            Err(PgError::RefundUnsupported) => (
                                RefundState::ManualQueue,
                                Some(format!("{} has no refund call", gateway.name())),
                            ),
                            Err(PgError::Failed {
                                failure: PgFailure::Unavailable,
                                detail,
                            }) => (RefundState::Pending, Some(detail)),
                            Err(PgError::Failed { failure, detail }) => (
                                RefundState::ManualQueue,
                                Some(format!("{}: {detail}", failure.code())),
                            ),
                        },
                    }
                }
            };
            match state {
                RefundState::Done => run.done += 1,
                RefundState::ManualQueue => {
                    tracing::warn!(trade_id = ?refund.trade_id, checkout_id = %refund.checkout_id, detail = ?detail, "refund handed to operators");
                    run.manual += 1;
                }
                RefundState::Pending => run.pending += 1,
            }
            self.queue
                .settle(refund.id, state, detail, self.clock.now())
                .await?;
        }
        Ok(run)
    }
}

/// What one payout pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutRun {
    /// Instructed.
    pub instructed: usize,
    /// Left for the next run.
    pub pending: usize,
}

/// Hands due payouts to the [`PayoutInstructor`](crate::delivery::PayoutInstructor).
pub struct PayoutService {
    queue: Arc<dyn crate::delivery::PayoutQueue>,
    instructor: Arc<dyn crate::delivery::PayoutInstructor>,
    clock: Arc<dyn Clock>,
}

impl PayoutService {
    /// A payout executor over these ports.
    pub fn new(
        queue: Arc<dyn crate::delivery::PayoutQueue>,
        instructor: Arc<dyn crate::delivery::PayoutInstructor>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        PayoutService {
            queue,
            instructor,
            clock,
        }
    }

    /// Instructs the payouts that are due (at most `limit`).
    pub async fn run_once(&self, limit: u32) -> Result<PayoutRun, RepositoryError> {
        let mut run = PayoutRun::default();
        for payout in self.queue.claim_due(limit).await? {
            let instructed = match self.instructor.instruct(&payout, self.clock.now()).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(trade_id = %payout.trade_id, error = %e, "payout not instructed; retried next run");
                    false
                }
            };
            if instructed {
                run.instructed += 1;
            } else {
                run.pending += 1;
            }
            self.queue
                .settle(payout.id, instructed, self.clock.now())
                .await?;
        }
        Ok(run)
    }
}
