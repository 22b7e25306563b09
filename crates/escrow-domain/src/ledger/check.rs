//! The ledger check (SPEC §15): whether the journal balances, stays non-negative, and agrees with the
//! trades, refunds and payouts it is about. The adapter gathers [`LedgerFacts`] (sums of postings next
//! to the rows they concern); [`check`] decides, naming every mismatch.

use std::collections::BTreeMap;
use std::fmt;

use super::{Account, Balances, LedgerEvent};
use crate::ids::{CheckoutId, PartnerId, TradeId};
use crate::money::{Currency, Money};
use crate::money_out::{PayoutStatus, RefundStatus};
use crate::trade::{TradeStatus, WithdrawalStatus};

/// What the journal moved for one trade, refund or payout, per kind of movement (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Movements {
    /// Captured from the PG.
    pub captured: i64,
    /// Escrow fee earned (less what a cancellation took back).
    pub fee: i64,
    /// Made payable to the seller (less what a cancellation took back).
    pub payable: i64,
    /// Payout instructed.
    pub instructed: i64,
    /// Made due back to the buyer.
    pub refund_due: i64,
    /// Refunded through the PG.
    pub refunded: i64,
}

impl Movements {
    /// Adds the sum of postings of `event` from `debit` to `credit` (a reversal counts negative).
    pub fn add(&mut self, event: LedgerEvent, debit: Account, credit: Account, amount: i64) {
        let (slot, sign) = match (event, debit, credit) {
            (LedgerEvent::Captured, _, _) => (&mut self.captured, 1),
            (LedgerEvent::Approved, _, Account::FeeRevenue) => (&mut self.fee, 1),
            (LedgerEvent::Approved, _, _) => (&mut self.payable, 1),
            (LedgerEvent::ApprovalReversed, Account::FeeRevenue, _) => (&mut self.fee, -1),
            (LedgerEvent::ApprovalReversed, _, _) => (&mut self.payable, -1),
            (LedgerEvent::PayoutInstructed, _, _) => (&mut self.instructed, 1),
            (LedgerEvent::RefundDue, _, _) => (&mut self.refund_due, 1),
            (LedgerEvent::Refunded, _, _) => (&mut self.refunded, 1),
        };
        *slot += sign * amount;
    }

    /// What is still held in escrow.
    pub fn held(&self) -> i64 {
        self.captured - self.fee - self.payable - self.refund_due
    }
}

/// A trade and what the journal moved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeMoney {
    /// The trade.
    pub trade_id: TradeId,
    /// Its partner.
    pub partner_id: PartnerId,
    /// Its status.
    pub status: TradeStatus,
    /// Its withdrawal status.
    pub withdrawal: WithdrawalStatus,
    /// What the buyer paid.
    pub payment_amount: Money,
    /// The escrow fee.
    pub escrow_fee: Money,
    /// The seller payout.
    pub seller_payout: Money,
    /// The journal's postings naming the trade.
    pub posted: Movements,
}

/// A payout row and what the journal moved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutMoney {
    /// Row id.
    pub id: i64,
    /// The trade.
    pub trade_id: TradeId,
    /// The partner.
    pub partner_id: PartnerId,
    /// The amount.
    pub amount: Money,
    /// Where it stands.
    pub status: PayoutStatus,
    /// The journal's postings naming the payout.
    pub posted: Movements,
}

/// A refund row and what the journal moved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundMoney {
    /// Row id.
    pub id: i64,
    /// The trade (`None` for a late capture).
    pub trade_id: Option<TradeId>,
    /// The checkout.
    pub checkout_id: CheckoutId,
    /// The partner.
    pub partner_id: PartnerId,
    /// The amount.
    pub amount: Money,
    /// Where it stands.
    pub status: RefundStatus,
    /// The journal's postings naming the refund.
    pub posted: Movements,
}

/// Everything the check looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerFacts {
    /// Σ of postings per (partner, currency, debited account, credited account).
    pub postings: Vec<(PartnerId, Currency, Account, Account, i64)>,
    /// Every trade.
    pub trades: Vec<TradeMoney>,
    /// Every payout.
    pub payouts: Vec<PayoutMoney>,
    /// Every refund.
    pub refunds: Vec<RefundMoney>,
}

/// One disagreement, naming what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The partner whose money it is.
    pub partner_id: PartnerId,
    /// What: `trade <id>`, `payout 17 (trade <id>)`, `account SELLER_PAYABLE KRW`…
    pub subject: String,
    /// How it disagrees.
    pub detail: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "partner {}: {}: {}",
            self.partner_id, self.subject, self.detail
        )
    }
}

/// What a trade must still hold in escrow in its status: the whole payment while it can still go
/// either way, nothing before it is paid and nothing once its money is payable or due back.
pub fn expected_held(status: TradeStatus, withdrawal: WithdrawalStatus, payment: i64) -> i64 {
    use TradeStatus as S;
    match status {
        S::Paid
        | S::Shipping
        | S::CancelRequested
        | S::ReturnRequested
        | S::ReturnAgreed
        | S::ReturnShipping => payment,
        // Refunded on the business day after the return completed; held until then.
        S::Returned if withdrawal == WithdrawalStatus::NotPaidOut => payment,
        S::AwaitingDeposit
        | S::DepositCancelled
        | S::Returned
        | S::Completed
        | S::CancelledByBuyer
        | S::CancelledBySeller
        | S::CancelledByOperator => 0,
    }
}

fn never_paid(status: TradeStatus) -> bool {
    matches!(
        status,
        TradeStatus::AwaitingDeposit | TradeStatus::DepositCancelled
    )
}

/// Every mismatch between the journal and the rows it is about: per partner and currency, captured =
/// payouts + fees + refunds + held and no account below zero; per trade, captured once paid and held
/// as its status says, fee and payable as its quote says once approved; per payout and refund, the
/// journal moved exactly what its status says.
pub fn check(facts: &LedgerFacts) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let mut push = |partner_id: PartnerId, subject: String, detail: String| {
        found.push(Mismatch {
            partner_id,
            subject,
            detail,
        })
    };
    check_accounts(facts, &mut push);
    check_trades(facts, &mut push);
    check_payouts(facts, &mut push);
    check_refunds(facts, &mut push);
    found
}

type Push<'a> = dyn FnMut(PartnerId, String, String) + 'a;

/// Captured once paid, held as the status says, fee and payable as the quote says once approved.
fn check_trades(facts: &LedgerFacts, push: &mut Push<'_>) {
    for t in &facts.trades {
        let subject = format!("trade {}", t.trade_id);
        let payment = t.payment_amount.minor_units();
        let captured = if never_paid(t.status) { 0 } else { payment };
        if t.posted.captured != captured {
            push(
                t.partner_id,
                subject.clone(),
                format!(
                    "captured {} in the journal, {captured} expected at status {}",
                    t.posted.captured,
                    t.status.code()
                ),
            );
        }
        let held = expected_held(t.status, t.withdrawal, payment);
        if t.posted.held() != held {
            push(
                t.partner_id,
                subject.clone(),
                format!(
                    "holds {} in escrow, {held} expected at status {}/{}",
                    t.posted.held(),
                    t.status.code(),
                    t.withdrawal.code()
                ),
            );
        }
        if t.status == TradeStatus::Completed
            && (t.posted.fee != t.escrow_fee.minor_units()
                || t.posted.payable != t.seller_payout.minor_units())
        {
            push(
                t.partner_id,
                subject.clone(),
                format!(
                    "fee {} and payable {} in the journal, the quote says {} and {}",
                    t.posted.fee,
                    t.posted.payable,
                    t.escrow_fee.minor_units(),
                    t.seller_payout.minor_units()
                ),
            );
        }
    }
}

/// Payable once scheduled (nothing once cancelled), instructed once instructed.
fn check_payouts(facts: &LedgerFacts, push: &mut Push<'_>) {
    for p in &facts.payouts {
        let subject = format!("payout {} (trade {})", p.id, p.trade_id);
        let amount = p.amount.minor_units();
        let payable = if p.status == PayoutStatus::Cancelled {
            0
        } else {
            amount
        };
        if p.posted.payable != payable {
            push(
                p.partner_id,
                subject.clone(),
                format!(
                    "the journal made {} payable, {payable} expected for a payout of {amount} at {}",
                    p.posted.payable,
                    p.status.code()
                ),
            );
        }
        let instructed = if p.status == PayoutStatus::Instructed {
            amount
        } else {
            0
        };
        if p.posted.instructed != instructed {
            push(
                p.partner_id,
                subject,
                format!(
                    "the journal instructed {}, {instructed} expected at {}",
                    p.posted.instructed,
                    p.status.code()
                ),
            );
        }
    }
}

/// Due once no longer scheduled, refunded once done, and a late capture captured.
fn check_refunds(facts: &LedgerFacts, push: &mut Push<'_>) {
    for r in &facts.refunds {
        let subject = match r.trade_id {
            Some(t) => format!("refund {} (trade {t})", r.id),
            None => format!("refund {} (late capture, checkout {})", r.id, r.checkout_id),
        };
        let amount = r.amount.minor_units();
        let due = if r.status == RefundStatus::Scheduled {
            0
        } else {
            amount
        };
        let refunded = if r.status == RefundStatus::Done {
            amount
        } else {
            0
        };
        let captured = if r.trade_id.is_none() { amount } else { 0 };
        for (what, posted, expected) in [
            ("made due", r.posted.refund_due, due),
            ("refunded", r.posted.refunded, refunded),
            ("captured", r.posted.captured, captured),
        ] {
            if posted != expected {
                push(
                    r.partner_id,
                    subject.clone(),
                    format!(
                        "the journal {what} {posted}, {expected} expected at {}",
                        r.status.code()
                    ),
                );
            }
        }
    }
}

/// Per partner and currency: no account below zero, and captured is accounted for.
fn check_accounts(facts: &LedgerFacts, push: &mut Push<'_>) {
    let mut per_partner: BTreeMap<PartnerId, Balances> = BTreeMap::new();
    for (partner, currency, debit, credit, amount) in &facts.postings {
        per_partner
            .entry(*partner)
            .or_default()
            .post_amount(*debit, *credit, *currency, *amount);
    }
    for (partner, balances) in &per_partner {
        for (account, currency, balance) in balances.negative() {
            push(
                *partner,
                format!("account {} {}", account.code(), currency.code()),
                format!("balance {balance} is below zero"),
            );
        }
        for currency in balances.currencies() {
            if !balances.captured_is_accounted_for(currency) {
                push(
                    *partner,
                    format!("ledger {}", currency.code()),
                    "captured ≠ paid out + payable + fees + refund payable + refunded + held"
                        .to_owned(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn krw(v: i64) -> Money {
        Money::new(v, Currency::Krw)
    }

    /// A completed trade of 10,000 (fee 1,000) whose payout was instructed, posted as live posting
    /// would.
    fn paid_out() -> LedgerFacts {
        let partner = PartnerId(uuid::Uuid::nil());
        let trade_id = TradeId(uuid::Uuid::from_u128(1));
        let posted_trade = Movements {
            captured: 10_000,
            fee: 1_000,
            payable: 9_000,
            instructed: 9_000,
            ..Movements::default()
        };
        LedgerFacts {
            postings: vec![
                (
                    partner,
                    Currency::Krw,
                    Account::PgReceivable,
                    Account::BuyerFundsHeld,
                    10_000,
                ),
                (
                    partner,
                    Currency::Krw,
                    Account::BuyerFundsHeld,
                    Account::FeeRevenue,
                    1_000,
                ),
                (
                    partner,
                    Currency::Krw,
                    Account::BuyerFundsHeld,
                    Account::SellerPayable,
                    9_000,
                ),
                (
                    partner,
                    Currency::Krw,
                    Account::SellerPayable,
                    Account::PaidOut,
                    9_000,
                ),
            ],
            trades: vec![TradeMoney {
                trade_id,
                partner_id: partner,
                status: TradeStatus::Completed,
                withdrawal: WithdrawalStatus::PaidOut,
                payment_amount: krw(10_000),
                escrow_fee: krw(1_000),
                seller_payout: krw(9_000),
                posted: posted_trade,
            }],
            payouts: vec![PayoutMoney {
                id: 7,
                trade_id,
                partner_id: partner,
                amount: krw(9_000),
                status: PayoutStatus::Instructed,
                posted: Movements {
                    payable: 9_000,
                    instructed: 9_000,
                    ..Movements::default()
                },
            }],
            refunds: vec![],
        }
    }

    #[test]
    fn agreeing_facts_have_no_mismatch() {
        assert_eq!(check(&paid_out()), []);
    }

    #[test]
    fn each_disagreement_is_named() {
        let mut f = paid_out();
        f.payouts[0].amount = krw(9_001);
        let found = check(&f);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|m| m.subject.starts_with("payout 7 ")));

        let mut f = paid_out();
        f.trades[0].status = TradeStatus::Shipping;
        let found = check(&f);
        assert!(
            found
                .iter()
                .any(|m| m.detail.contains("holds 0 in escrow, 10000 expected")),
            "{found:#?}"
        );

        let mut f = paid_out();
        f.postings.push((
            PartnerId(uuid::Uuid::nil()),
            Currency::Krw,
            Account::SellerPayable,
            Account::PaidOut,
            9_000,
        ));
        let found = check(&f);
        assert!(
            found
                .iter()
                .any(|m| m.subject == "account SELLER_PAYABLE KRW"),
            "a second payout drives the payable below zero: {found:#?}"
        );
    }

    #[test]
    fn held_follows_the_status() {
        use TradeStatus as S;
        use WithdrawalStatus as W;
        assert_eq!(expected_held(S::Paid, W::NotPaidOut, 5), 5);
        assert_eq!(expected_held(S::Returned, W::NotPaidOut, 5), 5);
        assert_eq!(expected_held(S::Returned, W::ReturnRefunded, 5), 0);
        assert_eq!(expected_held(S::Completed, W::NotPaidOut, 5), 0);
        assert_eq!(expected_held(S::AwaitingDeposit, W::NotPaidOut, 5), 0);
    }
}
