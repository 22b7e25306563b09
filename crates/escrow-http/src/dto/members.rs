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
    /// Test partners: the test clock the member will live by (its checkouts and trades follow it).
    pub test_clock_id: Option<String>,
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

/// A seller's payout account, as typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayoutAccountRequest {
    /// The bank code (the manual's payout/refund bank table: `04` 국민은행, `90` 카카오뱅크, …).
    pub bank_code: String,
    /// The account number (digits; hyphens and spaces are ignored).
    pub account_number: String,
    /// The holder's name as the bank knows it.
    pub holder_name: String,
}

/// A payout account as shown: masked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutAccountView {
    /// The bank code.
    pub bank_code: String,
    /// The bank's name.
    pub bank_name: String,
    /// `*********5678`.
    pub account_number: String,
    /// `홍*동`.
    pub holder_name: String,
    /// When the holder lookup confirmed it.
    pub verified_at: String,
}

impl From<&escrow_domain::payout_account::MaskedAccount> for PayoutAccountView {
    fn from(a: &escrow_domain::payout_account::MaskedAccount) -> Self {
        PayoutAccountView {
            bank_code: a.bank_code.clone(),
            bank_name: a.bank_name.clone(),
            account_number: a.number.clone(),
            holder_name: a.holder.clone(),
            verified_at: super::rfc3339(a.verified_at),
        }
    }
}

/// A due payout waiting for its seller's payout account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitingPayoutView {
    /// The payout.
    pub payout_id: i64,
    /// Its trade.
    pub trade_id: String,
    /// The partner.
    pub partner_id: String,
    /// The seller (member id).
    pub seller_id: String,
    /// The amount.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// The payout date.
    pub due_date: String,
}

impl From<&escrow_domain::ports::WaitingPayout> for WaitingPayoutView {
    fn from(w: &escrow_domain::ports::WaitingPayout) -> Self {
        WaitingPayoutView {
            payout_id: w.payout_id,
            trade_id: w.trade_id.to_string(),
            partner_id: w.partner_id.to_string(),
            seller_id: w.seller_id.to_string(),
            amount: w.amount.minor_units(),
            currency: w.amount.currency().code().to_owned(),
            due_date: w.due_date.to_string(),
        }
    }
}

/// A signed link to the hosted payout-account page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutAccountLinkView {
    /// Open it in the member's browser.
    pub url: String,
    /// When it stops working.
    pub expires_at: String,
}
