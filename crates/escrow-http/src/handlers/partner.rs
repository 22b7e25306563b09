//! Partner-signed endpoints: signup sessions, member status and withdrawal, member tokens, delivery
//! reports, settlement reports.

use actix_web::{web, HttpRequest, HttpResponse};
use escrow_domain::trade::{Actor, TradeCommand};

use crate::auth::{parse_json, verify_partner};
use crate::dto::{
    rfc3339, text, DeliveredRequest, MemberStatusView, PayoutAccountLinkView, SettlementDayView,
    SettlementQuery, SettlementsView, SignupRequest, SignupResponse, SignupSessionView,
    TokenRequest, TokenResponse, TradeView,
};
use crate::error::ApiError;
use crate::state::AppState;
use escrow_domain::services::{SettlementDay, SettlementError, SETTLEMENT_MAX_DAYS};

fn uuid_path(field: &str, raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::not_found(field))
}

/// Opens a hosted signup session.
#[utoipa::path(post, path = "/api/v1/members/signup", tag = "members",
    request_body = SignupRequest,
    security(("partner_signature" = [])),
    responses((status = 201, body = SignupResponse), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn open_signup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let r: SignupRequest = parse_json(&body)?;
    let user = text("partnerUserId", &r.partner_user_id, 100)?;
    let test_clock = match r.test_clock_id.as_deref() {
        None => None,
        Some(raw) => {
            let not_yours = || ApiError::invalid("testClockId", "a test clock of yours");
            let id = raw.parse().map_err(|_| not_yours())?;
            match state.test_clocks.owned(&partner, id).await {
                Ok(id) => Some(id),
                Err(escrow_domain::test_clock::TestClockError::NotFound) => return Err(not_yours()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let session = state
        .members
        .open_signup_on(&partner, &user, r.return_url.trim(), test_clock)
        .await?;
    let id = session.id.to_string();
    Ok(HttpResponse::Created().json(SignupResponse {
        signup_url: state.signup_url(&id),
        signup_session_id: id,
        expires_at: rfc3339(session.expires_at),
    }))
}

/// A signup session's state and, once completed, the member (its key only the first time).
#[utoipa::path(get, path = "/api/v1/members/signup/{id}", tag = "members",
    params(("id" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = SignupSessionView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn signup_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let id = uuid_path("signup session", &path)?;
    let (session, member_key) = state.members.session_result(partner.id, id).await?;
    Ok(HttpResponse::Ok().json(SignupSessionView {
        signup_session_id: session.id.to_string(),
        status: session.status.code().to_owned(),
        partner_user_id: session.partner_user_id,
        member_id: session.member_id.map(|m| m.to_string()),
        member_key,
        refusal_reason: session.refusal_reason,
        expires_at: rfc3339(session.expires_at),
    }))
}

/// `NONE`, `ACTIVE`, `DORMANT` or `WITHDRAWN`.
#[utoipa::path(get, path = "/api/v1/members/{partnerUserId}/status", tag = "members",
    params(("partnerUserId" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = MemberStatusView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn member_status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let user = text("partnerUserId", &path, 100)?;
    let status = state.members.status(partner.id, &user).await?;
    Ok(HttpResponse::Ok().json(MemberStatusView {
        partner_user_id: user,
        status: status.map_or("NONE", |s| s.code()).to_owned(),
    }))
}

/// Withdraws a member (refused while it has an open trade).
#[utoipa::path(post, path = "/api/v1/members/{partnerUserId}/withdrawal", tag = "members",
    params(("partnerUserId" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = MemberStatusView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn withdraw(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let user = text("partnerUserId", &path, 100)?;
    let member = state.members.withdraw(partner.id, &user).await?;
    Ok(HttpResponse::Ok().json(MemberStatusView {
        partner_user_id: user,
        status: member.status.code().to_owned(),
    }))
}

/// Issues a member token (2 hours) for an active member with its member key.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    security(("partner_signature" = [])),
    responses((status = 200, body = TokenResponse), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let r: TokenRequest = parse_json(&body)?;
    let user = text("partnerUserId", &r.partner_user_id, 100)?;
    let key = text("memberKey", &r.member_key, 200)?;
    let member = state.members.authenticate(partner.id, &user, &key).await?;
    let (access_token, expires_at) =
        state
            .tokens
            .issue(partner.id, member.id, state.clock.now())?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_at: rfc3339(expires_at),
        member_id: member.id.to_string(),
    }))
}

/// Parses an optional RFC 3339 time, defaulting to now.
pub fn delivered_at(
    state: &AppState,
    r: &DeliveredRequest,
) -> Result<time::OffsetDateTime, ApiError> {
    match &r.delivered_at {
        None => Ok(state.clock.now()),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::invalid("deliveredAt", "an RFC 3339 time")),
    }
}

/// Now, for the trade `id` of `partner_id`: its test clock's instant when it lives on one (a
/// trade that is not there answers when the command runs).
pub async fn trade_now(
    state: &AppState,
    partner_id: escrow_domain::ids::PartnerId,
    id: escrow_domain::ids::TradeId,
) -> Result<time::OffsetDateTime, ApiError> {
    match state.trades.now_of(partner_id, id).await {
        Ok(now) => Ok(now),
        Err(escrow_domain::services::TradeServiceError::NotFound) => Ok(state.clock.now()),
        Err(e) => Err(e.into()),
    }
}

/// The partner reports delivery (it is liable for the report).
#[utoipa::path(post, path = "/api/v1/trades/{id}/delivered", tag = "trades",
    request_body = DeliveredRequest,
    params(("id" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn delivered(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let id = uuid_path("trade", &path)?;
    let r: DeliveredRequest = if body.is_empty() {
        DeliveredRequest::default()
    } else {
        parse_json(&body)?
    };
    let trade_id = escrow_domain::ids::TradeId(id);
    let at = match &r.delivered_at {
        Some(_) => delivered_at(&state, &r)?,
        // Unsaid: now, in the trade's time (its test clock's, SPEC §16).
        None => trade_now(&state, partner.id, trade_id).await?,
    };
    let t = state
        .trades
        .run(
            partner.id,
            trade_id,
            &Actor::Partner(partner.id),
            TradeCommand::ReportDelivery { delivered_at: at },
        )
        .await?;
    Ok(HttpResponse::Ok().json(TradeView::from(&t.trade)))
}

fn settlement_period(q: &SettlementQuery) -> Result<(time::Date, time::Date), ApiError> {
    let date = |field: &str, value: &Option<String>| {
        let value = value
            .as_deref()
            .ok_or_else(|| ApiError::invalid(field, "required, YYYY-MM-DD"))?;
        time::Date::parse(
            value,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| ApiError::invalid(field, "a date, YYYY-MM-DD"))
    };
    Ok((date("from", &q.from)?, date("to", &q.to)?))
}

async fn settlement_days(
    state: &AppState,
    req: &HttpRequest,
    q: &SettlementQuery,
    body: &web::Bytes,
) -> Result<(time::Date, time::Date, Vec<SettlementDay>), ApiError> {
    let partner = verify_partner(state, req, body).await?;
    let (from, to) = settlement_period(q)?;
    let days = state
        .settlements
        .report(partner.id, from, to)
        .await
        .map_err(|e| match e {
            SettlementError::BadPeriod => ApiError::invalid(
                "to",
                format!("on or after from, at most {SETTLEMENT_MAX_DAYS} days later"),
            ),
            SettlementError::Repository(e) => e.into(),
        })?;
    Ok((from, to, days))
}

/// The partner's payouts by payout date (SPEC §15): trades, amounts, fees, status.
#[utoipa::path(get, path = "/api/v1/settlements", tag = "settlements",
    params(SettlementQuery), security(("partner_signature" = [])),
    responses((status = 200, body = SettlementsView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn settlements(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<SettlementQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (from, to, days) = settlement_days(&state, &req, &q, &body).await?;
    Ok(HttpResponse::Ok().json(SettlementsView {
        from: from.to_string(),
        to: to.to_string(),
        days: days.iter().map(SettlementDayView::from).collect(),
    }))
}

/// The same report as CSV, one line per trade.
#[utoipa::path(get, path = "/api/v1/settlements.csv", tag = "settlements",
    params(SettlementQuery), security(("partner_signature" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn settlements_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<SettlementQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (_, _, days) = settlement_days(&state, &req, &q, &body).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(crate::dto::settlements_csv(&days)))
}

/// A signed link to the hosted page where the member registers its payout account (30 minutes).
#[utoipa::path(post, path = "/api/v1/members/{partnerUserId}/payout-account-link", tag = "members",
    params(("partnerUserId" = String, Path)), security(("partner_signature" = [])),
    responses((status = 201, body = PayoutAccountLinkView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn payout_account_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let user = text("partnerUserId", &path, 100)?;
    let member = state.members.active_member(partner.id, &user).await?;
    let expires = state.clock.now()
        + time::Duration::minutes(crate::handlers::payout_page::PAYOUT_ACCOUNT_LINK_MINUTES);
    let link = crate::handlers::payout_page::PayoutAccountLink {
        partner_id: partner.id,
        member_id: member.id,
        expires: expires.unix_timestamp(),
    };
    Ok(HttpResponse::Created().json(PayoutAccountLinkView {
        url: crate::handlers::payout_page::payout_account_url(&state, &link),
        expires_at: rfc3339(expires),
    }))
}
