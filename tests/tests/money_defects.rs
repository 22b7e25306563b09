//! Regressions of money defects found by driving the service from outside: a virtual account that
//! could only die, concurrent copies of one checkout request, contract values that stopped money,
//! and a backdated delivery that skipped the buyer's inspection window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{error_body, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn va_trade(app: &App, tag: &str) -> (escrow_e2e::Member, String, String) {
    let buyer = app.member(&format!("va-buyer-{tag}")).await;
    let seller = app.member(&format!("va-seller-{tag}")).await;
    let product = app.product(&seller, 30_000, &["VIRTUAL_ACCOUNT"]).await;
    let checkout = app.checkout(&buyer, &product, "VIRTUAL_ACCOUNT").await;
    let back = app.pay(&checkout, "approve").await;
    (buyer, escrow_e2e::trade_id_in(&back), product)
}

async fn product_status(app: &App, product: &str) -> String {
    app.text(&format!(
        "SELECT status AS v FROM products WHERE id = '{product}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buyer_and_the_operator_cancel_an_unpaid_virtual_account() {
    let app = App::spawn().await;
    let (buyer, id, product) = va_trade(&app, "buyer").await;
    let t = app
        .act(&buyer, &id, "cancel", json!({ "reason": "단순변심" }))
        .await;
    assert_eq!(t["status"]["code"], 14);
    assert_eq!(product_status(&app, &product).await, "ON_SALE");

    let (_, id, product) = va_trade(&app, "operator").await;
    let r = app
        .admin(Method::POST, &format!("/admin/v1/trades/{id}/cancel"))
        .json(&json!({ "reason": "입금 불가" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(app.admin_trade(&id).await["status"]["code"], 14);
    assert_eq!(product_status(&app, &product).await, "ON_SALE");
    let used = app
        .text("SELECT coalesce(sum(used), 0)::text AS v FROM seller_limit_usage")
        .await;
    assert_eq!(used, "0", "the limits are released");
    // Nothing was paid, so nothing is refunded.
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM refunds").await,
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_copies_of_one_checkout_request_answer_the_same_checkout() {
    let app = App::spawn().await;
    let buyer = app.member("copies-buyer").await;
    let seller = app.member("copies-seller").await;
    for round in 0..8 {
        let product = app.product(&seller, 20_000, &["CARD"]).await;
        let key = format!("copy-{round}-{}", uuid::Uuid::new_v4());
        let body = json!({
            "productId": product,
            "paymentMethod": "CARD",
            "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울시 중구 세종대로 110", "addressDetail": "1층" },
            "returnUrl": "https://market.example/paid",
        });
        let copies = (0..4).map(|_| {
            app.member_call(&buyer, Method::POST, "/api/v1/checkouts")
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
        });
        let answers = futures::future::join_all(copies).await;
        let mut ids = Vec::new();
        for r in answers {
            let r = r.unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "round {round}: {status} {body}"
            );
            ids.push(body["checkoutId"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_values_past_their_bounds_are_refused_by_name() {
    let app = App::spawn().await;
    let id = app.partner.id;
    let current: Value = app
        .admin(Method::GET, &format!("/admin/v1/partners/{id}/contract"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let contract = current.get("contract").cloned().unwrap_or(current);
    for (field, value) in [
        ("checkoutExpiryMinutes", json!(4_294_967_295u64)),
        ("depositDeadlineHours", json!(4_294_967_295u64)),
        ("autoApprovalBusinessDays", json!(4_294_967_295u64)),
        ("autoCancelAgreementBusinessDays", json!(1_000)),
    ] {
        let mut c = contract.clone();
        c["timers"][field] = value;
        let r = app
            .admin(Method::PUT, &format!("/admin/v1/partners/{id}/contract"))
            .json(&c)
            .send()
            .await
            .unwrap();
        let body = error_body(r, 400).await;
        assert!(
            body.to_string().contains(field),
            "{field} not named: {body}"
        );
    }
    // The service still takes checkouts and payments under the unchanged contract.
    app.paid_trade("bounds").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_before_the_shipment_or_in_the_future_is_refused() {
    let app = App::spawn().await;
    let (_, seller, id) = app.paid_trade("backdated").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    for delivered_at in ["1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"] {
        let r = app
            .signed(
                Method::POST,
                &format!("/api/v1/trades/{id}/delivered"),
                Some(&json!({ "deliveredAt": delivered_at })),
            )
            .send()
            .await
            .unwrap();
        let body = error_body(r, 400).await;
        assert_eq!(body["details"]["field"], "deliveredAt", "{body}");
    }
    // The job approves nothing: the inspection window has not even started.
    app.run_jobs().await;
    assert_eq!(app.admin_trade(&id).await["status"]["code"], 32);
    assert!(app.admin_trade(&id).await["deliveredAt"].is_null());
}
