//! Members' address books (SPEC §13). Every change locks the member's row first, so one member's
//! changes run one after another; the partial unique index refuses a second prime and a constraint
//! trigger refuses a commit that leaves addresses without a prime one.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::address_book::{
    AddressBookRepository, AddressDraft, AddressOwner, SavedAddress,
};
use escrow_domain::checkout::ShippingAddress;
use escrow_domain::people::PhoneNumber;
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;

use super::Directory;
use crate::errors::{corrupt, pool_error, storage_error, TxError};
use crate::schema::{addresses as a, members};

#[derive(diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = a)]
struct AddressRow {
    id: i64,
    name: String,
    recipient: String,
    contact: String,
    postcode: String,
    address: String,
    address_detail: String,
    requirement: Option<String>,
    prime: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl AddressRow {
    fn into_domain(self) -> Result<SavedAddress, RepositoryError> {
        Ok(SavedAddress {
            id: self.id,
            name: self.name,
            shipping: ShippingAddress {
                recipient: self.recipient,
                phone: PhoneNumber::new(&self.contact).map_err(|_| corrupt("address contact"))?,
                postcode: self.postcode,
                address: self.address,
                address_detail: self.address_detail,
                requirement: self.requirement,
            },
            prime: self.prime,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Locks the owner's member row (serialising the member's address changes); `false` when the
/// member is not the partner's.
async fn lock_member(
    conn: &mut AsyncPgConnection,
    owner: AddressOwner,
) -> Result<bool, diesel::result::Error> {
    let found: Option<uuid::Uuid> = members::table
        .filter(members::id.eq(owner.member_id.0))
        .filter(members::partner_id.eq(owner.partner_id.0))
        .select(members::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

async fn find(
    conn: &mut AsyncPgConnection,
    owner: AddressOwner,
    id: i64,
) -> Result<Option<AddressRow>, diesel::result::Error> {
    a::table
        .filter(a::id.eq(id))
        .filter(a::member_id.eq(owner.member_id.0))
        .filter(a::partner_id.eq(owner.partner_id.0))
        .select(AddressRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Takes the prime mark off the owner's prime address (before another one gets it: the unique index
/// is checked row by row).
async fn clear_prime(
    conn: &mut AsyncPgConnection,
    owner: AddressOwner,
    now: OffsetDateTime,
) -> Result<(), diesel::result::Error> {
    diesel::update(
        a::table
            .filter(a::member_id.eq(owner.member_id.0))
            .filter(a::prime.eq(true)),
    )
    .set((a::prime.eq(false), a::updated_at.eq(now)))
    .execute(conn)
    .await?;
    Ok(())
}

/// What a draft writes to an address row (insert and update alike).
#[derive(diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = a, treat_none_as_null = true)]
struct AddressFields<'d> {
    name: &'d str,
    recipient: &'d str,
    contact: &'d str,
    postcode: &'d str,
    address: &'d str,
    address_detail: &'d str,
    requirement: Option<&'d str>,
}

impl<'d> AddressFields<'d> {
    fn of(draft: &'d AddressDraft) -> Self {
        let s = &draft.shipping;
        AddressFields {
            name: &draft.name,
            recipient: &s.recipient,
            contact: s.phone.expose(),
            postcode: &s.postcode,
            address: &s.address,
            address_detail: &s.address_detail,
            requirement: s.requirement.as_deref(),
        }
    }
}

fn into_saved(row: Option<AddressRow>) -> Result<Option<SavedAddress>, RepositoryError> {
    row.map(AddressRow::into_domain).transpose()
}

#[async_trait]
impl AddressBookRepository for Directory {
    async fn add_address(
        &self,
        owner: AddressOwner,
        draft: &AddressDraft,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = conn
            .transaction(async move |conn| -> Result<_, TxError> {
                if !lock_member(conn, owner).await? {
                    return Ok(None);
                }
                let kept: i64 = a::table
                    .filter(a::member_id.eq(owner.member_id.0))
                    .count()
                    .get_result(conn)
                    .await?;
                if kept >= limit as i64 {
                    return Ok(None);
                }
                let prime = kept == 0 || draft.prime;
                if prime {
                    clear_prime(conn, owner, now).await?;
                }
                let row = diesel::insert_into(a::table)
                    .values((
                        AddressFields::of(draft),
                        a::partner_id.eq(owner.partner_id.0),
                        a::member_id.eq(owner.member_id.0),
                        a::prime.eq(prime),
                        a::created_at.eq(now),
                        a::updated_at.eq(now),
                    ))
                    .returning(AddressRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok(Some(row))
            })
            .await
            .map_err(|e| e.0)?;
        into_saved(row)
    }

    async fn addresses(&self, owner: AddressOwner) -> Result<Vec<SavedAddress>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<AddressRow> = a::table
            .filter(a::member_id.eq(owner.member_id.0))
            .filter(a::partner_id.eq(owner.partner_id.0))
            .order((a::prime.desc(), a::created_at.desc(), a::id.desc()))
            .select(AddressRow::as_select())
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter().map(AddressRow::into_domain).collect()
    }

    async fn address(
        &self,
        owner: AddressOwner,
        id: i64,
    ) -> Result<Option<SavedAddress>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = find(&mut conn, owner, id).await.map_err(storage_error)?;
        into_saved(row)
    }

    async fn update_address(
        &self,
        owner: AddressOwner,
        id: i64,
        draft: &AddressDraft,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = conn
            .transaction(async move |conn| -> Result<_, TxError> {
                if !lock_member(conn, owner).await? || find(conn, owner, id).await?.is_none() {
                    return Ok(None);
                }
                if draft.prime {
                    clear_prime(conn, owner, now).await?;
                    diesel::update(a::table.filter(a::id.eq(id)))
                        .set(a::prime.eq(true))
                        .execute(conn)
                        .await?;
                }
                let row = diesel::update(a::table.filter(a::id.eq(id)))
                    .set((AddressFields::of(draft), a::updated_at.eq(now)))
                    .returning(AddressRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok(Some(row))
            })
            .await
            .map_err(|e| e.0)?;
        into_saved(row)
    }

    async fn remove_address(
        &self,
        owner: AddressOwner,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            if !lock_member(conn, owner).await? {
                return Ok(false);
            }
            let removed: Option<bool> = diesel::delete(
                a::table
                    .filter(a::id.eq(id))
                    .filter(a::member_id.eq(owner.member_id.0))
                    .filter(a::partner_id.eq(owner.partner_id.0)),
            )
            .returning(a::prime)
            .get_result(conn)
            .await
            .optional()?;
            let Some(was_prime) = removed else {
                return Ok(false);
            };
            if was_prime {
                let newest: Option<i64> = a::table
                    .filter(a::member_id.eq(owner.member_id.0))
                    .order((a::created_at.desc(), a::id.desc()))
                    .select(a::id)
                    .first(conn)
                    .await
                    .optional()?;
                if let Some(next) = newest {
                    diesel::update(a::table.filter(a::id.eq(next)))
                        .set((a::prime.eq(true), a::updated_at.eq(now)))
                        .execute(conn)
                        .await?;
                }
            }
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn make_prime(
        &self,
        owner: AddressOwner,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<SavedAddress>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = conn
            .transaction(async move |conn| -> Result<_, TxError> {
                if !lock_member(conn, owner).await? || find(conn, owner, id).await?.is_none() {
                    return Ok(None);
                }
                clear_prime(conn, owner, now).await?;
                let row = diesel::update(a::table.filter(a::id.eq(id)))
                    .set((a::prime.eq(true), a::updated_at.eq(now)))
                    .returning(AddressRow::as_returning())
                    .get_result(conn)
                    .await?;
                Ok(Some(row))
            })
            .await
            .map_err(|e| e.0)?;
        into_saved(row)
    }
}
