//! Membership use cases: signup sessions, the hosted signup's completion, status, withdrawal, and the
//! member-key check behind member tokens.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::calendar::seoul_date;
use crate::ids::{MemberId, PartnerId};
use crate::people::{Member, MemberStatus, Partner};
use crate::ports::{Clock, MemberRepository, PartnerEvent, RepositoryError, SignupCompletion};
use crate::signup::{
    identity_refusal, rejoin_refusal, AgreedTerm, IdentityClaim, IdentityVerifier, SignupRefusal,
    SignupSession, SignupStatus, REQUIRED_TERMS, SIGNUP_SESSION_TTL,
};

/// Why a membership use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberError {
    /// The user already has a live membership (`MEMBER_ALREADY_EXISTS`).
    #[error("already a member")]
    AlreadyExists,
    /// The user may not join (`SIGNUP_NOT_ALLOWED`).
    #[error("signup not allowed: {}", .0.code())]
    NotAllowed(SignupRefusal),
    /// `returnUrl` is not on one of the partner's allowed origins.
    #[error("returnUrl is not an allowed origin of the partner")]
    ReturnUrlNotAllowed,
    /// No such signup session (or member) for this partner.
    #[error("not found")]
    NotFound,
    /// The session is no longer open.
    #[error("the signup session is {}", .0.code())]
    SessionClosed(SignupStatus),
    /// Required terms were not agreed.
    #[error("required terms not agreed: {0:?}")]
    TermsMissing(Vec<String>),
    /// Identity verification failed.
    #[error("identity not verified: {0}")]
    IdentityNotVerified(String),
    /// The member has an open trade (`MEMBER_HAS_OPEN_TRADES`).
    #[error("the member has open trades")]
    HasOpenTrades,
    /// The member key does not match.
    #[error("member key invalid")]
    KeyInvalid,
    /// The member is not active.
    #[error("member is {}", .0.code())]
    NotActive(MemberStatus),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// SHA-256 (hex) of a member key: what is stored.
pub fn member_key_hash(member_key: &str) -> String {
    hex::encode(Sha256::digest(member_key.as_bytes()))
}

/// A new member key: 256 random bits, hex.
fn new_member_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// `scheme://host[:port]` of an absolute http(s) URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if host_len == 0 || rest[..host_len].contains(['@', ' ']) {
        return None;
    }
    Some(&url[..url.len() - rest.len() + host_len])
}

/// Whether `url` can be sent as it is in a `Location` header or a page: no control characters (CR, LF,
/// NUL, DEL …) and no whitespace. Non-ASCII text is allowed (browsers encode it).
pub fn url_is_clean(url: &str) -> bool {
    !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Whether `url` is on one of the partner's allowed origins (and clean, so the redirect to it can
/// never fail after the work is done).
pub fn return_url_allowed(partner: &Partner, url: &str) -> bool {
    url.len() <= 2_000
        && url_is_clean(url)
        && origin_of(url).is_some_and(|o| {
            partner
                .allowed_redirect_origins
                .iter()
                .any(|a| a.trim_end_matches('/') == o)
        })
}

/// What completing a signup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupResult {
    /// The new member.
    pub member: Member,
    /// The session, completed.
    pub session: SignupSession,
}

/// Membership use cases.
pub struct MemberService {
    members: Arc<dyn MemberRepository>,
    verifier: Arc<dyn IdentityVerifier>,
    clock: Arc<dyn Clock>,
}

impl MemberService {
    /// A service over these ports.
    pub fn new(
        members: Arc<dyn MemberRepository>,
        verifier: Arc<dyn IdentityVerifier>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        MemberService {
            members,
            verifier,
            clock,
        }
    }

    fn live(member: &Member) -> bool {
        member.status != MemberStatus::Withdrawn
    }

    /// Checks that `partner_user_id` may join and opens a 30-minute signup session.
    pub async fn open_signup(
        &self,
        partner: &Partner,
        partner_user_id: &str,
        return_url: &str,
    ) -> Result<SignupSession, MemberError> {
        self.open_signup_on(partner, partner_user_id, return_url, None)
            .await
    }

    /// Like [`MemberService::open_signup`], for a member who will live on `test_clock` (the caller
    /// checked that the clock is the partner's, SPEC §16).
    pub async fn open_signup_on(
        &self,
        partner: &Partner,
        partner_user_id: &str,
        return_url: &str,
        test_clock: Option<crate::ids::TestClockId>,
    ) -> Result<SignupSession, MemberError> {
        if !return_url_allowed(partner, return_url) {
            return Err(MemberError::ReturnUrlNotAllowed);
        }
        let now = self.clock.now();
        if let Some((member, _)) = self
            .members
            .latest_by_user(partner.id, partner_user_id)
            .await?
        {
            if Self::live(&member) {
                return Err(MemberError::AlreadyExists);
            }
        }
        let withdrawals = self
            .members
            .withdrawals(partner.id, partner_user_id)
            .await?;
        if let Some(refusal) = rejoin_refusal(&withdrawals, now) {
            return Err(MemberError::NotAllowed(refusal));
        }
        let session = SignupSession {
            id: uuid::Uuid::new_v4(),
            partner_id: partner.id,
            partner_user_id: partner_user_id.to_owned(),
            return_url: return_url.to_owned(),
            status: SignupStatus::Open,
            refusal_reason: None,
            member_id: None,
            expires_at: now + SIGNUP_SESSION_TTL,
            created_at: now,
            test_clock,
        };
        self.members.open_signup(&session).await?;
        Ok(session)
    }

    /// The session `id`, as the hosted page sees it.
    pub async fn session(&self, id: uuid::Uuid) -> Result<SignupSession, MemberError> {
        let mut session = self
            .members
            .signup_session(id)
            .await?
            .ok_or(MemberError::NotFound)?;
        session.status = session.status_at(self.clock.now());
        Ok(session)
    }

    /// The session `id` of `partner_id`, with the member key the first time it is asked for after
    /// completion.
    pub async fn session_result(
        &self,
        partner_id: PartnerId,
        id: uuid::Uuid,
    ) -> Result<(SignupSession, Option<String>), MemberError> {
        let session = self.session(id).await?;
        if session.partner_id != partner_id {
            return Err(MemberError::NotFound);
        }
        let key = if session.status == SignupStatus::Completed {
            self.members.take_member_key(id).await?
        } else {
            None
        };
        Ok((session, key))
    }

    /// The hosted form was posted: checks terms, verifies the identity, applies the membership policy
    /// and stores the member (queueing `member.signed_up` with its member key).
    pub async fn complete_signup(
        &self,
        session_id: uuid::Uuid,
        agreed_terms: &[String],
        claim: &IdentityClaim,
    ) -> Result<SignupResult, MemberError> {
        let now = self.clock.now();
        let session = self.session(session_id).await?;
        if session.status != SignupStatus::Open {
            return Err(MemberError::SessionClosed(session.status));
        }
        let missing: Vec<String> = REQUIRED_TERMS
            .iter()
            .filter(|(code, _, _)| !agreed_terms.iter().any(|a| a == code))
            .map(|(code, _, _)| (*code).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(MemberError::TermsMissing(missing));
        }
        let identity = self
            .verifier
            .verify(claim)
            .await
            .map_err(|e| MemberError::IdentityNotVerified(e.0))?;
        if let Some(refusal) = identity_refusal(&identity, seoul_date(now)) {
            self.members
                .refuse_signup(session_id, refusal.code())
                .await?;
            return Err(MemberError::NotAllowed(refusal));
        }
        let member_key = new_member_key();
        let member = Member {
            id: MemberId::random(),
            partner_id: session.partner_id,
            partner_user_id: session.partner_user_id.clone(),
            status: MemberStatus::Active,
            name: identity.name,
            phone: identity.phone,
            birth_date: identity.birth_date,
            created_at: now,
            withdrawn_at: None,
            test_clock: session.test_clock,
        };
        let terms: Vec<AgreedTerm> = REQUIRED_TERMS
            .iter()
            .map(|(code, version, _)| AgreedTerm {
                code: (*code).into(),
                version: (*version).into(),
                agreed_at: now,
            })
            .collect();
        let event = PartnerEvent {
            event_type: "member.signed_up",
            data: serde_json::json!({
                "memberId": member.id,
                "partnerUserId": member.partner_user_id,
                "memberKey": member_key,
                "signupSessionId": session_id,
            }),
        };
        match self
            .members
            .complete_signup(
                session_id,
                &member,
                &member_key,
                &member_key_hash(&member_key),
                &terms,
                &event,
            )
            .await?
        {
            SignupCompletion::Completed => {}
            SignupCompletion::SessionNotOpen | SignupCompletion::AlreadyMember => {
                return Err(MemberError::AlreadyExists)
            }
        }
        let session = SignupSession {
            status: SignupStatus::Completed,
            member_id: Some(member.id),
            ..session
        };
        Ok(SignupResult { member, session })
    }

    /// `NONE` (`None`), or the status of the user's newest membership.
    pub async fn status(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<MemberStatus>, MemberError> {
        Ok(self
            .members
            .latest_by_user(partner_id, partner_user_id)
            .await?
            .map(|(m, _)| m.status))
    }

    /// Withdraws the user's live membership, refused while it has an open trade.
    pub async fn withdraw(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Member, MemberError> {
        let (member, _) = self
            .members
            .latest_by_user(partner_id, partner_user_id)
            .await?
            .filter(|(m, _)| Self::live(m))
            .ok_or(MemberError::NotFound)?;
        let now = self.clock.now();
        if !self.members.withdraw(partner_id, member.id, now).await? {
            return Err(MemberError::HasOpenTrades);
        }
        Ok(Member {
            status: MemberStatus::Withdrawn,
            withdrawn_at: Some(now),
            ..member
        })
    }

    /// The active member whose key is `member_key` (for a member token); the comparison is of hashes.
    pub async fn authenticate(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
        member_key: &str,
    ) -> Result<Member, MemberError> {
        let (member, stored_hash) = self
            .members
            .latest_by_user(partner_id, partner_user_id)
            .await?
            .ok_or(MemberError::KeyInvalid)?;
        let given = member_key_hash(member_key);
        // Both are hex SHA-256: equal length; compare without early exit.
        let same = given.len() == stored_hash.len()
            && given
                .bytes()
                .zip(stored_hash.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err(MemberError::KeyInvalid);
        }
        if member.status != MemberStatus::Active {
            return Err(MemberError::NotActive(member.status));
        }
        Ok(member)
    }

    /// The partner user's live membership: `NotFound` without one, `NotActive` when it is not active.
    pub async fn active_member(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Member, MemberError> {
        let (member, _) = self
            .members
            .latest_by_user(partner_id, partner_user_id)
            .await?
            .ok_or(MemberError::NotFound)?;
        if member.status != MemberStatus::Active {
            return Err(MemberError::NotActive(member.status));
        }
        Ok(member)
    }

    /// The member `id` of `partner_id`.
    pub async fn get(&self, partner_id: PartnerId, id: MemberId) -> Result<Member, MemberError> {
        self.members
            .get(partner_id, id)
            .await?
            .ok_or(MemberError::NotFound)
    }

    /// The current time, as the service sees it.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::PartnerStatus;
    use crate::ports::{MockClock, MockMemberRepository};
    use crate::signup::SandboxIdentityVerifier;
    use time::macros::datetime;

    fn partner() -> Partner {
        Partner {
            id: PartnerId::random(),
            code: "demo".into(),
            name: "demo".into(),
            api_key_id: "k".into(),
            webhook_url: None,
            allowed_redirect_origins: vec!["https://market.example".into()],
            status: PartnerStatus::Active,
            mode: crate::people::PartnerMode::Live,
            created_at: datetime!(2025-01-01 0:00 UTC),
        }
    }

    fn service(repo: MockMemberRepository) -> MemberService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2025-03-06 10:00 +9));
        MemberService::new(
            Arc::new(repo),
            Arc::new(SandboxIdentityVerifier),
            Arc::new(clock),
        )
    }

    #[test]
    fn origins_are_compared_exactly() {
        let p = partner();
        assert!(return_url_allowed(&p, "https://market.example/done?x=1"));
        assert!(return_url_allowed(&p, "https://market.example"));
        assert!(!return_url_allowed(
            &p,
            "https://market.example.evil.com/done"
        ));
        assert!(!return_url_allowed(&p, "http://market.example/done"));
        assert!(!return_url_allowed(&p, "https://user@market.example/"));
        assert!(!return_url_allowed(&p, "javascript:alert(1)"));
    }

    #[tokio::test]
    async fn a_recent_withdrawal_blocks_signup() {
        let mut repo = MockMemberRepository::new();
        repo.expect_latest_by_user().returning(|_, _| Ok(None));
        repo.expect_withdrawals()
            .returning(|_, _| Ok(vec![datetime!(2025-03-06 09:00 +9)]));
        repo.expect_open_signup().never();
        let err = service(repo)
            .open_signup(&partner(), "u1", "https://market.example/r")
            .await
            .unwrap_err();
        assert_eq!(
            err,
            MemberError::NotAllowed(SignupRefusal::RejoinWithinADay)
        );
    }

    #[tokio::test]
    async fn missing_terms_are_refused_before_anything_is_stored() {
        let mut repo = MockMemberRepository::new();
        let p = partner();
        let pid = p.id;
        repo.expect_signup_session().returning(move |id| {
            Ok(Some(SignupSession {
                id,
                partner_id: pid,
                partner_user_id: "u1".into(),
                return_url: "https://market.example/r".into(),
                status: SignupStatus::Open,
                refusal_reason: None,
                member_id: None,
                expires_at: datetime!(2025-03-06 10:30 +9),
                created_at: datetime!(2025-03-06 10:00 +9),
                test_clock: None,
            }))
        });
        repo.expect_complete_signup().never();
        let claim = IdentityClaim {
            name: "홍길동".into(),
            birth_date: time::macros::date!(1990 - 01 - 01),
            phone: crate::people::PhoneNumber::new("01012345678").unwrap(),
            foreigner: false,
            certification: None,
        };
        let err = service(repo)
            .complete_signup(uuid::Uuid::new_v4(), &["SERVICE".into()], &claim)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            MemberError::TermsMissing(vec!["PRIVACY".into(), "EFINANCE".into()])
        );
    }
}
