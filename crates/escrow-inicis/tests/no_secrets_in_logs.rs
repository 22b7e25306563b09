//! No merchant key (signKey, INIAPI key and IV) and no account number (an issued virtual account, a
//! buyer's refund account) reaches `Debug` output or logs, through every Inicis call. Alone in its
//! test binary: tracing caches per call site whether anyone listens.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should fail the test loudly

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::{CheckoutId, MerchantId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::payment::{
    PaymentBuyer, PaymentGateway, PaymentRequest, PaymentStep, PgAuthentication, RefundRequest,
};
use escrow_domain::payment_setup::{Merchant, MerchantKeys};
use escrow_domain::payout_account::BankAccount;
use escrow_domain::people::{PartnerMode, PhoneNumber};
use escrow_inicis::simulator::{Behavior, SimMerchant, Simulator};
use escrow_inicis::wire::AuthUrlWhitelist;
use escrow_inicis::{InicisConfig, InicisGateway};

const SIGN_KEY: &str = "SIGNKEY-7f3a9c2e5b1d";
const INIAPI_KEY: &str = "INIAPIKEY-4e8b2c";
const INIAPI_IV: &str = "INIAPI-IV-9d1f07";
const REFUND_ACCOUNT: &str = "110123456789";

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

fn merchant() -> Merchant {
    Merchant {
        id: MerchantId::random(),
        gateway: "inicis".into(),
        partner_id: None,
        mode: PartnerMode::Live,
        mid: "MIDSECRETS1".into(),
        keys: MerchantKeys::new()
            .with("signKey", SIGN_KEY)
            .with("iniapiKey", INIAPI_KEY)
            .with("iniapiIv", INIAPI_IV),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        removed_at: None,
    }
}

fn request(method: PaymentMethod) -> PaymentRequest {
    PaymentRequest {
        checkout_id: CheckoutId::random(),
        amount: Money::new(50_000, Currency::Krw),
        method,
        order_name: "중고 자전거".into(),
        buyer: PaymentBuyer {
            name: "홍길동".into(),
            phone: PhoneNumber::new("010-9876-5432").unwrap(),
        },
        return_url: "http://127.0.0.1:9/return".into(),
        callback_url: "http://127.0.0.1:9/callback".into(),
        installments: Default::default(),
    }
}

async fn authenticate(gateway: &InicisGateway, method: PaymentMethod) -> PgAuthentication {
    let start = gateway
        .create_payment(&merchant(), &request(method))
        .await
        .unwrap();
    let PaymentStep::Form { action, fields } = start.next else {
        panic!("a form")
    };
    let (_, fields) = escrow_inicis::simulator::buyer_decides(&action, &fields, "approve")
        .await
        .unwrap();
    PgAuthentication { fields }
}

#[tokio::test]
async fn no_key_or_account_number_appears_in_debug_output_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = Simulator::start(
        vec![SimMerchant {
            mid: "MIDSECRETS1".into(),
            sign_key: SIGN_KEY.into(),
            iniapi_key: INIAPI_KEY.into(),
            iniapi_iv: INIAPI_IV.into(),
        }],
        TcpListener::bind("127.0.0.1:0").unwrap(),
        Some("http://127.0.0.1:9/notice".into()),
    )
    .unwrap();
    let gateway = InicisGateway::new(InicisConfig {
        name: "inicis".into(),
        form_action: sim.form_action(),
        auth_urls: AuthUrlWhitelist::new(&sim.auth_url_template()),
        iniapi_url: sim.base_url.clone(),
        client_ip: "127.0.0.1".into(),
        vbank_hours: 24,
        request_timeout_ms: 2_000,
    })
    .unwrap();
    let mut debug = format!("{gateway:?} {:?} {:?}", merchant(), merchant().keys);

    // A card: approved, queried, refunded.
    let auth = authenticate(&gateway, PaymentMethod::Card).await;
    debug.push_str(&format!("{auth:?}"));
    let card = gateway.approve(&merchant(), &auth).await.unwrap();
    gateway
        .payment_status(&merchant(), &card.transaction_id)
        .await
        .unwrap();
    gateway
        .refund(
            &merchant(),
            &RefundRequest {
                transaction_id: card.transaction_id.clone(),
                amount: Money::new(50_000, Currency::Krw),
                to_account: None,
            },
        )
        .await
        .unwrap();

    // A virtual account: issued, deposited, refunded to the buyer's account.
    let auth = authenticate(&gateway, PaymentMethod::VirtualAccount).await;
    let va = gateway.approve(&merchant(), &auth).await.unwrap();
    let issued = va.issued_account.clone().unwrap();
    debug.push_str(&format!("{va:?} {issued:?}"));
    reqwest::Client::new()
        .post(format!(
            "{}/_sim/deposit/{}",
            sim.base_url, va.transaction_id
        ))
        .send()
        .await
        .unwrap();
    let refund = RefundRequest {
        transaction_id: va.transaction_id.clone(),
        amount: Money::new(50_000, Currency::Krw),
        to_account: Some(BankAccount::new("21", REFUND_ACCOUNT, "이순신").unwrap()),
    };
    debug.push_str(&format!("{refund:?}"));
    gateway.refund(&merchant(), &refund).await.unwrap();
    assert_eq!(sim.state().refunded_to.len(), 1);

    // A forged approval, cancelled at Inicis.
    sim.set_behavior(Behavior {
        forge_auth_signature: true,
        ..Behavior::default()
    });
    let auth = authenticate(&gateway, PaymentMethod::Card).await;
    assert!(gateway.approve(&merchant(), &auth).await.is_err());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("payment approved"),
        "the logger heard the gateway: {logs}"
    );
    for secret in [
        SIGN_KEY,
        INIAPI_KEY,
        INIAPI_IV,
        REFUND_ACCOUNT,
        &issued.number,
    ] {
        assert!(!debug.contains(secret), "{secret} in Debug output: {debug}");
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
}
