//! Bad input gets a clear 4xx with SPEC §11's body, never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{error_body, App, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn checkout_body(product: &str) -> Value {
    json!({
        "productId": product, "paymentMethod": "CARD", "tradeType": "GENERAL",
        "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울", "addressDetail": "1층" },
        "returnUrl": format!("{ORIGIN}/paid"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_with_the_error_body() {
    let app = App::spawn().await;
    let seller = app.member("bad-seller").await;
    let buyer = app.member("bad-buyer").await;
    let product = app.product(&seller, 10_000, &["CARD"]).await;
    let put_product = |body: Value| {
        app.member_call(&seller, Method::PUT, "/api/v1/products")
            .json(&body)
            .send()
    };

    // Unknown field.
    let r = put_product(json!({ "partnerProductId": "x1", "name": "a", "price": 10000, "paymentMethods": ["CARD"], "surprise": 1 })).await.unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    // Wrong type.
    let r = put_product(json!({ "partnerProductId": "x2", "name": "a", "price": "10000", "paymentMethods": ["CARD"] })).await.unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    // Negative and huge amounts.
    let r = put_product(
        json!({ "partnerProductId": "x3", "name": "a", "price": -5, "paymentMethods": ["CARD"] }),
    )
    .await
    .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "VALIDATION_FAILED");
    let r = put_product(json!({ "partnerProductId": "x4", "name": "a", "price": 9_223_372_036_854_775_807i64, "paymentMethods": ["CARD"] })).await.unwrap();
    assert_eq!(error_body(r, 400).await["code"], "VALIDATION_FAILED");
    let r = put_product(json!({ "partnerProductId": "x5", "name": "a", "price": 18_446_744_073_709_551_615u64, "paymentMethods": ["CARD"] })).await.unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    let r = put_product(json!({ "partnerProductId": "x6", "name": "a", "price": 60_000_000, "paymentMethods": ["CARD"] })).await.unwrap();
    assert_eq!(error_body(r, 422).await["code"], "PRICE_LIMIT_EXCEEDED");
    // Unknown enum value.
    let r = put_product(json!({ "partnerProductId": "x7", "name": "a", "price": 10000, "paymentMethods": ["BITCOIN"] })).await.unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    // A 2 MB body.
    let big = json!({ "partnerProductId": "x8", "name": "a".repeat(2 * 1024 * 1024), "price": 10000, "paymentMethods": ["CARD"] });
    let r = put_product(big).await.unwrap();
    assert_eq!(error_body(r, 413).await["code"], "PAYLOAD_TOO_LARGE");
    // Invalid UTF-8.
    let r = app
        .member_call(&seller, Method::PUT, "/api/v1/products")
        .header("Content-Type", "application/json")
        .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    // Not JSON at all (under the JSON media type, and without one: 415), and an empty body.
    let r = app
        .member_call(&seller, Method::PUT, "/api/v1/products")
        .header("Content-Type", "application/json")
        .body("price=1")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    let r = app
        .member_call(&seller, Method::PUT, "/api/v1/products")
        .body("price=1")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 415).await["code"], "UNSUPPORTED_MEDIA_TYPE");
    let r = app
        .member_call(&seller, Method::PUT, "/api/v1/products")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "BODY_REQUIRED");

    // Checkout without Idempotency-Key.
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .json(&checkout_body(&product))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "IDEMPOTENCY_KEY_REQUIRED");
    // Unknown trade type and a return URL off the partner's origins.
    let mut body = checkout_body(&product);
    body["tradeType"] = json!("SUPER");
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "INVALID_JSON");
    let mut body = checkout_body(&product);
    body["returnUrl"] = json!("https://evil.example/steal");
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k2")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "VALIDATION_FAILED");
    // A seller cannot buy their own product.
    let r = app
        .member_call(&seller, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k3")
        .json(&checkout_body(&product))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 422).await["code"], "SELF_TRADE");
    // The same key with another body.
    let first = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k4")
        .json(&checkout_body(&product))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k4")
        .json(&checkout_body(&product))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the same answer"
    );
    let mut other = checkout_body(&product);
    other["tradeType"] = json!("PREMIUM");
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "k4")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 422).await["code"], "IDEMPOTENCY_KEY_REUSED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_queries_and_methods_never_answer_500() {
    let app = App::spawn().await;
    let member = app.member("paths").await;
    for path in [
        "/api/v1/trades/not-a-uuid",
        "/api/v1/trades/00000000-0000-0000-0000-000000000000",
        "/api/v1/trades/%FF%FE",
        "/api/v1/trades?role=admin",
        "/api/v1/trades?role=buyer&limit=0",
        "/api/v1/trades?role=buyer&limit=abc",
        "/api/v1/trades?role=buyer&status=99",
        "/api/v1/trades?role=buyer&cursor=zzz",
        "/api/v1/trades?role=buyer&unknown=1",
        "/no/such/route",
    ] {
        let r = app
            .member_call(&member, Method::GET, path)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
        error_body(r, status).await;
    }
    let r = app
        .member_call(&member, Method::DELETE, "/api/v1/products")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!((400..500).contains(&status));
    error_body(r, status).await;
    // The partner API with a 2 MB signed body.
    let big = json!({ "partnerUserId": "a".repeat(2 * 1024 * 1024), "returnUrl": "x" });
    let r = app
        .signed(Method::POST, "/api/v1/members/signup", Some(&big))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 413).await["code"], "PAYLOAD_TOO_LARGE");
    // The request id comes back, and is the one we sent.
    let r = app
        .http
        .get(format!("{}/nope", app.base))
        .header("X-Request-Id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "req-123");
    assert_eq!(error_body(r, 404).await["requestId"], "req-123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_endpoints_answer() {
    let app = App::spawn().await;
    let get = |p: &str| app.http.get(format!("{}{p}", app.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/readyz").await.unwrap().status(), StatusCode::OK);
    let docs = get("/docs").await.unwrap().text().await.unwrap();
    assert!(docs.contains("swagger-ui-bundle.js"));
    assert_eq!(
        get("/docs/swagger-ui-bundle.js").await.unwrap().status(),
        StatusCode::OK
    );
    let spec: Value = get("/openapi.json").await.unwrap().json().await.unwrap();
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/members/signup",
        "/api/v1/members/signup/{id}",
        "/api/v1/members/{partnerUserId}/status",
        "/api/v1/members/{partnerUserId}/withdrawal",
        "/api/v1/auth/token",
        "/api/v1/products",
        "/api/v1/checkouts",
        "/api/v1/trades",
        "/api/v1/trades/{id}",
        "/api/v1/trades/by-partner-no/{partnerTradeNo}",
        "/api/v1/trades/{id}/events",
        "/api/v1/trades/{id}/cancel",
        "/api/v1/trades/{id}/approve",
        "/api/v1/trades/{id}/return-request",
        "/api/v1/trades/{id}/return-shipment",
        "/api/v1/trades/{id}/shipment",
        "/api/v1/trades/{id}/cancel-agree",
        "/api/v1/trades/{id}/sale-cancel",
        "/api/v1/trades/{id}/return-agree",
        "/api/v1/trades/{id}/return-complete",
        "/api/v1/trades/{id}/delivered",
        "/admin/v1/partners",
        "/admin/v1/partners/{id}/contract",
        "/admin/v1/trades",
        "/admin/v1/trades/{id}",
        "/admin/v1/trades/{id}/{action}",
        "/admin/v1/refunds",
        "/admin/v1/holidays",
        "/admin/v1/holidays/{date}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} missing from /openapi.json");
    }
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("escrow_http_requests_total"), "{metrics}");
}
