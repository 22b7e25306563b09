//! The money ledger's accounts and posting rules (SPEC §15), as pure decisions: which balanced
//! journal entry each movement of money makes. The persistence adapter writes the entries, append-only,
//! in the transaction of the change that causes them; [`check`] says whether the journal, the trades
//! and the refund and payout rows agree (the ledger check job and `escrow-server ledger check`).
//!
//! Accounts are per partner and currency. `PgReceivable` is debit-normal (what the PG holds for us);
//! every other account is credit-normal. A payment moves through them:
//!
//! ```text
//! captured           PgReceivable        → BuyerFundsHeld
//! approved           BuyerFundsHeld      → FeeRevenue (escrow fee) and SellerPayable (seller payout)
//! approval reversed  FeeRevenue and SellerPayable → BuyerFundsHeld (operator cancel before payout)
//! payout instructed  SellerPayable       → PaidOut
//! refund due         BuyerFundsHeld      → BuyerRefundPayable
//! refunded           BuyerRefundPayable  → PgReceivable
//! ```
//!
//! A late capture (a checkout captured after it stopped being open, SPEC §7) is captured and due back
//! at once. So at any moment, per partner and currency: captured = paid out + seller payable + fees +
//! refund payable + refunded + held ([`Balances::captured_is_accounted_for`]).

mod check;

use std::collections::BTreeMap;

pub use check::{
    check, expected_held, LedgerFacts, Mismatch, Movements, PayoutMoney, RefundMoney, TradeMoney,
};

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
    /// Every account.
    pub const ALL: [Account; 6] = [
        Account::PgReceivable,
        Account::BuyerFundsHeld,
        Account::FeeRevenue,
        Account::SellerPayable,
        Account::PaidOut,
        Account::BuyerRefundPayable,
    ];

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

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Whether its balance is debits minus credits (else credits minus debits).
    pub fn debit_normal(self) -> bool {
        self == Account::PgReceivable
    }
}

/// Why money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LedgerEvent {
    /// The PG captured a payment for a trade (or a checkout no longer open).
    Captured,
    /// The buyer approved: fee earned, seller payable.
    Approved,
    /// An operator cancelled the approved trade before its payout: the fee and the seller payable go
    /// back to held, to be refunded.
    ApprovalReversed,
    /// The payout was instructed to the seller's bank.
    PayoutInstructed,
    /// A refund became due.
    RefundDue,
    /// The refund went back through the PG.
    Refunded,
}

impl LedgerEvent {
    /// Every event.
    pub const ALL: [LedgerEvent; 6] = [
        LedgerEvent::Captured,
        LedgerEvent::Approved,
        LedgerEvent::ApprovalReversed,
        LedgerEvent::PayoutInstructed,
        LedgerEvent::RefundDue,
        LedgerEvent::Refunded,
    ];

    /// The code entries store.
    pub fn code(self) -> &'static str {
        match self {
            LedgerEvent::Captured => "CAPTURED",
            LedgerEvent::Approved => "APPROVED",
            LedgerEvent::ApprovalReversed => "APPROVAL_REVERSED",
            LedgerEvent::PayoutInstructed => "PAYOUT_INSTRUCTED",
            LedgerEvent::RefundDue => "REFUND_DUE",
            LedgerEvent::Refunded => "REFUNDED",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }
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

/// Whose money moved: the partner, the checkout it came through, the trade if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyOrigin {
    /// The partner.
    pub partner_id: PartnerId,
    /// The checkout the money came through.
    pub checkout_id: CheckoutId,
    /// The trade, if there is one (a late capture has none).
    pub trade_id: Option<TradeId>,
}

impl MoneyOrigin {
    /// A trade's money.
    pub fn of_trade(trade: &Trade) -> Self {
        MoneyOrigin {
            partner_id: trade.partner_id,
            checkout_id: trade.checkout_id,
            trade_id: Some(trade.id),
        }
    }
}

/// A journal entry: postings that balance by construction, naming what caused them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    /// Whose money.
    pub origin: MoneyOrigin,
    /// Why.
    pub event: LedgerEvent,
    /// The movements (zero amounts left out).
    pub postings: Vec<Posting>,
}

impl JournalEntry {
    fn new(origin: MoneyOrigin, event: LedgerEvent, postings: Vec<Posting>) -> Self {
        JournalEntry {
            origin,
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
/// instructs or sends them: [`payout_instructed`], [`refund_sent`].)
pub fn entries_for(t: &Transition) -> Vec<JournalEntry> {
    let trade = &t.trade;
    let origin = MoneyOrigin::of_trade(trade);
    let mut entries = Vec::new();
    let became_paid =
        t.event.to_status == TradeStatus::Paid && t.event.from_status != Some(TradeStatus::Paid);
    if became_paid {
        entries.push(captured(origin, trade.quote.payment_amount));
    }
    for effect in &t.money {
        match effect {
            MoneyEffect::SchedulePayout { amount, .. } => entries.push(JournalEntry::new(
                origin,
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
            MoneyEffect::CancelPayout { amount } => entries.push(JournalEntry::new(
                origin,
                LedgerEvent::ApprovalReversed,
                vec![
                    posting(
                        Account::FeeRevenue,
                        Account::BuyerFundsHeld,
                        trade.quote.escrow_fee,
                    ),
                    posting(Account::SellerPayable, Account::BuyerFundsHeld, *amount),
                ],
            )),
            MoneyEffect::Refund { amount, .. } => entries.push(refund_due(origin, *amount)),
            // The payout leaves when instructed; a scheduled refund when it becomes due; limits are
            // not money.
            MoneyEffect::PayOut { .. }
            | MoneyEffect::ScheduleRefund { .. }
            | MoneyEffect::ReleaseSellerLimits { .. } => {}
        }
    }
    entries
}

/// The PG captured `amount`.
pub fn captured(origin: MoneyOrigin, amount: Money) -> JournalEntry {
    JournalEntry::new(
        origin,
        LedgerEvent::Captured,
        vec![posting(
            Account::PgReceivable,
            Account::BuyerFundsHeld,
            amount,
        )],
    )
}

/// `amount` held is owed back to the buyer.
pub fn refund_due(origin: MoneyOrigin, amount: Money) -> JournalEntry {
    JournalEntry::new(
        origin,
        LedgerEvent::RefundDue,
        vec![posting(
            Account::BuyerFundsHeld,
            Account::BuyerRefundPayable,
            amount,
        )],
    )
}

/// A capture found after its checkout stopped being open: captured, and due back at once.
pub fn late_capture(origin: MoneyOrigin, amount: Money) -> [JournalEntry; 2] {
    [captured(origin, amount), refund_due(origin, amount)]
}

/// The seller's payout of `amount` was instructed.
pub fn payout_instructed(origin: MoneyOrigin, amount: Money) -> JournalEntry {
    JournalEntry::new(
        origin,
        LedgerEvent::PayoutInstructed,
        vec![posting(Account::SellerPayable, Account::PaidOut, amount)],
    )
}

/// The buyer's refund of `amount` went back through the PG.
pub fn refund_sent(origin: MoneyOrigin, amount: Money) -> JournalEntry {
    JournalEntry::new(
        origin,
        LedgerEvent::Refunded,
        vec![posting(
            Account::BuyerRefundPayable,
            Account::PgReceivable,
            amount,
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
            self.post_amount(
                p.debit,
                p.credit,
                p.amount.currency(),
                p.amount.minor_units(),
            );
        }
    }

    /// Adds `amount` moved from `debit` to `credit`.
    pub fn post_amount(
        &mut self,
        debit: Account,
        credit: Account,
        currency: Currency,
        amount: i64,
    ) {
        for (account, debited) in [(debit, true), (credit, false)] {
            let signed = if debited == account.debit_normal() {
                amount
            } else {
                -amount
            };
            *self.balances.entry((account, currency)).or_default() += signed;
        }
        if debit == Account::PgReceivable {
            *self.captured.entry(currency).or_default() += amount;
        }
        if credit == Account::PgReceivable {
            *self.refunded.entry(currency).or_default() += amount;
        }
    }

    /// The currencies anything was posted in.
    pub fn currencies(&self) -> Vec<Currency> {
        let mut all: Vec<Currency> = self.balances.keys().map(|(_, c)| *c).collect();
        all.dedup();
        all.sort();
        all.dedup();
        all
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
        post_all(
            &mut balances,
            &[captured(
                MoneyOrigin::of_trade(&trade),
                trade.quote.payment_amount,
            )],
        );
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
        post_all(
            &mut balances,
            &[payout_instructed(
                MoneyOrigin::of_trade(&trade),
                trade.quote.seller_payout,
            )],
        );
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
        post_all(
            &mut balances,
            &[captured(
                MoneyOrigin::of_trade(&trade),
                trade.quote.payment_amount,
            )],
        );
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
        post_all(
            &mut balances,
            &[refund_sent(
                MoneyOrigin::of_trade(&trade),
                trade.quote.payment_amount,
            )],
        );
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
        let origin = MoneyOrigin::of_trade(&trade);
        post_all(
            &mut balances,
            &[
                captured(origin, trade.quote.payment_amount),
                payout_instructed(origin, trade.quote.seller_payout),
            ],
        );
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
