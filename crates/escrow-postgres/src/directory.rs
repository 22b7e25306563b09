//! Partners, members and products: who and what the trades are about.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::{MemberId, PartnerId, ProductId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::people::{
    Member, MemberStatus, Partner, PartnerSecrets, PartnerStatus, PhoneNumber, Secret,
};
use escrow_domain::ports::RepositoryError;
use escrow_domain::product::{Product, ProductStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{members, partners, products};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = partners, check_for_backend(diesel::pg::Pg))]
struct PartnerRow {
    id: Uuid,
    code: String,
    name: String,
    api_key_id: String,
    api_secret: String,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    webhook_secret_previous: Option<String>,
    allowed_redirect_origins: Vec<String>,
    status: String,
    created_at: OffsetDateTime,
}

impl PartnerRow {
    fn into_domain(self) -> Result<(Partner, PartnerSecrets), RepositoryError> {
        Ok((
            Partner {
                id: PartnerId(self.id),
                code: self.code,
                name: self.name,
                api_key_id: self.api_key_id,
                webhook_url: self.webhook_url,
                allowed_redirect_origins: self.allowed_redirect_origins,
                status: PartnerStatus::from_code(&self.status)
                    .ok_or_else(|| corrupt("partner status"))?,
                created_at: self.created_at,
            },
            PartnerSecrets {
                api_secret: Secret::new(self.api_secret),
                webhook_secret: self.webhook_secret.map(Secret::new),
                webhook_secret_previous: self.webhook_secret_previous.map(Secret::new),
            },
        ))
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = members, check_for_backend(diesel::pg::Pg))]
struct MemberRow {
    id: Uuid,
    partner_id: Uuid,
    partner_user_id: String,
    status: String,
    member_key_hash: String,
    name: String,
    phone: String,
    birth_date: time::Date,
    created_at: OffsetDateTime,
    withdrawn_at: Option<OffsetDateTime>,
}

impl MemberRow {
    fn into_domain(self) -> Result<(Member, String), RepositoryError> {
        Ok((
            Member {
                id: MemberId(self.id),
                partner_id: PartnerId(self.partner_id),
                partner_user_id: self.partner_user_id,
                status: MemberStatus::from_code(&self.status)
                    .ok_or_else(|| corrupt("member status"))?,
                name: self.name,
                phone: PhoneNumber::new(&self.phone).map_err(|_| corrupt("member phone"))?,
                birth_date: self.birth_date,
                created_at: self.created_at,
                withdrawn_at: self.withdrawn_at,
            },
            self.member_key_hash,
        ))
    }
}

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

/// Partners, members and products in PostgreSQL.
#[derive(Clone)]
pub struct Directory {
    pool: DbPool,
}

impl Directory {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        Directory { pool }
    }

    /// Stores a new partner with its secrets.
    pub async fn create_partner(
        &self,
        p: &Partner,
        secrets: &PartnerSecrets,
    ) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(partners::table)
            .values(PartnerRow {
                id: p.id.0,
                code: p.code.clone(),
                name: p.name.clone(),
                api_key_id: p.api_key_id.clone(),
                api_secret: secrets.api_secret.expose().to_owned(),
                webhook_url: p.webhook_url.clone(),
                webhook_secret: secrets
                    .webhook_secret
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                webhook_secret_previous: secrets
                    .webhook_secret_previous
                    .as_ref()
                    .map(|s| s.expose().to_owned()),
                allowed_redirect_origins: p.allowed_redirect_origins.clone(),
                status: p.status.code().to_owned(),
                created_at: p.created_at,
            })
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The partner signing with `api_key_id`.
    pub async fn partner_by_api_key(
        &self,
        api_key_id: &str,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        partners::table
            .filter(partners::api_key_id.eq(api_key_id))
            .select(PartnerRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(PartnerRow::into_domain)
            .transpose()
    }

    /// The partner `id`.
    pub async fn partner(
        &self,
        id: PartnerId,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        partners::table
            .filter(partners::id.eq(id.0))
            .select(PartnerRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(PartnerRow::into_domain)
            .transpose()
    }

    /// Stores a new member; `member_key_hash` is the SHA-256 of its member key.
    pub async fn create_member(
        &self,
        m: &Member,
        member_key_hash: &str,
    ) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(members::table)
            .values(MemberRow {
                id: m.id.0,
                partner_id: m.partner_id.0,
                partner_user_id: m.partner_user_id.clone(),
                status: m.status.code().to_owned(),
                member_key_hash: member_key_hash.to_owned(),
                name: m.name.clone(),
                phone: m.phone.expose().to_owned(),
                birth_date: m.birth_date,
                created_at: m.created_at,
                withdrawn_at: m.withdrawn_at,
            })
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The member `id` of `partner_id`, with its member key hash.
    pub async fn member(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        members::table
            .filter(members::id.eq(id.0))
            .filter(members::partner_id.eq(partner_id.0))
            .select(MemberRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(MemberRow::into_domain)
            .transpose()
    }

    /// The newest member of `partner_id` for its user `partner_user_id`, with its member key hash.
    pub async fn member_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        members::table
            .filter(members::partner_id.eq(partner_id.0))
            .filter(members::partner_user_id.eq(partner_user_id))
            .order(members::created_at.desc())
            .select(MemberRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(MemberRow::into_domain)
            .transpose()
    }

    /// Stores a new product.
    pub async fn create_product(&self, p: &Product) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(products::table)
            .values(ProductRow::from_domain(p))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
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
