//! Partners, members and products: who and what the trades are about.

use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
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
use crate::sealing::SecretSealer;

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
    fn into_domain(
        self,
        sealer: &SecretSealer,
    ) -> Result<(Partner, PartnerSecrets), RepositoryError> {
        let id = self.id;
        let open = |column: &str, value: String| -> Result<Secret, RepositoryError> {
            sealer
                .open(&value, &secret_context(column, id))
                .map(Secret::new)
        };
        let secrets = PartnerSecrets {
            api_secret: open("api_secret", self.api_secret)?,
            webhook_secret: self
                .webhook_secret
                .map(|v| open("webhook_secret", v))
                .transpose()?,
            webhook_secret_previous: self
                .webhook_secret_previous
                .map(|v| open("webhook_secret_previous", v))
                .transpose()?,
        };
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
            secrets,
        ))
    }
}

/// What a sealed partner secret is bound to: its column and its partner.
fn secret_context(column: &str, partner: Uuid) -> String {
    format!("partners.{column}:{partner}")
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
    fn from_domain(m: &Member, member_key_hash: impl Into<String>) -> Self {
        MemberRow {
            id: m.id.0,
            partner_id: m.partner_id.0,
            partner_user_id: m.partner_user_id.clone(),
            status: m.status.code().to_owned(),
            member_key_hash: member_key_hash.into(),
            name: m.name.clone(),
            phone: m.phone.expose().to_owned(),
            birth_date: m.birth_date,
            created_at: m.created_at,
            withdrawn_at: m.withdrawn_at,
        }
    }

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
    sealer: SecretSealer,
}

impl Directory {
    /// Over this pool; partner secrets are sealed and opened with `sealer`'s master keys.
    pub fn new(pool: DbPool, sealer: SecretSealer) -> Self {
        Directory { pool, sealer }
    }

    /// Seals again every partner secret that is plaintext or sealed with an older master key (after
    /// adding a new key first in configuration); returns how many values were sealed.
    pub async fn reseal_partner_secrets(&self) -> Result<usize, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<PartnerRow> = partners::table
            .select(PartnerRow::as_select())
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut sealed = 0;
        for row in rows {
            let id = row.id;
            let needs =
                |v: &Option<String>| v.as_deref().is_some_and(|v| self.sealer.needs_reseal(v));
            if !(self.sealer.needs_reseal(&row.api_secret)
                || needs(&row.webhook_secret)
                || needs(&row.webhook_secret_previous))
            {
                continue;
            }
            let (_, secrets) = row.into_domain(&self.sealer)?;
            let values = self.sealed_secrets(id, &secrets)?;
            diesel::update(partners::table.filter(partners::id.eq(id)))
                .set((
                    partners::api_secret.eq(values.0),
                    partners::webhook_secret.eq(values.1),
                    partners::webhook_secret_previous.eq(values.2),
                ))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// The stored (sealed) forms of a partner's three secrets.
    fn sealed_secrets(
        &self,
        id: Uuid,
        secrets: &PartnerSecrets,
    ) -> Result<(String, Option<String>, Option<String>), RepositoryError> {
        let seal =
            |column: &str, s: &Secret| self.sealer.seal(s.expose(), &secret_context(column, id));
        Ok((
            seal("api_secret", &secrets.api_secret)?,
            secrets
                .webhook_secret
                .as_ref()
                .map(|s| seal("webhook_secret", s))
                .transpose()?,
            secrets
                .webhook_secret_previous
                .as_ref()
                .map(|s| seal("webhook_secret_previous", s))
                .transpose()?,
        ))
    }

    /// Stores a new partner with its secrets.
    pub async fn create_partner(
        &self,
        p: &Partner,
        secrets: &PartnerSecrets,
    ) -> Result<(), RepositoryError> {
        let (api_secret, webhook_secret, webhook_secret_previous) =
            self.sealed_secrets(p.id.0, secrets)?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(partners::table)
            .values(PartnerRow {
                id: p.id.0,
                code: p.code.clone(),
                name: p.name.clone(),
                api_key_id: p.api_key_id.clone(),
                api_secret,
                webhook_url: p.webhook_url.clone(),
                webhook_secret,
                webhook_secret_previous,
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
            .map(|r| r.into_domain(&self.sealer))
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
            .map(|r| r.into_domain(&self.sealer))
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
            .values(MemberRow::from_domain(m, member_key_hash.to_owned()))
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

use async_trait::async_trait;
use diesel_async::AsyncConnection;
use escrow_domain::ports::{MemberRepository, PartnerEvent, PartnerRepository, ProductRepository};
use escrow_domain::signup::{AgreedTerm, SignupSession, SignupStatus};

use crate::schema::{member_terms_agreements, signup_sessions, trades, used_signatures};
use crate::trades::TxError;

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = signup_sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    partner_id: Uuid,
    partner_user_id: String,
    return_url: String,
    status: String,
    refusal_reason: Option<String>,
    member_id: Option<Uuid>,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
}

impl SessionRow {
    fn into_domain(self) -> Result<SignupSession, RepositoryError> {
        Ok(SignupSession {
            id: self.id,
            partner_id: PartnerId(self.partner_id),
            partner_user_id: self.partner_user_id,
            return_url: self.return_url,
            status: SignupStatus::from_code(&self.status)
                .ok_or_else(|| corrupt("signup status"))?,
            refusal_reason: self.refusal_reason,
            member_id: self.member_id.map(MemberId),
            expires_at: self.expires_at,
            created_at: self.created_at,
        })
    }
}

#[async_trait]
impl PartnerRepository for Directory {
    async fn by_api_key(
        &self,
        api_key_id: &str,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError> {
        self.partner_by_api_key(api_key_id).await
    }

    async fn get(
        &self,
        id: PartnerId,
    ) -> Result<Option<(Partner, PartnerSecrets)>, RepositoryError> {
        self.partner(id).await
    }

    async fn create(
        &self,
        partner: &Partner,
        secrets: &PartnerSecrets,
    ) -> Result<(), RepositoryError> {
        self.create_partner(partner, secrets).await
    }

    async fn list(&self) -> Result<Vec<Partner>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        partners::table
            .order(partners::created_at.asc())
            .select(PartnerRow::as_select())
            .load(&mut conn)
            .await
            .map_err(storage_error)?
            .into_iter()
            .map(|r| r.into_domain(&self.sealer).map(|(p, _)| p))
            .collect()
    }

    async fn record_signature(
        &self,
        partner_id: PartnerId,
        signature: &str,
        seen_at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let inserted = diesel::insert_into(used_signatures::table)
            .values((
                used_signatures::partner_id.eq(partner_id.0),
                used_signatures::signature.eq(signature),
                used_signatures::seen_at.eq(seen_at),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(inserted == 1)
    }

    async fn prune_signatures(&self, before: OffsetDateTime) -> Result<u64, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n = diesel::delete(used_signatures::table.filter(used_signatures::seen_at.lt(before)))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(n as u64)
    }
}

/// The domain's "not finished" as SQL inputs: statuses never terminal, and statuses terminal only once
/// the money left (33, 54), which stay open while the withdrawal is 80.
fn unfinished_statuses() -> (Vec<i16>, Vec<i16>) {
    use escrow_domain::trade::{is_terminal, TradeStatus, WithdrawalStatus};
    let open_at = |s: TradeStatus, w: WithdrawalStatus| !is_terminal(s, w);
    let always: Vec<i16> = TradeStatus::ALL
        .into_iter()
        .filter(|s| WithdrawalStatus::ALL.into_iter().all(|w| open_at(*s, w)))
        .map(|s| i16::from(s.code()))
        .collect();
    let until_paid: Vec<i16> = TradeStatus::ALL
        .into_iter()
        .filter(|s| {
            open_at(*s, WithdrawalStatus::NotPaidOut) && !always.contains(&i16::from(s.code()))
        })
        .map(|s| i16::from(s.code()))
        .collect();
    (always, until_paid)
}

#[async_trait]
impl MemberRepository for Directory {
    async fn get(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<Member>, RepositoryError> {
        Ok(self.member(partner_id, id).await?.map(|(m, _)| m))
    }

    async fn latest_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        self.member_by_user(partner_id, partner_user_id).await
    }

    async fn withdrawals(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Vec<OffsetDateTime>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Option<OffsetDateTime>> = members::table
            .filter(members::partner_id.eq(partner_id.0))
            .filter(members::partner_user_id.eq(partner_user_id))
            .filter(members::withdrawn_at.is_not_null())
            .order(members::withdrawn_at.desc())
            .select(members::withdrawn_at)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().flatten().collect())
    }

    async fn open_signup(&self, s: &SignupSession) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(signup_sessions::table)
            .values((
                signup_sessions::id.eq(s.id),
                signup_sessions::partner_id.eq(s.partner_id.0),
                signup_sessions::partner_user_id.eq(&s.partner_user_id),
                signup_sessions::return_url.eq(&s.return_url),
                signup_sessions::status.eq(s.status.code()),
                signup_sessions::expires_at.eq(s.expires_at),
                signup_sessions::created_at.eq(s.created_at),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn signup_session(&self, id: Uuid) -> Result<Option<SignupSession>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        signup_sessions::table
            .filter(signup_sessions::id.eq(id))
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(SessionRow::into_domain)
            .transpose()
    }

    async fn complete_signup(
        &self,
        session_id: Uuid,
        m: &Member,
        member_key: &str,
        terms: &[AgreedTerm],
        event: &PartnerEvent,
    ) -> Result<(), RepositoryError> {
        let hash = escrow_domain::services::member_key_hash(member_key);
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            diesel::insert_into(members::table)
                .values(MemberRow::from_domain(m, hash.clone()))
                .execute(conn)
                .await?;
            let completed = diesel::update(
                signup_sessions::table
                    .filter(signup_sessions::id.eq(session_id))
                    .filter(signup_sessions::status.eq("OPEN"))
                    .filter(signup_sessions::expires_at.gt(m.created_at)),
            )
            .set((
                signup_sessions::status.eq("COMPLETED"),
                signup_sessions::member_id.eq(Some(m.id.0)),
                signup_sessions::member_key.eq(Some(member_key)),
            ))
            .execute(conn)
            .await?;
            if completed != 1 {
                return Err(TxError(RepositoryError::Duplicate(
                    "signup session is not open".into(),
                )));
            }
            for t in terms {
                diesel::insert_into(member_terms_agreements::table)
                    .values((
                        member_terms_agreements::member_id.eq(m.id.0),
                        member_terms_agreements::term_code.eq(&t.code),
                        member_terms_agreements::version.eq(&t.version),
                        member_terms_agreements::agreed_at.eq(t.agreed_at),
                    ))
                    .execute(conn)
                    .await?;
            }
            crate::trades::insert_partner_event(conn, m.partner_id.0, event, m.created_at).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn refuse_signup(&self, session_id: Uuid, reason: &str) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::update(
            signup_sessions::table
                .filter(signup_sessions::id.eq(session_id))
                .filter(signup_sessions::status.eq("OPEN")),
        )
        .set((
            signup_sessions::status.eq("REFUSED"),
            signup_sessions::refusal_reason.eq(Some(reason)),
        ))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn take_member_key(&self, session_id: Uuid) -> Result<Option<String>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Key {
            #[diesel(sql_type = diesel::sql_types::Text)]
            member_key: String,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let key: Option<Key> = diesel::sql_query(
            "UPDATE signup_sessions s SET member_key = NULL \
             FROM (SELECT id, member_key FROM signup_sessions WHERE id = $1 FOR UPDATE) old \
             WHERE s.id = old.id AND old.member_key IS NOT NULL RETURNING old.member_key",
        )
        .bind::<diesel::sql_types::Uuid, _>(session_id)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(storage_error)?;
        Ok(key.map(|k| k.member_key))
    }

    async fn withdraw(
        &self,
        partner_id: PartnerId,
        id: MemberId,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let (always, until_paid) = unfinished_statuses();
        conn.transaction(async move |conn| -> Result<_, TxError> {
            // Lock the member first so a checkout cannot slip in between the check and the update.
            let _: Uuid = members::table
                .filter(members::id.eq(id.0))
                .filter(members::partner_id.eq(partner_id.0))
                .select(members::id)
                .for_update()
                .first(conn)
                .await?;
            let open: i64 =
                trades::table
                    .filter(trades::buyer_id.eq(id.0).or(trades::seller_id.eq(id.0)))
                    .filter(
                        trades::status_cd.eq_any(always).or(trades::status_cd
                            .eq_any(until_paid)
                            .and(trades::complete_cd.eq(i16::from(
                                escrow_domain::trade::WithdrawalStatus::NotPaidOut.code(),
                            )))),
                    )
                    .count()
                    .get_result(conn)
                    .await?;
            if open > 0 {
                return Ok(false);
            }
            diesel::update(
                members::table
                    .filter(members::id.eq(id.0))
                    .filter(members::status.ne("WITHDRAWN")),
            )
            .set((
                members::status.eq("WITHDRAWN"),
                members::withdrawn_at.eq(Some(at)),
            ))
            .execute(conn)
            .await?;
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
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

    async fn create(&self, product: &Product) -> Result<(), RepositoryError> {
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn unfinished_statuses_follow_the_domain() {
        let (always, until_paid) = super::unfinished_statuses();
        assert_eq!(always, [13, 31, 32, 34, 51, 52, 53]);
        assert_eq!(until_paid, [33, 54]);
    }
}
