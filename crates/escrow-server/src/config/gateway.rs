//! One payment gateway's configuration: its adapter, where it is, its credentials and methods.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Whether an outside system is the real one or the simulator started in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerMode {
    /// Start the bundled simulator (the sandbox).
    Simulator,
    /// Talk to `base_url`.
    Remote,
}

/// Which adapter speaks to a gateway. One variant per adapter crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GatewayKind {
    /// Unifi Pay (`escrow-unifipay`).
    Unifipay,
    /// KG Inicis standard payment (`escrow-inicis`); its merchants (MID, signKey, INIAPI key and
    /// IV) are added by operators (`POST /admin/v1/merchants`), the simulator's test MID at start.
    Inicis,
    /// PortOne V1 (`escrow-portone`); a merchant is a REST key (MID = `imp_key`, key `impSecret`),
    /// added by operators, the simulator's at start. Its name must be `portone`: PortOne posts every
    /// webhook to `/pg/portone/webhook`.
    Portone,
}

/// One payment gateway: its adapter, where it is, its merchant credentials and the methods it serves.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySettings {
    /// Its name in routing and in its callback URL (`/pg/{name}/callback`): lowercase letters,
    /// digits and `-`.
    pub name: String,
    /// The adapter.
    pub kind: GatewayKind,
    /// The simulator or the real PG.
    pub mode: PeerMode,
    /// Base URL (remote).
    #[serde(default)]
    pub base_url: Option<String>,
    /// `X-AppId` (Unifi Pay).
    #[serde(default)]
    pub app_id: String,
    /// `X-Api-Key` (Unifi Pay).
    #[serde(default = "empty_secret")]
    pub api_key: SecretString,
    /// HMAC secret (Unifi Pay).
    #[serde(default = "empty_secret")]
    pub app_secret: SecretString,
    /// Merchant id (Unifi Pay): stored as the gateway's first merchant at the first start.
    #[serde(default)]
    pub store_id: String,
    /// The merchant account's currency (Unifi Pay).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Where the payment form posts (Inicis, remote): `https://stdpay.inicis.com/payMain/pay`.
    #[serde(default)]
    pub form_action: Option<String>,
    /// The approval endpoints' template with `{idc}` (Inicis, remote):
    /// `https://{idc}stdpay.inicis.com`.
    #[serde(default)]
    pub auth_url_template: Option<String>,
    /// INIAPI (Inicis, remote): `https://iniapi.inicis.com`.
    #[serde(default)]
    pub iniapi_url: Option<String>,
    /// Our address as INIAPI's `clientIp` (Inicis).
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The page the buyer pays on (PortOne, remote): a page running PortOne's browser SDK with
    /// `merchant_uid`, `amount`, `name` and `m_redirect_url` from its query.
    #[serde(default)]
    pub pay_url: Option<String>,
    /// Request timeout, ms.
    #[serde(default = "default_gateway_timeout_ms")]
    pub request_timeout_ms: u64,
    /// The methods it serves (`CARD`, `BANK_TRANSFER`, `VIRTUAL_ACCOUNT`); all when absent.
    #[serde(default)]
    pub methods: Option<Vec<escrow_domain::contract::PaymentMethod>>,
    /// A simulator reached over the network (a `remote` gateway) that serves test partners only
    /// (SPEC §16): never routed to for live partners.
    #[serde(default)]
    pub test_partners: bool,
}

fn default_gateway_timeout_ms() -> u64 {
    10_000
}

fn empty_secret() -> SecretString {
    SecretString::from("")
}

fn default_currency() -> String {
    "KRW".into()
}

impl GatewaySettings {
    /// The sandbox's gateway: a Unifi Pay simulator taking KRW, for every method.
    pub fn sandbox() -> Self {
        GatewaySettings {
            name: escrow_unifipay::GATEWAY_NAME.into(),
            kind: GatewayKind::Unifipay,
            mode: PeerMode::Simulator,
            base_url: None,
            app_id: "sandbox-app".into(),
            api_key: SecretString::from("sandbox-api-key"),
            app_secret: SecretString::from("sandbox-app-secret"),
            store_id: "sandbox-store".into(),
            currency: "KRW".into(),
            request_timeout_ms: default_gateway_timeout_ms(),
            methods: None,
            test_partners: false,
            form_action: None,
            auth_url_template: None,
            iniapi_url: None,
            client_ip: None,
            pay_url: None,
        }
    }

    /// The sandbox's second gateway: an Inicis simulator with the public test MID, for every
    /// method, after Unifi Pay (an operator moves a method to it with the connection flags).
    pub fn sandbox_inicis() -> Self {
        GatewaySettings {
            name: "inicis".into(),
            kind: GatewayKind::Inicis,
            app_id: String::new(),
            api_key: empty_secret(),
            app_secret: empty_secret(),
            store_id: String::new(),
            ..GatewaySettings::sandbox()
        }
    }

    /// A Unifi Pay gateway at `base_url` (remote) with these credentials, for every method.
    pub fn unifipay(
        name: &str,
        base_url: &str,
        app_id: &str,
        api_key: &str,
        app_secret: &str,
        store_id: &str,
    ) -> Self {
        GatewaySettings {
            name: name.into(),
            mode: PeerMode::Remote,
            base_url: Some(base_url.into()),
            app_id: app_id.into(),
            api_key: SecretString::from(api_key),
            app_secret: SecretString::from(app_secret),
            store_id: store_id.into(),
            ..GatewaySettings::sandbox()
        }
    }

    /// Whether it reaches a simulator: started in-process, or a remote one for test partners.
    pub fn is_simulator(&self) -> bool {
        self.mode == PeerMode::Simulator || self.test_partners
    }

    /// The methods it serves.
    pub fn served_methods(&self) -> Vec<escrow_domain::contract::PaymentMethod> {
        self.methods
            .clone()
            .unwrap_or_else(|| escrow_domain::contract::PaymentMethod::ALL.to_vec())
    }

    pub(super) fn problems(&self, problems: &mut Vec<String>) {
        let at = format!("gateways[{:?}]", self.name);
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            problems.push(format!(
                "{at}.name must be lowercase letters, digits and '-'"
            ));
        }
        if self.mode == PeerMode::Remote
            && self.kind != GatewayKind::Inicis
            && self
                .base_url
                .as_deref()
                .is_none_or(|u| !u.starts_with("http"))
        {
            problems.push(format!(
                "{at}.base_url is required (an http(s) URL) when mode = \"remote\""
            ));
        }
        match self.kind {
            GatewayKind::Unifipay => {
                for (field, empty) in [
                    ("app_id", self.app_id.is_empty()),
                    ("api_key", self.api_key.expose_secret().is_empty()),
                    ("app_secret", self.app_secret.expose_secret().is_empty()),
                    ("store_id", self.store_id.is_empty()),
                ] {
                    if empty {
                        problems.push(format!("{at}.{field} is required for a unifipay gateway"));
                    }
                }
            }
            GatewayKind::Portone => {
                if self.name != escrow_portone::GATEWAY_NAME {
                    problems.push(format!("{at}.name must be \"portone\": PortOne posts its webhooks to /pg/portone/webhook"));
                }
                if self.mode == PeerMode::Remote
                    && self
                        .pay_url
                        .as_deref()
                        .is_none_or(|u| !u.starts_with("http"))
                {
                    problems.push(format!(
                        "{at}.pay_url is required (an http(s) URL) for a remote portone gateway"
                    ));
                }
            }
            GatewayKind::Inicis => {
                if self.mode == PeerMode::Remote {
                    for (field, value) in [
                        ("form_action", &self.form_action),
                        ("auth_url_template", &self.auth_url_template),
                        ("iniapi_url", &self.iniapi_url),
                    ] {
                        if value.as_deref().is_none_or(|u| !u.starts_with("http")) {
                            problems.push(format!(
                                "{at}.{field} is required (an http(s) URL) for a remote inicis gateway"
                            ));
                        }
                    }
                    if self
                        .auth_url_template
                        .as_deref()
                        .is_some_and(|t| !t.contains("{idc}"))
                    {
                        problems.push(format!("{at}.auth_url_template must contain {{idc}}"));
                    }
                }
            }
        }
        if self
            .currency
            .parse::<escrow_domain::money::Currency>()
            .is_err()
        {
            problems.push(format!(
                "{at}.currency = {:?}: use KRW or USD",
                self.currency
            ));
        }
        if self.methods.as_ref().is_some_and(Vec::is_empty) {
            problems.push(format!(
                "{at}.methods: list at least one method, or leave it out for all"
            ));
        }
    }
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("store_id", &self.store_id)
            .field("currency", &self.currency)
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}
