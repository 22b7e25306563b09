//! PortOne as a [`PaymentGateway`] for trades (SPEC §13: "routable like any PG"): the buyer pays on
//! PortOne's page under our checkout id as `merchant_uid`, which is also the transaction id we keep
//! (PortOne's `imp_uid` exists only after the payment). The payment is looked up by it (`GET
//! /payments/find/{merchant_uid}`) and checked against the checkout like any PG's report; refunds
//! cancel its `imp_uid` with `checksum` = the payment amount (a trade's refund is always the whole
//! payment, so a second one is refused by PortOne too). A merchant is a REST key: its MID is the
//! `imp_key`, its one key `impSecret`; each gets its own client (and token).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use escrow_domain::money::Currency;
use escrow_domain::payment::{
    PaymentGateway, PaymentRequest, PaymentStart, PaymentStep, PgError, PgFailure, PgNotification,
    PgPaymentReport, PgPaymentStatus, RefundRequest,
};
use escrow_domain::payment_setup::Merchant;
use rust_decimal::Decimal;

use crate::wire::{CancelRequest, Webhook};
use crate::{is_uid, PortOneClient, PortOneConfig, PortOneError};

/// The key a PortOne merchant needs besides its MID (the REST API key).
pub const MERCHANT_KEYS: [&str; 1] = ["impSecret"];

/// Where PortOne is for trades.
#[derive(Debug, Clone)]
pub struct PortOneGatewayConfig {
    /// Its name in routing and URLs (`portone`).
    pub name: String,
    /// The REST API (`https://api.iamport.kr`).
    pub api_url: String,
    /// The page the buyer pays on (the simulator's `/pay`; in production a page running PortOne's
    /// browser SDK with the same query).
    pub pay_url: String,
    /// How long one call may take.
    pub timeout: Duration,
}

/// The gateway.
pub struct PortOneGateway {
    config: PortOneGatewayConfig,
    clients: Mutex<HashMap<String, Arc<PortOneClient>>>,
}

impl std::fmt::Debug for PortOneGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortOneGateway")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn failed(e: PortOneError) -> PgError {
    match e {
        PortOneError::Refused { message, .. } => {
            PgError::failed(PgFailure::RejectedRequest, message)
        }
        other => PgError::failed(PgFailure::Unavailable, other.to_string()),
    }
}

impl PortOneGateway {
    /// A gateway.
    pub fn new(config: PortOneGatewayConfig) -> Self {
        PortOneGateway {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The merchant's client (one per REST key, so each keeps its own token).
    fn client(&self, merchant: &Merchant) -> Result<Arc<PortOneClient>, PgError> {
        let secret = merchant.keys.get(MERCHANT_KEYS[0]).ok_or_else(|| {
            PgError::failed(PgFailure::RejectedRequest, "the merchant has no impSecret")
        })?;
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&merchant.mid) {
            return Ok(c.clone());
        }
        let client = Arc::new(
            PortOneClient::new(PortOneConfig {
                api_url: self.config.api_url.clone(),
                imp_key: merchant.mid.clone(),
                imp_secret: secret.to_owned(),
                timeout: self.config.timeout,
            })
            .map_err(failed)?,
        );
        clients.insert(merchant.mid.clone(), client.clone());
        Ok(client)
    }
}

#[async_trait]
impl PaymentGateway for PortOneGateway {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn merchant_keys(&self) -> Vec<String> {
        MERCHANT_KEYS.iter().map(|k| (*k).to_owned()).collect()
    }

    fn reports_pending(&self) -> bool {
        true
    }

    async fn create_payment(
        &self,
        merchant: &Merchant,
        request: &PaymentRequest,
    ) -> Result<PaymentStart, PgError> {
        if request.amount.currency() != Currency::Krw {
            return Err(PgError::failed(
                PgFailure::CurrencyUnsupported,
                "PortOne takes KRW here",
            ));
        }
        self.client(merchant)?;
        let url = reqwest::Url::parse_with_params(
            &self.config.pay_url,
            &[
                ("merchant_uid", request.checkout_id.to_string()),
                ("amount", request.amount.minor_units().to_string()),
                ("name", request.order_name.clone()),
                ("m_redirect_url", request.return_url.clone()),
            ],
        )
        .map_err(|e| PgError::failed(PgFailure::RejectedRequest, e.to_string()))?;
        Ok(PaymentStart {
            transaction_id: request.checkout_id.to_string(),
            next: PaymentStep::Redirect { url: url.into() },
        })
    }

    fn parse_notification(&self, body: &[u8]) -> Result<PgNotification, PgError> {
        let hook: Webhook = serde_json::from_slice(body)
            .map_err(|e| PgError::failed(PgFailure::RejectedRequest, e.to_string()))?;
        if !is_uid(&hook.imp_uid) {
            return Err(PgError::failed(PgFailure::RejectedRequest, "imp_uid"));
        }
        if !is_uid(&hook.merchant_uid) {
            return Err(PgError::failed(PgFailure::RejectedRequest, "merchant_uid"));
        }
        Ok(PgNotification {
            transaction_id: hook.merchant_uid,
        })
    }

    async fn payment_status(
        &self,
        merchant: &Merchant,
        transaction_id: &str,
    ) -> Result<PgPaymentReport, PgError> {
        let payment = self
            .client(merchant)?
            .payment_by_merchant_uid(transaction_id)
            .await
            .map_err(failed)?
            .ok_or_else(|| {
                PgError::failed(PgFailure::RejectedRequest, "PortOne has no such payment")
            })?;
        let status = match payment.status.as_str() {
            "paid" => PgPaymentStatus::Confirmed,
            "ready" => PgPaymentStatus::Pending,
            _ => PgPaymentStatus::Failed,
        };
        let amount = Decimal::from(payment.amount);
        Ok(PgPaymentReport {
            transaction_id: transaction_id.to_owned(),
            order_id: payment.merchant_uid,
            store_id: merchant.mid.clone(),
            status,
            order_amount: amount,
            pay_amount: amount,
            discount_amount: Decimal::ZERO,
            pay_currency: payment.currency.clone(),
            order_currency: payment.currency,
        })
    }

    async fn refund(&self, merchant: &Merchant, request: &RefundRequest) -> Result<(), PgError> {
        let amount = request.amount.minor_units();
        let client = self.client(merchant)?;
        let payment = client
            .payment_by_merchant_uid(&request.transaction_id)
            .await
            .map_err(failed)?
            .ok_or_else(|| {
                PgError::failed(PgFailure::RejectedRequest, "PortOne has no such payment")
            })?;
        client
            .cancel(&CancelRequest {
                imp_uid: payment.imp_uid,
                amount: Some(amount),
                checksum: amount,
                reason: "안전거래 환불".into(),
            })
            .await
            .map_err(failed)?;
        Ok(())
    }
}
