//! No REST secret and no phone number reaches `Debug` output or logs (traced at every level) through
//! every PortOne call: tokens, lookups, cancels, certifications, the gateway and the identity
//! verifier. Alone in its test binary: tracing caches per call site whether anyone listens.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use escrow_domain::ids::MerchantId;
use escrow_domain::money::Money;
use escrow_domain::payment::{PaymentGateway, RefundRequest};
use escrow_domain::payment_setup::{Merchant, MerchantKeys};
use escrow_domain::people::{PartnerMode, PhoneNumber};
use escrow_domain::signup::{IdentityClaim, IdentityVerifier};
use escrow_portone::simulator::{buyer_pays, NewCertification, Simulator};
use escrow_portone::wire::CancelRequest;
use escrow_portone::{
    PortOneClient, PortOneConfig, PortOneGateway, PortOneGatewayConfig, PortOneIdentityVerifier,
};

const SECRET: &str = "IMPSECRET-5c1e9a77";
const PHONE: &str = "01098765432";

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
async fn no_secret_or_phone_appears_in_debug_output_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = Simulator::start(
        "key",
        SECRET,
        TcpListener::bind("127.0.0.1:0").unwrap(),
        None,
    )
    .unwrap();
    let client = Arc::new(
        PortOneClient::new(PortOneConfig {
            api_url: sim.base_url.clone(),
            imp_key: "key".into(),
            imp_secret: SECRET.into(),
            timeout: Duration::from_secs(2),
        })
        .unwrap(),
    );
    let imp = buyer_pays(&sim.base_url, "order-1", 1_000, "approve")
        .await
        .unwrap();
    let paid = client.payment(&imp).await.unwrap().unwrap();
    let cancelled = client
        .cancel(&CancelRequest {
            imp_uid: imp.clone(),
            amount: None,
            checksum: 1_000,
            reason: "r".into(),
        })
        .await
        .unwrap();

    let gateway = PortOneGateway::new(PortOneGatewayConfig {
        name: "portone".into(),
        api_url: sim.base_url.clone(),
        pay_url: format!("{}/pay", sim.base_url),
        timeout: Duration::from_secs(2),
    });
    let merchant = Merchant {
        id: MerchantId::random(),
        gateway: "portone".into(),
        partner_id: None,
        mode: PartnerMode::Live,
        mid: "key".into(),
        keys: MerchantKeys::new().with("impSecret", SECRET),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        removed_at: None,
    };
    buyer_pays(&sim.base_url, "order-2", 2_000, "approve")
        .await
        .unwrap();
    let report = gateway.payment_status(&merchant, "order-2").await.unwrap();
    gateway
        .refund(
            &merchant,
            &RefundRequest {
                transaction_id: "order-2".into(),
                amount: Money::krw(2_000),
                to_account: None,
            },
        )
        .await
        .unwrap();

    let cert = sim.certify(NewCertification {
        name: "홍길동".into(),
        birthday: "1990-01-02".into(),
        phone: PHONE.into(),
        foreigner: false,
    });
    let found = client.certification(&cert).await.unwrap().unwrap();
    let verifier = PortOneIdentityVerifier::new(client.clone());
    let claim = IdentityClaim {
        name: "홍길동".into(),
        birth_date: time::macros::date!(1990 - 01 - 02),
        phone: PhoneNumber::new(PHONE).unwrap(),
        foreigner: false,
        certification: Some(cert),
    };
    let verified = verifier.verify(&claim).await.unwrap();

    let debug = format!("{client:?} {gateway:?} {paid:?} {cancelled:?} {report:?} {found:?} {claim:?} {verified:?} {merchant:?}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("PortOne"),
        "the test must see the client's logs: {logs}"
    );
    for (what, text) in [("Debug", &debug), ("logs", &logs)] {
        assert!(!text.contains(SECRET), "the REST secret in {what}: {text}");
        assert!(!text.contains(PHONE), "a phone number in {what}: {text}");
    }
}
