//! Product registration (상품 등록, SPEC §6): create, or update while no trade was ever made on it.

use std::sync::Arc;

use crate::contract::PaymentMethod;
use crate::ids::{MemberId, PartnerId, ProductId};
use crate::money::Money;
use crate::people::MemberStatus;
use crate::ports::{
    Clock, MemberRepository, PageCursor, ProductRepository, RepositoryError, RulesRepository,
    Stored,
};
use crate::product::{Product, ProductStatus};
use crate::quote::QuoteError;

/// What a seller sends (`PUT /api/v1/products`), already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductUpsert {
    /// Present: update this product; absent: create.
    pub product_id: Option<ProductId>,
    /// The partner's own product id.
    pub partner_product_id: String,
    /// Name, 1–200 characters.
    pub name: String,
    /// Price, in minor units of the partner's contract currency (the service decides the currency).
    pub price: i64,
    /// Shipping fee (0 for none), in the same units.
    pub shipping_fee: i64,
    /// Accepted methods (at least one).
    pub payment_methods: Vec<PaymentMethod>,
    /// Free text.
    pub description: Option<String>,
    /// A picture.
    pub image_url: Option<String>,
    /// A category code.
    pub category_code: Option<String>,
}

/// The largest amount a product field takes, in minor units.
const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// Why a product was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// The seller is not active (`SELLER_NOT_ACTIVE`).
    #[error("the seller is not active")]
    SellerNotActive,
    /// The price is outside the contract (`PRICE_LIMIT_EXCEEDED` or below the minimum).
    #[error(transparent)]
    Price(QuoteError),
    /// A field is not acceptable.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// The partner product id is registered already (`PRODUCT_ALREADY_REGISTERED`).
    #[error("already registered as {0}")]
    AlreadyRegistered(ProductId),
    /// No such product of this partner and seller.
    #[error("product not found")]
    NotFound,
    /// A trade was made on it (`PRODUCT_HAS_TRADES`).
    #[error("the product has trades")]
    HasTrades,
    /// Name and price never change (`PRODUCT_FIELD_IMMUTABLE`).
    #[error("{0} cannot change; register a new product")]
    FieldImmutable(&'static str),
    /// A checkout or open trade holds it, so it cannot stop now (`PRODUCT_RESERVED`).
    #[error("the product is reserved by a checkout or trade")]
    Reserved,
    /// It was sold (`PRODUCT_SOLD`).
    #[error("the product was sold")]
    Sold,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] RepositoryError),
}

/// A page of a seller's products.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductPage {
    /// The products, newest first.
    pub products: Vec<Product>,
    /// Pass it back for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Product use cases.
pub struct ProductService {
    products: Arc<dyn ProductRepository>,
    members: Arc<dyn MemberRepository>,
    rules: Arc<dyn RulesRepository>,
    clock: Arc<dyn Clock>,
}

impl ProductService {
    /// A service over these ports.
    pub fn new(
        products: Arc<dyn ProductRepository>,
        members: Arc<dyn MemberRepository>,
        rules: Arc<dyn RulesRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        ProductService {
            products,
            members,
            rules,
            clock,
        }
    }

    fn check_fields(u: &ProductUpsert) -> Result<(), ProductError> {
        let invalid = |field, problem| Err(ProductError::Invalid { field, problem });
        let name_len = u.name.trim().chars().count();
        if name_len == 0 || name_len > 200 {
            return invalid("name", "1–200 characters");
        }
        if u.partner_product_id.trim().is_empty() || u.partner_product_id.len() > 100 {
            return invalid("partnerProductId", "1–100 characters");
        }
        if u.payment_methods.is_empty() {
            return invalid("paymentMethods", "at least one method");
        }
        if !(1..=MAX_AMOUNT).contains(&u.price) {
            return invalid("price", "between 1 and 10000000000000");
        }
        if !(0..=MAX_AMOUNT).contains(&u.shipping_fee) {
            return invalid("shippingFee", "between 0 and 10000000000000");
        }
        if u.name.chars().any(char::is_control) {
            return invalid("name", "no control characters");
        }
        if u.partner_product_id.chars().any(char::is_control) {
            return invalid("partnerProductId", "no control characters");
        }
        if u.description.as_ref().is_some_and(|d| {
            d.chars().count() > 4_000
                || d.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        }) {
            return invalid(
                "description",
                "at most 4000 characters, no control characters but line breaks and tabs",
            );
        }
        if u.image_url.as_ref().is_some_and(|i| {
            i.len() > 2_000
                || !(i.starts_with("https://") || i.starts_with("http://"))
                || !crate::services::members::url_is_clean(i)
        }) {
            return invalid(
                "imageUrl",
                "an http(s) URL of at most 2000 characters, no spaces or control characters",
            );
        }
        if u.category_code.as_ref().is_some_and(|c| {
            c.len() > 20 || c.chars().any(|ch| ch.is_control() || ch.is_whitespace())
        }) {
            return invalid(
                "categoryCode",
                "at most 20 characters, no spaces or control characters",
            );
        }
        Ok(())
    }

    /// Creates or updates the seller's product (SPEC §6).
    pub async fn upsert(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        u: ProductUpsert,
    ) -> Result<Product, ProductError> {
        let seller = self.members.get(partner_id, seller_id).await?;
        if seller.is_none_or(|s| s.status != MemberStatus::Active) {
            return Err(ProductError::SellerNotActive);
        }
        Self::check_fields(&u)?;
        // A product is priced in its partner's contract currency.
        let contract = self.rules.contract_of(partner_id, self.clock.now()).await?;
        let price = Money::new(u.price, contract.currency);
        let shipping_fee = Money::new(u.shipping_fee, contract.currency);
        contract
            .check_product_price(price)
            .map_err(ProductError::Price)?;
        let now = self.clock.now();
        let mut methods = u.payment_methods.clone();
        methods.sort();
        methods.dedup();
        match u.product_id {
            None => {
                if let Some(existing) = self
                    .products
                    .by_partner_product_id(partner_id, &u.partner_product_id)
                    .await?
                {
                    return Err(ProductError::AlreadyRegistered(existing.id));
                }
                let product = Product {
                    id: ProductId::random(),
                    partner_id,
                    seller_id,
                    partner_product_id: u.partner_product_id.trim().to_owned(),
                    name: u.name.trim().to_owned(),
                    price,
                    shipping_fee,
                    payment_methods: methods,
                    description: u.description,
                    image_url: u.image_url,
                    category_code: u.category_code,
                    status: ProductStatus::OnSale,
                    has_trades: false,
                    created_at: now,
                    updated_at: now,
                };
                match self.products.create(&product).await? {
                    Stored::Created => Ok(product),
                    Stored::AlreadyExists => {
                        // Lost a race with the same partner product id.
                        let existing = self
                            .products
                            .by_partner_product_id(partner_id, &u.partner_product_id)
                            .await?;
                        Err(existing.map_or(ProductError::NotFound, |p| {
                            ProductError::AlreadyRegistered(p.id)
                        }))
                    }
                }
            }
            Some(id) => {
                let current = self
                    .products
                    .get(partner_id, id)
                    .await?
                    .filter(|p| p.seller_id == seller_id)
                    .ok_or(ProductError::NotFound)?;
                if current.has_trades {
                    return Err(ProductError::HasTrades);
                }
                if current.name != u.name.trim() {
                    return Err(ProductError::FieldImmutable("name"));
                }
                if current.price != price {
                    return Err(ProductError::FieldImmutable("price"));
                }
                let updated = Product {
                    partner_product_id: u.partner_product_id.trim().to_owned(),
                    shipping_fee,
                    payment_methods: methods,
                    description: u.description,
                    image_url: u.image_url,
                    category_code: u.category_code,
                    updated_at: now,
                    ..current
                };
                if !self.products.update_untraded(&updated).await? {
                    return Err(ProductError::HasTrades);
                }
                Ok(updated)
            }
        }
    }

    /// The seller's own product; `NotFound` for anyone else's.
    pub async fn get_own(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        id: ProductId,
    ) -> Result<Product, ProductError> {
        self.products
            .get(partner_id, id)
            .await?
            .filter(|p| p.seller_id == seller_id)
            .ok_or(ProductError::NotFound)
    }

    /// The seller's products, newest first, `limit` (1–100) per page.
    pub async fn list_own(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        cursor: Option<PageCursor>,
        limit: u32,
    ) -> Result<ProductPage, ProductError> {
        let limit = limit.clamp(1, 100);
        let mut products = self
            .products
            .list_by_seller(partner_id, seller_id, cursor, limit + 1)
            .await?;
        let more = products.len() > limit as usize;
        products.truncate(limit as usize);
        let next_cursor = more
            .then(|| products.last())
            .flatten()
            .map(|p| PageCursor::at(p.created_at, p.id.0).encode());
        Ok(ProductPage {
            products,
            next_cursor,
        })
    }

    /// Stops selling the seller's product (SPEC §18): refused while a checkout or trade holds it and
    /// once sold; stopping a stopped product answers it unchanged.
    pub async fn stop(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        id: ProductId,
    ) -> Result<Product, ProductError> {
        let product = self
            .products
            .stop(partner_id, seller_id, id, self.clock.now())
            .await?
            .ok_or(ProductError::NotFound)?;
        match product.status {
            ProductStatus::Stopped => Ok(product),
            ProductStatus::Reserved => Err(ProductError::Reserved),
            ProductStatus::Sold => Err(ProductError::Sold),
            // The update lost to nothing: an on-sale product always stops.
            ProductStatus::OnSale => Err(ProductError::Storage(RepositoryError::Unavailable(
                "the product did not stop".to_owned(),
            ))),
        }
    }
}
