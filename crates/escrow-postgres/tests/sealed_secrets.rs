//! Partner secrets at rest: sealed with the master key, never stored in clear, readable after a key
//! rotation, and plaintext rows from before sealing are read and then sealed by a reseal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::PartnerId;
use escrow_domain::people::{Partner, PartnerSecrets, PartnerStatus, Secret};
use escrow_postgres::schema::partners;
use escrow_postgres::testing::test_database;
use escrow_postgres::{Directory, SecretSealer};

const API_SECRET: &str = "sk_live_0123456789abcdef";
const WEBHOOK_SECRET: &str = "whsec_0123456789abcdef";

fn partner() -> Partner {
    Partner {
        id: PartnerId::random(),
        code: format!("sealed-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        name: "봉인 마켓".into(),
        api_key_id: format!("pk_{}", uuid::Uuid::new_v4().simple()),
        webhook_url: Some("https://market.example/hooks".into()),
        allowed_redirect_origins: vec!["https://market.example".into()],
        status: PartnerStatus::Active,
        mode: escrow_domain::people::PartnerMode::Live,
        created_at: time::OffsetDateTime::now_utc(),
    }
}

fn secrets() -> PartnerSecrets {
    PartnerSecrets {
        api_secret: Secret::new(API_SECRET),
        webhook_secret: Some(Secret::new(WEBHOOK_SECRET)),
        webhook_secret_previous: None,
    }
}

async fn stored(pool: &escrow_postgres::DbPool, p: &Partner) -> (String, Option<String>) {
    let mut conn = pool.get().await.unwrap();
    partners::table
        .filter(partners::id.eq(p.id.0))
        .select((partners::api_secret, partners::webhook_secret))
        .first(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn partner_secrets_are_stored_sealed_and_read_back() {
    let db = test_database().await;
    let old_key = [1u8; 32];
    let directory = Directory::new(db.db.pool.clone(), SecretSealer::new(&[old_key]).unwrap());
    let p = partner();
    directory.create_partner(&p, &secrets()).await.unwrap();

    let (api, webhook) = stored(&db.db.pool, &p).await;
    for value in [api.as_str(), webhook.as_deref().unwrap()] {
        assert!(value.starts_with("sealed:v1:"), "{value}");
        assert!(!value.contains(API_SECRET) && !value.contains(WEBHOOK_SECRET));
    }
    let (_, read) = directory
        .partner_by_api_key(&p.api_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.api_secret.expose(), API_SECRET);
    assert_eq!(read.webhook_secret.unwrap().expose(), WEBHOOK_SECRET);

    // Without the master key nothing opens.
    let stranger = Directory::new(db.db.pool.clone(), SecretSealer::new(&[[9u8; 32]]).unwrap());
    assert!(stranger.partner_by_api_key(&p.api_key_id).await.is_err());

    // Rotation: the new key first, the old one still opens; a reseal moves everything to the new key.
    let new_key = [2u8; 32];
    let rotated = Directory::new(
        db.db.pool.clone(),
        SecretSealer::new(&[new_key, old_key]).unwrap(),
    );
    assert_eq!(
        rotated
            .partner_by_api_key(&p.api_key_id)
            .await
            .unwrap()
            .unwrap()
            .1
            .api_secret
            .expose(),
        API_SECRET
    );
    assert!(rotated.reseal_partner_secrets().await.unwrap() >= 1);
    assert_eq!(
        rotated.reseal_partner_secrets().await.unwrap(),
        0,
        "nothing left"
    );
    let only_new = Directory::new(db.db.pool.clone(), SecretSealer::new(&[new_key]).unwrap());
    let (_, read) = only_new
        .partner_by_api_key(&p.api_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.api_secret.expose(), API_SECRET);
    assert_eq!(read.webhook_secret.unwrap().expose(), WEBHOOK_SECRET);
    let only_old = Directory::new(db.db.pool.clone(), SecretSealer::new(&[old_key]).unwrap());
    assert!(only_old.partner_by_api_key(&p.api_key_id).await.is_err());
}

#[tokio::test]
async fn plaintext_secrets_from_before_sealing_are_read_then_sealed_by_a_reseal() {
    let db = test_database().await;
    let directory = Directory::new(db.db.pool.clone(), SecretSealer::new(&[[3u8; 32]]).unwrap());
    let p = partner();
    directory.create_partner(&p, &secrets()).await.unwrap();
    {
        let mut conn = db.db.pool.get().await.unwrap();
        diesel::update(partners::table.filter(partners::id.eq(p.id.0)))
            .set((
                partners::api_secret.eq(API_SECRET),
                partners::webhook_secret.eq(Some(WEBHOOK_SECRET)),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (_, read) = directory
        .partner_by_api_key(&p.api_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.api_secret.expose(), API_SECRET);
    assert_eq!(directory.reseal_partner_secrets().await.unwrap(), 1);
    let (api, webhook) = stored(&db.db.pool, &p).await;
    assert!(api.starts_with("sealed:v1:") && webhook.unwrap().starts_with("sealed:v1:"));
    let (_, read) = directory
        .partner_by_api_key(&p.api_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.webhook_secret.unwrap().expose(), WEBHOOK_SECRET);
}
