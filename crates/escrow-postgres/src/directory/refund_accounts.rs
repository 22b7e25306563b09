//! Buyers' refund accounts (SPEC §12): bank code, sealed number and holder.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::{MemberId, PartnerId};
use escrow_domain::payout_account::BankAccount;
use escrow_domain::ports::{RefundAccountRepository, RepositoryError};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use crate::errors::{corrupt, pool_error, storage_error};
use crate::schema::refund_accounts as r;

/// The sealing context of a refund account's column: the ciphertext only opens as that member's.
fn context(column: &str, member: Uuid) -> String {
    format!("refund_accounts.{column}:{member}")
}

#[async_trait]
impl RefundAccountRepository for Directory {
    async fn save_refund_account(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        account: &BankAccount,
        verified_at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        let member = member_id.0;
        let number = self
            .sealer
            .seal(account.number(), &context("number", member))?;
        let holder = self
            .sealer
            .seal(account.holder(), &context("holder", member))?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(r::table)
            .values((
                r::member_id.eq(member),
                r::partner_id.eq(partner_id.0),
                r::bank_code.eq(account.bank_code()),
                r::number_sealed.eq(&number),
                r::holder_sealed.eq(&holder),
                r::verified_at.eq(verified_at),
                r::updated_at.eq(verified_at),
            ))
            .on_conflict(r::member_id)
            .do_update()
            .set((
                r::bank_code.eq(account.bank_code()),
                r::number_sealed.eq(&number),
                r::holder_sealed.eq(&holder),
                r::verified_at.eq(verified_at),
                r::updated_at.eq(verified_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn refund_account(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<(BankAccount, OffsetDateTime)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Option<(String, String, String, OffsetDateTime)> = r::table
            .filter(r::member_id.eq(member_id.0))
            .filter(r::partner_id.eq(partner_id.0))
            .select((
                r::bank_code,
                r::number_sealed,
                r::holder_sealed,
                r::verified_at,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        let Some((bank, number, holder, at)) = row else {
            return Ok(None);
        };
        let member = member_id.0;
        let number = self.sealer.open(&number, &context("number", member))?;
        let holder = self.sealer.open(&holder, &context("holder", member))?;
        let account = BankAccount::new(&bank, &number, &holder).map_err(corrupt)?;
        Ok(Some((account, at)))
    }
}

impl Directory {
    /// Seals again every refund account sealed with an older master key; returns how many changed.
    pub async fn reseal_refund_accounts(&self) -> Result<usize, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(Uuid, String, String)> = r::table
            .select((r::member_id, r::number_sealed, r::holder_sealed))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut changed = 0;
        for (member, number, holder) in rows {
            if !(self.sealer.needs_reseal(&number) || self.sealer.needs_reseal(&holder)) {
                continue;
            }
            let reseal = |value: &str, column: &str| -> Result<String, RepositoryError> {
                let c = context(column, member);
                self.sealer.seal(&self.sealer.open(value, &c)?, &c)
            };
            diesel::update(r::table.filter(r::member_id.eq(member)))
                .set((
                    r::number_sealed.eq(reseal(&number, "number")?),
                    r::holder_sealed.eq(reseal(&holder, "holder")?),
                ))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
            changed += 1;
        }
        Ok(changed)
    }
}
