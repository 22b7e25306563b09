//! Who may do what: partners see only their own resources (404), members act only in their role,
//! signatures and tokens are checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use escrow_domain::ports::Clock;
use escrow_e2e::{create_partner, error_body, App, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_b_gets_404_for_every_route_with_partner_a_ids() {
    let app = App::spawn().await;
    let (buyer_a, seller_a, trade_a) = app.paid_trade("a").await;
    let partner_b = create_partner(&app.db, "market-b").await;
    let member_b = app.member_of(&partner_b, "someone-b").await;
    let trade: Value = app
        .member_call(&buyer_a, Method::GET, &format!("/api/v1/trades/{trade_a}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let product_a = trade["productId"].as_str().unwrap().to_owned();
    let no_a = trade["partnerTradeNo"].as_str().unwrap().to_owned();
    let checkout_a = trade["checkoutId"].as_str().unwrap().to_owned();

    // A signup session of A, read by B.
    let s: Value = app
        .signed(
            Method::POST,
            "/api/v1/members/signup",
            Some(&json!({ "partnerUserId": "late-a", "returnUrl": format!("{ORIGIN}/x") })),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_a = s["signupSessionId"].as_str().unwrap();
    let r = app
        .signed_as(
            &partner_b,
            Method::GET,
            &format!("/api/v1/members/signup/{session_a}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 404).await["code"], "NOT_FOUND");
    // A's user does not exist for B.
    let r = app
        .signed_as(
            &partner_b,
            Method::GET,
            &format!("/api/v1/members/{}/status", buyer_a.user),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "NONE");
    let r = app
        .signed_as(
            &partner_b,
            Method::POST,
            &format!("/api/v1/members/{}/withdrawal", buyer_a.user),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // A's trade, reported delivered by B.
    let r = app
        .signed_as(
            &partner_b,
            Method::POST,
            &format!("/api/v1/trades/{trade_a}/delivered"),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // A's trade by its number, asked by B.
    let r = app
        .signed_as(
            &partner_b,
            Method::GET,
            &format!("/api/v1/partner/trades/{no_a}"),
            None,
        )
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // B's member on A's trade, product, checkout and trade number.
    for (method, path) in [
        (Method::GET, format!("/api/v1/products/{product_a}")),
        (Method::POST, format!("/api/v1/products/{product_a}/stop")),
        (Method::GET, format!("/api/v1/checkouts/{checkout_a}")),
        (Method::GET, format!("/api/v1/trades/{trade_a}")),
        (Method::GET, format!("/api/v1/trades/{trade_a}/events")),
        (Method::GET, format!("/api/v1/trades/by-partner-no/{no_a}")),
        (Method::POST, format!("/api/v1/trades/{trade_a}/cancel")),
        (Method::POST, format!("/api/v1/trades/{trade_a}/approve")),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/return-request"),
        ),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/return-shipment"),
        ),
        (Method::POST, format!("/api/v1/trades/{trade_a}/shipment")),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/cancel-agree"),
        ),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/sale-cancel"),
        ),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/return-agree"),
        ),
        (
            Method::POST,
            format!("/api/v1/trades/{trade_a}/return-complete"),
        ),
    ] {
        let body = match path.rsplit('/').next().unwrap() {
            "cancel" => json!({ "reason": "x" }),
            "return-request" => json!({ "reason": "x", "returnShippingPayer": "BUYER" }),
            "return-shipment" | "shipment" => json!({ "carrier": "005", "invoiceNumber": "1" }),
            "sale-cancel" => json!({ "reasonCode": 31 }),
            "return-agree" => json!({ "returnAddress": "x" }),
            _ => json!({}),
        };
        let mut req = app.member_call(&member_b, method.clone(), &path);
        if method == Method::POST {
            req = req.json(&body);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        error_body(r, 404).await;
    }
    let r = app
        .member_call(&member_b, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k-b-1")
        .json(&json!({
            "productId": product_a, "paymentMethod": "CARD", "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "a", "phone": "01012345678", "postcode": "1", "address": "a", "addressDetail": "a" },
            "returnUrl": format!("{ORIGIN}/x"),
        }))
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    let r = app
        .member_call(&member_b, Method::PUT, "/api/v1/products")
        .json(&json!({ "productId": product_a, "partnerProductId": "x", "name": "중고 자전거", "price": 50000, "paymentMethods": ["CARD"] }))
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // And A's own members still see it.
    let r = app
        .member_call(&seller_a, Method::GET, &format!("/api/v1/trades/{trade_a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyers_and_sellers_act_only_in_their_role() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("roles").await;
    let r = app
        .member_call(
            &buyer,
            Method::POST,
            &format!("/api/v1/trades/{id}/shipment"),
        )
        .json(&json!({ "carrier": "005", "invoiceNumber": "1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 403).await["code"], "ROLE_NOT_ALLOWED");
    let r = app
        .member_call(
            &seller,
            Method::POST,
            &format!("/api/v1/trades/{id}/cancel"),
        )
        .json(&json!({ "reason": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 403).await["code"], "ROLE_NOT_ALLOWED");
    let r = app
        .member_call(
            &seller,
            Method::POST,
            &format!("/api/v1/trades/{id}/approve"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 403).await["code"], "ROLE_NOT_ALLOWED");
    // The right role in the wrong status: 409 naming the status.
    let r = app
        .member_call(
            &buyer,
            Method::POST,
            &format!("/api/v1/trades/{id}/approve"),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body = error_body(r, 409).await;
    assert_eq!(body["code"], "INVALID_TRANSITION");
    assert_eq!(body["details"]["status"], 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_stale_and_altered_signatures_are_refused() {
    let app = App::spawn().await;
    let keys = app.partner.clone();
    let path = "/api/v1/members/u1/status";
    let now = app.clock.now();
    // A good one works once; the same signature again is a replay.
    let body = Vec::new();
    let first = app
        .signed_raw(&keys, Method::GET, path, body.clone(), now)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let again = app
        .signed_raw(&keys, Method::GET, path, body.clone(), now)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(again, 401).await["code"], "SIGNATURE_REPLAYED");
    // Stale: 301 seconds old.
    let stale = app
        .signed_raw(&keys, Method::GET, path, body, now - Duration::seconds(301))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(stale, 401).await["code"],
        "TIMESTAMP_OUT_OF_WINDOW"
    );
    // Altered body: signed for one body, sent with another.
    let signed = app
        .signed(
            Method::POST,
            "/api/v1/members/signup",
            Some(&json!({ "partnerUserId": "u2", "returnUrl": format!("{ORIGIN}/x") })),
        )
        .build()
        .unwrap();
    let mut altered = reqwest::Request::try_clone(&signed).unwrap();
    *altered.body_mut() = Some(
        serde_json::to_vec(&json!({ "partnerUserId": "u3", "returnUrl": format!("{ORIGIN}/x") }))
            .unwrap()
            .into(),
    );
    let r = app.http.execute(altered).await.unwrap();
    assert_eq!(error_body(r, 401).await["code"], "SIGNATURE_INVALID");
    // Wrong secret, unknown key, no headers.
    let mut wrong = keys.clone();
    wrong.secret = "not-the-secret-0123456789".into();
    let r = app
        .signed_as(&wrong, Method::GET, path, None)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 401).await["code"], "SIGNATURE_INVALID");
    let mut unknown = keys.clone();
    unknown.api_key = "pk_nobody".into();
    let r = app
        .signed_as(&unknown, Method::GET, path, None)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 401).await["code"], "API_KEY_UNKNOWN");
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 401).await["code"], "SIGNATURE_MISSING");
    // Ten minutes on, the jobs forget old signatures; the old request is still refused, as stale.
    app.clock.advance(Duration::minutes(11));
    app.run_jobs().await;
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM used_signatures")
            .await,
        "0"
    );
    let replayed = app
        .signed_raw(&keys, Method::GET, path, Vec::new(), now)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(replayed, 401).await["code"],
        "TIMESTAMP_OUT_OF_WINDOW"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_alg_none_tokens_are_refused() {
    let app = App::spawn().await;
    let member = app.member("tok-user").await;
    let r = app
        .member_call(&member, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // alg: none with the member's own claims.
    let claims = member.token.split('.').nth(1).unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"alg":"none","typ":"JWT","kid":"t1"}"#);
    let forged = escrow_e2e::Member {
        token: format!("{header}.{claims}."),
        ..member.clone()
    };
    let r = app
        .member_call(&forged, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 401).await["code"], "TOKEN_INVALID");
    // Two hours later the token has expired.
    app.clock.advance(Duration::hours(2) + Duration::seconds(1));
    let r = app
        .member_call(&member, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 401).await["code"], "TOKEN_EXPIRED");
}
