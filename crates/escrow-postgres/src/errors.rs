//! Turning diesel and pool errors into the domain's storage errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use escrow_domain::ports::RepositoryError;

/// The unique constraints that guard money: hitting one is a broken invariant, not a duplicate.
const MONEY_CONSTRAINTS: &[&str] = &[
    "refunds_trade_id_key",
    "payouts_trade_id_key",
    "payout_instructions_payout_id_key",
    "journal_postings_once",
];

/// Maps a diesel error: a unique violation is `InvariantViolated` for a constraint guarding money and
/// `Conflict` otherwise (a key taken meanwhile: the caller decides again; methods that expect a taken
/// key answer it as their own outcome, see [`stored`]), serialization failures `Conflict`, everything
/// else `Unavailable`.
pub fn storage_error(e: DieselError) -> RepositoryError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let constraint = info.constraint_name().unwrap_or("unique").to_owned();
            if MONEY_CONSTRAINTS.contains(&constraint.as_str()) {
                RepositoryError::InvariantViolated(format!("{constraint}: {}", info.message()))
            } else {
                RepositoryError::Conflict
            }
        }
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            RepositoryError::Conflict
        }
        other => RepositoryError::Unavailable(other.to_string()),
    }
}

/// The outcome of an insert under a unique key: `AlreadyExists` when the key is taken (a money
/// constraint is still an invariant violation).
pub(crate) fn stored(
    result: Result<usize, DieselError>,
) -> Result<escrow_domain::ports::Stored, RepositoryError> {
    use escrow_domain::ports::Stored;
    match result {
        Ok(_) => Ok(Stored::Created),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if !MONEY_CONSTRAINTS.contains(&info.constraint_name().unwrap_or("")) =>
        {
            Ok(Stored::AlreadyExists)
        }
        Err(e) => Err(storage_error(e)),
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
