//! The per-partner request limit (SPEC §18) over HTTP: the contract's requests per minute, counted
//! across partner-signed and member-token calls and across server instances; past it `429
//! RATE_LIMITED` with `Retry-After`; other partners unaffected; the next minute admits again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_domain::ports::Clock;
use escrow_e2e::{create_partner, error_body, App, PartnerKeys};
use escrow_signature::{request_signature, RequestParts};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::Duration;

const LIMIT: u64 = 12;

/// A signed GET of `path` sent to the server at `base`.
fn signed_get(app: &App, base: &str, keys: &PartnerKeys, path: &str) -> reqwest::RequestBuilder {
    let ts = (app.clock.now().unix_timestamp_nanos() / 1_000_000).to_string();
    let sig = request_signature(
        keys.secret.as_bytes(),
        &RequestParts {
            method: "GET",
            uri: path,
            api_key: &keys.api_key,
            timestamp: &ts,
            body: b"",
        },
    );
    app.http
        .get(format!("{base}{path}"))
        .header("X-Api-Key", &keys.api_key)
        .header("X-Timestamp", ts)
        .header("X-Signature", sig)
}

async fn counted(app: &App, keys: &PartnerKeys) -> u64 {
    app.text(&format!(
        "SELECT COALESCE(sum(requests), 0)::text AS v FROM partner_request_windows WHERE partner_id = '{}'",
        keys.id.0
    ))
    .await
    .parse()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_past_its_limit_waits_and_nobody_else_does() {
    let app = App::spawn().await;
    // Start at the beginning of a minute, so the whole test runs in one window.
    let now = app.clock.now();
    let next_minute = escrow_domain::rate_limit::window_of(now) + Duration::minutes(1);
    app.clock.set(next_minute + Duration::milliseconds(100));

    let busy = create_partner(&app.db, "busy").await;
    let id = busy.id;
    // The contract to start from: the demo partner's (reading the busy partner's would cache it).
    let current: Value = app
        .admin(
            Method::GET,
            &format!("/admin/v1/partners/{}/contract", app.partner.id),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut contract = current.get("contract").cloned().unwrap_or(current);
    assert_eq!(contract["rateLimit"]["requestsPerMinute"], 6000);
    contract["rateLimit"] = json!({ "requestsPerMinute": LIMIT });
    let r = app
        .admin(Method::PUT, &format!("/admin/v1/partners/{id}/contract"))
        .json(&contract)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let mut zero = contract.clone();
    zero["rateLimit"] = json!({ "requestsPerMinute": 0 });
    let r = app
        .admin(Method::PUT, &format!("/admin/v1/partners/{id}/contract"))
        .json(&zero)
        .send()
        .await
        .unwrap();
    assert!(error_body(r, 400).await.to_string().contains("rateLimit"));

    // A member of the busy partner: its signup and token calls count too.
    let member = app.member_of(&busy, "busy-member").await;
    let used = counted(&app, &busy).await;
    assert!(used > 0 && used < LIMIT - 2, "{used}");
    let r = app
        .member_call(&member, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(counted(&app, &busy).await, used + 1);

    // The rest of the budget, alternating between two instances of the server.
    let second = app.second_instance().await;
    let path = "/api/v1/members/someone/status";
    for i in (used + 1)..LIMIT {
        let base = if i % 2 == 0 {
            &app.base
        } else {
            &second.base_url
        };
        let r = signed_get(&app, base, &busy, path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "request {i}");
    }
    for base in [&app.base, &second.base_url] {
        let r = signed_get(&app, base, &busy, path).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{base} {}",
            counted(&app, &busy).await
        );
        let retry: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let body = error_body(r, 429).await;
        assert_eq!(body["code"], "RATE_LIMITED");
        assert_eq!(body["details"]["limitPerMinute"], LIMIT);
    }
    let r = app
        .member_call(&member, Method::GET, "/api/v1/trades?role=buyer")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 429).await["code"], "RATE_LIMITED");

    // Another partner is not affected.
    let r = signed_get(&app, &app.base, &app.partner, path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The next minute admits the busy partner again.
    app.clock.advance(Duration::minutes(1));
    let r = signed_get(&app, &second.base_url, &busy, path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
