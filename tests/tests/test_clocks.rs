//! Test mode and test clocks (SPEC §16) over HTTP, driven only by the clock (no `jobs run --at`, no
//! sleeping): a card trade from checkout to paid out, and a virtual account left unpaid; live
//! partners have no clocks; the real-time jobs leave clock trades alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{create_partner, error_body, App, PartnerKeys};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::OffsetDateTime;

/// Monday 2026-03-02 10:00 in Seoul.
const START: OffsetDateTime = datetime!(2026-03-02 01:00 UTC);

fn rfc(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn at(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

async fn test_partner(app: &App, code: &str) -> PartnerKeys {
    let keys = create_partner(&app.db, code).await;
    let r = app
        .admin(Method::PUT, &format!("/admin/v1/partners/{}/mode", keys.id))
        .json(&json!({ "mode": "TEST" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    keys
}

async fn new_clock(app: &App, keys: &PartnerKeys) -> String {
    let r = app
        .signed_as(
            keys,
            Method::POST,
            "/api/v1/test-clocks",
            Some(&json!({ "frozenTime": rfc(START), "name": "lifecycle" })),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let clock: Value = r.json().await.unwrap();
    assert_eq!(at(&clock["frozenTime"]), START);
    clock["testClockId"].as_str().unwrap().to_owned()
}

async fn advance(app: &App, keys: &PartnerKeys, clock: &str, to: OffsetDateTime) -> Value {
    let r = app
        .signed_as(
            keys,
            Method::POST,
            &format!("/api/v1/test-clocks/{clock}/advance"),
            Some(&json!({ "to": rfc(to) })),
        )
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn trade_of(app: &App, who: &escrow_e2e::Member, id: &str) -> Value {
    app.member_call(who, Method::GET, &format!("/api/v1/trades/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_trade_runs_from_checkout_to_payout_on_a_test_clock() {
    let app = App::spawn().await;
    let keys = test_partner(&app, "clock-market").await;
    let clock = new_clock(&app, &keys).await;
    let buyer = app.member_on_clock(&keys, "clock-buyer", &clock).await;
    let seller = app.member_on_clock(&keys, "clock-seller", &clock).await;
    let product = app.product(&seller, 50_000, &["CARD"]).await;

    // Checkout and payment at the clock's instant.
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    assert_eq!(
        at(&checkout["expiresAt"]),
        START + time::Duration::minutes(30)
    );
    let back = app.pay(&checkout, "approve").await;
    let id = escrow_e2e::trade_id_in(&back);
    let trade = trade_of(&app, &buyer, &id).await;
    assert_eq!(trade["status"]["code"], 31);
    assert_eq!(at(&trade["paidAt"]), START);

    // Shipped and delivered at the clock's instant (the partner's report names no time).
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    let r = app
        .signed_as(
            &keys,
            Method::POST,
            &format!("/api/v1/trades/{id}/delivered"),
            Some(&json!({})),
        )
        .send()
        .await
        .unwrap();
    let delivered: Value = r.json().await.unwrap();
    assert_eq!(at(&delivered["deliveredAt"]), START, "{delivered}");
    let auto_approval = at(&delivered["autoApprovalAt"]);
    assert!(auto_approval > START, "{delivered}");

    // The real-time jobs leave the clock's trade alone, whatever the real date.
    app.clock.set(auto_approval + time::Duration::days(30));
    app.run_jobs().await;
    assert_eq!(trade_of(&app, &buyer, &id).await["status"]["code"], 32);
    app.clock.set(OffsetDateTime::now_utc());

    // Five business days after delivery, at the batch time (the oracle: the domain's calendar and
    // settlement rules; 2026-03-02 is the 삼일절 substitute holiday): approved, with its payout date.
    let calendar = escrow_domain::calendar::BusinessCalendar::korea();
    let contract = escrow_domain::contract::Contract::standard_2022();
    let approval_day = calendar.add_business_days(calendar.business_date_of(START), 5);
    assert_eq!(
        auto_approval,
        escrow_domain::calendar::seoul_instant(approval_day, contract.timers.batch_time_of_day)
    );
    let payout_day = escrow_domain::settlement::payout_date(
        &contract,
        &calendar,
        &escrow_domain::settlement::PayoutBasis {
            trade_type: escrow_domain::contract::TradeType::General,
            method: escrow_domain::contract::PaymentMethod::Card,
            payment_amount: escrow_domain::money::Money::krw(53_000),
            paid_at: START,
            approved_at: auto_approval,
        },
    );
    advance(
        &app,
        &keys,
        &clock,
        auto_approval + time::Duration::hours(2),
    )
    .await;
    let approved = trade_of(&app, &buyer, &id).await;
    assert_eq!(approved["status"]["code"], 33, "{approved}");
    assert_eq!(at(&approved["approvedAt"]), auto_approval);
    assert_eq!(approved["payoutDate"], payout_day.to_string());
    assert_eq!(approved["withdrawal"]["code"], 80);

    // To the payout date: paid out (83), and the payout instructed by the jobs.
    let payout_instant =
        escrow_domain::calendar::seoul_instant(payout_day, contract.timers.batch_time_of_day);
    advance(
        &app,
        &keys,
        &clock,
        payout_instant - time::Duration::minutes(1),
    )
    .await;
    assert_eq!(trade_of(&app, &buyer, &id).await["withdrawal"]["code"], 80);
    advance(
        &app,
        &keys,
        &clock,
        payout_instant + time::Duration::hours(1),
    )
    .await;
    let paid = trade_of(&app, &buyer, &id).await;
    assert_eq!(paid["withdrawal"]["code"], 83, "{paid}");
    app.run_jobs().await;
    let instructed = app
        .text(&format!(
            "SELECT status AS v FROM payouts WHERE trade_id = '{id}'"
        ))
        .await;
    assert_eq!(instructed, "INSTRUCTED");
    // A test partner's payout never reaches the bank file.
    let file = app
        .admin(Method::GET, "/admin/v1/payouts/bank-file")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!file.contains(&id), "{file}");

    // Operators' trade lists never mix live and test partners.
    for (query, listed) in [("", false), ("?mode=TEST", true), ("?mode=LIVE", false)] {
        let page: Value = app
            .admin(Method::GET, &format!("/admin/v1/trades{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["tradeId"] == id.as_str());
        assert_eq!(found, listed, "{query}");
    }

    // The callbacks say when it happened in clock time.
    let approved_callbacks: Vec<Value> = app
        .queued_callbacks("trade.payout_scheduled")
        .await
        .into_iter()
        .filter(|c| c["data"]["tradeId"] == id.as_str())
        .collect();
    assert_eq!(approved_callbacks.len(), 1);
    assert_eq!(at(&approved_callbacks[0]["occurredAt"]), auto_approval);
    // ... and the events API lists every one of them, queued now, in clock time.
    app.run_jobs().await;
    let events: Value = app
        .signed_as(
            &keys,
            Method::GET,
            &format!("/api/v1/events?tradeId={id}&limit=100"),
            None,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<(&str, OffsetDateTime)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), at(&e["body"]["occurredAt"])))
        .collect();
    for expected in [
        ("payment.succeeded", START),
        ("trade.payout_scheduled", auto_approval),
        ("trade.updated", START),
    ] {
        assert!(listed.contains(&expected), "{expected:?} not in {listed:?}");
    }
    assert!(
        listed
            .iter()
            .filter(|(t, _)| *t == "trade.status_changed")
            .count()
            >= 3,
        "{listed:?}"
    );
    // The clock moves only forward.
    let r = app
        .signed_as(
            &keys,
            Method::POST,
            &format!("/api/v1/test-clocks/{clock}/advance"),
            Some(&json!({ "to": rfc(START) })),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["details"]["field"], "to");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_virtual_account_is_cancelled_a_day_later_on_the_clock() {
    let app = App::spawn().await;
    let keys = test_partner(&app, "clock-va").await;
    let clock = new_clock(&app, &keys).await;
    let buyer = app.member_on_clock(&keys, "va-clock-buyer", &clock).await;
    let seller = app.member_on_clock(&keys, "va-clock-seller", &clock).await;
    let product = app.product(&seller, 30_000, &["VIRTUAL_ACCOUNT"]).await;
    let checkout = app.checkout(&buyer, &product, "VIRTUAL_ACCOUNT").await;
    let back = app.pay(&checkout, "approve").await;
    let id = escrow_e2e::trade_id_in(&back);
    let trade = trade_of(&app, &buyer, &id).await;
    assert_eq!(trade["status"]["code"], 13);

    advance(&app, &keys, &clock, START + time::Duration::hours(23)).await;
    assert_eq!(trade_of(&app, &buyer, &id).await["status"]["code"], 13);
    advance(
        &app,
        &keys,
        &clock,
        START + time::Duration::hours(24) + time::Duration::minutes(1),
    )
    .await;
    let cancelled = trade_of(&app, &buyer, &id).await;
    assert_eq!(cancelled["status"]["code"], 14, "{cancelled}");
    // The deposit reminder went out on the way (5 hours after issue) to the test AlimTalk simulator.
    app.run_jobs().await;
    assert_eq!(app.alimtalks("ESCROW_B_DEPOSIT_CLOSING").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_partners_have_no_test_clocks_and_test_partners_only_their_own() {
    let app = App::spawn().await;
    let keys = test_partner(&app, "clock-owner").await;
    let clock = new_clock(&app, &keys).await;
    let other = test_partner(&app, "clock-other").await;
    for (who, path, method, body) in [
        (
            &app.partner,
            "/api/v1/test-clocks".to_owned(),
            Method::POST,
            Some(json!({ "frozenTime": rfc(START) })),
        ),
        (
            &app.partner,
            "/api/v1/test-clocks".to_owned(),
            Method::GET,
            None,
        ),
        (
            &app.partner,
            format!("/api/v1/test-clocks/{clock}"),
            Method::GET,
            None,
        ),
        (
            &app.partner,
            format!("/api/v1/test-clocks/{clock}/advance"),
            Method::POST,
            Some(json!({ "to": rfc(START + time::Duration::days(1)) })),
        ),
        (
            &other,
            format!("/api/v1/test-clocks/{clock}"),
            Method::GET,
            None,
        ),
        (
            &other,
            format!("/api/v1/test-clocks/{clock}/advance"),
            Method::POST,
            Some(json!({ "to": rfc(START + time::Duration::days(1)) })),
        ),
    ] {
        let r = app
            .signed_as(who, method.clone(), &path, body.as_ref())
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_body(r, 404).await["code"],
            "NOT_FOUND",
            "{method} {path}"
        );
    }
    // A live partner's signup cannot name a clock; another partner's clock is refused.
    for who in [&app.partner, &other] {
        let r = app
            .signed_as(
                who,
                Method::POST,
                "/api/v1/members/signup",
                Some(&json!({ "partnerUserId": "x", "returnUrl": format!("{}/x", escrow_e2e::ORIGIN), "testClockId": clock })),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(error_body(r, 400).await["details"]["field"], "testClockId");
    }
    let list: Value = app
        .signed_as(&keys, Method::GET, "/api/v1/test-clocks", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
