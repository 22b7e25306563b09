//! Hosted pages (Korean, server-rendered, usable without JavaScript, reached by signed links): the
//! signup page (each term's text, "agree to all", errors next to their field) and what every page
//! shares (redirects, signed-link checks). The checkout pages are in `checkout_pages`.

use std::collections::HashMap;

use actix_web::http::header::LOCATION;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::people::PhoneNumber;
use escrow_domain::services::MemberError;
use escrow_domain::signup::{IdentityClaim, SignupStatus, REQUIRED_TERMS};

use super::layout::{dead_end, esc, page};
use crate::state::AppState;

/// A 303 to `to`. Return URLs are checked when they are given, so `to` is always a valid header; any
/// byte that still is not is percent-encoded rather than failing the response after the work is done.
pub(crate) fn redirect(to: &str) -> HttpResponse {
    let mut safe = String::with_capacity(to.len());
    for c in to.chars() {
        if c.is_control() || c.is_whitespace() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                safe.push_str(&format!("%{b:02X}"));
            }
        } else {
            safe.push(c);
        }
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, safe))
        .finish()
}

pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 && !url.contains('?') {
            '?'
        } else {
            '&'
        });
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub(crate) fn bad_link() -> HttpResponse {
    dead_end(
        StatusCode::NOT_FOUND,
        "링크가 올바르지 않습니다",
        "만료되었거나 잘못된 링크입니다. 이용하던 쇼핑몰에서 처음부터 다시 시도해 주세요.",
        None,
    )
}

/// The link's `sig` query parameter.
#[derive(Debug, serde::Deserialize)]
pub struct Sig {
    sig: Option<String>,
}

impl Sig {
    /// The signature, or empty.
    pub fn sig(&self) -> &str {
        self.sig.as_deref().unwrap_or_default()
    }
}

/// What the buyer typed, and what was wrong with it, field by field.
#[derive(Debug, Default)]
struct SignupForm<'a> {
    name: &'a str,
    birth_date: &'a str,
    phone: &'a str,
    foreigner: bool,
    /// The identity provider's certification id (PortOne's `imp_uid`), set by its window.
    certification: &'a str,
    agreed: Vec<&'static str>,
    terms_error: Option<&'static str>,
    name_error: Option<&'static str>,
    birth_date_error: Option<&'static str>,
    phone_error: Option<&'static str>,
    general_error: Option<&'static str>,
}

impl SignupForm<'_> {
    fn has_errors(&self) -> bool {
        self.terms_error.is_some()
            || self.name_error.is_some()
            || self.birth_date_error.is_some()
            || self.phone_error.is_some()
            || self.general_error.is_some()
    }
}

/// An input with its label and, when it is wrong, its error next to it (`aria-describedby`).
fn field(name: &str, label: &str, input: &str, value: &str, error: Option<&str>) -> String {
    let (invalid, described, message) = match error {
        Some(e) => (
            " aria-invalid=\"true\"",
            format!(" aria-describedby=\"{name}-error\""),
            format!("<p class=\"error\" id=\"{name}-error\">{}</p>", esc(e)),
        ),
        None => ("", String::new(), String::new()),
    };
    format!(
        "<label for=\"{name}\">{label}</label><input id=\"{name}\" name=\"{name}\" value=\"{}\" {input}{invalid}{described}>{message}",
        esc(value)
    )
}

fn signup_form(id: &str, sig: &str, f: &SignupForm<'_>) -> String {
    let mut terms = String::new();
    for (code, version, title) in REQUIRED_TERMS {
        let checked = if f.agreed.contains(code) {
            " checked"
        } else {
            ""
        };
        terms.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"term_{code}\" value=\"{version}\"{checked}>\
             [필수] {}</label><details><summary>{} 전문 보기</summary><p>{}</p><p>버전 {}</p></details>",
            esc(title),
            esc(title),
            esc(escrow_domain::signup::term_text(code)),
            esc(version)
        ));
    }
    let all_checked = if f.agreed.len() == REQUIRED_TERMS.len() {
        " checked"
    } else {
        ""
    };
    let terms_error = f
        .terms_error
        .map(|e| {
            format!(
                "<p class=\"error\" id=\"terms-error\" role=\"alert\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default();
    let general = f
        .general_error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let summary = if f.has_errors() && f.general_error.is_none() {
        "<p class=\"error\" role=\"alert\">입력한 내용을 확인해 주세요.</p>"
    } else {
        ""
    };
    let (kr, foreign) = if f.foreigner {
        ("", " selected")
    } else {
        (" selected", "")
    };
    format!(
        "{general}{summary}<form method=\"post\" action=\"/signup/{id}\" novalidate><input type=\"hidden\" name=\"sig\" value=\"{sig}\">\
         <input type=\"hidden\" name=\"certification\" value=\"{certification}\">\
         <section><h2>약관 동의</h2>\
         <label class=\"check\"><input type=\"checkbox\" name=\"agree_all\" value=\"on\"{all_checked}><strong>전체 동의</strong></label>\
         {terms}{terms_error}</section>\
         <section><h2>본인 확인</h2>{}{}{}\
         <label for=\"nationality\">국적</label><select id=\"nationality\" name=\"nationality\">\
         <option value=\"KR\"{kr}>내국인</option><option value=\"FOREIGN\"{foreign}>외국인</option></select></section>\
         <button type=\"submit\">동의하고 가입하기</button></form>",
        field("name", "이름", "autocomplete=\"name\" maxlength=\"50\" required", f.name, f.name_error),
        field("birthDate", "생년월일", "type=\"date\" autocomplete=\"bday\" required", f.birth_date, f.birth_date_error),
        field("phone", "휴대폰 번호", "type=\"tel\" inputmode=\"numeric\" autocomplete=\"tel\" placeholder=\"01012345678\" required", f.phone, f.phone_error),
        id = esc(id),
        sig = esc(sig),
        certification = esc(f.certification),
    )
}

/// The hosted signup page.
pub async fn signup_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<Sig>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = q.sig.clone().unwrap_or_default();
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return bad_link();
    };
    if !state.links.verify("signup", &id, &sig) {
        return bad_link();
    }
    match state.members.session(uuid).await {
        Ok(s) if s.status == SignupStatus::Open => page(
            StatusCode::OK,
            "안전거래 회원가입",
            &signup_form(&id, &sig, &SignupForm::default()),
        ),
        Ok(s) => dead_end(
            StatusCode::GONE,
            "가입 기간이 지났습니다",
            "이 가입 링크는 더 이상 쓸 수 없습니다. 쇼핑몰에서 가입을 다시 시작해 주세요.",
            Some(&s.return_url),
        ),
        Err(_) => bad_link(),
    }
}

/// The posted signup form, with an error for every field that is wrong; the birth date and phone
/// when both read.
fn read_signup_form(
    form: &HashMap<String, String>,
) -> (SignupForm<'_>, Option<(time::Date, PhoneNumber)>) {
    let all = form.get("agree_all").is_some_and(|v| v == "on");
    let typed = |k: &str| form.get(k).map_or("", |v| v.as_str());
    let mut f = SignupForm {
        name: typed("name"),
        birth_date: typed("birthDate"),
        phone: typed("phone"),
        foreigner: form.get("nationality").is_some_and(|n| n != "KR"),
        certification: typed("certification"),
        agreed: REQUIRED_TERMS
            .iter()
            .filter(|(code, version, _)| all || typed(&format!("term_{code}")) == *version)
            .map(|(code, _, _)| *code)
            .collect(),
        ..SignupForm::default()
    };
    if f.agreed.len() != REQUIRED_TERMS.len() {
        f.terms_error = Some("필수 약관에 모두 동의해 주세요.");
    }
    let birth_date = time::Date::parse(
        f.birth_date,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok();
    if birth_date.is_none() {
        f.birth_date_error = Some("생년월일을 YYYY-MM-DD 형식으로 입력해 주세요.");
    }
    let phone = PhoneNumber::new(f.phone).ok();
    if phone.is_none() {
        f.phone_error = Some("휴대폰 번호를 확인해 주세요. 01012345678처럼 숫자로 입력해 주세요.");
    }
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 50 || name.chars().any(char::is_control) {
        f.name_error = Some("이름을 확인해 주세요. 50자 이내의 글자로 입력해 주세요.");
    }
    (f, birth_date.zip(phone))
}

/// The signup form was posted.
pub async fn signup_submit(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let id = path.into_inner();
    let sig = form.get("sig").cloned().unwrap_or_default();
    let Ok(uuid) = uuid::Uuid::parse_str(&id) else {
        return bad_link();
    };
    if !state.links.verify("signup", &id, &sig) {
        return bad_link();
    }
    let (f, identity) = read_signup_form(&form);
    let retry = |f: &SignupForm<'_>| {
        page(
            StatusCode::BAD_REQUEST,
            "안전거래 회원가입",
            &signup_form(&id, &sig, f),
        )
    };
    let Some((birth_date, phone)) = identity.filter(|_| !f.has_errors()) else {
        return retry(&f);
    };
    let agreed: Vec<String> = f.agreed.iter().map(|c| (*c).to_owned()).collect();
    let claim = IdentityClaim {
        name: f.name.trim().to_owned(),
        birth_date,
        phone,
        foreigner: f.foreigner,
        certification: Some(f.certification.trim())
            .filter(|c| escrow_domain::payment::is_gateway_reference(c))
            .map(str::to_owned),
    };
    match state.members.complete_signup(uuid, &agreed, &claim).await {
        Ok(done) => redirect(&with_query(
            &done.session.return_url,
            &[
                ("signupSessionId", &id),
                ("result", "success"),
                ("memberId", &done.member.id.to_string()),
            ],
        )),
        // Refused (foreigner, under 14, rejoin rules): back to the partner with the code, as
        // docs/api.md says; the session records the refusal and its reason.
        Err(MemberError::NotAllowed(refusal)) => match state.members.session(uuid).await {
            Ok(s) => redirect(&with_query(
                &s.return_url,
                &[
                    ("signupSessionId", &id),
                    ("result", "fail"),
                    ("code", refusal.code()),
                ],
            )),
            Err(_) => page(
                StatusCode::FORBIDDEN,
                "가입할 수 없습니다",
                &format!("<p>{}</p>", esc(refusal.message())),
            ),
        },
        Err(MemberError::TermsMissing(_)) => retry(&SignupForm {
            terms_error: Some("필수 약관에 모두 동의해 주세요."),
            ..f
        }),
        Err(MemberError::IdentityNotVerified(_)) => retry(&SignupForm {
            general_error: Some(
                "본인인증에 실패했습니다. 이름, 생년월일, 휴대폰 번호를 확인해 주세요.",
            ),
            ..f
        }),
        Err(MemberError::NotFound) => bad_link(),
        Err(MemberError::SessionClosed(_)) => dead_end(
            StatusCode::GONE,
            "가입 기간이 지났습니다",
            "이 가입 링크는 더 이상 쓸 수 없습니다. 쇼핑몰에서 가입을 다시 시작해 주세요.",
            state
                .members
                .session(uuid)
                .await
                .ok()
                .map(|s| s.return_url)
                .as_deref(),
        ),
        Err(MemberError::AlreadyExists) => dead_end(
            StatusCode::CONFLICT,
            "이미 가입된 회원입니다",
            "이미 안전거래 회원으로 가입되어 있습니다.",
            state
                .members
                .session(uuid)
                .await
                .ok()
                .map(|s| s.return_url)
                .as_deref(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "signup failed");
            dead_end(
                StatusCode::SERVICE_UNAVAILABLE,
                "잠시 후 다시 시도해 주세요",
                "일시적인 오류입니다. 잠시 후 같은 링크로 다시 시도해 주세요.",
                None,
            )
        }
    }
}
