//! The events API (SPEC §18) over HTTP: every callback of a flow is listed with its delivery
//! attempts, filters and paging work, redelivery sends the same `eventId`, and a partner sees only
//! its own events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use escrow_e2e::{create_partner, error_body, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn events(app: &App, query: &str) -> Value {
    let r = app
        .signed(Method::GET, &format!("/api/v1/events{query}"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn ids(page: &Value) -> BTreeSet<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_callback_of_a_flow_is_listed_with_its_attempts_and_can_be_sent_again() {
    let app = App::spawn().await;
    let (buyer, seller, trade) = app.paid_trade("events").await;
    app.act(
        &seller,
        &trade,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "1234" }),
    )
    .await;
    // The partner is down for the first attempt of what is queued now.
    app.receiver.set_down(true);
    app.run_jobs().await;
    let failed = events(&app, "?delivered=false").await;
    assert!(!failed["items"].as_array().unwrap().is_empty(), "{failed}");
    for e in failed["items"].as_array().unwrap() {
        assert_eq!(e["deliveryStatus"], "PENDING", "{e}");
        assert_eq!(e["attempts"][0]["outcome"], "FAILED", "{e}");
        assert!(e["attempts"][0]["detail"].is_string(), "{e}");
    }
    app.receiver.set_down(false);
    app.clock.advance(time::Duration::minutes(10));
    app.run_jobs().await;
    app.act(&buyer, &trade, "approve", json!({})).await;
    app.run_jobs().await;

    // Everything the partner received is listed once, delivered, with every attempt.
    let received: BTreeSet<String> = app
        .receiver
        .bodies()
        .iter()
        .map(|b| b["eventId"].as_str().unwrap().to_owned())
        .collect();
    let all = events(&app, "?limit=100").await;
    assert_eq!(ids(&all), received);
    assert!(all["nextCursor"].is_null());
    for e in all["items"].as_array().unwrap() {
        assert_eq!(e["deliveryStatus"], "DELIVERED", "{e}");
        assert_eq!(
            e["attempts"].as_array().unwrap().last().unwrap()["outcome"],
            "DELIVERED"
        );
        assert_eq!(e["body"]["eventId"], e["eventId"]);
        assert_eq!(e["body"]["type"], e["type"]);
    }
    let types: BTreeSet<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains("payment.succeeded"), "{types:?}");
    assert!(types.contains("trade.status_changed"), "{types:?}");
    assert!(events(&app, "?delivered=false").await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // Filters: type, trade, created after; paging one at a time covers the same events.
    let succeeded = events(&app, "?type=payment.succeeded").await;
    assert_eq!(succeeded["items"].as_array().unwrap().len(), 1);
    let of_trade = events(&app, &format!("?tradeId={trade}&limit=100")).await;
    assert!(of_trade["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["tradeId"] == trade.as_str()));
    assert!(!of_trade["items"].as_array().unwrap().is_empty());
    let later = (escrow_domain::ports::Clock::now(&app.clock) + time::Duration::minutes(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(
        events(&app, &format!("?createdAfter={later}")).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mut paged = BTreeSet::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let page = events(&app, &query).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        paged.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(paged, received);
    for bad in [
        "?limit=0",
        "?cursor=x",
        "?tradeId=x",
        "?createdAfter=yesterday",
        "?type=A%20B",
    ] {
        let r = app
            .signed(Method::GET, &format!("/api/v1/events{bad}"), None)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_body(r, 400).await["code"],
            "VALIDATION_FAILED",
            "{bad}"
        );
    }

    // Redelivery: the same body and eventId again.
    let event = &succeeded["items"][0];
    let id = event["eventId"].as_str().unwrap();
    let r = app
        .signed(
            Method::POST,
            &format!("/api/v1/events/{id}/redeliver"),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["deliveryStatus"],
        "PENDING"
    );
    app.run_jobs().await;
    let copies: Vec<Value> = app
        .receiver
        .bodies()
        .into_iter()
        .filter(|b| b["eventId"] == id)
        .collect();
    assert_eq!(copies.len(), 2);
    assert_eq!(copies[0], copies[1]);
    let again = events(&app, "?type=payment.succeeded").await;
    let before = event["attempts"].as_array().unwrap().len();
    let attempts = again["items"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), before + 1);
    assert_eq!(attempts[before]["outcome"], "DELIVERED");
    assert_eq!(again["items"][0]["deliveryStatus"], "DELIVERED");

    // Another partner sees none of it and cannot redeliver it.
    let partner_b = create_partner(&app.db, "events-b").await;
    let r = app
        .signed_as(&partner_b, Method::GET, "/api/v1/events", None)
        .send()
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let r = app
        .signed_as(
            &partner_b,
            Method::POST,
            &format!("/api/v1/events/{id}/redeliver"),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    let r = app
        .signed(
            Method::POST,
            &format!("/api/v1/events/{}/redeliver", uuid::Uuid::new_v4()),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
}
