//! Operations: liveness, readiness (database reachable), Prometheus metrics and Swagger UI (served
//! from files bundled in the crate, so the page loads nothing from outside). The OpenAPI document
//! itself is served by `openapi`.

use actix_web::{web, HttpResponse};

use crate::state::AppState;

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Object)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, body = Object), (status = 503, body = crate::dto::ErrorBody)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.admin.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Err(e) => crate::error::ApiError::from(e).as_response(),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

const SWAGGER_JS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Swagger UI over `/openapi.json`.
pub async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .body(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Escrow API</title>\
         <link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head><body><div id=\"swagger-ui\"></div>\
         <script src=\"/docs/swagger-ui-bundle.js\"></script><script src=\"/docs/init.js\"></script></body></html>",
    )
}

/// Swagger UI's start script (a file of its own so a strict CSP can forbid inline scripts).
pub async fn docs_init() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript")
        .body("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });")
}

/// Swagger UI's script.
pub async fn docs_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(SWAGGER_JS)
}

/// Swagger UI's stylesheet.
pub async fn docs_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(SWAGGER_CSS)
}
