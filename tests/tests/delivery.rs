//! Delivery under real conditions: two instances sharing the work, providers down for a while, a
//! partner that stays down past the retry horizon.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use escrow_e2e::{phone_of, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

async fn outbox_ids(app: &App, kind: &str) -> BTreeSet<String> {
    let text = app
        .text(&format!("SELECT coalesce(string_agg(event_id::text, ','), '') AS v FROM outbox WHERE kind = '{kind}'"))
        .await;
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_apply_every_due_timer_once_and_deliver_everything() {
    let app = App::spawn().await;
    let second = app.second_instance().await;
    let mut trades = Vec::new();
    for i in 0..6 {
        let (buyer, _, id) = app.paid_trade(&format!("twin{i}")).await;
        app.act(&buyer, &id, "cancel", json!({ "reason": "단순변심" }))
            .await;
        trades.push((buyer, id));
    }
    let mut latest = time::OffsetDateTime::UNIX_EPOCH;
    for (_, id) in &trades {
        latest = latest.max(app.due(id, "AUTO_CANCEL_AGREEMENT").await);
    }
    app.clock.set(latest + Duration::minutes(1));
    let (a, b) = tokio::join!(app.server.jobs.run_once(), second.jobs.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.timers_applied + b.timers_applied, 6, "{a:?} {b:?}");
    let (a, b) = tokio::join!(app.server.jobs.run_once(), second.jobs.run_once());
    assert_eq!(a.unwrap().timers_applied + b.unwrap().timers_applied, 0);

    for (_, id) in &trades {
        let t = app.admin_trade(id).await;
        assert_eq!(
            (
                t["status"]["code"].as_u64(),
                t["withdrawal"]["code"].as_u64()
            ),
            (Some(35), Some(82))
        );
        let agreed = app
            .text(&format!("SELECT count(*)::text AS v FROM trade_events WHERE trade_id = '{id}' AND command = 'AGREE_CANCEL'"))
            .await;
        assert_eq!(agreed, "1", "one state change");
        let refunds = app
            .text(&format!(
                "SELECT count(*)::text AS v FROM refunds WHERE trade_id = '{id}'"
            ))
            .await;
        assert_eq!(refunds, "1", "one refund");
    }
    let pending = app
        .text("SELECT count(*)::text AS v FROM outbox WHERE status <> 'DELIVERED'")
        .await;
    assert_eq!(pending, "0", "everything delivered");
    // Each buyer was told once (the provider honours the idempotency key), and the partner heard of
    // every event.
    let told: Vec<String> = app.alimtalks("ESCROW_B_CANCEL_AGREED");
    let expected: BTreeSet<String> = trades.iter().map(|(b, _)| phone_of(&b.user)).collect();
    assert_eq!(told.iter().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(told.len(), 6);
    let heard: BTreeSet<String> = app
        .receiver
        .bodies()
        .iter()
        .map(|b| b["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(heard, outbox_ids(&app, "CALLBACK").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_down_for_a_while_then_back_lose_nothing() {
    let app = App::spawn().await;
    app.alimtalk
        .set_behavior(escrow_alimtalk::simulator::Behavior {
            fail: true,
            ..Default::default()
        });
    app.receiver.set_down(true);
    let (_, seller, id) = app.paid_trade("outage").await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "1" }),
    )
    .await;

    let report = app.run_jobs().await;
    assert_eq!(report.delivered, 0);
    assert!(report.retried > 0);
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(30));
        let r = app.run_jobs().await;
        assert_eq!((r.delivered, r.dead), (0, 0), "{r:?}");
    }
    let waiting: i64 = app
        .text("SELECT count(*)::text AS v FROM outbox WHERE status = 'PENDING'")
        .await
        .parse()
        .unwrap();
    assert!(waiting > 0);
    let attempts: i64 = app
        .text("SELECT count(*)::text AS v FROM outbox_attempts WHERE outcome = 'FAILED'")
        .await
        .parse()
        .unwrap();
    assert!(attempts >= 4 * waiting, "every row was tried at each run");

    // Back up; the partner is slow once (answers after our timeout), so one callback arrives twice.
    app.alimtalk
        .set_behavior(escrow_alimtalk::simulator::Behavior::default());
    app.receiver.set_down(false);
    app.receiver.slow_ms.store(2_500, Ordering::SeqCst);
    app.clock.advance(Duration::hours(2));
    app.run_jobs().await;
    app.receiver.slow_ms.store(0, Ordering::SeqCst);
    for _ in 0..3 {
        app.clock.advance(Duration::hours(1));
        app.run_jobs().await;
    }
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM outbox WHERE status <> 'DELIVERED'")
            .await,
        "0"
    );
    let bodies = app.receiver.bodies();
    let heard: BTreeSet<String> = bodies
        .iter()
        .map(|b| b["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        heard,
        outbox_ids(&app, "CALLBACK").await,
        "every callback arrived"
    );
    let mut copies: HashMap<String, Vec<&Value>> = HashMap::new();
    for b in &bodies {
        copies
            .entry(b["eventId"].as_str().unwrap().to_owned())
            .or_default()
            .push(b);
    }
    assert!(
        copies.values().any(|c| c.len() > 1),
        "the slow answer made a duplicate"
    );
    for same in copies.values() {
        assert!(
            same.iter().all(|b| *b == same[0]),
            "a duplicate is the same event, same id"
        );
    }
    let sent: BTreeSet<String> = app
        .alimtalk
        .received()
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    assert_eq!(
        sent,
        outbox_ids(&app, "ALIMTALK").await,
        "every AlimTalk arrived, once each"
    );
    assert!(app.alimtalk.requests_per_key().values().all(|n| *n >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_down_past_the_horizon_gets_a_dead_letter_operators_can_replay() {
    let app = App::spawn().await;
    let (_, _, id) = app.paid_trade("dead").await;
    app.receiver.set_down(true);
    app.run_jobs().await;
    // 26 hours of retries.
    for _ in 0..26 {
        app.clock.advance(Duration::hours(1));
        app.run_jobs().await;
    }
    let r = app
        .admin(Method::GET, "/admin/v1/outbox/dead-letters")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dead: Vec<Value> = r.json().await.unwrap();
    assert!(!dead.is_empty());
    assert!(
        dead.iter().all(|d| d["kind"] == "CALLBACK"),
        "AlimTalks were delivered: {dead:?}"
    );
    assert!(dead.iter().any(|d| d["tradeId"] == id.as_str()));
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!("escrow_outbox_dead {}", dead.len())),
        "{metrics}"
    );

    app.receiver.set_down(false);
    for d in &dead {
        let r = app
            .admin(
                Method::POST,
                &format!("/admin/v1/outbox/{}/replay", d["id"]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    app.run_jobs().await;
    let heard: BTreeSet<String> = app
        .receiver
        .bodies()
        .iter()
        .map(|b| b["eventId"].as_str().unwrap().to_owned())
        .collect();
    for d in &dead {
        assert!(
            heard.contains(d["eventId"].as_str().unwrap()),
            "replayed with the same event id"
        );
    }
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM outbox WHERE status = 'DEAD'")
            .await,
        "0"
    );
    // A template the provider refuses is dead at once, not retried for a day.
    app.alimtalk
        .set_behavior(escrow_alimtalk::simulator::Behavior {
            rejected_templates: vec!["ESCROW_S_SHIP_REQUEST".into()],
            ..Default::default()
        });
    app.paid_trade("refused").await;
    app.run_jobs().await;
    let dead_alimtalk = app
        .text("SELECT count(*)::text AS v FROM outbox WHERE status = 'DEAD' AND kind = 'ALIMTALK'")
        .await;
    assert_eq!(dead_alimtalk, "1");
}
