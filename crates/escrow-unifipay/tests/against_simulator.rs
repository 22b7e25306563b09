//! The Unifi Pay client against the simulator over real HTTP: every outcome a checkout can meet.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should fail the test loudly

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use escrow_domain::ids::CheckoutId;
use escrow_domain::money::{Currency, Money};
use escrow_domain::payment::{
    verify_transaction, PaymentGateway, PaymentOutcome, PaymentRequest, PgError, PgFailure,
    RefundRequest,
};
use escrow_signature::{request_signature, RequestParts};
use escrow_unifipay::simulator::{
    Behavior, CallbackMode, EndpointMode, Simulator, SimulatorConfig, SimulatorHandle,
};
use escrow_unifipay::{UnifiPayClient, UnifiPayConfig};

const SECRET: &str = "sim-secret-0123456789";
const API_KEY: &str = "sim-api-key-abcdef";

fn sim_config() -> SimulatorConfig {
    SimulatorConfig {
        app_id: "app-1".into(),
        api_key: API_KEY.into(),
        app_secret: SECRET.into(),
        store_id: "store-1".into(),
        currency: "USD".into(),
    }
}

/// A partner-side stand-in that records the PG callbacks it receives.
struct CallbackReceiver {
    url: String,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

fn callback_receiver() -> CallbackReceiver {
    let bodies: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/pg/callback", listener.local_addr().unwrap());
    let store = bodies.clone();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().route(
            "/pg/callback",
            web::post().to(move |body: web::Json<serde_json::Value>| {
                let store = store.clone();
                async move {
                    store.lock().unwrap().push(body.into_inner());
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    CallbackReceiver { url, bodies }
}

struct Fixture {
    sim: SimulatorHandle,
    client: UnifiPayClient,
    callbacks: CallbackReceiver,
}

fn fixture() -> Fixture {
    let sim = Simulator::start(sim_config(), TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
    let mut config = UnifiPayConfig::new(&sim.base_url, "app-1", API_KEY, SECRET, "store-1");
    config.request_timeout_ms = 500;
    let client = UnifiPayClient::new(config).unwrap();
    Fixture {
        sim,
        client,
        callbacks: callback_receiver(),
    }
}

/// The page a Unifi Pay start sends the browser to.
fn start_page(start: &escrow_domain::payment::PaymentStart) -> &str {
    match &start.next {
        escrow_domain::payment::PaymentStep::Redirect { url } => url,
        other => panic!("Unifi Pay answers a redirect, not {other:?}"),
    }
}

fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::Usd)
}

fn request(checkout_id: CheckoutId, callback_url: &str) -> PaymentRequest {
    PaymentRequest {
        checkout_id,
        amount: usd(1_234),
        method: escrow_domain::contract::PaymentMethod::Card,
        order_name: "Camera".into(),
        buyer: escrow_domain::payment::PaymentBuyer {
            name: "Kim".into(),
            phone: escrow_domain::people::PhoneNumber::new("01012345678").unwrap(),
        },
        return_url: "https://partner.example/return?checkoutId=c-1".into(),
        callback_url: callback_url.into(),
        installments: Default::default(),
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens the start page and presses a button, as the buyer's browser does; returns the redirect.
async fn press(start_page_url: &str, button: &str) -> String {
    let page = browser()
        .get(start_page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"approve\"") && page.contains("id=\"decline\""),
        "{page}"
    );
    let response = browser()
        .post(format!("{start_page_url}/{button}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn approve_ends_approved_and_the_browser_returns_with_the_transaction_id() {
    let f = fixture();
    let checkout = CheckoutId::random();
    f.sim.set_behavior(Behavior {
        callback: CallbackMode::BeforeRedirect,
        ..Behavior::default()
    });
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    let location = press(start_page(&start), "approve").await;
    assert_eq!(
        location,
        format!(
            "https://partner.example/return?checkoutId=c-1&transactionId={}",
            start.transaction_id
        )
    );
    let outcome = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(1_234),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome,
        PaymentOutcome::Approved {
            transaction_id: start.transaction_id.clone()
        }
    );
    let received = f.callbacks.bodies.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["transactionId"], start.transaction_id.as_str());
}

#[tokio::test]
async fn decline_ends_pg_declined() {
    let f = fixture();
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    press(start_page(&start), "decline").await;
    let outcome = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(1_234),
    )
    .await
    .unwrap();
    assert_eq!(outcome, PaymentOutcome::Failed(PgFailure::Declined));
}

#[tokio::test]
async fn decline_all_switch_declines_the_approve_button() {
    let f = fixture();
    f.sim.set_behavior(Behavior {
        decline_all: true,
        ..Behavior::default()
    });
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    press(start_page(&start), "approve").await;
    let outcome = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(1_234),
    )
    .await
    .unwrap();
    assert_eq!(outcome, PaymentOutcome::Failed(PgFailure::Declined));
}

fn failure(e: PgError) -> PgFailure {
    match e {
        PgError::Failed { failure, .. } => failure,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn server_errors_are_pg_unavailable() {
    let f = fixture();
    f.sim.set_behavior(Behavior {
        create: EndpointMode::ServerError,
        ..Behavior::default()
    });
    let err = f
        .client
        .create_payment(
            &merchant(),
            &request(CheckoutId::random(), &f.callbacks.url),
        )
        .await
        .unwrap_err();
    assert_eq!(failure(err), PgFailure::Unavailable);

    f.sim.set_behavior(Behavior::default());
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    f.sim.set_behavior(Behavior {
        status: EndpointMode::ServerError,
        ..Behavior::default()
    });
    let err = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(1_234),
    )
    .await
    .unwrap_err();
    assert_eq!(failure(err), PgFailure::Unavailable);
}

#[tokio::test]
async fn a_hanging_pg_is_cut_off_by_the_client_timeout_as_unavailable() {
    let f = fixture();
    // The simulator hangs 5 s; the client gives up after its 500 ms timeout.
    f.sim.set_behavior(Behavior {
        create: EndpointMode::Hang,
        hang_ms: Some(5_000),
        ..Behavior::default()
    });
    let err = f
        .client
        .create_payment(
            &merchant(),
            &request(CheckoutId::random(), &f.callbacks.url),
        )
        .await
        .unwrap_err();
    assert_eq!(err, PgError::failed(PgFailure::Unavailable, "timeout"));
}

#[tokio::test]
async fn a_wrong_amount_or_currency_is_forgery() {
    let f = fixture();
    for behavior in [
        Behavior {
            wrong_amount: true,
            ..Behavior::default()
        },
        Behavior {
            wrong_currency: true,
            ..Behavior::default()
        },
    ] {
        f.sim.set_behavior(Behavior::default());
        let checkout = CheckoutId::random();
        let start = f
            .client
            .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
            .await
            .unwrap();
        press(start_page(&start), "approve").await;
        f.sim.set_behavior(behavior.clone());
        let outcome = verify_transaction(
            &f.client,
            &merchant(),
            &start.transaction_id,
            checkout,
            usd(1_234),
        )
        .await
        .unwrap();
        assert!(
            matches!(
                outcome,
                PaymentOutcome::Forged {
                    failure: PgFailure::AmountMismatch,
                    ..
                }
            ),
            "{behavior:?}: {outcome:?}"
        );
    }
    // The checkout's own amount differing from what was charged is forgery too.
    f.sim.set_behavior(Behavior::default());
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    press(start_page(&start), "approve").await;
    let outcome = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(999),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, PaymentOutcome::Forged { .. }));
    // And a transaction of another checkout.
    let outcome = verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        CheckoutId::random(),
        usd(1_234),
    )
    .await
    .unwrap();
    assert!(matches!(outcome, PaymentOutcome::Forged { .. }));
}

#[tokio::test]
async fn a_duplicate_callback_arrives_twice_and_verifies_the_same_both_times() {
    let f = fixture();
    f.sim.set_behavior(Behavior {
        callback: CallbackMode::Twice,
        ..Behavior::default()
    });
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout, &f.callbacks.url))
        .await
        .unwrap();
    press(start_page(&start), "approve").await;
    let received = f.callbacks.bodies.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0], received[1]);
    assert_eq!(
        f.sim
            .callbacks()
            .iter()
            .filter(|c| c.answered == 200)
            .count(),
        2
    );
    for body in received {
        let tid = body["transactionId"].as_str().unwrap();
        let outcome = verify_transaction(&f.client, &merchant(), tid, checkout, usd(1_234))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            PaymentOutcome::Approved {
                transaction_id: start.transaction_id.clone()
            }
        );
    }
}

#[tokio::test]
async fn another_currency_is_refused_before_any_call() {
    let f = fixture();
    let before = f.sim.api_calls();
    let mut req = request(CheckoutId::random(), &f.callbacks.url);
    req.amount = Money::krw(15_000);
    let err = f
        .client
        .create_payment(&merchant(), &req)
        .await
        .unwrap_err();
    assert_eq!(failure(err), PgFailure::CurrencyUnsupported);
    assert_eq!(f.sim.api_calls(), before);
}

#[tokio::test]
async fn a_bad_secret_or_key_is_pg_rejected_request() {
    let f = fixture();
    for (key, secret) in [(API_KEY, "wrong-secret"), ("wrong-key", SECRET)] {
        let client = UnifiPayClient::new(UnifiPayConfig::new(
            &f.sim.base_url,
            "app-1",
            key,
            secret,
            "store-1",
        ))
        .unwrap();
        let err = client
            .create_payment(
                &merchant(),
                &request(CheckoutId::random(), &f.callbacks.url),
            )
            .await
            .unwrap_err();
        assert_eq!(failure(err), PgFailure::RejectedRequest);
    }
}

#[tokio::test]
async fn refunds_are_reported_unsupported() {
    let f = fixture();
    let err = f
        .client
        .refund(
            &merchant(),
            &RefundRequest {
                transaction_id: "usim-1".into(),
                amount: usd(1),
                to_account: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err, PgError::RefundUnsupported);
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Sends a hand-signed create request; `alter` changes one part after signing.
async fn raw_create(base: &str, alter: &str, ts_offset_ms: i64) -> u16 {
    let body = br#"{"orderId":"o-1","storeId":"store-1","requestId":"r-1","returnUrl":"https://p/r","callbackUrl":"https://p/c","countryCode":"KOR","orderCurrencyCode":"USD","orderAmount":"1.00"}"#.to_vec();
    let timestamp = (now_ms() - ts_offset_ms).to_string();
    let signature = request_signature(
        SECRET.as_bytes(),
        &RequestParts {
            method: "POST",
            uri: "/api/v1/payment",
            api_key: API_KEY,
            timestamp: &timestamp,
            body: &body,
        },
    );
    let (mut body, mut path, mut key, mut ts, mut sig) = (
        body,
        "/api/v1/payment".to_owned(),
        API_KEY.to_owned(),
        timestamp.clone(),
        signature.clone(),
    );
    match alter {
        "body" => body[3] ^= 1,
        "path" => path = "/api/v1/paymenu".into(),
        "key" => key = format!("{}x", &API_KEY[..API_KEY.len() - 1]),
        "timestamp" => ts = (timestamp.parse::<i64>().unwrap() + 1).to_string(),
        "signature" => {
            let mut b = signature.into_bytes();
            b[5] = if b[5] == b'A' { b'B' } else { b'A' };
            sig = String::from_utf8(b).unwrap();
        }
        _ => {}
    }
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("X-AppId", "app-1")
        .header("X-Api-Key", key)
        .header("X-Timestamp", ts)
        .header("X-Authorization-Hmac", sig)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_simulator_refuses_any_one_byte_alteration_and_a_301_second_old_timestamp() {
    let f = fixture();
    assert_eq!(raw_create(&f.sim.base_url, "none", 0).await, 200);
    // The path alteration lands on no route (404): it is refused either way; the others are 401.
    assert_eq!(raw_create(&f.sim.base_url, "path", 0).await, 404);
    for alter in ["body", "key", "timestamp", "signature"] {
        assert_eq!(raw_create(&f.sim.base_url, alter, 0).await, 401, "{alter}");
    }
    assert_eq!(raw_create(&f.sim.base_url, "none", 301_000).await, 401);
    assert_eq!(raw_create(&f.sim.base_url, "none", 290_000).await, 200);
}

#[tokio::test]
async fn a_signed_path_differing_from_the_requested_one_is_refused() {
    // Signed for /api/v1/payment/tx-1 but sent to /api/v1/payment/tx-2: 401, not the transaction.
    let f = fixture();
    let timestamp = now_ms().to_string();
    let sig = request_signature(
        SECRET.as_bytes(),
        &RequestParts {
            method: "GET",
            uri: "/api/v1/payment/tx-1",
            api_key: API_KEY,
            timestamp: &timestamp,
            body: b"",
        },
    );
    let status = reqwest::Client::new()
        .get(format!("{}/api/v1/payment/tx-2", f.sim.base_url))
        .header("X-AppId", "app-1")
        .header("X-Api-Key", API_KEY)
        .header("X-Timestamp", &timestamp)
        .header("X-Authorization-Hmac", sig)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

/// The merchant the simulator serves.
fn merchant() -> escrow_domain::payment_setup::Merchant {
    escrow_domain::payment_setup::Merchant {
        id: escrow_domain::ids::MerchantId::random(),
        gateway: "unifipay".into(),
        partner_id: None,
        mode: escrow_domain::people::PartnerMode::Live,
        mid: "store-1".into(),
        keys: escrow_domain::payment_setup::MerchantKeys::new(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        removed_at: None,
    }
}
