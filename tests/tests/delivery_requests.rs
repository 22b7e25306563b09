//! Custody vouchers and delivery requests (SPEC §13) over HTTP with the PortOne simulator: request →
//! pay → verify → paid → shipped; a forged amount is `forgeried` and cancelled at PortOne; webhooks
//! before, after and twice around the app's call give one payment; one refund, a second refused;
//! delete returns vouchers; approve only after payment; filters and paging; and a voucher in at most
//! one open request under parallel requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{error_body, App, Member};
use escrow_portone::simulator::{buyer_pays, Behavior, EndpointMode};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn grant(app: &App, owner: &Member, item: &str) -> i64 {
    let r = app
        .admin(Method::POST, "/admin/v1/vouchers")
        .json(&json!({ "partnerId": app.partner.id.0, "partnerUserId": owner.user, "itemName": item }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    r.json::<Value>().await.unwrap()["voucherId"]
        .as_i64()
        .unwrap()
}

fn address() -> Value {
    json!({ "name": "집", "recipient": "김영희", "contact": "010-3333-3333", "postcode": "11611",
            "address": "경기 의정부시 가금로 29", "addressDetail": "303호" })
}

async fn request(app: &App, member: &Member, vouchers: &[i64]) -> reqwest::Response {
    app.member_call(member, Method::POST, "/api/v1/delivery-requests")
        .json(&json!({ "voucherIds": vouchers, "address": address() }))
        .send()
        .await
        .unwrap()
}

/// Opens a request; its id, merchant_uid and fee.
async fn open(app: &App, member: &Member, vouchers: &[i64]) -> (i64, String, i64) {
    let r = request(app, member, vouchers).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let v: Value = r.json().await.unwrap();
    let s = &v["shipping"];
    assert_eq!(
        (s["shippingState"].as_str(), s["payment"]["state"].as_str()),
        (Some("waiting"), Some("waiting"))
    );
    (
        s["requestId"].as_i64().unwrap(),
        s["payment"]["merchantUid"].as_str().unwrap().to_owned(),
        s["payment"]["amount"].as_i64().unwrap(),
    )
}

async fn verify(app: &App, member: &Member, id: i64, imp_uid: &str) -> reqwest::Response {
    app.member_call(
        member,
        Method::POST,
        &format!("/api/v1/delivery-requests/{id}/payment"),
    )
    .json(&json!({ "impUid": imp_uid }))
    .send()
    .await
    .unwrap()
}

async fn post(app: &App, member: &Member, path: &str) -> reqwest::Response {
    app.member_call(member, Method::POST, path)
        .send()
        .await
        .unwrap()
}

async fn approve(app: &App, id: i64) -> reqwest::Response {
    app.admin(
        Method::POST,
        &format!("/admin/v1/delivery-requests/{id}/approve"),
    )
    .send()
    .await
    .unwrap()
}

async fn voucher_states(app: &App, member: &Member) -> Vec<String> {
    let v: Value = app
        .member_call(member, Method::GET, "/api/v1/vouchers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["vouchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["state"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_paid_verified_once_whatever_the_webhooks_do_and_shipped_only_after_payment() {
    let app = App::spawn().await;
    let me = app.member("dr-owner").await;
    let (v1, v2) = (
        grant(&app, &me, "BUTTER").await,
        grant(&app, &me, "LOVE YOURSELF").await,
    );
    let (id, merchant_uid, fee) = open(&app, &me, &[v1, v2]).await;
    assert_eq!(fee, 3_000, "the standard contract's custody shipping fee");
    assert_eq!(
        voucher_states(&app, &me).await,
        vec!["shipping", "shipping"]
    );

    // Unpaid: the operator cannot ship it.
    assert_eq!(
        error_body(approve(&app, id).await, 409).await["code"],
        "DELIVERY_REQUEST_NOT_PAID"
    );

    // The buyer pays; PortOne's webhook arrives before the app's call (the simulator posts it).
    let imp_uid = buyer_pays(&app.portone.base_url, &merchant_uid, fee, "approve")
        .await
        .unwrap();
    assert_eq!(
        app.portone.state().webhooks.last().unwrap(),
        &(imp_uid.clone(), 200)
    );
    let r = verify(&app, &me, id, &imp_uid).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "paid");
    assert_eq!(v["shipping"]["payment"]["impUid"], imp_uid.as_str());
    assert_eq!(v["vouchers"].as_array().unwrap().len(), 2);
    // After, and twice more: nothing changes.
    for _ in 0..2 {
        assert_eq!(app.portone.send_webhook(&imp_uid).await, 200);
    }
    assert_eq!(
        verify(&app, &me, id, &imp_uid).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.queued_callbacks("delivery_request.paid").await.len(), 1);
    assert!(app.portone.state().cancelled.is_empty());

    // Paid: not deletable; shipped by the operator once.
    let r = app
        .member_call(
            &me,
            Method::DELETE,
            &format!("/api/v1/delivery-requests/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_body(r, 409).await["message"],
        "아직 미결제 상태인 경우에만 삭제할 수 있어요."
    );
    let r = approve(&app, id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["shipping"]["shippingState"], "shipped");
    assert_eq!(voucher_states(&app, &me).await, vec!["shipped", "shipped"]);
    let again = error_body(approve(&app, id).await, 409).await;
    assert_eq!(
        (again["code"].as_str(), again["message"].as_str()),
        (
            Some("DELIVERY_REQUEST_ALREADY_SHIPPED"),
            Some("이미 완료 처리된 요청이에요.")
        )
    );
    let r = post(&app, &me, &format!("/api/v1/delivery-requests/{id}/refund")).await;
    assert_eq!(
        error_body(r, 409).await["message"],
        "관리자가 이미 배송 처리한 경우에는 취소할 수 없어요."
    );
    let shipped = app.queued_callbacks("delivery_request.shipped").await;
    assert_eq!(shipped.len(), 1);
    assert_eq!(shipped[0]["data"]["requestId"], id);

    // A shipped voucher cannot be requested again; a webhook for an unknown order is ignored.
    assert_eq!(
        error_body(request(&app, &me, &[v1]).await, 403).await["code"],
        "VOUCHER_NOT_AVAILABLE"
    );
    let r = app
        .http
        .post(format!("{}/pg/portone/webhook", app.base))
        .json(&json!({ "imp_uid": "imp_1", "merchant_uid": "nobody", "status": "paid" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_amount_is_forgeried_and_cancelled_at_portone_and_the_app_call_after_the_webhook_agrees(
) {
    let app = App::spawn().await;
    let me = app.member("dr-forger").await;
    let v1 = grant(&app, &me, "BUTTER").await;
    let (id, merchant_uid, fee) = open(&app, &me, &[v1]).await;
    app.portone.set_behavior(Behavior {
        other_amount: true,
        ..Behavior::default()
    });
    let imp_uid = buyer_pays(&app.portone.base_url, &merchant_uid, fee, "approve")
        .await
        .unwrap();
    app.portone.set_behavior(Behavior::default());
    // The webhook (before the app's call) already found the forgery and cancelled the 100 won.
    let r = verify(&app, &me, id, &imp_uid).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "forgeried");
    assert_eq!(app.portone.state().cancelled, vec![(imp_uid.clone(), 100)]);
    assert_eq!(app.portone.payment(&imp_uid).unwrap().status, "cancelled");
    assert_eq!(
        app.queued_callbacks("delivery_request.forgeried")
            .await
            .len(),
        1
    );
    assert!(app
        .queued_callbacks("delivery_request.paid")
        .await
        .is_empty());
    // Forgeried is not paid: no shipping, no refund; the member may delete it and get its voucher.
    assert_eq!(
        error_body(approve(&app, id).await, 409).await["code"],
        "DELIVERY_REQUEST_NOT_PAID"
    );
    let r = post(&app, &me, &format!("/api/v1/delivery-requests/{id}/refund")).await;
    assert_eq!(error_body(r, 404).await["code"], "FEE_PAYMENT_NOT_FOUND");
    let r = app
        .member_call(
            &me,
            Method::DELETE,
            &format!("/api/v1/delivery-requests/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["voucherIds"], json!([v1]));
    assert_eq!(voucher_states(&app, &me).await, vec!["available"]);

    // Without the webhook (the app's call first), the same outcome.
    let other = app.member("dr-forger-2").await;
    let v2 = grant(&app, &other, "LOVE").await;
    let (id2, merchant_uid2, fee2) = open(&app, &other, &[v2]).await;
    app.portone.set_behavior(Behavior {
        other_amount: true,
        ..Behavior::default()
    });
    app.portone.set_webhook_url("http://127.0.0.1:9/nowhere");
    let imp2 = buyer_pays(&app.portone.base_url, &merchant_uid2, fee2, "approve")
        .await
        .unwrap();
    let v: Value = verify(&app, &other, id2, &imp2).await.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "forgeried");
    assert!(app.portone.state().cancelled.contains(&(imp2, 100)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refund_with_the_right_checksum_then_refusals_and_portone_faults_lose_nothing() {
    let app = App::spawn().await;
    let me = app.member("dr-refund").await;
    let v1 = grant(&app, &me, "BUTTER").await;
    let (id, merchant_uid, fee) = open(&app, &me, &[v1]).await;
    let imp_uid = buyer_pays(&app.portone.base_url, &merchant_uid, fee, "approve")
        .await
        .unwrap();

    // PortOne down or hanging: 503, the request still waits; then it works.
    app.portone.set_behavior(Behavior {
        api: EndpointMode::ServerError,
        ..Behavior::default()
    });
    let other = app.member("dr-refund-2").await;
    let v2 = grant(&app, &other, "LOVE").await;
    let (id2, m2, f2) = open(&app, &other, &[v2]).await;
    let imp2 = buyer_pays(&app.portone.base_url, &m2, f2, "approve")
        .await
        .unwrap();
    assert_eq!(
        error_body(verify(&app, &other, id2, &imp2).await, 503).await["code"],
        "PG_UNAVAILABLE"
    );
    app.portone.set_behavior(Behavior {
        api: EndpointMode::Hang,
        hang_ms: Some(5_000),
        ..Behavior::default()
    });
    assert_eq!(
        error_body(verify(&app, &other, id2, &imp2).await, 503).await["code"],
        "PG_UNAVAILABLE"
    );
    app.portone.set_behavior(Behavior::default());
    // A payment of another order (or none) is refused and changes nothing.
    let r = verify(&app, &other, id2, &imp_uid).await;
    assert_eq!(error_body(r, 409).await["code"], "PAYMENT_OF_ANOTHER_ORDER");
    let r = verify(&app, &other, id2, "imp_000000000404").await;
    assert_eq!(
        error_body(r, 404).await["message"],
        "포트원 결제 정보를 찾지 못했어요."
    );
    let v: Value = verify(&app, &other, id2, &imp2).await.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "paid");
    let v: Value = verify(&app, &me, id, &imp_uid).await.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "paid");
    let r = post(&app, &me, &format!("/api/v1/delivery-requests/{id}/refund")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["shipping"]["payment"]["state"], "refunded");
    assert_eq!(voucher_states(&app, &me).await, vec!["available"]);
    assert_eq!(app.portone.state().cancelled, vec![(imp_uid.clone(), fee)]);
    // A second refund: refused here, and PortOne would refuse it too (its checksum rule).
    let r = post(&app, &me, &format!("/api/v1/delivery-requests/{id}/refund")).await;
    assert_eq!(error_body(r, 404).await["code"], "FEE_PAYMENT_NOT_FOUND");
    app.try_sql(&format!(
        "UPDATE delivery_requests SET payment_state = 'paid' WHERE id = {id}"
    ))
    .await
    .unwrap();
    let r = post(&app, &me, &format!("/api/v1/delivery-requests/{id}/refund")).await;
    let refused = error_body(r, 400).await;
    assert_eq!(refused["code"], "PORTONE_REFUSED");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("이미 전액취소"),
        "{refused}"
    );
    assert_eq!(
        app.portone.state().cancelled.len(),
        1,
        "one refund at PortOne"
    );
    assert_eq!(
        app.queued_callbacks("delivery_request.refunded")
            .await
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vouchers_are_checked_and_delete_returns_them() {
    let app = App::spawn().await;
    let (me, other) = (app.member("dr-me").await, app.member("dr-other").await);
    let mine = grant(&app, &me, "BUTTER").await;
    let theirs = grant(&app, &other, "LOVE").await;
    let r = request(&app, &me, &[mine, theirs]).await;
    let body = error_body(r, 403).await;
    assert_eq!(
        (body["code"].as_str(), body["message"].as_str()),
        (Some("VOUCHER_NOT_OWNED"), Some("당신의 소유권이 아니에요."))
    );
    let r = request(&app, &me, &[mine, 999_999_999]).await;
    assert_eq!(
        error_body(r, 404).await["message"],
        "사용하려는 소유권을 찾지 못했어요."
    );
    for bad in [json!([]), json!([mine, mine])] {
        let r = app
            .member_call(&me, Method::POST, "/api/v1/delivery-requests")
            .json(&json!({ "voucherIds": bad, "address": address() }))
            .send()
            .await
            .unwrap();
        assert_eq!(error_body(r, 400).await["details"]["field"], "voucherIds");
    }
    assert_eq!(
        voucher_states(&app, &me).await,
        vec!["available"],
        "refusals hold nothing"
    );
    let (id, _, _) = open(&app, &me, &[mine]).await;
    // Another member cannot see, delete or pay it.
    for (method, path) in [
        (Method::GET, format!("/api/v1/delivery-requests/{id}")),
        (Method::DELETE, format!("/api/v1/delivery-requests/{id}")),
        (
            Method::POST,
            format!("/api/v1/delivery-requests/{id}/refund"),
        ),
    ] {
        let r = app.member_call(&other, method, &path).send().await.unwrap();
        assert_eq!(
            error_body(r, 404).await["message"],
            "해당 배송 요청을 찾지 못했어요."
        );
    }
    let r = app
        .member_call(
            &me,
            Method::DELETE,
            &format!("/api/v1/delivery-requests/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["voucherIds"],
        json!([mine])
    );
    assert_eq!(voucher_states(&app, &me).await, vec!["available"]);
    assert_eq!(
        app.queued_callbacks("delivery_request.deleted").await.len(),
        1
    );
    let r = app
        .member_call(&me, Method::GET, &format!("/api/v1/delivery-requests/{id}"))
        .send()
        .await
        .unwrap();
    error_body(r, 404).await;
    // A saved address works too.
    let saved: Value = app
        .member_call(&me, Method::POST, "/api/v1/addresses")
        .json(&address())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = app
        .member_call(&me, Method::POST, "/api/v1/delivery-requests")
        .json(&json!({ "voucherIds": [mine], "addressId": saved["addressId"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_for_one_voucher_hold_it_once() {
    let app = App::spawn().await;
    let me = app.member("dr-race").await;
    for round in 0..5 {
        let voucher = grant(&app, &me, &format!("card {round}")).await;
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let call = app
                    .member_call(&me, Method::POST, "/api/v1/delivery-requests")
                    .json(&json!({ "voucherIds": [voucher], "address": address() }));
                tokio::spawn(async move { call.send().await.unwrap().status() })
            })
            .collect();
        let mut statuses = Vec::new();
        for c in calls {
            statuses.push(c.await.unwrap());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::FORBIDDEN),
            "{statuses:?}"
        );
        let held = app
            .text(&format!(
            "SELECT count(*)::text AS v FROM delivery_request_vouchers WHERE voucher_id = {voucher}"
        ))
            .await;
        assert_eq!(held, "1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_filter_by_requesters_and_states_and_page_with_has_next_page() {
    let app = App::spawn().await;
    let (a, b, c) = (
        app.member("dr-a").await,
        app.member("dr-b").await,
        app.member("dr-c").await,
    );
    let mut a_ids = Vec::new();
    for i in 0..22 {
        let v = grant(&app, &a, &format!("a{i}")).await;
        a_ids.push(open(&app, &a, &[v]).await);
    }
    let vb = grant(&app, &b, "b").await;
    let (b_id, b_uid, fee) = open(&app, &b, &[vb]).await;
    let imp = buyer_pays(&app.portone.base_url, &b_uid, fee, "approve")
        .await
        .unwrap();
    verify(&app, &b, b_id, &imp).await;
    let vc = grant(&app, &c, "c").await;
    open(&app, &c, &[vc]).await;
    let list = |query: &str| {
        let query = query.to_owned();
        let app = &app;
        async move {
            let r = app
                .admin(
                    Method::GET,
                    &format!(
                        "/admin/v1/delivery-requests?partnerId={}{query}",
                        app.partner.id.0
                    ),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{query}");
            r.json::<Value>().await.unwrap()
        }
    };
    let first = list("").await;
    assert_eq!(first["shippings"].as_array().unwrap().len(), 20);
    assert_eq!(
        first["paging"],
        json!({ "pageParam": 0, "hasNextPage": true })
    );
    let second = list("&pageParam=1").await;
    assert_eq!(second["shippings"].as_array().unwrap().len(), 4);
    assert_eq!(second["paging"]["hasNextPage"], false);
    let ids: Vec<i64> = first["shippings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["shippings"].as_array().unwrap())
        .map(|s| s["requestId"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );

    let bc = list("&partnerUserIds=dr-b,dr-c").await;
    let users: Vec<&str> = bc["shippings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["partnerUserId"].as_str().unwrap())
        .collect();
    assert_eq!(users, vec!["dr-c", "dr-b"]);
    let paid = list("&paymentState=paid").await;
    assert_eq!(paid["shippings"].as_array().unwrap().len(), 1);
    assert_eq!(paid["shippings"][0]["requestId"], b_id);
    assert_eq!(
        paid["shippings"][0]["voucher"],
        json!({ "amount": 1, "represent": "b" })
    );
    let waiting_a =
        list("&partnerUserIds=dr-a&paymentState=waiting&shippingState=waiting&pageParam=1").await;
    assert_eq!(waiting_a["shippings"].as_array().unwrap().len(), 2);
    approve(&app, b_id).await;
    let shipped = list("&shippingState=shipped&paymentState=all").await;
    assert_eq!(shipped["shippings"].as_array().unwrap().len(), 1);
    assert!(list("&paymentState=forgeried").await["shippings"]
        .as_array()
        .unwrap()
        .is_empty());
    // Bad filters are 400, and a member lists only its own.
    let r = app
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/delivery-requests?partnerId={}&shippingState=lost",
                app.partner.id.0
            ),
        )
        .send()
        .await
        .unwrap();
    error_body(r, 400).await;
    let mine: Value = app
        .member_call(&c, Method::GET, "/api/v1/delivery-requests")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["shippings"].as_array().unwrap().len(), 1);
    assert_eq!(mine["shippings"][0]["partnerUserId"], "dr-c");
}
