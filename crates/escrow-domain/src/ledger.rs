//! The money ledger's accounts and posting rules (SPEC §15), as pure decisions: which balanced
//! journal entry each movement of money makes. Storing the entries, append-only, in the transaction of
//! the change that causes them, and checking the invariants continuously, are the adapters' and jobs'
//! part (issue 13, in progress: this module is its first step and is not yet written anywhere).
//!
//! Accounts are per partner and currency. `PgReceivable` is debit-normal (what the PG holds for us);
//! every other account is credit-normal. A payment moves through them:
//!
//! ```text
//! captured        PgReceivable        → BuyerFundsHeld
//! approved        BuyerFundsHeld      → FeeRevenue (escrow fee) and SellerPayable (seller payout)
//! paid out        SellerPayable       → PaidOut
//! refund due      BuyerFundsHeld      → BuyerRefundPayable
//! refunded        BuyerRefundPayable  → PgReceivable
//! ```
//!
//! so at any moment, per partner and currency: captured = paid out + seller payable + fees +
//! refund payable + refunded + held ([`Balances::captured_is_accounted_for`]).

use std::collections::BTreeMap;

use crate::ids::{CheckoutId, PartnerId, TradeId};
use crate::money::{Currency, Money};
use crate::trade::{MoneyEffect, Trade, TradeStatus, Transition};

/// A ledger account (one per partner and currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Account {
    /// What the PG captured and owes us (debit-normal).
    PgReceivable,
    /// Buyers' money held in escrow.
    BuyerFundsHeld,
    /// Escrow fees earned.
    FeeRevenue,
    /// What is owed to sellers.
    SellerPayable,
    /// What was paid out to sellers.
    PaidOut,
    /// What is owed back to buyers.
    BuyerRefundPayable,
}

impl Account {
    /// The code entries store.
    pub fn code(self) -> &'static str {
        match self {
            Account::PgReceivable => "PG_RECEIVABLE",
            Account::BuyerFundsHeld => "BUYER_FUNDS_HELD",
            Account::FeeRevenue => "FEE_REVENUE",
            Account::SellerPayable => "SELLER_PAYABLE",
            Account::PaidOut => "PAID_OUT",
            Account::BuyerRefundPayable => "BUYER_REFUND_PAYABLE",
        }
    }

    /// Whether its balance is debits minus credits (else credits minus debits).
    pub fn debit_normal(self) -> bool {
        self == Account::PgReceivable
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LedgerEvent {
    /// The PG captured a payment for a trade (or a checkout no longer open).
    Captured,
    /// The buyer approved: fee earned, seller payable.
    Approved,
    /// The payout was instructed to the seller's bank.
    PaidOut,
    /// A refund became due.
    RefundDue,
    /// The refund went back through the PG.
    Refunded,
}

/// One movement between two accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    /// Debited.
    pub debit: Account,
    /// Credited.
    pub credit: Account,
    /// How much (positive).
    pub amount: Money,
}

/// A journal entry: postings that balance by construction, naming what caused them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// The partner.
    pub partner_id: PartnerId,
    /// The checkout the money came through.
    pub checkout_id: CheckoutId,
    /// The trade, if there is one.
    pub trade_id: Option<TradeId>,
    /// Why.
    pub event: LedgerEvent,
    /// The movements (zero amounts left out).
    pub postings: Vec<Posting>,
}

impl JournalEntry {
    fn new(trade: &Trade, event: LedgerEvent, postings: Vec<Posting>) -> Self {
        JournalEntry {
            partner_id: trade.partner_id,
            checkout_id: trade.checkout_id,
            trade_id: Some(trade.id),
            event,
            postings: postings
                .into_iter()
                .filter(|p| p.amount.minor_units() != 0)
                .collect(),
        }
    }

    /// Every posting moves a positive amount between two different accounts, all in one currency.
    pub fn is_well_formed(&self) -> bool {
        let currency = self.postings.first().map(|p| p.amount.currency());
        self.postings.iter().all(|p| {
            p.amount.minor_units() > 0
                && p.debit != p.credit
                && Some(p.amount.currency()) == currency
        })
    }
}

fn posting(debit: Account, credit: Account, amount: Money) -> Posting {
    Posting {
        debit,
        credit,
        amount,
    }
}

/// The entries a stored transition makes: the capture when the trade becomes paid, the fee and the
/// seller payable at approval, a refund due. (A payout and a refund leave the ledger when their job
/// instructs them: [`paid_out`], [`refunded`].)
pub fn entries_for(t: &Transition) -> Vec<JournalEntry> {
    let trade = &t.trade;
    let mut entries = Vec::new();
    let became_paid =
        t.event.to_status == TradeStatus::Paid && t.event.from_status != Some(TradeStatus::Paid);
    if became_paid {
        entries.push(captured(trade));
    }
    for effect in &t.money {
        match effect {
            MoneyEffect::SchedulePayout { amount, .. } => entries.push(JournalEntry::new(
                trade,
                LedgerEvent::Approved,
                vec![
                    posting(
                        Account::BuyerFundsHeld,
                        Account::FeeRevenue,
                        trade.quote.escrow_fee,
                    ),
                    posting(Account::BuyerFundsHeld, Account::SellerPayable, *amount),
                ],
            )),
            MoneyEffect::Refund { amount, .. } => entries.push(JournalEntry::new(
                trade,
                LedgerEvent::RefundDue,
                vec![posting(
                    Account::BuyerFundsHeld,
                    Account::BuyerRefundPayable,
                    *amount,
                )],
            )),
            // The payout leaves when instructed; a scheduled refund when it becomes due; limits are
            // not money.
            MoneyEffect::PayOut { .. }
            | MoneyEffect::ScheduleRefund { .. }
            | MoneyEffect::ReleaseSellerLimits { .. } => {}
        }
    }
    entries
}

/// The PG captured the trade's payment.
pub fn captured(trade: &Trade) -> JournalEntry {
    JournalEntry::new(
        trade,
        LedgerEvent::Captured,
        vec![posting(
            Account::PgReceivable,
            Account::BuyerFundsHeld,
            trade.quote.payment_amount,
        )],
    )
}

/// The seller's payout was instructed.
pub fn paid_out(trade: &Trade) -> JournalEntry {
    JournalEntry::new(
        trade,
        LedgerEvent::PaidOut,
        vec![posting(
            Account::SellerPayable,
            Account::PaidOut,
            trade.quote.seller_payout,
        )],
    )
}

/// The buyer's refund went back through the PG.
pub fn refunded(trade: &Trade) -> JournalEntry {
    JournalEntry::new(
        trade,
        LedgerEvent::Refunded,
        vec![posting(
            Account::BuyerRefundPayable,
            Account::PgReceivable,
            trade.quote.payment_amount,
        )],
    )
}

/// Account balances per currency, in each account's normal direction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    balances: BTreeMap<(Account, Currency), i64>,
    /// Σ of every capture, per currency.
    captured: BTreeMap<Currency, i64>,
    /// Σ of every refund sent back, per currency.
    refunded: BTreeMap<Currency, i64>,
}

impl Balances {
    /// Adds an entry.
    pub fn post(&mut self, entry: &JournalEntry) {
        for p in &entry.postings {
            let (currency, amount) = (p.amount.currency(), p.amount.minor_units());
            for (account, debited) in [(p.debit, true), (p.credit, false)] {
                let signed = if debited == account.debit_normal() {
                    amount
                } else {
                    -amount
                };
                *self.balances.entry((account, currency)).or_default() += signed;
            }
            if p.debit == Account::PgReceivable {
                *self.captured.entry(currency).or_default() += amount;
            }
            if p.credit == Account::PgReceivable {
                *self.refunded.entry(currency).or_default() += amount;
            }
        }
    }

    /// An account's balance in `currency`.
    pub fn balance(&self, account: Account, currency: Currency) -> i64 {
        self.balances
            .get(&(account, currency))
            .copied()
            .unwrap_or(0)
    }

    /// The accounts whose balance went below zero.
    pub fn negative(&self) -> Vec<(Account, Currency, i64)> {
        self.balances
            .iter()
            .filter(|(_, b)| **b < 0)
            .map(|((a, c), b)| (*a, *c, *b))
            .collect()
    }

    /// captured = paid out + seller payable + fees + refund payable + refunded + held, in `currency`.
    pub fn captured_is_accounted_for(&self, currency: Currency) -> bool {
        let captured = self.captured.get(&currency).copied().unwrap_or(0);
        let refunded = self.refunded.get(&currency).copied().unwrap_or(0);
        let b = |a| self.balance(a, currency);
        captured
            == b(Account::PaidOut)
                + b(Account::SellerPayable)
                + b(Account::FeeRevenue)
                + b(Account::BuyerRefundPayable)
                + refunded
                + b(Account::BuyerFundsHeld)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trade::tests_support::{paid_trade, rules_fixture};
    use crate::trade::{Actor, Shipment, TradeCommand, TradeRules};
    use time::Duration;

    fn post_all(balances: &mut Balances, entries: &[JournalEntry]) {
        for e in entries {
            assert!(e.is_well_formed(), "{e:?}");
            balances.post(e);
        }
    }

    #[test]
    fn a_paid_out_trade_leaves_nothing_held_and_everything_accounted_for() {
        let (contract, calendar) = rules_fixture();
        let rules = TradeRules {
            contract: &contract,
            calendar: &calendar,
        };
        let trade = paid_trade(&contract, &calendar);
        let currency = trade.quote.payment_amount.currency();
        let mut balances = Balances::default();
        post_all(&mut balances, &[captured(&trade)]);
        assert_eq!(
            balances.balance(Account::BuyerFundsHeld, currency),
            trade.quote.payment_amount.minor_units()
        );
        let at = trade.updated_at + Duration::hours(1);
        let shipped = trade
            .apply(
                TradeCommand::RegisterShipment(Shipment::new("005", "1234567890").unwrap()),
                &Actor::Seller(trade.seller_id),
                at,
                &rules,
            )
            .unwrap();
        assert!(entries_for(&shipped).is_empty(), "shipping moves no money");
        let approved = shipped
            .trade
            .apply(
                TradeCommand::ApprovePurchase,
                &Actor::Buyer(trade.buyer_id),
                at + Duration::days(1),
                &rules,
            )
            .unwrap();
        post_all(&mut balances, &entries_for(&approved));
        assert_eq!(balances.balance(Account::BuyerFundsHeld, currency), 0);
        assert_eq!(
            balances.balance(Account::FeeRevenue, currency),
            trade.quote.escrow_fee.minor_units()
        );
        post_all(&mut balances, &[paid_out(&approved.trade)]);
        assert_eq!(balances.balance(Account::SellerPayable, currency), 0);
        assert!(balances.captured_is_accounted_for(currency));
        assert!(balances.negative().is_empty());
    }

    #[test]
    fn a_cancelled_trade_is_refunded_in_full_through_the_pg() {
        let (contract, calendar) = rules_fixture();
        let rules = TradeRules {
            contract: &contract,
            calendar: &calendar,
        };
        let trade = paid_trade(&contract, &calendar);
        let currency = trade.quote.payment_amount.currency();
        let mut balances = Balances::default();
        post_all(&mut balances, &[captured(&trade)]);
        let cancelled = trade
            .apply(
                TradeCommand::CancelSale {
                    reason: crate::trade::SaleCancelReason::new(31, None).unwrap(),
                },
                &Actor::Seller(trade.seller_id),
                trade.updated_at + Duration::hours(1),
                &rules,
            )
            .unwrap();
        post_all(&mut balances, &entries_for(&cancelled));
        assert_eq!(balances.balance(Account::BuyerFundsHeld, currency), 0);
        assert_eq!(
            balances.balance(Account::BuyerRefundPayable, currency),
            trade.quote.payment_amount.minor_units()
        );
        post_all(&mut balances, &[refunded(&cancelled.trade)]);
        assert_eq!(balances.balance(Account::BuyerRefundPayable, currency), 0);
        assert_eq!(balances.balance(Account::PgReceivable, currency), 0);
        assert!(balances.captured_is_accounted_for(currency));
        assert!(balances.negative().is_empty());
    }

    #[test]
    fn the_capture_is_when_the_trade_becomes_paid() {
        use crate::contract::{PaymentMethod, TradeType};
        use crate::trade::tests_support::open_trade;
        let (contract, calendar) = rules_fixture();
        let rules = TradeRules {
            contract: &contract,
            calendar: &calendar,
        };
        let at = time::macros::datetime!(2025-03-06 10:00 +9);
        let card = Trade::open(
            open_trade(PaymentMethod::Card, TradeType::General, 50_000),
            at,
            &rules,
        )
        .unwrap();
        let events: Vec<_> = entries_for(&card).iter().map(|e| e.event).collect();
        assert_eq!(events, [LedgerEvent::Captured]);
        let account = Trade::open(
            open_trade(PaymentMethod::VirtualAccount, TradeType::General, 50_000),
            at,
            &rules,
        )
        .unwrap();
        assert!(
            entries_for(&account).is_empty(),
            "13: nothing deposited yet"
        );
        let deposited = account
            .trade
            .apply(
                TradeCommand::ConfirmDeposit,
                &Actor::PaymentGateway,
                at + Duration::hours(1),
                &rules,
            )
            .unwrap();
        let events: Vec<_> = entries_for(&deposited).iter().map(|e| e.event).collect();
        assert_eq!(events, [LedgerEvent::Captured]);
    }

    #[test]
    fn paying_out_twice_shows_as_a_negative_payable() {
        let (contract, calendar) = rules_fixture();
        let trade = paid_trade(&contract, &calendar);
        let currency = trade.quote.payment_amount.currency();
        let mut balances = Balances::default();
        post_all(&mut balances, &[captured(&trade), paid_out(&trade)]);
        assert_eq!(
            balances.negative(),
            [(
                Account::SellerPayable,
                currency,
                -trade.quote.seller_payout.minor_units()
            )]
        );
    }
}
