//! The money ledger in PostgreSQL: journal postings written in the caller's transaction (the table
//! refuses UPDATE and DELETE), the facts the ledger check reads, and partners' settlement lines.

use std::collections::HashMap;

use async_trait::async_trait;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use escrow_domain::ids::{CheckoutId, MemberId, PartnerId, TradeId};
use escrow_domain::ledger::{
    Account, JournalEntry, LedgerEvent, LedgerFacts, Movements, PayoutMoney, RefundMoney,
    TradeMoney,
};
use escrow_domain::money::{Currency, Money};
use escrow_domain::money_out::{PayoutStatus, RefundStatus};
use escrow_domain::ports::{LedgerReader, RepositoryError, SettlementLine, SettlementQueries};
use escrow_domain::trade::{TradeStatus, WithdrawalStatus};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::journal_postings as j;

/// The refund or payout row an entry is about, when there is one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MoneyRows {
    /// The refund row.
    pub refund_id: Option<i64>,
    /// The payout row.
    pub payout_id: Option<i64>,
}

/// Writes `entries` (one statement), in the caller's transaction. A movement posted twice is refused
/// by `journal_postings_once` (an invariant violation).
pub(crate) async fn post(
    conn: &mut AsyncPgConnection,
    entries: &[JournalEntry],
    rows: MoneyRows,
    at: OffsetDateTime,
) -> Result<(), RepositoryError> {
    let mut values = Vec::new();
    for entry in entries {
        if !entry.is_well_formed() {
            return Err(RepositoryError::InvariantViolated(format!(
                "a malformed journal entry: {entry:?}"
            )));
        }
        let entry_id = Uuid::new_v4();
        // A trade's capture names no refund (a late capture's does: it is why the refund exists).
        let refund_id = match entry.event {
            LedgerEvent::RefundDue | LedgerEvent::Refunded => rows.refund_id,
            LedgerEvent::Captured if entry.origin.trade_id.is_none() => rows.refund_id,
            _ => None,
        };
        let payout_id = match entry.event {
            LedgerEvent::Approved
            | LedgerEvent::ApprovalReversed
            | LedgerEvent::PayoutInstructed => rows.payout_id,
            _ => None,
        };
        for p in &entry.postings {
            values.push((
                j::entry_id.eq(entry_id),
                j::partner_id.eq(entry.origin.partner_id.0),
                j::currency.eq(p.amount.currency().code()),
                j::checkout_id.eq(entry.origin.checkout_id.0),
                j::trade_id.eq(entry.origin.trade_id.map(|t| t.0)),
                j::refund_id.eq(refund_id),
                j::payout_id.eq(payout_id),
                j::event.eq(entry.event.code()),
                j::debit_account.eq(p.debit.code()),
                j::credit_account.eq(p.credit.code()),
                j::amount.eq(p.amount.minor_units()),
                j::posted_at.eq(at),
            ));
        }
    }
    if values.is_empty() {
        return Ok(());
    }
    diesel::insert_into(j::table)
        .values(values)
        .execute(conn)
        .await
        .map_err(storage_error)?;
    Ok(())
}

/// The ledger's read side.
#[derive(Clone)]
pub struct PgLedger {
    pool: DbPool,
}

impl PgLedger {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgLedger { pool }
    }
}

fn account(code: &str) -> Result<Account, RepositoryError> {
    Account::from_code(code).ok_or_else(|| corrupt(format!("account {code}")))
}

fn event(code: &str) -> Result<LedgerEvent, RepositoryError> {
    LedgerEvent::from_code(code).ok_or_else(|| corrupt(format!("ledger event {code}")))
}

fn currency(code: &str) -> Result<Currency, RepositoryError> {
    code.parse().map_err(corrupt)
}

use diesel::sql_types::{Int8, Nullable, Text, Uuid as SqlUuid};

/// Σ of postings of one trade, payout or refund (`key`), per event and credited account.
#[derive(diesel::QueryableByName)]
struct Sum {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    event: String,
    #[diesel(sql_type = Text)]
    debit_account: String,
    #[diesel(sql_type = Text)]
    credit_account: String,
    #[diesel(sql_type = Int8)]
    amount: i64,
}

/// Σ of postings per partner, currency and pair of accounts.
#[derive(diesel::QueryableByName)]
struct AccountSum {
    #[diesel(sql_type = SqlUuid)]
    partner_id: Uuid,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Text)]
    debit_account: String,
    #[diesel(sql_type = Text)]
    credit_account: String,
    #[diesel(sql_type = Int8)]
    amount: i64,
}

/// The sums as movements per key.
fn movements(rows: Vec<Sum>) -> Result<HashMap<String, Movements>, RepositoryError> {
    let mut out: HashMap<String, Movements> = HashMap::new();
    for r in rows {
        out.entry(r.key).or_default().add(
            event(&r.event)?,
            account(&r.debit_account)?,
            account(&r.credit_account)?,
            r.amount,
        );
    }
    Ok(out)
}

#[async_trait]
impl LedgerReader for PgLedger {
    async fn facts(&self, partner_id: Option<PartnerId>) -> Result<LedgerFacts, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let partner = partner_id.map(|p| p.0);
        let sums = |key: &str| {
            format!(
                "SELECT {key}::text AS key, event, debit_account, credit_account, sum(amount)::bigint AS amount \
                 FROM journal_postings WHERE {key} IS NOT NULL AND ($1::uuid IS NULL OR partner_id = $1) \
                 GROUP BY {key}, event, debit_account, credit_account"
            )
        };
        let mut by_key = Vec::new();
        for key in ["trade_id", "payout_id", "refund_id"] {
            let rows: Vec<Sum> = diesel::sql_query(sums(key))
                .bind::<Nullable<SqlUuid>, _>(partner)
                .load(&mut conn)
                .await
                .map_err(storage_error)?;
            by_key.push(movements(rows)?);
        }
        let [by_trade, by_payout, by_refund] =
            <[_; 3]>::try_from(by_key).unwrap_or_else(|_| unreachable!("three keys"));
        let accounts: Vec<AccountSum> = diesel::sql_query(
            "SELECT partner_id, currency, debit_account, credit_account, sum(amount)::bigint AS amount \
             FROM journal_postings WHERE $1::uuid IS NULL OR partner_id = $1 \
             GROUP BY partner_id, currency, debit_account, credit_account",
        )
        .bind::<Nullable<SqlUuid>, _>(partner)
        .load(&mut conn)
        .await
        .map_err(storage_error)?;

        let mut facts = LedgerFacts::default();
        for a in accounts {
            facts.postings.push((
                PartnerId(a.partner_id),
                currency(&a.currency)?,
                account(&a.debit_account)?,
                account(&a.credit_account)?,
                a.amount,
            ));
        }
        facts.trades = load_trades(&mut conn, partner, &by_trade).await?;
        facts.payouts = load_payouts(&mut conn, partner, &by_payout).await?;
        facts.refunds = load_refunds(&mut conn, partner, &by_refund).await?;
        Ok(facts)
    }
}

/// The trades of `partner` (everyone's for `None`) with what the journal moved for each.
async fn load_trades(
    conn: &mut AsyncPgConnection,
    partner: Option<Uuid>,
    posted: &HashMap<String, Movements>,
) -> Result<Vec<TradeMoney>, RepositoryError> {
    use crate::schema::trades;
    let mut out = Vec::new();
    let mut trade_query = trades::table.into_boxed();
    if let Some(p) = partner {
        trade_query = trade_query.filter(trades::partner_id.eq(p));
    }
    #[allow(clippy::type_complexity)]
    let trade_rows: Vec<(Uuid, Uuid, i16, i16, String, i64, i64, i64)> = trade_query
        .select((
            trades::id,
            trades::partner_id,
            trades::status_cd,
            trades::complete_cd,
            trades::currency,
            trades::payment_amount,
            trades::escrow_fee,
            trades::seller_payout,
        ))
        .load(conn)
        .await
        .map_err(storage_error)?;
    for (id, p, status, withdrawal, c, payment, fee, payout) in trade_rows {
        let c = currency(&c)?;
        out.push(TradeMoney {
            trade_id: TradeId(id),
            partner_id: PartnerId(p),
            status: u8::try_from(status)
                .ok()
                .and_then(TradeStatus::from_code)
                .ok_or_else(|| corrupt("status_cd"))?,
            withdrawal: u8::try_from(withdrawal)
                .ok()
                .and_then(WithdrawalStatus::from_code)
                .ok_or_else(|| corrupt("complete_cd"))?,
            payment_amount: Money::new(payment, c),
            escrow_fee: Money::new(fee, c),
            seller_payout: Money::new(payout, c),
            posted: posted.get(&id.to_string()).copied().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The payouts of `partner` (everyone's for `None`) with what the journal moved for each.
async fn load_payouts(
    conn: &mut AsyncPgConnection,
    partner: Option<Uuid>,
    posted: &HashMap<String, Movements>,
) -> Result<Vec<PayoutMoney>, RepositoryError> {
    use crate::schema::{payouts, trades};
    let mut out = Vec::new();
    let mut payout_query = payouts::table
        .inner_join(trades::table.on(trades::id.eq(payouts::trade_id)))
        .into_boxed();
    if let Some(p) = partner {
        payout_query = payout_query.filter(trades::partner_id.eq(p));
    }
    let payout_rows: Vec<(i64, Uuid, Uuid, i64, String, String)> = payout_query
        .select((
            payouts::id,
            payouts::trade_id,
            trades::partner_id,
            payouts::amount,
            payouts::currency,
            payouts::status,
        ))
        .load(conn)
        .await
        .map_err(storage_error)?;
    for (id, trade, p, amount, c, status) in payout_rows {
        out.push(PayoutMoney {
            id,
            trade_id: TradeId(trade),
            partner_id: PartnerId(p),
            amount: Money::new(amount, currency(&c)?),
            status: PayoutStatus::from_code(&status).ok_or_else(|| corrupt("payout status"))?,
            posted: posted.get(&id.to_string()).copied().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The refunds of `partner` (everyone's for `None`) with what the journal moved for each.
async fn load_refunds(
    conn: &mut AsyncPgConnection,
    partner: Option<Uuid>,
    posted: &HashMap<String, Movements>,
) -> Result<Vec<RefundMoney>, RepositoryError> {
    use crate::schema::{checkouts, refunds, trades};
    let mut out = Vec::new();
    let mut refund_query = refunds::table
        .left_join(trades::table.on(trades::id.nullable().eq(refunds::trade_id)))
        .inner_join(
            checkouts::table.on(checkouts::id
                .nullable()
                .eq(refunds::checkout_id)
                .or(checkouts::id.nullable().eq(trades::checkout_id.nullable()))),
        )
        .into_boxed();
    if let Some(p) = partner {
        refund_query = refund_query.filter(checkouts::partner_id.eq(p));
    }
    #[allow(clippy::type_complexity)]
    let refund_rows: Vec<(i64, Option<Uuid>, Uuid, Uuid, i64, String, String)> = refund_query
        .select((
            refunds::id,
            refunds::trade_id,
            checkouts::id,
            checkouts::partner_id,
            refunds::amount,
            refunds::currency,
            refunds::status,
        ))
        .load(conn)
        .await
        .map_err(storage_error)?;

    for (id, trade, checkout, p, amount, c, status) in refund_rows {
        out.push(RefundMoney {
            id,
            trade_id: trade.map(TradeId),
            checkout_id: CheckoutId(checkout),
            partner_id: PartnerId(p),
            amount: Money::new(amount, currency(&c)?),
            status: RefundStatus::from_code(&status).ok_or_else(|| corrupt("refund status"))?,
            posted: posted.get(&id.to_string()).copied().unwrap_or_default(),
        });
    }
    Ok(out)
}

#[async_trait]
impl SettlementQueries for PgLedger {
    async fn settlement_lines(
        &self,
        partner_id: PartnerId,
        from: Date,
        to: Date,
    ) -> Result<Vec<SettlementLine>, RepositoryError> {
        use crate::schema::{payouts, trades};
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            Uuid,
            Option<String>,
            Uuid,
            i64,
            i64,
            i64,
            String,
            Date,
            String,
            Option<OffsetDateTime>,
        )> = payouts::table
            .inner_join(trades::table.on(trades::id.eq(payouts::trade_id)))
            .filter(trades::partner_id.eq(partner_id.0))
            .filter(payouts::due_date.between(from, to))
            .order((payouts::due_date.asc(), payouts::id.asc()))
            .select((
                payouts::trade_id,
                trades::partner_trade_no,
                payouts::seller_id,
                trades::payment_amount,
                trades::escrow_fee,
                payouts::amount,
                payouts::currency,
                payouts::due_date,
                payouts::status,
                payouts::instructed_at,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(
                |(trade, no, seller, payment, fee, amount, c, due, status, instructed_at)| {
                    let c = currency(&c)?;
                    Ok(SettlementLine {
                        trade_id: TradeId(trade),
                        partner_trade_no: no,
                        seller_id: MemberId(seller),
                        payment_amount: Money::new(payment, c),
                        escrow_fee: Money::new(fee, c),
                        seller_amount: Money::new(amount, c),
                        payout_date: due,
                        status: PayoutStatus::from_code(&status)
                            .ok_or_else(|| corrupt("payout status"))?
                            .into(),
                        instructed_at,
                    })
                },
            )
            .collect()
    }
}
