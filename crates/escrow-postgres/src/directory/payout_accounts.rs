//! Sellers' payout accounts: sealed number and holder, masked forms for display.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::{MemberId, PartnerId, TradeId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::money_out::PayoutStatus;
use escrow_domain::payout_account::{BankAccount, MaskedAccount};
use escrow_domain::ports::{PayoutAccountRepository, RepositoryError, WaitingPayout};
use escrow_domain::reference::payout_bank_name;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Directory;
use crate::errors::{corrupt, pool_error, storage_error};
use crate::schema::payout_accounts as a;

/// The sealing context of a payout account's column: the ciphertext only opens as that member's.
pub(crate) fn account_context(column: &str, member: Uuid) -> String {
    format!("payout_accounts.{column}:{member}")
}

#[async_trait]
impl PayoutAccountRepository for Directory {
    async fn save(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
        account: &BankAccount,
        verified_at: OffsetDateTime,
    ) -> Result<(), RepositoryError> {
        let member = member_id.0;
        let number = self
            .sealer
            .seal(account.number(), &account_context("number", member))?;
        let holder = self
            .sealer
            .seal(account.holder(), &account_context("holder", member))?;
        let row = (
            a::member_id.eq(member),
            a::partner_id.eq(partner_id.0),
            a::bank_code.eq(account.bank_code()),
            a::number_sealed.eq(&number),
            a::holder_sealed.eq(&holder),
            a::number_masked.eq(account.masked_number()),
            a::holder_masked.eq(account.masked_holder()),
            a::verified_at.eq(verified_at),
            a::updated_at.eq(verified_at),
        );
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(a::table)
            .values(row)
            .on_conflict(a::member_id)
            .do_update()
            .set((
                a::bank_code.eq(account.bank_code()),
                a::number_sealed.eq(&number),
                a::holder_sealed.eq(&holder),
                a::number_masked.eq(account.masked_number()),
                a::holder_masked.eq(account.masked_holder()),
                a::verified_at.eq(verified_at),
                a::updated_at.eq(verified_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn get(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Option<MaskedAccount>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Option<(String, String, String, OffsetDateTime)> = a::table
            .filter(a::member_id.eq(member_id.0))
            .filter(a::partner_id.eq(partner_id.0))
            .select((
                a::bank_code,
                a::number_masked,
                a::holder_masked,
                a::verified_at,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        Ok(
            row.map(|(bank_code, number, holder, verified_at)| MaskedAccount {
                bank_name: payout_bank_name(&bank_code).unwrap_or_default().to_owned(),
                bank_code,
                number,
                holder,
                verified_at,
            }),
        )
    }

    async fn payouts_waiting(&self) -> Result<Vec<WaitingPayout>, RepositoryError> {
        use crate::schema::{payouts, trades};
        use diesel::JoinOnDsl;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(i64, Uuid, Uuid, Uuid, i64, String, time::Date)> = payouts::table
            .inner_join(trades::table.on(trades::id.eq(payouts::trade_id)))
            .filter(payouts::status.eq(PayoutStatus::Due.code()))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                a::table.filter(a::member_id.eq(payouts::seller_id)),
            )))
            .order((payouts::due_date.asc(), payouts::id.asc()))
            .select((
                payouts::id,
                payouts::trade_id,
                trades::partner_id,
                payouts::seller_id,
                payouts::amount,
                payouts::currency,
                payouts::due_date,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(|(id, trade, partner, seller, amount, currency, due)| {
                let currency: Currency = currency.parse().map_err(corrupt)?;
                Ok(WaitingPayout {
                    payout_id: id,
                    trade_id: TradeId(trade),
                    partner_id: PartnerId(partner),
                    seller_id: MemberId(seller),
                    amount: Money::new(amount, currency),
                    due_date: due,
                })
            })
            .collect()
    }
}

impl Directory {
    /// Seals again every payout account number and holder (and their copies in payout instructions)
    /// that is sealed with an older master key; returns how many rows changed.
    pub async fn reseal_payout_accounts(&self) -> Result<usize, RepositoryError> {
        use crate::schema::payout_instructions as p;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let reseal = |value: &str, column: &str, member: Uuid| -> Result<String, RepositoryError> {
            let context = account_context(column, member);
            self.sealer
                .seal(&self.sealer.open(value, &context)?, &context)
        };
        let mut changed = 0;
        let accounts: Vec<(Uuid, String, String)> = a::table
            .select((a::member_id, a::number_sealed, a::holder_sealed))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        for (member, number, holder) in accounts {
            if !(self.sealer.needs_reseal(&number) || self.sealer.needs_reseal(&holder)) {
                continue;
            }
            diesel::update(a::table.filter(a::member_id.eq(member)))
                .set((
                    a::number_sealed.eq(reseal(&number, "number", member)?),
                    a::holder_sealed.eq(reseal(&holder, "holder", member)?),
                ))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
            changed += 1;
        }
        let instructions: Vec<(i64, Uuid, Option<String>, Option<String>)> = p::table
            .select((p::id, p::seller_id, p::account_sealed, p::holder_sealed))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        for (id, member, number, holder) in instructions {
            let (Some(number), Some(holder)) = (number, holder) else {
                continue;
            };
            if !(self.sealer.needs_reseal(&number) || self.sealer.needs_reseal(&holder)) {
                continue;
            }
            diesel::update(p::table.filter(p::id.eq(id)))
                .set((
                    p::account_sealed.eq(Some(reseal(&number, "number", member)?)),
                    p::holder_sealed.eq(Some(reseal(&holder, "holder", member)?)),
                ))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
            changed += 1;
        }
        Ok(changed)
    }
}
