//! A member's command reads its trade once (issue 10, acceptance 4): the HTTP layer holds no party or
//! role rule of its own that would need a second read. Every statement the server's connections send
//! is recorded through diesel's instrumentation (set before any connection is made, so it is in
//! this test binary alone) and the reads of `trades` during one request are counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use escrow_e2e::App;
use reqwest::{Method, StatusCode};
use serde_json::json;

static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_statements() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            STATEMENTS.lock().unwrap().push(query.to_string());
        }
    }))
}

/// The statements recorded since the last call that read the `trades` table.
fn trade_reads_since_last_call() -> Vec<String> {
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
        .into_iter()
        .filter(|sql| {
            let sql = sql.to_ascii_lowercase();
            sql.trim_start().starts_with("select")
                && (sql.contains("from \"trades\"") || sql.contains("from trades "))
        })
        .collect()
}

/// `who` asks to ship trade `id`; the answer's status, and the reads of `trades` it caused.
async fn ship(app: &App, who: &escrow_e2e::Member, id: &str) -> (StatusCode, Vec<String>) {
    trade_reads_since_last_call();
    let r = app
        .member_call(who, Method::POST, &format!("/api/v1/trades/{id}/shipment"))
        .json(&json!({ "carrier": "005", "invoiceNumber": "612345678901" }))
        .send()
        .await
        .unwrap();
    (r.status(), trade_reads_since_last_call())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ship_request_reads_the_trade_once() {
    set_default_instrumentation(record_statements).unwrap();
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("one-read").await;
    let (status, reads) = ship(&app, &seller, &id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reads.len(), 1, "{reads:#?}");

    // The refusals are the domain's and need no more reads: the buyer on the seller's path is 403,
    // a stranger 404.
    let (status, reads) = ship(&app, &buyer, &id).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reads.len(), 1, "{reads:#?}");
    let stranger = app.member("stranger-one-read").await;
    let (status, reads) = ship(&app, &stranger, &id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reads.len(), 1, "{reads:#?}");
}
