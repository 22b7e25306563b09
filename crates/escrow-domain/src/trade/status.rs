//! Trade status (`status_cd`) and withdrawal status (출금상태, `complete_cd`) with their Unicro codes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a trade is (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeStatus {
    /// 13 입금대기: virtual account issued, not yet paid.
    AwaitingDeposit,
    /// 14 입금취소: buyer cancelled or the deposit deadline passed.
    DepositCancelled,
    /// 31 결제완료: paid; waiting for the seller to ship.
    Paid,
    /// 32 배송중: invoice registered (delivered once `delivered_at` is set).
    Shipping,
    /// 33 거래완료: purchase approved.
    Completed,
    /// 34 결제취소요청: the buyer asked to cancel after paying.
    CancelRequested,
    /// 35 결제취소완료: cancel agreed; refunded.
    CancelledByBuyer,
    /// 36 판매취소완료: the seller cancelled the sale; refunded.
    CancelledBySeller,
    /// 37 운영자거래취소: an operator cancelled; refunded.
    CancelledByOperator,
    /// 51 반품요청: the buyer asked to return.
    ReturnRequested,
    /// 52 반품동의: the seller agreed and gave a return address.
    ReturnAgreed,
    /// 53 반품배송중: the buyer registered the return invoice.
    ReturnShipping,
    /// 54 반품완료: the seller confirmed receipt; refunded on the next business day.
    Returned,
}

impl TradeStatus {
    /// Every status.
    pub const ALL: [TradeStatus; 13] = [
        TradeStatus::AwaitingDeposit,
        TradeStatus::DepositCancelled,
        TradeStatus::Paid,
        TradeStatus::Shipping,
        TradeStatus::Completed,
        TradeStatus::CancelRequested,
        TradeStatus::CancelledByBuyer,
        TradeStatus::CancelledBySeller,
        TradeStatus::CancelledByOperator,
        TradeStatus::ReturnRequested,
        TradeStatus::ReturnAgreed,
        TradeStatus::ReturnShipping,
        TradeStatus::Returned,
    ];

    /// The Unicro status code.
    pub fn code(self) -> u8 {
        match self {
            TradeStatus::AwaitingDeposit => 13,
            TradeStatus::DepositCancelled => 14,
            TradeStatus::Paid => 31,
            TradeStatus::Shipping => 32,
            TradeStatus::Completed => 33,
            TradeStatus::CancelRequested => 34,
            TradeStatus::CancelledByBuyer => 35,
            TradeStatus::CancelledBySeller => 36,
            TradeStatus::CancelledByOperator => 37,
            TradeStatus::ReturnRequested => 51,
            TradeStatus::ReturnAgreed => 52,
            TradeStatus::ReturnShipping => 53,
            TradeStatus::Returned => 54,
        }
    }

    /// The status with Unicro code `code`.
    pub fn from_code(code: u8) -> Option<TradeStatus> {
        TradeStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// True while a trade in this status keeps its product reserved and its seller limits counted.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            TradeStatus::DepositCancelled
                | TradeStatus::Completed
                | TradeStatus::CancelledByBuyer
                | TradeStatus::CancelledBySeller
                | TradeStatus::CancelledByOperator
                | TradeStatus::Returned
        )
    }
}

impl fmt::Display for TradeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self, self.code())
    }
}

/// Where the held money went (출금상태).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WithdrawalStatus {
    /// 80 미입금: held, not paid out.
    NotPaidOut,
    /// 81: refunded after the seller cancelled the sale.
    SellerCancelRefunded,
    /// 82: refunded after the buyer's cancel was agreed.
    BuyerCancelRefunded,
    /// 83: paid out to the seller.
    PaidOut,
    /// 84: refunded after a return.
    ReturnRefunded,
    /// 85: refunded after an operator's cancel.
    OperatorCancelRefunded,
}

impl WithdrawalStatus {
    /// Every withdrawal status.
    pub const ALL: [WithdrawalStatus; 6] = [
        WithdrawalStatus::NotPaidOut,
        WithdrawalStatus::SellerCancelRefunded,
        WithdrawalStatus::BuyerCancelRefunded,
        WithdrawalStatus::PaidOut,
        WithdrawalStatus::ReturnRefunded,
        WithdrawalStatus::OperatorCancelRefunded,
    ];

    /// The Unicro code.
    pub fn code(self) -> u8 {
        match self {
            WithdrawalStatus::NotPaidOut => 80,
            WithdrawalStatus::SellerCancelRefunded => 81,
            WithdrawalStatus::BuyerCancelRefunded => 82,
            WithdrawalStatus::PaidOut => 83,
            WithdrawalStatus::ReturnRefunded => 84,
            WithdrawalStatus::OperatorCancelRefunded => 85,
        }
    }

    /// The withdrawal status with Unicro code `code`.
    pub fn from_code(code: u8) -> Option<WithdrawalStatus> {
        WithdrawalStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// True when nothing can change a trade any more (SPEC §8: 14, 33/83, 35, 36, 37, 54 after refund).
pub fn is_terminal(status: TradeStatus, withdrawal: WithdrawalStatus) -> bool {
    match status {
        TradeStatus::DepositCancelled
        | TradeStatus::CancelledByBuyer
        | TradeStatus::CancelledBySeller
        | TradeStatus::CancelledByOperator => true,
        TradeStatus::Completed | TradeStatus::Returned => {
            withdrawal != WithdrawalStatus::NotPaidOut
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_the_manual() {
        let codes: Vec<u8> = TradeStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [13, 14, 31, 32, 33, 34, 35, 36, 37, 51, 52, 53, 54]);
        for s in TradeStatus::ALL {
            assert_eq!(TradeStatus::from_code(s.code()), Some(s));
        }
        for w in WithdrawalStatus::ALL {
            assert_eq!(WithdrawalStatus::from_code(w.code()), Some(w));
        }
        assert_eq!(TradeStatus::from_code(15), None);
        assert_eq!(TradeStatus::Paid.code(), 31);
    }
}
