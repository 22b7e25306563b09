//! The domain's `TradeRepository` contract, run against PostgreSQL.

mod common;

escrow_domain::trade_repository_contract!(common::World::new());
