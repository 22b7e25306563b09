//! Products.

use async_trait::async_trait;

use super::{RepositoryError, Stored};
use crate::ids::{PartnerId, ProductId};
use crate::product::Product;

/// Products.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// The product `id` of `partner_id`.
    async fn get(
        &self,
        partner_id: PartnerId,
        id: ProductId,
    ) -> Result<Option<Product>, RepositoryError>;
    /// The product of `partner_id` with the partner's own id.
    async fn by_partner_product_id(
        &self,
        partner_id: PartnerId,
        partner_product_id: &str,
    ) -> Result<Option<Product>, RepositoryError>;
    /// Stores a new product; `AlreadyExists` when the partner product id is taken.
    async fn create(&self, product: &Product) -> Result<Stored, RepositoryError>;
    /// Updates a product's editable fields, only while no trade was ever made on it; false otherwise.
    async fn update_untraded(&self, product: &Product) -> Result<bool, RepositoryError>;
}
