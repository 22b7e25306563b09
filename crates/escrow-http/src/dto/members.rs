//! Members: signup sessions, member status and member tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/members/signup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// The partner's own user id (1–100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_user_id: String,
    /// Where the browser goes after signup: an allowed origin of the partner.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub return_url: String,
}

/// A signup session was opened.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupResponse {
    /// The session.
    pub signup_session_id: String,
    /// The hosted signup page to send the user to.
    pub signup_url: String,
    /// When the session expires (30 minutes).
    pub expires_at: String,
}

/// A signup session's state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupSessionView {
    /// The session.
    pub signup_session_id: String,
    /// `OPEN`, `COMPLETED`, `REFUSED` or `EXPIRED`.
    pub status: String,
    /// The partner's user.
    pub partner_user_id: String,
    /// The member, once completed.
    pub member_id: Option<String>,
    /// The member key: given the first time a completed session is read, then never again.
    pub member_key: Option<String>,
    /// Why it was refused.
    pub refusal_reason: Option<String>,
    /// When it expires.
    pub expires_at: String,
}

/// A member's status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatusView {
    /// The partner's user.
    pub partner_user_id: String,
    /// `NONE`, `ACTIVE`, `DORMANT` or `WITHDRAWN`.
    pub status: String,
}

/// `POST /api/v1/auth/token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The partner's user.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_user_id: String,
    /// The member key from `member.signed_up`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub member_key: String,
}

/// A member token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When it expires (2 hours).
    pub expires_at: String,
    /// The member.
    pub member_id: String,
}
