//! A partner's contract (계약/정책): fees, seller limits, price caps, timers and settlement rules.
//!
//! Policy is negotiated per partner (seed 002), so every value the rules use lives here, as data that
//! serializes to JSON for storage and configuration. [`Contract::standard_2022`] holds exactly the values
//! of SPEC §3. Amounts are minor units of the contract's currency; rates are plain fractions
//! (`0.037` = 3.7%).

mod validation;

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Time;

use crate::money::{Currency, Money, MoneyError};

time::serde::format_description!(hour_minute, Time, "[hour]:[minute]");

/// How the buyer pays (SPEC §3 payment fee table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    /// Credit card (신용카드).
    Card,
    /// Real-time account transfer (실시간 계좌이체).
    BankTransfer,
    /// Virtual account deposit (무통장입금/가상계좌).
    VirtualAccount,
}

impl PaymentMethod {
    /// Every method, in a fixed order.
    pub const ALL: [PaymentMethod; 3] = [
        PaymentMethod::Card,
        PaymentMethod::BankTransfer,
        PaymentMethod::VirtualAccount,
    ];

    /// The API code (`CARD`, `BANK_TRANSFER`, `VIRTUAL_ACCOUNT`).
    pub fn code(self) -> &'static str {
        match self {
            PaymentMethod::Card => "CARD",
            PaymentMethod::BankTransfer => "BANK_TRANSFER",
            PaymentMethod::VirtualAccount => "VIRTUAL_ACCOUNT",
        }
    }

    /// From the API code.
    pub fn from_code(code: &str) -> Option<Self> {
        PaymentMethod::ALL.into_iter().find(|m| m.code() == code)
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The safe-trade type: fee level and payout speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeType {
    /// 일반 안전거래.
    General,
    /// 프리미엄 안전거래: higher fee, faster payout.
    Premium,
}

/// One value per payment method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerMethod<T> {
    /// For [`PaymentMethod::Card`].
    pub card: T,
    /// For [`PaymentMethod::BankTransfer`].
    pub bank_transfer: T,
    /// For [`PaymentMethod::VirtualAccount`].
    pub virtual_account: T,
}

impl<T> PerMethod<T> {
    /// The value for `method`.
    pub fn get(&self, method: PaymentMethod) -> &T {
        match method {
            PaymentMethod::Card => &self.card,
            PaymentMethod::BankTransfer => &self.bank_transfer,
            PaymentMethod::VirtualAccount => &self.virtual_account,
        }
    }

    /// The values with their methods.
    pub fn iter(&self) -> impl Iterator<Item = (PaymentMethod, &T)> {
        PaymentMethod::ALL
            .into_iter()
            .map(move |m| (m, self.get(m)))
    }
}

/// How one fee tier turns its base into a fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum FeeFormula {
    /// A fixed fee in minor units, whatever the base.
    Flat {
        /// The fee.
        amount: i64,
    },
    /// `base × rate`, rounded down to the minor unit, and at least `minimum`.
    Rate {
        /// The rate as a fraction (`0.02` = 2%).
        #[serde(with = "rust_decimal::serde::str")]
        rate: Decimal,
        /// The smallest fee charged, in minor units (0 for none).
        #[serde(default)]
        minimum: i64,
    },
}

/// A tier of a fee schedule: applies to bases up to `up_to` inclusive (`None` = no upper bound).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeTier {
    /// Highest base (minor units, inclusive) this tier covers; `None` for the last, open tier.
    pub up_to: Option<i64>,
    /// How the fee is computed in this tier.
    pub formula: FeeFormula,
}

/// A fee as a function of its base: ascending tiers, the last one open-ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeeSchedule {
    /// The tiers, in ascending order of `up_to`.
    pub tiers: Vec<FeeTier>,
}

impl FeeSchedule {
    /// A single open tier at `rate` with a `minimum`.
    pub fn rate(rate: Decimal, minimum: i64) -> Self {
        FeeSchedule {
            tiers: vec![FeeTier {
                up_to: None,
                formula: FeeFormula::Rate { rate, minimum },
            }],
        }
    }

    /// The fee on `base`, rounded down to the minor unit.
    pub fn fee(&self, base: Money) -> Result<Money, MoneyError> {
        let tier = self
            .tiers
            .iter()
            .find(|t| t.up_to.is_none_or(|up_to| base.minor_units() <= up_to))
            // A validated schedule always ends with an open tier; an unvalidated one without it charges
            // its last tier rather than nothing.
            .or(self.tiers.last());
        let Some(tier) = tier else {
            return Ok(Money::zero(base.currency()));
        };
        match &tier.formula {
            FeeFormula::Flat { amount } => Ok(Money::new(*amount, base.currency())),
            FeeFormula::Rate { rate, minimum } => base
                .percent_floor(*rate)?
                .max(Money::new(*minimum, base.currency())),
        }
    }

    fn validate(&self, what: &str, problems: &mut Vec<String>) {
        if self.tiers.is_empty() {
            problems.push(format!("{what}: no fee tier"));
        }
        let mut previous: Option<i64> = None;
        for (i, tier) in self.tiers.iter().enumerate() {
            let last = i + 1 == self.tiers.len();
            match (tier.up_to, last) {
                (None, false) => problems.push(format!("{what}: only the last tier may be open")),
                (Some(_), true) => problems.push(format!("{what}: the last tier must be open")),
                (Some(up_to), false) => {
                    if previous.is_some_and(|p| up_to <= p) || up_to < 0 {
                        problems.push(format!("{what}: tiers must ascend"));
                    }
                    previous = Some(up_to);
                }
                (None, true) => {}
            }
            match &tier.formula {
                FeeFormula::Flat { amount } if *amount < 0 => {
                    problems.push(format!("{what}: negative flat fee"))
                }
                FeeFormula::Rate { rate, minimum } => {
                    if rate.is_sign_negative() || *rate >= Decimal::ONE {
                        problems.push(format!("{what}: rate must be in [0, 1)"));
                    }
                    if *minimum < 0 {
                        problems.push(format!("{what}: negative minimum fee"));
                    }
                }
                FeeFormula::Flat { .. } => {}
            }
        }
    }
}

/// Safe-trade fee schedules, on the product price, per trade type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SafeTradeFees {
    /// For [`TradeType::General`].
    pub general: FeeSchedule,
    /// For [`TradeType::Premium`].
    pub premium: FeeSchedule,
}

impl SafeTradeFees {
    /// The schedule for `trade_type`.
    pub fn get(&self, trade_type: TradeType) -> &FeeSchedule {
        match trade_type {
            TradeType::General => &self.general,
            TradeType::Premium => &self.premium,
        }
    }
}

/// How seller limit windows are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WindowKind {
    /// Day resets at 00:00 Asia/Seoul, month on the 1st at 00:00 Asia/Seoul.
    Calendar,
    /// The last 24 hours and the last 30 days.
    Rolling,
}

/// The caps of one window: in total and per method (minor units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitSet {
    /// Cap on the sum over all methods.
    pub total: i64,
    /// Cap on the sum per method.
    pub per_method: PerMethod<i64>,
}

/// A seller's limits (판매자 거래한도). Buyers have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SellerLimitPolicy {
    /// Calendar or rolling windows.
    pub window_kind: WindowKind,
    /// Caps per day (or 24 h).
    pub day: LimitSet,
    /// Caps per month (or 30 days).
    pub month: LimitSet,
}

/// Timers (contract fields; SPEC §3 gives the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timers {
    /// A virtual account must be paid within this many hours of issue.
    pub deposit_deadline_hours: u32,
    /// The 입금종료 안내 reminder goes this many hours after the account is issued.
    pub deposit_reminder_hours: u32,
    /// A delivered trade is approved automatically this many business days after delivery.
    pub auto_approval_business_days: u32,
    /// Reminders go this many business days before the automatic approval.
    pub approval_reminder_business_days: Vec<u32>,
    /// A cancel request the seller ignores is agreed automatically after this many business days.
    pub auto_cancel_agreement_business_days: u32,
    /// A checkout not paid within this many minutes expires.
    pub checkout_expiry_minutes: u32,
    /// Business-day timers fire at this local time (Asia/Seoul) of their day (`"10:00"`).
    #[serde(with = "hour_minute")]
    pub batch_time_of_day: Time,
}

/// The shortest payout delay a payment method allows (결제수단별 최소 대금지급 기간).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MinimumPayoutDelay {
    /// Business days after the payment date.
    pub business_days: u32,
    /// From this payment amount (minor units, inclusive), `large_amount_business_days` apply instead.
    pub large_amount_from: Option<i64>,
    /// The delay for large amounts.
    pub large_amount_business_days: Option<u32>,
}

impl MinimumPayoutDelay {
    /// The delay in business days for a payment of `amount`.
    pub fn business_days_for(&self, amount: Money) -> u32 {
        match (self.large_amount_from, self.large_amount_business_days) {
            (Some(from), Some(days)) if amount.minor_units() >= from => days,
            _ => self.business_days,
        }
    }
}

/// When the seller is paid out, per trade type (정산지급).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayoutRule {
    /// Payout `P + n` when the purchase is approved within the approval window.
    pub business_days_after_payment: u32,
    /// Payout `A + n` when the purchase is approved after the window (0 = the approval day).
    pub business_days_after_approval: u32,
}

/// Settlement rules (정산주기).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettlementRules {
    /// The window `P + n` inside which the after-payment rule applies.
    pub approval_window_business_days: u32,
    /// For [`TradeType::General`].
    pub general: PayoutRule,
    /// For [`TradeType::Premium`].
    pub premium: PayoutRule,
    /// The per-method minimum delay after payment.
    pub minimum_delay: PerMethod<MinimumPayoutDelay>,
    /// A return is refunded this many business days after it completes.
    pub return_refund_business_days: u32,
}

impl SettlementRules {
    /// The rule for `trade_type`.
    pub fn payout_rule(&self, trade_type: TradeType) -> &PayoutRule {
        match trade_type {
            TradeType::General => &self.general,
            TradeType::Premium => &self.premium,
        }
    }
}

/// The longest deposit deadline a contract may set (30 days).
pub const MAX_DEPOSIT_DEADLINE_HOURS: u32 = 24 * 30;
/// The longest checkout expiry a contract may set (one day).
pub const MAX_CHECKOUT_EXPIRY_MINUTES: u32 = 24 * 60;
/// The most business days any contract timer or settlement delay may count (about three months).
pub const MAX_TIMER_BUSINESS_DAYS: u32 = 60;

/// A partner's contract.
///
/// ```
/// use escrow_domain::contract::Contract;
/// let contract = Contract::standard_2022();
/// assert!(contract.validate().is_ok());
/// let json = serde_json::to_string(&contract).unwrap();
/// assert_eq!(serde_json::from_str::<Contract>(&json).unwrap(), contract);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contract {
    /// A stable name, e.g. `standard-2022`.
    pub code: String,
    /// The currency every amount of this contract is in.
    pub currency: Currency,
    /// Payment fee (결제수수료) per method, on the payment amount.
    pub payment_fees: PerMethod<FeeSchedule>,
    /// Safe-trade fee (안전거래수수료) per trade type, on the product price.
    pub safe_trade_fees: SafeTradeFees,
    /// Seller limits.
    pub seller_limits: SellerLimitPolicy,
    /// Highest payment amount per method (상품금액제한).
    pub price_caps: PerMethod<i64>,
    /// Lowest product price.
    pub minimum_price: i64,
    /// Timers.
    pub timers: Timers,
    /// Settlement.
    pub settlement: SettlementRules,
    /// API requests per minute (absent in contracts stored before it existed: the default).
    #[serde(default)]
    pub rate_limit: crate::rate_limit::RateLimit,
    /// The fee a member pays to have its custody vouchers delivered (SPEC §13, paid through
    /// PortOne), in minor units of `currency` (absent in contracts stored before it existed: 3,000).
    #[serde(default = "default_custody_shipping_fee")]
    pub custody_shipping_fee: i64,
}

fn default_custody_shipping_fee() -> i64 {
    3_000
}

/// A contract that breaks its own invariants, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid contract: {}", problems.join("; "))]
pub struct InvalidContract {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl Contract {
    /// The code of the default contract.
    pub const STANDARD_2022: &'static str = "standard-2022";

    /// The default contract: exactly the values of seed 002 (SPEC §3).
    pub fn standard_2022() -> Contract {
        let limit_set = LimitSet {
            total: 30_000_000,
            per_method: PerMethod {
                card: 10_000_000,
                bank_transfer: 10_000_000,
                virtual_account: 10_000_000,
            },
        };
        let safe_trade = |flat: i64, rate: Decimal| FeeSchedule {
            tiers: vec![
                FeeTier {
                    up_to: Some(999_999),
                    formula: FeeFormula::Flat { amount: flat },
                },
                FeeTier {
                    up_to: None,
                    formula: FeeFormula::Rate { rate, minimum: 0 },
                },
            ],
        };
        Contract {
            code: Contract::STANDARD_2022.to_owned(),
            currency: Currency::Krw,
            payment_fees: PerMethod {
                card: FeeSchedule::rate(Decimal::new(37, 3), 0),
                bank_transfer: FeeSchedule {
                    tiers: vec![
                        FeeTier {
                            up_to: Some(10_000),
                            formula: FeeFormula::Flat { amount: 300 },
                        },
                        FeeTier {
                            up_to: None,
                            formula: FeeFormula::Rate {
                                rate: Decimal::new(2, 2),
                                minimum: 0,
                            },
                        },
                    ],
                },
                virtual_account: FeeSchedule::rate(Decimal::new(2, 2), 500),
            },
            safe_trade_fees: SafeTradeFees {
                general: safe_trade(1_000, Decimal::new(5, 3)),
                premium: safe_trade(2_000, Decimal::new(7, 3)),
            },
            seller_limits: SellerLimitPolicy {
                window_kind: WindowKind::Calendar,
                day: limit_set.clone(),
                month: limit_set,
            },
            price_caps: PerMethod {
                card: 4_000_000,
                bank_transfer: 1_000_000,
                virtual_account: 50_000_000,
            },
            minimum_price: 1,
            timers: Timers {
                deposit_deadline_hours: 24,
                deposit_reminder_hours: 5,
                auto_approval_business_days: 5,
                approval_reminder_business_days: vec![3, 1],
                auto_cancel_agreement_business_days: 3,
                checkout_expiry_minutes: 30,
                batch_time_of_day: time::macros::time!(10:00),
            },
            settlement: SettlementRules {
                approval_window_business_days: 3,
                general: PayoutRule {
                    business_days_after_payment: 3,
                    business_days_after_approval: 1,
                },
                premium: PayoutRule {
                    business_days_after_payment: 2,
                    business_days_after_approval: 0,
                },
                minimum_delay: PerMethod {
                    card: MinimumPayoutDelay {
                        business_days: 3,
                        large_amount_from: None,
                        large_amount_business_days: None,
                    },
                    bank_transfer: MinimumPayoutDelay {
                        business_days: 3,
                        large_amount_from: None,
                        large_amount_business_days: None,
                    },
                    virtual_account: MinimumPayoutDelay {
                        business_days: 2,
                        large_amount_from: Some(1_000_000),
                        large_amount_business_days: Some(3),
                    },
                },
                return_refund_business_days: 1,
            },
            rate_limit: crate::rate_limit::RateLimit::default(),
            custody_shipping_fee: default_custody_shipping_fee(),
        }
    }

    /// The highest payment amount any method accepts: a product priced above it cannot be registered.
    pub fn highest_price_cap(&self) -> i64 {
        PaymentMethod::ALL
            .iter()
            .map(|m| *self.price_caps.get(*m))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn standard_2022_is_valid_and_round_trips_through_json() {
        let c = Contract::standard_2022();
        c.validate().unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["paymentFees"]["card"][0]["formula"]["rate"], "0.037");
        assert_eq!(json["timers"]["batchTimeOfDay"], "10:00");
        let back: Contract = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn timers_past_their_bounds_are_refused_by_name() {
        for (field, set) in [
            (
                "timers.checkoutExpiryMinutes",
                &(|c: &mut Contract| c.timers.checkout_expiry_minutes = u32::MAX)
                    as &dyn Fn(&mut Contract),
            ),
            ("timers.depositDeadlineHours", &|c: &mut Contract| {
                c.timers.deposit_deadline_hours = u32::MAX
            }),
            ("timers.autoApprovalBusinessDays", &|c: &mut Contract| {
                c.timers.auto_approval_business_days = u32::MAX
            }),
            (
                "timers.autoCancelAgreementBusinessDays",
                &|c: &mut Contract| c.timers.auto_cancel_agreement_business_days = 61,
            ),
            (
                "settlement.returnRefundBusinessDays",
                &|c: &mut Contract| c.settlement.return_refund_business_days = u32::MAX,
            ),
            (
                "settlement.general.businessDaysAfterApproval",
                &|c: &mut Contract| c.settlement.general.business_days_after_approval = 100,
            ),
        ] {
            let mut c = Contract::standard_2022();
            set(&mut c);
            let e = c.validate().unwrap_err();
            assert!(
                e.problems.iter().any(|p| p.starts_with(field)),
                "{field}: {e:?}"
            );
        }
        let mut c = Contract::standard_2022();
        c.timers.checkout_expiry_minutes = MAX_CHECKOUT_EXPIRY_MINUTES;
        c.timers.deposit_deadline_hours = MAX_DEPOSIT_DEADLINE_HOURS;
        c.validate().unwrap();
    }

    #[test]
    fn unknown_contract_fields_are_refused() {
        let mut json = serde_json::to_value(Contract::standard_2022()).unwrap();
        json["surprise"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Contract>(json).is_err());
    }

    #[test]
    fn validation_reports_negative_rates_and_bad_tiers() {
        let mut c = Contract::standard_2022();
        c.payment_fees.card = FeeSchedule::rate(dec!(-0.01), 0);
        c.safe_trade_fees.general.tiers.reverse();
        c.minimum_price = 0;
        c.timers.approval_reminder_business_days = vec![5];
        let err = c.validate().unwrap_err();
        let all = err.problems.join("\n");
        assert!(
            all.contains("paymentFees.CARD: rate must be in [0, 1)"),
            "{all}"
        );
        assert!(
            all.contains("safeTradeFees.general: only the last tier may be open"),
            "{all}"
        );
        assert!(all.contains("minimumPrice must be at least 1"), "{all}");
        assert!(all.contains("approval reminders"), "{all}");
    }

    #[test]
    fn highest_cap_is_the_virtual_account_cap() {
        assert_eq!(Contract::standard_2022().highest_price_cap(), 50_000_000);
    }
}
