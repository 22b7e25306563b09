//! The events API (SPEC §18), partner-signed: the partner's callbacks of the last 30 days with their
//! delivery attempts, and sending one again with the same `eventId`.

use actix_web::{web, HttpRequest, HttpResponse};
use escrow_domain::event_log::{self, EventFilter, LoggedEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::verify_partner;
use crate::dto::rfc3339;
use crate::error::ApiError;
use crate::state::AppState;

/// Which events to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EventQuery {
    /// Only this callback type (`trade.status_changed`, …).
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Only about this trade.
    pub trade_id: Option<String>,
    /// Only created after this instant (RFC 3339).
    pub created_after: Option<String>,
    /// `true`: only delivered; `false`: only not delivered (yet).
    pub delivered: Option<bool>,
    /// From the previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// When (RFC 3339).
    pub attempted_at: String,
    /// `DELIVERED`, `SKIPPED`, `FAILED` (will retry) or `DEAD`.
    pub outcome: String,
    /// What went wrong, when it did.
    pub detail: Option<String>,
}

/// A callback and its delivery.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// The callback's `eventId`.
    pub event_id: String,
    /// The callback type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The trade it is about, if any.
    pub trade_id: Option<String>,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// `PENDING`, `DELIVERED`, `SKIPPED` (no webhook URL) or `DEAD`.
    pub delivery_status: String,
    /// When it was last delivered.
    pub delivered_at: Option<String>,
    /// The body as posted.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
}

impl From<&LoggedEvent> for EventView {
    fn from(e: &LoggedEvent) -> Self {
        EventView {
            event_id: e.callback.event_id.to_string(),
            event_type: e.callback.event_type.clone(),
            trade_id: e.trade_id.map(|t| t.to_string()),
            created_at: rfc3339(e.created_at),
            delivery_status: e.state.code().to_owned(),
            delivered_at: e.delivered_at.map(rfc3339),
            body: serde_json::to_value(&e.callback).unwrap_or_default(),
            attempts: e
                .attempts
                .iter()
                .map(|a| AttemptView {
                    attempted_at: rfc3339(a.at),
                    outcome: a.outcome.clone(),
                    detail: a.detail.clone(),
                })
                .collect(),
        }
    }
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPageView {
    /// Newest first.
    pub items: Vec<EventView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

fn filter(q: &EventQuery) -> Result<EventFilter, ApiError> {
    let event_type = q
        .event_type
        .as_deref()
        .map(|t| {
            let ok = !t.is_empty()
                && t.len() <= 64
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
            ok.then(|| t.to_owned()).ok_or_else(|| {
                ApiError::invalid("type", "an event type such as trade.status_changed")
            })
        })
        .transpose()?;
    let trade_id = q
        .trade_id
        .as_deref()
        .map(|t| {
            t.parse()
                .map_err(|_| ApiError::invalid("tradeId", "a trade id"))
        })
        .transpose()?;
    let created_after = q
        .created_after
        .as_deref()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid("createdAfter", "an RFC 3339 instant"))
        })
        .transpose()?;
    let (cursor, limit) = crate::dto::paging(q.cursor.as_deref(), q.limit)?;
    Ok(EventFilter {
        event_type,
        trade_id,
        created_after,
        delivered: q.delivered,
        cursor,
        limit,
    })
}

/// The partner's callbacks of the last 30 days, newest first, with their delivery attempts.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    security(("partner_signature" = [])),
    responses((status = 200, body = EventPageView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<EventQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let filter = filter(&q)?;
    let page = event_log::page(
        state.events.as_ref(),
        partner.id,
        &filter,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(EventPageView {
        items: page.events.iter().map(EventView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Sends one of the partner's callbacks again: the same body and `eventId`, delivered by the
/// outbox with a fresh 24-hour retry horizon (`202`; the event as it stands now).
#[utoipa::path(post, path = "/api/v1/events/{id}/redeliver", tag = "events",
    params(("id" = String, Path)), security(("partner_signature" = [])),
    responses((status = 202, body = EventView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn redeliver(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let id = uuid::Uuid::parse_str(&path).map_err(|_| ApiError::not_found("event"))?;
    let event = state
        .events
        .redeliver(partner.id, id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(HttpResponse::Accepted().json(EventView::from(&event)))
}
