//! Seller limits (판매자 거래한도): does a new payment fit, and if not, which cap it hits.
//!
//! A seller's paid amounts are summed per window (day, month) and per scope (the method, and all
//! methods together). This module holds the rule and the window boundaries; reserving the amount
//! atomically is the job of persistence, which keeps one counter per [`LimitCounter`].

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::calendar::{seoul_date, seoul_instant};
use crate::contract::{LimitSet, PaymentMethod, SellerLimitPolicy, WindowKind};
use crate::money::{Currency, Money};

/// The window a limit is summed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LimitWindow {
    /// The Asia/Seoul day (or the last 24 h).
    Day,
    /// The Asia/Seoul month (or the last 30 days).
    Month,
}

impl LimitWindow {
    /// The code counters are stored under (`DAY`, `MONTH`).
    pub fn code(self) -> &'static str {
        match self {
            LimitWindow::Day => "DAY",
            LimitWindow::Month => "MONTH",
        }
    }
}

impl LimitScope {
    /// The code counters are stored under: `TOTAL`, or the method's code.
    pub fn code(self) -> &'static str {
        match self {
            LimitScope::Total => "TOTAL",
            LimitScope::Method(m) => m.code(),
        }
    }
}

/// What a limit sums: one method, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", content = "method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LimitScope {
    /// All methods together.
    Total,
    /// One method.
    Method(PaymentMethod),
}

/// The period of a window that contains an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPeriod {
    /// The first instant counted.
    pub start: OffsetDateTime,
    /// When the sum starts again from zero (calendar windows only: a rolling window has no single
    /// reset instant, usage leaves it as it ages).
    pub resets_at: Option<OffsetDateTime>,
}

/// One counter a payment adds to: four per payment (day and month, method and total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitCounter {
    /// The window.
    pub window: LimitWindow,
    /// The scope.
    pub scope: LimitScope,
    /// The Asia/Seoul date the period starts on (the 1st for a month).
    pub period_start: Date,
    /// The cap, in minor units.
    pub cap: i64,
}

/// What a seller has used so far in the current day and month windows, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitUsage {
    /// Used today, all methods.
    pub day_total: i64,
    /// Used today with the payment's method.
    pub day_method: i64,
    /// Used this month, all methods.
    pub month_total: i64,
    /// Used this month with the payment's method.
    pub month_method: i64,
}

/// A payment would take a sum over its cap (`SELLER_LIMIT_EXCEEDED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("seller {window:?} limit for {scope:?} exceeded: {remaining} remaining")]
pub struct LimitExceeded {
    /// The window whose cap is hit.
    pub window: LimitWindow,
    /// The method, or the total.
    pub scope: LimitScope,
    /// The cap.
    pub limit: Money,
    /// What is already used.
    pub used: Money,
    /// What is left (never negative).
    pub remaining: Money,
    /// When the window starts again (calendar windows).
    pub resets_at: Option<OffsetDateTime>,
}

impl LimitSet {
    fn cap(&self, scope: LimitScope) -> i64 {
        match scope {
            LimitScope::Total => self.total,
            LimitScope::Method(m) => *self.per_method.get(m),
        }
    }
}

fn month_start(date: Date) -> Date {
    date.replace_day(1).unwrap_or(date)
}

fn next_month_start(date: Date) -> Date {
    let first = month_start(date);
    // The 1st + 32 days is always in the next month.
    month_start(first.saturating_add(Duration::days(32)))
}

impl SellerLimitPolicy {
    fn set(&self, window: LimitWindow) -> &LimitSet {
        match window {
            LimitWindow::Day => &self.day,
            LimitWindow::Month => &self.month,
        }
    }

    /// The period of `window` that contains `now`.
    pub fn period(&self, window: LimitWindow, now: OffsetDateTime) -> WindowPeriod {
        match (self.window_kind, window) {
            (WindowKind::Calendar, LimitWindow::Day) => {
                let today = seoul_date(now);
                WindowPeriod {
                    start: seoul_instant(today, Time::MIDNIGHT),
                    resets_at: today.next_day().map(|d| seoul_instant(d, Time::MIDNIGHT)),
                }
            }
            (WindowKind::Calendar, LimitWindow::Month) => {
                let today = seoul_date(now);
                WindowPeriod {
                    start: seoul_instant(month_start(today), Time::MIDNIGHT),
                    resets_at: Some(seoul_instant(next_month_start(today), Time::MIDNIGHT)),
                }
            }
            (WindowKind::Rolling, LimitWindow::Day) => WindowPeriod {
                start: now - Duration::hours(24),
                resets_at: None,
            },
            (WindowKind::Rolling, LimitWindow::Month) => WindowPeriod {
                start: now - Duration::days(30),
                resets_at: None,
            },
        }
    }

    /// The Asia/Seoul date the calendar period of `window` containing `now` starts on (today, or the
    /// 1st of the month): what counters and reservations are keyed by.
    pub fn period_start_date(&self, window: LimitWindow, now: OffsetDateTime) -> Date {
        let today = seoul_date(now);
        match window {
            LimitWindow::Day => today,
            LimitWindow::Month => month_start(today),
        }
    }

    /// The four counters a payment with `method` at `now` adds to (calendar windows), with their caps.
    pub fn counters(&self, method: PaymentMethod, now: OffsetDateTime) -> [LimitCounter; 4] {
        let counter = |window, scope| LimitCounter {
            window,
            scope,
            period_start: self.period_start_date(window, now),
            cap: self.set(window).cap(scope),
        };
        [
            counter(LimitWindow::Day, LimitScope::Method(method)),
            counter(LimitWindow::Day, LimitScope::Total),
            counter(LimitWindow::Month, LimitScope::Method(method)),
            counter(LimitWindow::Month, LimitScope::Total),
        ]
    }

    /// Whether `amount` paid with `method` at `now` fits on top of `usage`; if not, the first cap it
    /// hits, in the order day/method, day/total, month/method, month/total.
    pub fn check(
        &self,
        method: PaymentMethod,
        amount: Money,
        usage: &LimitUsage,
        now: OffsetDateTime,
    ) -> Result<(), LimitExceeded> {
        let currency: Currency = amount.currency();
        let checks = [
            (
                LimitWindow::Day,
                LimitScope::Method(method),
                usage.day_method,
            ),
            (LimitWindow::Day, LimitScope::Total, usage.day_total),
            (
                LimitWindow::Month,
                LimitScope::Method(method),
                usage.month_method,
            ),
            (LimitWindow::Month, LimitScope::Total, usage.month_total),
        ];
        for (window, scope, used) in checks {
            let cap = self.set(window).cap(scope);
            let fits = used
                .checked_add(amount.minor_units())
                .is_some_and(|after| after <= cap);
            if !fits {
                return Err(LimitExceeded {
                    window,
                    scope,
                    limit: Money::new(cap, currency),
                    used: Money::new(used, currency),
                    remaining: Money::new(cap.saturating_sub(used).max(0), currency),
                    resets_at: self.period(window, now).resets_at,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;
    use time::macros::{date, datetime};

    fn policy() -> SellerLimitPolicy {
        Contract::standard_2022().seller_limits
    }

    #[test]
    fn an_amount_that_fits_exactly_is_accepted() {
        let usage = LimitUsage {
            day_method: 9_000_000,
            day_total: 9_000_000,
            ..Default::default()
        };
        let now = datetime!(2025-03-06 12:00 +9);
        assert!(policy()
            .check(PaymentMethod::Card, Money::krw(1_000_000), &usage, now)
            .is_ok());
        let err = policy()
            .check(PaymentMethod::Card, Money::krw(1_000_001), &usage, now)
            .unwrap_err();
        assert_eq!(err.window, LimitWindow::Day);
        assert_eq!(err.scope, LimitScope::Method(PaymentMethod::Card));
        assert_eq!(err.remaining, Money::krw(1_000_000));
        assert_eq!(err.resets_at, Some(datetime!(2025-03-07 00:00 +9)));
    }

    #[test]
    fn the_total_cap_applies_across_methods() {
        let usage = LimitUsage {
            day_method: 0,
            day_total: 25_000_000,
            month_total: 25_000_000,
            month_method: 0,
        };
        let err = policy()
            .check(
                PaymentMethod::VirtualAccount,
                Money::krw(6_000_000),
                &usage,
                datetime!(2025-03-06 12:00 +9),
            )
            .unwrap_err();
        assert_eq!(
            (err.window, err.scope),
            (LimitWindow::Day, LimitScope::Total)
        );
        assert_eq!(err.remaining, Money::krw(5_000_000));
    }

    #[test]
    fn the_month_cap_names_the_first_of_next_month_seoul_time() {
        let usage = LimitUsage {
            month_method: 9_500_000,
            month_total: 9_500_000,
            ..Default::default()
        };
        let err = policy()
            .check(
                PaymentMethod::BankTransfer,
                Money::krw(600_000),
                &usage,
                datetime!(2025-12-31 23:59 +9),
            )
            .unwrap_err();
        assert_eq!(err.window, LimitWindow::Month);
        assert_eq!(err.resets_at, Some(datetime!(2026-01-01 00:00 +9)));
    }

    #[test]
    fn the_day_window_turns_at_midnight_in_seoul_not_utc() {
        let p = policy();
        // 14:59 UTC = 23:59 Seoul on the 6th; 15:00 UTC = 00:00 on the 7th.
        let before = p.period(LimitWindow::Day, datetime!(2025-03-06 14:59 UTC));
        let after = p.period(LimitWindow::Day, datetime!(2025-03-06 15:00 UTC));
        assert_eq!(before.start, datetime!(2025-03-06 00:00 +9));
        assert_eq!(before.resets_at, Some(datetime!(2025-03-07 00:00 +9)));
        assert_eq!(after.start, datetime!(2025-03-07 00:00 +9));
        assert_eq!(
            p.counters(PaymentMethod::Card, datetime!(2025-03-06 14:59 UTC))[0].period_start,
            date!(2025 - 03 - 06)
        );
        assert_eq!(
            p.counters(PaymentMethod::Card, datetime!(2025-03-06 15:00 UTC))[0].period_start,
            date!(2025 - 03 - 07)
        );
    }

    #[test]
    fn the_month_window_turns_on_the_first_in_seoul() {
        let p = policy();
        let last = p.counters(PaymentMethod::Card, datetime!(2025-02-28 14:59:59 UTC));
        let first = p.counters(PaymentMethod::Card, datetime!(2025-02-28 15:00 UTC));
        assert_eq!(last[2].period_start, date!(2025 - 02 - 01));
        assert_eq!(first[2].period_start, date!(2025 - 03 - 01));
        assert_eq!(first[3].cap, 30_000_000);
        assert_eq!(first[2].cap, 10_000_000);
    }

    #[test]
    fn rolling_windows_look_back_24_hours_and_30_days() {
        let mut p = policy();
        p.window_kind = WindowKind::Rolling;
        let now = datetime!(2025-03-06 12:00 +9);
        assert_eq!(
            p.period(LimitWindow::Day, now).start,
            datetime!(2025-03-05 12:00 +9)
        );
        assert_eq!(
            p.period(LimitWindow::Month, now).start,
            datetime!(2025-02-04 12:00 +9)
        );
        assert_eq!(p.period(LimitWindow::Day, now).resets_at, None);
    }

    #[test]
    fn a_huge_amount_is_refused_not_overflowed() {
        let usage = LimitUsage {
            day_method: 1,
            ..Default::default()
        };
        assert!(policy()
            .check(
                PaymentMethod::Card,
                Money::krw(i64::MAX),
                &usage,
                datetime!(2025-03-06 12:00 +9)
            )
            .is_err());
    }
}
