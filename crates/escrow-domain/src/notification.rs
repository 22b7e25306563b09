//! What the service tells people: the AlimTalk templates of seed 002 (one table) and the partner
//! callback kinds.
//!
//! The table is the single place a notice's name, recipient and variables are defined. The provider's
//! template codes belong to the AlimTalk adapter (`escrow-alimtalk`), where a partner's own codes
//! may replace them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who receives an AlimTalk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Recipient {
    /// The trade's buyer.
    Buyer,
    /// The trade's seller.
    Seller,
}

/// The 16 AlimTalk templates of seed 002 (거래상태 변경에 따른 알림톡 발송리스트).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlimTalkTemplate {
    /// \[구매자\] 입금계좌 안내 — 13 created.
    BuyerDepositAccount,
    /// \[구매자\] 입금종료 안내 — 5 hours after 13.
    BuyerDepositClosing,
    /// \[판매자\] 상품 발송 요청 — 31 created.
    SellerShipmentRequest,
    /// \[재\] \[구매자\] 상품 발송 안내 — 31 → 32.
    BuyerShipmentNotice,
    /// \[재\] \[판매자\] 구매승인 완료 — 32 → 33.
    SellerPurchaseApproved,
    /// \[판매자\] 반품동의 요청 — 32 → 51.
    SellerReturnAgreementRequest,
    /// \[구매자\] 반품 발송요청 — 51 → 52.
    BuyerReturnShipmentRequest,
    /// \[재\] \[판매자\] 반품배송 시작 — 52 → 53.
    SellerReturnShipmentStarted,
    /// \[구매자\] 반품완료 안내 — 53 → 54.
    BuyerReturnCompleted,
    /// \[판매자\] 결제취소 요청 — 31 → 34.
    SellerCancelRequest,
    /// \[구매자\] 결제취소 동의 — 34 → 35.
    BuyerCancelAgreed,
    /// \[구매자\] 판매취소 안내 — 31 → 36.
    BuyerSaleCancelled,
    /// \[판매자\] 배송정보 수정 요청 — an operator holds the trade.
    SellerShippingInfoCorrection,
    /// \[재\] \[구매자\] 구매승인 안내 — 1 business day before the automatic approval.
    BuyerApprovalReminder,
    /// 구매자_일반결제_구매승인 요청_2021 — 3 business days before the automatic approval.
    BuyerApprovalRequest,
    /// 구매자_일반결제_구매승인 요청(배송완료)_2021 — the day delivery is reported.
    BuyerApprovalRequestDelivered,
}

/// A template's row in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateSpec {
    /// The template.
    pub template: AlimTalkTemplate,
    /// The seed's template name.
    pub name: &'static str,
    /// Who receives it.
    pub recipient: Recipient,
    /// When it is sent (seed 002's 발송시점).
    pub trigger: &'static str,
    /// The variables its text uses, all of which a notification fills.
    pub variables: &'static [&'static str],
}

const TRADE_VARS: &[&str] = &["tradeId", "partnerTradeNo", "productName", "paymentAmount"];
const DEPOSIT_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "depositAccount",
    "depositDeadline",
];
const SHIPMENT_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "courierName",
    "invoiceNumber",
];
const APPROVAL_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "autoApprovalDate",
];
const REASON_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "reason",
];
const RETURN_ADDRESS_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "returnAddress",
];
const REFUND_VARS: &[&str] = &[
    "tradeId",
    "partnerTradeNo",
    "productName",
    "paymentAmount",
    "refundDate",
];

/// Every template, in seed 002's order.
pub const ALIMTALK_TEMPLATES: [TemplateSpec; 16] = {
    use AlimTalkTemplate::*;
    use Recipient::*;
    [
        TemplateSpec {
            template: BuyerDepositAccount,
            name: "[구매자] 입금계좌 안내",
            recipient: Buyer,
            trigger: "입금대기(13) 생성",
            variables: DEPOSIT_VARS,
        },
        TemplateSpec {
            template: BuyerDepositClosing,
            name: "[구매자] 입금종료 안내",
            recipient: Buyer,
            trigger: "입금대기(13) 에서 5시간 경과",
            variables: DEPOSIT_VARS,
        },
        TemplateSpec {
            template: SellerShipmentRequest,
            name: "[판매자] 상품 발송 요청",
            recipient: Seller,
            trigger: "결제완료(31) 생성",
            variables: TRADE_VARS,
        },
        TemplateSpec {
            template: BuyerShipmentNotice,
            name: "[재] [구매자] 상품 발송 안내",
            recipient: Buyer,
            trigger: "결제완료(31) -> 배송중(32) 변경",
            variables: SHIPMENT_VARS,
        },
        TemplateSpec {
            template: SellerPurchaseApproved,
            name: "[재] [판매자] 구매승인 완료",
            recipient: Seller,
            trigger: "배송중(32) -> 거래완료(33) 변경",
            variables: &[
                "tradeId",
                "partnerTradeNo",
                "productName",
                "paymentAmount",
                "sellerPayout",
                "payoutDate",
            ],
        },
        TemplateSpec {
            template: SellerReturnAgreementRequest,
            name: "[판매자] 반품동의 요청",
            recipient: Seller,
            trigger: "배송중(32) -> 반품요청(51) 변경",
            variables: REASON_VARS,
        },
        TemplateSpec {
            template: BuyerReturnShipmentRequest,
            name: "[구매자] 반품 발송요청",
            recipient: Buyer,
            trigger: "반품요청(51) -> 반품동의(52) 변경",
            variables: RETURN_ADDRESS_VARS,
        },
        TemplateSpec {
            template: SellerReturnShipmentStarted,
            name: "[재] [판매자] 반품배송 시작",
            recipient: Seller,
            trigger: "반품동의(52) -> 반품배송중(53)",
            variables: SHIPMENT_VARS,
        },
        TemplateSpec {
            template: BuyerReturnCompleted,
            name: "[구매자] 반품완료 안내",
            recipient: Buyer,
            trigger: "반품배송중(53) -> 반품완료(54) 변경",
            variables: REFUND_VARS,
        },
        TemplateSpec {
            template: SellerCancelRequest,
            name: "[판매자] 결제취소 요청",
            recipient: Seller,
            trigger: "결제완료(31) -> 결제취소요청(34) 변경",
            variables: REASON_VARS,
        },
        TemplateSpec {
            template: BuyerCancelAgreed,
            name: "[구매자] 결제취소 동의",
            recipient: Buyer,
            trigger: "결제취소요청(34) -> 결제취소완료(35) 변경",
            variables: TRADE_VARS,
        },
        TemplateSpec {
            template: BuyerSaleCancelled,
            name: "[구매자] 판매취소 안내",
            recipient: Buyer,
            trigger: "결제완료(31) -> 판매취소완료(36) 변경",
            variables: REASON_VARS,
        },
        TemplateSpec {
            template: SellerShippingInfoCorrection,
            name: "[판매자] 배송정보 수정 요청",
            recipient: Seller,
            trigger: "어드민 거래홀드 처리",
            variables: REASON_VARS,
        },
        TemplateSpec {
            template: BuyerApprovalReminder,
            name: "[재] [구매자] 구매승인 안내",
            recipient: Buyer,
            trigger: "자동구매승인 1영업일 전",
            variables: APPROVAL_VARS,
        },
        TemplateSpec {
            template: BuyerApprovalRequest,
            name: "구매자_일반결제_구매승인 요청_2021",
            recipient: Buyer,
            trigger: "자동구매승인 3영업일 전",
            variables: APPROVAL_VARS,
        },
        TemplateSpec {
            template: BuyerApprovalRequestDelivered,
            name: "구매자_일반결제_구매승인 요청(배송완료)_2021",
            recipient: Buyer,
            trigger: "배송완료값 수신 당일",
            variables: APPROVAL_VARS,
        },
    ]
};

impl AlimTalkTemplate {
    /// The template's row in [`ALIMTALK_TEMPLATES`].
    pub fn spec(self) -> &'static TemplateSpec {
        let index = ALIMTALK_TEMPLATES
            .iter()
            .position(|s| s.template == self)
            .unwrap_or(0);
        &ALIMTALK_TEMPLATES[index]
    }

    /// Who receives it.
    pub fn recipient(self) -> Recipient {
        self.spec().recipient
    }
}

/// An AlimTalk to send: the template, its recipient and the values of its variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlimTalkNotification {
    /// The template.
    pub template: AlimTalkTemplate,
    /// Buyer or seller of the trade.
    pub recipient: Recipient,
    /// Variable name → value; exactly the template's variables.
    pub variables: BTreeMap<String, String>,
}

/// The kind of a partner callback (`type` in the callback body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CallbackType {
    /// The trade's status or withdrawal status changed.
    #[serde(rename = "trade.status_changed")]
    TradeStatusChanged,
    /// Something else about the trade changed (delivery reported, hold, shipping correction).
    #[serde(rename = "trade.updated")]
    TradeUpdated,
    /// The PG approved the payment of a checkout; its trade exists.
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    /// The purchase was approved and the seller's payout date fixed (Unicro's 정산예정일
    /// `saleReservationDate`, with `sellerAmt`).
    #[serde(rename = "trade.payout_scheduled")]
    TradePayoutScheduled,
    /// The seller's payout was instructed to the bank (`saleCompleteDate` is the callback's
    /// `occurredAt`).
    #[serde(rename = "trade.paid_out")]
    TradePaidOut,
}

impl CallbackType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackType::TradeStatusChanged => "trade.status_changed",
            CallbackType::TradeUpdated => "trade.updated",
            CallbackType::PaymentSucceeded => "payment.succeeded",
            CallbackType::TradePayoutScheduled => "trade.payout_scheduled",
            CallbackType::TradePaidOut => "trade.paid_out",
        }
    }
}

/// A partner-visible notice that is not about a trade's state (`member.signed_up`, `payment.failed`):
/// written to the outbox in the transaction of the change that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerEvent {
    /// The callback type.
    pub event_type: &'static str,
    /// Its `data`.
    pub data: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_table_has_16_distinct_templates() {
        let templates: HashSet<_> = ALIMTALK_TEMPLATES.iter().map(|s| s.template).collect();
        assert_eq!(templates.len(), 16);
        for spec in &ALIMTALK_TEMPLATES {
            assert_eq!(spec.template.spec(), spec);
        }
    }

    #[test]
    fn recipients_follow_seed_002() {
        use AlimTalkTemplate::*;
        assert_eq!(BuyerDepositAccount.recipient(), Recipient::Buyer);
        assert_eq!(SellerShipmentRequest.recipient(), Recipient::Seller);
        assert_eq!(SellerShippingInfoCorrection.recipient(), Recipient::Seller);
        assert_eq!(BuyerApprovalRequestDelivered.recipient(), Recipient::Buyer);
        let sellers = ALIMTALK_TEMPLATES
            .iter()
            .filter(|s| s.recipient == Recipient::Seller)
            .count();
        assert_eq!(sellers, 6);
    }
}
