//! Quoting a trade: what the buyer pays, what the service keeps and what the seller receives.
//!
//! Each fee component is computed on its own base and rounded down to the minor unit before the
//! components are added (SPEC §2): the payment fee on the payment amount (price + shipping fee), the
//! safe-trade fee on the product price.

use serde::{Deserialize, Serialize};

use crate::contract::{Contract, PaymentMethod, TradeType};
use crate::money::{Currency, Money, MoneyError};

/// What is being bought, and how it will be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    /// The product price.
    pub product_price: Money,
    /// The shipping fee the buyer pays on top (0 for none).
    pub shipping_fee: Money,
    /// The payment method.
    pub method: PaymentMethod,
    /// The safe-trade type.
    pub trade_type: TradeType,
}

/// The amounts of a trade. Invariant: `escrow_fee + seller_payout == payment_amount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The product price.
    pub product_price: Money,
    /// The shipping fee.
    pub shipping_fee: Money,
    /// What the buyer pays: price + shipping fee.
    pub payment_amount: Money,
    /// 결제수수료, on the payment amount.
    pub payment_fee: Money,
    /// 안전거래수수료, on the product price.
    pub safe_trade_fee: Money,
    /// payment fee + safe-trade fee.
    pub escrow_fee: Money,
    /// payment amount − escrow fee: what the seller is paid out.
    pub seller_payout: Money,
}

/// Why a quote was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// An amount is not in the contract's currency.
    #[error("amount in {found}, the contract is in {expected}")]
    CurrencyMismatch {
        /// The contract's currency.
        expected: Currency,
        /// The amount's currency.
        found: Currency,
    },
    /// A price or fee below zero.
    #[error("amounts may not be negative")]
    NegativeAmount,
    /// The product price is below the contract's minimum.
    #[error("price below the minimum of {minimum}")]
    BelowMinimumPrice {
        /// The contract's minimum price.
        minimum: Money,
    },
    /// The payment amount is above the method's cap (`PRICE_LIMIT_EXCEEDED`).
    #[error("payment amount above the {method} cap of {cap}")]
    PriceLimitExceeded {
        /// The method whose cap was hit.
        method: PaymentMethod,
        /// Its cap.
        cap: Money,
    },
    /// The product does not accept this method.
    #[error("{0} is not accepted for this product")]
    MethodNotAllowed(PaymentMethod),
    /// The fees would take the whole payment and more: the seller would receive nothing.
    #[error("the escrow fee {escrow_fee} is not below the payment amount {payment_amount}")]
    FeesExceedAmount {
        /// The fee.
        escrow_fee: Money,
        /// The payment amount.
        payment_amount: Money,
    },
    /// The amounts do not fit in 64 bits.
    #[error("amount overflow")]
    Overflow,
}

impl From<MoneyError> for QuoteError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch(expected, found) => {
                QuoteError::CurrencyMismatch { expected, found }
            }
            MoneyError::Overflow => QuoteError::Overflow,
        }
    }
}

impl Contract {
    fn money(&self, minor_units: i64) -> Money {
        Money::new(minor_units, self.currency)
    }

    fn check_currency(&self, amount: Money) -> Result<(), QuoteError> {
        if amount.currency() != self.currency {
            return Err(QuoteError::CurrencyMismatch {
                expected: self.currency,
                found: amount.currency(),
            });
        }
        if amount.is_negative() {
            return Err(QuoteError::NegativeAmount);
        }
        Ok(())
    }

    /// Whether a product may be registered at `price`: at least the minimum, at most the highest
    /// method cap (SPEC §3 price caps).
    pub fn check_product_price(&self, price: Money) -> Result<(), QuoteError> {
        self.check_currency(price)?;
        if price.minor_units() < self.minimum_price {
            return Err(QuoteError::BelowMinimumPrice {
                minimum: self.money(self.minimum_price),
            });
        }
        let (method, cap) = PaymentMethod::ALL
            .iter()
            .map(|m| (*m, *self.price_caps.get(*m)))
            .max_by_key(|(_, cap)| *cap)
            .unwrap_or((PaymentMethod::Card, 0));
        if price.minor_units() > cap {
            return Err(QuoteError::PriceLimitExceeded {
                method,
                cap: self.money(cap),
            });
        }
        Ok(())
    }

    /// Quotes a trade, refusing a method the product does not accept (`allowed_methods`), a payment
    /// amount above the method's cap, and a price the contract does not allow.
    ///
    /// ```
    /// use escrow_domain::contract::{Contract, PaymentMethod, TradeType};
    /// use escrow_domain::money::Money;
    /// use escrow_domain::quote::QuoteRequest;
    ///
    /// let q = Contract::standard_2022().quote(&QuoteRequest {
    ///     product_price: Money::krw(3_000),
    ///     shipping_fee: Money::krw(0),
    ///     method: PaymentMethod::Card,
    ///     trade_type: TradeType::General,
    /// }, &[PaymentMethod::Card]).unwrap();
    /// assert_eq!(q.escrow_fee, Money::krw(1_111));
    /// assert_eq!(q.seller_payout, Money::krw(1_889));
    /// ```
    pub fn quote(
        &self,
        request: &QuoteRequest,
        allowed_methods: &[PaymentMethod],
    ) -> Result<Quote, QuoteError> {
        self.check_product_price(request.product_price)?;
        self.check_currency(request.shipping_fee)?;
        if !allowed_methods.contains(&request.method) {
            return Err(QuoteError::MethodNotAllowed(request.method));
        }
        let payment_amount = request.product_price.checked_add(request.shipping_fee)?;
        let cap = *self.price_caps.get(request.method);
        if payment_amount.minor_units() > cap {
            return Err(QuoteError::PriceLimitExceeded {
                method: request.method,
                cap: self.money(cap),
            });
        }
        let payment_fee = self.payment_fees.get(request.method).fee(payment_amount)?;
        let safe_trade_fee = self
            .safe_trade_fees
            .get(request.trade_type)
            .fee(request.product_price)?;
        let escrow_fee = payment_fee.checked_add(safe_trade_fee)?;
        if escrow_fee.minor_units() >= payment_amount.minor_units() {
            return Err(QuoteError::FeesExceedAmount {
                escrow_fee,
                payment_amount,
            });
        }
        let seller_payout = payment_amount.checked_sub(escrow_fee)?;
        Ok(Quote {
            product_price: request.product_price,
            shipping_fee: request.shipping_fee,
            payment_amount,
            payment_fee,
            safe_trade_fee,
            escrow_fee,
            seller_payout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: &[PaymentMethod] = &PaymentMethod::ALL;

    fn quote(
        price: i64,
        method: PaymentMethod,
        trade_type: TradeType,
    ) -> Result<Quote, QuoteError> {
        quote_with_shipping(price, 0, method, trade_type)
    }

    fn quote_with_shipping(
        price: i64,
        shipping: i64,
        method: PaymentMethod,
        trade_type: TradeType,
    ) -> Result<Quote, QuoteError> {
        Contract::standard_2022().quote(
            &QuoteRequest {
                product_price: Money::krw(price),
                shipping_fee: Money::krw(shipping),
                method,
                trade_type,
            },
            ALL,
        )
    }

    fn payment_fee(price: i64, method: PaymentMethod) -> i64 {
        quote(price, method, TradeType::General)
            .unwrap()
            .payment_fee
            .minor_units()
    }

    fn safe_trade_fee(price: i64, trade_type: TradeType) -> i64 {
        quote(price, PaymentMethod::VirtualAccount, trade_type)
            .unwrap()
            .safe_trade_fee
            .minor_units()
    }

    #[test]
    fn manual_figures_card_3000_general_fee_1111_payout_1889() {
        let q = quote(3_000, PaymentMethod::Card, TradeType::General).unwrap();
        assert_eq!(q.payment_fee, Money::krw(111));
        assert_eq!(q.safe_trade_fee, Money::krw(1_000));
        assert_eq!(q.escrow_fee, Money::krw(1_111));
        assert_eq!(q.seller_payout, Money::krw(1_889));
    }

    #[test]
    fn card_fee_is_3_7_percent_rounded_down() {
        assert_eq!(payment_fee(15_500, PaymentMethod::Card), 573); // 573.5
        assert_eq!(payment_fee(4_000_000, PaymentMethod::Card), 148_000);
        assert_eq!(payment_fee(2_999, PaymentMethod::Card), 110); // 110.963
    }

    #[test]
    fn transfer_fee_is_flat_300_won_up_to_10000() {
        assert_eq!(payment_fee(2_000, PaymentMethod::BankTransfer), 300);
        assert_eq!(payment_fee(10_000, PaymentMethod::BankTransfer), 300);
    }

    #[test]
    fn transfer_fee_is_2_percent_from_10001() {
        assert_eq!(payment_fee(10_001, PaymentMethod::BankTransfer), 200); // 200.02
        assert_eq!(payment_fee(10_049, PaymentMethod::BankTransfer), 200); // 200.98, rounded down
        assert_eq!(payment_fee(1_000_000, PaymentMethod::BankTransfer), 20_000);
    }

    #[test]
    fn transfer_tier_takes_the_payment_amount_including_shipping() {
        let q = quote_with_shipping(
            9_000,
            3_000,
            PaymentMethod::BankTransfer,
            TradeType::General,
        )
        .unwrap();
        assert_eq!(q.payment_amount, Money::krw(12_000));
        assert_eq!(q.payment_fee, Money::krw(240));
    }

    #[test]
    fn virtual_account_fee_is_2_percent_at_least_500() {
        assert_eq!(payment_fee(2_000, PaymentMethod::VirtualAccount), 500);
        assert_eq!(payment_fee(24_999, PaymentMethod::VirtualAccount), 500); // 499.98
        assert_eq!(payment_fee(25_000, PaymentMethod::VirtualAccount), 500);
        assert_eq!(payment_fee(25_050, PaymentMethod::VirtualAccount), 501);
        assert_eq!(
            payment_fee(50_000_000, PaymentMethod::VirtualAccount),
            1_000_000
        );
    }

    #[test]
    fn safe_trade_fee_is_flat_below_one_million() {
        assert_eq!(safe_trade_fee(999_999, TradeType::General), 1_000);
        assert_eq!(safe_trade_fee(999_999, TradeType::Premium), 2_000);
        assert_eq!(safe_trade_fee(3_000, TradeType::Premium), 2_000);
    }

    #[test]
    fn safe_trade_fee_is_a_rate_from_one_million() {
        assert_eq!(safe_trade_fee(1_000_000, TradeType::General), 5_000);
        assert_eq!(safe_trade_fee(1_000_000, TradeType::Premium), 7_000);
        assert_eq!(safe_trade_fee(1_234_567, TradeType::General), 6_172); // 6172.835
        assert_eq!(safe_trade_fee(1_234_567, TradeType::Premium), 8_641); // 8641.969
    }

    #[test]
    fn safe_trade_fee_is_on_the_price_not_the_shipping() {
        let q = quote_with_shipping(
            999_999,
            5_000,
            PaymentMethod::VirtualAccount,
            TradeType::General,
        )
        .unwrap();
        assert_eq!(q.safe_trade_fee, Money::krw(1_000));
        assert_eq!(q.payment_fee, Money::krw(20_099)); // 2% of 1,004,999 = 20,099.98
    }

    #[test]
    fn each_component_is_rounded_before_adding() {
        // Virtual account 2% of 1,234,567 = 24,691.34 → 24,691; general 0.5% = 6,172.835 → 6,172.
        // Adding before rounding would give 30,864.
        let q = quote(1_234_567, PaymentMethod::VirtualAccount, TradeType::General).unwrap();
        assert_eq!(q.payment_fee, Money::krw(24_691)); // 24,691.34
        assert_eq!(q.safe_trade_fee, Money::krw(6_172));
        assert_eq!(q.escrow_fee, Money::krw(30_863));
        assert_eq!(q.seller_payout, Money::krw(1_203_704));
    }

    #[test]
    fn price_caps_per_method_apply_to_the_payment_amount() {
        assert!(quote(4_000_000, PaymentMethod::Card, TradeType::General).is_ok());
        assert_eq!(
            quote_with_shipping(4_000_000, 1, PaymentMethod::Card, TradeType::General),
            Err(QuoteError::PriceLimitExceeded {
                method: PaymentMethod::Card,
                cap: Money::krw(4_000_000)
            })
        );
        assert!(quote(1_000_000, PaymentMethod::BankTransfer, TradeType::General).is_ok());
        assert!(matches!(
            quote(1_000_001, PaymentMethod::BankTransfer, TradeType::General),
            Err(QuoteError::PriceLimitExceeded {
                method: PaymentMethod::BankTransfer,
                ..
            })
        ));
        assert!(quote(
            50_000_000,
            PaymentMethod::VirtualAccount,
            TradeType::General
        )
        .is_ok());
    }

    #[test]
    fn a_product_above_the_highest_cap_cannot_be_registered() {
        let c = Contract::standard_2022();
        assert!(c.check_product_price(Money::krw(50_000_000)).is_ok());
        assert!(matches!(
            c.check_product_price(Money::krw(50_000_001)),
            Err(QuoteError::PriceLimitExceeded {
                method: PaymentMethod::VirtualAccount,
                ..
            })
        ));
        assert!(matches!(
            c.check_product_price(Money::krw(0)),
            Err(QuoteError::BelowMinimumPrice { .. })
        ));
        assert_eq!(
            c.check_product_price(Money::new(100, Currency::Usd)),
            Err(QuoteError::CurrencyMismatch {
                expected: Currency::Krw,
                found: Currency::Usd
            })
        );
    }

    #[test]
    fn a_method_the_product_does_not_accept_is_refused() {
        let err = Contract::standard_2022()
            .quote(
                &QuoteRequest {
                    product_price: Money::krw(10_000),
                    shipping_fee: Money::krw(0),
                    method: PaymentMethod::Card,
                    trade_type: TradeType::General,
                },
                &[PaymentMethod::VirtualAccount],
            )
            .unwrap_err();
        assert_eq!(err, QuoteError::MethodNotAllowed(PaymentMethod::Card));
    }

    #[test]
    fn fees_that_would_take_the_whole_payment_are_refused() {
        // 1,000 won general: the safe-trade fee alone is 1,000.
        assert!(matches!(
            quote(1_000, PaymentMethod::Card, TradeType::General),
            Err(QuoteError::FeesExceedAmount { .. })
        ));
        assert!(quote(1_038, PaymentMethod::Card, TradeType::General).is_err()); // 38 + 1,000 = 1,038
        assert!(quote(1_040, PaymentMethod::Card, TradeType::General).is_ok()); // 38 + 1,000 < 1,040
        assert!(
            quote_with_shipping(1_000, -1, PaymentMethod::Card, TradeType::General)
                .is_err_and(|e| e == QuoteError::NegativeAmount)
        );
    }

    proptest! {
        #[test]
        fn escrow_fee_plus_payout_is_the_payment_amount(
            price in 1i64..=60_000_000,
            shipping in 0i64..=100_000,
            method in prop::sample::select(PaymentMethod::ALL.to_vec()),
            premium in any::<bool>(),
        ) {
            let trade_type = if premium { TradeType::Premium } else { TradeType::General };
            if let Ok(q) = quote_with_shipping(price, shipping, method, trade_type) {
                prop_assert_eq!(q.escrow_fee.checked_add(q.seller_payout).unwrap(), q.payment_amount);
                prop_assert_eq!(q.payment_fee.checked_add(q.safe_trade_fee).unwrap(), q.escrow_fee);
                for fee in [q.payment_fee, q.safe_trade_fee, q.escrow_fee, q.seller_payout] {
                    prop_assert!(!fee.is_negative());
                    prop_assert!(fee.minor_units() <= q.payment_amount.minor_units());
                }
            }
        }

        #[test]
        fn a_quote_is_refused_only_for_a_stated_reason(
            price in -10i64..=60_000_000,
            method in prop::sample::select(PaymentMethod::ALL.to_vec()),
        ) {
            match quote(price, method, TradeType::General) {
                Ok(_) => prop_assert!(price >= 1 && price <= *Contract::standard_2022().price_caps.get(method)),
                Err(QuoteError::NegativeAmount) => prop_assert!(price < 0),
                Err(QuoteError::BelowMinimumPrice { .. }) => prop_assert!(price < 1),
                Err(QuoteError::PriceLimitExceeded { cap, .. }) => prop_assert!(price > cap.minor_units()),
                Err(QuoteError::FeesExceedAmount { escrow_fee, .. }) => prop_assert!(escrow_fee.minor_units() >= price),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}
