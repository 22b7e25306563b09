//! The client against the simulator over real HTTP: tokens cached and renewed, payments looked up,
//! cancels with the checksum rule (one refund, a second refused), certifications, and the faults.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::time::Duration;

use escrow_portone::simulator::{
    buyer_pays, Behavior, EndpointMode, NewCertification, Simulator, SimulatorHandle,
};
use escrow_portone::wire::CancelRequest;
use escrow_portone::{PortOneClient, PortOneConfig, PortOneError};

fn start() -> (SimulatorHandle, PortOneClient) {
    let sim = Simulator::start(
        "key",
        "secret",
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .unwrap();
    let client = client_for(&sim.base_url, "secret");
    (sim, client)
}

fn client_for(url: &str, secret: &str) -> PortOneClient {
    PortOneClient::new(PortOneConfig {
        api_url: url.to_owned(),
        imp_key: "key".into(),
        imp_secret: secret.into(),
        timeout: Duration::from_secs(2),
    })
    .unwrap()
}

#[tokio::test]
async fn a_paid_payment_is_read_with_one_cached_token_and_unknown_ids_are_none() {
    let (sim, client) = start();
    let imp_uid = buyer_pays(&sim.base_url, "req-1", 3_000, "approve")
        .await
        .unwrap();
    let p = client.payment(&imp_uid).await.unwrap().unwrap();
    assert_eq!(
        (p.merchant_uid.as_str(), p.amount, p.status.as_str()),
        ("req-1", 3_000, "paid")
    );
    assert!(client.payment("imp_000000000000").await.unwrap().is_none());
    assert!(client.payment("../users/getToken").await.unwrap().is_none());
    assert_eq!(sim.state().tokens_issued, 1, "the token is cached");

    // PortOne rotates its tokens: one 401, a new token, the same answer.
    sim.expire_tokens();
    assert_eq!(
        client.payment(&imp_uid).await.unwrap().unwrap().amount,
        3_000
    );
    assert_eq!(
        (sim.state().tokens_issued, sim.state().unauthorized),
        (2, 1)
    );

    // Tokens living less than the margin are not kept.
    sim.set_behavior(Behavior {
        short_tokens: true,
        ..Behavior::default()
    });
    sim.expire_tokens();
    client.payment(&imp_uid).await.unwrap(); // the old token: 401, a short one (3)
    client.payment(&imp_uid).await.unwrap(); // not kept: another one (4)
    client.payment(&imp_uid).await.unwrap(); // and another (5)
    assert_eq!(sim.state().tokens_issued, 5);
}

#[tokio::test]
async fn a_cancel_needs_the_refundable_balance_as_checksum_so_a_second_refund_is_refused() {
    let (sim, client) = start();
    let imp_uid = buyer_pays(&sim.base_url, "req-2", 5_000, "approve")
        .await
        .unwrap();
    let wrong = client
        .cancel(&CancelRequest {
            imp_uid: imp_uid.clone(),
            amount: None,
            checksum: 4_000,
            reason: "test".into(),
        })
        .await;
    assert!(
        matches!(wrong, Err(PortOneError::Refused { .. })),
        "{wrong:?}"
    );
    let done = client
        .cancel(&CancelRequest {
            imp_uid: imp_uid.clone(),
            amount: None,
            checksum: 5_000,
            reason: "test".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        (done.status.as_str(), done.cancel_amount),
        ("cancelled", 5_000)
    );
    let again = client
        .cancel(&CancelRequest {
            imp_uid: imp_uid.clone(),
            amount: None,
            checksum: 5_000,
            reason: "test".into(),
        })
        .await;
    assert!(
        matches!(again, Err(PortOneError::Refused { .. })),
        "{again:?}"
    );
    assert_eq!(sim.state().cancelled, vec![(imp_uid, 5_000)]);
}

#[tokio::test]
async fn faults_decline_other_amount_5xx_hang_and_a_wrong_secret_are_told_apart() {
    let (sim, client) = start();
    sim.set_behavior(Behavior {
        decline: true,
        ..Behavior::default()
    });
    let declined = buyer_pays(&sim.base_url, "req-3", 1_000, "approve")
        .await
        .unwrap();
    assert_eq!(
        client.payment(&declined).await.unwrap().unwrap().status,
        "failed"
    );
    sim.set_behavior(Behavior {
        other_amount: true,
        ..Behavior::default()
    });
    let forged = buyer_pays(&sim.base_url, "req-4", 1_000, "approve")
        .await
        .unwrap();
    assert_eq!(client.payment(&forged).await.unwrap().unwrap().amount, 100);

    sim.set_behavior(Behavior {
        api: EndpointMode::ServerError,
        ..Behavior::default()
    });
    assert!(matches!(
        client.payment(&forged).await,
        Err(PortOneError::Unreachable(_))
    ));
    sim.set_behavior(Behavior {
        api: EndpointMode::Hang,
        hang_ms: Some(5_000),
        ..Behavior::default()
    });
    assert!(matches!(
        client.payment(&forged).await,
        Err(PortOneError::Unreachable(_))
    ));
    sim.set_behavior(Behavior::default());

    let stranger = client_for(&sim.base_url, "not-the-secret");
    assert_eq!(
        stranger.payment(&forged).await,
        Err(PortOneError::Unauthorized)
    );
}

#[tokio::test]
async fn a_certification_is_read_and_its_debug_shows_no_personal_data() {
    let (sim, client) = start();
    let imp_uid = sim.certify(NewCertification {
        name: "홍길동".into(),
        birthday: "1990-01-02".into(),
        phone: "01012345678".into(),
        foreigner: true,
    });
    let c = client.certification(&imp_uid).await.unwrap().unwrap();
    assert!(c.certified && c.foreigner);
    assert_eq!(
        (c.name.as_str(), c.birthday.as_str()),
        ("홍길동", "1990-01-02")
    );
    let shown = format!("{c:?} {client:?}");
    assert!(
        !shown.contains("01012345678") && !shown.contains("홍길동") && !shown.contains("secret"),
        "{shown}"
    );
    assert!(client.certification("imp_404").await.unwrap().is_none());
}
