//! The address book (SPEC §13) over HTTP against PostgreSQL: the first address is prime, exactly one
//! prime survives any mix of parallel `prime` calls and deletes, another member's address is 404, and a
//! checkout can name a saved address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::{error_body, App, Member};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn address(name: &str, prime: bool) -> Value {
    json!({
        "name": name, "recipient": "김영희", "contact": "010-3333-3333", "postcode": "11611",
        "address": "경기 의정부시 가금로 29 (지승메디컬프라자)", "addressDetail": "303호",
        "requirement": "부재 시 택배함에 놓아주세요.", "prime": prime,
    })
}

async fn add(app: &App, member: &Member, name: &str, prime: bool) -> Value {
    let r = app
        .member_call(member, Method::POST, "/api/v1/addresses")
        .json(&address(name, prime))
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

async fn list(app: &App, member: &Member) -> Vec<Value> {
    let r = app
        .member_call(member, Method::GET, "/api/v1/addresses")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["addresses"]
        .as_array()
        .unwrap()
        .clone()
}

fn primes(all: &[Value]) -> Vec<i64> {
    all.iter()
        .filter(|a| a["prime"] == true)
        .map(|a| a["addressId"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_address_is_prime_and_the_mark_moves_and_survives_deletes() {
    let app = App::spawn().await;
    let me = app.member("addr-owner").await;
    let home = add(&app, &me, "집", false).await;
    assert_eq!(home["prime"], true, "the first address is prime");
    assert_eq!(home["contact"], "01033333333");
    let office = add(&app, &me, "회사", false).await;
    assert_eq!(office["prime"], false);
    let parents = add(&app, &me, "본가", true).await;
    assert_eq!(parents["prime"], true);
    let all = list(&app, &me).await;
    assert_eq!(all.len(), 3);
    assert_eq!(primes(&all), vec![parents["addressId"].as_i64().unwrap()]);
    assert_eq!(all[0]["addressId"], parents["addressId"], "prime first");

    // PATCH …/prime moves the mark.
    let id = office["addressId"].as_i64().unwrap();
    let r = app
        .member_call(&me, Method::PATCH, &format!("/api/v1/addresses/{id}/prime"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(primes(&list(&app, &me).await), vec![id]);

    // PUT replaces the fields; prime: false on the prime address leaves it prime.
    let mut changed = address("사무실", false);
    changed["addressDetail"] = json!("5층");
    let r = app
        .member_call(&me, Method::PUT, &format!("/api/v1/addresses/{id}"))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["name"].as_str(), v["addressDetail"].as_str()),
        (Some("사무실"), Some("5층"))
    );
    assert_eq!(v["prime"], true);

    // Deleting the prime one makes the most recent remaining one prime.
    let r = app
        .member_call(&me, Method::DELETE, &format!("/api/v1/addresses/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let all = list(&app, &me).await;
    assert_eq!(primes(&all), vec![parents["addressId"].as_i64().unwrap()]);
    for a in &all {
        let id = a["addressId"].as_i64().unwrap();
        let r = app
            .member_call(&me, Method::DELETE, &format!("/api/v1/addresses/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    assert!(list(&app, &me).await.is_empty());
    // A new first address is prime again.
    assert_eq!(add(&app, &me, "새 집", false).await["prime"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_members_address_is_not_found_for_every_command_and_bad_input_is_refused() {
    let app = App::spawn().await;
    let (me, other) = (app.member("addr-me").await, app.member("addr-other").await);
    let mine = add(&app, &me, "집", false).await["addressId"]
        .as_i64()
        .unwrap();
    let theirs = add(&app, &other, "집", false).await["addressId"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/addresses/{theirs}");
    let prime = format!("{path}/prime");
    for (method, p, message) in [
        (Method::GET, path.as_str(), "해당 배송지를 찾지 못했어요."),
        (
            Method::PUT,
            path.as_str(),
            "수정하려는 배송지의 데이터가 서버에 존재하지 않아요.",
        ),
        (
            Method::DELETE,
            path.as_str(),
            "삭제하려는 배송지의 데이터가 서버에 존재하지 않아요.",
        ),
        (
            Method::PATCH,
            prime.as_str(),
            "수정하려는 배송지의 데이터가 서버에 존재하지 않아요.",
        ),
        (
            Method::GET,
            "/api/v1/addresses/x1",
            "해당 배송지를 찾지 못했어요.",
        ),
        (
            Method::GET,
            "/api/v1/addresses/-3",
            "해당 배송지를 찾지 못했어요.",
        ),
    ] {
        let r = app
            .member_call(&me, method.clone(), p)
            .json(&address("남의 집", true))
            .send()
            .await
            .unwrap();
        let body = error_body(r, 404).await;
        assert_eq!(body["code"], "ADDRESS_NOT_FOUND", "{method} {p}");
        assert_eq!(body["message"], message);
    }
    // The other member's book is untouched.
    let theirs_now = list(&app, &other).await;
    assert_eq!(theirs_now.len(), 1);
    assert_eq!(theirs_now[0]["prime"], true);
    assert_eq!(theirs_now[0]["name"], "집");

    for (field, value) in [
        ("contact", json!("02-123-4567")),
        ("name", json!("")),
        ("recipient", json!("a\u{0}b")),
        ("address", json!("가".repeat(201))),
    ] {
        let mut body = address("집", false);
        body[field] = value;
        let r = app
            .member_call(&me, Method::PUT, &format!("/api/v1/addresses/{mine}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_body(r, 400).await["details"]["field"], field);
    }
    let mut body = address("집", false);
    body["extra"] = json!(1);
    let r = app
        .member_call(&me, Method::POST, "/api/v1/addresses")
        .json(&body)
        .send()
        .await
        .unwrap();
    error_body(r, 400).await;
    assert_eq!(list(&app, &me).await.len(), 1);

    // The book holds at most 20 addresses.
    for i in 1..20 {
        add(&app, &me, &format!("집 {i}"), false).await;
    }
    let r = app
        .member_call(&me, Method::POST, "/api/v1/addresses")
        .json(&address("하나 더", false))
        .send()
        .await
        .unwrap();
    assert_eq!(error_body(r, 409).await["code"], "ADDRESS_BOOK_FULL");
    assert_eq!(primes(&list(&app, &me).await), vec![mine]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_prime_calls_and_deletes_always_leave_exactly_one_prime() {
    let app = App::spawn().await;
    let me = app.member("addr-race").await;
    for round in 0..4 {
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(
                add(&app, &me, &format!("r{round}-{i}"), false).await["addressId"]
                    .as_i64()
                    .unwrap(),
            );
        }
        // Every address is made prime at once while half of them (the prime one among them) are
        // deleted at once.
        let current = primes(&list(&app, &me).await)[0];
        let mut calls = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let (method, path) = if i % 2 == 0 || *id == current {
                (Method::DELETE, format!("/api/v1/addresses/{id}"))
            } else {
                (Method::PATCH, format!("/api/v1/addresses/{id}/prime"))
            };
            let request = app.member_call(&me, method, &path);
            calls.push(tokio::spawn(async move { request.send().await.unwrap() }));
            let prime_again = app.member_call(
                &me,
                Method::PATCH,
                &format!("/api/v1/addresses/{}/prime", ids[(i + 3) % ids.len()]),
            );
            calls.push(tokio::spawn(
                async move { prime_again.send().await.unwrap() },
            ));
        }
        for call in calls {
            let status = call.await.unwrap().status();
            assert!(
                [
                    StatusCode::OK,
                    StatusCode::NO_CONTENT,
                    StatusCode::NOT_FOUND
                ]
                .contains(&status),
                "{status}"
            );
        }
        let all = list(&app, &me).await;
        assert!(!all.is_empty());
        assert_eq!(primes(&all).len(), 1, "round {round}: {all:?}");
        let in_db = app
            .text(
                "SELECT count(*)::text AS v FROM addresses a JOIN members m ON m.id = a.member_id \
                 WHERE m.partner_user_id = 'addr-race' AND a.prime",
            )
            .await;
        assert_eq!(in_db, "1");
        // Leave the book small for the next round.
        for a in all {
            let id = a["addressId"].as_i64().unwrap();
            app.member_call(&me, Method::DELETE, &format!("/api/v1/addresses/{id}"))
                .send()
                .await
                .unwrap();
        }
    }
    // And the database itself refuses a second prime or none, whatever the code does.
    add(&app, &me, "a", false).await;
    add(&app, &me, "b", false).await;
    let second = app
        .try_sql("UPDATE addresses SET prime = true WHERE NOT prime")
        .await;
    assert!(second.unwrap_err().contains("addresses_one_prime"));
    let none = app.try_sql("UPDATE addresses SET prime = false").await;
    assert!(none.unwrap_err().contains("no prime address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_names_a_saved_address_but_not_another_members() {
    let app = App::spawn().await;
    let (seller, buyer, other) = (
        app.member("addr-seller").await,
        app.member("addr-buyer").await,
        app.member("addr-stranger").await,
    );
    let product = app.product(&seller, 20_000, &["CARD"]).await;
    let saved = add(&app, &buyer, "집", false).await["addressId"].clone();
    let foreign = add(&app, &other, "집", false).await["addressId"].clone();
    let checkout = |address: Value| {
        let mut body = json!({
            "productId": product, "paymentMethod": "CARD", "tradeType": "GENERAL",
            "returnUrl": format!("{}/paid", escrow_e2e::ORIGIN),
        });
        body.as_object_mut()
            .unwrap()
            .extend(address.as_object().unwrap().clone());
        app.member_call(&buyer, Method::POST, "/api/v1/checkouts")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
    };
    let r = checkout(json!({ "addressId": foreign })).await.unwrap();
    assert_eq!(error_body(r, 404).await["code"], "ADDRESS_NOT_FOUND");
    let r = checkout(json!({})).await.unwrap();
    error_body(r, 400).await;
    let both = json!({ "addressId": saved, "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울", "addressDetail": "1층" } });
    let r = checkout(both).await.unwrap();
    error_body(r, 400).await;

    let r = checkout(json!({ "addressId": saved })).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["checkoutId"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = app
        .text(&format!(
            "SELECT shipping_address::text AS v FROM checkouts WHERE id = '{id}'"
        ))
        .await;
    assert!(
        stored.contains("김영희") && stored.contains("303호"),
        "{stored}"
    );
}
