//! The lookups of SPEC §18 over HTTP: a buyer's checkout, a seller's products (one, the list with
//! paging, stop selling) and a trade by the partner's number, each for its owner only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{create_partner, error_body, App};
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_reads_pages_and_stops_its_own_products() {
    let app = App::spawn().await;
    let seller = app.member("lookup-seller").await;
    let other_seller = app.member("lookup-other").await;
    let buyer = app.member("lookup-buyer").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.product(&seller, 20_000, &["CARD"]).await);
    }
    app.product(&other_seller, 20_000, &["CARD"]).await;

    // The list: newest first, two pages of two and one, only this seller's.
    let first: Value = app
        .member_call(&seller, Method::GET, "/api/v1/products?limit=2")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .member_call(
            &seller,
            Method::GET,
            &format!("/api/v1/products?limit=2&cursor={cursor}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(second["nextCursor"].is_null(), "{second}");
    let listed: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|p| p["productId"].as_str().unwrap())
        .collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    let r = app
        .member_call(&seller, Method::GET, "/api/v1/products?cursor=nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 400).await["code"], "VALIDATION_FAILED");

    // One product: its seller reads it; another seller of the same partner does not.
    let r = app
        .member_call(
            &seller,
            Method::GET,
            &format!("/api/v1/products/{}", ids[0]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ON_SALE");
    for who in [&other_seller, &buyer] {
        let r = app
            .member_call(who, Method::GET, &format!("/api/v1/products/{}", ids[0]))
            .send()
            .await
            .unwrap();
        error_body(r, 404).await;
        let r = app
            .member_call(
                who,
                Method::POST,
                &format!("/api/v1/products/{}/stop", ids[0]),
            )
            .send()
            .await
            .unwrap();
        error_body(r, 404).await;
    }

    // Stop: on sale → STOPPED (twice is the same answer); a stopped product cannot be bought.
    for _ in 0..2 {
        let r = app
            .member_call(
                &seller,
                Method::POST,
                &format!("/api/v1/products/{}/stop", ids[0]),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "STOPPED");
    }
    let r = app
        .member_call(&buyer, Method::POST, "/api/v1/checkouts")
        .header("Idempotency-Key", "stopped-product")
        .json(&serde_json::json!({
            "productId": ids[0], "paymentMethod": "CARD", "tradeType": "GENERAL",
            "shippingAddress": { "recipient": "a", "phone": "01012345678", "postcode": "1", "address": "a", "addressDetail": "a" },
            "returnUrl": format!("{}/x", escrow_e2e::ORIGIN),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 409).await["code"], "PRODUCT_NOT_AVAILABLE");

    // A product a checkout holds does not stop; nor does a sold one's status change.
    app.checkout(&buyer, &ids[1], "CARD").await;
    let r = app
        .member_call(
            &seller,
            Method::POST,
            &format!("/api/v1/products/{}/stop", ids[1]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 409).await["code"], "PRODUCT_RESERVED");
    let r = app
        .member_call(
            &seller,
            Method::GET,
            &format!("/api/v1/products/{}", ids[1]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "RESERVED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_reads_its_checkout_and_a_partner_its_trade_by_number() {
    let app = App::spawn().await;
    let buyer = app.member("co-buyer").await;
    let seller = app.member("co-seller").await;
    let product = app.product(&seller, 30_000, &["CARD"]).await;
    let checkout = app.checkout(&buyer, &product, "CARD").await;
    let id = checkout["checkoutId"].as_str().unwrap();
    let path = format!("/api/v1/checkouts/{id}");

    let open: Value = app
        .member_call(&buyer, Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(open["status"], "OPEN");
    assert_eq!(open["amounts"], checkout["amounts"]);
    assert_eq!(open["checkoutUrl"], checkout["checkoutUrl"]);
    // The seller, and a member of another partner, do not see the buyer's checkout.
    let partner_b = create_partner(&app.db, "lookup-b").await;
    let member_b = app.member_of(&partner_b, "co-b").await;
    for who in [&seller, &member_b] {
        let r = app
            .member_call(who, Method::GET, &path)
            .send()
            .await
            .unwrap();
        error_body(r, 404).await;
    }
    let r = app
        .member_call(&buyer, Method::GET, "/api/v1/checkouts/not-an-id")
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;

    let back = app.pay(&checkout, "approve").await;
    let trade_id = escrow_e2e::trade_id_in(&back);
    let paid: Value = app
        .member_call(&buyer, Method::GET, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["tradeId"], trade_id.as_str());

    // The trade by the partner's own number, partner-signed: the owner sees it, another partner not.
    let trade = app.admin_trade(&trade_id).await;
    let no = trade["partnerTradeNo"].as_str().unwrap();
    let by_no = format!("/api/v1/partner/trades/{no}");
    let r = app.signed(Method::GET, &by_no, None).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["tradeId"], trade_id.as_str());
    assert_eq!(seen["status"]["code"], 31);
    let r = app
        .signed_as(&partner_b, Method::GET, &by_no, None)
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    let r = app
        .signed(Method::GET, "/api/v1/partner/trades/T-none", None)
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // Unsigned: refused.
    let r = app
        .http
        .get(format!("{}{by_no}", app.base))
        .send()
        .await
        .unwrap();
    error_body(r, 401).await;
}
