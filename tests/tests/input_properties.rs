//! Property test over every handler's inputs: arbitrary strings (NUL, control characters, huge and
//! non-ASCII text), numbers at and past every bound, and cursors, thrown at the real server over HTTP.
//! No answer may be a 5xx, and the server must keep answering. The runner is seeded, so a failure
//! repeats; the number of cases is bounded to keep CI within its time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use escrow_e2e::App;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

/// Strings people and attackers send: control characters, NUL, quotes, long runs, Hangul, URLs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f]{0,8}",
        "https?://[a-z.]{0,20}/[\\x00-\\x7f]{0,30}",
        "[가-힣 ]{0,300}",
        Just("x".repeat(5_000)),
        Just(String::new()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(4_294_967_295u64)),
    ]
}

/// Any JSON value, shallow.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        number(),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        prop::collection::vec(text().prop_map(Value::from), 0..3).prop_map(Value::from),
    ]
}

/// A body built from a valid one, each field kept or replaced by anything.
fn mutated(valid: Value) -> impl Strategy<Value = Value> {
    let fields: Vec<String> = valid.as_object().unwrap().keys().cloned().collect();
    prop::collection::vec(prop::option::of(value()), fields.len()).prop_map(move |choices| {
        let mut body = valid.clone();
        for (field, choice) in fields.iter().zip(choices) {
            if let Some(v) = choice {
                body[field] = v;
            }
        }
        body
    })
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    )
}

/// Runs `cases` generated requests and fails on the first 5xx.
fn check<S: Strategy>(
    rt: &tokio::runtime::Handle,
    cases: u32,
    strategy: S,
    send: impl Fn(S::Value) -> reqwest::RequestBuilder,
) where
    S::Value: std::fmt::Debug,
{
    runner(cases)
        .run(&strategy, |input| {
            let shown = format!("{input:?}");
            let status = tokio::task::block_in_place(|| {
                rt.block_on(async { send(input).send().await.map(|r| r.status().as_u16()) })
            })
            .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            prop_assert!(status < 500, "{status} for {shown}");
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_makes_any_handler_answer_5xx() {
    let app = App::spawn().await;
    let rt = tokio::runtime::Handle::current();
    let seller = app.member("prop-seller").await;
    let buyer = app.member("prop-buyer").await;
    let product = app
        .product(&seller, 20_000, &["CARD", "VIRTUAL_ACCOUNT"])
        .await;
    let (_, _, trade) = app.paid_trade("prop").await;

    let product_body = json!({
        "partnerProductId": "p", "name": "자전거", "price": 10000, "shippingFee": 0,
        "paymentMethods": ["CARD"], "description": "d", "imageUrl": "https://img.example/a.png",
        "categoryCode": "A1",
    });
    check(&rt, 48, mutated(product_body), |body| {
        app.member_call(&seller, Method::PUT, "/api/v1/products")
            .json(&body)
    });

    let checkout_body = json!({
        "productId": product, "paymentMethod": "CARD", "tradeType": "GENERAL",
        "shippingAddress": { "recipient": "홍길동", "phone": "01012345678", "postcode": "04524", "address": "서울", "addressDetail": "1층" },
        "returnUrl": "https://market.example/paid", "partnerTradeNo": "T-1",
    });
    check(&rt, 48, mutated(checkout_body), |body| {
        app.member_call(&buyer, Method::POST, "/api/v1/checkouts")
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&body)
    });

    check(
        &rt,
        32,
        mutated(json!({ "partnerUserId": "u", "returnUrl": "https://market.example/x" })),
        |body| app.signed(Method::POST, "/api/v1/members/signup", Some(&body)),
    );
    check(
        &rt,
        32,
        mutated(json!({ "partnerUserId": "u", "memberKey": "k" })),
        |body| app.signed(Method::POST, "/api/v1/auth/token", Some(&body)),
    );
    check(
        &rt,
        32,
        mutated(json!({ "deliveredAt": "2025-01-01T00:00:00Z" })),
        |body| {
            app.signed(
                Method::POST,
                &format!("/api/v1/trades/{trade}/delivered"),
                Some(&body),
            )
        },
    );

    for (path, valid) in [
        (
            "shipment",
            json!({ "carrier": "005", "invoiceNumber": "1" }),
        ),
        ("cancel", json!({ "reason": "r" })),
        (
            "sale-cancel",
            json!({ "reasonCode": 31, "reasonDetail": "d" }),
        ),
        (
            "return-request",
            json!({ "reason": "r", "returnShippingPayer": "SELLER" }),
        ),
        ("return-agree", json!({ "returnAddress": "a" })),
    ] {
        check(&rt, 16, mutated(valid), |body| {
            app.member_call(
                &seller,
                Method::POST,
                &format!("/api/v1/trades/{trade}/{path}"),
            )
            .json(&body)
        });
    }

    // Queries and path segments: cursors (well-formed ones at any instant too), statuses, limits,
    // partner numbers.
    let cursor = prop_oneof![
        text(),
        any::<i64>().prop_map(|micros| format!("{micros}.{}", uuid::Uuid::nil().simple())),
    ];
    // One parameter at a time, so no other bad parameter hides what a bad one does.
    let params = prop_oneof![
        cursor.clone().prop_map(|v| ("cursor", v)),
        text().prop_map(|v| ("status", v)),
        any::<i64>().prop_map(|v| ("limit", v.to_string())),
        text().prop_map(|v| ("role", v)),
    ];
    check(&rt, 96, params, |(name, value)| {
        let mut query = vec![(name, value)];
        if name != "role" {
            query.push(("role", "buyer".to_owned()));
        }
        app.member_call(&buyer, Method::GET, "/api/v1/trades")
            .query(&query)
    });
    check(&rt, 64, cursor, |cursor| {
        app.admin(Method::GET, "/admin/v1/trades")
            .query(&[("cursor", cursor)])
    });
    check(&rt, 32, text(), |no| {
        let encoded: String = no.bytes().map(|b| format!("%{b:02X}")).collect();
        app.member_call(
            &buyer,
            Method::GET,
            &format!("/api/v1/trades/by-partner-no/{encoded}"),
        )
    });
    check(&rt, 32, mutated(json!({ "transactionId": "t" })), |body| {
        app.http
            .post(format!("{}/pg/unifipay/callback", app.base))
            .json(&body)
    });

    // Still answering.
    let r = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}
