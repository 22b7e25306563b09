//! Turning diesel and pool errors into the domain's storage errors.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use escrow_domain::ports::RepositoryError;

/// Maps a diesel error: unique violations become `Duplicate` (named by constraint), serialization
/// failures and deadlocks `Conflict`, everything else `Unavailable`.
pub fn storage_error(e: DieselError) -> RepositoryError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepositoryError::Duplicate(info.constraint_name().unwrap_or("unique").to_owned())
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
