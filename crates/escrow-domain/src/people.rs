//! Partners (제휴사) and members (회원), and the secrets that come with them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{MemberId, PartnerId};

/// A value that must never appear in logs or `Debug` output (keys, member keys, phone numbers).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (signing, sending).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A Korean mobile number (digits only, `01…`, 10–11 digits). Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(Secret);

/// A phone number that is not a Korean mobile number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mobile phone number (01 followed by 8 or 9 digits)")]
pub struct InvalidPhoneNumber;

impl PhoneNumber {
    /// Checks and normalises (hyphens and spaces are dropped).
    pub fn new(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let digits: String = raw.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        if digits.starts_with("01")
            && (10..=11).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            Ok(PhoneNumber(Secret(digits)))
        } else {
            Err(InvalidPhoneNumber)
        }
    }

    /// The digits, for the AlimTalk recipient only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhoneNumber([REDACTED])")
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = InvalidPhoneNumber;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::new(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0 .0
    }
}

/// Whether a partner may call the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnerStatus {
    /// In service.
    Active,
    /// Switched off by an operator.
    Suspended,
}

impl PartnerStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            PartnerStatus::Active => "ACTIVE",
            PartnerStatus::Suspended => "SUSPENDED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ACTIVE" => Some(PartnerStatus::Active),
            "SUSPENDED" => Some(PartnerStatus::Suspended),
            _ => None,
        }
    }
}

/// Whether a partner's traffic is real (SPEC §16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PartnerMode {
    /// Real buyers, real money.
    #[default]
    Live,
    /// A partner's test integration: payments only through simulators, AlimTalks only to the
    /// AlimTalk simulator, never in the bank file; it may use test clocks.
    Test,
}

impl PartnerMode {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            PartnerMode::Live => "LIVE",
            PartnerMode::Test => "TEST",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "LIVE" => Some(PartnerMode::Live),
            "TEST" => Some(PartnerMode::Test),
            _ => None,
        }
    }
}

/// A marketplace integrating the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// Its id.
    pub id: PartnerId,
    /// A short stable code (`demo-market`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// The `X-Api-Key` it signs with.
    pub api_key_id: String,
    /// Where callbacks go.
    pub webhook_url: Option<String>,
    /// Origins its `returnUrl`s may point to.
    pub allowed_redirect_origins: Vec<String>,
    /// In service or not.
    pub status: PartnerStatus,
    /// Live or test.
    #[serde(default)]
    pub mode: PartnerMode,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A partner's secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSecrets {
    /// The HMAC key of its API calls.
    pub api_secret: Secret,
    /// The HMAC key of its callbacks.
    pub webhook_secret: Option<Secret>,
    /// The previous callback key, still signed with during a rotation.
    pub webhook_secret_previous: Option<Secret>,
}

/// Where a member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// May trade.
    Active,
    /// Inactive for long; may not trade until reactivated.
    Dormant,
    /// Left.
    Withdrawn,
}

impl MemberStatus {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            MemberStatus::Active => "ACTIVE",
            MemberStatus::Dormant => "DORMANT",
            MemberStatus::Withdrawn => "WITHDRAWN",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "ACTIVE" => Some(MemberStatus::Active),
            "DORMANT" => Some(MemberStatus::Dormant),
            "WITHDRAWN" => Some(MemberStatus::Withdrawn),
            _ => None,
        }
    }
}

/// A person registered through a partner; buyer or seller per trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Its id.
    pub id: MemberId,
    /// Its partner.
    pub partner_id: PartnerId,
    /// The partner's own user id.
    pub partner_user_id: String,
    /// Where it stands.
    pub status: MemberStatus,
    /// Verified name.
    pub name: String,
    /// Verified mobile number (AlimTalk recipient).
    pub phone: PhoneNumber,
    /// Verified birth date.
    pub birth_date: Date,
    /// When it joined.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it left.
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    /// The test clock its checkouts and trades live by (SPEC §16), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_clock: Option<crate::ids::TestClockId>,
}

/// A person's name as shown to others: the first and last characters (`홍*동`, `김*`).
pub fn masked_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_phone_numbers_never_show_in_debug() {
        let p = PhoneNumber::new("010-1234-5678").unwrap();
        assert_eq!(p.expose(), "01012345678");
        assert!(!format!("{p:?}").contains("1234"));
        let s = Secret::new("top-secret");
        assert!(!format!("{s:?}").contains("top-secret"));
        let secrets = PartnerSecrets {
            api_secret: s,
            webhook_secret: None,
            webhook_secret_previous: None,
        };
        assert!(!format!("{secrets:?}").contains("top-secret"));
    }

    #[test]
    fn only_mobile_numbers_are_accepted() {
        for bad in ["02-123-4567", "0101234567890", "010-12a4-5678", ""] {
            assert!(PhoneNumber::new(bad).is_err(), "{bad}");
        }
        assert!(PhoneNumber::new("01612345678").is_ok());
    }
}

/// An account number as buyers and operators see it: `123-***-7890` (the first three and last four
/// digits; a shorter number shows only its last four).
pub fn masked_account(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let last: String = digits[n.saturating_sub(4)..].iter().collect();
    if n >= 10 {
        let first: String = digits[..3].iter().collect();
        format!("{first}-***-{last}")
    } else {
        format!("***-{last}")
    }
}

#[cfg(test)]
mod masking_tests {
    #[test]
    fn an_account_number_shows_three_and_four_digits() {
        assert_eq!(super::masked_account("1234567890"), "123-***-7890");
        assert_eq!(super::masked_account("123-4567-89012"), "123-***-9012");
        assert_eq!(super::masked_account("56789"), "***-6789");
    }
}
