//! Sellers' payout accounts (SPEC §15, with §12's `AccountVerifier`): the bank account a seller is paid
//! to. It is checked by a holder-name lookup before it is stored; adapters store it sealed and show it
//! masked. A payout to a seller without a verified account waits (the payout queue does not hand it
//! out) and is listed for operators.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::reference::payout_bank_name;

/// Why an account was refused before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Not a payout bank code of the manual's table.
    #[error("bankCode: not a bank of the payout table")]
    UnknownBank,
    /// Not 10–16 digits (hyphens and spaces allowed between them).
    #[error("accountNumber: 10 to 16 digits")]
    BadNumber,
    /// Empty, longer than 30 characters, or with control characters.
    #[error("holderName: 1 to 30 characters")]
    BadHolder,
}

impl AccountError {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            AccountError::UnknownBank => "bankCode",
            AccountError::BadNumber => "accountNumber",
            AccountError::BadHolder => "holderName",
        }
    }
}

/// A bank account: bank code, number (digits only) and holder name. `Debug` shows it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct BankAccount {
    bank_code: String,
    number: String,
    holder: String,
}

impl fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankAccount")
            .field("bank_code", &self.bank_code)
            .field("number", &self.masked_number())
            .field("holder", &self.masked_holder())
            .finish()
    }
}

impl BankAccount {
    /// Checks and normalizes what a seller typed.
    pub fn new(bank_code: &str, number: &str, holder: &str) -> Result<Self, AccountError> {
        if payout_bank_name(bank_code).is_none() {
            return Err(AccountError::UnknownBank);
        }
        let digits: String = number.chars().filter(|c| *c != '-' && *c != ' ').collect();
        if !(10..=16).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(AccountError::BadNumber);
        }
        let holder = holder.trim();
        let length = holder.chars().count();
        if length == 0 || length > 30 || holder.chars().any(char::is_control) {
            return Err(AccountError::BadHolder);
        }
        Ok(BankAccount {
            bank_code: bank_code.to_owned(),
            number: digits,
            holder: holder.to_owned(),
        })
    }

    /// The bank code.
    pub fn bank_code(&self) -> &str {
        &self.bank_code
    }

    /// The account number, digits only (a secret: seal it at rest, never log it).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The holder's name as typed (personal data: seal it at rest).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// `*******1234`: the last four digits.
    pub fn masked_number(&self) -> String {
        let keep = 4.min(self.number.len());
        let (hidden, shown) = self.number.split_at(self.number.len() - keep);
        format!("{}{shown}", "*".repeat(hidden.len()))
    }

    /// `홍*동`: the first and last characters.
    pub fn masked_holder(&self) -> String {
        crate::people::masked_name(&self.holder)
    }
}

/// Whether the holder a bank reports is the one the seller typed (spaces and letter case aside).
pub fn holder_matches(typed: &str, reported: &str) -> bool {
    let normal = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    normal(typed) == normal(reported)
}

/// A stored account as people see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedAccount {
    /// The bank code.
    pub bank_code: String,
    /// The bank's name.
    pub bank_name: String,
    /// `*******1234`.
    pub number: String,
    /// `홍*동`.
    pub holder: String,
    /// When the holder-name lookup confirmed it.
    pub verified_at: OffsetDateTime,
}

impl MaskedAccount {
    /// The masked view of a refund account: the number as `123-***-7890`.
    pub fn for_refunds(account: &BankAccount, at: OffsetDateTime) -> Self {
        MaskedAccount {
            number: crate::people::masked_account(account.number()),
            ..MaskedAccount::of(account, at)
        }
    }

    /// The masked view of `account`, verified at `at`.
    pub fn of(account: &BankAccount, at: OffsetDateTime) -> Self {
        MaskedAccount {
            bank_code: account.bank_code.clone(),
            bank_name: payout_bank_name(&account.bank_code)
                .unwrap_or_default()
                .to_owned(),
            number: account.masked_number(),
            holder: account.masked_holder(),
            verified_at: at,
        }
    }
}

/// Why a holder-name lookup gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    /// The service could not be reached or failed; try again later.
    #[error("account verifier unavailable: {0}")]
    Unavailable(String),
    /// The service refused the request (configuration, credentials).
    #[error("account verifier refused the request: {0}")]
    Refused(String),
}

/// The holder-name lookup (예금주 조회) of a bank account (SPEC §12).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountVerifier: Send + Sync {
    /// The holder's name of the account, or `None` when the bank has no such account.
    async fn holder_of(
        &self,
        bank_code: &str,
        number: &str,
    ) -> Result<Option<String>, VerifierError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_checked_normalized_and_masked() {
        let a = BankAccount::new("90", "3333-01-2345678", " 홍길동 ").unwrap();
        assert_eq!(a.number(), "3333012345678");
        assert_eq!(a.holder(), "홍길동");
        assert_eq!(a.masked_number(), "*********5678");
        assert_eq!(a.masked_holder(), "홍*동");
        let debug = format!("{a:?}");
        assert!(
            !debug.contains("3333012345678") && !debug.contains("홍길동"),
            "{debug}"
        );
        assert_eq!(
            BankAccount::new("99", "3333012345678", "홍길동"),
            Err(AccountError::UnknownBank)
        );
        for bad in ["123", "12345678901234567", "3333O12345678", ""] {
            assert_eq!(
                BankAccount::new("90", bad, "홍길동"),
                Err(AccountError::BadNumber),
                "{bad}"
            );
        }
        for bad in ["", "  ", "홍\u{0}동", &"가".repeat(31)] {
            assert_eq!(
                BankAccount::new("90", "3333012345678", bad),
                Err(AccountError::BadHolder)
            );
        }
        assert_eq!(
            BankAccount::new("90", "3333012345678", "Kim")
                .unwrap()
                .masked_holder(),
            "K*m"
        );
    }

    #[test]
    fn holders_match_regardless_of_spaces_and_case() {
        assert!(holder_matches("홍 길동", "홍길동"));
        assert!(holder_matches("john kim", "JOHN KIM"));
        assert!(!holder_matches("홍길동", "홍길순"));
    }
}
