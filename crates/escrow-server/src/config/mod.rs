//! Configuration: built-in defaults, then an optional TOML file (`--config`, or `escrow.toml` when it
//! exists), then `ESCROW__…` environment variables (`ESCROW__HTTP__LISTEN=0.0.0.0:8080`,
//! `ESCROW__DATABASE__URL=postgres://…`). Validated at start with messages that say what to fix.

use std::path::PathBuf;

mod gateway;

use secrecy::{ExposeSecret, SecretString};

pub use gateway::{GatewayKind, GatewaySettings, PeerMode};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// HTTP.
    pub http: HttpSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Where the sandbox keeps its cluster and generated secrets.
    pub data_dir: PathBuf,
    /// Member tokens and hosted links.
    pub security: SecuritySettings,
    /// The payment gateways. At the first start each one's methods become its connections (the
    /// first gateway listed gets priority 0, the next 10, …) and operators change them afterwards
    /// (`/admin/v1/payment-routes`). Empty: a Unifi Pay and an Inicis simulator (the sandbox).
    #[serde(default)]
    pub gateways: Vec<GatewaySettings>,
    /// Scheduled jobs.
    pub jobs: JobSettings,
    /// AlimTalk.
    pub alimtalk: AlimTalkSettings,
    /// Identity verification (본인인증) of the hosted signup.
    #[serde(default)]
    pub identity: IdentitySettings,
    /// The bank-account holder lookup (예금주 조회) that verifies sellers' payout accounts.
    pub account_verifier: AccountVerifierSettings,
    /// PortOne (V1 REST), where delivery requests' shipping fees are paid (SPEC §13).
    pub portone: PortOneSettings,
}

/// PortOne's REST API key and secret (아임포트 REST API 키).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortOneSettings {
    /// `simulator` (started in-process, the default) or `remote`.
    pub mode: PeerMode,
    /// Base URL (remote): `https://api.iamport.kr`.
    pub base_url: Option<String>,
    /// The REST API key (`imp_key`).
    pub imp_key: String,
    /// The REST API secret (`imp_secret`).
    pub imp_secret: SecretString,
    /// How long one call may take.
    pub timeout_ms: u64,
    /// Run the simulator although a `database.url` is configured (never in production).
    #[serde(default)]
    pub allow_simulator: bool,
}

impl std::fmt::Debug for PortOneSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortOneSettings")
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("imp_key", &self.imp_key)
            .finish_non_exhaustive()
    }
}

/// The holder lookup through the account-verification MID (계좌인증용 MID, SPEC §12).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountVerifierSettings {
    /// `simulator` (started in-process, the default) or `remote`.
    pub mode: PeerMode,
    /// Base URL (remote), e.g. `https://iniapi.inicis.com`.
    pub base_url: Option<String>,
    /// The account-verification MID.
    pub mid: String,
    /// Its INIAPI key.
    pub api_key: SecretString,
    /// Run the simulator although a `database.url` is configured (it answers `홍길동` for almost any
    /// account: never in production).
    #[serde(default)]
    pub allow_simulator: bool,
}

impl std::fmt::Debug for AccountVerifierSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountVerifierSettings")
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("mid", &self.mid)
            .finish_non_exhaustive()
    }
}

/// Identity verification of the hosted signup: PortOne's certifications (`[portone]`'s keys), or the
/// sandbox verifier, which accepts any claim (a deployment with a database must say explicitly that
/// it accepts that).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySettings {
    /// Who verifies.
    #[serde(default)]
    pub provider: IdentityProvider,
    /// Use the sandbox verifier although a `database.url` is configured.
    #[serde(default)]
    pub allow_sandbox: bool,
}

/// Who verifies identities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityProvider {
    /// Accepts any well-formed claim (the sandbox).
    #[default]
    Sandbox,
    /// PortOne's certifications (`GET /certifications/{imp_uid}`).
    Portone,
}

/// AlimTalk (NHN Cloud KakaoTalk Bizmessage v2.3).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlimTalkSettings {
    /// `simulator` (started in-process, the default) or `remote`.
    pub mode: PeerMode,
    /// Base URL (remote), e.g. `https://api-alimtalk.cloud.toast.com`.
    pub base_url: Option<String>,
    /// The app key.
    pub app_key: String,
    /// `X-Secret-Key`.
    pub secret_key: SecretString,
    /// The channel's sender key.
    pub sender_key: String,
    /// Request timeout, ms.
    pub timeout_ms: u64,
    /// SMS/LMS fallback type (`SMS` or `LMS`) and sender number, both or neither.
    pub fallback_type: Option<String>,
    /// The fallback's registered sender number.
    pub fallback_send_no: Option<String>,
    /// Partners' own template codes: partner id → template (`BUYER_DEPOSIT_ACCOUNT`, …) → code.
    #[serde(default)]
    pub template_overrides:
        std::collections::HashMap<String, std::collections::HashMap<String, String>>,
}

impl std::fmt::Debug for AlimTalkSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlimTalkSettings")
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// HTTP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on.
    pub listen: String,
    /// Where browsers and PGs reach the service; defaults to `http://<listen>`.
    pub public_base_url: Option<String>,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…`; when absent, a private cluster is started under `data_dir` (the sandbox). A
    /// secret: it carries the database password.
    pub url: Option<SecretString>,
    /// Pool size.
    pub pool_size: usize,
}

/// One member-token key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenKeySettings {
    /// Its `kid`.
    pub kid: String,
    /// The HS256 secret (at least 32 characters).
    pub secret: SecretString,
}

impl std::fmt::Debug for TokenKeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeySettings")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Member tokens and hosted links.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Token keys, the first signing; when empty the sandbox generates and keeps one.
    #[serde(default)]
    pub token_keys: Vec<TokenKeySettings>,
    /// The key signing hosted-page links; generated by the sandbox when absent.
    pub link_key: Option<SecretString>,
    /// Master keys sealing secrets at rest (base64 of 32 bytes each): the first seals, every one
    /// opens. Required with a database URL; generated by the sandbox. To rotate: put the new key
    /// first, run `escrow-server secrets reseal`, then remove the old one.
    #[serde(default)]
    pub master_keys: Vec<SecretString>,
}

impl std::fmt::Debug for SecuritySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuritySettings")
            .field("token_keys", &self.token_keys)
            .finish_non_exhaustive()
    }
}

/// Scheduled jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Run the jobs inside the server.
    pub enabled: bool,
    /// Seconds between runs.
    pub interval_seconds: u64,
}

const DEFAULTS: &str = r#"
data_dir = ".data"

[http]
listen = "127.0.0.1:8080"

[database]
pool_size = 16

[security]

[jobs]
enabled = true
interval_seconds = 30

[account_verifier]
mode = "simulator"
mid = "INIaccount"
api_key = "sandbox-iniapi-key"

[portone]
mode = "simulator"
imp_key = "sandbox_imp_key"
imp_secret = "sandbox_imp_secret"
timeout_ms = 10000

[alimtalk]
mode = "simulator"
app_key = "sandbox-app-key"
secret_key = "sandbox-alimtalk-secret"
sender_key = "sandbox-sender"
timeout_ms = 5000
"#;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Loads defaults, the file (if any) and the environment, then validates.
    pub fn load(file: Option<&std::path::Path>) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
                builder = builder.add_source(config::File::from(path.to_path_buf()));
            }
            None => builder = builder.add_source(config::File::with_name("escrow").required(false)),
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("ESCROW")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Remote outside systems need their URLs.
    fn peer_problems(&self, problems: &mut Vec<String>) {
        if self.account_verifier.mode == PeerMode::Remote
            && !self
                .account_verifier
                .base_url
                .as_deref()
                .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
        {
            problems.push("account_verifier.base_url is required (an http(s) URL) when account_verifier.mode = \"remote\"".to_owned());
        }
        if self.alimtalk.mode == PeerMode::Remote
            && self
                .alimtalk
                .base_url
                .as_deref()
                .is_none_or(|u| !u.starts_with("http"))
        {
            problems.push(
                "alimtalk.base_url is required (an http(s) URL) when alimtalk.mode = \"remote\""
                    .to_owned(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if self.http.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "http.listen = {:?} is not an address like 127.0.0.1:8080",
                self.http.listen
            ));
        }
        if let Some(url) = &self.http.public_base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                problems
                    .push("http.public_base_url must start with http:// or https://".to_owned());
            }
        }
        if let Some(url) = self.database.url.as_ref().map(ExposeSecret::expose_secret) {
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                problems.push("database.url must be a postgres:// URL".to_owned());
            }
            if self.identity.provider == IdentityProvider::Sandbox && !self.identity.allow_sandbox {
                problems.push("identity.allow_sandbox must be true to run with a database.url and identity.provider = \"sandbox\": the sandbox verifier accepts any claim (or set identity.provider = \"portone\")".to_owned());
            }
            if self.account_verifier.mode == PeerMode::Simulator
                && !self.account_verifier.allow_simulator
            {
                problems.push("account_verifier.mode = \"simulator\" with a database.url needs account_verifier.allow_simulator = true: the simulator verifies almost any payout account".to_owned());
            }
            if self.portone.mode == PeerMode::Simulator && !self.portone.allow_simulator {
                problems.push("portone.mode = \"simulator\" with a database.url needs portone.allow_simulator = true: the simulator takes any payment".to_owned());
            }
        }
        if self.portone.mode == PeerMode::Remote
            && self
                .portone
                .base_url
                .as_deref()
                .is_none_or(|u| !u.starts_with("http"))
        {
            problems.push(
                "portone.base_url is required (an http(s) URL) when portone.mode = \"remote\""
                    .to_owned(),
            );
        }
        if self.database.pool_size == 0 {
            problems.push("database.pool_size must be at least 1".to_owned());
        }
        for key in &self.security.token_keys {
            if key.kid.trim().is_empty() || key.secret.expose_secret().len() < 32 {
                problems.push(format!("security.token_keys: key {:?} needs a kid and a secret of at least 32 characters", key.kid));
            }
        }
        if !self.security.master_keys.is_empty() {
            if let Err(e) = escrow_postgres::SecretSealer::from_base64(&self.master_keys()) {
                problems.push(format!("security.master_keys: {}", e.0));
            }
        }
        if self
            .security
            .link_key
            .as_ref()
            .is_some_and(|k| k.expose_secret().len() < 32)
        {
            problems.push("security.link_key must be at least 32 characters".to_owned());
        }
        let mut names = std::collections::HashSet::new();
        for gateway in &self.gateways {
            gateway.problems(&mut problems);
            if !names.insert(gateway.name.as_str()) {
                problems.push(format!(
                    "gateways: the name {:?} is used twice",
                    gateway.name
                ));
            }
        }
        self.peer_problems(&mut problems);
        if self.alimtalk.fallback_type.is_some() != self.alimtalk.fallback_send_no.is_some() {
            problems.push(
                "alimtalk.fallback_type and alimtalk.fallback_send_no go together".to_owned(),
            );
        }
        for (partner, templates) in &self.alimtalk.template_overrides {
            if partner.parse::<uuid::Uuid>().is_err() {
                problems.push(format!(
                    "alimtalk.template_overrides: {partner:?} is not a partner id"
                ));
            }
            for template in templates.keys() {
                if serde_json::from_value::<escrow_domain::notification::AlimTalkTemplate>(
                    serde_json::Value::String(template.clone()),
                )
                .is_err()
                {
                    problems.push(format!(
                        "alimtalk.template_overrides: unknown template {template:?}"
                    ));
                }
            }
        }
        if self.jobs.interval_seconds == 0 {
            problems.push("jobs.interval_seconds must be at least 1".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError(problems.join("; ")))
        }
    }

    /// Where browsers and PGs reach the service.
    pub fn public_base_url(&self) -> String {
        self.http
            .public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.http.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

impl Settings {
    /// The configured master keys, as the sealer takes them.
    pub fn master_keys(&self) -> Vec<String> {
        self.security
            .master_keys
            .iter()
            .map(|k| k.expose_secret().to_owned())
            .collect()
    }

    /// The configured database URL, if any.
    pub fn database_url(&self) -> Option<String> {
        self.database
            .url
            .as_ref()
            .map(|u| u.expose_secret().to_owned())
    }

    /// The gateways in force: the configured ones, or the sandbox's Unifi Pay and Inicis simulators.
    pub fn gateways(&self) -> Vec<GatewaySettings> {
        if self.gateways.is_empty() {
            vec![
                GatewaySettings::sandbox(),
                GatewaySettings::sandbox_inicis(),
            ]
        } else {
            self.gateways.clone()
        }
    }
}

impl AlimTalkSettings {
    /// The template overrides as the outbox worker takes them (validated at load).
    pub fn overrides(&self) -> escrow_domain::services::TemplateOverrides {
        self.template_overrides
            .iter()
            .filter_map(|(partner, templates)| {
                let id = partner.parse::<escrow_domain::ids::PartnerId>().ok()?;
                let map = templates
                    .iter()
                    .filter_map(|(t, code)| {
                        let t =
                            serde_json::from_value(serde_json::Value::String(t.clone())).ok()?;
                        Some((t, code.clone()))
                    })
                    .collect();
                Some((id, map))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
