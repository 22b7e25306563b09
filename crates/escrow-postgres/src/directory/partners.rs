//! Partners: their records, secrets sealed at rest, and the request signatures they used.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::PartnerId;
use escrow_domain::people::{Partner, PartnerMode, PartnerSecrets, PartnerStatus, Secret};
use escrow_domain::ports::{RepositoryError, Stored};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::schema::partners;
use crate::sealing::SecretSealer;
use async_trait::async_trait;
use escrow_domain::ports::PartnerRepository;

use super::Directory;

use crate::schema::used_signatures;

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
    mode: String,
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
                mode: PartnerMode::from_code(&self.mode).ok_or_else(|| corrupt("partner mode"))?,
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

impl Directory {
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
    ) -> Result<Stored, RepositoryError> {
        let (api_secret, webhook_secret, webhook_secret_previous) =
            self.sealed_secrets(p.id.0, secrets)?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let inserted = diesel::insert_into(partners::table)
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
                mode: p.mode.code().to_owned(),
            })
            .execute(&mut conn)
            .await;
        crate::errors::stored(inserted)
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
    ) -> Result<Stored, RepositoryError> {
        self.create_partner(partner, secrets).await
    }

    async fn set_mode(&self, id: PartnerId, mode: PartnerMode) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let n = diesel::update(partners::table.filter(partners::id.eq(id.0)))
            .set(partners::mode.eq(mode.code()))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(n == 1)
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
