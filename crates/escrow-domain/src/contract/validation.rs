//! The checks a contract must pass before it is stored: every problem named by its field, so an
//! operator can fix them all at once.

use std::collections::BTreeSet;

use super::{
    Contract, InvalidContract, MAX_CHECKOUT_EXPIRY_MINUTES, MAX_DEPOSIT_DEADLINE_HOURS,
    MAX_TIMER_BUSINESS_DAYS,
};

impl Contract {
    /// Checks the contract's invariants and lists every problem.
    pub fn validate(&self) -> Result<(), InvalidContract> {
        let mut problems = Vec::new();
        self.fee_and_price_problems(&mut problems);
        self.timer_problems(&mut problems);
        self.minimum_delay_problems(&mut problems);
        if self.rate_limit.requests_per_minute == 0 {
            problems.push("rateLimit.requestsPerMinute must be at least 1".to_owned());
        }
        if !(1..=1_000_000).contains(&self.custody_shipping_fee) {
            problems.push("custodyShippingFee must be 1 to 1,000,000".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidContract { problems })
        }
    }

    /// Fees, seller limits, price caps and the minimum price.
    fn fee_and_price_problems(&self, problems: &mut Vec<String>) {
        if self.code.trim().is_empty() {
            problems.push("code is empty".to_owned());
        }
        for (method, schedule) in self.payment_fees.iter() {
            schedule.validate(&format!("paymentFees.{method}"), problems);
        }
        self.safe_trade_fees
            .general
            .validate("safeTradeFees.general", problems);
        self.safe_trade_fees
            .premium
            .validate("safeTradeFees.premium", problems);
        for (window, set) in [
            ("day", &self.seller_limits.day),
            ("month", &self.seller_limits.month),
        ] {
            if set.total < 0 || set.per_method.iter().any(|(_, v)| *v < 0) {
                problems.push(format!("sellerLimits.{window}: negative limit"));
            }
        }
        if self.price_caps.iter().any(|(_, v)| *v <= 0) {
            problems.push("priceCaps: every cap must be positive".to_owned());
        }
        if self.minimum_price < 1 {
            problems.push("minimumPrice must be at least 1".to_owned());
        }
        if self.minimum_price > self.highest_price_cap() {
            problems.push("minimumPrice is above every price cap".to_owned());
        }
    }

    /// The timers and the settlement delays, each within its bound.
    fn timer_problems(&self, problems: &mut Vec<String>) {
        let t = &self.timers;
        if t.deposit_deadline_hours == 0 || t.checkout_expiry_minutes == 0 {
            problems.push("timers: deadlines must be positive".to_owned());
        }
        if t.deposit_reminder_hours >= t.deposit_deadline_hours {
            problems.push("timers: the deposit reminder must come before the deadline".to_owned());
        }
        if t.auto_approval_business_days == 0 || t.auto_cancel_agreement_business_days == 0 {
            problems.push(
                "timers: automatic approval and cancel agreement need at least one business day"
                    .to_owned(),
            );
        }
        let distinct: BTreeSet<_> = t.approval_reminder_business_days.iter().collect();
        if distinct.len() != t.approval_reminder_business_days.len()
            || t.approval_reminder_business_days
                .iter()
                .any(|d| *d == 0 || *d >= t.auto_approval_business_days)
        {
            problems.push(
                "timers: approval reminders must be distinct and fall between delivery and approval".to_owned(),
            );
        }
        let limits = [
            (
                "timers.depositDeadlineHours",
                t.deposit_deadline_hours,
                MAX_DEPOSIT_DEADLINE_HOURS,
            ),
            (
                "timers.depositReminderHours",
                t.deposit_reminder_hours,
                MAX_DEPOSIT_DEADLINE_HOURS,
            ),
            (
                "timers.checkoutExpiryMinutes",
                t.checkout_expiry_minutes,
                MAX_CHECKOUT_EXPIRY_MINUTES,
            ),
        ];
        let business_days = [
            (
                "timers.autoApprovalBusinessDays",
                t.auto_approval_business_days,
            ),
            (
                "timers.autoCancelAgreementBusinessDays",
                t.auto_cancel_agreement_business_days,
            ),
            (
                "settlement.approvalWindowBusinessDays",
                self.settlement.approval_window_business_days,
            ),
            (
                "settlement.general.businessDaysAfterPayment",
                self.settlement.general.business_days_after_payment,
            ),
            (
                "settlement.general.businessDaysAfterApproval",
                self.settlement.general.business_days_after_approval,
            ),
            (
                "settlement.premium.businessDaysAfterPayment",
                self.settlement.premium.business_days_after_payment,
            ),
            (
                "settlement.premium.businessDaysAfterApproval",
                self.settlement.premium.business_days_after_approval,
            ),
            (
                "settlement.returnRefundBusinessDays",
                self.settlement.return_refund_business_days,
            ),
        ];
        let bounded = limits.into_iter().chain(
            business_days
                .into_iter()
                .map(|(field, value)| (field, value, MAX_TIMER_BUSINESS_DAYS)),
        );
        for (field, value, max) in bounded {
            if value > max {
                problems.push(format!("{field} must be at most {max}"));
            }
        }
    }

    /// The per-method minimum payout delays.
    fn minimum_delay_problems(&self, problems: &mut Vec<String>) {
        for (method, delay) in self.settlement.minimum_delay.iter() {
            let days = [Some(delay.business_days), delay.large_amount_business_days];
            if days
                .into_iter()
                .flatten()
                .any(|d| d > MAX_TIMER_BUSINESS_DAYS)
            {
                problems.push(format!(
                    "settlement.minimumDelay.{method}: at most {MAX_TIMER_BUSINESS_DAYS} business days"
                ));
            }
            if delay.large_amount_business_days.is_some()
                && delay.large_amount_from.is_some_and(|a| a < 1)
            {
                problems.push(format!(
                    "settlement.minimumDelay.{method}: largeAmountFrom must be positive"
                ));
            }
            if delay.large_amount_from.is_some() != delay.large_amount_business_days.is_some() {
                problems.push(format!(
                    "settlement.minimumDelay.{method}: largeAmountFrom and largeAmountBusinessDays go together"
                ));
            }
        }
    }
}
