//! The payment setup (SPEC §12): method connections, merchants with their keys sealed by the master
//! key, installment notices, and the audit log — each change and its audit entry in one transaction.

use async_trait::async_trait;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::{InstallmentNoticeId, MerchantId, PartnerId};
use escrow_domain::payment_setup::installments::InstallmentNotice;
use escrow_domain::payment_setup::GatewayRoute;
use escrow_domain::payment_setup::{
    AuditEntry, AuditRecord, Merchant, MerchantKeys, PaymentSetupRepository,
};
use escrow_domain::people::PartnerMode;
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{pool_error, storage_error, TxError};
use crate::migrate::DbPool;
use crate::schema::{installment_notices, merchants, payment_routes, payment_setup_audit};
use crate::sealing::SecretSealer;

/// The payment setup in PostgreSQL.
#[derive(Clone)]
pub struct PgPaymentSetup {
    pool: DbPool,
    sealer: SecretSealer,
}

impl PgPaymentSetup {
    /// Over this pool, sealing merchant keys with `sealer`.
    pub fn new(pool: DbPool, sealer: SecretSealer) -> Self {
        PgPaymentSetup { pool, sealer }
    }

    fn context(id: Uuid) -> String {
        format!("merchants.keys:{id}")
    }

    fn merchant(&self, row: MerchantRow) -> Result<Merchant, RepositoryError> {
        let (id, gateway, partner_id, mode, mid, keys_sealed, created_at, removed_at) = row;
        let keys: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&self.sealer.open(&keys_sealed, &Self::context(id))?)
                .map_err(|_| RepositoryError::Unavailable("merchant keys do not read".into()))?;
        Ok(Merchant {
            id: MerchantId(id),
            gateway,
            partner_id: partner_id.map(PartnerId),
            mode: PartnerMode::from_code(&mode)
                .ok_or_else(|| RepositoryError::Unavailable("merchant mode".into()))?,
            mid,
            keys: keys.into_iter().collect::<MerchantKeys>(),
            created_at,
            removed_at,
        })
    }

    /// Seals every merchant's keys again with the first master key; returns how many changed.
    pub async fn reseal_merchant_keys(&self) -> Result<usize, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(Uuid, String)> = merchants::table
            .select((merchants::id, merchants::keys_sealed))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut changed = 0;
        for (id, sealed) in rows {
            if !self.sealer.needs_reseal(&sealed) {
                continue;
            }
            let context = Self::context(id);
            let resealed = self
                .sealer
                .seal(&self.sealer.open(&sealed, &context)?, &context)?;
            diesel::update(merchants::table.filter(merchants::id.eq(id)))
                .set(merchants::keys_sealed.eq(resealed))
                .execute(&mut conn)
                .await
                .map_err(storage_error)?;
            changed += 1;
        }
        Ok(changed)
    }
}

type MerchantRow = (
    Uuid,
    String,
    Option<Uuid>,
    String,
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

fn merchant_columns() -> (
    merchants::id,
    merchants::gateway,
    merchants::partner_id,
    merchants::mode,
    merchants::mid,
    merchants::keys_sealed,
    merchants::created_at,
    merchants::removed_at,
) {
    (
        merchants::id,
        merchants::gateway,
        merchants::partner_id,
        merchants::mode,
        merchants::mid,
        merchants::keys_sealed,
        merchants::created_at,
        merchants::removed_at,
    )
}

async fn audit(
    conn: &mut diesel_async::AsyncPgConnection,
    record: &AuditRecord,
) -> Result<(), diesel::result::Error> {
    diesel::insert_into(payment_setup_audit::table)
        .values((
            payment_setup_audit::actor.eq(&record.actor),
            payment_setup_audit::at.eq(record.at),
            payment_setup_audit::subject.eq(&record.subject),
            payment_setup_audit::before.eq(&record.before),
            payment_setup_audit::after.eq(&record.after),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

#[async_trait]
impl PaymentSetupRepository for PgPaymentSetup {
    async fn routes(&self) -> Result<Vec<GatewayRoute>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<(String, String, bool, bool, i32)> = payment_routes::table
            .select((
                payment_routes::gateway,
                payment_routes::method,
                payment_routes::connected,
                payment_routes::enabled,
                payment_routes::priority,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(|(gateway, method, connected, enabled, priority)| {
                Ok(GatewayRoute {
                    method: PaymentMethod::from_code(&method)
                        .ok_or_else(|| RepositoryError::Unavailable("route method".into()))?,
                    gateway,
                    connected,
                    enabled,
                    priority,
                })
            })
            .collect()
    }

    async fn save_route(
        &self,
        route: &GatewayRoute,
        record: &AuditRecord,
    ) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let route = route.clone();
        let record = record.clone();
        conn.transaction(async move |conn| -> Result<(), TxError> {
            diesel::insert_into(payment_routes::table)
                .values((
                    payment_routes::gateway.eq(&route.gateway),
                    payment_routes::method.eq(route.method.code()),
                    payment_routes::connected.eq(route.connected),
                    payment_routes::enabled.eq(route.enabled),
                    payment_routes::priority.eq(route.priority),
                    payment_routes::updated_at.eq(record.at),
                ))
                .on_conflict((payment_routes::gateway, payment_routes::method))
                .do_update()
                .set((
                    payment_routes::connected.eq(route.connected),
                    payment_routes::enabled.eq(route.enabled),
                    payment_routes::priority.eq(route.priority),
                    payment_routes::updated_at.eq(record.at),
                ))
                .execute(conn)
                .await?;
            audit(conn, &record).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn merchants(&self) -> Result<Vec<Merchant>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<MerchantRow> = merchants::table
            .select(merchant_columns())
            .order(merchants::created_at.asc())
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter().map(|r| self.merchant(r)).collect()
    }

    async fn merchant(&self, id: MerchantId) -> Result<Option<Merchant>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let row: Option<MerchantRow> = merchants::table
            .filter(merchants::id.eq(id.0))
            .select(merchant_columns())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        row.map(|r| self.merchant(r)).transpose()
    }

    async fn add_merchant(
        &self,
        merchant: &Merchant,
        record: &AuditRecord,
    ) -> Result<(), RepositoryError> {
        let keys: std::collections::BTreeMap<&str, &str> = merchant.keys.iter().collect();
        let plain = serde_json::to_string(&keys)
            .map_err(|_| RepositoryError::Unavailable("merchant keys".into()))?;
        let sealed = self.sealer.seal(&plain, &Self::context(merchant.id.0))?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let merchant = merchant.clone();
        let record = record.clone();
        conn.transaction(async move |conn| -> Result<(), TxError> {
            diesel::insert_into(merchants::table)
                .values((
                    merchants::id.eq(merchant.id.0),
                    merchants::gateway.eq(&merchant.gateway),
                    merchants::partner_id.eq(merchant.partner_id.map(|p| p.0)),
                    merchants::mode.eq(merchant.mode.code()),
                    merchants::mid.eq(&merchant.mid),
                    merchants::keys_sealed.eq(&sealed),
                    merchants::created_at.eq(merchant.created_at),
                ))
                .execute(conn)
                .await?;
            audit(conn, &record).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn remove_merchant(
        &self,
        id: MerchantId,
        at: OffsetDateTime,
        record: &AuditRecord,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let record = record.clone();
        conn.transaction(async move |conn| -> Result<bool, TxError> {
            let n = diesel::update(
                merchants::table
                    .filter(merchants::id.eq(id.0))
                    .filter(merchants::removed_at.is_null()),
            )
            .set(merchants::removed_at.eq(Some(at)))
            .execute(conn)
            .await?;
            if n == 1 {
                audit(conn, &record).await?;
            }
            Ok(n == 1)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn notices(&self) -> Result<Vec<InstallmentNotice>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<serde_json::Value> = installment_notices::table
            .filter(installment_notices::removed_at.is_null())
            .order(installment_notices::created_at.asc())
            .select(installment_notices::notice)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(|v| {
                serde_json::from_value(v)
                    .map_err(|_| RepositoryError::Unavailable("installment notice".into()))
            })
            .collect()
    }

    async fn save_notice(
        &self,
        notice: &InstallmentNotice,
        at: OffsetDateTime,
        record: &AuditRecord,
    ) -> Result<(), RepositoryError> {
        let value = serde_json::to_value(notice)
            .map_err(|_| RepositoryError::Unavailable("installment notice".into()))?;
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let (id, gateway) = (notice.id.0, notice.gateway.clone());
        let record = record.clone();
        conn.transaction(async move |conn| -> Result<(), TxError> {
            diesel::insert_into(installment_notices::table)
                .values((
                    installment_notices::id.eq(id),
                    installment_notices::gateway.eq(&gateway),
                    installment_notices::notice.eq(&value),
                    installment_notices::created_at.eq(at),
                ))
                .on_conflict(installment_notices::id)
                .do_update()
                .set((
                    installment_notices::gateway.eq(&gateway),
                    installment_notices::notice.eq(&value),
                ))
                .execute(conn)
                .await?;
            audit(conn, &record).await?;
            Ok(())
        })
        .await
        .map_err(|e| e.0)
    }

    async fn remove_notice(
        &self,
        id: InstallmentNoticeId,
        at: OffsetDateTime,
        record: &AuditRecord,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let record = record.clone();
        conn.transaction(async move |conn| -> Result<bool, TxError> {
            let n = diesel::update(
                installment_notices::table
                    .filter(installment_notices::id.eq(id.0))
                    .filter(installment_notices::removed_at.is_null()),
            )
            .set(installment_notices::removed_at.eq(Some(at)))
            .execute(conn)
            .await?;
            if n == 1 {
                audit(conn, &record).await?;
            }
            Ok(n == 1)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn audit_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        type Row = (
            i64,
            String,
            OffsetDateTime,
            String,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        );
        let rows: Vec<Row> = payment_setup_audit::table
            .filter(payment_setup_audit::id.gt(after.unwrap_or(0)))
            .order(payment_setup_audit::id.asc())
            .limit(i64::from(limit))
            .select((
                payment_setup_audit::id,
                payment_setup_audit::actor,
                payment_setup_audit::at,
                payment_setup_audit::subject,
                payment_setup_audit::before,
                payment_setup_audit::after,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, actor, at, subject, before, after)| AuditEntry {
                id,
                actor,
                at,
                subject,
                before,
                after,
            })
            .collect())
    }
}
