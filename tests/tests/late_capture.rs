//! A payment is never lost (SPEC §7 point 5): a browser return before paying does not fail the
//! checkout; a PG confirmation for a checkout that is no longer open is refunded in full, recorded,
//! visible to operators and told to the partner; the reconciliation job finds a late capture that no
//! callback or return reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{App, ORIGIN};
use escrow_unifipay::simulator::{Behavior, CallbackMode};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use time::Duration;

/// As the browser: presses the pay button; returns the PG start page.
async fn press_pay(app: &App, checkout: &Value) -> String {
    let to = app.press_pay(checkout).await;
    assert!(!to.starts_with(ORIGIN), "the PG did not start: {to}");
    to
}

fn transaction_of(start_page: &str) -> String {
    start_page.rsplit('/').next().unwrap().to_owned()
}

async fn checkout_status(app: &App, id: &str) -> String {
    app.text(&format!(
        "SELECT status AS v FROM checkouts WHERE id = '{id}'"
    ))
    .await
}

async fn late_refunds(app: &App) -> Vec<Value> {
    let r = app
        .admin(Method::GET, "/admin/v1/refunds")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let all: Vec<Value> = r.json().await.unwrap();
    all.into_iter()
        .filter(|r| r["reason"] == "LATE_CONFIRMATION")
        .collect()
}

async fn new_checkout(app: &App, tag: &str) -> Value {
    let buyer = app.member(&format!("buyer-{tag}")).await;
    let seller = app.member(&format!("seller-{tag}")).await;
    let product = app.product(&seller, 30_000, &["CARD"]).await;
    app.checkout(&buyer, &product, "CARD").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_before_paying_leaves_the_checkout_open_and_the_later_payment_opens_the_trade() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::Never,
        ..Behavior::default()
    });
    let checkout = new_checkout(&app, "early").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    let start = press_pay(&app, &checkout).await;
    let tid = transaction_of(&start);

    // The browser comes back before the buyer paid: Unifi Pay reports FAILED, which it also says
    // for a payment not made yet. Nothing fails; the buyer is offered to pay.
    let r = app
        .http
        .get(format!(
            "{}/checkout/{id}/return?transactionId={tid}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("결제 페이지로 돌아가기"), "{html}");
    assert_eq!(checkout_status(&app, id).await, "OPEN");
    assert!(app.queued_callbacks("payment.failed").await.is_empty());

    // Then the buyer approves on the PG's page: the trade opens.
    let back = app.press_at_pg(&start, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.contains("result=success") && to.contains("tradeId="),
        "{to}"
    );
    assert_eq!(checkout_status(&app, id).await, "PAID");
    assert!(late_refunds(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_after_the_expiry_with_no_payment_fails_the_checkout() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::Never,
        ..Behavior::default()
    });
    let checkout = new_checkout(&app, "gone").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    let start = press_pay(&app, &checkout).await;
    let tid = transaction_of(&start);
    app.clock.advance(Duration::minutes(31));
    let r = app
        .http
        .get(format!(
            "{}/checkout/{id}/return?transactionId={tid}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.contains("result=fail"), "{to}");
    assert_eq!(checkout_status(&app, id).await, "FAILED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_after_the_checkout_expired_is_refunded_recorded_and_told_to_the_partner() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::BeforeRedirect,
        ..Behavior::default()
    });
    let checkout = new_checkout(&app, "late").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    let start = press_pay(&app, &checkout).await;
    let tid = transaction_of(&start);

    // The checkout expires while the buyer is on the PG's page.
    app.clock.advance(Duration::minutes(31));
    app.run_jobs().await;
    assert_eq!(checkout_status(&app, id).await, "EXPIRED");

    // The buyer pays anyway: the PG holds the money. The callback and the return both report it.
    let back = app.press_at_pg(&start, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(
        to.contains("result=fail") && to.contains("code=PG_EXPIRED"),
        "{to}"
    );

    // Exactly one refund of the whole payment, for that transaction, and one callback.
    let refunds = late_refunds(&app).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["checkoutId"], id);
    assert_eq!(refunds[0]["tradeId"], Value::Null);
    assert_eq!(refunds[0]["amount"], checkout["amounts"]["paymentAmount"]);
    let told = app.queued_callbacks("payment.refunded").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["data"]["reason"], "LATE_CONFIRMATION");
    assert_eq!(told[0]["data"]["checkoutId"], id);
    assert_eq!(told[0]["data"]["transactionId"], tid.as_str());
    assert_eq!(
        told[0]["data"]["amount"],
        checkout["amounts"]["paymentAmount"]
    );

    // Unifi Pay has no refund call: the refund job hands it to the operators' queue.
    let report = app.run_jobs().await;
    assert_eq!(report.refunds_manual, 1, "{report:?}");
    let refunds = late_refunds(&app).await;
    assert_eq!(refunds[0]["status"], "MANUAL_QUEUE");
    // A repeated return changes nothing.
    app.http.get(&back).send().await.unwrap();
    assert_eq!(late_refunds(&app).await.len(), 1);
    assert_eq!(app.queued_callbacks("payment.refunded").await.len(), 1);
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM trades").await,
        "0",
        "no trade for an expired checkout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_job_finds_a_capture_nobody_reported() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::Never,
        ..Behavior::default()
    });
    let checkout = new_checkout(&app, "silent").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    let start = press_pay(&app, &checkout).await;
    app.clock.advance(Duration::minutes(31));
    app.run_jobs().await;
    assert_eq!(checkout_status(&app, id).await, "EXPIRED");
    // Paid at the PG; no callback comes and the browser never returns.
    app.press_at_pg(&start, "approve").await;
    assert!(late_refunds(&app).await.is_empty());

    let report = app.run_jobs().await;
    assert!(report.transactions_reconciled >= 1, "{report:?}");
    let refunds = late_refunds(&app).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["checkoutId"], id);
    assert_eq!(app.queued_callbacks("payment.refunded").await.len(), 1);

    // Refunded transactions are not queried again.
    let report = app.run_jobs().await;
    assert_eq!(report.transactions_reconciled, 0, "{report:?}");
    assert_eq!(late_refunds(&app).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_transaction_of_a_paid_checkout_is_refunded_and_the_trade_keeps_the_first() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::Never,
        ..Behavior::default()
    });
    let checkout = new_checkout(&app, "twice").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    // The buyer pressed pay in two tabs: two transactions for one checkout.
    let first = press_pay(&app, &checkout).await;
    let second = press_pay(&app, &checkout).await;
    assert_ne!(transaction_of(&first), transaction_of(&second));

    let back = app.press_at_pg(&first, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("result=success"), "{to}");

    let back = app.press_at_pg(&second, "approve").await;
    let r = app.http.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let refunds = late_refunds(&app).await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(
        app.text(&format!(
            "SELECT pg_transaction_id AS v FROM refunds WHERE checkout_id = '{id}'"
        ))
        .await,
        transaction_of(&second)
    );
    // The trade's own refunds go to the transaction that paid it.
    assert_eq!(
        app.text(&format!(
            "SELECT pg_transaction_id AS v FROM checkouts WHERE id = '{id}'"
        ))
        .await,
        transaction_of(&first)
    );
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM trades").await,
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_reconciliation_batch_goes_round_every_transaction() {
    let app = App::spawn().await;
    app.set_pg(Behavior {
        callback: CallbackMode::Never,
        ..Behavior::default()
    });
    for i in 0..3 {
        let checkout = new_checkout(&app, &format!("round{i}")).await;
        press_pay(&app, &checkout).await;
    }
    app.clock.advance(Duration::minutes(31));
    app.run_jobs().await; // expires the three checkouts (and checks each transaction once)
    app.clock.advance(Duration::minutes(1));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let run = app.server.checkouts.reconcile(1).await.unwrap();
        assert_eq!(run.checked, 1);
        seen.insert(
            app.text("SELECT transaction_id AS v FROM pg_transactions WHERE outcome = 'STARTED' ORDER BY reconciled_at DESC NULLS LAST, id DESC LIMIT 1")
                .await,
        );
    }
    assert_eq!(
        seen.len(),
        3,
        "each pass took the least recently checked: {seen:?}"
    );
}
