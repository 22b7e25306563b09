//! What goes over the wire to and from Inicis: the approval answer, INIAPI requests and answers, the
//! deposit notice (입금통보), and the whitelist of the URLs a browser's auth result may name.

use serde::{Deserialize, Serialize};

/// The data centres an auth result may name (`idc_name`).
pub const IDC_NAMES: [&str; 3] = ["fc", "ks", "stg"];

/// Where Inicis' approval and net-cancel endpoints are, as a template with `{idc}` (production:
/// `https://{idc}stdpay.inicis.com`). An auth result's `authUrl` and `netCancelUrl` must be exactly
/// `{template}/api/payAuth` and `{template}/api/netCancel` for its `idc_name`: the service never
/// calls a URL a browser supplied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUrlWhitelist {
    template: String,
}

impl AuthUrlWhitelist {
    /// The production whitelist.
    pub fn production() -> Self {
        AuthUrlWhitelist::new("https://{idc}stdpay.inicis.com")
    }

    /// A whitelist over `template` (it must contain `{idc}`).
    pub fn new(template: &str) -> Self {
        AuthUrlWhitelist {
            template: template.trim_end_matches('/').to_owned(),
        }
    }

    fn base(&self, idc: &str) -> Option<String> {
        IDC_NAMES
            .contains(&idc)
            .then(|| self.template.replace("{idc}", idc))
    }

    /// `authUrl` if it is the approval endpoint of `idc`.
    pub fn auth_url(&self, idc: &str, url: &str) -> Option<String> {
        let expected = format!("{}/api/payAuth", self.base(idc)?);
        (url == expected).then_some(expected)
    }

    /// `netCancelUrl` if it is the net-cancel endpoint of `idc`.
    pub fn net_cancel_url(&self, idc: &str, url: &str) -> Option<String> {
        let expected = format!("{}/api/netCancel", self.base(idc)?);
        (url == expected).then_some(expected)
    }
}

/// The approval request (`authUrl`, form-encoded); the net cancel sends the same fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// The MID.
    pub mid: String,
    /// The auth result's token.
    #[serde(rename = "authToken")]
    pub auth_token: String,
    /// Epoch milliseconds.
    pub timestamp: String,
    /// `SHA256("authToken=…&timestamp=…")`.
    pub signature: String,
    /// `SHA256("authToken=…&signKey=…&timestamp=…")`.
    pub verification: String,
    /// `UTF-8`.
    pub charset: String,
    /// `JSON`.
    pub format: String,
}

/// The approval answer (the fields this service reads; Inicis sends more).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ApprovalAnswer {
    /// `0000` when approved.
    #[serde(rename = "resultCode")]
    pub result_code: String,
    /// The message.
    #[serde(rename = "resultMsg")]
    pub result_msg: String,
    /// The transaction id.
    pub tid: String,
    /// The order id.
    #[serde(rename = "MOID")]
    pub moid: String,
    /// The amount, won.
    #[serde(rename = "TotPrice")]
    pub tot_price: String,
    /// `Card`, `DirectBank`, `VBank`.
    #[serde(rename = "payMethod")]
    pub pay_method: String,
    /// `YYYYMMDD`.
    #[serde(rename = "applDate")]
    pub appl_date: String,
    /// `hhmmss`.
    #[serde(rename = "applTime")]
    pub appl_time: String,
    /// Installment months.
    #[serde(rename = "CARD_Quota")]
    pub card_quota: String,
    /// `1` interest-free.
    #[serde(rename = "CARD_Interest")]
    pub card_interest: String,
    /// The virtual account number.
    #[serde(rename = "VACT_Num")]
    pub vact_num: String,
    /// Its bank code.
    #[serde(rename = "VACT_BankCode")]
    pub vact_bank_code: String,
    /// Its holder.
    #[serde(rename = "VACT_Name")]
    pub vact_name: String,
    /// Deposit deadline date, `YYYYMMDD`.
    #[serde(rename = "VACT_Date")]
    pub vact_date: String,
    /// Deposit deadline time, `hhmmss`.
    #[serde(rename = "VACT_Time")]
    pub vact_time: String,
    /// The answer's signature.
    #[serde(rename = "authSignature")]
    pub auth_signature: String,
}

/// The net-cancel answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NetCancelAnswer {
    /// `0000` when cancelled.
    #[serde(rename = "resultCode")]
    pub result_code: String,
    /// The message.
    #[serde(rename = "resultMsg")]
    pub result_msg: String,
}

/// An INIAPI v2 request: `{mid, type, timestamp, clientIp, data, hashData}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IniApiRequest<D> {
    /// The MID.
    pub mid: String,
    /// `Refund`, `Inquiry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `YYYYMMDDhhmmss` (Asia/Seoul).
    pub timestamp: String,
    /// The caller's address.
    pub client_ip: String,
    /// The request's data.
    pub data: D,
    /// [`crate::hashes::hash_data`] over `json(data)`.
    pub hash_data: String,
}

/// `data` of a refund; a virtual-account refund names the account the money goes to.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RefundData {
    /// The transaction.
    pub tid: String,
    /// Why.
    pub msg: String,
    /// The refund account number, encrypted ([`crate::hashes::encrypt_account`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_acct_num: Option<String>,
    /// Its bank code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_bank_code: Option<String>,
    /// Its holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_acct_name: Option<String>,
}

impl std::fmt::Debug for RefundData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefundData")
            .field("tid", &self.tid)
            .field("to_account", &self.refund_acct_num.is_some())
            .finish_non_exhaustive()
    }
}

/// `data` of an inquiry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InquiryData {
    /// The transaction.
    pub tid: String,
}

/// An INIAPI answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IniApiAnswer {
    /// `00` on success.
    pub result_code: String,
    /// The message.
    pub result_msg: String,
    /// The inquiry's transaction.
    pub data: Option<InquiryAnswer>,
}

/// What an inquiry reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InquiryAnswer {
    /// The transaction.
    pub tid: String,
    /// The order id.
    pub oid: String,
    /// The amount, won.
    pub price: String,
    /// `PAID` (card approved or deposit received), `WAITING` (virtual account not paid yet),
    /// `CANCELLED`, `FAILED`.
    pub status: String,
}

/// The deposit notice Inicis posts (form-encoded) when a virtual account is paid; answered `OK`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DepositNotice {
    /// The transaction.
    pub no_tid: String,
    /// The order id.
    pub no_oid: String,
    /// The MID.
    pub id_merchant: String,
    /// The amount deposited.
    pub amt_input: String,
    /// `0200` deposit.
    pub type_msg: String,
}

/// Inicis' codes of the banks it issues virtual accounts at, with their names.
pub fn vbank_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "03" => "기업은행",
        "04" => "국민은행",
        "05" => "하나은행(외환)",
        "07" => "수협",
        "11" => "농협",
        "20" => "우리은행",
        "23" => "SC제일은행",
        "31" => "대구은행",
        "32" => "부산은행",
        "34" => "광주은행",
        "37" => "전북은행",
        "39" => "경남은행",
        "71" => "우체국",
        "81" => "하나은행",
        "88" => "신한은행",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whitelist_takes_only_inicis_own_endpoints() {
        let w = AuthUrlWhitelist::production();
        for idc in IDC_NAMES {
            assert!(w
                .auth_url(idc, &format!("https://{idc}stdpay.inicis.com/api/payAuth"))
                .is_some());
            assert!(w
                .net_cancel_url(
                    idc,
                    &format!("https://{idc}stdpay.inicis.com/api/netCancel")
                )
                .is_some());
        }
        for (idc, url) in [
            ("fc", "https://evil.example/api/payAuth"),
            ("fc", "https://fcstdpay.inicis.com.evil.example/api/payAuth"),
            ("fc", "https://ksstdpay.inicis.com/api/payAuth"),
            ("fc", "http://fcstdpay.inicis.com/api/payAuth"),
            ("fc", "https://fcstdpay.inicis.com/api/payAuth?x=1"),
            ("fc", "https://fcstdpay.inicis.com/api/netCancel"),
            ("fc", "https://fcstdpay.inicis.com/api/payAuth/"),
            ("fc", "https://user@fcstdpay.inicis.com/api/payAuth"),
            ("xx", "https://xxstdpay.inicis.com/api/payAuth"),
            ("", "https://stdpay.inicis.com/api/payAuth"),
        ] {
            assert!(w.auth_url(idc, url).is_none(), "{idc} {url}");
        }
        assert!(w
            .net_cancel_url("ks", "https://ksstdpay.inicis.com/api/payAuth")
            .is_none());
        assert!(w
            .net_cancel_url("ks", "https://evil.example/api/netCancel")
            .is_none());
    }
}
