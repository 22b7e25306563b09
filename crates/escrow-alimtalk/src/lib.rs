//! # escrow-alimtalk
//!
//! AlimTalk (알림톡) over NHN Cloud KakaoTalk Bizmessage v2.3: [`AlimTalkClient`] implements the
//! domain's [`AlimTalkSender`]. `POST /alimtalk/v2.3/appkeys/{appkey}/messages` with `X-Secret-Key`,
//! body `{senderKey, templateCode, recipientList:[{recipientNo, templateParameter, resendParameter?,
//! recipientGroupingKey}]}`, result in `header.isSuccessful/resultCode` and
//! `message.sendResults[].resultCode`. Transport errors and 5xx are transient (retried by the outbox
//! with the same `X-NC-API-IDEMPOTENCY-KEY`, so the provider sends once); a refused template or sender
//! is permanent. The templates themselves are the domain's table (`escrow_domain::notification`).
//!
//! `simulator` (feature `simulator`) is a local provider that records what it receives and can fail, hang or reject a
//! template (`cargo run -p escrow-alimtalk --bin alimtalk-sim -- --help`).

#[cfg(feature = "simulator")]
pub mod simulator;

use std::time::Duration;

use async_trait::async_trait;
use escrow_domain::delivery::{AlimTalkMessage, AlimTalkSender, DeliveryError};
use escrow_domain::notification::AlimTalkTemplate;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// SMS/LMS fallback when KakaoTalk cannot deliver (optional).
#[derive(Debug, Clone, Deserialize)]
pub struct Fallback {
    /// `SMS` or `LMS`.
    pub resend_type: String,
    /// The registered sender number.
    pub send_no: String,
}

/// Where the provider is and the account's keys. `Debug` hides the secret.
#[derive(Clone)]
pub struct AlimTalkConfig {
    /// Base URL (`https://api-alimtalk.cloud.toast.com`).
    pub base_url: String,
    /// The app key.
    pub app_key: String,
    /// `X-Secret-Key`.
    pub secret_key: SecretString,
    /// The KakaoTalk channel's sender key.
    pub sender_key: String,
    /// Fallback to SMS/LMS.
    pub fallback: Option<Fallback>,
    /// Request timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for AlimTalkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlimTalkConfig")
            .field("base_url", &self.base_url)
            .field("app_key", &self.app_key)
            .field("sender_key", &self.sender_key)
            .finish_non_exhaustive()
    }
}

/// The request body (v2.3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The channel.
    pub sender_key: String,
    /// The template.
    pub template_code: String,
    /// Recipients.
    pub recipient_list: Vec<Recipient>,
}

/// One recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// Phone number.
    pub recipient_no: String,
    /// Template variables.
    pub template_parameter: std::collections::BTreeMap<String, String>,
    /// SMS/LMS fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resend_parameter: Option<serde_json::Value>,
    /// Groups messages (the trade).
    pub recipient_grouping_key: String,
}

/// The response body (v2.3), as much as the client reads.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// Outcome of the request.
    pub header: ResponseHeader,
    /// Per-recipient results.
    #[serde(default)]
    pub message: Option<ResponseMessage>,
}

/// `header`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseHeader {
    /// 0 on success.
    pub result_code: i64,
    /// Text.
    pub result_message: String,
    /// Whether the request was accepted.
    pub is_successful: bool,
}

/// `message`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseMessage {
    /// The provider's request id.
    #[serde(default)]
    pub request_id: String,
    /// Per recipient.
    #[serde(default)]
    pub send_results: Vec<SendResult>,
}

/// One recipient's result.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    /// Phone number.
    #[serde(default)]
    pub recipient_no: String,
    /// 0 on success.
    pub result_code: i64,
    /// Text.
    #[serde(default)]
    pub result_message: String,
}

/// The NHN Cloud AlimTalk client.
#[derive(Clone)]
pub struct AlimTalkClient {
    config: AlimTalkConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for AlimTalkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlimTalkClient")
            .field("config", &self.config)
            .finish()
    }
}

impl AlimTalkClient {
    /// A client with pooled connections.
    pub fn new(config: AlimTalkConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(AlimTalkClient { config, http })
    }
}

/// The template code registered with the provider for each notice (seed 002), used unless the
/// partner has its own code for it.
pub fn default_template_code(template: AlimTalkTemplate) -> &'static str {
    match template {
        AlimTalkTemplate::BuyerDepositAccount => "ESCROW_B_DEPOSIT_ACCOUNT",
        AlimTalkTemplate::BuyerDepositClosing => "ESCROW_B_DEPOSIT_CLOSING",
        AlimTalkTemplate::SellerShipmentRequest => "ESCROW_S_SHIP_REQUEST",
        AlimTalkTemplate::BuyerShipmentNotice => "ESCROW_B_SHIPPED",
        AlimTalkTemplate::SellerPurchaseApproved => "ESCROW_S_APPROVED",
        AlimTalkTemplate::SellerReturnAgreementRequest => "ESCROW_S_RETURN_REQUEST",
        AlimTalkTemplate::BuyerReturnShipmentRequest => "ESCROW_B_RETURN_SHIP_REQUEST",
        AlimTalkTemplate::SellerReturnShipmentStarted => "ESCROW_S_RETURN_SHIPPED",
        AlimTalkTemplate::BuyerReturnCompleted => "ESCROW_B_RETURN_DONE",
        AlimTalkTemplate::SellerCancelRequest => "ESCROW_S_CANCEL_REQUEST",
        AlimTalkTemplate::BuyerCancelAgreed => "ESCROW_B_CANCEL_AGREED",
        AlimTalkTemplate::BuyerSaleCancelled => "ESCROW_B_SALE_CANCELLED",
        AlimTalkTemplate::SellerShippingInfoCorrection => "ESCROW_S_FIX_SHIPPING",
        AlimTalkTemplate::BuyerApprovalReminder => "ESCROW_B_APPROVAL_REMINDER",
        AlimTalkTemplate::BuyerApprovalRequest => "ESCROW_B_APPROVAL_REQUEST",
        AlimTalkTemplate::BuyerApprovalRequestDelivered => "ESCROW_B_APPROVAL_REQUEST_DELIVERED",
    }
}

#[async_trait]
impl AlimTalkSender for AlimTalkClient {
    async fn send(&self, m: &AlimTalkMessage) -> Result<(), DeliveryError> {
        let template_code = m
            .partner_template_code
            .clone()
            .unwrap_or_else(|| default_template_code(m.template).to_owned());
        let url = format!(
            "{}/alimtalk/v2.3/appkeys/{}/messages",
            self.config.base_url.trim_end_matches('/'),
            self.config.app_key
        );
        let resend = self.config.fallback.as_ref().map(|f| {
            serde_json::json!({ "isResend": true, "resendType": f.resend_type, "resendSendNo": f.send_no })
        });
        let body = SendRequest {
            sender_key: self.config.sender_key.clone(),
            template_code: template_code.clone(),
            recipient_list: vec![Recipient {
                recipient_no: m.recipient.expose().to_owned(),
                template_parameter: m.variables.clone(),
                resend_parameter: resend,
                recipient_grouping_key: m.grouping_key.clone(),
            }],
        };
        let response = self
            .http
            .post(url)
            .header("X-Secret-Key", self.config.secret_key.expose_secret())
            .header("X-NC-API-IDEMPOTENCY-KEY", &m.idempotency_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                DeliveryError::Transient(if e.is_timeout() {
                    "timeout".into()
                } else {
                    "connection failed".into()
                })
            })?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(DeliveryError::Transient(format!("HTTP {status}")));
        }
        let parsed: SendResponse = response
            .json()
            .await
            .map_err(|_| DeliveryError::Transient(format!("unreadable answer (HTTP {status})")))?;
        if !parsed.header.is_successful {
            return Err(DeliveryError::Permanent(format!(
                "refused {}: {}",
                parsed.header.result_code, parsed.header.result_message
            )));
        }
        match parsed
            .message
            .as_ref()
            .and_then(|m| m.send_results.iter().find(|r| r.result_code != 0))
        {
            Some(r) => Err(DeliveryError::Permanent(format!(
                "recipient refused {}: {}",
                r.result_code, r.result_message
            ))),
            None => {
                tracing::info!(template = %template_code, key = %m.idempotency_key, "AlimTalk sent");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod template_code_tests {
    use super::*;

    #[test]
    fn every_notice_has_its_own_default_code() {
        let codes: std::collections::HashSet<_> = escrow_domain::notification::ALIMTALK_TEMPLATES
            .iter()
            .map(|s| default_template_code(s.template))
            .collect();
        assert_eq!(codes.len(), 16);
        assert_eq!(
            default_template_code(AlimTalkTemplate::BuyerShipmentNotice),
            "ESCROW_B_SHIPPED"
        );
    }
}
