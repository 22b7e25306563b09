//! Turning diesel and pool errors into the domain's storage errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use escrow_domain::ports::RepositoryError;

/// The unique constraints that guard money: hitting one is a broken invariant, not a duplicate.
const MONEY_CONSTRAINTS: &[&str] = &[
    "refunds_trade_id_key",
    "payouts_trade_id_key",
    "payout_instructions_payout_id_key",
];

/// Maps a diesel error: unique violations become `Duplicate` (named by constraint) — or
/// `InvariantViolated` for a constraint guarding money —, serialization failures and deadlocks
/// `Conflict`, everything else `Unavailable`.
pub fn storage_error(e: DieselError) -> RepositoryError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let constraint = info.constraint_name().unwrap_or("unique").to_owned();
            if MONEY_CONSTRAINTS.contains(&constraint.as_str()) {
                RepositoryError::InvariantViolated(format!("{constraint}: {}", info.message()))
            } else {
                RepositoryError::Duplicate(constraint)
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            RepositoryError::Conflict
        }
        other => RepositoryError::Unavailable(other.to_string()),
    }
}

pub(crate) fn pool_error(e: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Unavailable(format!("database pool: {e}"))
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Unavailable(format!("stored data does not map to the domain: {what}"))
}

/// Why a transaction closure failed: storage, or a rule the database enforces.
#[derive(Debug)]
pub(crate) struct TxError(pub RepositoryError);

impl From<diesel::result::Error> for TxError {
    fn from(e: diesel::result::Error) -> Self {
        TxError(storage_error(e))
    }
}

impl From<RepositoryError> for TxError {
    fn from(e: RepositoryError) -> Self {
        TxError(e)
    }
}
