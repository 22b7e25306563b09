//! Lookups partners expect (SPEC §18): a buyer's checkout, a seller's products (one, the list, stop
//! selling), and a trade by the partner's own number, partner-signed. Each answers its owner and
//! `404` for anyone else, as the rest of the API does.

use actix_web::{web, HttpRequest, HttpResponse};
use escrow_domain::ids::{CheckoutId, ProductId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{verify_partner, MemberAuth};
use crate::dto::{text, CheckoutView, ProductView, TradeView};
use crate::error::ApiError;
use crate::state::AppState;

fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("product"))
}

/// The buyer's checkout.
#[utoipa::path(get, path = "/api/v1/checkouts/{id}", tag = "checkouts", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CheckoutView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_checkout(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: CheckoutId = path.parse().map_err(|_| ApiError::not_found("checkout"))?;
    let checkout = state
        .checkouts
        .partner_checkout(auth.partner_id, id)
        .await
        .ok()
        .filter(|c| c.buyer_id == auth.member_id)
        .ok_or_else(|| ApiError::not_found("checkout"))?;
    let url = state.checkout_url(&checkout.id.to_string());
    Ok(HttpResponse::Ok().json(CheckoutView::new(&checkout, url)))
}

/// The seller's product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get_product(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let product = state
        .products
        .get_own(auth.partner_id, auth.member_id, product_id(&path)?)
        .await?;
    Ok(HttpResponse::Ok().json(ProductView::from(&product)))
}

/// Paging of the seller's products.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductListQuery {
    /// From the previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A page of the seller's products.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPageView {
    /// The products, newest first.
    pub items: Vec<ProductView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The seller's products, newest first, with cursor paging.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("member_token" = [])),
    params(ProductListQuery),
    responses((status = 200, body = ProductPageView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list_products(
    state: web::Data<AppState>,
    auth: MemberAuth,
    q: web::Query<ProductListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (cursor, limit) = crate::dto::paging(q.cursor.as_deref(), q.limit)?;
    let page = state
        .products
        .list_own(auth.partner_id, auth.member_id, cursor, limit)
        .await?;
    Ok(HttpResponse::Ok().json(ProductPageView {
        items: page.products.iter().map(ProductView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Stops selling the seller's product (`STOPPED`); refused while a checkout or trade holds it
/// (`PRODUCT_RESERVED`) and once sold (`PRODUCT_SOLD`). Stopping it again answers it unchanged.
#[utoipa::path(post, path = "/api/v1/products/{id}/stop", tag = "products", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ProductView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn stop_product(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let product = state
        .products
        .stop(auth.partner_id, auth.member_id, product_id(&path)?)
        .await?;
    Ok(HttpResponse::Ok().json(ProductView::from(&product)))
}

/// A trade of the calling partner by the partner's own trade number (partner-signed).
#[utoipa::path(get, path = "/api/v1/partner/trades/{partnerTradeNo}", tag = "trades",
    params(("partnerTradeNo" = String, Path)), security(("partner_signature" = [])),
    responses((status = 200, body = TradeView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn partner_trade(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let partner = verify_partner(&state, &req, &body).await?;
    let no = text("partnerTradeNo", &path, 100)?;
    let trade = state
        .queries
        .by_partner_trade_no(partner.id, &no)
        .await?
        .ok_or_else(|| ApiError::not_found("trade"))?;
    Ok(HttpResponse::Ok().json(TradeView::from(&trade)))
}
