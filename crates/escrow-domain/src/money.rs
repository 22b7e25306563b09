//! Money: integer minor units of an ISO 4217 currency, with checked arithmetic and named roundings.
//!
//! No floating point is used anywhere near money. Rates are [`Decimal`]s, and the only way to turn
//! `amount × rate` back into money is a named rounding ([`Money::percent_floor`]), so every rounding in
//! the codebase is explicit and searchable.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency the service can hold money in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    /// Korean won: no minor unit, 1 = 1 won.
    Krw,
    /// US dollar: two decimals, 1 = 1 cent.
    Usd,
}

impl Currency {
    /// The ISO 4217 alphabetic code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Krw => "KRW",
            Currency::Usd => "USD",
        }
    }

    /// How many decimal digits the minor unit has (KRW 0, USD 2).
    pub fn minor_unit_digits(self) -> u32 {
        match self {
            Currency::Krw => 0,
            Currency::Usd => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A currency code that is not one the service supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported currency {0:?}")]
pub struct UnsupportedCurrency(pub String);

impl FromStr for Currency {
    type Err = UnsupportedCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "KRW" => Ok(Currency::Krw),
            "USD" => Ok(Currency::Usd),
            other => Err(UnsupportedCurrency(other.to_owned())),
        }
    }
}

/// Why an arithmetic operation on money was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("currency mismatch: {0} vs {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The result does not fit in 64 bits of minor units.
    #[error("amount overflow")]
    Overflow,
}

/// An amount of money: integer minor units of one currency.
///
/// ```
/// use escrow_domain::money::{Currency, Money};
/// let price = Money::krw(15_500);
/// assert_eq!(price.minor_units(), 15_500);
/// assert_eq!(price.currency(), Currency::Krw);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor_units` of `currency`.
    pub const fn new(minor_units: i64, currency: Currency) -> Self {
        Money {
            amount: minor_units,
            currency,
        }
    }

    /// An amount in won.
    pub const fn krw(won: i64) -> Self {
        Money::new(won, Currency::Krw)
    }

    /// Zero of `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Money::new(0, currency)
    }

    /// The amount in minor units.
    pub const fn minor_units(self) -> i64 {
        self.amount
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// True when the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.amount < 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    /// `self + other`, refused across currencies or on overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self - other`, refused across currencies or on overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|a| Money::new(a, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// `self × rate`, **rounded down to the currency's minor unit** (원 미만 절사).
    ///
    /// `rate` is a plain fraction (`0.037` for 3.7%). The product is exact in [`Decimal`] before
    /// the rounding, so `15_500 × 0.037 = 573.5 → 573`.
    pub fn percent_floor(self, rate: Decimal) -> Result<Money, MoneyError> {
        let exact = Decimal::from(self.amount)
            .checked_mul(rate)
            .ok_or(MoneyError::Overflow)?;
        let floored = exact.floor().to_i64().ok_or(MoneyError::Overflow)?;
        Ok(Money::new(floored, self.currency))
    }

    /// The larger of two amounts of the same currency.
    pub fn max(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount > self.amount {
            other
        } else {
            self
        })
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }
}

impl fmt::Display for Money {
    /// `15500 KRW`, `12.34 USD`: major units with the currency's decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_unit_digits();
        let major = Decimal::new(self.amount, digits);
        write!(f, "{major} {}", self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn card_fee_example_rounds_573_5_down_to_573() {
        assert_eq!(
            Money::krw(15_500).percent_floor(dec!(0.037)).unwrap(),
            Money::krw(573)
        );
    }

    #[test]
    fn rounding_is_down_not_nearest() {
        assert_eq!(
            Money::krw(999).percent_floor(dec!(0.005)).unwrap(),
            Money::krw(4)
        );
        assert_eq!(
            Money::krw(1_999).percent_floor(dec!(0.5)).unwrap(),
            Money::krw(999)
        );
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies() {
        let err = Money::krw(1)
            .checked_add(Money::new(1, Currency::Usd))
            .unwrap_err();
        assert_eq!(
            err,
            MoneyError::CurrencyMismatch(Currency::Krw, Currency::Usd)
        );
    }

    #[test]
    fn arithmetic_refuses_overflow() {
        assert_eq!(
            Money::krw(i64::MAX).checked_add(Money::krw(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::krw(i64::MIN).checked_sub(Money::krw(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::krw(i64::MAX).percent_floor(dec!(2)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn display_uses_major_units() {
        assert_eq!(Money::krw(15_500).to_string(), "15500 KRW");
        assert_eq!(Money::new(1234, Currency::Usd).to_string(), "12.34 USD");
    }

    #[test]
    fn serde_round_trip() {
        let m = Money::new(1234, Currency::Usd);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":1234,"currency":"USD"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }
}
