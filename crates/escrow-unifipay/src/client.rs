//! The Unifi Pay client: signs each request over the exact bytes sent and maps every answer to the
//! domain's PG outcomes.

use async_trait::async_trait;
use escrow_domain::payment::{
    minor_to_major, PaymentGateway, PaymentRequest, PaymentStart, PaymentStep, PgError, PgFailure,
    PgNotification, PgPaymentReport, PgPaymentStatus, RefundRequest,
};
use escrow_domain::payment_setup::Merchant;
use escrow_signature::{request_signature, RequestParts};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::config::UnifiPayConfig;
use crate::wire::{CallbackBody, CreatePaymentBody, CreatePaymentResponse, PaymentStatusResponse};

/// A client for one Unifi Pay merchant account. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct UnifiPayClient {
    config: UnifiPayConfig,
    http: reqwest::Client,
    base: reqwest::Url,
}

impl std::fmt::Debug for UnifiPayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnifiPayClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// The base URL does not parse.
    #[error("invalid Unifi Pay base URL: {0}")]
    BaseUrl(String),
    /// The HTTP client could not be made.
    #[error("HTTP client: {0}")]
    Http(String),
}

/// A transaction id as Unifi Pay issues them; anything else never reaches a URL.
fn valid_transaction_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn now_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

impl UnifiPayClient {
    /// A client with a pooled connection and the configured timeouts.
    pub fn new(config: UnifiPayConfig) -> Result<Self, ClientBuildError> {
        let base = reqwest::Url::parse(&config.base_url)
            .map_err(|e| ClientBuildError::BaseUrl(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .timeout(config.request_timeout())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| ClientBuildError::Http(e.to_string()))?;
        Ok(UnifiPayClient { config, http, base })
    }

    /// The configuration (secrets redacted in `Debug`).
    pub fn config(&self) -> &UnifiPayConfig {
        &self.config
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, PgError> {
        self.base
            .join(path)
            .map_err(|e| PgError::failed(PgFailure::RejectedRequest, format!("bad URL: {e}")))
    }

    /// Sends one signed request and returns the status and body bytes.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Vec<u8>), PgError> {
        let url = self.url(path)?;
        let timestamp = now_ms().to_string();
        let api_key = self.config.api_key.expose_secret();
        let signature = request_signature(
            self.config.app_secret.expose_secret().as_bytes(),
            &RequestParts {
                method: method.as_str(),
                uri: url.path(),
                api_key,
                timestamp: &timestamp,
                body: &body,
            },
        );
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header("X-AppId", &self.config.app_id)
            .header("X-Api-Key", api_key)
            .header("X-Timestamp", &timestamp)
            .header("X-Authorization-Hmac", signature);
        if method == Method::POST {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "transport error"
            };
            tracing::warn!(
                gateway = %self.config.name,
                path = url.path(),
                kind,
                "Unifi Pay unreachable"
            );
            PgError::failed(PgFailure::Unavailable, kind)
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| {
            let kind = if e.is_timeout() {
                "timeout"
            } else {
                "body read failed"
            };
            PgError::failed(PgFailure::Unavailable, kind)
        })?;
        if status.is_server_error() {
            tracing::warn!(gateway = %self.config.name, path = url.path(), %status, "Unifi Pay server error");
            return Err(PgError::failed(
                PgFailure::Unavailable,
                format!("HTTP {status}"),
            ));
        }
        if !status.is_success() {
            let reason = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            tracing::warn!(gateway = %self.config.name, path = url.path(), %status, %reason, "Unifi Pay refused the request");
            return Err(PgError::failed(
                PgFailure::RejectedRequest,
                format!("HTTP {status}: {reason}"),
            ));
        }
        Ok((status, bytes.to_vec()))
    }
}

fn unreadable(what: &str) -> PgError {
    PgError::failed(
        PgFailure::Unavailable,
        format!("unreadable {what} from Unifi Pay"),
    )
}

#[async_trait]
impl PaymentGateway for UnifiPayClient {
    fn name(&self) -> &str {
        &self.config.name
    }

    async fn create_payment(
        &self,
        merchant: &Merchant,
        request: &PaymentRequest,
    ) -> Result<PaymentStart, PgError> {
        if request.amount.currency() != self.config.currency {
            return Err(PgError::failed(
                PgFailure::CurrencyUnsupported,
                format!(
                    "the merchant account takes {}, not {}",
                    self.config.currency,
                    request.amount.currency()
                ),
            ));
        }
        let body = CreatePaymentBody {
            order_id: request.checkout_id.to_string(),
            store_id: merchant.mid.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
            return_url: request.return_url.clone(),
            callback_url: request.callback_url.clone(),
            country_code: self.config.country_code.clone(),
            order_currency_code: self.config.currency.code().to_owned(),
            order_amount: minor_to_major(request.amount).to_string(),
        };
        let bytes = serde_json::to_vec(&body).map_err(|_| unreadable("request"))?;
        let (_, answer) = self.send(Method::POST, "/api/v1/payment", bytes).await?;
        let created: CreatePaymentResponse =
            serde_json::from_slice(&answer).map_err(|_| unreadable("payment creation answer"))?;
        if !valid_transaction_id(&created.transaction_id) {
            return Err(unreadable("transaction id"));
        }
        tracing::info!(
            gateway = %self.config.name,
            checkout_id = %request.checkout_id,
            transaction_id = %created.transaction_id,
            "payment created"
        );
        Ok(PaymentStart {
            transaction_id: created.transaction_id,
            next: PaymentStep::Redirect {
                url: created.start_page_url,
            },
        })
    }

    fn parse_notification(&self, body: &[u8]) -> Result<PgNotification, PgError> {
        let callback: CallbackBody = serde_json::from_slice(body).map_err(|_| {
            PgError::failed(PgFailure::RejectedRequest, "unreadable Unifi Pay callback")
        })?;
        if !valid_transaction_id(&callback.transaction_id) {
            return Err(PgError::failed(
                PgFailure::RejectedRequest,
                "malformed transaction id in Unifi Pay callback",
            ));
        }
        Ok(PgNotification {
            transaction_id: callback.transaction_id,
        })
    }

    async fn payment_status(
        &self,
        _merchant: &Merchant,
        transaction_id: &str,
    ) -> Result<PgPaymentReport, PgError> {
        if !valid_transaction_id(transaction_id) {
            return Err(PgError::failed(
                PgFailure::RejectedRequest,
                "malformed transaction id",
            ));
        }
        let path = format!("/api/v1/payment/{transaction_id}");
        let (_, answer) = self.send(Method::GET, &path, Vec::new()).await?;
        let r: PaymentStatusResponse =
            serde_json::from_slice(&answer).map_err(|_| unreadable("payment status"))?;
        let status = match r.status.as_str() {
            "CONFIRMED" => PgPaymentStatus::Confirmed,
            "FAILED" => PgPaymentStatus::Failed,
            _ => return Err(unreadable("payment status value")),
        };
        let order_amount: Decimal = r
            .order_amount
            .trim()
            .parse()
            .map_err(|_| unreadable("order amount"))?;
        tracing::info!(gateway = %self.config.name, transaction_id, status = %r.status, "payment status queried");
        Ok(PgPaymentReport {
            transaction_id: r.transaction_id,
            order_id: r.order_id,
            store_id: r.store_id,
            status,
            order_amount,
            pay_amount: r.pay_amount,
            discount_amount: r.discount_amount,
            pay_currency: r.pay_currency_code,
            order_currency: r.order_currency_code,
        })
    }

    async fn refund(&self, _merchant: &Merchant, _request: &RefundRequest) -> Result<(), PgError> {
        // Unifi Pay documents no refund call (seed 001): the refund goes to the manual refund queue.
        Err(PgError::RefundUnsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_that_could_change_the_url_are_refused() {
        assert!(valid_transaction_id("tx-1_A"));
        for bad in ["", "../admin", "a/b", "a?b", "a b", "%2e"] {
            assert!(!valid_transaction_id(bad), "{bad}");
        }
    }
}
