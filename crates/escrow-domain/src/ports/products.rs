//! Products.

use async_trait::async_trait;

use super::{PageCursor, RepositoryError, Stored};
use crate::ids::{MemberId, PartnerId, ProductId};
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
    /// The seller's products, newest first, at most `limit`, after `cursor`.
    async fn list_by_seller(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        cursor: Option<PageCursor>,
        limit: u32,
    ) -> Result<Vec<Product>, RepositoryError>;
    /// Stops selling the seller's product if it is on sale (one conditional update, so a checkout
    /// reserving it at the same moment either wins or sees it stopped). Answers the product as it
    /// is afterwards (`Stopped`, or the status that kept it from stopping); `None` when the seller
    /// has no such product.
    async fn stop(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        id: ProductId,
        at: time::OffsetDateTime,
    ) -> Result<Option<Product>, RepositoryError>;
}
