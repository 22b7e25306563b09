//! One public shape (SPEC §9): a trade callback's `data` is exactly what `GET /api/v1/trades/{id}`
//! answers for the trade at that version, for every trade event type; and `/openapi.json` declares
//! every callback type under `webhooks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use escrow_e2e::{App, Member};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Compares the trade's latest callback (as queued in the same transaction as the change, before
/// any job moves the trade on) with the API's answer now.
async fn latest_callback_is_the_api_answer(app: &App, member: &Member, id: &str) -> String {
    let mut callbacks = Vec::new();
    for kind in ["payment.succeeded", "trade.status_changed", "trade.updated"] {
        callbacks.extend(
            app.queued_callbacks(kind)
                .await
                .into_iter()
                .filter(|b| b["data"]["tradeId"] == id),
        );
    }
    let latest = callbacks
        .iter()
        .max_by_key(|b| b["sequence"].as_i64().unwrap())
        .unwrap();
    let r = app
        .member_call(member, Method::GET, &format!("/api/v1/trades/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let api: Value = r.json().await.unwrap();
    assert_eq!(latest["data"], api, "{}", latest["type"]);
    assert_eq!(latest["sequence"], api["version"]);
    latest["type"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trade_callback_carries_the_trade_as_the_api_shows_it() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("shape").await;
    let mut types = BTreeSet::new();
    types.insert(latest_callback_is_the_api_answer(&app, &buyer, &id).await);
    // payment.succeeded and the opening's status change carry the same version: both the API's.
    let succeeded = app.queued_callbacks("payment.succeeded").await;
    let opened = app.queued_callbacks("trade.status_changed").await;
    assert_eq!(succeeded.len(), 1);
    assert_eq!(succeeded[0]["data"], opened[0]["data"]);
    types.insert("payment.succeeded".to_owned());
    // What the partner receives is what was queued.
    app.run_jobs().await;
    let received = app.receiver.bodies();
    assert!(received.contains(&succeeded[0]), "{received:?}");

    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    types.insert(latest_callback_is_the_api_answer(&app, &buyer, &id).await);
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
    types.insert(latest_callback_is_the_api_answer(&app, &buyer, &id).await);
    app.act(&buyer, &id, "approve", json!({})).await;
    types.insert(latest_callback_is_the_api_answer(&app, &seller, &id).await);
    assert_eq!(
        types,
        ["payment.succeeded", "trade.status_changed", "trade.updated"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        "every trade event type was compared"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callback_type_is_declared_under_webhooks() {
    let app = App::spawn().await;
    let doc: Value = app
        .http
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for event in [
        "payment.succeeded",
        "trade.status_changed",
        "trade.updated",
        "payment.failed",
        "payment.refunded",
        "member.signed_up",
    ] {
        let body =
            &doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert!(body.is_object(), "{event}: {}", doc["webhooks"]);
    }
    let trade_callback = &doc["components"]["schemas"]["TradeCallback"]["properties"]["data"];
    assert!(
        trade_callback.to_string().contains("TradeView"),
        "{trade_callback}"
    );
}
