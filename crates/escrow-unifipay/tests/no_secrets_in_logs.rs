//! No secret reaches `Debug` output or logs. Alone in its test binary: tracing caches per call site
//! whether anyone listens, so a logger installed for one test among many could miss events.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should fail the test loudly

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use escrow_domain::ids::CheckoutId;
use escrow_domain::money::{Currency, Money};
use escrow_domain::payment::{verify_transaction, PaymentGateway, PaymentRequest};
use escrow_unifipay::simulator::{Simulator, SimulatorConfig};
use escrow_unifipay::{UnifiPayClient, UnifiPayConfig};

const SECRET: &str = "sim-secret-0123456789";
const API_KEY: &str = "sim-api-key-abcdef";

struct Fixture {
    sim: escrow_unifipay::simulator::SimulatorHandle,
    client: UnifiPayClient,
}

fn fixture() -> Fixture {
    let sim = Simulator::start(
        SimulatorConfig {
            app_id: "app-1".into(),
            api_key: API_KEY.into(),
            app_secret: SECRET.into(),
            store_id: "store-1".into(),
            currency: "USD".into(),
        },
        TcpListener::bind("127.0.0.1:0").unwrap(),
    )
    .unwrap();
    let client = UnifiPayClient::new(UnifiPayConfig::new(
        &sim.base_url,
        "app-1",
        API_KEY,
        SECRET,
        "store-1",
    ))
    .unwrap();
    Fixture { sim, client }
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

fn request(checkout_id: CheckoutId) -> PaymentRequest {
    PaymentRequest {
        checkout_id,
        amount: usd(1_234),
        method: escrow_domain::contract::PaymentMethod::Card,
        order_name: "Camera".into(),
        buyer: escrow_domain::payment::PaymentBuyer {
            name: "Kim".into(),
            phone: escrow_domain::people::PhoneNumber::new("01012345678").unwrap(),
        },
        return_url: "https://partner.example/return".into(),
        callback_url: "http://127.0.0.1:9/unreachable".into(),
        installments: Default::default(),
    }
}

async fn press(start_page_url: &str, button: &str) {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser
        .post(format!("{start_page_url}/{button}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

/// A writer that keeps everything the logger writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_appears_in_debug_output_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let f = fixture();
    let debug = format!("{:?} {:?}", f.client, f.client.config());
    let checkout = CheckoutId::random();
    let start = f
        .client
        .create_payment(&merchant(), &request(checkout))
        .await
        .unwrap();
    press(start_page(&start), "approve").await;
    verify_transaction(
        &f.client,
        &merchant(),
        &start.transaction_id,
        checkout,
        usd(1_234),
    )
    .await
    .unwrap();
    let bad = UnifiPayClient::new(UnifiPayConfig::new(
        &f.sim.base_url,
        "app-1",
        API_KEY,
        "wrong-secret",
        "store-1",
    ))
    .unwrap();
    let _ = bad.create_payment(&merchant(), &request(checkout)).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("payment created"),
        "the logger captured nothing: {logs}"
    );
    for secret in [SECRET, API_KEY, "wrong-secret"] {
        assert!(!debug.contains(secret), "{debug}");
        assert!(!logs.contains(secret), "{logs}");
    }
    assert!(debug.contains("[REDACTED]"));
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
