//! `escrow-server ledger check` (SPEC §15): exit 0 after a full flow, 1 with a readable report after a
//! row was edited behind the service's back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use escrow_e2e::App;
use reqwest::{Method, StatusCode};
use serde_json::json;
use time::Duration;

fn ledger_check(app: &App) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("escrow-ledger-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("escrow.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "{data}"
[database]
url = "{db}"
[security]
token_keys = [{{ kid = "t1", secret = "token-secret-0123456789abcdef0123" }}]
link_key = "link-key-0123456789abcdef0123456789"
master_keys = ["{master}"]
[identity]
allow_sandbox = true
[account_verifier]
allow_simulator = true
[portone]
allow_simulator = true
"#,
            data = dir.join("data").display(),
            db = app.db.url,
            master = escrow_e2e::MASTER_KEY,
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_escrow-server"))
        .current_dir(&dir)
        .args(["--config", config.to_str().unwrap(), "ledger", "check"])
        .env("ESCROW_LOG", "warn")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_check_exits_zero_after_a_full_flow_and_one_naming_an_injected_mismatch() {
    let app = App::spawn().await;
    // Paid out; cancelled by the seller; returned; cancelled by an operator after approval.
    let (buyer, seller, paid) = app.paid_trade("cli-paid").await;
    let shipment = json!({ "carrier": "005", "invoiceNumber": "612345678901" });
    app.act(&seller, &paid, "shipment", shipment.clone()).await;
    app.act(&buyer, &paid, "approve", json!({})).await;
    let (_, seller2, cancelled) = app.paid_trade("cli-cancel").await;
    app.act(
        &seller2,
        &cancelled,
        "sale-cancel",
        json!({ "reasonCode": 32 }),
    )
    .await;
    let (buyer3, seller3, reversed) = app.paid_trade("cli-reversed").await;
    app.act(&seller3, &reversed, "shipment", shipment).await;
    app.act(&buyer3, &reversed, "approve", json!({})).await;
    let r = app
        .admin(Method::POST, &format!("/admin/v1/trades/{reversed}/cancel"))
        .json(&json!({ "reason": "확인 필요" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.clock.advance(Duration::days(10));
    app.run_jobs().await;
    assert_eq!(app.admin_trade(&paid).await["withdrawal"]["code"], 83);

    let (code, output) = ledger_check(&app);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("; 0 mismatches"), "{output}");

    // Someone edits a refund's amount in the database.
    app.text(&format!(
        "WITH u AS (UPDATE refunds SET amount = amount - 100 WHERE trade_id = '{cancelled}' RETURNING 1) \
         SELECT count(*)::text AS v FROM u"
    ))
    .await;
    let (code, output) = ledger_check(&app);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("MISMATCH") && l.contains(&cancelled) && l.contains("refund")),
        "{output}"
    );
}
