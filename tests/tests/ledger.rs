//! The money ledger (SPEC §15) against a real server and PostgreSQL: a seeded model test drives random
//! sequences of checkouts, payments, trade commands, jobs and failures through the API and runs the
//! ledger check after every step; a corrupted payout amount is found and named; the journal refuses
//! UPDATE and DELETE; the back-fill migration rebuilds exactly what live posting wrote; settlements
//! and their callbacks agree with the payouts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_domain::ids::PartnerId;
use escrow_domain::ledger::{check, Mismatch};
use escrow_domain::ports::LedgerReader;
use escrow_e2e::{create_partner, trade_id_in, App, Member, PartnerKeys, WEBHOOK_SECRET};
use escrow_unifipay::simulator::{Behavior, CallbackMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

async fn mismatches(app: &App, partner: Option<PartnerId>) -> Vec<Mismatch> {
    let facts = escrow_postgres::PgLedger::new(app.db.db.pool.clone())
        .facts(partner)
        .await
        .unwrap();
    check(&facts)
}

/// A deterministic generator (xorshift64*), so a failing sequence can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

struct Lane {
    keys: PartnerKeys,
    buyer: Member,
    seller: Member,
    member_keys: (String, String),
}

impl Lane {
    /// Tokens expire while the clock moves: ask for fresh ones.
    async fn refresh(&mut self, app: &App) {
        self.buyer.token = app
            .token_for(&self.keys, &self.buyer.user, &self.member_keys.0)
            .await;
        self.seller.token = app
            .token_for(&self.keys, &self.seller.user, &self.member_keys.1)
            .await;
    }
}

/// What one sequence does to its trade, one step at a time.
async fn step(app: &App, lane: &Lane, id: &str, rng: &mut Rng) -> Option<String> {
    let t = app.admin_trade(id).await;
    let status = t["status"]["code"].as_u64().unwrap();
    let withdrawal = t["withdrawal"]["code"].as_u64().unwrap();
    let (buyer, seller) = (&lane.buyer, &lane.seller);
    let admin_cancel = || async {
        let r = app
            .admin(Method::POST, &format!("/admin/v1/trades/{id}/cancel"))
            .json(&json!({ "reason": "모델 테스트" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    };
    let jobs_after = |days: i64| async move {
        app.clock.advance(Duration::days(days));
        app.run_jobs().await;
    };
    let choice = rng.below(4);
    let action = match (status, withdrawal, choice) {
        (31, _, 0) => {
            let body = json!({ "carrier": "005", "invoiceNumber": "612345678901" });
            app.act(seller, id, "shipment", body).await;
            "ship"
        }
        (31, _, 1) => {
            app.act(buyer, id, "cancel", json!({ "reason": "단순변심" }))
                .await;
            "buyer cancel"
        }
        (31, _, 2) => {
            app.act(seller, id, "sale-cancel", json!({ "reasonCode": 32 }))
                .await;
            "sale cancel"
        }
        (31 | 32 | 51 | 52 | 53, _, 3) if rng.below(3) == 0 => {
            admin_cancel().await;
            "operator cancel"
        }
        (34, _, 0 | 1) => {
            app.act(seller, id, "cancel-agree", json!({})).await;
            "cancel agreed"
        }
        (32, _, 0) if t["deliveredAt"].is_null() => {
            let r = app
                .signed_as(
                    &lane.keys,
                    Method::POST,
                    &format!("/api/v1/trades/{id}/delivered"),
                    None,
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            "delivered"
        }
        (32, _, 1) => {
            app.act(buyer, id, "approve", json!({})).await;
            "approved"
        }
        (32, _, 2) => {
            let body = json!({ "reason": "상품 불량", "returnShippingPayer": "SELLER" });
            app.act(buyer, id, "return-request", body).await;
            "return requested"
        }
        (51, _, _) => {
            let body = json!({ "returnAddress": "서울시 중구 세종대로 110" });
            app.act(seller, id, "return-agree", body).await;
            "return agreed"
        }
        (52, _, _) => {
            let body = json!({ "carrier": "005", "invoiceNumber": "612345678902" });
            app.act(buyer, id, "return-shipment", body).await;
            "return shipped"
        }
        (53, _, _) => {
            app.act(seller, id, "return-complete", json!({})).await;
            "return completed"
        }
        (33, 80, 0) => {
            admin_cancel().await;
            "operator cancel after approval"
        }
        (14 | 35 | 36 | 37, _, _) | (33, 83, _) | (54, 84, _) => {
            // Terminal: a last pass of the jobs (refunds to the manual queue, payouts instructed),
            // and now and then an operator refunds the manual-queue refund by hand.
            jobs_after(0).await;
            let manual = app
                .text(&format!(
                    "SELECT coalesce(max(id), 0)::text AS v FROM refunds \
                     WHERE trade_id = '{id}' AND status = 'MANUAL_QUEUE'"
                ))
                .await;
            if manual == "0" || rng.below(2) == 0 {
                return None;
            }
            let r = app
                .admin(Method::POST, &format!("/admin/v1/refunds/{manual}/done"))
                .json(&json!({ "reference": "모델 테스트 이체" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
            "refunded by hand"
        }
        _ => {
            // Let time pass: approvals, cancel agreements, payouts and return refunds come due.
            jobs_after(1 + rng.below(4) as i64).await;
            "jobs"
        }
    };
    Some(action.to_owned())
}

/// Opens a sequence's trade: a card payment, declined now and then, or captured after its checkout
/// expired (refunded as a late capture). `None` when no trade opened.
async fn open(app: &App, lane: &Lane, rng: &mut Rng) -> (Option<String>, &'static str) {
    let product = app
        .product(
            &lane.seller,
            10_000 + 1_000 * rng.below(90) as i64,
            &["CARD"],
        )
        .await;
    let checkout = app.checkout(&lane.buyer, &product, "CARD").await;
    match rng.below(20) {
        0 => {
            // Declined at the PG; the checkout fails now or expires later, and moves no money.
            let start = app.press_pay(&checkout).await;
            let back = app.press_at_pg(&start, "decline").await;
            app.http.get(&back).send().await.unwrap();
            (None, "declined")
        }
        1 => {
            app.set_pg(Behavior {
                callback: CallbackMode::BeforeRedirect,
                ..Behavior::default()
            });
            let start = app.press_pay(&checkout).await;
            app.clock.advance(Duration::minutes(31));
            app.run_jobs().await;
            let back = app.press_at_pg(&start, "approve").await;
            app.http.get(&back).send().await.unwrap();
            app.set_pg(Behavior::default());
            (None, "late capture")
        }
        _ => {
            let back = app.pay(&checkout, "approve").await;
            assert!(back.contains("result=success"), "{back}");
            (Some(trade_id_in(&back)), "paid")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_random_sequences_keep_the_journal_in_agreement_after_every_step() {
    const SEQUENCES: u64 = 1_000;
    const LANES: usize = 10;
    let app = App::spawn().await;
    let mut lanes = Vec::new();
    for n in 0..LANES {
        let keys = create_partner(&app.db, &format!("model-{n}")).await;
        let (buyer, buyer_key) = app.member_with_key_of(&keys, &format!("buyer-{n}")).await;
        let (seller, seller_key) = app.member_with_key_of(&keys, &format!("seller-{n}")).await;
        lanes.push(Lane {
            keys,
            buyer,
            seller,
            member_keys: (buyer_key, seller_key),
        });
    }
    let mut steps = 0;
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for seq in 0..SEQUENCES {
        let seed = 0x9E37_79B9_7F4A_7C15 ^ (seq + 1);
        let mut rng = Rng(seed);
        let lane = &mut lanes[seq as usize % LANES];
        lane.refresh(&app).await;
        let partner = Some(lane.keys.id);
        let (trade, opened) = open(&app, lane, &mut rng).await;
        *kinds.entry(opened.to_owned()).or_default() += 1;
        let found = mismatches(&app, partner).await;
        assert!(
            found.is_empty(),
            "sequence {seq} (seed {seed:#x}) {opened}: {found:#?}"
        );
        let Some(id) = trade else { continue };
        for n in 0..12 {
            let Some(action) = step(&app, lane, &id, &mut rng).await else {
                break;
            };
            steps += 1;
            if action == "jobs" {
                lane.refresh(&app).await;
            }
            let found = mismatches(&app, partner).await;
            assert!(
                found.is_empty(),
                "sequence {seq} (seed {seed:#x}) step {n} {action}: {found:#?}"
            );
            *kinds.entry(action).or_default() += 1;
        }
    }
    // The whole database agrees too, and the walk went everywhere it should.
    assert_eq!(mismatches(&app, None).await, []);
    println!("{steps} steps: {kinds:?}");
    for kind in [
        "paid",
        "declined",
        "late capture",
        "approved",
        "operator cancel after approval",
        "return completed",
        "cancel agreed",
        "sale cancel",
        "refunded by hand",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {kinds:?}"
        );
    }
    for (table, status) in [
        ("payouts", "INSTRUCTED"),
        ("payouts", "CANCELLED"),
        ("refunds", "MANUAL_QUEUE"),
        ("refunds", "DONE"),
    ] {
        let n = app
            .text(&format!(
                "SELECT count(*)::text AS v FROM {table} WHERE status = '{status}'"
            ))
            .await;
        assert_ne!(n, "0", "no {table} {status}");
    }
}

/// A paid-out trade, for the tests below.
async fn paid_out_trade(app: &App, tag: &str) -> String {
    let (buyer, seller, id) = app.paid_trade(tag).await;
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    app.act(&buyer, &id, "approve", json!({})).await;
    app.clock.advance(Duration::days(10));
    app.run_jobs().await;
    let t = app.admin_trade(&id).await;
    assert_eq!(t["withdrawal"]["code"], 83, "{t}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_payout_amount_is_found_and_named_and_the_gauge_shows_it() {
    let app = App::spawn().await;
    let id = paid_out_trade(&app, "edited").await;
    assert_eq!(mismatches(&app, None).await, []);
    app.text(&format!(
        "WITH u AS (UPDATE payouts SET amount = amount + 1 WHERE trade_id = '{id}' RETURNING 1) \
         SELECT count(*)::text AS v FROM u"
    ))
    .await;
    let found = mismatches(&app, None).await;
    assert!(
        !found.is_empty() && found.iter().all(|m| m.subject.contains(&id)),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|m| m.subject.starts_with("payout ")),
        "{found:#?}"
    );
    let jobs_found = app.server.jobs.check_ledger().await.unwrap();
    assert_eq!(jobs_found, found);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.lines()
            .any(|l| l == format!("escrow_ledger_mismatches {}", found.len())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_refuses_update_and_delete() {
    let app = App::spawn().await;
    paid_out_trade(&app, "frozen").await;
    let mut conn = app.db.db.pool.get().await.unwrap();
    use diesel_async::RunQueryDsl;
    for sql in [
        "UPDATE journal_postings SET amount = amount + 1",
        "DELETE FROM journal_postings",
        "TRUNCATE journal_postings",
    ] {
        let e = diesel::sql_query(sql).execute(&mut conn).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM journal_postings")
            .await,
        "4",
        "capture, fee, payable, payout instructed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_back_fill_migration_rebuilds_exactly_what_live_posting_wrote() {
    let app = App::spawn().await;
    paid_out_trade(&app, "backfill-paid").await;
    let (_, seller, cancelled) = app.paid_trade("backfill-cancel").await;
    app.act(
        &seller,
        &cancelled,
        "sale-cancel",
        json!({ "reasonCode": 32 }),
    )
    .await;
    let (buyer, seller, approved) = app.paid_trade("backfill-approved").await;
    app.act(
        &seller,
        &approved,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    app.act(&buyer, &approved, "approve", json!({})).await;
    let r = app
        .admin(Method::POST, &format!("/admin/v1/trades/{approved}/cancel"))
        .json(&json!({ "reason": "되돌림" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.run_jobs().await;
    let journal = "SELECT coalesce(string_agg(line, E'\\n' ORDER BY line), '') AS v FROM ( \
        SELECT concat_ws(' ', checkout_id, trade_id, refund_id, payout_id, event, debit_account, \
                         credit_account, amount) AS line FROM journal_postings) x";
    let live = app.text(journal).await;
    assert_eq!(live.lines().count(), 4 + 2 + 2 + 2 + 2, "{live}");

    // The journal as if the ledger had not existed: its migration reverted, then applied again.
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
        use diesel_migrations::MigrationHarness;
        let mut conn =
            AsyncConnectionWrapper::<diesel_async::AsyncPgConnection>::establish(&url).unwrap();
        // Back to before the ledger's migration (later ones first), then everything again.
        loop {
            let reverted = conn
                .revert_last_migration(escrow_postgres::migrate::MIGRATIONS)
                .unwrap();
            if reverted.to_string().ends_with("000008") {
                break;
            }
        }
        conn.run_pending_migrations(escrow_postgres::migrate::MIGRATIONS)
            .unwrap();
    })
    .await
    .unwrap();
    assert_eq!(app.text(journal).await, live);
    assert_eq!(mismatches(&app, None).await, []);
}

async fn settlements(app: &App, query: &str) -> Value {
    let r = app
        .signed(Method::GET, &format!("/api/v1/settlements?{query}"), None)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_and_their_csv_agree_with_the_payouts_of_three_sellers_on_two_dates() {
    let app = App::spawn().await;
    // Wednesday 10:00 in Seoul, then Thursday: two business days, so two payout dates (run on the
    // real date, a Friday evening in UTC was already Saturday in Seoul and both days paid on Monday).
    app.clock.set(time::macros::datetime!(2027-03-03 01:00 UTC));
    let mut trades = Vec::new();
    let mut sellers = Vec::new();
    for n in 0..3 {
        let user = format!("settle-seller-{n}");
        sellers.push(app.member_with_key_of(&app.partner, &user).await);
    }
    for n in 0..5_i64 {
        if n == 3 {
            // The next payments are a day later: their payout date is another.
            app.clock.advance(Duration::days(1));
            for (seller, key) in &mut sellers {
                seller.token = app.token_for(&app.partner, &seller.user, key).await;
            }
        }
        // Three sellers: 0 and 3, 1 and 4, 2.
        let seller = &sellers[n as usize % 3].0;
        let buyer = app.member(&format!("settle-buyer-{n}")).await;
        let product = app.product(seller, 20_000 + 10_000 * n, &["CARD"]).await;
        let checkout = app.checkout(&buyer, &product, "CARD").await;
        let back = app.pay(&checkout, "approve").await;
        let id = trade_id_in(&back);
        app.act(
            seller,
            &id,
            "shipment",
            json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
        )
        .await;
        app.act(&buyer, &id, "approve", json!({})).await;
        trades.push(id);
    }
    let payouts = app
        .text(
            "SELECT string_agg(concat_ws(' ', due_date, trade_id, seller_id, amount), E'\\n' \
             ORDER BY due_date, id) AS v FROM payouts",
        )
        .await;
    let dates: std::collections::BTreeSet<&str> = payouts
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(dates.len(), 2, "{payouts}");

    let report = settlements(&app, "from=2000-01-01&to=2000-03-01").await;
    assert_eq!(report["days"], json!([]));
    let first = *dates.iter().next().unwrap();
    let last = *dates.iter().last().unwrap();
    let report = settlements(&app, &format!("from={first}&to={last}")).await;
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 2, "{report}");
    let mut listed = Vec::new();
    for day in days {
        assert_eq!(day["status"], "SCHEDULED");
        let lines = day["trades"].as_array().unwrap();
        let sum = |field: &str| {
            lines
                .iter()
                .map(|l| l[field].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(day["sellerTotal"].as_i64().unwrap(), sum("sellerAmount"));
        assert_eq!(day["feeTotal"].as_i64().unwrap(), sum("escrowFee"));
        assert_eq!(day["paymentTotal"].as_i64().unwrap(), sum("paymentAmount"));
        for l in lines {
            assert_eq!(
                l["paymentAmount"].as_i64().unwrap(),
                l["escrowFee"].as_i64().unwrap() + l["sellerAmount"].as_i64().unwrap()
            );
            listed.push(format!(
                "{} {} {} {}",
                day["payoutDate"].as_str().unwrap(),
                l["tradeId"].as_str().unwrap(),
                l["sellerId"].as_str().unwrap(),
                l["sellerAmount"]
            ));
        }
    }
    assert_eq!(listed.join("\n"), payouts);

    // The CSV says the same, line for line.
    let r = app
        .signed(
            Method::GET,
            &format!("/api/v1/settlements.csv?from={first}&to={last}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let from_csv: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {} {} {}", f[0], f[1], f[3], f[6])
        })
        .collect();
    assert_eq!(from_csv.join("\n"), payouts);

    // Paid out: the days turn INSTRUCTED; each trade's two callbacks arrived once, signed.
    app.clock.advance(Duration::days(15));
    app.run_jobs().await;
    let report = settlements(&app, &format!("from={first}&to={last}")).await;
    for day in report["days"].as_array().unwrap() {
        assert_eq!(day["status"], "INSTRUCTED", "{day}");
        for l in day["trades"].as_array().unwrap() {
            assert!(l["instructedAt"].is_string(), "{l}");
        }
    }
    for kind in ["trade.payout_scheduled", "trade.paid_out"] {
        let received: Vec<Value> = app
            .receiver
            .bodies()
            .into_iter()
            .filter(|b| b["type"] == kind)
            .collect();
        let mut ids: Vec<&str> = received
            .iter()
            .map(|b| b["data"]["tradeId"].as_str().unwrap())
            .collect();
        ids.sort();
        let mut expected: Vec<&str> = trades.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(ids, expected, "{kind} once per trade");
        for b in &received {
            assert!(b["data"]["payoutDate"].is_string(), "{b}");
        }
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (body, signature) in app.receiver.received.lock().unwrap().iter() {
        let raw = serde_json::to_vec(body).unwrap();
        escrow_callbacks::verify(signature, &raw, WEBHOOK_SECRET, now).unwrap();
    }

    // Bad periods are refused clearly.
    for query in [
        "from=2026-13-01&to=2026-12-31",
        "to=2026-01-01",
        "from=2026-03-02&to=2026-03-01",
        "from=2026-01-01&to=2026-12-31",
    ] {
        let r = app
            .signed(Method::GET, &format!("/api/v1/settlements?{query}"), None)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finishes_a_manual_refund_once_and_the_money_leaves_the_ledger() {
    let app = App::spawn().await;
    let (_, seller, id) = app.paid_trade("by-hand").await;
    app.act(&seller, &id, "sale-cancel", json!({ "reasonCode": 32 }))
        .await;
    app.run_jobs().await; // Unifi Pay has no refund call: the refund goes to the operators.
    let queue: Vec<Value> = app
        .admin(Method::GET, "/admin/v1/refunds")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refund = queue.iter().find(|r| r["tradeId"] == id.as_str()).unwrap();
    assert_eq!(refund["status"], "MANUAL_QUEUE");
    let refund_id = refund["id"].as_i64().unwrap();
    let done = |body: Value| {
        app.admin(Method::POST, &format!("/admin/v1/refunds/{refund_id}/done"))
            .json(&body)
            .send()
    };
    let r = done(json!({ "reference": " " })).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = done(json!({ "reference": "국민 123-456 이체" }))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = done(json!({ "reference": "again" })).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no longer in the queue");
    assert_eq!(
        app.text(&format!(
            "SELECT concat_ws(' | ', status, detail) AS v FROM refunds WHERE id = {refund_id}"
        ))
        .await,
        "DONE | refunded by hand by tester: 국민 123-456 이체"
    );
    assert_eq!(
        app.text(&format!(
            "SELECT count(*)::text AS v FROM journal_postings WHERE refund_id = {refund_id} AND event = 'REFUNDED'"
        ))
        .await,
        "1"
    );
    assert_eq!(mismatches(&app, None).await, []);
    let r = app
        .admin(Method::POST, "/admin/v1/refunds/999999/done")
        .json(&json!({ "reference": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
