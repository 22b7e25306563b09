//! The outbox worker: claims due messages, sends each (AlimTalk or partner callback), records the
//! attempt, and schedules a retry or dead-letters. Several workers, in several instances, can run at
//! once: rows are claimed with `FOR UPDATE SKIP LOCKED` and leased while sent.

use std::collections::HashMap;
use std::sync::Arc;

use time::Duration;

use crate::delivery::{
    next_attempt, AlimTalkMessage, AlimTalkSender, AttemptOutcome, CallbackSender, DeliveryError,
    OutboxMessage, OutboxPayload, OutboxStore, PartnerCallback, QueuedAlimTalk,
};
use crate::ids::PartnerId;
use crate::notification::AlimTalkTemplate;
use crate::ports::{Clock, MemberRepository, PartnerRepository, RepositoryError};

/// How long a claimed row is left alone by other workers while this one sends it.
const LEASE: Duration = Duration::minutes(2);

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxRun {
    /// Delivered now.
    pub delivered: usize,
    /// To be retried.
    pub retried: usize,
    /// Dead-lettered now.
    pub dead: usize,
    /// Nothing to deliver to.
    pub skipped: usize,
}

/// Partners' own template codes (seed 002: partners may have their own templates).
pub type TemplateOverrides = HashMap<PartnerId, HashMap<AlimTalkTemplate, String>>;

/// The outbox worker.
pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    members: Arc<dyn MemberRepository>,
    partners: Arc<dyn PartnerRepository>,
    alimtalk: Arc<dyn AlimTalkSender>,
    /// Where test partners' AlimTalks go (the simulator); none: they are not sent.
    test_alimtalk: Option<Arc<dyn AlimTalkSender>>,
    callbacks: Arc<dyn CallbackSender>,
    clock: Arc<dyn Clock>,
    overrides: TemplateOverrides,
}

fn jitter(seed: &uuid::Uuid, attempts: i32) -> f64 {
    // Spread from the event id and attempt: different rows retry at different moments.
    let b = seed.as_bytes();
    let n = u16::from_le_bytes([b[0] ^ (attempts as u8), b[1]]);
    f64::from(n) / f64::from(u16::MAX)
}

impl OutboxWorker {
    /// A worker over these ports.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        members: Arc<dyn MemberRepository>,
        partners: Arc<dyn PartnerRepository>,
        alimtalk: Arc<dyn AlimTalkSender>,
        callbacks: Arc<dyn CallbackSender>,
        clock: Arc<dyn Clock>,
        overrides: TemplateOverrides,
    ) -> Self {
        OutboxWorker {
            store,
            members,
            partners,
            alimtalk,
            test_alimtalk: None,
            callbacks,
            clock,
            overrides,
        }
    }

    /// Test partners' AlimTalks go to `sender` (the AlimTalk simulator, SPEC §16); without one they
    /// are recorded as skipped, never sent to real phones.
    pub fn with_test_alimtalk(mut self, sender: Arc<dyn AlimTalkSender>) -> Self {
        self.test_alimtalk = Some(sender);
        self
    }

    async fn deliver(&self, m: &OutboxMessage) -> Result<Option<String>, DeliveryError> {
        match &m.payload {
            OutboxPayload::AlimTalk(a) => self.send_alimtalk(m, a).await,
            OutboxPayload::Callback(c) => self.send_callback(m, c).await,
        }
    }

    /// The sender for the partner's AlimTalks: live partners' go to the provider, test partners'
    /// only to the simulator. `Err(reason)` when there is none to use.
    async fn alimtalk_sender_for(
        &self,
        m: &OutboxMessage,
    ) -> Result<Result<&Arc<dyn AlimTalkSender>, String>, DeliveryError> {
        let (partner, _) = self
            .partners
            .get(m.partner_id)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent("the partner does not exist".into()))?;
        Ok(match partner.mode {
            crate::people::PartnerMode::Live => Ok(&self.alimtalk),
            crate::people::PartnerMode::Test => self.test_alimtalk.as_ref().ok_or_else(|| {
                "a test partner's AlimTalk: no AlimTalk simulator configured".into()
            }),
        })
    }

    async fn send_alimtalk(
        &self,
        m: &OutboxMessage,
        a: &QueuedAlimTalk,
    ) -> Result<Option<String>, DeliveryError> {
        let sender = match self.alimtalk_sender_for(m).await? {
            Ok(sender) => sender,
            Err(skipped) => return Ok(Some(skipped)),
        };
        let template = a.template;
        let member = self
            .members
            .get(m.partner_id, a.member_id)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent("the member does not exist".into()))?;
        let variables = a.variables.clone();
        let partner_template_code = self
            .overrides
            .get(&m.partner_id)
            .and_then(|o| o.get(&template))
            .cloned();
        sender
            .send(&AlimTalkMessage {
                idempotency_key: m.event_id.to_string(),
                partner_id: m.partner_id,
                template,
                partner_template_code,
                recipient: member.phone,
                variables,
                grouping_key: m
                    .trade_id
                    .map_or_else(|| m.event_id.to_string(), |t| t.to_string()),
            })
            .await
            .map(|()| None)
    }

    async fn send_callback(
        &self,
        m: &OutboxMessage,
        callback: &PartnerCallback,
    ) -> Result<Option<String>, DeliveryError> {
        let (partner, secrets) = self
            .partners
            .get(m.partner_id)
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent("the partner does not exist".into()))?;
        let Some(url) = partner.webhook_url else {
            return Ok(Some("the partner has no webhook URL".into()));
        };
        let mut keys: Vec<Vec<u8>> = Vec::new();
        if let Some(s) = &secrets.webhook_secret {
            keys.push(s.expose().as_bytes().to_vec());
        }
        if let Some(s) = &secrets.webhook_secret_previous {
            keys.push(s.expose().as_bytes().to_vec());
        }
        if keys.is_empty() {
            return Err(DeliveryError::Permanent(
                "the partner has no webhook secret".into(),
            ));
        }
        // The body as stored (keys in one canonical order), so what is signed and sent does not
        // depend on the struct's field order.
        let body = serde_json::to_value(callback)
            .and_then(|v| serde_json::to_vec(&v))
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        self.callbacks.post(&url, &body, &keys).await.map(|()| None)
    }

    /// Delivers what is due now (at most `limit` rows).
    pub async fn run_once(&self, limit: u32) -> Result<OutboxRun, RepositoryError> {
        let now = self.clock.now();
        let mut run = OutboxRun::default();
        for m in self.store.claim_due(now, limit, LEASE).await? {
            let attempts = m.attempts + 1;
            let outcome = match self.deliver(&m).await {
                Ok(None) => {
                    run.delivered += 1;
                    AttemptOutcome::Delivered
                }
                Ok(Some(reason)) => {
                    run.skipped += 1;
                    AttemptOutcome::Skipped(reason)
                }
                Err(DeliveryError::Permanent(e)) => {
                    run.dead += 1;
                    tracing::warn!(outbox_id = m.id, event_id = %m.event_id, error = %e, "message dead-lettered");
                    AttemptOutcome::Dead(e)
                }
                Err(DeliveryError::Transient(e)) => {
                    match next_attempt(
                        m.retry_from,
                        attempts,
                        self.clock.now(),
                        jitter(&m.event_id, attempts),
                    ) {
                        Some(at) => {
                            run.retried += 1;
                            AttemptOutcome::Retry { at, error: e }
                        }
                        None => {
                            run.dead += 1;
                            tracing::warn!(outbox_id = m.id, event_id = %m.event_id, error = %e, "retry horizon passed: dead-lettered");
                            AttemptOutcome::Dead(format!("gave up after 24 hours: {e}"))
                        }
                    }
                }
            };
            self.store.record(m.id, self.clock.now(), &outcome).await?;
        }
        Ok(run)
    }
}
