//! Every 5xx is logged with its cause, also one that escaped the handlers (a response that could not be
//! built). Alone in its test binary: tracing caches per call site whether anyone listens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use actix_web::{test, web, App, HttpResponse};

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

#[actix_web::test]
async fn a_server_error_is_logged_with_its_cause() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let app = test::init_service(
        App::new()
            .wrap_fn(escrow_http::middleware::around)
            .route(
                "/broken-header",
                // The kind of failure a bad Location header used to cause after the work was done.
                web::get().to(|| async {
                    HttpResponse::SeeOther()
                        .insert_header(("Location", "https://market.example/\r\nx"))
                        .finish()
                }),
            )
            .route(
                "/handler-error",
                web::get().to(|| async {
                    Err::<HttpResponse, _>(actix_web::error::ErrorInternalServerError(
                        "the ledger disagrees with itself",
                    ))
                }),
            ),
    )
    .await;
    for (path, cause) in [
        ("/broken-header", "header"),
        ("/handler-error", "the ledger disagrees with itself"),
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert!(res.status().is_server_error(), "{path}: {}", res.status());
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        // The middleware's line: the status and, after `error=`, the cause.
        assert!(
            logs.lines().any(|l| {
                l.contains("ERROR")
                    && l.contains(path)
                    && l.contains("status=500")
                    && l.split_once("error=")
                        .is_some_and(|(_, e)| e.to_lowercase().contains(cause))
            }),
            "{path}: no error line with its cause in:\n{logs}"
        );
    }
}
