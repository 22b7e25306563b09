//! PortOne as the domain's [`FeePayments`]: the delivery requests' shipping fees are looked up and
//! cancelled through the V1 REST client.

use async_trait::async_trait;
use escrow_domain::custody::{FeePaymentError, FeePayments, GatewayPayment};

use crate::wire::{CancelRequest, Payment};
use crate::{PortOneClient, PortOneError};

fn gateway_payment(p: Payment) -> GatewayPayment {
    GatewayPayment {
        imp_uid: p.imp_uid,
        merchant_uid: p.merchant_uid,
        amount: p.amount,
        cancelled: p.cancel_amount,
        status: p.status,
    }
}

fn fee_error(e: PortOneError) -> FeePaymentError {
    match e {
        PortOneError::Refused { message, .. } => FeePaymentError::Refused(message),
        other => FeePaymentError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl FeePayments for PortOneClient {
    async fn find(&self, imp_uid: &str) -> Result<Option<GatewayPayment>, FeePaymentError> {
        Ok(self
            .payment(imp_uid)
            .await
            .map_err(fee_error)?
            .map(gateway_payment))
    }

    async fn cancel(
        &self,
        imp_uid: &str,
        checksum: i64,
        reason: &str,
    ) -> Result<GatewayPayment, FeePaymentError> {
        let request = CancelRequest {
            imp_uid: imp_uid.to_owned(),
            amount: None,
            checksum,
            reason: reason.to_owned(),
        };
        PortOneClient::cancel(self, &request)
            .await
            .map(gateway_payment)
            .map_err(fee_error)
    }
}
