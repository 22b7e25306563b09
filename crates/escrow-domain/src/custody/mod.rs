//! Custody and delivery (SPEC §13, seed 004 배송 요청): goods the operator holds for a member as
//! **vouchers** (소유권: `available → shipping → shipped`), and the member's **delivery requests**
//! (배송 요청) that hold some of its available vouchers, wait for the shipping fee (the contract's
//! `custodyShippingFee`) to be paid through PortOne, and end shipped (the operator's approval),
//! deleted while unpaid, or refunded before shipping.
//!
//! A voucher is in at most one open request: the repository takes vouchers with a conditional
//! update under row locks, so a second request for the same voucher (also a concurrent one) is
//! refused. Payment verification never trusts the browser or PortOne's unsigned webhook: it looks the
//! payment up at PortOne ([`FeePayments`]) and compares it with the request.

use async_trait::async_trait;
use serde_json::json;
use time::OffsetDateTime;

use crate::checkout::ShippingAddress;
use crate::ids::{MemberId, PartnerId};
use crate::money::Money;
use crate::notification::PartnerEvent;
use crate::ports::RepositoryError;

mod service;

pub use service::{DeliveryError, DeliveryRequests, Verifier};

/// How many requests a page of the list holds.
pub const PAGE_SIZE: u32 = 20;

/// How many vouchers one request may hold.
pub const MAX_VOUCHERS_PER_REQUEST: usize = 50;

macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Its code, as stored and shown.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// From its code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

coded_enum!(
    /// Where a voucher is.
    VoucherState {
        /// Held for its owner; may be requested.
        Available = "available",
        /// In an open delivery request.
        Shipping = "shipping",
        /// Sent to its owner.
        Shipped = "shipped",
    }
);

coded_enum!(
    /// A request's shipping state.
    ShippingState {
        /// Not shipped yet.
        Waiting = "waiting",
        /// The operator shipped it.
        Shipped = "shipped",
    }
);

coded_enum!(
    /// A request's shipping-fee payment state.
    FeePaymentState {
        /// Not paid yet.
        Waiting = "waiting",
        /// Paid and verified at PortOne.
        Paid = "paid",
        /// PortOne's record did not match the request: cancelled at PortOne.
        Forgeried = "forgeried",
        /// A refund is being made at PortOne.
        Refunding = "refunding",
        /// Refunded; the vouchers are available again.
        Refunded = "refunded",
    }
);

/// Goods held for a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    /// Its id.
    pub id: i64,
    /// The partner.
    pub partner_id: PartnerId,
    /// Its owner.
    pub owner_id: MemberId,
    /// The owner's id at the partner.
    pub owner_partner_user_id: String,
    /// What it is ("BUTTER 포토카드").
    pub item_name: String,
    /// A picture of it.
    pub image_url: Option<String>,
    /// Where it is.
    pub state: VoucherState,
    /// When the operator granted it.
    pub created_at: OffsetDateTime,
}

/// A voucher to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoucher {
    /// The partner.
    pub partner_id: PartnerId,
    /// The owner's id at the partner.
    pub owner_partner_user_id: String,
    /// What it is.
    pub item_name: String,
    /// A picture of it.
    pub image_url: Option<String>,
}

/// The shipping fee's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePayment {
    /// Ours at PortOne (the SDK's `merchant_uid`).
    pub merchant_uid: String,
    /// PortOne's, once a payment was verified.
    pub imp_uid: Option<String>,
    /// The fee.
    pub amount: Money,
    /// Its state.
    pub state: FeePaymentState,
    /// When it was verified paid.
    pub paid_at: Option<OffsetDateTime>,
    /// When it was refunded.
    pub refunded_at: Option<OffsetDateTime>,
    /// When a forged payment was cancelled at PortOne.
    pub forgery_cancelled_at: Option<OffsetDateTime>,
}

/// A delivery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRequest {
    /// Its id.
    pub id: i64,
    /// The partner.
    pub partner_id: PartnerId,
    /// Who asked.
    pub requester_id: MemberId,
    /// Their id at the partner.
    pub requester_partner_user_id: String,
    /// Where to.
    pub address: ShippingAddress,
    /// Shipped or not.
    pub shipping: ShippingState,
    /// The fee's payment.
    pub payment: FeePayment,
    /// The vouchers it holds (or held).
    pub voucher_ids: Vec<i64>,
    /// The first voucher's item, to show the request by.
    pub represent: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When the operator shipped it.
    pub shipped_at: Option<OffsetDateTime>,
}

impl DeliveryRequest {
    /// Still holding its vouchers (not deleted, not refunded, not shipped).
    pub fn is_open(&self) -> bool {
        self.shipping == ShippingState::Waiting && self.payment.state != FeePaymentState::Refunded
    }

    /// The partner callback of `kind` (`delivery_request.paid`, …) about this request.
    pub fn event(&self, kind: &'static str) -> PartnerEvent {
        PartnerEvent {
            event_type: kind,
            data: json!({
                "requestId": self.id,
                "partnerUserId": self.requester_partner_user_id,
                "shippingState": self.shipping.code(),
                "paymentState": self.payment.state.code(),
                "amount": self.payment.amount.minor_units(),
                "currency": self.payment.amount.currency().code(),
                "merchantUid": self.payment.merchant_uid,
                "impUid": self.payment.imp_uid,
                "voucherIds": self.voucher_ids,
            }),
        }
    }
}

/// A request with its vouchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRequestDetail {
    /// The request.
    pub request: DeliveryRequest,
    /// Its vouchers as they are now.
    pub vouchers: Vec<Voucher>,
}

/// Which requests to list (SPEC §13's filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFilter {
    /// The partner (always: no one lists another partner's requests).
    pub partner_id: PartnerId,
    /// Only this requester's (a member listing its own).
    pub requester: Option<MemberId>,
    /// Only these requesters (their ids at the partner); empty: all.
    pub partner_user_ids: Vec<String>,
    /// Only this shipping state; `None`: all.
    pub shipping: Option<ShippingState>,
    /// Only this payment state; `None`: all.
    pub payment: Option<FeePaymentState>,
    /// The page, from 0.
    pub page: u32,
}

/// A page of requests, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPage {
    /// The requests.
    pub requests: Vec<DeliveryRequest>,
    /// Whether another page follows.
    pub has_next_page: bool,
}

/// Why vouchers cannot go into a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoucherRefusal {
    /// No such voucher (at this partner).
    NotFound(i64),
    /// Another member's.
    NotOwned(i64),
    /// Not available (in another request, or shipped).
    NotAvailable(i64),
}

/// A request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeliveryRequest {
    /// The partner.
    pub partner_id: PartnerId,
    /// Who asks.
    pub requester_id: MemberId,
    /// The vouchers, each once.
    pub voucher_ids: Vec<i64>,
    /// Where to.
    pub address: ShippingAddress,
    /// The fee.
    pub fee: Money,
    /// Ours at PortOne.
    pub merchant_uid: String,
}

/// What verifying a payment found, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Paid as asked.
    Paid {
        /// PortOne's id.
        imp_uid: String,
    },
    /// PortOne's record does not match the request.
    Forged {
        /// PortOne's id.
        imp_uid: String,
    },
}

/// Storage of vouchers and delivery requests. Each change is one transaction with the partner
/// callback it causes (`event` is built from the request as changed).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustodyRepository: Send + Sync {
    /// Grants a voucher; `None` when the partner has no such member.
    async fn grant_voucher(
        &self,
        voucher: &NewVoucher,
        now: OffsetDateTime,
    ) -> Result<Option<Voucher>, RepositoryError>;

    /// A member's vouchers, newest first.
    async fn vouchers_of(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Vec<Voucher>, RepositoryError>;

    /// Opens a request holding the vouchers (all `available` and the requester's, or nothing
    /// changes) and queues `delivery_request.created`.
    async fn open_request(
        &self,
        request: &NewDeliveryRequest,
        now: OffsetDateTime,
    ) -> Result<Result<DeliveryRequest, VoucherRefusal>, RepositoryError>;

    /// One request (of the partner's, when given), with its vouchers.
    async fn request(
        &self,
        partner_id: Option<PartnerId>,
        id: i64,
    ) -> Result<Option<DeliveryRequestDetail>, RepositoryError>;

    /// The request paid under `merchant_uid` (for PortOne's webhook).
    async fn request_by_merchant_uid(
        &self,
        merchant_uid: &str,
    ) -> Result<Option<DeliveryRequest>, RepositoryError>;

    /// A page of requests.
    async fn requests(&self, filter: &RequestFilter) -> Result<RequestPage, RepositoryError>;

    /// Deletes a request that is `expected` (unpaid, not shipped, unchanged since read), returning
    /// its vouchers to `available`; `false` when it changed meanwhile.
    async fn delete_request(
        &self,
        expected: &DeliveryRequest,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError>;

    /// Stores a verification if the payment is still `waiting`; the request as it is after (or
    /// `None` when it was no longer waiting: nothing written).
    async fn record_verification(
        &self,
        id: i64,
        verification: &Verification,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError>;

    /// Notes that the forged payment was cancelled at PortOne.
    async fn forgery_cancelled(&self, id: i64, now: OffsetDateTime) -> Result<(), RepositoryError>;

    /// Moves the payment between states if it is in `from` (and the request is not shipped); the
    /// request after, or `None` when it was not. Reaching `refunded` returns the vouchers to
    /// `available` and queues `delivery_request.refunded`.
    async fn move_payment(
        &self,
        id: i64,
        from: FeePaymentState,
        to: FeePaymentState,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError>;

    /// Marks a paid, unshipped request shipped (its vouchers `shipped`) and queues
    /// `delivery_request.shipped`; `None` when it was not paid-and-waiting.
    async fn ship(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError>;
}

/// A payment as PortOne reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    /// PortOne's id.
    pub imp_uid: String,
    /// The `merchant_uid` it was paid under.
    pub merchant_uid: String,
    /// What was paid (minor units).
    pub amount: i64,
    /// What has been cancelled (minor units).
    pub cancelled: i64,
    /// PortOne's status (`paid`, `ready`, `failed`, `cancelled`).
    pub status: String,
}

/// Why PortOne did not do it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeePaymentError {
    /// Unreachable, failed or timed out: the outcome is unknown.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
    /// Refused, with its message.
    #[error("payment gateway refused: {0}")]
    Refused(String),
}

/// The PortOne payments the shipping fee is paid with.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FeePayments: Send + Sync {
    /// Looks a payment up; `None` when PortOne has none with that id.
    async fn find(&self, imp_uid: &str) -> Result<Option<GatewayPayment>, FeePaymentError>;

    /// Cancels what remains of a payment; `checksum` is the refundable balance we believe remains
    /// (PortOne refuses otherwise).
    async fn cancel(
        &self,
        imp_uid: &str,
        checksum: i64,
        reason: &str,
    ) -> Result<GatewayPayment, FeePaymentError>;
}
