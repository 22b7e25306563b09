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
    let good = callback_signature_header(&[SECRET.as_bytes()], now(), body);
    assert_eq!(sender.post(&url, body, &good).await, Ok(()));
    // During a rotation the header carries the old and the new secret's signatures.
    let rotating =
        callback_signature_header(&[b"whsec_new_secret", SECRET.as_bytes()], now(), body);
    assert_eq!(sender.post(&url, body, &rotating).await, Ok(()));
    let altered = br#"{"eventId":"0b6f","type":"trade.status_changed","sequence":3,"data":{}}"#;
    assert!(
        matches!(sender.post(&url, altered, &good).await, Err(DeliveryError::Transient(e)) if e.contains("401"))
    );
    let old = callback_signature_header(&[SECRET.as_bytes()], now() - 301, body);
    assert!(sender.post(&url, body, &old).await.is_err());
    let wrong = callback_signature_header(&[b"not-the-secret"], now(), body);
    assert!(sender.post(&url, body, &wrong).await.is_err());
    // A receiver that is down is a transient failure (retried).
    let down = sender.post("http://127.0.0.1:9/hooks", body, &good).await;
    assert!(matches!(down, Err(DeliveryError::Transient(_))));
}
