//! SPEC §18's conventions and the hardening found missing from outside: 415 for JSON under another
//! media type, 405 with `Allow`, headers against framing and sniffing, a body that stalls, and the
//! codes docs/api.md promises.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

use escrow_e2e::{error_body, App, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_need_the_json_media_type() {
    let app = App::spawn().await;
    let seller = app.member("media-seller").await;
    let body = json!({ "partnerProductId": "m1", "name": "a", "price": 10000, "paymentMethods": ["CARD"] })
        .to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let r = app
            .member_call(&seller, Method::PUT, "/api/v1/products")
            .header("Content-Type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(error_body(r, 415).await["code"], "UNSUPPORTED_MEDIA_TYPE");
    }
    let r = app
        .member_call(&seller, Method::PUT, "/api/v1/products")
        .header("Content-Type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_route_does_not_have_is_405_with_allow() {
    let app = App::spawn().await;
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/checkouts", "POST"),
        (Method::DELETE, "/api/v1/products", "GET, PUT"),
        (Method::PUT, "/api/v1/events", "GET"),
        (Method::PUT, "/admin/v1/holidays", "GET, POST"),
        (Method::DELETE, "/checkout/abc/pay", "POST"),
    ] {
        let r = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()["allow"].to_str().unwrap(),
            allow,
            "{method} {path}"
        );
        assert_eq!(error_body(r, 405).await["code"], "METHOD_NOT_ALLOWED");
    }
    let r = app
        .http
        .get(format!("{}/api/v1/nothing-here", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 404).await["code"], "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_cannot_be_framed_or_sniffed_and_leak_no_referrer() {
    let app = App::spawn().await;
    let buyer = app.member("frame-buyer").await;
    let seller = app.member("frame-seller").await;
    let product = app.product(&seller, 10_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let link = app.open_signup(&app.partner, "frame-user", "/joined").await;
    for url in [
        checkout["checkoutUrl"].as_str().unwrap().to_owned(),
        link.url.clone(),
        format!("{}/docs", app.base),
        format!("{}/healthz", app.base),
    ] {
        let r = app.http.get(&url).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(h["x-frame-options"], "DENY", "{url}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{url}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{url}: {csp}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_cut_off() {
    let app = App::spawn().await;
    let seller = app.member("stall-seller").await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = std::net::TcpStream::connect(&addr).unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    // Headers and the first bytes of a body that never completes.
    write!(
        socket,
        "PUT /api/v1/products HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":",
        seller.token
    )
    .unwrap();
    socket.flush().unwrap();
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    let n = socket.read(&mut buf).unwrap();
    answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!((400..500).contains(&status), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_the_ones_the_guide_promises() {
    let app = App::spawn().await;
    let buyer = app.member("codes-buyer").await;
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "productId": uuid::Uuid::new_v4(), "paymentMethod": "CARD", "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울", "addressDetail": "1층" },
            "returnUrl": format!("{ORIGIN}/paid"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 404).await["code"], "PRODUCT_NOT_FOUND");

    // An empty return address is named as such.
    let (buyer, seller, id) = app.paid_trade("codes").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    app.act(
        &buyer,
        &id,
        "return-request",
        json!({ "reason": "상품 불량", "returnShippingPayer": "SELLER" }),
    )
    .await;
    let r = app
        .member_call(
            &seller,
            Method::POST,
            &format!("/api/v1/trades/{id}/return-agree"),
        )
        .json(&json!({ "returnAddress": "  " }))
        .send()
        .await
        .unwrap();
    let e = error_body(r, 400).await;
    assert_eq!(e["details"]["field"], "returnAddress", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_openapi_parameter_is_declared_where_it_is_sent() {
    let app = App::spawn().await;
    let doc: serde_json::Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let placed_in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"] == "path",
                    placed_in_path,
                    "{method} {path}: {name} declared in {}",
                    p["in"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "{checked}");
    let list = &doc["paths"]["/api/v1/trades"]["get"]["parameters"];
    let query: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(query, ["role", "status", "cursor", "limit"]);
}
