//! A partner's receiver, verifying over real HTTP what the sender signs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use escrow_callbacks::{verify, HttpCallbackSender};
use escrow_domain::delivery::{CallbackSender, DeliveryError};
use escrow_signature::callback_signature_header;

const SECRET: &str = "whsec_partner_0123456789";

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What a partner deploys: 200 when the signature holds, 401 otherwise.
fn receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new().route(
            "/hooks",
            web::post().to(|req: HttpRequest, body: web::Bytes| async move {
                let header = req
                    .headers()
                    .get("X-Escrow-Signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                match verify(header, &body, SECRET, now()) {
                    Ok(()) => HttpResponse::Ok().finish(),
                    Err(_) => HttpResponse::Unauthorized().finish(),
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
    url
}

#[tokio::test]
async fn a_valid_signature_passes_and_every_alteration_fails() {
    let url = receiver();
    let sender = HttpCallbackSender::new(Duration::from_secs(5)).unwrap();
    let body = br#"{"eventId":"0b6f","type":"trade.status_changed","sequence":2,"data":{}}"#;
    // The sender signs at the real time of sending: the receiver's 5-minute window holds.
    assert_eq!(sender.post(&url, body, &[SECRET.into()]).await, Ok(()));
    // During a rotation the header carries the new and the old secret's signatures.
    assert_eq!(
        sender
            .post(&url, body, &[b"whsec_new_secret".to_vec(), SECRET.into()])
            .await,
        Ok(())
    );
    let wrong = sender.post(&url, body, &[b"not-the-secret".to_vec()]).await;
    assert!(matches!(wrong, Err(DeliveryError::Transient(e)) if e.contains("401")));
    // The receiver's check refuses an altered body, an old timestamp and another secret.
    let good = callback_signature_header(&[SECRET.as_bytes()], now(), body);
    assert!(verify(&good, body, SECRET, now()).is_ok());
    let altered = br#"{"eventId":"0b6f","type":"trade.status_changed","sequence":3,"data":{}}"#;
    assert!(verify(&good, altered, SECRET, now()).is_err());
    let old = callback_signature_header(&[SECRET.as_bytes()], now() - 301, body);
    assert!(verify(&old, body, SECRET, now()).is_err());
    let other = callback_signature_header(&[b"not-the-secret"], now(), body);
    assert!(verify(&other, body, SECRET, now()).is_err());
    // A receiver that is down is a transient failure (retried).
    let down = sender
        .post("http://127.0.0.1:9/hooks", body, &[SECRET.into()])
        .await;
    assert!(matches!(down, Err(DeliveryError::Transient(_))));
}
