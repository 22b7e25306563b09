//! The back office's payment setup (SPEC §12, seed 003): which PG serves each main payment method
//! (the connection flag 연결여부, the use flag 사용여부 and a priority), the merchant accounts (가맹점: a
//! MID and its keys) at each PG, and "PG info by method code" — the gateway and merchant a payment
//! goes through. Every operator change is audited: who, when, what it was, what it became.
//!
//! Merchant keys are secrets: [`MerchantKeys`] never shows them (`Debug` lists their names), audit
//! entries hold only key names, and adapters store them sealed.

pub mod installments;
mod service;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::contract::PaymentMethod;
use crate::ids::{MerchantId, PartnerId};
use crate::people::PartnerMode;
use crate::ports::RepositoryError;

pub use service::{GatewayProfile, PaymentSetupService, SetupError};

/// One main method's connection to a gateway (seed 003: 연결여부 and 사용여부, with a priority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayRoute {
    /// The method.
    pub method: PaymentMethod,
    /// The gateway's name.
    pub gateway: String,
    /// Connected to the PG (연결여부).
    pub connected: bool,
    /// Switched on (사용여부).
    pub enabled: bool,
    /// Among several connected and enabled gateways for a method, the lowest number serves it.
    #[serde(default)]
    pub priority: i32,
}

/// A merchant's keys by name (for KG Inicis `signKey`, `iniapiKey`, `iniapiIv`). `Debug` shows the
/// names only; there is no `Serialize`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MerchantKeys(BTreeMap<String, String>);

impl fmt::Debug for MerchantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl MerchantKeys {
    /// No keys.
    pub fn new() -> Self {
        MerchantKeys::default()
    }

    /// These keys and `name = value`.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The key `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The key names.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    /// Every key (for the adapter that seals them).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl FromIterator<(String, String)> for MerchantKeys {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        MerchantKeys(iter.into_iter().collect())
    }
}

/// A merchant account (가맹점) at a PG: the MID a payment is made with and its keys. A test MID
/// serves test partners, a live one live partners; one for a partner wins over a general one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    /// Its id.
    pub id: MerchantId,
    /// The gateway's name (`inicis`, `unifipay`).
    pub gateway: String,
    /// Only for this partner; `None`: for every partner without its own.
    pub partner_id: Option<PartnerId>,
    /// A test MID or a live one.
    pub mode: PartnerMode,
    /// The merchant id at the PG (Inicis' test MID is `INIpayTest`).
    pub mid: String,
    /// Its keys.
    pub keys: MerchantKeys,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When an operator removed it (payments made with it still refund and query through it).
    pub removed_at: Option<OffsetDateTime>,
}

/// A merchant as operators see it: the key names, never their values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantView {
    /// Its id.
    pub id: MerchantId,
    /// The gateway.
    pub gateway: String,
    /// Only for this partner.
    pub partner_id: Option<PartnerId>,
    /// `TEST` or `LIVE`.
    pub mode: PartnerMode,
    /// The MID.
    pub mid: String,
    /// Which keys are stored.
    pub key_names: Vec<String>,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was removed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
}

impl Merchant {
    /// What operators (and the audit) see.
    pub fn view(&self) -> MerchantView {
        MerchantView {
            id: self.id,
            gateway: self.gateway.clone(),
            partner_id: self.partner_id,
            mode: self.mode,
            mid: self.mid.clone(),
            key_names: self.keys.names(),
            created_at: self.created_at,
            removed_at: self.removed_at,
        }
    }
}

/// A merchant an operator adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMerchant {
    /// The gateway.
    pub gateway: String,
    /// Only for this partner.
    pub partner_id: Option<PartnerId>,
    /// A test MID or a live one.
    pub mode: PartnerMode,
    /// The MID.
    pub mid: String,
    /// Its keys (each gateway says which it needs).
    pub keys: MerchantKeys,
}

/// Where a payment goes: "PG info by method code" (seed 003 "PG 정보 조회").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgInfo {
    /// The gateway.
    pub gateway: String,
    /// The merchant account.
    pub merchant: Merchant,
}

/// One operator change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Its position in the audit log.
    pub id: i64,
    /// Who (`admin`, `configuration`).
    pub actor: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What was changed (`route inicis CARD`, `merchant <id>`, `installment notice <id>`).
    pub subject: String,
    /// What it was (absent for an addition); never a key.
    pub before: Option<serde_json::Value>,
    /// What it became (absent for a removal); never a key.
    pub after: Option<serde_json::Value>,
}

/// A change to record with the change itself, in its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who.
    pub actor: String,
    /// When.
    pub at: OffsetDateTime,
    /// What.
    pub subject: String,
    /// Before.
    pub before: Option<serde_json::Value>,
    /// After.
    pub after: Option<serde_json::Value>,
}

/// Where the payment setup is kept. Each change and its [`AuditRecord`] are written in one
/// transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentSetupRepository: Send + Sync {
    /// Every (gateway, method) connection.
    async fn routes(&self) -> Result<Vec<GatewayRoute>, RepositoryError>;

    /// Inserts or replaces the (gateway, method) connection.
    async fn save_route(
        &self,
        route: &GatewayRoute,
        audit: &AuditRecord,
    ) -> Result<(), RepositoryError>;

    /// Every merchant, the removed ones too.
    async fn merchants(&self) -> Result<Vec<Merchant>, RepositoryError>;

    /// The merchant `id` (also a removed one).
    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, RepositoryError>;

    /// Adds a merchant.
    async fn add_merchant(
        &self,
        merchant: &Merchant,
        audit: &AuditRecord,
    ) -> Result<(), RepositoryError>;

    /// Marks the merchant removed at `at`; false when there is no such merchant in use.
    async fn remove_merchant(
        &self,
        id: MerchantId,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<bool, RepositoryError>;

    /// The installment notices in use.
    async fn notices(&self) -> Result<Vec<installments::InstallmentNotice>, RepositoryError>;

    /// Inserts or replaces a notice.
    async fn save_notice(
        &self,
        notice: &installments::InstallmentNotice,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<(), RepositoryError>;

    /// Takes a notice out of use; false when there is no such notice in use.
    async fn remove_notice(
        &self,
        id: crate::ids::InstallmentNoticeId,
        at: OffsetDateTime,
        audit: &AuditRecord,
    ) -> Result<bool, RepositoryError>;

    /// The audit log, oldest first, after position `after`.
    async fn audit_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, RepositoryError>;
}

/// The merchant a payment through `gateway` was made with: the one it recorded, or — for a payment
/// made before merchants were recorded — the gateway's oldest merchant.
pub async fn payment_merchant(
    repository: &dyn PaymentSetupRepository,
    gateway: &str,
    recorded: Option<MerchantId>,
) -> Result<Option<Merchant>, RepositoryError> {
    if let Some(id) = recorded {
        return repository.merchant(id).await;
    }
    let mut merchants: Vec<Merchant> = repository
        .merchants()
        .await?
        .into_iter()
        .filter(|m| m.gateway == gateway)
        .collect();
    merchants.sort_by_key(|m| (m.removed_at.is_some(), m.created_at));
    Ok(merchants.into_iter().next())
}
