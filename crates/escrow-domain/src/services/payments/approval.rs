//! Payments a PG approves only when we ask (KG Inicis, SPEC §12): the buyer's authentication posted
//! to the return URL is approved through the gateway, the approval is checked against the checkout,
//! and it is cancelled at the PG (망취소) when it does not match or our own processing fails after
//! it — only then. And virtual-account deposit notices: re-queried at the PG, then 13 → 31.

use crate::checkout::CheckoutStatus;
use crate::contract::PaymentMethod;
use crate::ids::CheckoutId;
use crate::payment::{
    verify_approval, verify_transaction, PaymentOutcome, PgApproval, PgAuthentication, PgError,
    PgFailure,
};
use crate::payment_setup::Merchant;
use crate::trade::{Actor, TradeCommand, TradeStatus};

use super::{CheckoutError, CheckoutService, PaymentResult};

impl CheckoutService {
    /// The PG posted the buyer's authentication of checkout `id` to its return URL: asks the
    /// checkout's gateway to approve it, checks the approval, and opens the trade (at 31, or at 13
    /// for a virtual account with the issued account). A decline or an unreachable PG fails the
    /// checkout with its code; a forged approval is cancelled at the PG and fails it with
    /// `PG_AMOUNT_MISMATCH`. A repeated post answers the checkout's state.
    pub async fn authenticated(
        &self,
        id: CheckoutId,
        authentication: &PgAuthentication,
    ) -> Result<PaymentResult, CheckoutError> {
        let checkout = self.checkout(id).await?;
        if let Some(done) = Self::settled(checkout.clone()) {
            return Ok(done);
        }
        if self.now_of(&checkout).await? >= checkout.expires_at {
            self.fail(&checkout, PgFailure::Expired).await?;
            return self.state_of(id, PgFailure::Expired).await;
        }
        let (gateway, merchant) = self.gateway_of(&checkout).await?;
        let approval = match gateway.approve(&merchant, authentication).await {
            Ok(approval) => approval,
            Err(PgError::Failed { failure, detail }) => {
                if failure == PgFailure::AmountMismatch {
                    tracing::warn!(target: "security", checkout_id = %checkout.id, %detail, "PG approval does not verify: possible forgery (위변조)");
                } else {
                    tracing::warn!(checkout_id = %checkout.id, code = failure.code(), %detail, "payment not approved");
                }
                self.fail(&checkout, failure).await?;
                return self.state_of(id, failure).await;
            }
            Err(e) => {
                self.fail(&checkout, PgFailure::RejectedRequest).await?;
                tracing::warn!(checkout_id = %checkout.id, error = %e, "payment not approved");
                return self.state_of(id, PgFailure::RejectedRequest).await;
            }
        };
        let tid = approval.transaction_id.clone();
        if let Err(reason) = verify_approval(&approval, checkout.id, checkout.quote.payment_amount)
        {
            tracing::warn!(target: "security", checkout_id = %checkout.id, transaction_id = %tid, %reason, "PG approval does not match the checkout: possible forgery (위변조)");
            self.cancel_approval(gateway.as_ref(), &merchant, &approval)
                .await;
            self.records
                .record_verification(
                    checkout.id,
                    &tid,
                    "FORGED",
                    Some(PgFailure::AmountMismatch.code().to_owned()),
                )
                .await?;
            self.fail(&checkout, PgFailure::AmountMismatch).await?;
            return self.state_of(id, PgFailure::AmountMismatch).await;
        }
        if let Err(e) = self
            .records
            .attach_transaction(checkout.id, gateway.name(), &tid)
            .await
        {
            self.cancel_approval(gateway.as_ref(), &merchant, &approval)
                .await;
            return match e {
                // The checkout ended meanwhile (expired, failed): nothing was taken.
                crate::ports::RepositoryError::Conflict => {
                    self.state_of(id, PgFailure::RejectedRequest).await
                }
                e => Err(e.into()),
            };
        }
        match self
            .open_trade(checkout, &tid, approval.issued_account.as_ref())
            .await
        {
            Ok(result) => Ok(result),
            Err(e) => {
                // Our processing failed after the PG approved: give the money back at once.
                self.cancel_approval(gateway.as_ref(), &merchant, &approval)
                    .await;
                Err(e)
            }
        }
    }

    async fn cancel_approval(
        &self,
        gateway: &dyn crate::payment::PaymentGateway,
        merchant: &Merchant,
        approval: &PgApproval,
    ) {
        match gateway.cancel_approval(merchant, approval).await {
            Ok(()) => {
                tracing::warn!(transaction_id = %approval.transaction_id, "approval cancelled at the PG (망취소)")
            }
            Err(e) => {
                tracing::error!(transaction_id = %approval.transaction_id, error = %e, "the approval could not be cancelled at the PG: refund it by hand")
            }
        }
    }

    /// The checkout's state after a refusal.
    async fn state_of(
        &self,
        id: CheckoutId,
        failure: PgFailure,
    ) -> Result<PaymentResult, CheckoutError> {
        Self::settled(self.checkout(id).await?).ok_or(CheckoutError::Payment(failure))
    }

    /// A PG's notice about a paid virtual-account checkout's transaction (입금통보): the PG is
    /// queried, and a confirmed deposit of the right amount moves the trade 13 → 31. A repeated
    /// notice, or one for a trade that moved on, changes nothing. `None` when the transaction is
    /// not such a payment, or the gateway cannot tell a pending deposit (the caller settles it as a
    /// payment notification).
    pub(super) async fn deposit_notice(
        &self,
        gateway: &str,
        transaction_id: &str,
    ) -> Result<Option<PaymentResult>, CheckoutError> {
        // Only a PG that tells "not deposited yet" from "paid" issues accounts paid later.
        if !self.gateway(gateway).is_some_and(|g| g.reports_pending()) {
            return Ok(None);
        }
        let Some(checkout) = self
            .records
            .checkout_by_transaction(gateway, transaction_id)
            .await?
        else {
            return Ok(None);
        };
        if checkout.method != PaymentMethod::VirtualAccount
            || checkout.status != CheckoutStatus::Paid
            || checkout.pg_transaction_id.as_deref() != Some(transaction_id)
        {
            return Ok(None);
        }
        let Some(trade_id) = checkout.trade_id else {
            return Ok(None);
        };
        let trade = self
            .trades
            .get(checkout.partner_id, trade_id)
            .await
            .map_err(|e| CheckoutError::GatewayUnavailable(e.to_string()))?;
        if trade.status == TradeStatus::AwaitingDeposit {
            let (adapter, merchant) = self.gateway_of(&checkout).await?;
            let outcome = verify_transaction(
                adapter.as_ref(),
                &merchant,
                transaction_id,
                checkout.id,
                checkout.quote.payment_amount,
            )
            .await
            .map_err(|e| CheckoutError::GatewayUnavailable(e.to_string()))?;
            match outcome {
                PaymentOutcome::Approved { .. } => {
                    match self
                        .trades
                        .run_on(trade, &Actor::PaymentGateway, TradeCommand::ConfirmDeposit)
                        .await
                    {
                        Ok(_) => {
                            tracing::info!(checkout_id = %checkout.id, %trade_id, "deposit confirmed")
                        }
                        // Another notice confirmed it first, or the trade moved on.
                        Err(e) => {
                            tracing::info!(checkout_id = %checkout.id, %trade_id, error = %e, "deposit notice changed nothing")
                        }
                    }
                }
                PaymentOutcome::Forged { reason, .. } => {
                    tracing::warn!(target: "security", checkout_id = %checkout.id, transaction_id, %reason, "deposit notice does not match the checkout: possible forgery (위변조)");
                }
                PaymentOutcome::Pending | PaymentOutcome::Failed(_) => {
                    tracing::info!(checkout_id = %checkout.id, transaction_id, "deposit notice, but the PG reports no deposit yet");
                }
            }
        }
        Ok(Self::settled(checkout))
    }
}
