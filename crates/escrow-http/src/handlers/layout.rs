//! The frame every hosted page shares: one inline stylesheet (no external assets, no JavaScript),
//! mobile first, readable contrast, visible keyboard focus; HTML escaping; amounts in Korean style;
//! pages that lead back to the partner.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Mobile first: one column, system fonts (Korean glyphs from the device), 16px+ text, 44px tap
/// targets, contrast at least 4.5:1 (#1a1a1a / #0b57d0 on white), focus always visible.
const STYLE: &str = "*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Apple SD Gothic Neo','Noto Sans KR','Noto Sans CJK KR','Malgun Gothic',sans-serif;\
color:#1a1a1a;background:#f4f5f7;margin:0;font-size:16px;line-height:1.5}\
header{background:#fff;border-bottom:1px solid #d0d4da;padding:.75rem 1rem;font-weight:700}\
header span{color:#0b57d0}\
main{max-width:36rem;margin:0 auto;padding:1rem}\
h1{font-size:1.35rem;margin:.5rem 0 1rem}h2{font-size:1.05rem;margin:0 0 .5rem}\
section{background:#fff;border:1px solid #d0d4da;border-radius:.5rem;padding:1rem;margin:0 0 1rem}\
table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #e3e6ea}td.n{text-align:right}\
tr.total td{font-weight:700;font-size:1.15rem;border-bottom:0}\
dl{margin:0}dt{color:#4a4f57;font-size:.9rem}dd{margin:0 0 .5rem}\
.product{display:flex;gap:.75rem;align-items:center}.product img{width:72px;height:72px;object-fit:cover;border-radius:.4rem}\
.product strong{font-size:1.1rem}\
.protect{background:#e8f0fe;border-color:#0b57d0}\
label{display:block;margin:.75rem 0 .25rem;font-weight:600}\
input,select{font:inherit;width:100%;min-height:44px;padding:.5rem;border:1px solid #6b7280;border-radius:.4rem;background:#fff;color:#1a1a1a}\
input[type=checkbox]{width:1.4rem;min-height:1.4rem;margin:0 .5rem 0 0;vertical-align:middle}\
label.check{display:flex;align-items:center;font-weight:400}\
details{margin:.25rem 0 .75rem 2rem}summary{cursor:pointer;color:#0b57d0;min-height:44px;line-height:44px}\
details p{font-size:.9rem;color:#333;margin:.25rem 0}\
.installments details{margin:0}.installments ul{margin:0;padding-left:1.2rem}.installments li{margin:.5rem 0}\
.installments small{color:#555}\
.error{color:#b3261e;font-weight:600;margin:.25rem 0}\
[aria-invalid=true]{border-color:#b3261e;border-width:2px}\
button,.button{display:block;width:100%;min-height:48px;font:inherit;font-weight:700;font-size:1.1rem;padding:.7rem 1rem;\
border:0;border-radius:.5rem;background:#0b57d0;color:#fff;text-align:center;text-decoration:none;cursor:pointer}\
a{color:#0b57d0}\
:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}\
@media (min-width:48rem){main{padding:2rem 1rem}}";

/// A hosted page: the frame, `title` as its heading, `body` inside `<main>`.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https:; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .body(format!(
            "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{t}</title><style>{STYLE}</style></head>\
             <body><header><span>안전거래</span> 에스크로</header><main><h1>{t}</h1>{body}</main></body></html>",
            t = esc(title)
        ))
}

/// A page that ends a flow: `message`, and a button back to the partner's site when it is known.
pub(crate) fn dead_end(
    status: StatusCode,
    title: &str,
    message: &str,
    back: Option<&str>,
) -> HttpResponse {
    let back = back
        .map(|url| {
            format!(
                "<p><a class=\"button\" href=\"{}\">쇼핑몰로 돌아가기</a></p>",
                esc(url)
            )
        })
        .unwrap_or_default();
    page(
        status,
        title,
        &format!("<section><p>{}</p></section>{back}", esc(message)),
    )
}

/// An amount as Koreans read it: `53,000원`; other currencies with two decimals.
pub(crate) fn won(amount: i64, currency: &str) -> String {
    if currency == "KRW" {
        let digits = amount.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{out}원")
    } else {
        format!("{}.{:02} {currency}", amount / 100, amount % 100)
    }
}

/// An instant as Koreans read it, in Asia/Seoul: `2026-12-04 18:30`.
pub(crate) fn seoul(at: time::OffsetDateTime) -> String {
    at.to_offset(time::macros::offset!(+9))
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_the_korean_way() {
        assert_eq!(won(53_000, "KRW"), "53,000원");
        assert_eq!(won(1_234_567, "KRW"), "1,234,567원");
        assert_eq!(won(999, "KRW"), "999원");
        assert_eq!(won(12_345, "USD"), "123.45 USD");
    }
}
