//! # escrow-postgres
//!
//! PostgreSQL persistence for the escrow domain, on diesel + diesel-async with a deadpool pool.
//!
//! - [`connect`] applies the embedded migrations (the workspace's `migrations/`) and opens the pool.
//! - [`PgTradeRepository`], [`PgRulesRepository`], [`PgCheckoutRepository`] and [`Directory`] implement
//!   the domain's ports; row types and their mapping stay here, never in `escrow-domain`.
//! - [`cluster`] starts a private PostgreSQL when no `DATABASE_URL` is given; with the `testing`
//!   feature, [`testing`] gives every test its own database made from a migrated template.
//!
//! A state change is one transaction: the trade row is updated only if its version is the one the
//! decision was made on (optimistic lock), and its event, timers, outbox rows, money and product effects
//! are written with it.

pub mod admin;
pub mod checkouts;
pub mod cluster;
pub mod custody;
pub mod directory;
mod errors;
pub mod event_log;
pub mod ledger;
pub mod migrate;
mod money_out;
mod money_queues;
pub mod outbox;
mod payment_records;
pub mod payment_setup;
pub mod queries;
pub mod request_windows;
pub mod rules;
pub mod schema;
pub mod sealing;
mod seller_limits;
pub mod test_clocks;
pub mod trades;

#[cfg(feature = "testing")]
pub mod testing;

pub use admin::{LedgerPayoutInstructor, PgAdmin};
pub use checkouts::PgCheckoutRepository;
pub use custody::PgCustody;
pub use directory::Directory;
pub use errors::storage_error;
pub use event_log::PgEventLog;
pub use ledger::PgLedger;
pub use migrate::{connect, run_migrations, ConnectError, Database, DbPool};
pub use money_queues::PgMoneyOut;
pub use outbox::PgOutbox;
pub use payment_setup::PgPaymentSetup;
pub use queries::PgTradeQueries;
pub use request_windows::PgRequestCounter;
pub use rules::PgRulesRepository;
pub use sealing::SecretSealer;
pub use test_clocks::PgTestClocks;
pub use trades::PgTradeRepository;
