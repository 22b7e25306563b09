//! Interest-free installment notices (SPEC §12) over HTTP: the operator manages them (audited),
//! partners list those valid today in Asia/Seoul for an amount, the hosted checkout page shows them
//! for a card payment, and merchant-funded ones reach Inicis as `nointerest`/`quotabase`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::inicis::{form_in, inicis_simulator, world_with_inicis};
use escrow_e2e::{error_body, App};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::macros::datetime;
use time::Duration;

async fn add_notice(app: &App, body: Value) -> Value {
    let r = app
        .admin(Method::POST, "/admin/v1/installment-notices")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json().await.unwrap()
}

fn notice(card: &str, months: &[u8], min: i64, from: &str, to: &str, funded_by: &str) -> Value {
    json!({
        "gateway": "inicis", "cardCode": card, "months": months, "minAmount": min,
        "validFrom": from, "validTo": to, "fundedBy": funded_by,
        "exclusions": "법인카드, 체크카드 제외",
    })
}

async fn cards(app: &App, amount: i64) -> Vec<String> {
    let r = app
        .signed(
            Method::GET,
            &format!("/api/v1/installment-notices?amount={amount}"),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let mut cards: Vec<String> = body["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["cardCode"].as_str().unwrap().to_owned())
        .collect();
    cards.sort();
    cards
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_hold_by_seoul_day_and_minimum_and_reach_the_page_and_inicis() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    // Seoul's 2026-12-02 begins at 2026-12-01T15:00Z.
    let midnight = datetime!(2026-12-01 15:00 UTC);
    app.clock.set(midnight - Duration::minutes(10));
    app.add_inicis_merchant().await;
    app.route_to_inicis("CARD").await;
    let first = add_notice(
        &app,
        notice(
            "11",
            &[6, 2, 3],
            50_000,
            "2026-12-02",
            "2026-12-31",
            "MERCHANT",
        ),
    )
    .await;
    add_notice(
        &app,
        notice(
            "14",
            &[2, 6],
            53_001,
            "2026-12-01",
            "2026-12-31",
            "MERCHANT",
        ),
    )
    .await;
    add_notice(
        &app,
        notice("04", &[12], 0, "2026-12-03", "2026-12-31", "MERCHANT"),
    )
    .await;
    add_notice(
        &app,
        notice("06", &[3], 0, "2026-11-01", "2026-12-01", "MERCHANT"),
    )
    .await;
    add_notice(
        &app,
        notice(
            "12",
            &[2, 3],
            50_000,
            "2026-11-01",
            "2026-12-02",
            "CARD_COMPANY",
        ),
    )
    .await;
    assert_eq!(first["months"], json!([2, 3, 6]));
    assert_eq!(first["cardName"], "BC카드");

    // Seoul, 2026-12-01 23:50: the one ending on the 1st holds, the one starting on the 2nd not yet.
    assert_eq!(cards(&app, 53_000).await, vec!["06", "12"]);
    // Seoul, 2026-12-02 00:00 and after.
    app.clock.set(midnight + Duration::seconds(1));
    assert_eq!(cards(&app, 53_000).await, vec!["11", "12"]);
    assert_eq!(cards(&app, 53_001).await, vec!["11", "12", "14"]);
    assert_eq!(cards(&app, 49_999).await, Vec::<String>::new());
    let r = app
        .signed(Method::GET, "/api/v1/installment-notices?amount=-1", None)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "VALIDATION_FAILED");

    // The hosted page of a card checkout of 53,000 won shows them.
    let buyer = app.member("buyer-inst").await;
    let seller = app.member("seller-inst").await;
    let product = app
        .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
        .await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let html = app
        .http
        .get(checkout["checkoutUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let popup = html.split("id=\"installments\"").nth(1).expect("the popup");
    assert!(
        popup.contains("BC카드") && popup.contains("삼성카드"),
        "{popup}"
    );
    assert!(
        popup.contains("2개월, 3개월, 6개월") && popup.contains("법인카드"),
        "{popup}"
    );
    assert!(
        !popup.contains("신한카드") && !popup.contains("현대카드"),
        "{popup}"
    );
    // A transfer checkout shows none.
    let other = app
        .product(&seller, 50_000, &["CARD", "BANK_TRANSFER"])
        .await;
    let transfer = app.checkout(&buyer, &other, "BANK_TRANSFER").await;
    let html = app
        .http
        .get(transfer["checkoutUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("id=\"installments\""));

    // The Inicis form carries the merchant-funded ones that hold for the amount.
    let url = checkout["checkoutUrl"].as_str().unwrap();
    let id = checkout["checkoutId"].as_str().unwrap();
    let page = app
        .http
        .post(format!("{}/checkout/{id}/pay", app.base))
        .form(&[("sig", url.split("sig=").nth(1).unwrap())])
        .send()
        .await
        .unwrap();
    let (_, fields) = form_in(&page.text().await.unwrap());
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(field("nointerest"), "11-2:3:6");
    assert_eq!(field("quotabase"), "2:3:6");

    // Replaced and removed, each audited.
    let nid = first["id"].as_str().unwrap();
    let r = app
        .admin(Method::PUT, &format!("/admin/v1/installment-notices/{nid}"))
        .json(&notice(
            "11",
            &[2],
            50_000,
            "2026-12-02",
            "2026-12-31",
            "MERCHANT",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/installment-notices/{nid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/installment-notices/{nid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 404).await["code"], "NOT_FOUND");
    let audit: Value = app
        .admin(Method::GET, "/admin/v1/payment-setup/audit?limit=200")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine: Vec<&Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == format!("installment notice {nid}"))
        .collect();
    assert_eq!(mine.len(), 3, "added, replaced, removed");
    assert!(mine[0]["before"].is_null() && mine[0]["after"]["months"] == json!([2, 3, 6]));
    assert_eq!(mine[1]["after"]["months"], json!([2]));
    assert!(mine[2]["after"].is_null() && mine[2]["actor"] == "tester");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_notice_is_refused_field_by_field() {
    let sim = inicis_simulator();
    let app = world_with_inicis(&sim).await;
    for (body, field) in [
        (
            notice("99", &[2], 0, "2026-12-01", "2026-12-31", "MERCHANT"),
            "cardCode",
        ),
        (
            notice("11", &[], 0, "2026-12-01", "2026-12-31", "MERCHANT"),
            "months",
        ),
        (
            notice("11", &[1], 0, "2026-12-01", "2026-12-31", "MERCHANT"),
            "months",
        ),
        (
            notice("11", &[2], 0, "2026-12-31", "2026-12-01", "MERCHANT"),
            "validTo",
        ),
        (
            notice("11", &[2], 0, "2026-13-01", "2026-12-31", "MERCHANT"),
            "validFrom",
        ),
        (
            notice("11", &[2], 0, "2026-12-01", "2026-12-31", "NOBODY"),
            "fundedBy",
        ),
    ] {
        let r = app
            .admin(Method::POST, "/admin/v1/installment-notices")
            .json(&body)
            .send()
            .await
            .unwrap();
        let e = error_body(r, 400).await;
        assert_eq!(e["details"]["field"], field, "{e}");
    }
    let mut unknown = notice("11", &[2], 0, "2026-12-01", "2026-12-31", "MERCHANT");
    unknown["gateway"] = json!("nowhere");
    let r = app
        .admin(Method::POST, "/admin/v1/installment-notices")
        .json(&unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["details"]["field"], "gateway");
}
