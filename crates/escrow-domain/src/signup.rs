//! Membership (회원가입, seed 000 and the manual's membership policy): signup sessions, the identity
//! verification port, and who may join.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::ids::{MemberId, PartnerId};
use crate::people::PhoneNumber;

/// How long a signup session stays open.
pub const SIGNUP_SESSION_TTL: Duration = Duration::minutes(30);

/// The terms a member agrees to, with their versions.
pub const REQUIRED_TERMS: &[(&str, &str, &str)] = &[
    ("SERVICE", "2024-01", "안전거래 서비스 이용약관"),
    ("PRIVACY", "2024-01", "개인정보 수집 및 이용 동의"),
    ("EFINANCE", "2024-01", "전자금융거래 이용약관"),
];

/// The text of a required term (by its code), as the hosted signup page shows it.
pub fn term_text(code: &str) -> &'static str {
    match code {
        "SERVICE" => {
            "안전거래(에스크로) 서비스는 구매자가 결제한 대금을 구매확정 전까지 보관하고, 구매확정 후 판매자에게 \
             지급하는 서비스입니다. 회원은 거래 상태(배송, 취소, 반품)를 사실대로 알려야 하며, 회사는 약관에 정한 \
             수수료를 판매자 정산금에서 공제합니다. 분쟁 시 회사는 거래 기록을 근거로 보관 중인 대금의 지급 또는 \
             환불을 결정할 수 있습니다."
        }
        "PRIVACY" => {
            "수집 항목: 이름, 생년월일, 휴대폰 번호, 거래 및 정산 정보. 이용 목적: 본인 확인, 거래 진행 알림 \
             (카카오 알림톡), 대금 보관·지급·환불, 분쟁 처리. 보유 기간: 회원 탈퇴 후 5년(전자상거래법에 따른 \
             거래 기록 보존). 동의를 거부할 수 있으나 거부 시 안전거래를 이용할 수 없습니다."
        }
        "EFINANCE" => {
            "회사는 전자금융거래법에 따라 결제대금예치 업무를 수행합니다. 회원은 접근매체를 타인에게 양도할 수 \
             없으며, 거래 내역은 5년간 보존됩니다. 오류가 있으면 고객센터로 정정을 요구할 수 있고, 회사는 \
             2주 안에 조사 결과를 알립니다."
        }
        _ => "",
    }
}

/// Where a signup session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignupStatus {
    /// Waiting for the user.
    Open,
    /// The member exists.
    Completed,
    /// Refused (with a reason).
    Refused,
    /// Not finished in time.
    Expired,
}

impl SignupStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            SignupStatus::Open => "OPEN",
            SignupStatus::Completed => "COMPLETED",
            SignupStatus::Refused => "REFUSED",
            SignupStatus::Expired => "EXPIRED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "OPEN" => Some(SignupStatus::Open),
            "COMPLETED" => Some(SignupStatus::Completed),
            "REFUSED" => Some(SignupStatus::Refused),
            "EXPIRED" => Some(SignupStatus::Expired),
            _ => None,
        }
    }
}

/// A signup session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignupSession {
    /// Its id.
    pub id: uuid::Uuid,
    /// The partner.
    pub partner_id: PartnerId,
    /// The partner's user.
    pub partner_user_id: String,
    /// Where the browser goes afterwards.
    pub return_url: String,
    /// Where it stands (`Open` past `expires_at` counts as expired).
    pub status: SignupStatus,
    /// Why it was refused.
    pub refusal_reason: Option<String>,
    /// The member, once completed.
    pub member_id: Option<MemberId>,
    /// When it expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was opened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The test clock the member will live by (SPEC §16), if the partner asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<crate::ids::TestClockId>,
}

impl SignupSession {
    /// The status as of `now` (an open session past its time is expired).
    pub fn status_at(&self, now: OffsetDateTime) -> SignupStatus {
        if self.status == SignupStatus::Open && now >= self.expires_at {
            SignupStatus::Expired
        } else {
            self.status
        }
    }
}

/// One agreed term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreedTerm {
    /// Its code.
    pub code: String,
    /// Its version.
    pub version: String,
    /// When.
    pub agreed_at: OffsetDateTime,
}

/// What a person gives to verify their identity (본인인증).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClaim {
    /// Name.
    pub name: String,
    /// Birth date.
    pub birth_date: Date,
    /// Mobile phone.
    pub phone: PhoneNumber,
    /// A foreign national (as the person says; a provider's answer overrides it).
    pub foreigner: bool,
    /// The provider's proof of a verification the person completed in its window (PortOne's
    /// certification `imp_uid`), for providers that work that way.
    pub certification: Option<String>,
}

/// What the verifier confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// Name.
    pub name: String,
    /// Birth date.
    pub birth_date: Date,
    /// Mobile phone.
    pub phone: PhoneNumber,
    /// A foreign national.
    pub foreigner: bool,
}

/// The verifier could not confirm the identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity not verified: {0}")]
pub struct IdentityNotVerified(pub String);

/// Identity verification (본인인증) through an outside provider.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdentityVerifier: Send + Sync {
    /// The provider's name, recorded with the verification.
    fn provider(&self) -> &str;
    /// Verifies the claim.
    async fn verify(&self, claim: &IdentityClaim) -> Result<VerifiedIdentity, IdentityNotVerified>;
}

/// The bundled verifier for sandboxes: confirms any well-formed claim as given.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxIdentityVerifier;

#[async_trait]
impl IdentityVerifier for SandboxIdentityVerifier {
    fn provider(&self) -> &str {
        "sandbox"
    }

    async fn verify(&self, claim: &IdentityClaim) -> Result<VerifiedIdentity, IdentityNotVerified> {
        let name = claim.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(IdentityNotVerified("name".into()));
        }
        Ok(VerifiedIdentity {
            name: name.to_owned(),
            birth_date: claim.birth_date,
            phone: claim.phone.clone(),
            foreigner: claim.foreigner,
        })
    }
}

/// Why someone may not join (the manual's membership policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignupRefusal {
    /// Foreign nationals cannot join.
    Foreigner,
    /// Under 14.
    UnderFourteen,
    /// Withdrew less than a day ago.
    RejoinWithinADay,
    /// Two withdrawals in the last month.
    TooManyRejoins,
}

impl SignupRefusal {
    /// The reason code.
    pub fn code(self) -> &'static str {
        match self {
            SignupRefusal::Foreigner => "FOREIGNER",
            SignupRefusal::UnderFourteen => "UNDER_14",
            SignupRefusal::RejoinWithinADay => "REJOIN_WITHIN_A_DAY",
            SignupRefusal::TooManyRejoins => "TOO_MANY_REJOINS",
        }
    }

    /// A message for the person.
    pub fn message(self) -> &'static str {
        match self {
            SignupRefusal::Foreigner => "외국인은 가입할 수 없습니다.",
            SignupRefusal::UnderFourteen => "만 14세 미만은 가입할 수 없습니다.",
            SignupRefusal::RejoinWithinADay => "탈퇴 후 1일 이내에는 다시 가입할 수 없습니다.",
            SignupRefusal::TooManyRejoins => "한 달에 두 번 탈퇴한 경우 다시 가입할 수 없습니다.",
        }
    }
}

/// Whether a user who withdrew at `withdrawals` (any order) may join again at `now`.
pub fn rejoin_refusal(
    withdrawals: &[OffsetDateTime],
    now: OffsetDateTime,
) -> Option<SignupRefusal> {
    if withdrawals.iter().any(|w| now - *w < Duration::days(1)) {
        return Some(SignupRefusal::RejoinWithinADay);
    }
    let in_a_month = withdrawals
        .iter()
        .filter(|w| now - **w < Duration::days(30))
        .count();
    (in_a_month >= 2).then_some(SignupRefusal::TooManyRejoins)
}

/// Whether a verified person may join at `today` (Asia/Seoul): no foreigners, no one under 14
/// (만 나이: full years).
pub fn identity_refusal(identity: &VerifiedIdentity, today: Date) -> Option<SignupRefusal> {
    if identity.foreigner {
        return Some(SignupRefusal::Foreigner);
    }
    let mut age = today.year() - identity.birth_date.year();
    if (today.month() as u8, today.day())
        < (identity.birth_date.month() as u8, identity.birth_date.day())
    {
        age -= 1;
    }
    (age < 14).then_some(SignupRefusal::UnderFourteen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn person(birth: Date, foreigner: bool) -> VerifiedIdentity {
        VerifiedIdentity {
            name: "홍길동".into(),
            birth_date: birth,
            phone: PhoneNumber::new("01012345678").unwrap(),
            foreigner,
        }
    }

    #[test]
    fn fourteen_is_counted_in_full_years() {
        let today = date!(2025 - 03 - 06);
        assert_eq!(
            identity_refusal(&person(date!(2011 - 03 - 06), false), today),
            None
        );
        assert_eq!(
            identity_refusal(&person(date!(2011 - 03 - 07), false), today),
            Some(SignupRefusal::UnderFourteen)
        );
        assert_eq!(
            identity_refusal(&person(date!(1990 - 01 - 01), true), today),
            Some(SignupRefusal::Foreigner)
        );
    }

    #[test]
    fn rejoining_rules() {
        let now = datetime!(2025-03-06 10:00 UTC);
        assert_eq!(rejoin_refusal(&[], now), None);
        assert_eq!(
            rejoin_refusal(&[now - Duration::hours(23)], now),
            Some(SignupRefusal::RejoinWithinADay)
        );
        assert_eq!(rejoin_refusal(&[now - Duration::hours(25)], now), None);
        assert_eq!(
            rejoin_refusal(&[now - Duration::days(3), now - Duration::days(20)], now),
            Some(SignupRefusal::TooManyRejoins)
        );
        assert_eq!(
            rejoin_refusal(&[now - Duration::days(3), now - Duration::days(40)], now),
            None
        );
    }
}
