//! Registering a seller's payout account and a buyer's refund account: checked, looked up by holder
//! name, then stored.

use std::sync::Arc;

use crate::ids::{MemberId, PartnerId};
use crate::payout_account::{
    holder_matches, AccountError, AccountVerifier, BankAccount, MaskedAccount, VerifierError,
};
use crate::ports::{Clock, PayoutAccountRepository, RefundAccountRepository, RepositoryError};

/// Why an account was not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayoutAccountError {
    /// The input is not an account.
    #[error(transparent)]
    Invalid(#[from] AccountError),
    /// The bank has no such account.
    #[error("the bank has no such account")]
    NotFound,
    /// The account's holder is someone else.
    #[error("the account holder's name differs")]
    HolderMismatch,
    /// The lookup failed.
    #[error(transparent)]
    Verifier(#[from] VerifierError),
    /// Storage failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Checks what a member typed and looks the account up by holder name at the bank; answers the
/// account with the holder as the bank spells it.
pub async fn verified_account(
    verifier: &dyn AccountVerifier,
    bank_code: &str,
    number: &str,
    holder: &str,
) -> Result<BankAccount, PayoutAccountError> {
    let account = BankAccount::new(bank_code, number, holder)?;
    let reported = verifier
        .holder_of(account.bank_code(), account.number())
        .await?
        .ok_or(PayoutAccountError::NotFound)?;
    if !holder_matches(account.holder(), &reported) {
        return Err(PayoutAccountError::HolderMismatch);
    }
    Ok(BankAccount::new(account.bank_code(), account.number(), &reported).unwrap_or(account))
}

/// Buyers' refund accounts (SPEC §12): where a virtual-account payment is refunded to, verified
/// through the account-verification MID like payout accounts, shown masked `123-***-7890`.
pub struct RefundAccountService {
    verifier: Arc<dyn AccountVerifier>,
    accounts: Arc<dyn RefundAccountRepository>,
    clock: Arc<dyn Clock>,
}

impl RefundAccountService {
    /// Over these ports.
    pub fn new(
        verifier: Arc<dyn AccountVerifier>,
        accounts: Arc<dyn RefundAccountRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        RefundAccountService {
            verifier,
            accounts,
            clock,
        }
    }

    /// Registers (or replaces) the member's refund account once the bank confirms its holder;
    /// returns it masked.
    pub async fn register(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        bank_code: &str,
        number: &str,
        holder: &str,
    ) -> Result<MaskedAccount, PayoutAccountError> {
        let account = verified_account(self.verifier.as_ref(), bank_code, number, holder).await?;
        let at = self.clock.now();
        self.accounts
            .save_refund_account(partner_id, member_id, &account, at)
            .await?;
        Ok(MaskedAccount::for_refunds(&account, at))
    }

    /// The member's refund account, masked.
    pub async fn get(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<MaskedAccount>, RepositoryError> {
        Ok(self
            .accounts
            .refund_account(partner_id, member_id)
            .await?
            .map(|(account, at)| MaskedAccount::for_refunds(&account, at)))
    }
}

/// Sellers' payout accounts.
pub struct PayoutAccountService {
    verifier: Arc<dyn AccountVerifier>,
    accounts: Arc<dyn PayoutAccountRepository>,
    clock: Arc<dyn Clock>,
}

impl PayoutAccountService {
    /// Over these ports.
    pub fn new(
        verifier: Arc<dyn AccountVerifier>,
        accounts: Arc<dyn PayoutAccountRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        PayoutAccountService {
            verifier,
            accounts,
            clock,
        }
    }

    /// Registers the member's account once the bank confirms its holder (stored as the bank spells it);
    /// returns it masked.
    pub async fn register(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        bank_code: &str,
        number: &str,
        holder: &str,
    ) -> Result<MaskedAccount, PayoutAccountError> {
        let account = verified_account(self.verifier.as_ref(), bank_code, number, holder).await?;
        let at = self.clock.now();
        self.accounts
            .save(partner_id, member_id, &account, at)
            .await?;
        Ok(MaskedAccount::of(&account, at))
    }

    /// Due payouts waiting for their seller's account (for operators).
    pub async fn waiting(&self) -> Result<Vec<crate::ports::WaitingPayout>, RepositoryError> {
        self.accounts.payouts_waiting().await
    }

    /// The member's account, masked.
    pub async fn get(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<MaskedAccount>, RepositoryError> {
        self.accounts.get(partner_id, member_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payout_account::MockAccountVerifier;
    use crate::ports::{MockClock, MockPayoutAccountRepository};

    fn service(
        verifier: MockAccountVerifier,
        accounts: MockPayoutAccountRepository,
    ) -> PayoutAccountService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| time::macros::datetime!(2026-11-23 10:00 UTC));
        PayoutAccountService::new(Arc::new(verifier), Arc::new(accounts), Arc::new(clock))
    }

    fn ids() -> (PartnerId, MemberId) {
        (PartnerId(uuid::Uuid::nil()), MemberId(uuid::Uuid::nil()))
    }

    #[tokio::test]
    async fn an_account_is_stored_only_when_the_bank_confirms_its_holder() {
        let mut verifier = MockAccountVerifier::new();
        verifier
            .expect_holder_of()
            .withf(|bank, number| bank == "90" && number == "3333012345678")
            .returning(|_, _| Ok(Some("홍길동".into())));
        let mut accounts = MockPayoutAccountRepository::new();
        accounts
            .expect_save()
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        let (p, m) = ids();
        let masked = service(verifier, accounts)
            .register(p, m, "90", "3333-01-2345678", "홍 길동")
            .await
            .unwrap();
        assert_eq!(masked.number, "*********5678");
        assert_eq!(masked.bank_name, "카카오뱅크");
    }

    #[tokio::test]
    async fn another_holder_an_unknown_account_or_a_failed_lookup_stores_nothing() {
        let (p, m) = ids();
        for (answer, expected) in [
            (
                Ok(Some("김철수".to_owned())),
                PayoutAccountError::HolderMismatch,
            ),
            (Ok(None), PayoutAccountError::NotFound),
            (
                Err(VerifierError::Unavailable("503".into())),
                PayoutAccountError::Verifier(VerifierError::Unavailable("503".into())),
            ),
        ] {
            let mut verifier = MockAccountVerifier::new();
            verifier
                .expect_holder_of()
                .returning(move |_, _| answer.clone());
            let mut accounts = MockPayoutAccountRepository::new();
            accounts.expect_save().never();
            let got = service(verifier, accounts)
                .register(p, m, "90", "3333012345678", "홍길동")
                .await;
            assert_eq!(got, Err(expected));
        }
        let mut verifier = MockAccountVerifier::new();
        verifier.expect_holder_of().never();
        let got = service(verifier, MockPayoutAccountRepository::new())
            .register(p, m, "99", "3333012345678", "홍길동")
            .await;
        assert_eq!(
            got,
            Err(PayoutAccountError::Invalid(AccountError::UnknownBank))
        );
    }
}
