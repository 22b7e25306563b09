//! Crash test: ship commands under load against a real `escrow-server` process, which is killed with
//! SIGKILL while requests are in flight and started again. Every transition answered 2xx is stored,
//! none twice, and every event's callback reaches the partner (each event id, none missing, none extra).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use escrow_e2e::{App, Member};
use reqwest::StatusCode;
use serde_json::json;

const TRADES: usize = 40;

/// A configuration for a server process on the test's database, PG simulator and AlimTalk simulator,
/// with the same token and link keys as the in-process server, and jobs every second.
fn config(app: &App, dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let file = dir.join(format!("escrow-{port}.toml"));
    std::fs::write(
        &file,
        format!(
            r#"data_dir = "{data}"
[http]
listen = "127.0.0.1:{port}"
workers = 2
[database]
url = "{db}"
pool_size = 8
[security]
token_keys = [{{ kid = "t1", secret = "token-secret-0123456789abcdef0123" }}]
link_key = "link-key-0123456789abcdef0123456789"
master_keys = ["{master}"]
[[gateways]]
name = "unifipay"
kind = "unifipay"
mode = "remote"
base_url = "{pg}"
app_id = "app"
api_key = "sim-key"
app_secret = "sim-secret"
store_id = "store"
currency = "KRW"
[alimtalk]
mode = "remote"
base_url = "{alim}"
app_key = "app-key"
secret_key = "alim-secret"
sender_key = "sender"
[identity]
allow_sandbox = true
[account_verifier]
allow_simulator = true
[portone]
allow_simulator = true
[jobs]
enabled = true
interval_seconds = 1
"#,
            data = dir.join("data").display(),
            db = app.db.url,
            pg = app.sim.base_url,
            alim = app.alimtalk.base_url,
            master = escrow_e2e::MASTER_KEY,
        ),
    )
    .unwrap();
    file
}

fn start(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_escrow-server"))
        .args(["--config", config.to_str().unwrap()])
        .env("ESCROW_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (bounded) until the process answers `/readyz`.
async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server at {base} did not become ready");
}

async fn ship(http: &reqwest::Client, base: &str, seller: &Member, trade: &str) -> Option<u16> {
    http.post(format!("{base}/api/v1/trades/{trade}/shipment"))
        .bearer_auth(&seller.token)
        .json(&json!({ "carrier": "005", "invoiceNumber": "612345678901" }))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_answered_before_a_kill_are_stored_once_and_every_callback_arrives() {
    let app = App::spawn().await;
    let mut trades = Vec::new();
    for i in 0..TRADES {
        let (_, seller, id) = app.paid_trade(&format!("crash{i}")).await;
        trades.push((seller, id));
    }
    let dir = std::env::temp_dir().join(format!("escrow-crash-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let file = config(&app, &dir, port);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Phase 1: every ship command at once; the process is killed once a third have been answered.
    let mut server = start(&file);
    wait_ready(&http, &base).await;
    let answered = Arc::new(AtomicUsize::new(0));
    let trades = Arc::new(trades);
    let requests = (0..TRADES).map(|i| {
        let (http, base, trades, answered) =
            (http.clone(), base.clone(), trades.clone(), answered.clone());
        async move {
            let (seller, id) = &trades[i];
            let status = ship(&http, &base, seller, id).await;
            if status.is_some() {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            (i, status)
        }
    });
    let killer = async {
        while answered.load(Ordering::SeqCst) < TRADES / 3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
    };
    let (results, ()) = tokio::join!(futures::future::join_all(requests), killer);
    let ok_before: BTreeSet<usize> = results
        .iter()
        .filter(|(_, s)| matches!(s, Some(200..=299)))
        .map(|(i, _)| *i)
        .collect();
    assert!(!ok_before.is_empty(), "{results:?}");
    assert!(
        ok_before.len() < TRADES,
        "the kill came too late: {results:?}"
    );

    // Phase 2: started again; the partner retries everything.
    let mut server = start(&file);
    wait_ready(&http, &base).await;
    for (i, (seller, id)) in trades.iter().enumerate() {
        let status = ship(&http, &base, seller, id).await.unwrap();
        if ok_before.contains(&i) {
            assert_eq!(status, 409, "trade {id} was shipped before the kill");
        } else {
            assert!(status == 200 || status == 409, "trade {id}: {status}");
        }
    }

    // Stored once each.
    for (_, id) in trades.iter() {
        let status = app
            .text(&format!(
                "SELECT status_cd::text AS v FROM trades WHERE id = '{id}'"
            ))
            .await;
        let shipments = app
            .text(&format!(
                "SELECT count(*)::text AS v FROM trade_events WHERE trade_id = '{id}' AND command = 'REGISTER_SHIPMENT'"
            ))
            .await;
        assert_eq!(
            (status.as_str(), shipments.as_str()),
            ("32", "1"),
            "trade {id}"
        );
    }

    // Every callback is delivered by the restarted server's jobs. Rows the killed process had leased
    // wait for their lease (2 minutes) to run out, as after any crash: the wait is bounded past that.
    let deadline = Instant::now() + Duration::from_secs(200);
    loop {
        let pending = app
            .text("SELECT count(*)::text AS v FROM outbox WHERE kind = 'CALLBACK' AND status <> 'DELIVERED'")
            .await;
        if pending == "0" {
            break;
        }
        if Instant::now() >= deadline {
            let why = app
                .text("SELECT coalesce(string_agg(DISTINCT coalesce(last_error, '-') || ' x' || attempts, ' | '), '') AS v FROM outbox WHERE kind = 'CALLBACK' AND status <> 'DELIVERED'")
                .await;
            panic!("{pending} callbacks still pending: {why}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let expected: BTreeSet<String> = app
        .text("SELECT coalesce(string_agg(event_id::text, ',' ORDER BY event_id), '') AS v FROM outbox WHERE kind = 'CALLBACK'")
        .await
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let received = app.receiver.bodies();
    let ids: BTreeSet<String> = received
        .iter()
        .map(|b| b["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, expected, "every event id arrives, and no other");
    // One event id per trade event: no shipment's callback was written twice.
    let mut per_event: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
    for b in &received {
        if b["type"] == "trade.status_changed" {
            per_event
                .entry((
                    b["data"]["tradeId"].as_str().unwrap_or_default().to_owned(),
                    b["sequence"].as_i64().unwrap_or_default(),
                ))
                .or_default()
                .insert(b["eventId"].as_str().unwrap().to_owned());
        }
    }
    assert!(
        per_event.values().all(|ids| ids.len() == 1),
        "{per_event:?}"
    );
    let shipped = per_event.keys().filter(|(_, seq)| *seq == 2).count();
    assert_eq!(shipped, TRADES, "{per_event:?}");
    std::fs::remove_dir_all(&dir).ok();
}
