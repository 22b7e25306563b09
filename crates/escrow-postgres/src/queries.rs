//! Reading trades: member and operator lists with keyset paging, lookup by the partner's number, and
//! a trade's history.

use async_trait::async_trait;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::{MemberId, PartnerId, TradeId};
use escrow_domain::ports::{PageCursor, RepositoryError, TradeFilter, TradePage, TradeQueries};
use escrow_domain::trade::{Actor, Trade, TradeEvent, TradeStatus, WithdrawalStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::migrate::DbPool;
use crate::schema::{trade_events, trades};
use crate::trades::TradeRow;

/// Trade reads in PostgreSQL.
#[derive(Clone)]
pub struct PgTradeQueries {
    pool: DbPool,
}

impl PgTradeQueries {
    /// Over this pool (or a replica's).
    pub fn new(pool: DbPool) -> Self {
        PgTradeQueries { pool }
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_micros(m: i64) -> Result<OffsetDateTime, RepositoryError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1_000).map_err(corrupt)
}

fn status(code: i16) -> Result<TradeStatus, RepositoryError> {
    u8::try_from(code)
        .ok()
        .and_then(TradeStatus::from_code)
        .ok_or_else(|| corrupt("status code"))
}

fn withdrawal(code: i16) -> Result<WithdrawalStatus, RepositoryError> {
    u8::try_from(code)
        .ok()
        .and_then(WithdrawalStatus::from_code)
        .ok_or_else(|| corrupt("withdrawal code"))
}

#[async_trait]
impl TradeQueries for PgTradeQueries {
    async fn list(
        &self,
        partner_id: Option<PartnerId>,
        f: &TradeFilter,
    ) -> Result<TradePage, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let limit = f.limit.clamp(1, 100);
        let mut q = trades::table.select(TradeRow::as_select()).into_boxed();
        if let Some(p) = partner_id {
            q = q.filter(trades::partner_id.eq(p.0));
        }
        if let Some(b) = f.buyer_id {
            q = q.filter(trades::buyer_id.eq(b.0));
        }
        if let Some(s) = f.seller_id {
            q = q.filter(trades::seller_id.eq(s.0));
        }
        if let Some(s) = f.status {
            q = q.filter(trades::status_cd.eq(i16::from(s.code())));
        }
        if let Some(h) = f.held {
            q = q.filter(trades::held.eq(h));
        }
        if let Some(mode) = f.partner_mode {
            q = q.filter(
                trades::partner_id.eq_any(
                    crate::schema::partners::table
                        .filter(crate::schema::partners::mode.eq(mode.code()))
                        .select(crate::schema::partners::id),
                ),
            );
        }
        if let Some(c) = f.cursor {
            let at = from_micros(c.created_at_micros)?;
            q = q.filter(
                trades::created_at
                    .lt(at)
                    .or(trades::created_at.eq(at).and(trades::id.lt(c.id))),
            );
        }
        let rows: Vec<TradeRow> = q
            .order((trades::created_at.desc(), trades::id.desc()))
            .limit(i64::from(limit) + 1)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let more = rows.len() > limit as usize;
        let trades: Vec<Trade> = rows
            .into_iter()
            .take(limit as usize)
            .map(Trade::try_from)
            .collect::<Result<_, _>>()?;
        let next_cursor = if more {
            trades.last().map(|t| {
                PageCursor {
                    created_at_micros: micros(t.created_at),
                    id: t.id.0,
                }
                .encode()
            })
        } else {
            None
        };
        Ok(TradePage {
            trades,
            next_cursor,
        })
    }

    async fn by_partner_trade_no(
        &self,
        partner_id: PartnerId,
        no: &str,
    ) -> Result<Option<Trade>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        trades::table
            .filter(trades::partner_id.eq(partner_id.0))
            .filter(trades::partner_trade_no.eq(no))
            .select(TradeRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(Trade::try_from)
            .transpose()
    }

    async fn events(&self, trade_id: TradeId) -> Result<Vec<TradeEvent>, RepositoryError> {
        type Row = (
            i64,
            String,
            String,
            Option<String>,
            Option<i16>,
            i16,
            Option<i16>,
            i16,
            Option<String>,
            OffsetDateTime,
        );
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Row> = trade_events::table
            .filter(trade_events::trade_id.eq(trade_id.0))
            .order(trade_events::sequence.asc())
            .select((
                trade_events::sequence,
                trade_events::command,
                trade_events::actor_role,
                trade_events::actor_id,
                trade_events::from_status,
                trade_events::to_status,
                trade_events::from_withdrawal,
                trade_events::to_withdrawal,
                trade_events::reason,
                trade_events::occurred_at,
            ))
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        rows.into_iter()
            .map(
                |(sequence, command, role, id, from_s, to_s, from_w, to_w, reason, at)| {
                    let uuid = || {
                        id.as_deref()
                            .and_then(|i| Uuid::parse_str(i).ok())
                            .ok_or_else(|| corrupt("actor id"))
                    };
                    let actor = match role.as_str() {
                        "BUYER" => Actor::Buyer(MemberId(uuid()?)),
                        "SELLER" => Actor::Seller(MemberId(uuid()?)),
                        "PARTNER" => Actor::Partner(PartnerId(uuid()?)),
                        "OPERATOR" => Actor::Operator(id.clone().unwrap_or_default()),
                        "BATCH" => Actor::Batch(id.clone().unwrap_or_default()),
                        _ => Actor::PaymentGateway,
                    };
                    Ok(TradeEvent {
                        trade_id,
                        sequence,
                        command,
                        actor,
                        from_status: from_s.map(status).transpose()?,
                        to_status: status(to_s)?,
                        from_withdrawal: from_w.map(withdrawal).transpose()?,
                        to_withdrawal: withdrawal(to_w)?,
                        reason,
                        at,
                    })
                },
            )
            .collect()
    }

    async fn get_any(&self, trade_id: TradeId) -> Result<Option<Trade>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        trades::table
            .filter(trades::id.eq(trade_id.0))
            .select(TradeRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(Trade::try_from)
            .transpose()
    }
}
