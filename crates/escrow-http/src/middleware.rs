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
    let (fut, refused) = match refusal(&req) {
        Some(e) => (None, Some(req.into_response(e.as_response()))),
        None => {
            let mut req = req;
            limit_body_read_time(&mut req);
            (Some(srv.call(req)), None)
        }
    };
    async move {
        let result = REQUEST_ID
            .scope(id.clone(), async move {
                let response = match (fut, refused) {
                    (Some(fut), _) => fut.await.map(ServiceResponse::map_into_boxed_body),
                    (None, refused) => refused
                        .ok_or_else(|| actix_web::error::ErrorInternalServerError("no response")),
                };
                // Errors that escaped the handlers (extractors, routing) become SPEC §11 bodies here,
                // still inside the request's scope so they carry its id.
                with_error_body(response)
            })
            .instrument(span.clone())
            .await;
        let _enter = span.enter();
        result.map(|res| served(res, &id, metrics, &method, started))
    }
}

/// Why a request is refused before any handler: a path or query carrying an encoded control
/// character (`%00` …: no identifier, code or cursor has one, and NUL cannot even be stored), or a
/// JSON API body sent without a JSON content type.
fn refusal(req: &ServiceRequest) -> Option<ApiError> {
    if encodes_control_character(req.uri().path())
        || encodes_control_character(req.uri().query().unwrap_or(""))
    {
        Some(ApiError::invalid(
            "url",
            "control characters are not allowed",
        ))
    } else if json_api_body_without_json_type(req) {
        Some(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "요청 본문은 application/json 이어야 합니다.",
        ))
    } else {
        None
    }
}

/// An error response that is not JSON or HTML (from an extractor or the router) gets SPEC §11's
/// body; every 5xx is logged with its cause.
fn with_error_body(
    response: Result<ServiceResponse<BoxBody>, Error>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match response {
        Ok(res) => {
            let status = res.status();
            // Every 5xx says why in the log (handlers log their own cause too; this
            // catches what escaped them, such as a response that could not be built).
            if status.is_server_error() {
                match res.response().error() {
                    Some(e) => {
                        tracing::error!(status = status.as_u16(), error = %e, debug = ?e, "request failed")
                    }
                    None => tracing::error!(status = status.as_u16(), "request failed"),
                }
            }
            let is_json_or_html = res
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
            if status.as_u16() >= 400 && !is_json_or_html {
                let (code, message) = code_for(status);
                let (req, _) = res.into_parts();
                let body =
                    actix_web::ResponseError::error_response(&ApiError::new(status, code, message));
                Ok(ServiceResponse::new(req, body))
            } else {
                Ok(res.map_into_boxed_body())
            }
        }
        Err(e) => {
            let status = e.as_response_error().status_code();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), error = %e, debug = ?e, "request failed");
            }
            let (code, message) = code_for(status);
            let body: HttpResponse =
                actix_web::ResponseError::error_response(&ApiError::new(status, code, message));
            Err(actix_web::error::InternalError::from_response(e, body).into())
        }
    }
}

/// The security headers and request id on a response, its metrics and its log line.
fn served(
    mut res: ServiceResponse<BoxBody>,
    id: &str,
    metrics: Option<crate::metrics::Metrics>,
    method: &str,
    started: Instant,
) -> ServiceResponse<BoxBody> {
    secure_headers(res.headers_mut());
    if let Ok(v) = HeaderValue::from_str(id) {
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
            .with_label_values(&[method, &route, &status.to_string()])
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
    res
}

/// How long a client may take to send a request body once its headers arrived.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Makes reading the request body fail once [`BODY_READ_TIMEOUT`] has passed, so a body that stalls
/// does not hold a connection and a worker indefinitely (the extractor then answers 400).
fn limit_body_read_time(req: &mut ServiceRequest) {
    use actix_web::HttpMessage;
    use futures::StreamExt;
    let payload = req.take_payload();
    let deadline = tokio::time::Instant::now() + BODY_READ_TIMEOUT;
    let stream = futures::stream::unfold(Some(payload), move |payload| async move {
        let mut payload = payload?;
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(payload))),
            Ok(None) => None,
            Err(_) => Some((
                Err(actix_web::error::PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request body not received in time",
                ))),
                None,
            )),
        }
    });
    let boxed: std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(stream);
    req.set_payload(actix_web::dev::Payload::from(boxed));
}

/// A request to the JSON APIs that carries a body under another media type (SPEC §18: 415).
fn json_api_body_without_json_type(req: &ServiceRequest) -> bool {
    let path = req.path();
    if !(path.starts_with("/api/") || path.starts_with("/admin/")) {
        return false;
    }
    let headers = req.headers();
    let has_body = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
        || headers.contains_key(actix_web::http::header::TRANSFER_ENCODING);
    if !has_body {
        return false;
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    !(media == "application/json"
        || (media.starts_with("application/") && media.ends_with("+json")))
}

/// Headers every response carries: no MIME sniffing, no framing (clickjacking of the pay button and
/// the consent form), no referrer (hosted links carry signatures), and a CSP where a page set none.
fn secure_headers(headers: &mut actix_web::http::header::HeaderMap) {
    use actix_web::http::header::{
        CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
}

/// Whether a percent-encoded URL part decodes to a control character.
fn encodes_control_character(part: &str) -> bool {
    let bytes = part.as_bytes();
    bytes.windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .is_some_and(|b| b < 0x20 || b == 0x7f)
    })
}

#[cfg(test)]
mod tests {
    use super::encodes_control_character;

    #[test]
    fn encoded_control_characters_are_found_in_paths_and_queries() {
        for bad in [
            "/api/v1/trades/by-partner-no/a%00b",
            "cursor=%0a",
            "x=%7F",
            "%1F",
        ] {
            assert!(encodes_control_character(bad), "{bad}");
        }
        for good in ["/api/v1/trades/%EC%95%88", "a=%20b", "%", "%zz", "100%25"] {
            assert!(!encodes_control_character(good), "{good}");
        }
    }
}
