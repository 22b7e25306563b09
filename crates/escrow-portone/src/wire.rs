//! PortOne V1 REST bodies as PortOne writes them (snake_case), inside the `{code, message,
//! response}` envelope: `code` 0 is success, anything else is a refusal with a Korean `message`.

use serde::{Deserialize, Serialize};

/// Every answer's envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// 0 on success.
    pub code: i64,
    /// Why not, when `code` is not 0.
    pub message: Option<String>,
    /// The answer.
    pub response: Option<T>,
}

impl<T> Envelope<T> {
    /// A successful answer.
    pub fn ok(response: T) -> Self {
        Envelope {
            code: 0,
            message: None,
            response: Some(response),
        }
    }

    /// A refusal.
    pub fn refused(code: i64, message: impl Into<String>) -> Self {
        Envelope {
            code,
            message: Some(message.into()),
            response: None,
        }
    }
}

/// `POST /users/getToken`.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The REST API key.
    pub imp_key: String,
    /// The REST API secret.
    pub imp_secret: String,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("imp_key", &self.imp_key)
            .finish_non_exhaustive()
    }
}

/// The token answer.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// The access token (sent as `Authorization`).
    pub access_token: String,
    /// PortOne's clock (unix seconds).
    pub now: i64,
    /// When the token expires (unix seconds, PortOne's clock).
    pub expired_at: i64,
}

impl std::fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("now", &self.now)
            .field("expired_at", &self.expired_at)
            .finish_non_exhaustive()
    }
}

/// A payment (`GET /payments/{imp_uid}`, and the answer of a cancel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// PortOne's id.
    pub imp_uid: String,
    /// Ours.
    pub merchant_uid: String,
    /// What was paid (won).
    pub amount: i64,
    /// What has been cancelled so far (won).
    #[serde(default)]
    pub cancel_amount: i64,
    /// `ready`, `paid`, `cancelled`, `failed`.
    pub status: String,
    /// `card`, `trans`, `vbank`, …
    #[serde(default)]
    pub pay_method: String,
    /// `KRW`.
    #[serde(default)]
    pub currency: String,
    /// When it was paid (unix seconds; 0 when not).
    #[serde(default)]
    pub paid_at: i64,
    /// Why it failed, when it did.
    #[serde(default)]
    pub fail_reason: Option<String>,
}

/// `POST /payments/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// The payment.
    pub imp_uid: String,
    /// How much to cancel (won); absent: all that remains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// The refundable balance the caller believes remains: PortOne refuses the cancel when it is
    /// not the actual one (no double refund).
    pub checksum: i64,
    /// Why.
    pub reason: String,
}

/// `GET /certifications/{imp_uid}`: an identity verification (본인인증).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certification {
    /// PortOne's id.
    pub imp_uid: String,
    /// Ours, when given.
    #[serde(default)]
    pub merchant_uid: Option<String>,
    /// The person's name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birthday: String,
    /// Mobile phone (digits).
    pub phone: String,
    /// A foreign national.
    pub foreigner: bool,
    /// Whether the verification completed.
    pub certified: bool,
    /// The person's CI (the same for the same person everywhere).
    pub unique_key: String,
}

impl std::fmt::Debug for Certification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certification")
            .field("imp_uid", &self.imp_uid)
            .field("foreigner", &self.foreigner)
            .field("certified", &self.certified)
            .finish_non_exhaustive()
    }
}

/// The webhook PortOne posts (unsigned: only a hint to look the payment up again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The payment.
    pub imp_uid: String,
    /// Ours.
    pub merchant_uid: String,
    /// What PortOne says happened (`paid`, `cancelled`, …): never trusted.
    pub status: String,
}
