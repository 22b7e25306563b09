//! Per-request plumbing: the request id (accepted from `X-Request-Id` or generated, echoed back, in
//! every log line of the request), metrics, and SPEC §11's JSON body for errors produced outside the
//! handlers (unknown route, body too large, bad method).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::{web, Error, HttpResponse};
use tracing::Instrument;

use crate::error::{ApiError, REQUEST_ID};
use crate::state::AppState;

fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get("X-Request-Id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

fn code_for(status: actix_web::http::StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("BAD_REQUEST", "요청이 올바르지 않습니다."),
        404 => ("NOT_FOUND", "요청한 정보를 찾을 수 없습니다."),
        405 => ("METHOD_NOT_ALLOWED", "허용되지 않은 메서드입니다."),
        413 => ("PAYLOAD_TOO_LARGE", "요청 본문이 너무 큽니다."),
        415 => ("UNSUPPORTED_MEDIA_TYPE", "지원하지 않는 형식입니다."),
        s if s >= 500 => (
            "INTERNAL_ERROR",
            "일시적인 오류입니다. 잠시 후 다시 시도해 주세요.",
        ),
        _ => ("REQUEST_REFUSED", "요청을 처리할 수 없습니다."),
    }
}

/// The request-id, metrics and error-body middleware (use with `App::wrap_fn`).
pub fn around<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<BoxBody>, Error>> + 'static
where
    S: actix_web::dev::Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let id = request_id(&req);
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let method = req.method().as_str().to_owned();
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());
    let started = Instant::now();
    let fut = srv.call(req);
    async move {
        let result = REQUEST_ID
            .scope(id.clone(), async move {
                let response = fut.await;
                // Errors that escaped the handlers (extractors, routing) become SPEC §11 bodies here,
                // still inside the request's scope so they carry its id.
                match response {
                    Ok(res) => {
                        let status = res.status();
                        let is_json_or_html = res
                            .headers()
                            .get(CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|v| {
                                v.starts_with("application/json") || v.starts_with("text/html")
                            });
                        if status.as_u16() >= 400 && !is_json_or_html {
                            let (code, message) = code_for(status);
                            let (req, _) = res.into_parts();
                            let body = actix_web::ResponseError::error_response(&ApiError::new(
                                status, code, message,
                            ));
                            Ok(ServiceResponse::new(req, body))
                        } else {
                            Ok(res.map_into_boxed_body())
                        }
                    }
                    Err(e) => {
                        let status = e.as_response_error().status_code();
                        let (code, message) = code_for(status);
                        let body: HttpResponse = actix_web::ResponseError::error_response(
                            &ApiError::new(status, code, message),
                        );
                        Err(actix_web::error::InternalError::from_response(e, body).into())
                    }
                }
            })
            .instrument(span.clone())
            .await;
        let _enter = span.enter();
        match result {
            Ok(mut res) => {
                if let Ok(v) = HeaderValue::from_str(&id) {
                    res.headers_mut().insert(
                        actix_web::http::header::HeaderName::from_static("x-request-id"),
                        v,
                    );
                }
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_owned());
                let status = res.status().as_u16();
                if let Some(m) = metrics {
                    m.requests
                        .with_label_values(&[&method, &route, &status.to_string()])
                        .inc();
                    m.durations
                        .with_label_values(&[&route])
                        .observe(started.elapsed().as_secs_f64());
                }
                tracing::info!(
                    status,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "served"
                );
                Ok(res)
            }
            Err(e) => Err(e),
        }
    }
}
