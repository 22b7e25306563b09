//! Sellers' payout accounts (SPEC §15): verified by the holder lookup (the simulator over HTTP) before
//! they are stored, stored sealed, shown masked; a payout to a seller without one waits, listed for
//! operators, and goes out once the seller registers it; the bank file names the account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_accountcheck::simulator::Behavior;
use escrow_domain::ports::LedgerReader;
use escrow_e2e::{error_body, trade_id_in, App, Member};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

async fn put_account(app: &App, member: &Member, body: Value) -> reqwest::Response {
    app.member_call(member, Method::PUT, "/api/v1/payout-account")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_is_stored_sealed_and_shown_masked_only_when_the_bank_confirms_its_holder() {
    let app = App::spawn().await;
    let (seller, _) = app
        .member_without_account_of(&app.partner.clone(), "acct-seller")
        .await;
    let r = app
        .member_call(&seller, Method::GET, "/api/v1/payout-account")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    app.accounts.add_account("04", "12345678901234", "김영희");
    let refusals = [
        (
            json!({ "bankCode": "99", "accountNumber": "12345678901234", "holderName": "김영희" }),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({ "bankCode": "04", "accountNumber": "1234-5678", "holderName": "김영희" }),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({ "bankCode": "04", "accountNumber": "12345678901234", "holderName": "김\u{0}영희" }),
            400,
            "VALIDATION_FAILED",
        ),
        (
            json!({ "bankCode": "04", "accountNumber": "12345678901234", "holderName": "홍길동" }),
            422,
            "ACCOUNT_HOLDER_MISMATCH",
        ),
        (
            json!({ "bankCode": "04", "accountNumber": "12345678900000", "holderName": "김영희" }),
            422,
            "ACCOUNT_NOT_FOUND",
        ),
    ];
    for (body, status, code) in refusals {
        let r = put_account(&app, &seller, body.clone()).await;
        assert_eq!(error_body(r, status).await["code"], code, "{body}");
    }
    app.accounts.set_behavior(Behavior {
        fail: true,
        hang_ms: None,
    });
    let r = put_account(
        &app,
        &seller,
        json!({ "bankCode": "04", "accountNumber": "12345678901234", "holderName": "김영희" }),
    )
    .await;
    assert_eq!(
        error_body(r, 503).await["code"],
        "ACCOUNT_VERIFIER_UNAVAILABLE"
    );
    app.accounts.set_behavior(Behavior::default());
    assert_eq!(
        app.text("SELECT count(*)::text AS v FROM payout_accounts")
            .await,
        "0",
        "nothing stored by a refused registration"
    );

    let shown = app
        .register_payout_account(&seller, "04", "1234-5678-901234", "김 영희")
        .await;
    assert_eq!(
        shown,
        json!({ "bankCode": "04", "bankName": "국민은행", "accountNumber": "**********1234",
                "holderName": "김*희", "verifiedAt": shown["verifiedAt"] })
    );
    let r = app
        .member_call(&seller, Method::GET, "/api/v1/payout-account")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), shown);
    let stored = app
        .text("SELECT concat_ws(' ', number_sealed, holder_sealed) AS v FROM payout_accounts")
        .await;
    assert!(
        !stored.contains("12345678901234")
            && !stored.contains("김 영희")
            && !stored.contains("김영희"),
        "sealed at rest: {stored}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_waits_for_the_sellers_account_and_the_bank_file_names_the_account() {
    let app = App::spawn().await;
    let keys = app.partner.clone();
    let (mut seller, seller_key) = app.member_without_account_of(&keys, "waiting-seller").await;
    let buyer = app.member("waiting-buyer").await;
    let product = app.product(&seller, 40_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let id = trade_id_in(&app.pay(&checkout, "approve").await);
    app.act(
        &seller,
        &id,
        "shipment",
        json!({ "carrier": "005", "invoiceNumber": "612345678901" }),
    )
    .await;
    app.act(&buyer, &id, "approve", json!({})).await;
    app.clock.advance(Duration::days(10));
    let report = app.run_jobs().await;
    assert_eq!(
        report.payouts_instructed, 0,
        "no account: nothing instructed"
    );
    assert_eq!(
        app.text(&format!(
            "SELECT status AS v FROM payouts WHERE trade_id = '{id}'"
        ))
        .await,
        "DUE"
    );
    let r = app
        .admin(Method::GET, "/admin/v1/payouts/waiting-for-account")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let waiting: Vec<Value> = r.json().await.unwrap();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["tradeId"], id.as_str());
    assert_eq!(waiting[0]["sellerId"], seller.id.as_str());

    // The seller registers the account (with a fresh token: the clock moved); the next run pays.
    seller.token = app.token_for(&keys, &seller.user, &seller_key).await;
    app.accounts.add_account("90", "3333987654321", "박서준");
    app.register_payout_account(&seller, "90", "3333987654321", "박서준")
        .await;
    let report = app.run_jobs().await;
    assert_eq!(report.payouts_instructed, 1);
    let r = app
        .admin(Method::GET, "/admin/v1/payouts/waiting-for-account")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Vec<Value>>().await.unwrap(), Vec::<Value>::new());
    let r = app
        .admin(Method::GET, "/admin/v1/payouts/bank-file")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "payout_id,trade_id,bank_code,bank_name,account_number,account_holder,amount,currency,due_date"
    );
    let line = lines.next().unwrap();
    assert!(
        line.contains(&format!(",{id},90,카카오뱅크,3333987654321,박서준,")),
        "{line}"
    );
    assert!(!csv.contains(&seller.id), "accounts, not member ids: {csv}");
    let facts = escrow_postgres::PgLedger::new(app.db.db.pool.clone())
        .facts(None)
        .await
        .unwrap();
    assert_eq!(escrow_domain::ledger::check(&facts), []);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_page_registers_an_account_through_a_signed_link_that_expires() {
    let app = App::spawn().await;
    let keys = app.partner.clone();
    let (seller, _) = app.member_without_account_of(&keys, "page-seller").await;
    let r = app
        .signed(
            Method::POST,
            "/api/v1/members/page-seller/payout-account-link",
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let link: Value = r.json().await.unwrap();
    let url = link["url"].as_str().unwrap().to_owned();
    assert!(link["expiresAt"].is_string());
    let page = app.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("정산 계좌 등록")
            && html.contains("<option value=\"90\">카카오뱅크</option>"),
        "{html}"
    );
    let (action, sig) = url.split_once("?sig=").unwrap();
    let post = |holder: &'static str, sig: String| {
        let action = action.to_owned();
        let http = app.http.clone();
        async move {
            http.post(action)
                .form(&[
                    ("sig", sig.as_str()),
                    ("bankCode", "90"),
                    ("accountNumber", "3333-55-1234567"),
                    ("holderName", holder),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post("김철수", sig.to_owned()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("예금주 이름이 일치하지 않습니다"));
    let r = post("홍길동", format!("{}0", &sig[..sig.len() - 1])).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a tampered link");
    let r = post("홍길동", sig.to_owned()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("*********4567") && !html.contains("3333551234567"),
        "{html}"
    );
    let r = app
        .member_call(&seller, Method::GET, "/api/v1/payout-account")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["accountNumber"],
        "*********4567"
    );

    // Links expire after 30 minutes.
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        app.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // A user with no membership gets no link.
    let r = app
        .signed(
            Method::POST,
            "/api/v1/members/nobody/payout-account-link",
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
