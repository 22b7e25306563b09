//! A member's address book (SPEC §13, seed 004 배송지): named shipping addresses, one of them the
//! prime (default) address whenever any exist. The first address is prime; making another prime
//! moves the mark; deleting the prime one makes the most recently saved remaining address prime.
//!
//! The repository keeps the rule atomically (a member's changes are serialised and the database
//! refuses a second prime); the service checks ownership and the size of the book.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::checkout::ShippingAddress;
use crate::ids::{MemberId, PartnerId};
use crate::ports::{Clock, RepositoryError};

/// How many addresses one member may keep.
pub const MAX_ADDRESSES: usize = 20;

/// A saved address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAddress {
    /// Its id.
    pub id: i64,
    /// The member's name for it ("집", "회사").
    pub name: String,
    /// Where the goods go.
    pub shipping: ShippingAddress,
    /// Whether it is the member's default address.
    pub prime: bool,
    /// When it was saved first.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// An address to save (new or replacing one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressDraft {
    /// The member's name for it.
    pub name: String,
    /// Where the goods go.
    pub shipping: ShippingAddress,
    /// `true` makes it the default; `false` leaves the default where it is (the first address is
    /// the default anyway: an address stops being the default only when another one becomes it).
    pub prime: bool,
}

/// Whose address book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressOwner {
    /// The partner.
    pub partner_id: PartnerId,
    /// The member.
    pub member_id: MemberId,
}

/// Storage of address books. Every method works on the owner's addresses only (another member's
/// id is simply not found) and keeps "exactly one prime whenever any exist" in its transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AddressBookRepository: Send + Sync {
    /// Saves a new address; `None` (nothing written) when the owner already keeps `limit`.
    async fn add_address(
        &self,
        owner: AddressOwner,
        draft: &AddressDraft,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError>;

    /// The owner's addresses, the prime one first, then the most recent first.
    async fn addresses(&self, owner: AddressOwner) -> Result<Vec<SavedAddress>, RepositoryError>;

    /// One of the owner's addresses.
    async fn address(
        &self,
        owner: AddressOwner,
        id: i64,
    ) -> Result<Option<SavedAddress>, RepositoryError>;

    /// Replaces an address (and makes it prime when the draft says so); `None` when not found.
    async fn update_address(
        &self,
        owner: AddressOwner,
        id: i64,
        draft: &AddressDraft,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError>;

    /// Deletes an address; when it was prime, the most recent remaining one becomes prime.
    /// `false` when not found.
    async fn remove_address(
        &self,
        owner: AddressOwner,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;

    /// Makes an address the prime one; `None` when not found.
    async fn make_prime(
        &self,
        owner: AddressOwner,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError>;
}

/// Why an address-book command was refused.
#[derive(Debug, thiserror::Error)]
pub enum AddressBookError {
    /// No such address in the member's book (another member's included).
    #[error("address not found")]
    NotFound,
    /// The book already holds [`MAX_ADDRESSES`].
    #[error("the address book is full")]
    Full,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// The address-book use cases.
pub struct AddressBook {
    repo: Arc<dyn AddressBookRepository>,
    clock: Arc<dyn Clock>,
}

impl AddressBook {
    /// Over this storage and clock.
    pub fn new(repo: Arc<dyn AddressBookRepository>, clock: Arc<dyn Clock>) -> Self {
        AddressBook { repo, clock }
    }

    /// Saves a new address (the first one is prime whatever the draft says).
    pub async fn add(
        &self,
        owner: AddressOwner,
        draft: AddressDraft,
    ) -> Result<SavedAddress, AddressBookError> {
        self.repo
            .add_address(owner, &draft, MAX_ADDRESSES, self.clock.now())
            .await?
            .ok_or(AddressBookError::Full)
    }

    /// The member's addresses, prime first.
    pub async fn list(&self, owner: AddressOwner) -> Result<Vec<SavedAddress>, AddressBookError> {
        Ok(self.repo.addresses(owner).await?)
    }

    /// One address of the member's.
    pub async fn get(
        &self,
        owner: AddressOwner,
        id: i64,
    ) -> Result<SavedAddress, AddressBookError> {
        self.repo
            .address(owner, id)
            .await?
            .ok_or(AddressBookError::NotFound)
    }

    /// Replaces an address.
    pub async fn update(
        &self,
        owner: AddressOwner,
        id: i64,
        draft: AddressDraft,
    ) -> Result<SavedAddress, AddressBookError> {
        self.repo
            .update_address(owner, id, &draft, self.clock.now())
            .await?
            .ok_or(AddressBookError::NotFound)
    }

    /// Deletes an address.
    pub async fn remove(&self, owner: AddressOwner, id: i64) -> Result<(), AddressBookError> {
        if self
            .repo
            .remove_address(owner, id, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(AddressBookError::NotFound)
        }
    }

    /// Makes an address the default.
    pub async fn make_prime(
        &self,
        owner: AddressOwner,
        id: i64,
    ) -> Result<SavedAddress, AddressBookError> {
        self.repo
            .make_prime(owner, id, self.clock.now())
            .await?
            .ok_or(AddressBookError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::people::PhoneNumber;
    use crate::ports::MockClock;
    use time::macros::datetime;

    fn owner() -> AddressOwner {
        AddressOwner {
            partner_id: PartnerId::random(),
            member_id: MemberId::random(),
        }
    }

    fn draft() -> AddressDraft {
        AddressDraft {
            name: "집".into(),
            shipping: ShippingAddress {
                recipient: "김영희".into(),
                phone: PhoneNumber::new("010-3333-3333").unwrap(),
                postcode: "11611".into(),
                address: "경기 의정부시 가금로 29".into(),
                address_detail: "303호".into(),
                requirement: None,
            },
            prime: false,
        }
    }

    fn clock() -> Arc<dyn Clock> {
        let mut c = MockClock::new();
        c.expect_now().return_const(datetime!(2026-12-04 10:00 UTC));
        Arc::new(c)
    }

    #[tokio::test]
    async fn a_full_book_refuses_another_address_and_passes_the_limit_to_storage() {
        let mut repo = MockAddressBookRepository::new();
        repo.expect_add_address()
            .withf(|_, _, limit, _| *limit == MAX_ADDRESSES)
            .returning(|_, _, _, _| Ok(None));
        let book = AddressBook::new(Arc::new(repo), clock());
        assert!(matches!(
            book.add(owner(), draft()).await,
            Err(AddressBookError::Full)
        ));
    }

    #[tokio::test]
    async fn an_unknown_or_foreign_address_is_not_found_for_every_command() {
        let mut repo = MockAddressBookRepository::new();
        repo.expect_address().returning(|_, _| Ok(None));
        repo.expect_update_address()
            .returning(|_, _, _, _| Ok(None));
        repo.expect_remove_address().returning(|_, _, _| Ok(false));
        repo.expect_make_prime().returning(|_, _, _| Ok(None));
        let book = AddressBook::new(Arc::new(repo), clock());
        let o = owner();
        assert!(matches!(
            book.get(o, 7).await,
            Err(AddressBookError::NotFound)
        ));
        assert!(matches!(
            book.update(o, 7, draft()).await,
            Err(AddressBookError::NotFound)
        ));
        assert!(matches!(
            book.remove(o, 7).await,
            Err(AddressBookError::NotFound)
        ));
        assert!(matches!(
            book.make_prime(o, 7).await,
            Err(AddressBookError::NotFound)
        ));
    }
}
