//! A broken money invariant through HTTP: 500, an error-level log line, a metric — never a 409 that
//! looks like a harmless duplicate. Alone in its test binary, since it installs a log subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use escrow_e2e::{error_body, App};
use reqwest::Method;
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_refund_answers_500_with_an_error_log_and_a_metric() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let app = App::spawn().await;
    let (_, _, id) = app.paid_trade("twice-refunded").await;
    // The trade's money went back already (by whatever path): its refund row exists.
    app.text(&format!(
        "WITH r AS (INSERT INTO refunds (trade_id, amount, currency, withdrawal_cd, status, created_at) \
         SELECT id, payment_amount, currency, 85, 'DONE', now() FROM trades WHERE id = '{id}' RETURNING 1) \
         SELECT count(*)::text AS v FROM r"
    ))
    .await;

    let r = app
        .admin(Method::POST, &format!("/admin/v1/trades/{id}/cancel"))
        .json(&json!({ "reason": "사기 의심" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 500).await["code"], "INTERNAL_ERROR");
    assert_eq!(
        app.admin_trade(&id).await["status"]["code"],
        31,
        "nothing written"
    );
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.lines().any(|l| l.contains("ERROR")
            && l.contains("money invariant violated")
            && l.contains(&id)),
        "{logs}"
    );
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let violations: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("escrow_money_invariant_violations_total "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(violations >= 1, "{metrics}");
}
