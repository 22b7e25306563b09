//! The PortOne V1 REST client: an access token from `POST /users/getToken`, kept until shortly
//! before its `expired_at` (and fetched again once when PortOne answers 401 anyway), payment
//! lookups, cancels with `checksum`, and certifications.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::wire::{CancelRequest, Certification, Envelope, Payment, TokenAnswer, TokenRequest};

/// How long before PortOne's `expired_at` a cached token is dropped.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where and who we are at PortOne.
#[derive(Clone)]
pub struct PortOneConfig {
    /// `https://api.iamport.kr` (or a simulator).
    pub api_url: String,
    /// The REST API key.
    pub imp_key: String,
    /// The REST API secret.
    pub imp_secret: String,
    /// How long one call may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for PortOneConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortOneConfig")
            .field("api_url", &self.api_url)
            .field("imp_key", &self.imp_key)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortOneError {
    /// PortOne could not be reached, timed out or failed (5xx): the outcome is unknown.
    #[error("PortOne unreachable: {0}")]
    Unreachable(String),
    /// PortOne refused (a non-zero `code`), with its message.
    #[error("PortOne refused ({code}): {message}")]
    Refused {
        /// PortOne's code.
        code: i64,
        /// PortOne's Korean message.
        message: String,
    },
    /// PortOne refused our key and secret.
    #[error("PortOne refused the API key")]
    Unauthorized,
}

struct CachedToken {
    token: String,
    good_until: Instant,
}

/// The client (one per merchant key; cheap to share).
pub struct PortOneClient {
    config: PortOneConfig,
    http: reqwest::Client,
    token: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for PortOneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortOneClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn unreachable(e: impl std::fmt::Display) -> PortOneError {
    PortOneError::Unreachable(e.to_string())
}

impl PortOneClient {
    /// A client.
    pub fn new(config: PortOneConfig) -> Result<Self, PortOneError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(unreachable)?;
        Ok(PortOneClient {
            config,
            http,
            token: Mutex::new(None),
        })
    }

    /// The configuration (never shows the secret).
    pub fn config(&self) -> &PortOneConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_url.trim_end_matches('/'))
    }

    /// A valid access token: the cached one, or a new one.
    async fn access_token(&self, fresh: bool) -> Result<String, PortOneError> {
        let mut cached = self.token.lock().await;
        if !fresh {
            if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.good_until) {
                return Ok(t.token.clone());
            }
        }
        let r = self
            .http
            .post(self.url("/users/getToken"))
            .json(&TokenRequest {
                imp_key: self.config.imp_key.clone(),
                imp_secret: self.config.imp_secret.clone(),
            })
            .send()
            .await
            .map_err(unreachable)?;
        if r.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(PortOneError::Unauthorized);
        }
        let answer: TokenAnswer = read(r).await?;
        let lifetime = u64::try_from(answer.expired_at - answer.now).unwrap_or(0);
        let usable = Duration::from_secs(lifetime).saturating_sub(TOKEN_MARGIN);
        *cached = (!usable.is_zero()).then(|| CachedToken {
            token: answer.access_token.clone(),
            good_until: Instant::now() + usable,
        });
        tracing::debug!(cached = cached.is_some(), "PortOne access token issued");
        Ok(answer.access_token)
    }

    /// One authorised call; on 401 (a token PortOne no longer takes) a new token and one retry.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&dyn erased::Body>,
    ) -> Result<Option<T>, PortOneError> {
        for fresh in [false, true] {
            let token = self.access_token(fresh).await?;
            let mut request = self
                .http
                .request(method.clone(), self.url(path))
                .header("Authorization", token);
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(body.json());
            }
            let r = request.send().await.map_err(unreachable)?;
            match r.status() {
                reqwest::StatusCode::UNAUTHORIZED if !fresh => continue,
                reqwest::StatusCode::UNAUTHORIZED => return Err(PortOneError::Unauthorized),
                reqwest::StatusCode::NOT_FOUND => return Ok(None),
                _ => return read(r).await.map(Some),
            }
        }
        Err(PortOneError::Unauthorized)
    }

    /// `GET /payments/{imp_uid}`; `None` when PortOne has no such payment.
    pub async fn payment(&self, imp_uid: &str) -> Result<Option<Payment>, PortOneError> {
        if !is_uid(imp_uid) {
            return Ok(None);
        }
        self.call(reqwest::Method::GET, &format!("/payments/{imp_uid}"), None)
            .await
    }

    /// `GET /payments/find/{merchant_uid}`: the order's payment; `None` when there is none.
    pub async fn payment_by_merchant_uid(
        &self,
        merchant_uid: &str,
    ) -> Result<Option<Payment>, PortOneError> {
        if !is_uid(merchant_uid) {
            return Ok(None);
        }
        self.call(
            reqwest::Method::GET,
            &format!("/payments/find/{merchant_uid}"),
            None,
        )
        .await
    }

    /// `POST /payments/cancel`; the payment as it is after the cancel.
    pub async fn cancel(&self, request: &CancelRequest) -> Result<Payment, PortOneError> {
        self.call(reqwest::Method::POST, "/payments/cancel", Some(request))
            .await?
            .ok_or_else(|| PortOneError::Refused {
                code: 1,
                message: "취소할 결제건이 존재하지 않습니다.".into(),
            })
    }

    /// `GET /certifications/{imp_uid}`; `None` when PortOne has no such verification.
    pub async fn certification(
        &self,
        imp_uid: &str,
    ) -> Result<Option<Certification>, PortOneError> {
        if !is_uid(imp_uid) {
            return Ok(None);
        }
        self.call(
            reqwest::Method::GET,
            &format!("/certifications/{imp_uid}"),
            None,
        )
        .await
    }
}

/// PortOne's ids (`imp_123456789012`): anything else cannot be one and is not sent.
pub fn is_uid(raw: &str) -> bool {
    escrow_domain::payment::is_gateway_reference(raw)
}

/// Reads an envelope: the response when `code` is 0, a refusal otherwise; 5xx and bodies that are
/// not an envelope are "unreachable" (the outcome is unknown).
async fn read<T: DeserializeOwned>(r: reqwest::Response) -> Result<T, PortOneError> {
    let status = r.status();
    if status.is_server_error() {
        return Err(PortOneError::Unreachable(format!("HTTP {status}")));
    }
    let envelope: Envelope<T> = r
        .json()
        .await
        .map_err(|e| unreachable(format!("HTTP {status}, unreadable answer: {e}")))?;
    match (envelope.code, envelope.response) {
        (0, Some(response)) => Ok(response),
        (code, _) => Err(PortOneError::Refused {
            code: if code == 0 { 1 } else { code },
            message: envelope.message.unwrap_or_default(),
        }),
    }
}

/// Request bodies, type-erased to JSON so `call` needs no generic body parameter.
mod erased {
    /// A body to send as JSON.
    pub trait Body: Send + Sync {
        /// Its JSON.
        fn json(&self) -> Vec<u8>;
    }

    impl<T: super::Serialize + Send + Sync> Body for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}
