//! Paying a checkout: starting the payment at its gateway, and settling what the browser return, the
//! PG's notification or the reconciliation job reports — the PG is always queried, a capture for an
//! ended checkout is refunded (SPEC §7 point 5).

use crate::checkout::{Checkout, CheckoutStatus};
use crate::contract::PaymentMethod;
use crate::ids::{CheckoutId, TradeId};
use crate::payment::{
    verify_transaction, IssuedAccount, PaymentBuyer, PaymentOutcome, PaymentRequest, PaymentStep,
    PgError, PgFailure,
};
use crate::ports::RepositoryError;
use crate::services::trades::TradeServiceError;
use crate::trade::OpenTrade;

use super::{
    CheckoutError, CheckoutService, PaymentLinks, PaymentNotice, PaymentResult, ReconciliationRun,
    RECONCILIATION_HOURS,
};

impl CheckoutService {
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
        if self.now_of(&checkout).await? >= checkout.expires_at {
            self.fail(&checkout, PgFailure::Expired).await?;
            return Err(CheckoutError::Payment(PgFailure::Expired));
        }
        let (gateway, merchant) = self.gateway_of(&checkout).await?;
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
        // Merchant-funded interest-free months for a card payment (SPEC §12).
        let installments = if checkout.method == PaymentMethod::Card {
            let now = self.now_of(&checkout).await?;
            let notices = self
                .setup
                .notices_holding(
                    gateway.name(),
                    checkout.quote.payment_amount.minor_units(),
                    now,
                )
                .await
                .map_err(super::setup_error)?;
            crate::payment_setup::installments::inicis_terms(&notices)
        } else {
            Default::default()
        };
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
            installments,
        };
        match gateway.create_payment(&merchant, &request).await {
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
    pub(super) fn settled(checkout: Checkout) -> Option<PaymentResult> {
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
        let (gateway, merchant) = self.gateway_of(&checkout).await?;
        let verified = verify_transaction(
            gateway.as_ref(),
            &merchant,
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
        let now = self.now_of(&checkout).await?;
        match outcome {
            PaymentOutcome::Approved { .. } => {
                self.open_trade(checkout, transaction_id, None).await
            }
            PaymentOutcome::Pending => Ok(PaymentResult::Pending {
                checkout: Box::new(checkout),
            }),
            PaymentOutcome::Failed(_)
                if notice == PaymentNotice::BrowserReturn
                    && !gateway.reports_pending()
                    && now < checkout.expires_at =>
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
    pub(super) async fn open_trade(
        &self,
        checkout: Checkout,
        transaction_id: &str,
        issued: Option<&IssuedAccount>,
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
            deposit_account: match issued {
                Some(a) => Some(format!("{} {} {}", a.bank, a.number, a.holder)),
                None => (checkout.method == PaymentMethod::VirtualAccount)
                    .then(|| format!("{name} {transaction_id}")),
            },
            deposit_due: issued.map(|a| a.due),
            payment_transaction_id: Some(transaction_id.to_owned()),
            test_clock: checkout.test_clock,
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
            Err(TradeServiceError::Conflict) => {
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
            .record_late_confirmation(checkout, transaction_id, self.now_of(checkout).await?)
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

    /// What gateway `gateway` expects as the plain-text answer to its notification, if anything.
    pub fn notification_ack(&self, gateway: &str) -> Option<&'static str> {
        self.gateway(gateway).and_then(|g| g.notification_ack())
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
        if let Some(done) = self.deposit_notice(gateway, &notice.transaction_id).await? {
            return Ok(done);
        }
        self.settle(gateway, &notice.transaction_id, PaymentNotice::PgCallback)
            .await
    }

    /// Queries again the PG transactions of checkouts that ended without a trade in the last 24 hours
    /// (or were paid by another transaction), so a late capture is refunded even when no callback
    /// comes (a job).
    pub async fn reconcile(&self, limit: u32) -> Result<ReconciliationRun, CheckoutError> {
        let now = self.time.real_now();
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
}
