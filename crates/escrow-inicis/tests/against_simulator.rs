//! The Inicis gateway against the Inicis simulator over real HTTP: the form the simulator accepts,
//! approval with the authSignature check, net cancels, INIAPI inquiries and refunds, the whitelist.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should fail the test loudly

use std::net::TcpListener;

use escrow_domain::contract::PaymentMethod;
use escrow_domain::ids::{CheckoutId, MerchantId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::payment::{
    PaymentBuyer, PaymentGateway, PaymentRequest, PaymentStep, PgAuthentication, PgError,
    PgFailure, PgPaymentStatus, RefundRequest,
};
use escrow_domain::payment_setup::{Merchant, MerchantKeys};
use escrow_domain::people::{PartnerMode, PhoneNumber};
use escrow_inicis::simulator::{Behavior, EndpointMode, SimMerchant, Simulator, SimulatorHandle};
use escrow_inicis::wire::AuthUrlWhitelist;
use escrow_inicis::{InicisConfig, InicisGateway};

struct Fixture {
    sim: SimulatorHandle,
    gateway: InicisGateway,
    http: reqwest::Client,
}

fn merchant() -> Merchant {
    Merchant {
        id: MerchantId::random(),
        gateway: "inicis".into(),
        partner_id: None,
        mode: PartnerMode::Test,
        mid: escrow_inicis::TEST_MID.into(),
        keys: MerchantKeys::new()
            .with("signKey", escrow_inicis::TEST_SIGN_KEY)
            .with("iniapiKey", "testiniapikey016")
            .with("iniapiIv", "testiniapiiv0016"),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        removed_at: None,
    }
}

fn fixture() -> Fixture {
    let sim = Simulator::start(
        vec![SimMerchant {
            mid: escrow_inicis::TEST_MID.into(),
            sign_key: escrow_inicis::TEST_SIGN_KEY.into(),
            iniapi_key: "testiniapikey016".into(),
            iniapi_iv: "testiniapiiv0016".into(),
        }],
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .unwrap();
    let gateway = InicisGateway::new(InicisConfig {
        name: "inicis".into(),
        form_action: sim.form_action(),
        auth_urls: AuthUrlWhitelist::new(&sim.auth_url_template()),
        iniapi_url: sim.base_url.clone(),
        client_ip: "127.0.0.1".into(),
        vbank_hours: 24,
        request_timeout_ms: 1_000,
    })
    .unwrap();
    Fixture {
        sim,
        gateway,
        http: reqwest::Client::new(),
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
            phone: PhoneNumber::new("010-1234-5678").unwrap(),
        },
        return_url: "http://127.0.0.1:9/checkout/return".into(),
        callback_url: "http://127.0.0.1:9/pg/inicis/callback".into(),
        installments: Default::default(),
    }
}

/// Posts the gateway's form to the simulator and decides; answers the auth result it would post to
/// the return URL.
async fn authenticate(f: &Fixture, request: &PaymentRequest, decision: &str) -> PgAuthentication {
    let start = f
        .gateway
        .create_payment(&merchant(), request)
        .await
        .unwrap();
    let PaymentStep::Form { action, fields } = start.next else {
        panic!("a form")
    };
    let (_, fields) = escrow_inicis::simulator::buyer_decides(&action, &fields, decision)
        .await
        .unwrap();
    PgAuthentication { fields }
}

fn failure(e: PgError) -> PgFailure {
    match e {
        PgError::Failed { failure, .. } => failure,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_card_payment_is_approved_queried_and_refunded() {
    let f = fixture();
    let req = request(PaymentMethod::Card);
    let auth = authenticate(&f, &req, "approve").await;
    let approval = f.gateway.approve(&merchant(), &auth).await.unwrap();
    assert_eq!(approval.order_id, req.checkout_id.to_string());
    assert_eq!(approval.amount.to_string(), "50000");
    assert!(approval.issued_account.is_none());
    let report = f
        .gateway
        .payment_status(&merchant(), &approval.transaction_id)
        .await
        .unwrap();
    assert_eq!(report.status, PgPaymentStatus::Confirmed);
    f.gateway
        .refund(
            &merchant(),
            &RefundRequest {
                transaction_id: approval.transaction_id.clone(),
                amount: req.amount,
                to_account: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        f.sim.state().refunded,
        vec![approval.transaction_id.clone()]
    );
    // The token was used: approving it again is refused.
    assert_eq!(
        failure(f.gateway.approve(&merchant(), &auth).await.unwrap_err()),
        PgFailure::Declined
    );
}

#[tokio::test]
async fn a_virtual_account_is_issued_and_waits_for_its_deposit() {
    let f = fixture();
    let auth = authenticate(&f, &request(PaymentMethod::VirtualAccount), "approve").await;
    let approval = f.gateway.approve(&merchant(), &auth).await.unwrap();
    let account = approval.issued_account.clone().unwrap();
    assert_eq!(account.bank, "국민은행");
    assert!(!account.number.is_empty());
    let report = f
        .gateway
        .payment_status(&merchant(), &approval.transaction_id)
        .await
        .unwrap();
    assert_eq!(report.status, PgPaymentStatus::Pending);
}

#[tokio::test]
async fn a_forged_auth_signature_is_refused_and_net_cancelled() {
    let f = fixture();
    f.sim.set_behavior(Behavior {
        forge_auth_signature: true,
        ..Behavior::default()
    });
    let auth = authenticate(&f, &request(PaymentMethod::Card), "approve").await;
    let err = f.gateway.approve(&merchant(), &auth).await.unwrap_err();
    assert_eq!(failure(err), PgFailure::AmountMismatch);
    let state = f.sim.state();
    assert_eq!(state.approved.len(), 1);
    assert_eq!(state.net_cancelled, state.approved);
}

#[tokio::test]
async fn decline_5xx_and_timeout_have_their_codes() {
    let f = fixture();
    let auth = authenticate(&f, &request(PaymentMethod::Card), "decline").await;
    assert_eq!(
        failure(f.gateway.approve(&merchant(), &auth).await.unwrap_err()),
        PgFailure::Declined
    );
    for (behavior, expected) in [
        (
            Behavior {
                decline: true,
                ..Behavior::default()
            },
            PgFailure::Declined,
        ),
        (
            Behavior {
                pay_auth: EndpointMode::ServerError,
                ..Behavior::default()
            },
            PgFailure::Unavailable,
        ),
        (
            Behavior {
                pay_auth: EndpointMode::Hang,
                hang_ms: Some(3_000),
                ..Behavior::default()
            },
            PgFailure::Unavailable,
        ),
    ] {
        f.sim.set_behavior(behavior.clone());
        let auth = authenticate(&f, &request(PaymentMethod::Card), "approve").await;
        let err = f.gateway.approve(&merchant(), &auth).await.unwrap_err();
        assert_eq!(failure(err), expected, "{behavior:?}");
    }
}

#[tokio::test]
async fn an_auth_url_outside_the_whitelist_is_never_called() {
    let f = fixture();
    let mut auth = authenticate(&f, &request(PaymentMethod::Card), "approve").await;
    for (k, v) in auth.fields.iter_mut() {
        if k == "authUrl" {
            *v = "http://127.0.0.1:9/steal".into();
        }
    }
    assert_eq!(
        failure(f.gateway.approve(&merchant(), &auth).await.unwrap_err()),
        PgFailure::RejectedRequest
    );
    assert!(f.sim.state().approved.is_empty(), "nothing was approved");
}

#[tokio::test]
async fn a_refused_refund_is_a_rejected_request() {
    let f = fixture();
    let auth = authenticate(&f, &request(PaymentMethod::Card), "approve").await;
    let approval = f.gateway.approve(&merchant(), &auth).await.unwrap();
    f.sim.set_behavior(Behavior {
        refuse_refunds: true,
        ..Behavior::default()
    });
    let err = f
        .gateway
        .refund(
            &merchant(),
            &RefundRequest {
                transaction_id: approval.transaction_id,
                amount: Money::new(50_000, Currency::Krw),
                to_account: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(failure(err), PgFailure::RejectedRequest);
    assert!(f.sim.state().refunded.is_empty());
}

#[tokio::test]
async fn a_wrong_sign_key_is_refused_by_inicis() {
    let f = fixture();
    let mut wrong = merchant();
    wrong.keys = MerchantKeys::new()
        .with("signKey", "not-the-key")
        .with("iniapiKey", "testiniapikey016")
        .with("iniapiIv", "x");
    let start = f
        .gateway
        .create_payment(&wrong, &request(PaymentMethod::Card))
        .await
        .unwrap();
    let PaymentStep::Form { action, fields } = start.next else {
        panic!("a form")
    };
    let page = f.http.post(&action).form(&fields).send().await.unwrap();
    assert_eq!(page.status(), 400);
}
