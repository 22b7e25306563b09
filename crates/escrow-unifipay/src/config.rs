//! The client's configuration: where Unifi Pay is and the merchant's credentials.

use std::time::Duration;

use escrow_domain::money::Currency;
use secrecy::SecretString;
use serde::Deserialize;

/// How to reach Unifi Pay. `Debug` shows no secret: the app secret is a [`SecretString`] and the API
/// key is redacted by hand.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct UnifiPayConfig {
    /// The gateway's name in routing and in its callback URL (`/pg/{name}/callback`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Base URL, e.g. `https://pay.example.com` (no trailing path needed).
    pub base_url: String,
    /// `X-AppId`.
    pub app_id: String,
    /// `X-Api-Key`.
    pub api_key: SecretString,
    /// The HMAC key.
    pub app_secret: SecretString,
    /// The merchant (store) id a deployment starts with (kept as its first merchant, SPEC §12);
    /// each call uses the merchant it is given.
    pub store_id: String,
    /// ISO alpha-3 country code sent with payments.
    #[serde(default = "default_country")]
    pub country_code: String,
    /// The merchant account's currency; payments in any other are refused before any call.
    #[serde(default = "default_currency")]
    pub currency: Currency,
    /// Connection timeout, milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Whole-request timeout, milliseconds.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

fn default_name() -> String {
    crate::GATEWAY_NAME.into()
}
fn default_country() -> String {
    "KOR".into()
}
fn default_currency() -> Currency {
    Currency::Usd
}
fn default_connect_timeout_ms() -> u64 {
    2_000
}
fn default_request_timeout_ms() -> u64 {
    10_000
}

impl UnifiPayConfig {
    /// A configuration with the defaults for everything but the credentials.
    pub fn new(
        base_url: impl Into<String>,
        app_id: impl Into<String>,
        api_key: impl Into<String>,
        app_secret: impl Into<String>,
        store_id: impl Into<String>,
    ) -> Self {
        UnifiPayConfig {
            name: default_name(),
            base_url: base_url.into(),
            app_id: app_id.into(),
            api_key: SecretString::from(api_key.into()),
            app_secret: SecretString::from(app_secret.into()),
            store_id: store_id.into(),
            country_code: default_country(),
            currency: default_currency(),
            connect_timeout_ms: default_connect_timeout_ms(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }

    /// The connection timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

impl std::fmt::Debug for UnifiPayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnifiPayConfig")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("api_key", &"[REDACTED]")
            .field("app_secret", &"[REDACTED]")
            .field("store_id", &self.store_id)
            .field("country_code", &self.country_code)
            .field("currency", &self.currency)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}
