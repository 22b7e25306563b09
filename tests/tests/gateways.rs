//! Gateways and the routing of methods to them come from configuration (issue 10): a second gateway
//! that exists only as a `[[gateways]]` entry takes the payments of the method routed to it, end to
//! end — start page, browser return, notification at its own callback URL, verification against its
//! own merchant id — while the first gateway never hears of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;

use escrow_domain::contract::PaymentMethod;
use escrow_e2e::{trade_id_in, unifipay_gateway, App};
use escrow_server::config::GatewaySettings;
use escrow_unifipay::simulator::{Simulator, SimulatorConfig, SimulatorHandle};
use reqwest::{Method, StatusCode};

/// A second PG: another simulator with its own credentials and merchant id.
fn second_pg() -> SimulatorHandle {
    Simulator::start(
        SimulatorConfig {
            app_id: "backup-app".into(),
            api_key: "backup-key".into(),
            app_secret: "backup-secret".into(),
            store_id: "backup-store".into(),
            currency: "KRW".into(),
        },
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_from_configuration_takes_a_payment_end_to_end() {
    let backup = second_pg();
    let backup_url = backup.base_url.clone();
    let app = App::spawn_with_gateways(move |first| {
        let mut unifipay = unifipay_gateway(first);
        unifipay.methods = Some(vec![PaymentMethod::Card]);
        let mut second = GatewaySettings::unifipay(
            "backup",
            &backup_url,
            "backup-app",
            "backup-key",
            "backup-secret",
            "backup-store",
        );
        second.currency = "KRW".into();
        second.methods = Some(vec![PaymentMethod::BankTransfer]);
        vec![unifipay, second]
    })
    .await;
    let buyer = app.member("buyer-routing").await;
    let seller = app.member("seller-routing").await;
    let product = app
        .product(&seller, 30_000, &["CARD", "BANK_TRANSFER"])
        .await;

    let checkout = app.checkout(&buyer, &product, "BANK_TRANSFER").await;
    let start_page = app.press_pay(&checkout).await;
    assert!(
        start_page.starts_with(&backup.base_url),
        "a bank transfer starts at the second gateway: {start_page}"
    );
    let back = app.press_at_pg(&start_page, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("result=success"), "{location}");
    let trade_id = trade_id_in(&location);

    let trade = app
        .member_call(&buyer, Method::GET, &format!("/api/v1/trades/{trade_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(trade.status(), StatusCode::OK);
    let trade: serde_json::Value = trade.json().await.unwrap();
    assert_eq!(trade["status"]["code"], 31);
    assert_eq!(trade["paymentMethod"], "BANK_TRANSFER");
    assert_eq!(
        app.text(&format!(
            "SELECT gateway || ':' || outcome AS v FROM pg_transactions \
             WHERE checkout_id = '{}' ORDER BY id LIMIT 1",
            checkout["checkoutId"].as_str().unwrap()
        ))
        .await,
        "backup:STARTED"
    );
    // The second PG's notification reached its own callback URL and was accepted.
    let notices = backup.callbacks();
    assert!(!notices.is_empty());
    assert!(notices
        .iter()
        .all(|c| c.url.ends_with("/pg/backup/callback") && c.answered == 200));

    // A card payment still goes through the first gateway, which never saw the bank transfer.
    assert!(app.sim.callbacks().is_empty());
    let product = app.product(&seller, 20_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let start_page = app.press_pay(&checkout).await;
    assert!(
        start_page.starts_with(&app.sim.base_url),
        "a card payment starts at the first gateway: {start_page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_for_an_unknown_gateway_or_in_another_format_is_refused() {
    let app = App::spawn().await;
    let r = app
        .http
        .post(format!("{}/pg/nowhere/callback", app.base))
        .json(&serde_json::json!({ "transactionId": "tx-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .http
        .post(format!("{}/pg/unifipay/callback", app.base))
        .json(&serde_json::json!({ "tid": "tx-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
