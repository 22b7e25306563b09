//! Partners and members: their records, secrets, request signatures and signup sessions.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{RepositoryError, Stored};
use crate::ids::{MemberId, PartnerId};
use crate::notification::PartnerEvent;
use crate::people::{Member, Partner, PartnerSecrets};
use crate::signup::{AgreedTerm, SignupSession};

/// What completing a signup did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum SignupCompletion {
    /// The member is stored and the session completed.
    Completed,
    /// Nothing stored: the session was not open any more (completed, refused or expired).
    SessionNotOpen,
    /// Nothing stored: the partner user already has a live membership.
    AlreadyMember,
}

/// Partners, their secrets, and the request signatures they already used.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PartnerRepository: Send + Sync {
    /// The partner signing with `api_key_id`.
    async fn by_api_key(
        &self,
        api_key_id: &str,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError>;
    /// The partner `id`.
    async fn get(
        &self,
        id: PartnerId,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError>;
    /// Stores a new partner.
    async fn create(
        &self,
        partner: &Partner,
        secrets: &PartnerSecrets,
    ) -> Result<Stored, RepositoryError>;
    /// Every partner.
    async fn list(&self) -> Result<Vec<Partner>, RepositoryError>;
    /// Switches the partner `id` to `mode` (SPEC §16); false when there is no such partner.
    async fn set_mode(
        &self,
        id: PartnerId,
        mode: crate::people::PartnerMode,
    ) -> Result<bool, RepositoryError>;
    /// Records a request signature; false when it was already used (a replay).
    async fn record_signature(
        &self,
        partner_id: PartnerId,
        signature: &str,
        seen_at: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
    /// Forgets signatures seen before `before` (their timestamps are refused anyway); returns how many.
    async fn prune_signatures(&self, before: OffsetDateTime) -> Result<u64, RepositoryError>;
}

/// Members and their signup sessions.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MemberRepository: Send + Sync {
    /// The member `id` of `partner_id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<Member>, RepositoryError>;
    /// The newest member of a partner user, with its member key hash.
    async fn latest_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError>;
    /// When a partner user's memberships were withdrawn, newest first.
    async fn withdrawals(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Vec<OffsetDateTime>, RepositoryError>;
    /// Stores a new signup session.
    async fn open_signup(&self, session: &SignupSession) -> Result<(), RepositoryError>;
    /// The signup session `id`.
    async fn signup_session(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<SignupSession>, RepositoryError>;
    /// In one transaction: stores the member with `member_key_hash` (the domain hashed the key), its
    /// terms, completes the session (keeping `member_key` for one read by the partner) and queues
    /// `event`; or nothing, when the session is no longer open or the user already has a live
    /// membership.
    #[allow(clippy::too_many_arguments)]
    async fn complete_signup(
        &self,
        session_id: uuid::Uuid,
        member: &Member,
        member_key: &str,
        member_key_hash: &str,
        terms: &[AgreedTerm],
        event: &PartnerEvent,
    ) -> Result<SignupCompletion, RepositoryError>;
    /// Marks an open session refused with a reason.
    async fn refuse_signup(
        &self,
        session_id: uuid::Uuid,
        reason: &str,
    ) -> Result<(), RepositoryError>;
    /// Hands out the member key kept for the partner, once; `None` afterwards.
    async fn take_member_key(
        &self,
        session_id: uuid::Uuid,
    ) -> Result<Option<String>, RepositoryError>;
    /// Withdraws a member unless it has an open trade; returns false when it has one.
    async fn withdraw(
        &self,
        partner_id: PartnerId,
        id: MemberId,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;
}
