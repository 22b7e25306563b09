//! # escrow-callbacks
//!
//! Partner callbacks (SPEC §9): [`HttpCallbackSender`] posts a signed body to the partner's webhook URL
//! (any 2xx is delivered; anything else, a timeout or no connection is retried by the outbox worker);
//! [`verify`] is the receiver's side, the few lines a partner copies.

use std::time::Duration;

use async_trait::async_trait;
use escrow_domain::delivery::{CallbackSender, DeliveryError};

/// Posts callbacks over HTTP.
#[derive(Debug, Clone)]
pub struct HttpCallbackSender {
    http: reqwest::Client,
}

impl HttpCallbackSender {
    /// A sender whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        Ok(HttpCallbackSender {
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|e| e.to_string())?,
        })
    }
}

#[async_trait]
impl CallbackSender for HttpCallbackSender {
    async fn post(&self, url: &str, body: &[u8], secrets: &[Vec<u8>]) -> Result<(), DeliveryError> {
        // The signature's `t` is the real time of sending (SPEC §16), whatever clock the jobs run on.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let keys: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let signature = escrow_signature::callback_signature_header(&keys, now, body);
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Escrow-Signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| {
                DeliveryError::Transient(if e.is_timeout() {
                    "timeout".into()
                } else {
                    "connection failed".into()
                })
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Transient(format!(
                "HTTP {}",
                response.status()
            )))
        }
    }
}

/// The receiver's check: the `X-Escrow-Signature` header of a callback, its raw body, your webhook
/// secret, now (unix seconds). Accepts a timestamp within 5 minutes and any matching `v1`.
///
/// ```
/// let body = br#"{"eventId":"e1"}"#;
/// let header = escrow_signature::callback_signature_header(&[b"whsec"], 1_000, body);
/// assert!(escrow_callbacks::verify(&header, body, "whsec", 1_010).is_ok());
/// assert!(escrow_callbacks::verify(&header, b"{}", "whsec", 1_010).is_err());
/// ```
pub fn verify(
    header: &str,
    body: &[u8],
    webhook_secret: &str,
    now_unix: i64,
) -> Result<(), escrow_signature::SignatureError> {
    escrow_signature::verify_callback_signature(
        header,
        body,
        webhook_secret.as_bytes(),
        now_unix,
        300,
    )
}
