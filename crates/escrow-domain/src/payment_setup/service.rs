//! The payment-setup use cases: "PG info by method code" for checkouts, and the operator changes
//! (connections, merchants), each audited.

use std::sync::Arc;

use super::GatewayRoute;
use crate::contract::PaymentMethod;
use crate::ids::{InstallmentNoticeId, MerchantId, PartnerId};
use crate::people::{Partner, PartnerMode};
use crate::ports::{Clock, RepositoryError};
use time::OffsetDateTime;

use super::installments::{seoul_day, InstallmentNotice, NoticeDraft};
use super::{
    AuditEntry, AuditRecord, Merchant, MerchantView, NewMerchant, PaymentSetupRepository, PgInfo,
};

/// What the wiring knows about one configured gateway: its name, the keys its merchants need, and
/// which partners may pay through it (SPEC §16: test partners only through simulators; live
/// partners never through a simulator while a real PG is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayProfile {
    /// The gateway's name.
    pub name: String,
    /// The key names each of its merchants must have.
    pub merchant_keys: Vec<String>,
    /// Live partners may pay through it.
    pub live: bool,
    /// Test partners may pay through it.
    pub test: bool,
}

/// Why a payment-setup request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// No connected and enabled gateway serves the method for this partner
    /// (`PAYMENT_METHOD_UNAVAILABLE`).
    #[error("no connected and enabled payment gateway for {0}")]
    MethodUnavailable(PaymentMethod),
    /// The routed gateway has no merchant for this partner (`MERCHANT_NOT_CONFIGURED`).
    #[error("no merchant is configured at {0} for this partner")]
    MerchantNotConfigured(String),
    /// No such gateway is configured (`VALIDATION_FAILED` on `gateway`).
    #[error("gateway: {0:?} is not a configured gateway")]
    UnknownGateway(String),
    /// A field is wrong (`VALIDATION_FAILED`).
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such merchant (`NOT_FOUND`).
    #[error("merchant not found")]
    MerchantNotFound,
    /// No such installment notice (`NOT_FOUND`).
    #[error("installment notice not found")]
    NoticeNotFound,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The payment setup.
pub struct PaymentSetupService {
    repository: Arc<dyn PaymentSetupRepository>,
    gateways: Vec<GatewayProfile>,
    clock: Arc<dyn Clock>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> SetupError {
    SetupError::Invalid {
        field,
        message: message.into(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

impl PaymentSetupService {
    /// The setup kept in `repository`, for these configured gateways.
    pub fn new(
        repository: Arc<dyn PaymentSetupRepository>,
        gateways: Vec<GatewayProfile>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        PaymentSetupService {
            repository,
            gateways,
            clock,
        }
    }

    fn profile(&self, gateway: &str) -> Option<&GatewayProfile> {
        self.gateways.iter().find(|g| g.name == gateway)
    }

    /// "PG info by method code": the gateway whose connection and use flags are both on for
    /// `method` (the lowest priority number first) among those `partner` may pay through, and its
    /// merchant for the partner (the partner's own first, then a general one of the partner's mode).
    /// Read from storage each time: an operator's change holds from the next checkout on.
    pub async fn pg_info(
        &self,
        partner: &Partner,
        method: PaymentMethod,
    ) -> Result<PgInfo, SetupError> {
        let mut routes: Vec<GatewayRoute> = self
            .repository
            .routes()
            .await?
            .into_iter()
            .filter(|r| r.method == method && r.connected && r.enabled)
            .filter(|r| {
                self.profile(&r.gateway)
                    .is_some_and(|g| match partner.mode {
                        PartnerMode::Live => g.live,
                        PartnerMode::Test => g.test,
                    })
            })
            .collect();
        routes.sort_by(|a, b| (a.priority, &a.gateway).cmp(&(b.priority, &b.gateway)));
        let gateway = routes
            .first()
            .map(|r| r.gateway.clone())
            .ok_or(SetupError::MethodUnavailable(method))?;
        let merchant = self
            .merchant_for(&gateway, partner.id, partner.mode)
            .await?
            .ok_or_else(|| SetupError::MerchantNotConfigured(gateway.clone()))?;
        Ok(PgInfo { gateway, merchant })
    }

    async fn merchant_for(
        &self,
        gateway: &str,
        partner: PartnerId,
        mode: PartnerMode,
    ) -> Result<Option<Merchant>, SetupError> {
        let mut merchants: Vec<Merchant> = self
            .repository
            .merchants()
            .await?
            .into_iter()
            .filter(|m| m.gateway == gateway && m.mode == mode && m.removed_at.is_none())
            .filter(|m| m.partner_id.is_none_or(|p| p == partner))
            .collect();
        // The partner's own first, then the oldest.
        merchants.sort_by_key(|m| (m.partner_id.is_none(), m.created_at));
        Ok(merchants.into_iter().next())
    }

    /// The merchant a payment through `gateway` was made with (also a removed one: a payment's
    /// refund and inquiry use the MID it was made with; see [`super::payment_merchant`]).
    pub async fn merchant_of_payment(
        &self,
        gateway: &str,
        recorded: Option<MerchantId>,
    ) -> Result<Merchant, SetupError> {
        super::payment_merchant(self.repository.as_ref(), gateway, recorded)
            .await?
            .ok_or_else(|| SetupError::MerchantNotConfigured(gateway.to_owned()))
    }

    /// Every connection, by gateway and method.
    pub async fn routes(&self) -> Result<Vec<GatewayRoute>, SetupError> {
        let mut routes = self.repository.routes().await?;
        routes.sort_by(|a, b| (&a.gateway, a.method.code()).cmp(&(&b.gateway, b.method.code())));
        Ok(routes)
    }

    /// Sets a (gateway, method) connection's flags and priority; audited as `actor`.
    pub async fn set_route(&self, actor: &str, route: GatewayRoute) -> Result<(), SetupError> {
        if self.profile(&route.gateway).is_none() {
            return Err(SetupError::UnknownGateway(route.gateway));
        }
        if !(0..=1000).contains(&route.priority) {
            return Err(invalid("priority", "0 to 1000"));
        }
        let before = self
            .repository
            .routes()
            .await?
            .into_iter()
            .find(|r| r.gateway == route.gateway && r.method == route.method);
        let audit = AuditRecord {
            actor: actor.to_owned(),
            at: self.clock.now(),
            subject: format!("route {} {}", route.gateway, route.method.code()),
            before: before.as_ref().and_then(json),
            after: json(&route),
        };
        Ok(self.repository.save_route(&route, &audit).await?)
    }

    /// Every merchant (key names only), removed ones too.
    pub async fn merchants(&self) -> Result<Vec<MerchantView>, SetupError> {
        let mut merchants = self.repository.merchants().await?;
        merchants.sort_by_key(|m| m.created_at);
        Ok(merchants.iter().map(Merchant::view).collect())
    }

    /// Adds a merchant after checking it names a configured gateway and carries exactly the keys
    /// that gateway needs, each non-empty; audited as `actor` (key names, never values).
    pub async fn add_merchant(
        &self,
        actor: &str,
        new: NewMerchant,
    ) -> Result<MerchantView, SetupError> {
        let profile = self
            .profile(&new.gateway)
            .ok_or_else(|| SetupError::UnknownGateway(new.gateway.clone()))?;
        let mid = new.mid.trim();
        if mid.is_empty() || mid.len() > 40 || !mid.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("mid", "1 to 40 printable ASCII characters"));
        }
        for name in &profile.merchant_keys {
            if new.keys.get(name).is_none_or(|v| v.trim().is_empty()) {
                return Err(invalid("keys", format!("{name} is required")));
            }
        }
        for (name, value) in new.keys.iter() {
            if !profile.merchant_keys.iter().any(|k| k == name) {
                return Err(invalid(
                    "keys",
                    format!(
                        "{name} is not a key of {} (it takes {:?})",
                        profile.name, profile.merchant_keys
                    ),
                ));
            }
            if value.len() > 200 || value.chars().any(char::is_control) {
                return Err(invalid(
                    "keys",
                    format!("{name}: up to 200 characters, no control characters"),
                ));
            }
        }
        let merchant = Merchant {
            id: MerchantId::random(),
            gateway: new.gateway,
            partner_id: new.partner_id,
            mode: new.mode,
            mid: mid.to_owned(),
            keys: new.keys,
            created_at: self.clock.now(),
            removed_at: None,
        };
        let view = merchant.view();
        let audit = AuditRecord {
            actor: actor.to_owned(),
            at: merchant.created_at,
            subject: format!("merchant {}", merchant.id),
            before: None,
            after: json(&view),
        };
        self.repository.add_merchant(&merchant, &audit).await?;
        Ok(view)
    }

    /// Removes a merchant from use (new payments); audited as `actor`.
    pub async fn remove_merchant(&self, actor: &str, id: MerchantId) -> Result<(), SetupError> {
        let merchant = self
            .repository
            .merchant(id)
            .await?
            .filter(|m| m.removed_at.is_none())
            .ok_or(SetupError::MerchantNotFound)?;
        let at = self.clock.now();
        let after = Merchant {
            removed_at: Some(at),
            ..merchant.clone()
        };
        let audit = AuditRecord {
            actor: actor.to_owned(),
            at,
            subject: format!("merchant {id}"),
            before: json(&merchant.view()),
            after: json(&after.view()),
        };
        if self.repository.remove_merchant(id, at, &audit).await? {
            Ok(())
        } else {
            Err(SetupError::MerchantNotFound)
        }
    }

    /// Every notice in use.
    pub async fn notices(&self) -> Result<Vec<InstallmentNotice>, SetupError> {
        let mut notices = self.repository.notices().await?;
        notices.sort_by(|a, b| (a.valid_from, &a.card_code).cmp(&(b.valid_from, &b.card_code)));
        Ok(notices)
    }

    /// The notices of `gateway` that hold at `at` (its day in Asia/Seoul) for `amount` won.
    pub async fn notices_holding(
        &self,
        gateway: &str,
        amount: i64,
        at: OffsetDateTime,
    ) -> Result<Vec<InstallmentNotice>, SetupError> {
        let day = seoul_day(at);
        Ok(self
            .notices()
            .await?
            .into_iter()
            .filter(|n| n.gateway == gateway && n.holds(day, amount))
            .collect())
    }

    /// The notices `partner` sees for a card payment of `amount` won at `at`: those of the gateway
    /// serving its card payments (none when no gateway does).
    pub async fn notices_for(
        &self,
        partner: &Partner,
        amount: i64,
        at: OffsetDateTime,
    ) -> Result<Vec<InstallmentNotice>, SetupError> {
        match self.pg_info(partner, PaymentMethod::Card).await {
            Ok(pg) => self.notices_holding(&pg.gateway, amount, at).await,
            Err(SetupError::MethodUnavailable(_) | SetupError::MerchantNotConfigured(_)) => {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Adds (`id` = `None`) or replaces a notice; audited as `actor`.
    pub async fn save_notice(
        &self,
        actor: &str,
        id: Option<InstallmentNoticeId>,
        draft: NoticeDraft,
    ) -> Result<InstallmentNotice, SetupError> {
        if self.profile(&draft.gateway).is_none() {
            return Err(SetupError::UnknownGateway(draft.gateway));
        }
        let before = match id {
            Some(id) => Some(
                self.repository
                    .notices()
                    .await?
                    .into_iter()
                    .find(|n| n.id == id)
                    .ok_or(SetupError::NoticeNotFound)?,
            ),
            None => None,
        };
        let notice = draft
            .into_notice(id.unwrap_or_else(InstallmentNoticeId::random))
            .map_err(|(field, message)| invalid(field, message))?;
        let at = self.clock.now();
        let audit = AuditRecord {
            actor: actor.to_owned(),
            at,
            subject: format!("installment notice {}", notice.id),
            before: before.as_ref().and_then(json),
            after: json(&notice),
        };
        self.repository.save_notice(&notice, at, &audit).await?;
        Ok(notice)
    }

    /// Takes a notice out of use; audited as `actor`.
    pub async fn remove_notice(
        &self,
        actor: &str,
        id: InstallmentNoticeId,
    ) -> Result<(), SetupError> {
        let before = self
            .repository
            .notices()
            .await?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or(SetupError::NoticeNotFound)?;
        let at = self.clock.now();
        let audit = AuditRecord {
            actor: actor.to_owned(),
            at,
            subject: format!("installment notice {id}"),
            before: json(&before),
            after: None,
        };
        if self.repository.remove_notice(id, at, &audit).await? {
            Ok(())
        } else {
            Err(SetupError::NoticeNotFound)
        }
    }

    /// The audit log, oldest first, after position `after`.
    pub async fn audit(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, SetupError> {
        Ok(self.repository.audit_page(after, limit).await?)
    }

    /// At start: the connections and merchants the configuration names that storage has never had
    /// (an operator's later change or removal is not undone), recorded with the actor
    /// `configuration`.
    pub async fn seed(
        &self,
        routes: &[GatewayRoute],
        merchants: &[NewMerchant],
    ) -> Result<(), SetupError> {
        let known = self.repository.routes().await?;
        for route in routes {
            if !known
                .iter()
                .any(|r| r.gateway == route.gateway && r.method == route.method)
            {
                self.set_route("configuration", route.clone()).await?;
            }
        }
        let existing = self.repository.merchants().await?;
        for merchant in merchants {
            if !existing.iter().any(|m| {
                m.gateway == merchant.gateway
                    && m.mode == merchant.mode
                    && m.partner_id == merchant.partner_id
            }) {
                self.add_merchant("configuration", merchant.clone()).await?;
            }
        }
        Ok(())
    }
}
