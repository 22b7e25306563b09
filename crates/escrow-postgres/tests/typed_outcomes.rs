//! What a port method can expect to happen is its typed answer, not an error: a taken key is
//! `Stored::AlreadyExists`, a signup that can no longer complete says why, and nothing is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{World, T0};
use escrow_domain::people::{Member, PartnerSecrets, Secret};
use escrow_domain::ports::{
    MemberRepository, PartnerEvent, PartnerRepository, ProductRepository, SignupCompletion, Stored,
};
use escrow_domain::signup::{SignupSession, SignupStatus};
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_partner_or_product_key_is_already_exists() {
    let w = World::new().await;
    let secrets = PartnerSecrets {
        api_secret: Secret::new("another-secret-0123456789"),
        webhook_secret: None,
        webhook_secret_previous: None,
    };
    assert_eq!(
        PartnerRepository::create(&w.directory, &w.partner, &secrets)
            .await
            .unwrap(),
        Stored::AlreadyExists
    );
    let seller = w.member().await;
    let product = w.product(&seller, 10_000).await;
    let again = escrow_domain::product::Product {
        id: escrow_domain::ids::ProductId::random(),
        ..product.clone()
    };
    assert_eq!(
        ProductRepository::create(&w.directory, &again)
            .await
            .unwrap(),
        Stored::AlreadyExists,
        "the partner product id is taken"
    );
    assert_eq!(
        ProductRepository::get(&w.directory, w.partner.id, again.id)
            .await
            .unwrap(),
        None
    );
}

fn session(w: &World, user: &str) -> SignupSession {
    SignupSession {
        id: uuid::Uuid::new_v4(),
        partner_id: w.partner.id,
        partner_user_id: user.into(),
        return_url: "https://market.example/done".into(),
        status: SignupStatus::Open,
        refusal_reason: None,
        member_id: None,
        expires_at: T0 + Duration::hours(1),
        created_at: T0,
        test_clock: None,
    }
}

fn member_of(w: &World, template: &Member, user: &str) -> Member {
    Member {
        id: escrow_domain::ids::MemberId::random(),
        partner_id: w.partner.id,
        partner_user_id: user.into(),
        ..template.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signup_that_cannot_complete_says_why_and_writes_nothing() {
    let w = World::new().await;
    let template = w.member().await;
    let event = PartnerEvent {
        event_type: "member.signed_up",
        data: serde_json::json!({}),
    };
    let first = session(&w, "user-1");
    w.directory.open_signup(&first).await.unwrap();
    let member = member_of(&w, &template, "user-1");
    assert_eq!(
        w.directory
            .complete_signup(first.id, &member, "key-1", "hash-1", &[], &event)
            .await
            .unwrap(),
        SignupCompletion::Completed
    );
    // The same session again (for anyone): no longer open.
    let stranger = member_of(&w, &template, "user-2");
    assert_eq!(
        w.directory
            .complete_signup(first.id, &stranger, "key-2", "hash-2", &[], &event)
            .await
            .unwrap(),
        SignupCompletion::SessionNotOpen
    );
    // A second session of the same user: a live membership exists.
    let other = member_of(&w, &template, "user-1");
    let second = session(&w, "user-1");
    w.directory.open_signup(&second).await.unwrap();
    assert_eq!(
        w.directory
            .complete_signup(second.id, &other, "key-3", "hash-3", &[], &event)
            .await
            .unwrap(),
        SignupCompletion::AlreadyMember
    );
    for nobody in [&stranger, &other] {
        assert_eq!(
            MemberRepository::get(&w.directory, w.partner.id, nobody.id)
                .await
                .unwrap(),
            None,
            "nothing was written"
        );
    }
}
