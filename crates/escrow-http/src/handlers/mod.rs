//! The handlers, by who calls them.

pub mod addresses;
pub mod admin;
pub mod checkout_pages;
pub mod custody;
pub mod events;
pub mod layout;
pub mod lookups;
pub mod member;
pub mod ops;
pub mod pages;
pub mod partner;
pub mod payment_setup;
pub mod payout_page;
pub mod test_clocks;
