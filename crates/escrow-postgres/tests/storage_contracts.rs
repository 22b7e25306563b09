//! The domain's storage contracts, run against PostgreSQL: the trade repository, the checkout
//! repository, the outbox and the refund and payout queues.

mod common;

escrow_domain::trade_repository_contract!(common::World::new());
escrow_domain::checkout_repository_contract!(common::World::new());
escrow_domain::outbox_store_contract!(common::World::new());
escrow_domain::money_out_queue_contract!(common::World::new());
