//! # escrow-accountcheck
//!
//! The holder-name lookup (예금주 조회) of a bank account through the account-verification MID (SPEC §12,
//! §15): [`InicisAccountVerifier`] implements the domain's `AccountVerifier` port.
//!
//! The request uses the INIAPI v2 envelope SPEC §12 gives for refunds: JSON `{mid, type, timestamp
//! (YYYYMMDDhhmmss), clientIp, data, hashData}` with `hashData = hex(SHA-512(apiKey + mid + type +
//! timestamp + json(data)))`. SPEC does not give the holder lookup's own path, `type` or fields; this
//! adapter assumes `POST /v2/pg/account/holder`, `type = "AccountHolder"`, `data = {bankCode,
//! accountNumber}` and the answer `{resultCode, resultMsg, data: {holderName}}` (`"00"` found, `"81"` no
//! such account). Check them against Inicis' specification before going live; the simulator
//! ([`simulator`], feature `simulator`) speaks exactly this and checks `hashData`.

#[cfg(feature = "simulator")]
pub mod simulator;

use async_trait::async_trait;
use escrow_domain::payout_account::{AccountVerifier, VerifierError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

/// The request type of the holder lookup.
pub const LOOKUP_TYPE: &str = "AccountHolder";
/// The path of the holder lookup.
pub const LOOKUP_PATH: &str = "/v2/pg/account/holder";
/// The answer for a found account.
pub const FOUND: &str = "00";
/// The answer for an account the bank does not have.
pub const NO_SUCH_ACCOUNT: &str = "81";

/// `data` of a lookup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LookupData {
    /// The bank code.
    pub bank_code: String,
    /// The account number, digits only.
    pub account_number: String,
}

/// A lookup request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LookupRequest {
    /// The account-verification MID.
    pub mid: String,
    /// [`LOOKUP_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// `YYYYMMDDhhmmss`.
    pub timestamp: String,
    /// The caller's address.
    pub client_ip: String,
    /// What to look up.
    pub data: LookupData,
    /// [`hash_data`].
    pub hash_data: String,
}

/// The answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LookupAnswer {
    /// [`FOUND`], [`NO_SUCH_ACCOUNT`] or another code (a refusal).
    pub result_code: String,
    /// The message.
    #[serde(default)]
    pub result_msg: String,
    /// The holder, when found.
    #[serde(default)]
    pub data: Option<HolderData>,
}

/// `data` of a found account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HolderData {
    /// The holder's name.
    pub holder_name: String,
}

/// `hex(SHA-512(api_key + mid + type + timestamp + json(data)))`.
pub fn hash_data(
    api_key: &str,
    mid: &str,
    kind: &str,
    timestamp: &str,
    data: &LookupData,
) -> String {
    let json = serde_json::to_string(data).unwrap_or_default();
    hex::encode(Sha512::digest(
        format!("{api_key}{mid}{kind}{timestamp}{json}").as_bytes(),
    ))
}

/// The client.
pub struct InicisAccountVerifier {
    http: reqwest::Client,
    base_url: String,
    mid: String,
    api_key: SecretString,
}

impl std::fmt::Debug for InicisAccountVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InicisAccountVerifier")
            .field("base_url", &self.base_url)
            .field("mid", &self.mid)
            .finish_non_exhaustive()
    }
}

impl InicisAccountVerifier {
    /// A client of the service at `base_url` (`https://iniapi.inicis.com`), with the
    /// account-verification MID and its INIAPI key; requests time out after 10 seconds.
    pub fn new(base_url: &str, mid: &str, api_key: SecretString) -> Result<Self, VerifierError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| VerifierError::Refused(e.to_string()))?;
        Ok(InicisAccountVerifier {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            mid: mid.to_owned(),
            api_key,
        })
    }
}

/// Now in Asia/Seoul as `YYYYMMDDhhmmss`.
fn seoul_timestamp() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+9));
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[async_trait]
impl AccountVerifier for InicisAccountVerifier {
    async fn holder_of(
        &self,
        bank_code: &str,
        number: &str,
    ) -> Result<Option<String>, VerifierError> {
        let timestamp = seoul_timestamp();
        let data = LookupData {
            bank_code: bank_code.to_owned(),
            account_number: number.to_owned(),
        };
        let request = LookupRequest {
            mid: self.mid.clone(),
            kind: LOOKUP_TYPE.to_owned(),
            hash_data: hash_data(
                self.api_key.expose_secret(),
                &self.mid,
                LOOKUP_TYPE,
                &timestamp,
                &data,
            ),
            timestamp,
            client_ip: "127.0.0.1".to_owned(),
            data,
        };
        let response = self
            .http
            .post(format!("{}{LOOKUP_PATH}", self.base_url))
            .json(&request)
            .send()
            .await
            .map_err(|e| VerifierError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(VerifierError::Unavailable(format!("HTTP {status}")));
        }
        let answer: LookupAnswer = response
            .json()
            .await
            .map_err(|e| VerifierError::Unavailable(format!("HTTP {status}: {e}")))?;
        match answer.result_code.as_str() {
            FOUND => answer
                .data
                .map(|d| Some(d.holder_name))
                .ok_or_else(|| VerifierError::Refused("found, but no holder name".into())),
            NO_SUCH_ACCOUNT => Ok(None),
            code => Err(VerifierError::Refused(format!(
                "{code}: {}",
                answer.result_msg
            ))),
        }
    }
}
