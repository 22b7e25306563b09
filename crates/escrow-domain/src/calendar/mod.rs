//! The business calendar: which days count as business days (영업일) in Korea, and Asia/Seoul dates.
//!
//! Business days exclude Saturdays, Sundays and the holidays held by the calendar. The calendar is a
//! value built from a list of dates, so an operator can add or remove a date at run time (a new election
//! day, a one-off holiday) and rebuild it; [`BusinessCalendar::korea`] ships 2024–2030. Korea has used
//! UTC+9 without daylight saving since 1988, so Asia/Seoul is the fixed offset [`SEOUL`].

mod korea;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time, UtcOffset, Weekday};

/// Asia/Seoul: UTC+9, no daylight saving.
pub const SEOUL: UtcOffset = time::macros::offset!(+9);

/// One holiday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// The date (Asia/Seoul).
    pub date: Date,
    /// Its name.
    pub name: String,
}

/// The most business days any computation steps over (about 14 years): contracts allow far fewer
/// (see `Contract::validate`); the cap only guarantees that no stored value can make a job spin.
pub const MAX_BUSINESS_DAYS: u32 = 3_650;

/// A set of holidays plus the weekend rule.
///
/// ```
/// use escrow_domain::calendar::BusinessCalendar;
/// use time::macros::date;
/// let cal = BusinessCalendar::korea();
/// // Seollal 2026 is Mon 16 – Wed 18 February: Friday 13th + 1 business day is Thursday 19th.
/// assert_eq!(cal.add_business_days(date!(2026-02-13), 1), date!(2026-02-19));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    holidays: BTreeMap<Date, String>,
}

impl BusinessCalendar {
    /// A calendar with exactly these holidays.
    pub fn new(holidays: impl IntoIterator<Item = Holiday>) -> Self {
        BusinessCalendar {
            holidays: holidays.into_iter().map(|h| (h.date, h.name)).collect(),
        }
    }

    /// The Korean public holidays of 2024–2030, as shipped.
    pub fn korea() -> Self {
        BusinessCalendar {
            holidays: korea::KOREAN_HOLIDAYS_2024_2030
                .iter()
                .map(|(d, n)| (*d, (*n).to_owned()))
                .collect(),
        }
    }

    /// Adds (or renames) a holiday.
    pub fn add_holiday(&mut self, date: Date, name: impl Into<String>) {
        self.holidays.insert(date, name.into());
    }

    /// Removes a holiday; returns whether it was there.
    pub fn remove_holiday(&mut self, date: Date) -> bool {
        self.holidays.remove(&date).is_some()
    }

    /// The holidays in date order.
    pub fn holidays(&self) -> impl Iterator<Item = Holiday> + '_ {
        self.holidays.iter().map(|(d, n)| Holiday {
            date: *d,
            name: n.clone(),
        })
    }

    /// True when `date` is a listed holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains_key(&date)
    }

    /// True for a weekday that is not a holiday.
    pub fn is_business_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.is_holiday(date)
    }

    /// `date` itself when it is a business day, else the next one.
    pub fn business_day_on_or_after(&self, date: Date) -> Date {
        let mut d = date;
        while !self.is_business_day(d) {
            match d.next_day() {
                Some(next) => d = next,
                None => return d,
            }
        }
        d
    }

    /// The first business day strictly after `date`.
    pub fn next_business_day(&self, date: Date) -> Date {
        match date.next_day() {
            Some(next) => self.business_day_on_or_after(next),
            None => date,
        }
    }

    /// The `n`-th business day after `date` (`n = 0` gives `date` itself). `n` is capped at
    /// [`MAX_BUSINESS_DAYS`], so no stored value can make this loop for long.
    pub fn add_business_days(&self, date: Date, n: u32) -> Date {
        (0..n.min(MAX_BUSINESS_DAYS)).fold(date, |d, _| self.next_business_day(d))
    }

    /// The `n`-th business day before `date` (`n = 0` gives `date` itself; `n` capped at
    /// [`MAX_BUSINESS_DAYS`]).
    pub fn sub_business_days(&self, date: Date, n: u32) -> Date {
        let mut d = date;
        for _ in 0..n.min(MAX_BUSINESS_DAYS) {
            loop {
                match d.previous_day() {
                    Some(prev) => d = prev,
                    None => return d,
                }
                if self.is_business_day(d) {
                    break;
                }
            }
        }
        d
    }

    /// The business date of an instant: its Asia/Seoul date, or the next business day when that date
    /// is not one (a payment on a Sunday counts from Monday).
    pub fn business_date_of(&self, instant: OffsetDateTime) -> Date {
        self.business_day_on_or_after(seoul_date(instant))
    }
}

/// The Asia/Seoul calendar date of an instant.
pub fn seoul_date(instant: OffsetDateTime) -> Date {
    instant.to_offset(SEOUL).date()
}

/// The instant of `time` on `date` in Asia/Seoul.
pub fn seoul_instant(date: Date, time: Time) -> OffsetDateTime {
    date.with_time(time).assume_offset(SEOUL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn weekends_are_not_business_days() {
        let cal = BusinessCalendar::default();
        assert!(cal.is_business_day(date!(2025 - 03 - 07))); // Friday
        assert!(!cal.is_business_day(date!(2025 - 03 - 08)));
        assert!(!cal.is_business_day(date!(2025 - 03 - 09)));
        assert_eq!(
            cal.next_business_day(date!(2025 - 03 - 07)),
            date!(2025 - 03 - 10)
        );
        assert_eq!(
            cal.add_business_days(date!(2025 - 03 - 06), 3),
            date!(2025 - 03 - 11)
        );
    }

    #[test]
    fn ships_the_lunar_substitute_and_one_off_holidays() {
        let cal = BusinessCalendar::korea();
        for d in [
            date!(2025 - 01 - 27), // temporary holiday before Seollal
            date!(2025 - 01 - 28),
            date!(2025 - 01 - 29),
            date!(2025 - 01 - 30),
            date!(2026 - 02 - 16),
            date!(2026 - 02 - 17),
            date!(2026 - 02 - 18),
            date!(2025 - 10 - 06), // Chuseok
            date!(2025 - 10 - 08), // its substitute (Oct 5 was a Sunday)
            date!(2025 - 06 - 03), // presidential election
            date!(2024 - 04 - 10), // National Assembly election
            date!(2026 - 06 - 03), // local elections
            date!(2030 - 02 - 05), // Seollal substitute
        ] {
            assert!(cal.is_holiday(d), "{d}");
        }
        assert!(cal
            .holidays()
            .all(|h| (2024..=2030).contains(&h.date.year())));
        assert!(cal.holidays().count() > 100);
    }

    #[test]
    fn seollal_2025_pushes_business_days_past_the_long_weekend() {
        let cal = BusinessCalendar::korea();
        // Fri 24 Jan 2025 → Mon 27 – Thu 30 are holidays → Fri 31.
        assert_eq!(
            cal.next_business_day(date!(2025 - 01 - 24)),
            date!(2025 - 01 - 31)
        );
    }

    #[test]
    fn chuseok_2025_with_its_substitute_day() {
        let cal = BusinessCalendar::korea();
        // Thu 2 Oct → Fri 3 (개천절), Mon 6 – Wed 8 (Chuseok + substitute), Thu 9 (한글날) → Fri 10.
        assert_eq!(
            cal.next_business_day(date!(2025 - 10 - 02)),
            date!(2025 - 10 - 10)
        );
        assert_eq!(
            cal.add_business_days(date!(2025 - 10 - 02), 2),
            date!(2025 - 10 - 13)
        );
    }

    #[test]
    fn operators_can_add_and_remove_days() {
        let mut cal = BusinessCalendar::korea();
        assert!(cal.is_business_day(date!(2026 - 11 - 24)));
        cal.add_holiday(date!(2026 - 11 - 24), "one-off");
        assert!(!cal.is_business_day(date!(2026 - 11 - 24)));
        assert!(cal.remove_holiday(date!(2026 - 11 - 24)));
        assert!(!cal.remove_holiday(date!(2026 - 11 - 24)));
        assert!(cal.is_business_day(date!(2026 - 11 - 24)));
    }

    #[test]
    fn business_date_is_taken_in_seoul() {
        let cal = BusinessCalendar::korea();
        // Friday 23:30 UTC is Saturday 08:30 in Seoul → Monday.
        assert_eq!(
            cal.business_date_of(datetime!(2025-03-14 23:30 UTC)),
            date!(2025 - 03 - 17)
        );
        // Friday 14:59 UTC is Friday 23:59 in Seoul.
        assert_eq!(
            cal.business_date_of(datetime!(2025-03-14 14:59 UTC)),
            date!(2025 - 03 - 14)
        );
        assert_eq!(
            seoul_date(datetime!(2025-03-14 15:00 UTC)),
            date!(2025 - 03 - 15)
        );
    }

    #[test]
    fn counting_back_skips_holidays() {
        let cal = BusinessCalendar::korea();
        assert_eq!(
            cal.sub_business_days(date!(2025 - 01 - 31), 1),
            date!(2025 - 01 - 24)
        );
        assert_eq!(
            cal.sub_business_days(date!(2025 - 01 - 31), 0),
            date!(2025 - 01 - 31)
        );
    }

    #[test]
    fn extreme_dates_do_not_loop_or_panic() {
        let cal = BusinessCalendar::default();
        assert_eq!(cal.next_business_day(Date::MAX), Date::MAX);
        let _ = cal.sub_business_days(Date::MIN, 3);
    }
}
