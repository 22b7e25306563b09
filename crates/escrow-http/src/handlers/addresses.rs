//! The member's address book (SPEC §13, seed 004 배송지): create, list, read, replace, delete, and
//! choose the default (prime) address. Another member's address answers 404.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use escrow_domain::address_book::{AddressBookError, AddressOwner, MAX_ADDRESSES};
use serde_json::json;

use crate::auth::{parse_json, MemberAuth};
use crate::dto::{AddressList, AddressRequest, AddressView};
use crate::error::ApiError;
use crate::state::AppState;

/// What the member was doing, for the seed's 404 message.
#[derive(Clone, Copy)]
enum Doing {
    Reading,
    Changing,
    Deleting,
}

fn book_error(e: AddressBookError, doing: Doing) -> ApiError {
    match e {
        AddressBookError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "ADDRESS_NOT_FOUND",
            match doing {
                Doing::Reading => "해당 배송지를 찾지 못했어요.",
                Doing::Changing => "수정하려는 배송지의 데이터가 서버에 존재하지 않아요.",
                Doing::Deleting => "삭제하려는 배송지의 데이터가 서버에 존재하지 않아요.",
            },
        ),
        AddressBookError::Full => ApiError::new(
            StatusCode::CONFLICT,
            "ADDRESS_BOOK_FULL",
            format!("배송지는 최대 {MAX_ADDRESSES}개까지 저장할 수 있어요."),
        )
        .details(json!({ "limit": MAX_ADDRESSES })),
        AddressBookError::Storage(s) => s.into(),
    }
}

fn owner(auth: &MemberAuth) -> AddressOwner {
    AddressOwner {
        partner_id: auth.partner_id,
        member_id: auth.member_id,
    }
}

/// The member's saved address `id` as a checkout or a delivery request uses it (`addressId`);
/// another member's is `404 ADDRESS_NOT_FOUND`.
pub(crate) async fn saved_shipping(
    state: &AppState,
    auth: &MemberAuth,
    id: i64,
) -> Result<escrow_domain::checkout::ShippingAddress, ApiError> {
    match state.address_book.get(owner(auth), id).await {
        Ok(saved) => Ok(saved.shipping),
        Err(AddressBookError::NotFound) => {
            Err(book_error(AddressBookError::NotFound, Doing::Reading)
                .details(json!({ "field": "addressId" })))
        }
        Err(e) => Err(book_error(e, Doing::Reading)),
    }
}

/// An address id from the path: anything that is not one is simply not found.
fn address_id(raw: &str, doing: Doing) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| book_error(AddressBookError::NotFound, doing))
}

/// Saves a new address (the first one becomes the default).
#[utoipa::path(post, path = "/api/v1/addresses", tag = "addresses", request_body = AddressRequest,
    security(("member_token" = [])),
    responses((status = 201, body = AddressView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn add(
    state: web::Data<AppState>,
    auth: MemberAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let draft = parse_json::<AddressRequest>(&body)?.draft()?;
    let saved = state
        .address_book
        .add(owner(&auth), draft)
        .await
        .map_err(|e| book_error(e, Doing::Changing))?;
    Ok(HttpResponse::Created().json(AddressView::from(&saved)))
}

/// The member's addresses, the default first.
#[utoipa::path(get, path = "/api/v1/addresses", tag = "addresses", security(("member_token" = [])),
    responses((status = 200, body = AddressList), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn list(state: web::Data<AppState>, auth: MemberAuth) -> Result<HttpResponse, ApiError> {
    let all = state
        .address_book
        .list(owner(&auth))
        .await
        .map_err(|e| book_error(e, Doing::Reading))?;
    Ok(HttpResponse::Ok().json(AddressList {
        addresses: all.iter().map(AddressView::from).collect(),
    }))
}

/// One address.
#[utoipa::path(get, path = "/api/v1/addresses/{id}", tag = "addresses", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AddressView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = address_id(&path, Doing::Reading)?;
    let a = state
        .address_book
        .get(owner(&auth), id)
        .await
        .map_err(|e| book_error(e, Doing::Reading))?;
    Ok(HttpResponse::Ok().json(AddressView::from(&a)))
}

/// Replaces an address (배송지 수정); `prime: true` also makes it the default.
#[utoipa::path(put, path = "/api/v1/addresses/{id}", tag = "addresses", request_body = AddressRequest,
    security(("member_token" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AddressView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn update(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = address_id(&path, Doing::Changing)?;
    let draft = parse_json::<AddressRequest>(&body)?.draft()?;
    let a = state
        .address_book
        .update(owner(&auth), id, draft)
        .await
        .map_err(|e| book_error(e, Doing::Changing))?;
    Ok(HttpResponse::Ok().json(AddressView::from(&a)))
}

/// Deletes an address (배송지 삭제); when it was the default, the most recent remaining one becomes it.
#[utoipa::path(delete, path = "/api/v1/addresses/{id}", tag = "addresses", security(("member_token" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn remove(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = address_id(&path, Doing::Deleting)?;
    state
        .address_book
        .remove(owner(&auth), id)
        .await
        .map_err(|e| book_error(e, Doing::Deleting))?;
    Ok(HttpResponse::NoContent().finish())
}

/// Makes an address the default (기본 배송지 변경).
#[utoipa::path(patch, path = "/api/v1/addresses/{id}/prime", tag = "addresses",
    security(("member_token" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AddressView), (status = "4XX", body = crate::dto::ErrorBody)))]
pub async fn make_prime(
    state: web::Data<AppState>,
    auth: MemberAuth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = address_id(&path, Doing::Changing)?;
    let a = state
        .address_book
        .make_prime(owner(&auth), id)
        .await
        .map_err(|e| book_error(e, Doing::Changing))?;
    Ok(HttpResponse::Ok().json(AddressView::from(&a)))
}
