//! Custody vouchers' and delivery requests' bodies (SPEC §13, seed 004 배송 요청).

use escrow_domain::custody::{DeliveryRequest, DeliveryRequestDetail, Voucher};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rfc3339;

/// `POST /admin/v1/vouchers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoucherGrant {
    /// The partner.
    pub partner_id: uuid::Uuid,
    /// The owner's id at the partner.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_user_id: String,
    /// What it is.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub item_name: String,
    /// A picture of it (http or https).
    #[schema(max_length = 2000, pattern = r"^https?://[^\s\x00-\x1f\x7f]+$")]
    pub image_url: Option<String>,
}

/// A voucher (소유권).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherView {
    /// Its id.
    pub voucher_id: i64,
    /// `available`, `shipping`, `shipped`.
    pub state: String,
    /// What it is.
    pub item_name: String,
    /// A picture of it.
    pub image_url: Option<String>,
    /// The owner's id at the partner.
    pub owner_partner_user_id: String,
    /// When it was granted.
    pub created_at: String,
}

impl From<&Voucher> for VoucherView {
    fn from(v: &Voucher) -> Self {
        VoucherView {
            voucher_id: v.id,
            state: v.state.code().to_owned(),
            item_name: v.item_name.clone(),
            image_url: v.image_url.clone(),
            owner_partner_user_id: v.owner_partner_user_id.clone(),
            created_at: rfc3339(v.created_at),
        }
    }
}

/// `GET /api/v1/vouchers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoucherList {
    /// Newest first.
    pub vouchers: Vec<VoucherView>,
}

/// Where a request goes: a saved address or one given here.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryRequestBody {
    /// The vouchers to deliver (1–50, each once).
    #[schema(min_items = 1, max_items = 50)]
    pub voucher_ids: Vec<i64>,
    /// One of the member's saved addresses (or `address`: exactly one of the two).
    #[schema(minimum = 1)]
    pub address_id: Option<i64>,
    /// The address (or `addressId`).
    pub address: Option<crate::dto::AddressRequest>,
}

/// `POST /api/v1/delivery-requests/{id}/payment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentVerification {
    /// PortOne's `imp_uid` of the payment the browser made.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[A-Za-z0-9_-]+$")]
    pub imp_uid: String,
}

/// The shipping fee's payment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeePaymentView {
    /// Pay with PortOne's SDK under this `merchant_uid`.
    pub merchant_uid: String,
    /// PortOne's id once verified.
    pub imp_uid: Option<String>,
    /// The fee.
    pub amount: i64,
    /// `KRW`.
    pub currency: String,
    /// `waiting`, `paid`, `forgeried`, `refunding`, `refunded`.
    pub state: String,
    /// When it was verified paid.
    pub paid_at: Option<String>,
    /// When it was refunded.
    pub refunded_at: Option<String>,
}

/// Where the request goes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestAddressView {
    /// Recipient.
    pub recipient: String,
    /// Their phone (digits).
    pub contact: String,
    /// Postcode.
    pub postcode: String,
    /// Address.
    pub address: String,
    /// Address detail.
    pub address_detail: String,
    /// A note for the courier.
    pub requirement: Option<String>,
}

/// The vouchers in brief (seed: `voucher.amount`, `voucher.represent`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherSummary {
    /// How many.
    pub amount: usize,
    /// The first one's item.
    pub represent: Option<String>,
}

/// A delivery request (배송 요청).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequestView {
    /// Its id.
    pub request_id: i64,
    /// `waiting` or `shipped`.
    pub shipping_state: String,
    /// The requester's id at the partner.
    pub partner_user_id: String,
    /// When it was written.
    pub created_at: String,
    /// When the operator shipped it.
    pub shipped_at: Option<String>,
    /// Where to.
    pub address: RequestAddressView,
    /// The fee's payment.
    pub payment: FeePaymentView,
    /// The vouchers in brief.
    pub voucher: VoucherSummary,
    /// The vouchers' ids.
    pub voucher_ids: Vec<i64>,
}

impl From<&DeliveryRequest> for DeliveryRequestView {
    fn from(r: &DeliveryRequest) -> Self {
        let (a, p) = (&r.address, &r.payment);
        DeliveryRequestView {
            request_id: r.id,
            shipping_state: r.shipping.code().to_owned(),
            partner_user_id: r.requester_partner_user_id.clone(),
            created_at: rfc3339(r.created_at),
            shipped_at: r.shipped_at.map(rfc3339),
            address: RequestAddressView {
                recipient: a.recipient.clone(),
                contact: a.phone.expose().to_owned(),
                postcode: a.postcode.clone(),
                address: a.address.clone(),
                address_detail: a.address_detail.clone(),
                requirement: a.requirement.clone(),
            },
            payment: FeePaymentView {
                merchant_uid: p.merchant_uid.clone(),
                imp_uid: p.imp_uid.clone(),
                amount: p.amount.minor_units(),
                currency: p.amount.currency().code().to_owned(),
                state: p.state.code().to_owned(),
                paid_at: p.paid_at.map(rfc3339),
                refunded_at: p.refunded_at.map(rfc3339),
            },
            voucher: VoucherSummary {
                amount: r.voucher_ids.len(),
                represent: r.represent.clone(),
            },
            voucher_ids: r.voucher_ids.clone(),
        }
    }
}

/// A request with its vouchers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequestDetailView {
    /// The request.
    pub shipping: DeliveryRequestView,
    /// Its vouchers as they are now.
    pub vouchers: Vec<VoucherView>,
}

impl From<&DeliveryRequestDetail> for DeliveryRequestDetailView {
    fn from(d: &DeliveryRequestDetail) -> Self {
        DeliveryRequestDetailView {
            shipping: DeliveryRequestView::from(&d.request),
            vouchers: d.vouchers.iter().map(VoucherView::from).collect(),
        }
    }
}

/// Paging as the seed has it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// This page (from 0).
    pub page_param: u32,
    /// Whether another page follows.
    pub has_next_page: bool,
}

/// A page of delivery requests.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequestList {
    /// Newest first.
    pub shippings: Vec<DeliveryRequestView>,
    /// Paging.
    pub paging: Paging,
}

/// `DELETE /api/v1/delivery-requests/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRequest {
    /// The vouchers that are available again.
    pub voucher_ids: Vec<i64>,
}

/// The `data` of every `delivery_request.*` callback.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRequestCallbackData {
    /// The request.
    pub request_id: i64,
    /// The requester's id at the partner.
    pub partner_user_id: String,
    /// `waiting` or `shipped`.
    pub shipping_state: String,
    /// `waiting`, `paid`, `forgeried`, `refunding`, `refunded`.
    pub payment_state: String,
    /// The shipping fee.
    pub amount: i64,
    /// `KRW`.
    pub currency: String,
    /// Ours at PortOne.
    pub merchant_uid: String,
    /// PortOne's, once a payment was verified.
    pub imp_uid: Option<String>,
    /// The vouchers.
    pub voucher_ids: Vec<i64>,
}
