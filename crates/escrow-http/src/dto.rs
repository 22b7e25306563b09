//! Request and response bodies (camelCase JSON). Requests refuse unknown fields and parse into domain
//! types at the edge; responses are built from domain values.

use escrow_domain::checkout::Checkout;
use escrow_domain::contract::{PaymentMethod, TradeType};
use escrow_domain::money::{Currency, Money};
use escrow_domain::product::Product;
use escrow_domain::quote::Quote;
use escrow_domain::trade::{ReturnShippingPayer, Trade, TradeEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::ApiError;

/// RFC 3339 text of an instant.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// SPEC §11's error body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Machine-readable code (`SELLER_LIMIT_EXCEEDED`).
    pub code: String,
    /// Message for end users, in Korean.
    pub message: String,
    /// Structured details.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The request's id (also in the logs).
    pub request_id: String,
}

/// A payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethodDto {
    /// 신용카드.
    Card,
    /// 실시간 계좌이체.
    BankTransfer,
    /// 가상계좌.
    VirtualAccount,
}

impl From<PaymentMethodDto> for PaymentMethod {
    fn from(m: PaymentMethodDto) -> Self {
        match m {
            PaymentMethodDto::Card => PaymentMethod::Card,
            PaymentMethodDto::BankTransfer => PaymentMethod::BankTransfer,
            PaymentMethodDto::VirtualAccount => PaymentMethod::VirtualAccount,
        }
    }
}

/// A safe-trade type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeTypeDto {
    /// 일반 안전거래.
    General,
    /// 프리미엄 안전거래.
    Premium,
}

impl From<TradeTypeDto> for TradeType {
    fn from(t: TradeTypeDto) -> Self {
        match t {
            TradeTypeDto::General => TradeType::General,
            TradeTypeDto::Premium => TradeType::Premium,
        }
    }
}

/// `POST /api/v1/members/signup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// The partner's own user id (1–100 characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_user_id: String,
    /// Where the browser goes after signup: an allowed origin of the partner.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub return_url: String,
}

/// A signup session was opened.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupResponse {
    /// The session.
    pub signup_session_id: String,
    /// The hosted signup page to send the user to.
    pub signup_url: String,
    /// When the session expires (30 minutes).
    pub expires_at: String,
}

/// A signup session's state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignupSessionView {
    /// The session.
    pub signup_session_id: String,
    /// `OPEN`, `COMPLETED`, `REFUSED` or `EXPIRED`.
    pub status: String,
    /// The partner's user.
    pub partner_user_id: String,
    /// The member, once completed.
    pub member_id: Option<String>,
    /// The member key: given the first time a completed session is read, then never again.
    pub member_key: Option<String>,
    /// Why it was refused.
    pub refusal_reason: Option<String>,
    /// When it expires.
    pub expires_at: String,
}

/// A member's status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatusView {
    /// The partner's user.
    pub partner_user_id: String,
    /// `NONE`, `ACTIVE`, `DORMANT` or `WITHDRAWN`.
    pub status: String,
}

/// `POST /api/v1/auth/token`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The partner's user.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_user_id: String,
    /// The member key from `member.signed_up`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub member_key: String,
}

/// A member token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When it expires (2 hours).
    pub expires_at: String,
    /// The member.
    pub member_id: String,
}

/// `PUT /api/v1/products`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRequest {
    /// Present to update that product.
    pub product_id: Option<uuid::Uuid>,
    /// The partner's own product id.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_product_id: String,
    /// Name (≤ 200 characters); never changes.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
    /// Price in minor units; never changes.
    #[schema(minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub price: i64,
    /// Shipping fee in minor units (default 0).
    #[schema(minimum = 0, maximum = 10_000_000_000_000_i64)]
    pub shipping_fee: Option<i64>,
    /// Accepted methods.
    #[schema(min_items = 1)]
    pub payment_methods: Vec<PaymentMethodDto>,
    /// Free text.
    #[schema(max_length = 4000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
    pub description: Option<String>,
    /// A picture.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub image_url: Option<String>,
    /// A category code.
    #[schema(max_length = 20, pattern = r"^[^\s\x00-\x1f\x7f]*$")]
    pub category_code: Option<String>,
}

/// A product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    /// Its id.
    pub product_id: String,
    /// The partner's own id.
    pub partner_product_id: String,
    /// The seller.
    pub seller_id: String,
    /// Name.
    pub name: String,
    /// Price (minor units).
    pub price: i64,
    /// Shipping fee (minor units).
    pub shipping_fee: i64,
    /// Currency.
    pub currency: String,
    /// Accepted methods.
    pub payment_methods: Vec<String>,
    /// `ON_SALE`, `RESERVED`, `SOLD` or `STOPPED`.
    pub status: String,
    /// Free text.
    pub description: Option<String>,
    /// A picture.
    pub image_url: Option<String>,
    /// A category code.
    pub category_code: Option<String>,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            product_id: p.id.to_string(),
            partner_product_id: p.partner_product_id.clone(),
            seller_id: p.seller_id.to_string(),
            name: p.name.clone(),
            price: p.price.minor_units(),
            shipping_fee: p.shipping_fee.minor_units(),
            currency: p.price.currency().code().to_owned(),
            payment_methods: p
                .payment_methods
                .iter()
                .map(|m| m.code().to_owned())
                .collect(),
            status: p.status.code().to_owned(),
            description: p.description.clone(),
            image_url: p.image_url.clone(),
            category_code: p.category_code.clone(),
        }
    }
}

/// Where the goods go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressDto {
    /// Recipient.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub recipient: String,
    /// Recipient's mobile phone.
    #[schema(pattern = r"^01[0-9]{8,9}$")]
    pub phone: String,
    /// Postcode.
    #[schema(
        min_length = 1,
        max_length = 10,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub postcode: String,
    /// Address.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address: String,
    /// Address detail.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address_detail: String,
    /// A note for the courier.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub requirement: Option<String>,
}

/// `POST /api/v1/checkouts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckoutRequestDto {
    /// The product.
    pub product_id: uuid::Uuid,
    /// How to pay.
    pub payment_method: PaymentMethodDto,
    /// GENERAL or PREMIUM.
    pub trade_type: TradeTypeDto,
    /// Where the goods go.
    pub shipping_address: AddressDto,
    /// Where the browser goes after paying: an allowed origin of the partner.
    #[schema(
        max_length = 2000,
        pattern = r"^https?://[^\s\x00-\x1f\x7f/?#@]+([/?#][^\s\x00-\x1f\x7f]*)?$"
    )]
    pub return_url: String,
    /// The partner's own trade number.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub partner_trade_no: Option<String>,
}

/// The amounts of a checkout or trade, in minor units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountsView {
    /// Currency.
    pub currency: String,
    /// Product price.
    pub product_price: i64,
    /// Shipping fee.
    pub shipping_fee: i64,
    /// What the buyer pays.
    pub payment_amount: i64,
    /// 결제수수료.
    pub payment_fee: i64,
    /// 안전거래수수료.
    pub safe_trade_fee: i64,
    /// Payment fee + safe-trade fee.
    pub escrow_fee: i64,
    /// What the seller is paid out.
    pub seller_payout: i64,
}

impl From<&Quote> for AmountsView {
    fn from(q: &Quote) -> Self {
        AmountsView {
            currency: q.payment_amount.currency().code().to_owned(),
            product_price: q.product_price.minor_units(),
            shipping_fee: q.shipping_fee.minor_units(),
            payment_amount: q.payment_amount.minor_units(),
            payment_fee: q.payment_fee.minor_units(),
            safe_trade_fee: q.safe_trade_fee.minor_units(),
            escrow_fee: q.escrow_fee.minor_units(),
            seller_payout: q.seller_payout.minor_units(),
        }
    }
}

/// A checkout.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutView {
    /// Its id.
    pub checkout_id: String,
    /// The hosted checkout page to send the buyer to.
    pub checkout_url: String,
    /// When it expires unpaid.
    pub expires_at: String,
    /// `OPEN`, `PAID`, `FAILED`, `EXPIRED`.
    pub status: String,
    /// The failure code, when failed.
    pub failure_code: Option<String>,
    /// The trade, once paid.
    pub trade_id: Option<String>,
    /// The amounts.
    pub amounts: AmountsView,
}

impl CheckoutView {
    /// The view of `c`, with its signed page link.
    pub fn new(c: &Checkout, checkout_url: String) -> Self {
        CheckoutView {
            checkout_id: c.id.to_string(),
            checkout_url,
            expires_at: rfc3339(c.expires_at),
            status: c.status.code().to_owned(),
            failure_code: c.failure_code.clone(),
            trade_id: c.trade_id.map(|t| t.to_string()),
            amounts: AmountsView::from(&c.quote),
        }
    }
}

/// A status with its Unicro code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeView {
    /// The code (31, 83, …).
    pub code: u8,
    /// The name (`PAID`, `PAID_OUT`, …).
    pub name: String,
}

fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A parcel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentView {
    /// Courier code.
    pub carrier: String,
    /// Courier name.
    pub carrier_name: String,
    /// Invoice number.
    pub invoice_number: String,
}

/// A trade.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeView {
    /// Its id.
    pub trade_id: String,
    /// The partner's own number.
    pub partner_trade_no: Option<String>,
    /// The checkout it came from.
    pub checkout_id: String,
    /// Trade status (`status_cd`).
    pub status: CodeView,
    /// Withdrawal status (출금상태).
    pub withdrawal: CodeView,
    /// Held by an operator.
    pub held: bool,
    /// The buyer.
    pub buyer_id: String,
    /// The seller.
    pub seller_id: String,
    /// The product.
    pub product_id: String,
    /// The product's name.
    pub product_name: String,
    /// GENERAL or PREMIUM.
    pub trade_type: String,
    /// How it was paid.
    pub payment_method: String,
    /// The amounts.
    pub amounts: AmountsView,
    /// The seller's parcel.
    pub shipment: Option<ShipmentView>,
    /// When delivery was reported.
    pub delivered_at: Option<String>,
    /// The return parcel.
    pub return_shipment: Option<ShipmentView>,
    /// When the purchase is approved automatically.
    pub auto_approval_at: Option<String>,
    /// When the payout is due.
    pub payout_date: Option<String>,
    /// When the return refund is due.
    pub refund_date: Option<String>,
    /// When it was paid.
    pub paid_at: Option<String>,
    /// When the purchase was approved.
    pub approved_at: Option<String>,
    /// When it was opened.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Its version: the sequence of its latest event.
    pub version: i64,
}

/// The trade as partners see it, in the API (`GET /api/v1/trades/{id}`) and as the `data` of its
/// callbacks: one public shape.
pub fn trade_document(t: &Trade) -> serde_json::Value {
    serde_json::to_value(TradeView::from(t)).unwrap_or_default()
}

impl From<&Trade> for TradeView {
    fn from(t: &Trade) -> Self {
        let shipment = |s: &escrow_domain::trade::Shipment| ShipmentView {
            carrier: s.carrier.clone(),
            carrier_name: s.courier_name().to_owned(),
            invoice_number: s.invoice_number.clone(),
        };
        TradeView {
            trade_id: t.id.to_string(),
            partner_trade_no: t.partner_trade_no.clone(),
            checkout_id: t.checkout_id.to_string(),
            status: CodeView {
                code: t.status.code(),
                name: name_of(&t.status),
            },
            withdrawal: CodeView {
                code: t.withdrawal.code(),
                name: name_of(&t.withdrawal),
            },
            held: t.held,
            buyer_id: t.buyer_id.to_string(),
            seller_id: t.seller_id.to_string(),
            product_id: t.product_id.to_string(),
            product_name: t.product_name.clone(),
            trade_type: name_of(&t.trade_type),
            payment_method: t.method.code().to_owned(),
            amounts: AmountsView::from(&t.quote),
            shipment: t.shipment.as_ref().map(shipment),
            delivered_at: t.delivered_at.map(rfc3339),
            return_shipment: t.return_shipment.as_ref().map(shipment),
            auto_approval_at: t.deadlines.auto_approval_at.map(rfc3339),
            payout_date: t.deadlines.payout_date.map(|d| d.to_string()),
            refund_date: t.deadlines.refund_date.map(|d| d.to_string()),
            paid_at: t.paid_at.map(rfc3339),
            approved_at: t.approved_at.map(rfc3339),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            version: t.version,
        }
    }
}

/// A page of trades.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradePageView {
    /// The trades, newest first.
    pub items: Vec<TradeView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One event of a trade's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Order within the trade.
    pub sequence: i64,
    /// What was done.
    pub command: String,
    /// Who: `BUYER`, `SELLER`, `PARTNER`, `OPERATOR`, `BATCH`, `PAYMENT_GATEWAY`.
    pub actor: String,
    /// Status before (absent for the opening).
    pub from_status: Option<u8>,
    /// Status after.
    pub to_status: u8,
    /// Withdrawal status before.
    pub from_withdrawal: Option<u8>,
    /// Withdrawal status after.
    pub to_withdrawal: u8,
    /// The reason given.
    pub reason: Option<String>,
    /// When.
    pub at: String,
}

impl From<&TradeEvent> for EventView {
    fn from(e: &TradeEvent) -> Self {
        EventView {
            sequence: e.sequence,
            command: e.command.clone(),
            actor: name_of(&e.actor.role()),
            from_status: e.from_status.map(|s| s.code()),
            to_status: e.to_status.code(),
            from_withdrawal: e.from_withdrawal.map(|w| w.code()),
            to_withdrawal: e.to_withdrawal.code(),
            reason: e.reason.clone(),
            at: rfc3339(e.at),
        }
    }
}

/// `POST …/shipment` and `…/return-shipment`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentRequest {
    /// Courier code from the manual's table (`005` = CJ 대한통운).
    #[schema(pattern = r"^[0-9]{2,3}$")]
    pub carrier: String,
    /// Invoice number.
    #[schema(pattern = r"^[0-9A-Za-z-]{1,40}$")]
    pub invoice_number: String,
}

/// A reason (cancel request, hold, operator cancel).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why (1–500 characters).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason: String,
}

/// `POST …/sale-cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaleCancelRequest {
    /// The manual's sale-cancel code, 31–39.
    #[schema(minimum = 31, maximum = 39)]
    pub reason_code: u8,
    /// Text; required for 39 (직접입력).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason_detail: Option<String>,
}

/// Who pays the return shipping.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnShippingPayerDto {
    /// The buyer.
    Buyer,
    /// The seller.
    Seller,
}

impl From<ReturnShippingPayerDto> for ReturnShippingPayer {
    fn from(p: ReturnShippingPayerDto) -> Self {
        match p {
            ReturnShippingPayerDto::Buyer => ReturnShippingPayer::Buyer,
            ReturnShippingPayerDto::Seller => ReturnShippingPayer::Seller,
        }
    }
}

/// `POST …/return-request`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnRequestDto {
    /// Why.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub reason: String,
    /// Who pays the return shipping.
    pub return_shipping_payer: ReturnShippingPayerDto,
}

/// `POST …/return-agree`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReturnAgreeRequest {
    /// Where the buyer sends the goods back.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x09\x0b-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x09\x0b-\x1f\x7f]*$"
    )]
    pub return_address: String,
}

/// `POST /api/v1/trades/{id}/delivered` (partner) and its admin twin.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveredRequest {
    /// When it was delivered (RFC 3339); now when absent.
    pub delivered_at: Option<String>,
}

/// `POST /admin/v1/partners`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerCreateRequest {
    /// A short code (`demo-market`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Where callbacks go.
    pub webhook_url: Option<String>,
    /// Origins its return URLs may use (`https://market.example`).
    pub allowed_redirect_origins: Vec<String>,
}

/// A partner and its credentials, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerCreatedView {
    /// Its id.
    pub partner_id: String,
    /// Its code.
    pub code: String,
    /// `X-Api-Key`.
    pub api_key: String,
    /// The HMAC secret of its requests (shown once).
    pub api_secret: String,
    /// The HMAC secret of its callbacks (shown once).
    pub webhook_secret: String,
}

/// A partner.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerView {
    /// Its id.
    pub partner_id: String,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// `X-Api-Key`.
    pub api_key: String,
    /// Callback URL.
    pub webhook_url: Option<String>,
    /// Allowed return origins.
    pub allowed_redirect_origins: Vec<String>,
    /// `ACTIVE` or `SUSPENDED`.
    pub status: String,
}

/// `POST /admin/v1/holidays`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HolidayRequest {
    /// `YYYY-MM-DD`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: String,
    /// Its name.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
}

/// A holiday.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Its name.
    pub name: String,
}

/// A refund waiting for an operator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    /// The trade (absent for a late confirmation: money captured for a checkout without a trade).
    pub trade_id: Option<String>,
    /// The checkout the money was paid through.
    pub checkout_id: String,
    /// `TRADE` (cancel or return) or `LATE_CONFIRMATION`.
    pub reason: String,
    /// Its partner.
    pub partner_id: String,
    /// Amount (minor units).
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Withdrawal code it records.
    pub withdrawal_code: Option<u8>,
    /// `PENDING` or `MANUAL_QUEUE`.
    pub status: String,
    /// When it was recorded.
    pub created_at: String,
}

/// Bounded text: trimmed, 1..=`max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("1–{max} characters, no control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// An amount in minor units of `currency`: 0 ..= 10^13 (`allow_zero`) or 1 ..= 10^13.
pub fn amount(
    field: &str,
    value: i64,
    currency: Currency,
    allow_zero: bool,
) -> Result<Money, ApiError> {
    let min = if allow_zero { 0 } else { 1 };
    if !(min..=10_000_000_000_000).contains(&value) {
        return Err(ApiError::invalid(
            field,
            format!("between {min} and 10000000000000"),
        ));
    }
    Ok(Money::new(value, currency))
}

/// A trade callback (`payment.succeeded`, `trade.status_changed`, `trade.updated`): `data` is the trade
/// exactly as `GET /api/v1/trades/{id}` answers it at that version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeCallback {
    /// Unique per event: drop duplicates by it.
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
    /// Orders one trade's events (the trade's version).
    pub sequence: i64,
    /// The trade.
    pub data: TradeView,
}

/// `payment.failed`'s data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailedData {
    /// The checkout.
    pub checkout_id: String,
    /// The partner's trade number, if given.
    pub partner_trade_no: Option<String>,
    /// `PG_DECLINED`, `PG_AMOUNT_MISMATCH`, `PG_CURRENCY_UNSUPPORTED`, `PG_UNAVAILABLE`,
    /// `PG_REJECTED_REQUEST` or `PG_EXPIRED`.
    pub code: String,
}

/// `payment.refunded`'s data: money captured for a checkout that was no longer open, refunded in full.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefundedData {
    /// The checkout.
    pub checkout_id: String,
    /// The partner's trade number, if given.
    pub partner_trade_no: Option<String>,
    /// The PG transaction refunded.
    pub transaction_id: String,
    /// The amount (minor units).
    pub amount: i64,
    /// Its currency.
    pub currency: String,
    /// `LATE_CONFIRMATION`.
    pub reason: String,
}

/// `member.signed_up`'s data.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberSignedUpData {
    /// The member.
    pub member_id: String,
    /// The partner's user.
    pub partner_user_id: String,
    /// The member key (shown once; keep it to ask for member tokens).
    pub member_key: String,
    /// The signup session.
    pub signup_session_id: String,
}
