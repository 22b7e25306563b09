//! Partners, members and products: who and what the trades are about. One `Directory` over the pool
//! implements the three ports, each in its own module.

mod addresses;
mod members;
mod partners;
mod payout_accounts;
mod refund_accounts;

pub(crate) use payout_accounts::account_context;
mod products;

use crate::migrate::DbPool;
use crate::sealing::SecretSealer;

/// Partners, members and products in PostgreSQL.
#[derive(Clone)]
pub struct Directory {
    pool: DbPool,
    sealer: SecretSealer,
}

impl Directory {
    /// Over this pool; partner secrets are sealed and opened with `sealer`'s master keys.
    pub fn new(pool: DbPool, sealer: SecretSealer) -> Self {
        Directory { pool, sealer }
    }
}
