//! The delivery-request use cases: open, read, list, delete, verify the fee's payment (the member's
//! call and PortOne's webhook alike), refund, and the operator's approval.

use std::collections::HashSet;
use std::sync::Arc;

use super::{
    CustodyRepository, DeliveryRequestDetail, FeePaymentError, FeePaymentState, FeePayments,
    NewDeliveryRequest, NewVoucher, RequestFilter, RequestPage, ShippingState, Verification,
    Voucher, VoucherRefusal, MAX_VOUCHERS_PER_REQUEST,
};
use crate::checkout::ShippingAddress;
use crate::ids::{MemberId, PartnerId};
use crate::money::Money;
use crate::ports::{Clock, RepositoryError, RulesRepository};

/// Why a delivery-request command was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// No such request (another member's or partner's included).
    #[error("delivery request not found")]
    NotFound,
    /// A voucher cannot go into the request.
    #[error("voucher refused: {0:?}")]
    Voucher(VoucherRefusal),
    /// The voucher list is empty, repeats one, or is too long.
    #[error("voucherIds: {0}")]
    BadVoucherList(String),
    /// The member to grant a voucher to does not exist.
    #[error("member not found")]
    MemberNotFound,
    /// Delete: the fee is paid (or being refunded).
    #[error("the fee is paid")]
    PaidCannotDelete,
    /// Delete: already shipped.
    #[error("already shipped: cannot delete")]
    ShippedCannotDelete,
    /// Refund: already shipped.
    #[error("already shipped: cannot refund")]
    ShippedCannotRefund,
    /// Refund: nothing paid to refund.
    #[error("no paid fee to refund")]
    NothingToRefund,
    /// Approve: already shipped.
    #[error("already shipped")]
    AlreadyShipped,
    /// Approve: the fee is not paid.
    #[error("the fee is not paid")]
    NotPaid,
    /// PortOne has no payment with that id.
    #[error("PortOne has no such payment")]
    GatewayPaymentNotFound,
    /// PortOne's payment is not completed (`ready`, `failed`, `cancelled`).
    #[error("the payment is {0}")]
    PaymentNotCompleted(String),
    /// The payment was made for another order (`merchant_uid`): nothing changes on either.
    #[error("the payment belongs to another order")]
    PaymentOfAnotherOrder,
    /// PortOne refused the refund, with its message.
    #[error("PortOne refused: {0}")]
    RefundRefused(String),
    /// PortOne could not be reached; nothing is decided.
    #[error("PortOne unavailable: {0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// Who asks for a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier {
    /// The requester, after paying in its browser.
    Member(MemberId),
    /// PortOne's webhook (unsigned: only a reason to look again).
    Webhook,
}

/// The delivery-request use cases.
pub struct DeliveryRequests {
    repo: Arc<dyn CustodyRepository>,
    payments: Arc<dyn FeePayments>,
    rules: Arc<dyn RulesRepository>,
    clock: Arc<dyn Clock>,
}

impl DeliveryRequests {
    /// Over these ports.
    pub fn new(
        repo: Arc<dyn CustodyRepository>,
        payments: Arc<dyn FeePayments>,
        rules: Arc<dyn RulesRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        DeliveryRequests {
            repo,
            payments,
            rules,
            clock,
        }
    }

    /// Grants a voucher to a member (operators).
    pub async fn grant(&self, voucher: NewVoucher) -> Result<Voucher, DeliveryError> {
        self.repo
            .grant_voucher(&voucher, self.clock.now())
            .await?
            .ok_or(DeliveryError::MemberNotFound)
    }

    /// A member's vouchers.
    pub async fn vouchers(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Vec<Voucher>, DeliveryError> {
        Ok(self.repo.vouchers_of(partner_id, member_id).await?)
    }

    /// Opens a request for the member's available vouchers; the fee is the contract's.
    pub async fn open(
        &self,
        partner_id: PartnerId,
        requester_id: MemberId,
        voucher_ids: Vec<i64>,
        address: ShippingAddress,
    ) -> Result<DeliveryRequestDetail, DeliveryError> {
        let distinct: HashSet<i64> = voucher_ids.iter().copied().collect();
        if voucher_ids.is_empty() || voucher_ids.len() > MAX_VOUCHERS_PER_REQUEST {
            return Err(DeliveryError::BadVoucherList(format!(
                "1 to {MAX_VOUCHERS_PER_REQUEST} vouchers"
            )));
        }
        if distinct.len() != voucher_ids.len() {
            return Err(DeliveryError::BadVoucherList("a voucher twice".into()));
        }
        let now = self.clock.now();
        let contract = self.rules.contract_of(partner_id, now).await?;
        let request = NewDeliveryRequest {
            partner_id,
            requester_id,
            voucher_ids,
            address,
            fee: Money::new(contract.custody_shipping_fee, contract.currency),
            merchant_uid: format!("dr_{}", uuid_like(now)),
        };
        let opened = self
            .repo
            .open_request(&request, now)
            .await?
            .map_err(DeliveryError::Voucher)?;
        self.detail(Some(partner_id), Some(requester_id), opened.id)
            .await
    }

    /// A request with its vouchers (of the partner's, when given; a member sees only its own).
    pub async fn detail(
        &self,
        partner_id: Option<PartnerId>,
        requester: Option<MemberId>,
        id: i64,
    ) -> Result<DeliveryRequestDetail, DeliveryError> {
        self.repo
            .request(partner_id, id)
            .await?
            .filter(|d| requester.is_none_or(|m| d.request.requester_id == m))
            .ok_or(DeliveryError::NotFound)
    }

    /// A page of requests.
    pub async fn list(&self, filter: &RequestFilter) -> Result<RequestPage, DeliveryError> {
        Ok(self.repo.requests(filter).await?)
    }

    /// Deletes an unpaid, unshipped request of the member's; the vouchers it returned.
    pub async fn delete(
        &self,
        partner_id: PartnerId,
        requester: MemberId,
        id: i64,
    ) -> Result<Vec<i64>, DeliveryError> {
        let d = self.detail(Some(partner_id), Some(requester), id).await?;
        let r = &d.request;
        if r.shipping == ShippingState::Shipped {
            return Err(DeliveryError::ShippedCannotDelete);
        }
        if matches!(
            r.payment.state,
            FeePaymentState::Paid | FeePaymentState::Refunding
        ) {
            return Err(DeliveryError::PaidCannotDelete);
        }
        if !self.repo.delete_request(r, self.clock.now()).await? {
            // It changed meanwhile (paid by a webhook, approved): decide again on what it is now.
            return Box::pin(self.delete(partner_id, requester, id)).await;
        }
        Ok(if r.is_open() {
            r.voucher_ids.clone()
        } else {
            Vec::new()
        })
    }

    /// Verifies the fee's payment `imp_uid` at PortOne: paid as asked → `paid`; PortOne's amount
    /// differs → `forgeried`, cancelled at PortOne and logged as a security event. Repeats (the
    /// member's call and the webhook, in any order, any number of times) give the same result.
    pub async fn verify(
        &self,
        partner_id: PartnerId,
        verifier: Verifier,
        id: i64,
        imp_uid: &str,
    ) -> Result<DeliveryRequestDetail, DeliveryError> {
        let requester = match verifier {
            Verifier::Member(m) => Some(m),
            Verifier::Webhook => None,
        };
        let d = self.detail(Some(partner_id), requester, id).await?;
        let r = &d.request;
        match r.payment.state {
            FeePaymentState::Waiting => {}
            FeePaymentState::Forgeried
                if r.payment.forgery_cancelled_at.is_none()
                    && r.payment.imp_uid.as_deref() == Some(imp_uid) =>
            {
                // The cancel at PortOne did not go through last time: try again.
                self.cancel_forgery(r.id, imp_uid).await?;
                return self.detail(Some(partner_id), requester, id).await;
            }
            _ => return Ok(d),
        }
        let found = self
            .payments
            .find(imp_uid)
            .await
            .map_err(unavailable)?
            .ok_or(DeliveryError::GatewayPaymentNotFound)?;
        if found.merchant_uid != r.payment.merchant_uid {
            tracing::warn!(target: "security", request_id = r.id, imp_uid,
                "a payment of another order was offered for a delivery request");
            return Err(DeliveryError::PaymentOfAnotherOrder);
        }
        if found.status != "paid" {
            return Err(DeliveryError::PaymentNotCompleted(found.status));
        }
        let verification = if found.amount == r.payment.amount.minor_units() {
            Verification::Paid {
                imp_uid: imp_uid.to_owned(),
            }
        } else {
            Verification::Forged {
                imp_uid: imp_uid.to_owned(),
            }
        };
        let stored = self
            .repo
            .record_verification(r.id, &verification, self.clock.now())
            .await?;
        if let (Some(_), Verification::Forged { .. }) = (&stored, &verification) {
            tracing::warn!(target: "security", request_id = r.id, imp_uid,
                paid = found.amount, asked = r.payment.amount.minor_units(),
                "forged shipping-fee payment: the amount paid at PortOne is not the fee");
            self.cancel_forgery(r.id, imp_uid).await?;
        }
        self.detail(Some(partner_id), requester, id).await
    }

    async fn cancel_forgery(&self, id: i64, imp_uid: &str) -> Result<(), DeliveryError> {
        let payment = self
            .payments
            .find(imp_uid)
            .await
            .map_err(unavailable)?
            .ok_or(DeliveryError::GatewayPaymentNotFound)?;
        let remaining = payment.amount - payment.cancelled;
        if remaining > 0 {
            if let Err(e) = self
                .payments
                .cancel(imp_uid, remaining, "결제 금액 위변조")
                .await
            {
                tracing::error!(request_id = id, imp_uid, error = %e,
                    "the forged payment could not be cancelled at PortOne; verifying again retries");
                return Ok(());
            }
        }
        self.repo.forgery_cancelled(id, self.clock.now()).await?;
        Ok(())
    }

    /// Refunds the paid fee of an unshipped request of the member's (the vouchers become available).
    pub async fn refund(
        &self,
        partner_id: PartnerId,
        requester: MemberId,
        id: i64,
    ) -> Result<DeliveryRequestDetail, DeliveryError> {
        let d = self.detail(Some(partner_id), Some(requester), id).await?;
        let r = &d.request;
        if r.shipping == ShippingState::Shipped {
            return Err(DeliveryError::ShippedCannotRefund);
        }
        let from = match r.payment.state {
            FeePaymentState::Paid | FeePaymentState::Refunding => r.payment.state,
            _ => return Err(DeliveryError::NothingToRefund),
        };
        let now = self.clock.now();
        // Claim it first: an approval cannot slip in between the refund and its record.
        if self
            .repo
            .move_payment(r.id, from, FeePaymentState::Refunding, now)
            .await?
            .is_none()
        {
            return Box::pin(self.refund(partner_id, requester, id)).await;
        }
        let imp_uid = r.payment.imp_uid.clone().unwrap_or_default();
        let outcome = match from {
            // A refund whose outcome was unknown: PortOne's record tells.
            FeePaymentState::Refunding => self.payments.find(&imp_uid).await.and_then(|p| {
                p.ok_or_else(|| FeePaymentError::Refused("결제 정보를 찾지 못했어요.".into()))
            }),
            _ => {
                self.payments
                    .cancel(&imp_uid, r.payment.amount.minor_units(), "배송 요청 취소")
                    .await
            }
        };
        let to = match &outcome {
            Ok(p) if p.cancelled >= p.amount => FeePaymentState::Refunded,
            Err(FeePaymentError::Unavailable(_)) => FeePaymentState::Refunding,
            _ => FeePaymentState::Paid,
        };
        self.repo
            .move_payment(r.id, FeePaymentState::Refunding, to, self.clock.now())
            .await?;
        match outcome {
            Err(FeePaymentError::Unavailable(e)) => Err(DeliveryError::Unavailable(e)),
            Err(FeePaymentError::Refused(m)) => Err(DeliveryError::RefundRefused(m)),
            Ok(_) if to == FeePaymentState::Paid => Err(DeliveryError::RefundRefused(
                "환불되지 않은 결제예요.".into(),
            )),
            Ok(_) => self.detail(Some(partner_id), Some(requester), id).await,
        }
    }

    /// The operator shipped the request (발송 완료): its vouchers become `shipped`.
    pub async fn approve(&self, id: i64) -> Result<DeliveryRequestDetail, DeliveryError> {
        let d = self.detail(None, None, id).await?;
        if d.request.shipping == ShippingState::Shipped {
            return Err(DeliveryError::AlreadyShipped);
        }
        if d.request.payment.state != FeePaymentState::Paid {
            return Err(DeliveryError::NotPaid);
        }
        if self.repo.ship(id, self.clock.now()).await?.is_none() {
            return Box::pin(self.approve(id)).await;
        }
        self.detail(None, None, id).await
    }

    /// PortOne's webhook: looks the payment up again for the request paid under `merchant_uid`.
    /// Never trusts the webhook's `status`. `false` when no delivery request has that
    /// `merchant_uid` (the payment may be a trade's).
    pub async fn webhook(&self, imp_uid: &str, merchant_uid: &str) -> Result<bool, DeliveryError> {
        let Some(r) = self.repo.request_by_merchant_uid(merchant_uid).await? else {
            return Ok(false);
        };
        match self
            .verify(r.partner_id, Verifier::Webhook, r.id, imp_uid)
            .await
        {
            Ok(_)
            | Err(DeliveryError::PaymentNotCompleted(_))
            | Err(DeliveryError::GatewayPaymentNotFound)
            | Err(DeliveryError::PaymentOfAnotherOrder) => Ok(true),
            Err(e) => Err(e),
        }
    }
}

fn unavailable(e: FeePaymentError) -> DeliveryError {
    match e {
        FeePaymentError::Unavailable(m) | FeePaymentError::Refused(m) => {
            DeliveryError::Unavailable(m)
        }
    }
}

/// A fresh `merchant_uid` body: unique, opaque, safe in PortOne's field.
fn uuid_like(now: time::OffsetDateTime) -> String {
    format!("{}{}", now.unix_timestamp(), uuid::Uuid::new_v4().simple())
}
