//! Whole journeys over HTTP: signup → token → product → checkout → PG → trade, and every ending.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{App, ORIGIN};
use escrow_unifipay::simulator::{Behavior, EndpointMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn trade(app: &App, who: &escrow_e2e::Member, id: &str) -> Value {
    let r = app
        .member_call(who, Method::GET, &format!("/api/v1/trades/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_to_completed_trade_with_its_payout_date() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("happy").await;
    let t = trade(&app, &buyer, &id).await;
    assert_eq!(t["status"]["code"], 31);
    assert_eq!(t["withdrawal"]["code"], 80);
    assert_eq!(t["amounts"]["paymentAmount"], 53_000);
    assert_eq!(t["amounts"]["escrowFee"], 1_961 + 1_000);
    // The partner got member.signed_up (with the member key) and payment.succeeded, queued.
    assert_eq!(app.queued_callbacks("member.signed_up").await.len(), 2);
    let succeeded = app.queued_callbacks("payment.succeeded").await;
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0]["data"]["tradeId"], id.as_str());

    let t = app
        .act(
            &seller,
            &id,
            "shipment",
            json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
        )
        .await;
    assert_eq!(t["status"]["code"], 32);
    assert_eq!(t["shipment"]["carrierName"], "CJ 대한통운");
    let r = app
        .signed(
            Method::POST,
            &format!("/api/v1/trades/{id}/delivered"),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert!(t["deliveredAt"].is_string() && t["autoApprovalAt"].is_string());
    let t = app.act(&buyer, &id, "approve", json!({})).await;
    assert_eq!(t["status"]["code"], 33);
    assert_eq!(t["withdrawal"]["code"], 80);
    assert!(t["payoutDate"].as_str().unwrap().len() == 10, "{t}");
    assert_eq!(t["amounts"]["sellerPayout"], 53_000 - 2_961);

    let events: Value = app
        .member_call(&seller, Method::GET, &format!("/api/v1/trades/{id}/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let commands: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "OPEN",
            "REGISTER_SHIPMENT",
            "REPORT_DELIVERY",
            "APPROVE_PURCHASE"
        ]
    );
    let list: Value = app
        .member_call(&buyer, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let no = list["items"][0]["partnerTradeNo"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_no: Value = app
        .member_call(
            &seller,
            Method::GET,
            &format!("/api/v1/trades/by-partner-no/{no}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_no["tradeId"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buyer_cancel_agreed_by_the_seller_refunds_82() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("cancel").await;
    let t = app
        .act(&buyer, &id, "cancel", json!({ "reason": "단순변심" }))
        .await;
    assert_eq!(t["status"]["code"], 34);
    let t = app.act(&seller, &id, "cancel-agree", json!({})).await;
    assert_eq!(
        (t["status"]["code"].clone(), t["withdrawal"]["code"].clone()),
        (json!(35), json!(82))
    );
    // The refund job asks the PG; Unifi Pay has no refund call, so it goes to the operators' queue.
    let report = app.run_jobs().await;
    assert_eq!((report.refunds_done, report.refunds_manual), (0, 1));
    let queue: Value = app
        .admin(Method::GET, "/admin/v1/refunds")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<&Value> = queue
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["tradeId"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (
            mine[0]["amount"].as_i64(),
            mine[0]["status"].as_str(),
            mine[0]["withdrawalCode"].as_u64()
        ),
        (Some(53_000), Some("MANUAL_QUEUE"), Some(82))
    );
    assert_eq!(app.run_jobs().await.refunds_manual, 0, "handed over once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seller_sale_cancel_is_36_and_operator_cancel_is_37() {
    let app = App::spawn().await;
    let (_, seller, id) = app.paid_trade("sale").await;
    let t = app
        .act(&seller, &id, "sale-cancel", json!({ "reasonCode": 32 }))
        .await;
    assert_eq!(
        (t["status"]["code"].clone(), t["withdrawal"]["code"].clone()),
        (json!(36), json!(81))
    );

    let (_, seller, id) = app.paid_trade("oper").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "004", "invoiceNumber": "1234" }),
    )
    .await;
    let r = app
        .admin(Method::POST, &format!("/admin/v1/trades/{id}/cancel"))
        .json(&json!({ "reason": "사기 의심" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        (t["status"]["code"].clone(), t["withdrawal"]["code"].clone()),
        (json!(37), json!(85))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_goes_51_52_53_54_with_a_refund_date() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("return").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    let t = app
        .act(
            &buyer,
            &id,
            "return-request",
            json!({ "reason": "상품 불량", "returnShippingPayer": "SELLER" }),
        )
        .await;
    assert_eq!(t["status"]["code"], 51);
    let t = app
        .act(
            &seller,
            &id,
            "return-agree",
            json!({ "returnAddress": "서울시 중구 세종대로 110" }),
        )
        .await;
    assert_eq!(t["status"]["code"], 52);
    let t = app
        .act(
            &buyer,
            &id,
            "return-shipment",
            json!({ "carrier": "010", "invoiceNumber": "55554444" }),
        )
        .await;
    assert_eq!(t["status"]["code"], 53);
    let t = app.act(&seller, &id, "return-complete", json!({})).await;
    assert_eq!(t["status"]["code"], 54);
    assert_eq!(t["withdrawal"]["code"], 80);
    assert!(t["refundDate"].is_string());
}

async fn failed_payment(app: &App, tag: &str, button: &str) -> (String, String) {
    let buyer = app.member(&format!("buyer-{tag}")).await;
    let seller = app.member(&format!("seller-{tag}")).await;
    let product = app.product(&seller, 20_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let id = checkout["checkoutId"].as_str().unwrap().to_owned();
    let back = app.pay(&checkout, button).await;
    assert!(
        back.starts_with(&format!("{ORIGIN}/paid?checkoutId={id}&result=fail&code=")),
        "{back}"
    );
    let code = back.split("code=").nth(1).unwrap().to_owned();
    // The product is on sale again: a new checkout on it works.
    app.checkout(&buyer, &product, "CARD").await;
    (id, code)
}

async fn partner_was_told(app: &App, checkout: &str, code: &str) {
    let failed = app.queued_callbacks("payment.failed").await;
    assert!(
        failed
            .iter()
            .any(|c| c["data"]["checkoutId"] == checkout && c["data"]["code"] == code),
        "payment.failed {code} for {checkout}: {failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_payment_is_pg_declined() {
    let app = App::spawn().await;
    // The PG's decline notice (its callback) fails the checkout; a browser return alone would not
    // (Unifi Pay says FAILED also for a payment not made yet, SPEC §7 point 5).
    app.set_pg(Behavior {
        callback: escrow_unifipay::simulator::CallbackMode::BeforeRedirect,
        ..Behavior::default()
    });
    let (checkout, code) = failed_payment(&app, "decline", "decline").await;
    assert_eq!(code, "PG_DECLINED");
    partner_was_told(&app, &checkout, "PG_DECLINED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_amount_is_pg_amount_mismatch() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        wrong_amount: true,
        ..Behavior::default()
    });
    let (checkout, code) = failed_payment(&app, "forged", "approve").await;
    assert_eq!(code, "PG_AMOUNT_MISMATCH");
    partner_was_told(&app, &checkout, "PG_AMOUNT_MISMATCH").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_timeout_is_pg_unavailable() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        create: EndpointMode::Hang,
        hang_ms: Some(3_000),
        ..Behavior::default()
    });
    let (checkout, code) = failed_payment(&app, "timeout", "approve").await;
    assert_eq!(code, "PG_UNAVAILABLE");
    partner_was_told(&app, &checkout, "PG_UNAVAILABLE").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pg_callback_and_the_browser_return_settle_once() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: escrow_unifipay::simulator::CallbackMode::Twice,
        ..Behavior::default()
    });
    let (buyer, _, id) = app.paid_trade("twice").await;
    let list: Value = app
        .member_call(&buyer, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["tradeId"], id.as_str());
    assert_eq!(app.queued_callbacks("payment.succeeded").await.len(), 1);
    assert!(
        app.sim.callbacks().iter().all(|c| c.answered == 200),
        "{:?}",
        app.sim.callbacks()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_withdraws_only_without_open_trades_and_cannot_rejoin_the_same_day() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("leaver").await;
    let withdraw = |user: String| {
        app.signed(
            Method::POST,
            &format!("/api/v1/members/{user}/withdrawal"),
            Some(&json!({})),
        )
        .send()
    };
    let r = withdraw(buyer.user.clone()).await.unwrap();
    assert_eq!(
        escrow_e2e::error_body(r, 409).await["code"],
        "MEMBER_HAS_OPEN_TRADES"
    );
    app.act(&seller, &id, "sale-cancel", json!({ "reasonCode": 37 }))
        .await;
    let r = withdraw(buyer.user.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "WITHDRAWN");
    let status: Value = app
        .signed(
            Method::GET,
            &format!("/api/v1/members/{}/status", buyer.user),
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "WITHDRAWN");
    let r = app
        .signed(
            Method::POST,
            "/api/v1/members/signup",
            Some(&json!({ "partnerUserId": buyer.user, "returnUrl": format!("{ORIGIN}/x") })),
        )
        .send()
        .await
        .unwrap();
    let body = escrow_e2e::error_body(r, 403).await;
    assert_eq!(
        (body["code"].as_str(), body["details"]["reason"].as_str()),
        (Some("SIGNUP_NOT_ALLOWED"), Some("REJOIN_WITHIN_A_DAY"))
    );
    // A withdrawn member's key no longer gets a token.
    let r = app
        .signed(
            Method::POST,
            "/api/v1/auth/token",
            Some(&json!({ "partnerUserId": buyer.user, "memberKey": "x".repeat(64) })),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_signup_refuses_foreigners_and_children_under_14() {
    let app = App::spawn().await;
    for (user, birth, nationality, reason) in [
        ("foreigner", "1990-01-01", "FOREIGN", "FOREIGNER"),
        ("child", "2020-01-01", "KR", "UNDER_14"),
    ] {
        let link = app.open_signup(&app.partner, user, "/joined").await;
        let (id, sig) = (link.id.as_str(), link.sig.as_str());
        let form = [
            ("sig", sig),
            ("term_SERVICE", "2024-01"),
            ("term_PRIVACY", "2024-01"),
            ("term_EFINANCE", "2024-01"),
            ("name", "테스트"),
            ("birthDate", birth),
            ("phone", "01099998888"),
            ("nationality", nationality),
        ];
        let r = app
            .http
            .post(format!("{}/signup/{id}", app.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        // Back to the partner with the code (docs/api.md), not a page of ours.
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{user}");
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            format!("{ORIGIN}/joined?signupSessionId={id}&result=fail&code={reason}")
        );
        let s: Value = app
            .signed(Method::GET, &format!("/api/v1/members/signup/{id}"), None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (s["status"].as_str(), s["refusalReason"].as_str()),
            (Some("REFUSED"), Some(reason))
        );
        assert!(s["memberKey"].is_null());
        let status: Value = app
            .signed(Method::GET, &format!("/api/v1/members/{user}/status"), None)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["status"], "NONE");
    }
    // Missing terms: the form comes back with a message and nothing is stored.
    let link = app.open_signup(&app.partner, "hasty", "/joined").await;
    let (id, sig) = (link.id.as_str(), link.sig.as_str());
    let r = app
        .http
        .post(format!("{}/signup/{id}", app.base))
        .form(&[
            ("sig", sig),
            ("term_SERVICE", "2024-01"),
            ("name", "a"),
            ("birthDate", "1990-01-01"),
            ("phone", "01012341234"),
            ("nationality", "KR"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("필수 약관"));
    // A tampered link opens nothing.
    let r = app
        .http
        .get(format!("{}/signup/{id}?sig=00", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
