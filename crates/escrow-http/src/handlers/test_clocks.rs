//! Test clocks over HTTP (SPEC §16), partner-signed, for test partners only (a live partner gets
//! `404` on every route): create a clock frozen at an instant, read it, list them, advance it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use escrow_domain::ids::TestClockId;
use escrow_domain::test_clock::{TestClock, TestClockError};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::auth::{parse_json, verify_partner};
use crate::dto::rfc3339;
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /api/v1/test-clocks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestClockRequest {
    /// The instant the clock starts frozen at (RFC 3339).
    pub frozen_time: String,
    /// Your name for it.
    pub name: Option<String>,
}

/// `POST /api/v1/test-clocks/{id}/advance`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvanceRequest {
    /// The instant to move to (RFC 3339): after the clock's, at most 366 days later.
    pub to: String,
}

/// A test clock.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockView {
    /// Its id: pass it as `testClockId` when opening a signup session.
    pub test_clock_id: String,
    /// Your name for it.
    pub name: String,
    /// The instant its members, checkouts and trades live at.
    pub frozen_time: String,
    /// When it was created (real time).
    pub created_at: String,
}

impl From<&TestClock> for TestClockView {
    fn from(c: &TestClock) -> Self {
        TestClockView {
            test_clock_id: c.id.to_string(),
            name: c.name.clone(),
            frozen_time: rfc3339(c.frozen_at),
            created_at: rfc3339(c.created_at),
        }
    }
}

/// The partner's clocks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockListView {
    /// Oldest first.
    pub items: Vec<TestClockView>,
}

impl From<TestClockError> for ApiError {
    fn from(e: TestClockError) -> Self {
        match e {
            TestClockError::NotFound => ApiError::not_found("test clock"),
            TestClockError::InvalidAdvance(problem) => ApiError::invalid("to", problem),
            TestClockError::Invalid { field, problem } => ApiError::invalid(field, problem),
            TestClockError::TooMany => ApiError::new(
                StatusCode::CONFLICT,
                "TEST_CLOCK_LIMIT",
                "테스트 시계는 100개까지 만들 수 있습니다.",
            ),
            TestClockError::Busy => ApiError::new(
                StatusCode::CONFLICT,
                "TEST_CLOCK_ADVANCING",
                "다른 요청이 이 테스트 시계를 움직이고 있습니다. 잠시 후 다시 시도해 주세요.",
            ),
            TestClockError::Storage(s) => s.into(),
        }
    }
}

fn instant(field: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map_err(|_| ApiError::invalid(field, "an RFC 3339 instant"))
}

fn clock_id(raw: &str) -> Result<TestClockId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("test clock"))
}

/// Creates a test clock frozen at `frozenTime`.
#[utoipa::path(post, path = "/api/v1/test-clocks", tag = "test clocks",
    request_body = TestClockRequest, security(("partner_signature" = [])),
    responses((status = 201, body = TestClockView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    escrow_domain::test_clock::test_partner(&partner)?;
    let r: TestClockRequest = parse_json(&body)?;
    let frozen_at = instant("frozenTime", &r.frozen_time)?;
    let clock = state
        .test_clocks
        .create(&partner, r.name.as_deref().unwrap_or(""), frozen_at)
        .await?;
    Ok(HttpResponse::Created().json(TestClockView::from(&clock)))
}

/// The partner's test clocks.
#[utoipa::path(get, path = "/api/v1/test-clocks", tag = "test clocks",
    security(("partner_signature" = [])),
    responses((status = 200, body = TestClockListView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let clocks = state.test_clocks.list(&partner).await?;
    Ok(HttpResponse::Ok().json(TestClockListView {
        items: clocks.iter().map(TestClockView::from).collect(),
    }))
}

/// One test clock.
#[utoipa::path(get, path = "/api/v1/test-clocks/{id}", tag = "test clocks",
    params(("id" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = TestClockView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let clock = state.test_clocks.get(&partner, clock_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(TestClockView::from(&clock)))
}

/// Moves the clock to `to`: every timer of its trades due by then fires at its own instant, in
/// order (deposit deadlines, reminders, automatic approval, payout dates), and its unpaid checkouts
/// expire, as the real-time jobs would have done. Answers when all of it is done.
#[utoipa::path(post, path = "/api/v1/test-clocks/{id}/advance", tag = "test clocks",
    params(("id" = String, Path)), request_body = AdvanceRequest, security(("partner_signature" = [])),
    responses((status = 200, body = TestClockView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn advance(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let id = clock_id(&path)?;
    escrow_domain::test_clock::test_partner(&partner)?;
    let r: AdvanceRequest = parse_json(&body)?;
    let to = instant("to", &r.to)?;
    let clock = state.test_clocks.advance(&partner, id, to).await?;
    Ok(HttpResponse::Ok().json(TestClockView::from(&clock)))
}
