//! The ledger check (SPEC §15: a job, and `escrow-server ledger check` on demand) and partners'
//! settlement reports.

use std::sync::Arc;

use time::Date;

use crate::ids::PartnerId;
use crate::ledger::{check, Mismatch};
use crate::money::Money;
use crate::ports::{
    LedgerReader, RepositoryError, SettlementLine, SettlementQueries, SettlementStatus,
};

/// Checks the journal against the trades, refunds and payouts.
pub struct LedgerCheck {
    reader: Arc<dyn LedgerReader>,
}

impl LedgerCheck {
    /// A check over this reader.
    pub fn new(reader: Arc<dyn LedgerReader>) -> Self {
        LedgerCheck { reader }
    }

    /// Every mismatch of one partner's money (everyone's for `None`), each logged at error level.
    pub async fn run(
        &self,
        partner_id: Option<PartnerId>,
    ) -> Result<Vec<Mismatch>, RepositoryError> {
        let facts = self.reader.facts(partner_id).await?;
        let found = check(&facts);
        for m in &found {
            tracing::error!(partner_id = %m.partner_id, subject = %m.subject, detail = %m.detail, "ledger mismatch");
        }
        Ok(found)
    }
}

/// The longest period one settlement report covers.
pub const SETTLEMENT_MAX_DAYS: i64 = 93;

/// Why a settlement report was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    /// `from` after `to`, or more than [`SETTLEMENT_MAX_DAYS`] apart.
    #[error("the period must run forward and span at most {SETTLEMENT_MAX_DAYS} days")]
    BadPeriod,
    /// Storage failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// The payouts of one payout date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementDay {
    /// The payout date.
    pub payout_date: Date,
    /// `Scheduled` while any payout of the day is not instructed yet.
    pub status: SettlementStatus,
    /// Σ of what buyers paid.
    pub payment_total: Money,
    /// Σ of escrow fees.
    pub fee_total: Money,
    /// Σ of what sellers are paid.
    pub seller_total: Money,
    /// The trades, in order.
    pub lines: Vec<SettlementLine>,
}

/// Partners' settlement reports.
pub struct Settlements {
    queries: Arc<dyn SettlementQueries>,
}

impl Settlements {
    /// Over these queries.
    pub fn new(queries: Arc<dyn SettlementQueries>) -> Self {
        Settlements { queries }
    }

    /// The payouts of `partner_id` from `from` to `to` (both included), per payout date.
    pub async fn report(
        &self,
        partner_id: PartnerId,
        from: Date,
        to: Date,
    ) -> Result<Vec<SettlementDay>, SettlementError> {
        if from > to || (to - from).whole_days() >= SETTLEMENT_MAX_DAYS {
            return Err(SettlementError::BadPeriod);
        }
        let lines = self.queries.settlement_lines(partner_id, from, to).await?;
        Ok(by_payout_date(lines))
    }
}

/// Groups lines (ordered by date) into days with their totals.
pub fn by_payout_date(lines: Vec<SettlementLine>) -> Vec<SettlementDay> {
    let mut days: Vec<SettlementDay> = Vec::new();
    for line in lines {
        let day = match days.last_mut() {
            Some(day) if day.payout_date == line.payout_date => day,
            _ => {
                let zero = Money::new(0, line.payment_amount.currency());
                days.push(SettlementDay {
                    payout_date: line.payout_date,
                    status: SettlementStatus::Instructed,
                    payment_total: zero,
                    fee_total: zero,
                    seller_total: zero,
                    lines: Vec::new(),
                });
                let Some(day) = days.last_mut() else {
                    unreachable!("just pushed")
                };
                day
            }
        };
        let add = |total: Money, amount: Money| {
            Money::new(total.minor_units() + amount.minor_units(), total.currency())
        };
        day.payment_total = add(day.payment_total, line.payment_amount);
        day.fee_total = add(day.fee_total, line.escrow_fee);
        day.seller_total = add(day.seller_total, line.seller_amount);
        if line.status == SettlementStatus::Scheduled {
            day.status = SettlementStatus::Scheduled;
        }
        day.lines.push(line);
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MemberId, TradeId};
    use crate::money::Currency;
    use crate::ports::MockSettlementQueries;
    use time::macros::date;

    fn line(on: Date, payment: i64, status: SettlementStatus) -> SettlementLine {
        let krw = |v| Money::new(v, Currency::Krw);
        SettlementLine {
            trade_id: TradeId(uuid::Uuid::new_v4()),
            partner_trade_no: None,
            seller_id: MemberId(uuid::Uuid::new_v4()),
            payment_amount: krw(payment),
            escrow_fee: krw(payment / 10),
            seller_amount: krw(payment - payment / 10),
            payout_date: on,
            status,
            instructed_at: None,
        }
    }

    #[tokio::test]
    async fn days_total_their_lines_and_stay_scheduled_until_every_payout_is_instructed() {
        let mut queries = MockSettlementQueries::new();
        queries.expect_settlement_lines().returning(|_, _, _| {
            Ok(vec![
                line(date!(2026 - 03 - 02), 10_000, SettlementStatus::Instructed),
                line(date!(2026 - 03 - 02), 20_000, SettlementStatus::Scheduled),
                line(date!(2026 - 03 - 03), 30_000, SettlementStatus::Instructed),
            ])
        });
        let days = Settlements::new(Arc::new(queries))
            .report(
                PartnerId(uuid::Uuid::nil()),
                date!(2026 - 03 - 01),
                date!(2026 - 03 - 31),
            )
            .await
            .unwrap();
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].payment_total.minor_units(), 30_000);
        assert_eq!(days[0].fee_total.minor_units(), 3_000);
        assert_eq!(days[0].seller_total.minor_units(), 27_000);
        assert_eq!(days[0].status, SettlementStatus::Scheduled);
        assert_eq!(days[1].status, SettlementStatus::Instructed);
        assert_eq!(days[1].lines.len(), 1);
    }

    #[tokio::test]
    async fn a_backwards_or_too_long_period_is_refused_before_reading() {
        let queries = MockSettlementQueries::new();
        let s = Settlements::new(Arc::new(queries));
        let p = PartnerId(uuid::Uuid::nil());
        for (from, to) in [
            (date!(2026 - 03 - 02), date!(2026 - 03 - 01)),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
        ] {
            assert_eq!(s.report(p, from, to).await, Err(SettlementError::BadPeriod));
        }
    }
}
