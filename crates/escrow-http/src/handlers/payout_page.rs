//! The hosted payout-account page (SPEC §15): a seller registers the bank account it is paid to
//! through a signed link the partner asked for (`POST /api/v1/members/{partnerUserId}/payout-account-link`),
//! valid for 30 minutes. Server-rendered, usable without JavaScript.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::ids::{MemberId, PartnerId};
use escrow_domain::payout_account::MaskedAccount;
use escrow_domain::reference::PAYOUT_BANKS;
use escrow_domain::services::PayoutAccountError;

use super::layout::{esc, page};
use super::pages::{bad_link, Sig};
use crate::state::AppState;

/// How long a payout-account link is valid.
pub const PAYOUT_ACCOUNT_LINK_MINUTES: i64 = 30;

/// What a payout-account link names: the partner, the member and when it expires (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayoutAccountLink {
    /// The partner.
    pub partner_id: PartnerId,
    /// The member.
    pub member_id: MemberId,
    /// Expiry, unix seconds.
    pub expires: i64,
}

impl PayoutAccountLink {
    /// The path segment the signature covers: `{partner}.{member}.{expires}`.
    pub fn token(&self) -> String {
        format!(
            "{}.{}.{}",
            self.partner_id.0.simple(),
            self.member_id.0.simple(),
            self.expires
        )
    }

    fn parse(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let partner = uuid::Uuid::parse_str(parts.next()?).ok()?;
        let member = uuid::Uuid::parse_str(parts.next()?).ok()?;
        let expires = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(PayoutAccountLink {
            partner_id: PartnerId(partner),
            member_id: MemberId(member),
            expires,
        })
    }
}

/// The signed URL of the page.
pub fn payout_account_url(state: &AppState, link: &PayoutAccountLink) -> String {
    let token = link.token();
    format!(
        "{}/payout-account/{token}?sig={}",
        state.public_base_url,
        state.links.sign("payout-account", &token)
    )
}

/// The link, if its signature holds and it has not expired.
fn verified(state: &AppState, token: &str, sig: &str) -> Option<PayoutAccountLink> {
    let link = PayoutAccountLink::parse(token)?;
    let fresh = state.clock.now().unix_timestamp() < link.expires;
    (fresh && state.links.verify("payout-account", token, sig)).then_some(link)
}

fn current(account: Option<&MaskedAccount>) -> String {
    match account {
        Some(a) => format!(
            "<p>등록된 계좌: {} {} ({})</p>",
            esc(&a.bank_name),
            esc(&a.number),
            esc(&a.holder)
        ),
        None => "<p>등록된 정산 계좌가 없습니다. 계좌를 등록해야 판매 대금을 받을 수 있습니다.</p>"
            .to_owned(),
    }
}

fn form(token: &str, sig: &str, error: Option<&str>) -> String {
    let banks: String = PAYOUT_BANKS
        .iter()
        .map(|(code, name)| format!("<option value=\"{code}\">{}</option>", esc(name)))
        .collect();
    let error = error
        .map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"/payout-account/{token}\"><input type=\"hidden\" name=\"sig\" value=\"{sig}\">\
         <label>은행 <select name=\"bankCode\" required>{banks}</select></label>\
         <label>계좌번호 <input name=\"accountNumber\" required inputmode=\"numeric\" maxlength=\"20\" placeholder=\"숫자만 입력\"></label>\
         <label>예금주 <input name=\"holderName\" required maxlength=\"30\"></label>\
         <button type=\"submit\">계좌 확인 후 등록</button></form>",
        token = esc(token),
        sig = esc(sig),
    )
}

/// The page.
pub async fn payout_account_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Sig>,
) -> HttpResponse {
    let token = path.into_inner();
    let sig = q.sig().to_owned();
    let Some(link) = verified(&state, &token, &sig) else {
        return bad_link();
    };
    match state
        .payout_accounts
        .get(link.partner_id, link.member_id)
        .await
    {
        Ok(account) => page(
            StatusCode::OK,
            "정산 계좌 등록",
            &format!("{}{}", current(account.as_ref()), form(&token, &sig, None)),
        ),
        Err(_) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "잠시 후 다시 시도해 주세요",
            "<p>일시적인 오류입니다.</p>",
        ),
    }
}

/// The form was posted: the bank is asked who holds the account, then it is stored.
pub async fn payout_account_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form_data: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let token = path.into_inner();
    let sig = form_data.get("sig").cloned().unwrap_or_default();
    let Some(link) = verified(&state, &token, &sig) else {
        return bad_link();
    };
    let field = |name: &str| form_data.get(name).map(String::as_str).unwrap_or_default();
    let result = state
        .payout_accounts
        .register(
            link.partner_id,
            link.member_id,
            field("bankCode"),
            field("accountNumber"),
            field("holderName"),
        )
        .await;
    let retry = |status: StatusCode, message: &str| {
        page(status, "정산 계좌 등록", &form(&token, &sig, Some(message)))
    };
    match result {
        Ok(account) => page(
            StatusCode::OK,
            "정산 계좌가 등록되었습니다",
            &format!("{}<p>이 창을 닫아도 됩니다.</p>", current(Some(&account))),
        ),
        Err(PayoutAccountError::Invalid(e)) => retry(
            StatusCode::BAD_REQUEST,
            match e.field() {
                "bankCode" => "은행을 선택해 주세요.",
                "accountNumber" => "계좌번호는 숫자 10~16자리입니다.",
                _ => "예금주 이름을 확인해 주세요.",
            },
        ),
        Err(PayoutAccountError::NotFound) => {
            retry(StatusCode::UNPROCESSABLE_ENTITY, "은행에 없는 계좌입니다.")
        }
        Err(PayoutAccountError::HolderMismatch) => retry(
            StatusCode::UNPROCESSABLE_ENTITY,
            "예금주 이름이 일치하지 않습니다.",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "payout account not registered");
            retry(
                StatusCode::SERVICE_UNAVAILABLE,
                "계좌를 확인할 수 없습니다. 잠시 후 다시 시도해 주세요.",
            )
        }
    }
}
