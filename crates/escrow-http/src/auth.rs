//! Who is calling: partners (signed requests), members (JWT bearer tokens), operators (admin keys).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use escrow_domain::ids::{MemberId, PartnerId};
use escrow_domain::people::{Partner, PartnerStatus};
use escrow_signature::{verify_request_signature, RequestParts, SignatureError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::state::AppState;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Counts the request against the partner's limit: `429 RATE_LIMITED` with `Retry-After` past it.
async fn admit(state: &AppState, partner_id: PartnerId) -> Result<(), ApiError> {
    use escrow_domain::rate_limit::AdmissionError;
    state.limiter.admit(partner_id).await.map_err(|e| match e {
        AdmissionError::Throttled(t) => ApiError::throttled(t),
        AdmissionError::Storage(s) => s.into(),
    })
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Verifies a partner-signed request (SPEC §4): key known and active, timestamp within 5 minutes,
/// signature over `METHOD + PATH_AND_QUERY + X-Api-Key + X-Timestamp + BODY` (constant-time), and not
/// seen before (replay).
pub async fn verify_partner(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Partner, ApiError> {
    let (Some(api_key), Some(timestamp), Some(signature)) = (
        header(req, "X-Api-Key"),
        header(req, "X-Timestamp"),
        header(req, "X-Signature"),
    ) else {
        return Err(ApiError::unauthorized(
            "SIGNATURE_MISSING",
            "인증 헤더가 없습니다.",
        ));
    };
    let (partner, secrets) = state
        .partners
        .by_api_key(api_key)
        .await?
        .ok_or_else(|| ApiError::unauthorized("API_KEY_UNKNOWN", "알 수 없는 API 키입니다."))?;
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let now = state.clock.now();
    verify_request_signature(
        secrets.api_secret.expose().as_bytes(),
        &RequestParts {
            method: req.method().as_str(),
            uri: &path_and_query,
            api_key,
            timestamp,
            body,
        },
        signature,
        millis(now),
    )
    .map_err(|e| match e {
        SignatureError::Stale { .. } | SignatureError::MalformedTimestamp => {
            ApiError::unauthorized(
                "TIMESTAMP_OUT_OF_WINDOW",
                "요청 시각이 허용 범위를 벗어났습니다.",
            )
        }
        SignatureError::MalformedSignature | SignatureError::Mismatch => {
            ApiError::unauthorized("SIGNATURE_INVALID", "서명이 올바르지 않습니다.")
        }
    })?;
    if partner.status != PartnerStatus::Active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PARTNER_SUSPENDED",
            "이용이 중지된 제휴사입니다.",
        ));
    }
    admit(state, partner.id).await?;
    if !state
        .partners
        .record_signature(partner.id, signature.trim(), now)
        .await?
    {
        return Err(ApiError::unauthorized(
            "SIGNATURE_REPLAYED",
            "이미 사용된 서명입니다.",
        ));
    }
    Ok(partner)
}

/// Parses a JSON body strictly (unknown fields refused by the DTO), mapping every failure to 400.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BODY_REQUIRED",
            "요청 본문이 필요합니다.",
        ));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            "요청 본문이 올바른 JSON이 아닙니다.",
        )
        .details(serde_json::json!({ "problem": "not UTF-8" })));
    }
    let invalid_json = |e: serde_json::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            "요청 본문이 올바른 JSON이 아닙니다.",
        )
        .details(serde_json::json!({ "problem": e.to_string() }))
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid_json)?;
    refuse_control_characters(&value, &mut String::new())?;
    serde_json::from_value(value).map_err(invalid_json)
}

/// Refuses, in any string of a JSON document (names and values), control characters other than tab,
/// line feed and carriage return — NUL above all, which no text column can store. Fields where even
/// those make no sense (URLs, codes, names) are checked again by their own parsers.
fn refuse_control_characters(value: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
    let bad = |s: &str| {
        s.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    };
    match value {
        serde_json::Value::String(s) if bad(s) => Err(ApiError::invalid(
            if path.is_empty() {
                "body"
            } else {
                path.as_str()
            },
            "control characters are not allowed",
        )),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                refuse_control_characters(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        serde_json::Value::Object(fields) => {
            for (name, item) in fields {
                if bad(name) {
                    return Err(ApiError::invalid(
                        "body",
                        "control characters are not allowed",
                    ));
                }
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
                refuse_control_characters(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A member calling with a valid bearer token.
#[derive(Debug, Clone, Copy)]
pub struct MemberAuth {
    /// The member's partner.
    pub partner_id: PartnerId,
    /// The member.
    pub member_id: MemberId,
}

impl FromRequest for MemberAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "설정 오류",
                )
            })?;
            let token = header(&req, "Authorization")
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or_else(|| ApiError::unauthorized("TOKEN_MISSING", "인증 토큰이 없습니다."))?;
            let (partner_id, member_id) = state.tokens.verify(token.trim(), state.clock.now())?;
            admit(state, partner_id).await?;
            Ok(MemberAuth {
                partner_id,
                member_id,
            })
        })
    }
}

/// SHA-256 (hex) of an admin key: what is stored.
pub fn admin_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// An operator calling with a valid `X-Admin-Key`.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    /// The key's name, recorded as the actor.
    pub name: String,
}

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "설정 오류",
                )
            })?;
            let key = header(&req, "X-Admin-Key").ok_or_else(|| {
                ApiError::unauthorized("ADMIN_KEY_MISSING", "관리자 키가 없습니다.")
            })?;
            let name = state
                .admin
                .admin_key(&admin_key_hash(key.trim()))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized("ADMIN_KEY_INVALID", "관리자 키가 올바르지 않습니다.")
                })?;
            Ok(AdminAuth { name })
        })
    }
}
