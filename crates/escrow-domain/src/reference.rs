//! Code tables from the Unicro partner manual (`shared/reference/unicro-code-tables`), as data.

/// Courier codes (택배사 코드) and names.
pub const COURIERS: &[(&str, &str)] = &[
    ("002", "우체국택배 (6,7로 시작)"),
    ("004", "롯데택배"),
    ("005", "CJ 대한통운"),
    ("008", "로젠택배"),
    ("010", "한진택배"),
    ("018", "우편등기 (1로 시작)"),
    ("022", "대신택배"),
    ("023", "일양로지스"),
    ("024", "경동택배"),
    ("025", "천일택배"),
    ("026", "편의점택배 (CVSnet)"),
    ("028", "UPS"),
    ("029", "DHL"),
    ("030", "합동택배"),
    ("031", "GSM NtoN"),
    ("032", "한의사랑택배"),
    ("033", "건영택배"),
    ("034", "굿투럭"),
    ("035", "우리택배"),
    ("036", "롯데글로벌"),
    ("037", "홈픽택배"),
    ("038", "ACI Express"),
    ("041", "CU편의점택배(BGF네트웍스)"),
    ("401", "EMS"),
    ("402", "FEDEX"),
    ("403", "TNT Express"),
    ("404", "USPS"),
    ("405", "에어보이익스프레스"),
    ("406", "i-Parcel"),
    ("407", "범한판토스"),
    ("408", "APEX(ECMS Express)"),
];

/// Seller sale-cancel reason codes (판매취소 사유코드) and descriptions.
pub const SALE_CANCEL_REASONS: &[(u8, &str)] = &[
    (31, "가격 조정 후 재판매"),
    (32, "상품파손 또는 분실"),
    (33, "택배방식 변경"),
    (34, "배송비/수수료 부담 당사자 변경"),
    (35, "결제방식변경"),
    (36, "구매자에게 신뢰가 가지 않음"),
    (37, "단순변심 판매취소"),
    (38, "안전거래하지 않고 일반거래"),
    (39, "직접입력"),
];

/// Bank codes for payouts and refunds (대금지급/환불 은행 코드) and names.
pub const PAYOUT_BANKS: &[(&str, &str)] = &[
    ("02", "산업은행"),
    ("03", "기업은행"),
    ("04", "국민은행"),
    ("07", "수협"),
    ("11", "농협"),
    ("20", "우리은행"),
    ("21", "신한은행"),
    ("23", "SC은행"),
    ("27", "한국씨티은행"),
    ("31", "대구은행"),
    ("32", "부산은행"),
    ("34", "광주은행"),
    ("35", "제주은행"),
    ("37", "전북은행"),
    ("39", "경남은행"),
    ("45", "새마을금고"),
    ("48", "신협"),
    ("54", "HSBC은행"),
    ("64", "산림조합"),
    ("71", "우체국"),
    ("81", "KEB하나은행"),
    ("89", "케이뱅크"),
    ("90", "카카오뱅크"),
];

/// The bank's name, when `code` is a payout/refund bank code.
pub fn payout_bank_name(code: &str) -> Option<&'static str> {
    PAYOUT_BANKS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// The courier's name, when `code` is a known courier code.
pub fn courier_name(code: &str) -> Option<&'static str> {
    COURIERS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The description of a sale-cancel reason code.
pub fn sale_cancel_reason(code: u8) -> Option<&'static str> {
    SALE_CANCEL_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_hold_the_manual_codes() {
        assert_eq!(COURIERS.len(), 31);
        assert_eq!(PAYOUT_BANKS.len(), 23);
        assert_eq!(payout_bank_name("90"), Some("카카오뱅크"));
        assert_eq!(courier_name("005"), Some("CJ 대한통운"));
        assert_eq!(courier_name("999"), None);
        assert_eq!(sale_cancel_reason(39), Some("직접입력"));
        assert_eq!(sale_cancel_reason(30), None);
    }
}
