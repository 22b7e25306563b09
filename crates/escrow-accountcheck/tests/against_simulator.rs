//! The client against the simulator over real HTTP: found, not found, another MID or key refused, down.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "simulator")]

use std::net::TcpListener;

use escrow_accountcheck::simulator::{AccountSimulator, Behavior};
use escrow_accountcheck::InicisAccountVerifier;
use escrow_domain::payout_account::{AccountVerifier, VerifierError};

fn client(sim: &AccountSimulator, mid: &str, key: &str) -> InicisAccountVerifier {
    InicisAccountVerifier::new(&sim.base_url, mid, key.to_owned().into()).unwrap()
}

#[tokio::test]
async fn lookups_answer_holders_and_refuse_bad_hashes() {
    let sim =
        AccountSimulator::start(TcpListener::bind("127.0.0.1:0").unwrap(), "MID1", "key1").unwrap();
    sim.add_account("90", "3333012345678", "김영희");
    let good = client(&sim, "MID1", "key1");
    assert_eq!(
        good.holder_of("90", "3333012345678").await,
        Ok(Some("김영희".to_owned()))
    );
    assert_eq!(good.holder_of("04", "1234560000").await, Ok(None));
    assert_eq!(
        good.holder_of("04", "1234561111").await,
        Ok(Some("홍길동".to_owned()))
    );
    assert_eq!(sim.lookups(), 3);
    let forged = client(&sim, "MID1", "other-key");
    assert!(matches!(
        forged.holder_of("90", "3333012345678").await,
        Err(VerifierError::Refused(m)) if m.starts_with("04")
    ));
    let stranger = client(&sim, "MID2", "key1");
    assert!(matches!(
        stranger.holder_of("90", "3333012345678").await,
        Err(VerifierError::Refused(m)) if m.starts_with("01")
    ));
    assert_eq!(sim.lookups(), 3, "refused lookups answer nothing");
    sim.set_behavior(Behavior {
        fail: true,
        hang_ms: None,
    });
    assert!(matches!(
        good.holder_of("90", "3333012345678").await,
        Err(VerifierError::Unavailable(_))
    ));
    sim.stop().await;
    sim.set_behavior(Behavior::default());
    assert!(matches!(
        good.holder_of("90", "3333012345678").await,
        Err(VerifierError::Unavailable(_))
    ));
}
