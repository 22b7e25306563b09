//! Jobs with a controlled clock: each fires a minute after its time and not a minute before; the
//! outbox then delivers the AlimTalks (to the AlimTalk simulator) and the signed callbacks (to the
//! partner's receiver).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{phone_of, App, WEBHOOK_SECRET};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

const MINUTE: Duration = Duration::minutes(1);

async fn status(app: &App, id: &str) -> (u64, u64) {
    let t = app.admin_trade(id).await;
    (
        t["status"]["code"].as_u64().unwrap(),
        t["withdrawal"]["code"].as_u64().unwrap(),
    )
}

/// Runs the jobs at `at` and returns the trade's (status, withdrawal) afterwards.
async fn at(app: &App, when: OffsetDateTime, id: &str) -> (u64, u64) {
    app.clock.set(when);
    app.run_jobs().await;
    status(app, id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reminders_automatic_approval_and_payout_fire_on_time() {
    let app = App::spawn().await;
    let (buyer, seller, id) = app.paid_trade("timers").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
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
    let buyer_phone = phone_of(&buyer.user);
    let seller_phone = phone_of(&seller.user);

    // The delivered-day request goes at once.
    app.run_jobs().await;
    assert_eq!(
        app.alimtalks("ESCROW_B_APPROVAL_REQUEST_DELIVERED"),
        std::slice::from_ref(&buyer_phone)
    );
    assert_eq!(
        app.alimtalks("ESCROW_B_SHIPPED"),
        std::slice::from_ref(&buyer_phone)
    );
    assert_eq!(
        app.alimtalks("ESCROW_S_SHIP_REQUEST"),
        std::slice::from_ref(&seller_phone)
    );

    // −3 and −1 business days, then the approval itself.
    for (timer, code) in [
        ("APPROVAL_REMINDER_3", "ESCROW_B_APPROVAL_REQUEST"),
        ("APPROVAL_REMINDER_1", "ESCROW_B_APPROVAL_REMINDER"),
    ] {
        let due = app.due(&id, timer).await;
        at(&app, due - MINUTE, &id).await;
        assert!(app.alimtalks(code).is_empty(), "{code} a minute early");
        at(&app, due + MINUTE, &id).await;
        assert_eq!(
            app.alimtalks(code),
            std::slice::from_ref(&buyer_phone),
            "{code}"
        );
    }
    let approval = app.due(&id, "AUTO_APPROVAL").await;
    assert_eq!(at(&app, approval - MINUTE, &id).await, (32, 80));
    assert_eq!(at(&app, approval + MINUTE, &id).await, (33, 80));
    assert_eq!(
        app.alimtalks("ESCROW_S_APPROVED"),
        std::slice::from_ref(&seller_phone)
    );
    let t = app.admin_trade(&id).await;
    assert!(t["payoutDate"].is_string());

    let payout = app.due(&id, "PAYOUT").await;
    assert_eq!(at(&app, payout - MINUTE, &id).await, (33, 80));
    assert_eq!(at(&app, payout + MINUTE, &id).await, (33, 83));
    assert!(app.timers(&id).await.is_empty());
    let instructed = app
        .text(&format!(
            "SELECT status AS v FROM payouts WHERE trade_id = '{id}'"
        ))
        .await;
    assert_eq!(instructed, "INSTRUCTED");
    // The bundled instructor recorded the line of the bank transfer file.
    let line = app
        .text(&format!("SELECT concat_ws(',', seller_id, amount, currency) AS v FROM payout_instructions WHERE trade_id = '{id}'"))
        .await;
    assert_eq!(line, format!("{},50039,KRW", seller.id));
    let file = app
        .admin(Method::GET, "/admin/v1/payouts/bank-file")
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let csv = file.text().await.unwrap();
    assert!(
        csv.starts_with("payout_id,trade_id,bank_code,bank_name,account_number,account_holder,amount,currency,due_date\n"),
        "{csv}"
    );
    // The account the seller registered, not the member id.
    let account = escrow_e2e::account_number_of(&seller.user);
    assert!(
        csv.contains(&format!("{id},90,카카오뱅크,{account},홍길동,50039,KRW,")),
        "{csv}"
    );
    assert!(!csv.contains(&seller.id), "{csv}");

    // Every change reached the partner, signed, once per event, in sequence.
    let callbacks: Vec<(Value, String)> = app.receiver.received.lock().unwrap().clone();
    let mine: Vec<&(Value, String)> = callbacks
        .iter()
        .filter(|(b, _)| b["data"]["tradeId"] == id.as_str())
        .collect();
    let sequences: Vec<i64> = mine
        .iter()
        .map(|(b, _)| b["sequence"].as_i64().unwrap())
        .collect();
    let mut sorted = sequences.clone();
    sorted.sort();
    sorted.dedup();
    // 1 opened (payment.succeeded and trade.status_changed), 2 shipped, 3 delivered, 4–6 the three
    // reminders (no callback), 7 approved (and trade.payout_scheduled), 8 paid out (and, once
    // instructed, trade.paid_out).
    assert_eq!(sorted, [1, 2, 3, 7, 8], "{sequences:?}");
    assert_eq!(sequences.len(), 8, "one callback per event: {sequences:?}");
    // The jobs ran days ahead on the test clock, yet every signature is of the real time of sending:
    // a receiver checking against its own clock accepts it.
    for (body, signature) in &mine {
        let raw = serde_json::to_vec(body).unwrap();
        let real_now = OffsetDateTime::now_utc().unix_timestamp();
        escrow_callbacks::verify(signature, &raw, WEBHOOK_SECRET, real_now).unwrap();
    }
    let batch = app
        .text(&format!("SELECT string_agg(command, ',' ORDER BY sequence) AS v FROM trade_events WHERE trade_id = '{id}' AND actor_role = 'BATCH'"))
        .await;
    assert_eq!(batch, "REMIND,REMIND,REMIND,APPROVE_PURCHASE,PAY_OUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_virtual_account_is_reminded_at_5_hours_and_cancelled_at_24() {
    let app = App::spawn().await;
    let buyer = app.member("va-buyer").await;
    let seller = app.member("va-seller").await;
    let product = app.product(&seller, 30_000, &["VIRTUAL_ACCOUNT"]).await;
    let checkout = app.checkout(&buyer, &product, "VIRTUAL_ACCOUNT").await;
    let back = app.pay(&checkout, "approve").await;
    let id = escrow_e2e::trade_id_in(&back);
    assert_eq!(status(&app, &id).await, (13, 80));
    app.run_jobs().await;
    assert_eq!(
        app.alimtalks("ESCROW_B_DEPOSIT_ACCOUNT"),
        [phone_of(&buyer.user)]
    );

    let reminder = app.due(&id, "DEPOSIT_REMINDER").await;
    at(&app, reminder - MINUTE, &id).await;
    assert!(app.alimtalks("ESCROW_B_DEPOSIT_CLOSING").is_empty());
    at(&app, reminder + MINUTE, &id).await;
    assert_eq!(
        app.alimtalks("ESCROW_B_DEPOSIT_CLOSING"),
        [phone_of(&buyer.user)]
    );

    let deadline = app.due(&id, "DEPOSIT_DEADLINE").await;
    assert_eq!(at(&app, deadline - MINUTE, &id).await, (13, 80));
    assert_eq!(at(&app, deadline + MINUTE, &id).await, (14, 80));
    let product_status = app
        .text(&format!(
            "SELECT status AS v FROM products WHERE id = '{product}'"
        ))
        .await;
    assert_eq!(product_status, "ON_SALE", "the product is released");
    let used = app
        .text("SELECT coalesce(sum(used), 0)::text AS v FROM seller_limit_usage")
        .await;
    assert_eq!(used, "0", "the seller's limits are released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_cancel_requests_are_agreed_and_returns_refunded_on_time() {
    let app = App::spawn().await;
    let (buyer, _, cancel) = app.paid_trade("ignored").await;
    app.act(&buyer, &cancel, "cancel", json!({ "reason": "단순변심" }))
        .await;
    let (buyer2, seller2, returned) = app.paid_trade("returned").await;
    app.act(
        &seller2,
        &returned,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "1" }),
    )
    .await;
    app.act(
        &buyer2,
        &returned,
        "return-request",
        json!({ "reason": "불량", "returnShippingPayer": "SELLER" }),
    )
    .await;
    app.act(
        &seller2,
        &returned,
        "return-agree",
        json!({ "returnAddress": "서울" }),
    )
    .await;
    app.act(
        &buyer2,
        &returned,
        "return-shipment",
        json!({ "carrier": "004", "invoiceNumber": "2" }),
    )
    .await;
    app.act(&seller2, &returned, "return-complete", json!({}))
        .await;

    let agree = app.due(&cancel, "AUTO_CANCEL_AGREEMENT").await;
    let refund = app.due(&returned, "RETURN_REFUND").await;
    let (first, second) = if agree <= refund {
        ((agree, &cancel), (refund, &returned))
    } else {
        ((refund, &returned), (agree, &cancel))
    };
    for (due, id) in [first, second] {
        let before = at(&app, due - MINUTE, id).await;
        assert!(before == (34, 80) || before == (54, 80), "{before:?}");
        let after = at(&app, due + MINUTE, id).await;
        assert!(after == (35, 82) || after == (54, 84), "{after:?}");
    }
    assert_eq!(
        app.alimtalks("ESCROW_B_CANCEL_AGREED"),
        [phone_of(&buyer.user)]
    );
    let refunds = app
        .text("SELECT count(*)::text AS v FROM refunds WHERE status = 'MANUAL_QUEUE'")
        .await;
    assert_eq!(refunds, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_checkout_expires_after_30_minutes_and_the_partner_is_told() {
    let app = App::spawn().await;
    let buyer = app.member("exp-buyer").await;
    let seller = app.member("exp-seller").await;
    let product = app.product(&seller, 30_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let id = checkout["checkoutId"].as_str().unwrap().to_owned();
    let expires = OffsetDateTime::parse(
        checkout["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let sql = format!("SELECT status AS v FROM checkouts WHERE id = '{id}'");
    app.clock.set(expires - MINUTE);
    app.run_jobs().await;
    assert_eq!(app.text(&sql).await, "OPEN");
    app.clock.set(expires + MINUTE);
    app.run_jobs().await;
    assert_eq!(app.text(&sql).await, "EXPIRED");
    let told = app.receiver.bodies().into_iter().any(|b| {
        b["type"] == "payment.failed"
            && b["data"]["checkoutId"] == id.as_str()
            && b["data"]["code"] == "PG_EXPIRED"
    });
    assert!(told, "{:?}", app.receiver.bodies());
}
