//! Regressions of inputs that answered 5xx or broke a request after its work was done: cursors out of
//! range, NUL and other control characters in any text field, path or query, and return URLs that
//! made the final redirect fail. Each answers 400 naming the field, before anything is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{error_body, App, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_out_of_range_are_400() {
    let app = App::spawn().await;
    let buyer = app.member("cursor-buyer").await;
    let id = uuid::Uuid::new_v4().simple();
    for cursor in [
        format!("9223372036854775807.{id}"),
        format!("-1.{id}"),
        format!("253402300800000000.{id}"),
        "garbage".to_owned(),
    ] {
        let r = app
            .member_call(
                &buyer,
                Method::GET,
                &format!("/api/v1/trades?role=buyer&cursor={cursor}"),
            )
            .send()
            .await
            .unwrap();
        error_body(r, 400).await;
        let r = app
            .admin(Method::GET, &format!("/admin/v1/trades?cursor={cursor}"))
            .send()
            .await
            .unwrap();
        error_body(r, 400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_text_fields_are_400_naming_the_field() {
    let app = App::spawn().await;
    let seller = app.member("nul-seller").await;
    let buyer = app.member("nul-buyer").await;
    let product = app.product(&seller, 10_000, &["CARD"]).await;
    for (field, value) in [
        ("description", "좋은\u{0}물건"),
        ("imageUrl", "https://img.example/a\u{0}.png"),
        ("imageUrl", "https://img.example/a\r\nb.png"),
        ("categoryCode", "A\u{0}"),
        ("name", "자전거\u{7}"),
    ] {
        let mut body = json!({
            "partnerProductId": format!("nul-{}", uuid::Uuid::new_v4().simple()),
            "name": "자전거", "price": 10000, "paymentMethods": ["CARD"],
        });
        body[field] = json!(value);
        let r = app
            .member_call(&seller, Method::PUT, "/api/v1/products")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{field}: {value:?}");
        let e = error_body(r, 400).await;
        assert_eq!(e["details"]["field"], field, "{e}");
    }

    // Return URLs with NUL, CR/LF, DEL or BEL: refused at checkout creation, nothing reserved.
    for bad in ["\u{0}", "\r\nSet-Cookie: x=1", "\u{7f}", "\u{7}"] {
        let r = app
            .member_call(&buyer, Method::POST, "/api/v1/checkouts")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "productId": product, "paymentMethod": "CARD", "tradeType": "GENERAL",
                "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울", "addressDetail": "1층" },
                "returnUrl": format!("{ORIGIN}/paid{bad}"),
            }))
            .send()
            .await
            .unwrap();
        let e = error_body(r, 400).await;
        assert!(
            e["details"]["field"]
                .as_str()
                .unwrap()
                .contains("returnUrl"),
            "{e}"
        );
    }
    assert_eq!(
        app.text(&format!(
            "SELECT status AS v FROM products WHERE id = '{product}'"
        ))
        .await,
        "ON_SALE"
    );

    // And at signup: no session is opened.
    for bad in ["\u{0}", "\r\nSet-Cookie: x=1", "\u{7f}"] {
        let r = app
            .signed(
                Method::POST,
                "/api/v1/members/signup",
                Some(&json!({ "partnerUserId": "ctl-user", "returnUrl": format!("{ORIGIN}/x{bad}") })),
            )
            .send()
            .await
            .unwrap();
        let e = error_body(r, 400).await;
        assert!(
            e["details"]["field"]
                .as_str()
                .unwrap()
                .contains("returnUrl"),
            "{e}"
        );
    }
    assert_eq!(
        app.text(
            "SELECT count(*)::text AS v FROM signup_sessions WHERE partner_user_id = 'ctl-user'"
        )
        .await,
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_paths_queries_and_forms_are_refused() {
    let app = App::spawn().await;
    let buyer = app.member("path-buyer").await;
    for path in [
        "/api/v1/trades/by-partner-no/T%00-1",
        "/api/v1/trades?role=buyer&status=%00",
        "/api/v1/trades?role=buyer&cursor=1.%0a",
    ] {
        let r = app
            .member_call(&buyer, Method::GET, path)
            .send()
            .await
            .unwrap();
        let e = error_body(r, 400).await;
        assert_eq!(e["details"]["field"], "url", "{path}: {e}");
    }
    let r = app
        .signed(Method::GET, "/api/v1/members/a%00b/status", None)
        .send()
        .await
        .unwrap();
    error_body(r, 400).await;

    // The hosted signup form's name with a NUL: the form again, with a message; nothing stored.
    let link = app.open_signup(&app.partner, "form-nul", "/joined").await;
    let r = app
        .http
        .post(format!("{}/signup/{}", app.base, link.id))
        .form(&[
            ("sig", link.sig.as_str()),
            ("term_SERVICE", "2024-01"),
            ("term_PRIVACY", "2024-01"),
            ("term_EFINANCE", "2024-01"),
            ("name", "홍\u{0}길동"),
            ("birthDate", "1990-01-01"),
            ("phone", "01099998888"),
            ("nationality", "KR"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("이름을 확인해 주세요"), "{html}");
    let s: Value = app
        .signed(
            Method::GET,
            &format!("/api/v1/members/signup/{}", link.id),
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["status"], "OPEN");
}
