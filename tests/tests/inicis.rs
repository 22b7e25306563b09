//! KG Inicis end to end over HTTP (SPEC §12): the operator routes methods to Inicis and adds its
//! merchant; card and virtual-account payments through the Inicis simulator; every failure with its
//! code; forged approvals cancelled at Inicis; refunds through INIAPI; the audit of every change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::inicis::{inicis_simulator, world_with_inicis};
use escrow_e2e::{error_body, trade_id_in, App, ORIGIN};
use escrow_inicis::simulator::{Behavior, EndpointMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The partner's return URL after an Inicis payment (a redirect), or the deposit page's onward
/// link (a virtual account).
async fn onward(r: reqwest::Response) -> String {
    if r.status() == StatusCode::OK {
        let html = r.text().await.unwrap();
        assert!(html.contains("입금 기한"), "{html}");
        let href = html.split("id=\"continue\" href=\"").nth(1).unwrap();
        return href.split('"').next().unwrap().replace("&amp;", "&");
    }
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn audit(app: &App) -> Vec<Value> {
    let r = app
        .admin(Method::GET, "/admin/v1/payment-setup/audit?limit=200")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_through_inicis_and_transfer_through_unifi_pay_after_the_operator_sets_the_flags() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    let buyer = app.member("buyer-route").await;
    let seller = app.member("seller-route").await;
    let product = app
        .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
        .await;

    // Before: CARD goes to Unifi Pay (configured first).
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let to = app.press_pay(&checkout).await;
    assert!(to.starts_with(&app.sim.base_url), "{to}");

    let merchant = app.add_inicis_merchant().await;
    assert!(merchant.to_string().contains("signKey"));
    assert!(!merchant.to_string().contains(escrow_inicis::TEST_SIGN_KEY));
    app.route_to_inicis("CARD").await;

    let product = app
        .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
        .await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let back = onward(app.pay_at_inicis(&checkout, "approve").await).await;
    assert!(
        back.starts_with(ORIGIN) && back.contains("result=success"),
        "{back}"
    );
    let trade = app.admin_trade(&trade_id_in(&back)).await;
    assert_eq!(trade["status"]["code"], 31);
    assert_eq!(sim.state().approved.len(), 1);

    let product = app
        .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
        .await;
    let checkout = app.checkout(&buyer, &product, "BANK_TRANSFER").await;
    let to = app.press_pay(&checkout).await;
    assert!(
        to.starts_with(&app.sim.base_url),
        "transfer stays at Unifi Pay: {to}"
    );
    let back = app.press_at_pg(&to, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .contains("result=success"));

    // Switching the connection off: no gateway serves CARD.
    app.set_route("inicis", "CARD", false, true).await;
    let product = app.product(&seller, 50_000, &["CARD"]).await;
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&checkout_body(&product, "CARD"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(r, 422).await["code"],
        "PAYMENT_METHOD_UNAVAILABLE"
    );

    // Back on, but without the merchant: MERCHANT_NOT_CONFIGURED.
    app.set_route("inicis", "CARD", true, true).await;
    let id = merchant["id"].as_str().unwrap();
    let r = app
        .admin(Method::DELETE, &format!("/admin/v1/merchants/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&checkout_body(&product, "CARD"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 422).await["code"], "MERCHANT_NOT_CONFIGURED");

    // Every change is in the audit, by the operator's key name, without a key's value.
    let entries = audit(&app).await;
    let by_tester: Vec<&str> = entries
        .iter()
        .filter(|e| e["actor"] == "tester")
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_tester,
        vec![
            format!("merchant {id}").as_str(),
            "route inicis CARD",
            "route unifipay CARD",
            "route inicis CARD",
            "route inicis CARD",
            format!("merchant {id}").as_str(),
        ]
    );
    let removal = entries.last().unwrap();
    assert!(removal["before"]["removedAt"].is_null());
    assert!(removal["after"]["removedAt"].is_string());
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(escrow_inicis::TEST_SIGN_KEY) && !text.contains("testiniapikey016"));
    assert!(entries.iter().any(|e| e["actor"] == "configuration"));
}

fn checkout_body(product: &str, method: &str) -> Value {
    json!({
        "productId": product,
        "paymentMethod": method,
        "tradeType": "GENERAL",
        "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울시 중구 세종대로 110", "addressDetail": "1층" },
        "returnUrl": format!("{ORIGIN}/paid"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_account_opens_at_13_and_its_deposit_notice_moves_it_to_31_once() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    app.add_inicis_merchant().await;
    app.route_to_inicis("VIRTUAL_ACCOUNT").await;
    let buyer = app.member("buyer-va").await;
    let seller = app.member("seller-va").await;
    let product = app.product(&seller, 50_000, &["VIRTUAL_ACCOUNT"]).await;
    let checkout = app.checkout(&buyer, &product, "VIRTUAL_ACCOUNT").await;
    let r = app.pay_at_inicis(&checkout, "approve").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("국민은행 56211104012345 (주)케이지이니시스"),
        "the issued account is shown: {html}"
    );
    let back = html
        .split("id=\"continue\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let id = trade_id_in(&back);
    let trade = app.admin_trade(&id).await;
    assert_eq!(trade["status"]["code"], 13);
    app.run_jobs().await;
    assert_eq!(app.alimtalks("ESCROW_B_DEPOSIT_ACCOUNT").len(), 1);

    // The buyer pays; Inicis notifies twice. The service re-queries Inicis: 13 → 31, once.
    sim.set_behavior(Behavior {
        duplicate_deposit_notice: true,
        ..Behavior::default()
    });
    let tid = sim.state().approved[0].clone();
    let answers: Vec<u16> = app
        .http
        .post(format!("{}/_sim/deposit/{tid}", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answers, vec![200, 200]);
    let trade = app.admin_trade(&id).await;
    assert_eq!(trade["status"]["code"], 31);
    let paid: i64 = app
        .text(&format!(
            "SELECT count(*)::text AS v FROM trade_events WHERE command = 'CONFIRM_DEPOSIT' AND trade_id = '{id}'"
        ))
        .await
        .parse()
        .unwrap();
    assert_eq!(paid, 1, "the duplicate notice changed nothing");

    // A notice naming an unknown transaction is refused; Inicis will retry what it really sent.
    let r = app
        .http
        .post(format!("{}/pg/inicis/callback", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("no_tid=StdpayUnknown&no_oid=x&amt_input=1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inicis_failure_has_its_code_and_forged_approvals_are_net_cancelled() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    app.add_inicis_merchant().await;
    app.route_to_inicis("CARD").await;
    let buyer = app.member("buyer-fail").await;
    let seller = app.member("seller-fail").await;
    let cases: Vec<(&str, Behavior, &str)> = vec![
        ("decline", Behavior::default(), "PG_DECLINED"),
        (
            "approve",
            Behavior {
                decline: true,
                ..Behavior::default()
            },
            "PG_DECLINED",
        ),
        (
            "approve",
            Behavior {
                pay_auth: EndpointMode::ServerError,
                ..Behavior::default()
            },
            "PG_UNAVAILABLE",
        ),
        (
            "approve",
            Behavior {
                pay_auth: EndpointMode::Hang,
                hang_ms: Some(3_000),
                ..Behavior::default()
            },
            "PG_UNAVAILABLE",
        ),
        (
            "approve",
            Behavior {
                forge_auth_signature: true,
                ..Behavior::default()
            },
            "PG_AMOUNT_MISMATCH",
        ),
        (
            "approve",
            Behavior {
                other_amount: true,
                ..Behavior::default()
            },
            "PG_AMOUNT_MISMATCH",
        ),
    ];
    for (decision, behavior, code) in cases {
        sim.set_behavior(behavior.clone());
        let product = app.product(&seller, 50_000, &["CARD"]).await;
        let checkout = app.checkout(&buyer, &product, "CARD").await;
        let approved_before = sim.state().approved.len();
        let back = onward(app.pay_at_inicis(&checkout, decision).await).await;
        assert!(
            back.contains("result=fail") && back.contains(&format!("code={code}")),
            "{behavior:?}: {back}"
        );
        let state = sim.state();
        if code == "PG_AMOUNT_MISMATCH" {
            let tid = state.approved.last().unwrap();
            assert!(
                state.net_cancelled.contains(tid),
                "{behavior:?}: net-cancelled"
            );
        }
        if state.approved.len() > approved_before && code != "PG_AMOUNT_MISMATCH" {
            panic!("{behavior:?}: an approval was left standing");
        }
        // The product is on sale again: nothing was reserved by the failed payment.
        let c = app
            .member_call(
                &buyer,
                Method::GET,
                &format!(
                    "/api/v1/checkouts/{}",
                    checkout["checkoutId"].as_str().unwrap()
                ),
            )
            .send()
            .await
            .unwrap();
        let c: Value = c.json().await.unwrap();
        assert_eq!(c["status"], "FAILED", "{behavior:?}: {c}");
    }
    // Nothing approved by Inicis stands: every forged approval was cancelled.
    let state = sim.state();
    assert_eq!(state.approved.len(), state.net_cancelled.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_refund_card_payments_through_iniapi() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    app.add_inicis_merchant().await;
    app.route_to_inicis("CARD").await;
    let mut refunded = 0;
    for (tag, how) in [("c35", "agree"), ("c36", "sale"), ("c37", "operator")] {
        let buyer = app.member(&format!("buyer-{tag}")).await;
        let seller = app.member(&format!("seller-{tag}")).await;
        let product = app.product(&seller, 50_000, &["CARD"]).await;
        let checkout = app.checkout(&buyer, &product, "CARD").await;
        let back = onward(app.pay_at_inicis(&checkout, "approve").await).await;
        let id = trade_id_in(&back);
        let expected = match how {
            "agree" => {
                app.act(&buyer, &id, "cancel", json!({ "reason": "단순변심" }))
                    .await;
                app.act(&seller, &id, "cancel-agree", json!({})).await
            }
            "sale" => {
                app.act(&seller, &id, "sale-cancel", json!({ "reasonCode": 32 }))
                    .await
            }
            _ => {
                let r = app
                    .admin(Method::POST, &format!("/admin/v1/trades/{id}/cancel"))
                    .json(&json!({ "reason": "사기 의심" }))
                    .send()
                    .await
                    .unwrap();
                r.json().await.unwrap()
            }
        };
        let code = expected["status"]["code"].as_u64().unwrap();
        assert!((35..=37).contains(&code), "{expected}");
        let report = app.run_jobs().await;
        assert_eq!(
            (report.refunds_done, report.refunds_manual),
            (1, 0),
            "{tag}"
        );
        refunded += 1;
        assert_eq!(sim.state().refunded.len(), refunded);
    }
    // A refund Inicis refuses goes to the operators' queue, never lost.
    sim.set_behavior(Behavior {
        refuse_refunds: true,
        ..Behavior::default()
    });
    let buyer = app.member("buyer-refused").await;
    let seller = app.member("seller-refused").await;
    let product = app.product(&seller, 50_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    sim.set_behavior(Behavior::default());
    let back = onward(app.pay_at_inicis(&checkout, "approve").await).await;
    let id = trade_id_in(&back);
    app.act(&seller, &id, "sale-cancel", json!({ "reasonCode": 32 }))
        .await;
    sim.set_behavior(Behavior {
        refuse_refunds: true,
        ..Behavior::default()
    });
    let report = app.run_jobs().await;
    assert_eq!((report.refunds_done, report.refunds_manual), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtual_account_payment_is_refunded_to_the_buyers_verified_refund_account() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    app.add_inicis_merchant().await;
    app.route_to_inicis("VIRTUAL_ACCOUNT").await;
    let buyer = app.member("buyer-varefund").await;
    let seller = app.member("seller-varefund").await;
    let product = app.product(&seller, 50_000, &["VIRTUAL_ACCOUNT"]).await;
    let checkout = app.checkout(&buyer, &product, "VIRTUAL_ACCOUNT").await;
    let id = trade_id_in(&onward(app.pay_at_inicis(&checkout, "approve").await).await);
    let tid = sim.state().approved[0].clone();
    app.http
        .post(format!("{}/_sim/deposit/{tid}", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(app.admin_trade(&id).await["status"]["code"], 31);
    app.act(&seller, &id, "sale-cancel", json!({ "reasonCode": 32 }))
        .await;

    // No refund account yet: the refund waits, nothing is sent to Inicis and nothing is lost.
    let report = app.run_jobs().await;
    assert_eq!((report.refunds_done, report.refunds_manual), (0, 0));
    assert!(sim.state().refunded.is_empty());
    let queue: Value = app
        .admin(Method::GET, "/admin/v1/refunds")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waiting: Vec<&Value> = queue
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["tradeId"] == id.as_str())
        .collect();
    assert_eq!(waiting.len(), 1, "operators see it: {queue}");
    assert_eq!(
        (waiting[0]["status"].as_str(), waiting[0]["detail"].as_str()),
        (
            Some("PENDING"),
            Some("waiting for the buyer's refund account")
        )
    );
    let r = app
        .member_call(&buyer, Method::GET, "/api/v1/refund-account")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 404).await["code"], "NOT_FOUND");

    // The holder must be the bank's.
    app.accounts.add_account("21", "110123456789", "이순신");
    let r = app
        .member_call(&buyer, Method::PUT, "/api/v1/refund-account")
        .json(
            &json!({ "bankCode": "21", "accountNumber": "110-123-456789", "holderName": "홍길동" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 422).await["code"], "ACCOUNT_HOLDER_MISMATCH");
    let r = app
        .member_call(&buyer, Method::PUT, "/api/v1/refund-account")
        .json(
            &json!({ "bankCode": "21", "accountNumber": "110-123-456789", "holderName": "이순신" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown: Value = r.json().await.unwrap();
    assert_eq!(shown["accountNumber"], "110-***-6789");
    assert_eq!(shown["holderName"], "이*신");
    let stored = app
        .text("SELECT number_sealed || holder_sealed AS v FROM refund_accounts")
        .await;
    assert!(stored.starts_with("sealed:") && !stored.contains("110123456789"));

    // The next refund run pays it back there, through INIAPI with the number encrypted.
    let report = app.run_jobs().await;
    assert_eq!((report.refunds_done, report.refunds_manual), (1, 0));
    assert_eq!(
        sim.state().refunded_to,
        vec![(tid, "21".into(), "110123456789".into(), "이순신".into())]
    );
}
