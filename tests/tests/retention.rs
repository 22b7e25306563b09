//! What is kept and for how long: a signup callback's member key only until its delivery ends, delivered
//! callbacks 30 days, idempotency records 7 days (SPEC §10).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{create_partner_with_webhook, App};
use time::Duration;

async fn count(app: &App, sql: &str) -> i64 {
    app.text(&format!("SELECT count(*)::text AS v FROM {sql}"))
        .await
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_key_is_kept_only_until_its_callback_is_finished() {
    let app = App::spawn().await;
    let member = app.member("keyholder").await;
    // Not yet delivered: the key is there to be sent.
    assert_eq!(
        count(
            &app,
            "outbox WHERE payload->>'type' = 'member.signed_up' AND payload->'data' ? 'memberKey'"
        )
        .await,
        1
    );
    app.run_jobs().await;
    let sent = app
        .receiver
        .bodies()
        .into_iter()
        .find(|b| b["type"] == "member.signed_up" && b["data"]["memberId"] == member.id.as_str())
        .expect("the callback arrived");
    assert!(sent["data"]["memberKey"]
        .as_str()
        .is_some_and(|k| !k.is_empty()));
    // Delivered: the stored row no longer holds it.
    assert_eq!(
        count(&app, "outbox WHERE payload->'data' ? 'memberKey'").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "outbox WHERE payload->>'type' = 'member.signed_up' AND status = 'DELIVERED'"
        )
        .await,
        1
    );

    // A partner without a webhook: the row is skipped, and the key is not kept either.
    let quiet = create_partner_with_webhook(&app.db, "quiet-market", None).await;
    app.member_of(&quiet, "quiet-user").await;
    app.run_jobs().await;
    assert_eq!(
        count(
            &app,
            "outbox WHERE payload->>'type' = 'member.signed_up' AND status = 'SKIPPED'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "outbox WHERE payload->'data' ? 'memberKey'").await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_records_go_after_7_days_and_delivered_callbacks_after_30() {
    let app = App::spawn().await;
    app.paid_trade("kept").await;
    app.run_jobs().await;
    assert_eq!(count(&app, "idempotency_keys").await, 1);
    let delivered = count(&app, "outbox WHERE status = 'DELIVERED'").await;
    assert!(delivered > 0);

    app.clock.advance(Duration::days(6));
    app.run_jobs().await;
    assert_eq!(count(&app, "idempotency_keys").await, 1, "kept 7 days");

    app.clock.advance(Duration::days(2));
    app.run_jobs().await;
    assert_eq!(count(&app, "idempotency_keys").await, 0);
    assert!(count(&app, "outbox WHERE status = 'DELIVERED'").await >= delivered);

    app.clock.advance(Duration::days(23));
    let report = app.run_jobs().await;
    assert!(
        report.pruned >= u64::try_from(delivered).unwrap(),
        "{report:?}"
    );
    assert_eq!(
        count(
            &app,
            "outbox o WHERE o.status = 'DELIVERED' AND o.created_at < now() + interval '1 day'"
        )
        .await,
        0,
        "callbacks delivered more than 30 days ago are gone"
    );
    assert_eq!(
        count(
            &app,
            "outbox_attempts a WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = a.outbox_id)"
        )
        .await,
        0
    );
}
