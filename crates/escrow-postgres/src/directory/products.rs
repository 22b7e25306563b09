//! Products.

use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::{MemberId, PartnerId, ProductId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::ports::{PageCursor, RepositoryError, Stored};
use escrow_domain::product::{Product, ProductStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::schema::products;
use async_trait::async_trait;
use escrow_domain::ports::ProductRepository;

use super::Directory;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
struct ProductRow {
    id: Uuid,
    partner_id: Uuid,
    seller_id: Uuid,
    partner_product_id: String,
    name: String,
    currency: String,
    price: i64,
    shipping_fee: i64,
    payment_methods: Vec<String>,
    description: Option<String>,
    image_url: Option<String>,
    category_code: Option<String>,
    status: String,
    has_trades: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl ProductRow {
    fn from_domain(p: &Product) -> Self {
        ProductRow {
            id: p.id.0,
            partner_id: p.partner_id.0,
            seller_id: p.seller_id.0,
            partner_product_id: p.partner_product_id.clone(),
            name: p.name.clone(),
            currency: p.price.currency().code().to_owned(),
            price: p.price.minor_units(),
            shipping_fee: p.shipping_fee.minor_units(),
            payment_methods: p
                .payment_methods
                .iter()
                .map(|m| m.code().to_owned())
                .collect(),
            description: p.description.clone(),
            image_url: p.image_url.clone(),
            category_code: p.category_code.clone(),
            status: p.status.code().to_owned(),
            has_trades: p.has_trades,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    fn into_domain(self) -> Result<Product, RepositoryError> {
        let currency: Currency = self.currency.parse().map_err(corrupt)?;
        let methods = self
            .payment_methods
            .iter()
            .map(|m| {
                PaymentMethod::ALL
                    .into_iter()
                    .find(|x| x.code() == m)
                    .ok_or_else(|| corrupt("payment method"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Product {
            id: ProductId(self.id),
            partner_id: PartnerId(self.partner_id),
            seller_id: MemberId(self.seller_id),
            partner_product_id: self.partner_product_id,
            name: self.name,
            price: Money::new(self.price, currency),
            shipping_fee: Money::new(self.shipping_fee, currency),
            payment_methods: methods,
            description: self.description,
            image_url: self.image_url,
            category_code: self.category_code,
            status: ProductStatus::from_code(&self.status)
                .ok_or_else(|| corrupt("product status"))?,
            has_trades: self.has_trades,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl Directory {
    /// Stores a new product.
    pub async fn create_product(&self, p: &Product) -> Result<Stored, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let inserted = diesel::insert_into(products::table)
            .values(ProductRow::from_domain(p))
            .execute(&mut conn)
            .await;
        crate::errors::stored(inserted)
    }

    /// The product `id` of `partner_id`.
    pub async fn product(
        &self,
        partner_id: PartnerId,
        id: ProductId,
    ) -> Result<Option<Product>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        products::table
            .filter(products::id.eq(id.0))
            .filter(products::partner_id.eq(partner_id.0))
            .select(ProductRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(ProductRow::into_domain)
            .transpose()
    }
}

#[async_trait]
impl ProductRepository for Directory {
    async fn get(
        &self,
        partner_id: PartnerId,
        id: ProductId,
    ) -> Result<Option<Product>, RepositoryError> {
        self.product(partner_id, id).await
    }

    async fn by_partner_product_id(
        &self,
        partner_id: PartnerId,
        partner_product_id: &str,
    ) -> Result<Option<Product>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        products::table
            .filter(products::partner_id.eq(partner_id.0))
            .filter(products::partner_product_id.eq(partner_product_id))
            .select(ProductRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(ProductRow::into_domain)
            .transpose()
    }

    async fn create(&self, product: &Product) -> Result<Stored, RepositoryError> {
        self.create_product(product).await
    }

    async fn update_untraded(&self, p: &Product) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row = ProductRow::from_domain(p);
        let n = diesel::update(
            products::table
                .filter(products::id.eq(p.id.0))
                .filter(products::has_trades.eq(false))
                .filter(products::name.eq(&p.name))
                .filter(products::price.eq(p.price.minor_units())),
        )
        .set((
            products::partner_product_id.eq(row.partner_product_id),
            products::shipping_fee.eq(row.shipping_fee),
            products::payment_methods.eq(row.payment_methods),
            products::description.eq(row.description),
            products::image_url.eq(row.image_url),
            products::category_code.eq(row.category_code),
            products::updated_at.eq(row.updated_at),
        ))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(n == 1)
    }

    async fn list_by_seller(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        cursor: Option<PageCursor>,
        limit: u32,
    ) -> Result<Vec<Product>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut q = products::table
            .filter(products::partner_id.eq(partner_id.0))
            .filter(products::seller_id.eq(seller_id.0))
            .select(ProductRow::as_select())
            .into_boxed();
        if let Some(c) = cursor {
            let at = crate::queries::from_micros(c.created_at_micros)?;
            q = q.filter(
                products::created_at
                    .lt(at)
                    .or(products::created_at.eq(at).and(products::id.lt(c.id))),
            );
        }
        q.order((products::created_at.desc(), products::id.desc()))
            .limit(i64::from(limit.min(1_000)))
            .load::<ProductRow>(&mut conn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(ProductRow::into_domain)
            .collect()
    }

    async fn stop(
        &self,
        partner_id: PartnerId,
        seller_id: MemberId,
        id: ProductId,
        at: OffsetDateTime,
    ) -> Result<Option<Product>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        // A release (RESERVED → ON_SALE) may land between the update and the read: try again then.
        for _ in 0..3 {
            let stopped: Option<ProductRow> = diesel::update(
                products::table
                    .filter(products::id.eq(id.0))
                    .filter(products::partner_id.eq(partner_id.0))
                    .filter(products::seller_id.eq(seller_id.0))
                    .filter(products::status.eq(ProductStatus::OnSale.code())),
            )
            .set((
                products::status.eq(ProductStatus::Stopped.code()),
                products::updated_at.eq(at),
            ))
            .returning(ProductRow::as_returning())
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
            let current = match stopped {
                Some(row) => Some(row),
                None => products::table
                    .filter(products::id.eq(id.0))
                    .filter(products::partner_id.eq(partner_id.0))
                    .filter(products::seller_id.eq(seller_id.0))
                    .select(ProductRow::as_select())
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(storage_error)?,
            };
            let product = current.map(ProductRow::into_domain).transpose()?;
            if product
                .as_ref()
                .is_none_or(|p| p.status != ProductStatus::OnSale)
            {
                return Ok(product);
            }
        }
        Err(RepositoryError::Unavailable(
            "the product kept changing".to_owned(),
        ))
    }
}
