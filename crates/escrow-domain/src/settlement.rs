//! Settlement (정산주기): the seller's payout date and the buyer's refund date after a return.
//!
//! SPEC §3, with P = the payment's business date (the deposit's, for a virtual account), A = the
//! purchase approval's business date and `+n` = n business days later:
//! - A ≤ P + window: pay out on P + `business_days_after_payment` (GENERAL 3, PREMIUM 2);
//! - A > P + window: pay out on A + `business_days_after_approval` (GENERAL 1, PREMIUM 0 = A itself);
//! - never before the method's minimum (CARD, BANK_TRANSFER P+3; VIRTUAL_ACCOUNT P+2, or P+3 from
//!   1,000,000 won).
//!
//! Every instant becomes a business date the same way ([`BusinessCalendar::business_date_of`]): its
//! Asia/Seoul date, moved to the next business day when it is not one.

use time::{Date, OffsetDateTime};

use crate::calendar::BusinessCalendar;
use crate::contract::{Contract, PaymentMethod, TradeType};
use crate::money::Money;

/// What the payout date depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutBasis {
    /// The safe-trade type.
    pub trade_type: TradeType,
    /// The payment method.
    pub method: PaymentMethod,
    /// The payment amount (the virtual-account minimum depends on it).
    pub payment_amount: Money,
    /// When the payment was approved (for a virtual account: when the deposit was confirmed).
    pub paid_at: OffsetDateTime,
    /// When the purchase was approved.
    pub approved_at: OffsetDateTime,
}

/// The payout date of a completed trade.
pub fn payout_date(contract: &Contract, calendar: &BusinessCalendar, basis: &PayoutBasis) -> Date {
    let rules = &contract.settlement;
    let p = calendar.business_date_of(basis.paid_at);
    let a = calendar.business_date_of(basis.approved_at);
    let rule = rules.payout_rule(basis.trade_type);
    let by_rule = if a <= calendar.add_business_days(p, rules.approval_window_business_days) {
        calendar.add_business_days(p, rule.business_days_after_payment)
    } else {
        calendar.add_business_days(a, rule.business_days_after_approval)
    };
    let minimum_days = rules
        .minimum_delay
        .get(basis.method)
        .business_days_for(basis.payment_amount);
    by_rule.max(calendar.add_business_days(p, minimum_days))
}

/// The day a return is refunded to the buyer: the business day after it completes (반품완료 후 D+1).
pub fn return_refund_date(
    contract: &Contract,
    calendar: &BusinessCalendar,
    returned_at: OffsetDateTime,
) -> Date {
    calendar.add_business_days(
        calendar.business_date_of(returned_at),
        contract.settlement.return_refund_business_days,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn payout(
        trade_type: TradeType,
        method: PaymentMethod,
        amount: i64,
        paid_at: OffsetDateTime,
        approved_at: OffsetDateTime,
    ) -> Date {
        payout_date(
            &Contract::standard_2022(),
            &BusinessCalendar::korea(),
            &PayoutBasis {
                trade_type,
                method,
                payment_amount: Money::krw(amount),
                paid_at,
                approved_at,
            },
        )
    }

    use PaymentMethod::*;
    use TradeType::*;

    // Times are written in Seoul time.
    #[test]
    fn early_approval_general_pays_p_plus_3_across_a_weekend() {
        // Paid Thu 2025-03-06, approved Fri 03-07 → P+3 = Tue 03-11.
        let d = payout(
            General,
            Card,
            50_000,
            datetime!(2025-03-06 10:00 +9),
            datetime!(2025-03-07 10:00 +9),
        );
        assert_eq!(d, date!(2025 - 03 - 11));
    }

    #[test]
    fn early_approval_premium_pays_p_plus_2_unless_the_method_minimum_is_later() {
        let paid = datetime!(2025-03-06 10:00 +9);
        let approved = datetime!(2025-03-07 10:00 +9);
        // Virtual account below 1,000,000: minimum P+2 → Mon 03-10.
        assert_eq!(
            payout(Premium, VirtualAccount, 999_999, paid, approved),
            date!(2025 - 03 - 10)
        );
        // From 1,000,000 the minimum is P+3 → Tue 03-11.
        assert_eq!(
            payout(Premium, VirtualAccount, 1_000_000, paid, approved),
            date!(2025 - 03 - 11)
        );
        // Card and transfer: minimum P+3.
        assert_eq!(
            payout(Premium, Card, 50_000, paid, approved),
            date!(2025 - 03 - 11)
        );
        assert_eq!(
            payout(Premium, BankTransfer, 50_000, paid, approved),
            date!(2025 - 03 - 11)
        );
    }

    #[test]
    fn approval_exactly_on_p_plus_3_still_counts_as_early() {
        let d = payout(
            General,
            Card,
            50_000,
            datetime!(2025-03-06 10:00 +9),
            datetime!(2025-03-11 18:00 +9),
        );
        assert_eq!(d, date!(2025 - 03 - 11));
    }

    #[test]
    fn late_approval_general_pays_a_plus_1_and_premium_a_itself() {
        let paid = datetime!(2025-03-06 10:00 +9);
        let approved = datetime!(2025-03-12 15:00 +9); // Wed, after P+3 = Tue 03-11
        assert_eq!(
            payout(General, Card, 50_000, paid, approved),
            date!(2025 - 03 - 13)
        );
        assert_eq!(
            payout(Premium, Card, 50_000, paid, approved),
            date!(2025 - 03 - 12)
        );
    }

    #[test]
    fn late_approval_on_a_weekend_counts_from_monday() {
        let paid = datetime!(2025-03-06 10:00 +9);
        let approved = datetime!(2025-03-15 11:00 +9); // Saturday
        assert_eq!(
            payout(Premium, Card, 50_000, paid, approved),
            date!(2025 - 03 - 17)
        );
        assert_eq!(
            payout(General, Card, 50_000, paid, approved),
            date!(2025 - 03 - 18)
        );
    }

    #[test]
    fn seollal_2025_delays_the_payout() {
        // Paid Fri 2025-01-24; Jan 27–30 are holidays: P+1 = Fri 01-31, P+2 = Mon 02-03, P+3 = Tue 02-04.
        let paid = datetime!(2025-01-24 09:00 +9);
        let approved = datetime!(2025-01-25 09:00 +9);
        assert_eq!(
            payout(General, Card, 30_000, paid, approved),
            date!(2025 - 02 - 04)
        );
        assert_eq!(
            payout(Premium, VirtualAccount, 30_000, paid, approved),
            date!(2025 - 02 - 03)
        );
    }

    #[test]
    fn seollal_2026_delays_the_payout() {
        // Paid Fri 2026-02-13; Feb 16–18 are holidays: P+1 Thu 19, P+2 Fri 20, P+3 Mon 23.
        let paid = datetime!(2026-02-13 16:00 +9);
        assert_eq!(
            payout(General, BankTransfer, 30_000, paid, paid),
            date!(2026 - 02 - 23)
        );
        assert_eq!(
            payout(Premium, VirtualAccount, 30_000, paid, paid),
            date!(2026 - 02 - 20)
        );
    }

    #[test]
    fn chuseok_2025_and_its_substitute_day_delay_the_payout() {
        // Paid Thu 2025-10-02; Oct 3 and Oct 6–9 are holidays: P+1 Fri 10, P+2 Mon 13, P+3 Tue 14.
        let paid = datetime!(2025-10-02 12:00 +9);
        assert_eq!(
            payout(General, Card, 30_000, paid, paid),
            date!(2025 - 10 - 14)
        );
        assert_eq!(
            payout(Premium, VirtualAccount, 30_000, paid, paid),
            date!(2025 - 10 - 13)
        );
    }

    #[test]
    fn a_payment_on_a_holiday_counts_from_the_next_business_day() {
        // Paid on Chuseok 2025-10-06 → P = Fri 10-10 → P+3 = Wed 10-15.
        let paid = datetime!(2025-10-06 12:00 +9);
        assert_eq!(
            payout(General, Card, 30_000, paid, paid),
            date!(2025 - 10 - 15)
        );
    }

    #[test]
    fn the_business_date_is_taken_in_seoul_not_utc() {
        // 2025-03-06 23:30 in Seoul is still Thursday there (14:30 UTC).
        let paid = datetime!(2025-03-06 14:30 UTC);
        assert_eq!(
            payout(General, Card, 30_000, paid, paid),
            date!(2025 - 03 - 11)
        );
        // 15:00 UTC is Friday in Seoul → P+3 = Wed 03-12.
        let paid = datetime!(2025-03-06 15:00 UTC);
        assert_eq!(
            payout(General, Card, 30_000, paid, paid),
            date!(2025 - 03 - 12)
        );
    }

    #[test]
    fn return_refund_is_the_next_business_day() {
        let c = Contract::standard_2022();
        let cal = BusinessCalendar::korea();
        assert_eq!(
            return_refund_date(&c, &cal, datetime!(2025-03-06 10:00 +9)),
            date!(2025 - 03 - 07)
        );
        assert_eq!(
            return_refund_date(&c, &cal, datetime!(2025-03-07 10:00 +9)),
            date!(2025 - 03 - 10)
        );
        assert_eq!(
            return_refund_date(&c, &cal, datetime!(2025-01-24 10:00 +9)),
            date!(2025 - 01 - 31)
        );
    }
}
