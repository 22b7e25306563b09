//! # escrow-domain
//!
//! The business rules of the escrow (안전거래, safe-trade) service, with no I/O: money, a partner's
//! contract (fees, seller limits, price caps, timers, settlement), the Korean business calendar, the
//! trade state machine with its Unicro codes, the ports adapters implement and the use cases over them.
//!
//! Other teams embed this crate with their own adapters; it depends on no runtime, database or HTTP
//! library.
//!
//! ## Quote a trade
//!
//! ```
//! use escrow_domain::contract::{Contract, PaymentMethod, TradeType};
//! use escrow_domain::money::Money;
//! use escrow_domain::quote::QuoteRequest;
//!
//! let contract = Contract::standard_2022();
//! let quote = contract.quote(&QuoteRequest {
//!     product_price: Money::krw(3_000),
//!     shipping_fee: Money::krw(0),
//!     method: PaymentMethod::Card,
//!     trade_type: TradeType::General,
//! }, &[PaymentMethod::Card]).unwrap();
//! assert_eq!(quote.payment_fee, Money::krw(111));      // 3.7%, rounded down
//! assert_eq!(quote.safe_trade_fee, Money::krw(1_000)); // GENERAL below 1,000,000 won
//! assert_eq!(quote.seller_payout, Money::krw(1_889));
//! ```
//!
//! ## Open a trade and apply a command
//!
//! ```
//! use escrow_domain::calendar::BusinessCalendar;
//! use escrow_domain::contract::{Contract, PaymentMethod, TradeType};
//! use escrow_domain::ids::*;
//! use escrow_domain::money::Money;
//! use escrow_domain::notification::AlimTalkTemplate;
//! use escrow_domain::quote::QuoteRequest;
//! use escrow_domain::trade::{Actor, OpenTrade, Shipment, Trade, TradeCommand, TradeRules, TradeStatus};
//! use time::macros::datetime;
//!
//! let contract = Contract::standard_2022();
//! let calendar = BusinessCalendar::korea();
//! let rules = TradeRules { contract: &contract, calendar: &calendar };
//! let quote = contract.quote(&QuoteRequest {
//!     product_price: Money::krw(50_000),
//!     shipping_fee: Money::krw(3_000),
//!     method: PaymentMethod::Card,
//!     trade_type: TradeType::General,
//! }, &[PaymentMethod::Card]).unwrap();
//! let (buyer, seller) = (MemberId::random(), MemberId::random());
//! let opened = Trade::open(OpenTrade {
//!     id: TradeId::random(),
//!     partner_id: PartnerId::random(),
//!     checkout_id: CheckoutId::random(),
//!     partner_trade_no: Some("ORDER-1".into()),
//!     buyer_id: buyer,
//!     seller_id: seller,
//!     product_id: ProductId::random(),
//!     product_name: "중고 자전거".into(),
//!     trade_type: TradeType::General,
//!     method: PaymentMethod::Card,
//!     quote,
//!     deposit_account: None,
//!     deposit_due: None,
//!     payment_transaction_id: None,
//!     test_clock: None,
//! }, datetime!(2025-03-06 10:00 +9), &rules).unwrap();
//! assert_eq!(opened.trade.status.code(), 31);
//!
//! // The seller ships: 31 → 32, and the buyer is told by AlimTalk.
//! let shipped = opened.trade.apply(
//!     TradeCommand::RegisterShipment(Shipment::new("005", "612345678901").unwrap()),
//!     &Actor::Seller(seller),
//!     datetime!(2025-03-06 15:00 +9),
//!     &rules,
//! ).unwrap();
//! assert_eq!(shipped.trade.status, TradeStatus::Shipping);
//! assert_eq!(shipped.notifications[0].template, AlimTalkTemplate::BuyerShipmentNotice);
//!
//! // A seller cannot approve the purchase.
//! assert!(shipped.trade.apply(
//!     TradeCommand::ApprovePurchase, &Actor::Seller(seller), datetime!(2025-03-07 10:00 +9), &rules,
//! ).is_err());
//! ```
//!
//! ## Map
//!
//! - [`money`]: integer minor units and explicit rounding.
//! - [`contract`]: a partner's contract; [`contract::Contract::standard_2022`].
//! - [`quote`]: fees and payout of a trade.
//! - [`limits`]: seller limits and their windows.
//! - [`calendar`]: business days in Asia/Seoul, holidays as data.
//! - [`settlement`]: payout and refund dates.
//! - [`trade`]: statuses, commands, [`trade::Trade::apply`].
//! - [`notification`]: the AlimTalk template table and callback kinds.
//! - [`payment`]: PG failure codes, the `PaymentGateway` port, verification of a PG report, routing.
//! - [`people`], [`product`], [`checkout`]: partners, members (secrets redacted), products, checkouts.
//! - [`ports`] and [`services`]: what adapters implement and the use cases over them.

pub mod address_book;
pub mod calendar;
pub mod checkout;
pub mod contract;
#[cfg(feature = "contract-tests")]
pub mod contract_tests;
pub mod custody;
pub mod delivery;
pub mod event_log;
pub mod ids;
pub mod ledger;
pub mod limits;
pub mod money;
pub mod money_out;
pub mod notification;
pub mod payment;
pub mod payment_setup;
pub mod payout_account;
pub mod people;
pub mod ports;
pub mod product;
pub mod quote;
pub mod rate_limit;
pub mod reference;
pub mod services;
pub mod settlement;
pub mod signup;
pub mod test_clock;
pub mod trade;
