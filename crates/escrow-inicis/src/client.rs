//! [`InicisGateway`]: KG Inicis' standard payment as the domain's `PaymentGateway`. Each call uses
//! the merchant (MID and keys `signKey`, `iniapiKey`, `iniapiIv`) it is given.

use async_trait::async_trait;
use escrow_domain::calendar::SEOUL;
use escrow_domain::contract::PaymentMethod;
use escrow_domain::money::Currency;
use escrow_domain::payment::{
    IssuedAccount, PaymentGateway, PaymentRequest, PaymentStart, PaymentStep, PgApproval,
    PgAuthentication, PgError, PgFailure, PgNotification, PgPaymentReport, PgPaymentStatus,
    RefundRequest,
};
use escrow_domain::payment_setup::Merchant;
use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;

use crate::hashes;
use crate::wire::{
    ApprovalAnswer, ApprovalRequest, AuthUrlWhitelist, DepositNotice, IniApiAnswer, IniApiRequest,
    InquiryData, NetCancelAnswer, RefundData,
};

/// The merchant key names an Inicis merchant must have.
pub const MERCHANT_KEYS: [&str; 3] = ["signKey", "iniapiKey", "iniapiIv"];

/// Where Inicis is, and how long to wait for it.
#[derive(Debug, Clone)]
pub struct InicisConfig {
    /// The gateway's name in routing and callback URLs (`inicis`).
    pub name: String,
    /// Where the payment form posts (production: `https://stdpay.inicis.com/payMain/pay`, the page
    /// `INIStdPay.js` opens).
    pub form_action: String,
    /// The approval and net-cancel endpoints, as a template with `{idc}`.
    pub auth_urls: AuthUrlWhitelist,
    /// INIAPI (production: `https://iniapi.inicis.com`).
    pub iniapi_url: String,
    /// Our address as INIAPI's `clientIp` expects it.
    pub client_ip: String,
    /// How long a virtual account stays open for deposit.
    pub vbank_hours: i64,
    /// Request timeout, milliseconds.
    pub request_timeout_ms: u64,
}

/// The Inicis gateway.
pub struct InicisGateway {
    config: InicisConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for InicisGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InicisGateway")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn failed(failure: PgFailure, detail: impl Into<String>) -> PgError {
    PgError::failed(failure, detail)
}

fn key<'a>(merchant: &'a Merchant, name: &str) -> Result<&'a str, PgError> {
    merchant.keys.get(name).ok_or_else(|| {
        failed(
            PgFailure::RejectedRequest,
            format!("merchant {} has no {name}", merchant.id),
        )
    })
}

fn now_ms() -> String {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).to_string()
}

/// `YYYYMMDDhhmmss` in Asia/Seoul.
fn iniapi_timestamp() -> String {
    let t = OffsetDateTime::now_utc().to_offset(SEOUL);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn transport(e: reqwest::Error) -> PgError {
    failed(
        PgFailure::Unavailable,
        if e.is_timeout() {
            "Inicis timed out".to_owned()
        } else {
            format!("Inicis unreachable: {}", e.without_url())
        },
    )
}

impl InicisGateway {
    /// A gateway over `config`.
    pub fn new(config: InicisConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(config.request_timeout_ms))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(InicisGateway { config, http })
    }

    /// Posts a form and reads a JSON answer: 5xx or no answer is `PG_UNAVAILABLE`, another 4xx
    /// `PG_REJECTED_REQUEST`.
    async fn post_form<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        form: &impl Serialize,
    ) -> Result<T, PgError> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|_| failed(PgFailure::RejectedRequest, "unencodable form"))?;
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        Self::read(answer).await
    }

    async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, PgError> {
        let url = format!("{}{path}", self.config.iniapi_url.trim_end_matches('/'));
        let answer = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        Self::read(answer).await
    }

    async fn read<T: serde::de::DeserializeOwned>(answer: reqwest::Response) -> Result<T, PgError> {
        let status = answer.status();
        if status.is_server_error() {
            return Err(failed(
                PgFailure::Unavailable,
                format!("Inicis HTTP {status}"),
            ));
        }
        if !status.is_success() {
            return Err(failed(
                PgFailure::RejectedRequest,
                format!("Inicis HTTP {status}"),
            ));
        }
        let bytes = answer.bytes().await.map_err(transport)?;
        serde_json::from_slice(&bytes)
            .map_err(|_| failed(PgFailure::Unavailable, "unreadable answer from Inicis"))
    }

    fn signed_auth(merchant: &Merchant, auth_token: &str) -> Result<ApprovalRequest, PgError> {
        let sign_key = key(merchant, "signKey")?;
        let timestamp = now_ms();
        Ok(ApprovalRequest {
            mid: merchant.mid.clone(),
            auth_token: auth_token.to_owned(),
            signature: hashes::auth_signature_request(auth_token, &timestamp),
            verification: hashes::auth_verification(auth_token, sign_key, &timestamp),
            timestamp,
            charset: "UTF-8".into(),
            format: "JSON".into(),
        })
    }

    async fn net_cancel(
        &self,
        merchant: &Merchant,
        url: &str,
        auth_token: &str,
    ) -> Result<(), PgError> {
        let request = Self::signed_auth(merchant, auth_token)?;
        let answer: NetCancelAnswer = self.post_form(url, &request).await?;
        if answer.result_code == "0000" {
            Ok(())
        } else {
            Err(failed(
                PgFailure::RejectedRequest,
                format!("net cancel refused: {}", answer.result_code),
            ))
        }
    }

    fn iniapi<D: Serialize>(
        &self,
        merchant: &Merchant,
        kind: &str,
        data: D,
    ) -> Result<IniApiRequest<D>, PgError> {
        let api_key = key(merchant, "iniapiKey")?;
        let timestamp = iniapi_timestamp();
        let json = serde_json::to_string(&data)
            .map_err(|_| failed(PgFailure::RejectedRequest, "unencodable data"))?;
        Ok(IniApiRequest {
            hash_data: hashes::hash_data(api_key, &merchant.mid, kind, &timestamp, &json),
            mid: merchant.mid.clone(),
            kind: kind.to_owned(),
            timestamp,
            client_ip: self.config.client_ip.clone(),
            data,
        })
    }

    fn issued_account(answer: &ApprovalAnswer) -> Result<IssuedAccount, PgError> {
        let unreadable = || failed(PgFailure::Unavailable, "unreadable virtual account");
        let date = time::Date::parse(
            &answer.vact_date,
            time::macros::format_description!("[year][month][day]"),
        )
        .map_err(|_| unreadable())?;
        let at = time::Time::parse(
            &answer.vact_time,
            time::macros::format_description!("[hour][minute][second]"),
        )
        .map_err(|_| unreadable())?;
        if answer.vact_num.is_empty() || answer.vact_name.is_empty() {
            return Err(unreadable());
        }
        Ok(IssuedAccount {
            bank: crate::wire::vbank_name(&answer.vact_bank_code)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("은행 {}", answer.vact_bank_code)),
            number: answer.vact_num.clone(),
            holder: answer.vact_name.clone(),
            due: date.with_time(at).assume_offset(SEOUL),
        })
    }
}

fn gopaymethod(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Card => "Card",
        PaymentMethod::BankTransfer => "DirectBank",
        PaymentMethod::VirtualAccount => "VBank",
    }
}

#[async_trait]
impl PaymentGateway for InicisGateway {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn merchant_keys(&self) -> Vec<String> {
        MERCHANT_KEYS.iter().map(|k| (*k).to_owned()).collect()
    }

    fn notification_ack(&self) -> Option<&'static str> {
        Some("OK")
    }

    /// The inquiry tells a virtual account not paid yet (`WAITING`) from a failure.
    fn reports_pending(&self) -> bool {
        true
    }

    async fn create_payment(
        &self,
        merchant: &Merchant,
        request: &PaymentRequest,
    ) -> Result<PaymentStart, PgError> {
        if request.amount.currency() != Currency::Krw {
            return Err(failed(
                PgFailure::CurrencyUnsupported,
                format!("Inicis takes WON, not {}", request.amount.currency()),
            ));
        }
        let sign_key = key(merchant, "signKey")?;
        let oid = request.checkout_id.to_string();
        let price = request.amount.minor_units().to_string();
        let timestamp = now_ms();
        let mut accept = "below1000:centerCd(Y)".to_owned();
        if request.method == PaymentMethod::VirtualAccount {
            let due = OffsetDateTime::now_utc().to_offset(SEOUL)
                + time::Duration::hours(self.config.vbank_hours);
            accept.push_str(&format!(
                ":vbank({:04}{:02}{:02}{:02}{:02})",
                due.year(),
                u8::from(due.month()),
                due.day(),
                due.hour(),
                due.minute()
            ));
        }
        let fields: Vec<(String, String)> = [
            ("version", "1.0".to_owned()),
            ("mid", merchant.mid.clone()),
            ("goodname", request.order_name.clone()),
            ("oid", oid.clone()),
            ("price", price.clone()),
            ("currency", "WON".to_owned()),
            ("buyername", request.buyer.name.clone()),
            ("buyertel", request.buyer.phone.expose().to_owned()),
            ("buyeremail", String::new()),
            ("timestamp", timestamp.clone()),
            (
                "signature",
                hashes::form_signature(&oid, &price, &timestamp),
            ),
            (
                "verification",
                hashes::form_verification(&oid, &price, sign_key, &timestamp),
            ),
            ("mKey", hashes::m_key(sign_key)),
            ("returnUrl", request.return_url.clone()),
            ("closeUrl", request.return_url.clone()),
            ("gopaymethod", gopaymethod(request.method).to_owned()),
            ("acceptmethod", accept),
            ("quotabase", request.installments.quotabase.clone()),
            ("nointerest", request.installments.nointerest.clone()),
            ("use_chkfake", "Y".to_owned()),
            ("merchantData", oid.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Ok(PaymentStart {
            transaction_id: oid,
            next: PaymentStep::Form {
                action: self.config.form_action.clone(),
                fields,
            },
        })
    }

    fn parse_notification(&self, body: &[u8]) -> Result<PgNotification, PgError> {
        let notice: DepositNotice = serde_urlencoded::from_bytes(body)
            .map_err(|_| failed(PgFailure::RejectedRequest, "unreadable Inicis notice"))?;
        let tid = notice.no_tid.trim();
        if tid.is_empty()
            || tid.len() > 64
            || !tid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(failed(
                PgFailure::RejectedRequest,
                "malformed tid in Inicis notice",
            ));
        }
        Ok(PgNotification {
            transaction_id: tid.to_owned(),
        })
    }

    async fn payment_status(
        &self,
        merchant: &Merchant,
        transaction_id: &str,
    ) -> Result<PgPaymentReport, PgError> {
        let request = self.iniapi(
            merchant,
            "Inquiry",
            InquiryData {
                tid: transaction_id.to_owned(),
            },
        )?;
        let answer: IniApiAnswer = self.post_json("/v2/pg/inquiry", &request).await?;
        let data = match (answer.result_code.as_str(), answer.data) {
            ("00", Some(data)) => data,
            (code, _) => {
                tracing::info!(gateway = %self.config.name, transaction_id, code, "Inicis knows no such payment");
                return Ok(PgPaymentReport {
                    transaction_id: transaction_id.to_owned(),
                    order_id: String::new(),
                    store_id: merchant.mid.clone(),
                    status: PgPaymentStatus::Failed,
                    order_amount: Decimal::ZERO,
                    pay_amount: Decimal::ZERO,
                    discount_amount: Decimal::ZERO,
                    pay_currency: "KRW".into(),
                    order_currency: "KRW".into(),
                });
            }
        };
        let price: Decimal = data
            .price
            .trim()
            .parse()
            .map_err(|_| failed(PgFailure::Unavailable, "unreadable price from Inicis"))?;
        let status = match data.status.as_str() {
            "PAID" => PgPaymentStatus::Confirmed,
            "WAITING" => PgPaymentStatus::Pending,
            _ => PgPaymentStatus::Failed,
        };
        Ok(PgPaymentReport {
            transaction_id: data.tid,
            order_id: data.oid,
            store_id: merchant.mid.clone(),
            status,
            order_amount: price,
            pay_amount: price,
            discount_amount: Decimal::ZERO,
            pay_currency: "KRW".into(),
            order_currency: "KRW".into(),
        })
    }

    async fn refund(&self, merchant: &Merchant, request: &RefundRequest) -> Result<(), PgError> {
        let mut data = RefundData {
            tid: request.transaction_id.clone(),
            msg: "안전거래 환불".into(),
            refund_acct_num: None,
            refund_bank_code: None,
            refund_acct_name: None,
        };
        if let Some(account) = &request.to_account {
            let sealed = hashes::encrypt_account(
                key(merchant, "iniapiKey")?,
                key(merchant, "iniapiIv")?,
                account.number(),
            )
            .ok_or_else(|| {
                failed(
                    PgFailure::RejectedRequest,
                    "iniapiKey and iniapiIv must be 16 bytes to refund to an account",
                )
            })?;
            data.refund_acct_num = Some(sealed);
            data.refund_bank_code = Some(account.bank_code().to_owned());
            data.refund_acct_name = Some(account.holder().to_owned());
        }
        let body = self.iniapi(merchant, "Refund", data)?;
        let answer: IniApiAnswer = self.post_json("/v2/pg/refund", &body).await?;
        if answer.result_code == "00" {
            tracing::info!(gateway = %self.config.name, transaction_id = %request.transaction_id, "refunded through INIAPI");
            Ok(())
        } else {
            Err(failed(
                PgFailure::RejectedRequest,
                format!("INIAPI refused the refund: {}", answer.result_code),
            ))
        }
    }

    async fn approve(
        &self,
        merchant: &Merchant,
        auth: &PgAuthentication,
    ) -> Result<PgApproval, PgError> {
        let field = |name: &str| auth.field(name).unwrap_or_default().to_owned();
        let result_code = field("resultCode");
        if result_code != "0000" {
            return Err(failed(
                PgFailure::Declined,
                format!("authentication result {result_code}"),
            ));
        }
        if field("mid") != merchant.mid {
            return Err(failed(
                PgFailure::RejectedRequest,
                "auth result for another MID",
            ));
        }
        let idc = field("idc_name");
        let (Some(auth_url), Some(cancel_url)) = (
            self.config.auth_urls.auth_url(&idc, &field("authUrl")),
            self.config
                .auth_urls
                .net_cancel_url(&idc, &field("netCancelUrl")),
        ) else {
            tracing::warn!(target: "security", gateway = %self.config.name, idc = %idc, "auth result names an approval URL outside the whitelist");
            return Err(failed(
                PgFailure::RejectedRequest,
                "authUrl or netCancelUrl is not Inicis'",
            ));
        };
        let auth_token = field("authToken");
        if auth_token.is_empty() || auth_token.len() > 2000 {
            return Err(failed(PgFailure::RejectedRequest, "no authToken"));
        }
        let request = Self::signed_auth(merchant, &auth_token)?;
        let answer: ApprovalAnswer = match self.post_form(&auth_url, &request).await {
            Ok(a) => a,
            Err(e) => {
                // No answer: the approval may have happened; Inicis asks for a net cancel.
                if let PgError::Failed {
                    failure: PgFailure::Unavailable,
                    ..
                } = e
                {
                    if let Err(c) = self.net_cancel(merchant, &cancel_url, &auth_token).await {
                        tracing::error!(gateway = %self.config.name, error = %c, "net cancel after an unanswered approval failed");
                    }
                }
                return Err(e);
            }
        };
        if answer.result_code != "0000" {
            return Err(failed(
                PgFailure::Declined,
                format!("approval refused: {}", answer.result_code),
            ));
        }
        let cancel_token = vec![
            ("netCancelUrl".to_owned(), cancel_url.clone()),
            ("authToken".to_owned(), auth_token.clone()),
        ];
        let expected = hashes::approval_signature(
            &answer.moid,
            &merchant.mid,
            &request.timestamp,
            &answer.tot_price,
        )
        .unwrap_or_default();
        if !hashes::same_digest(&expected, &answer.auth_signature) {
            if let Err(c) = self.net_cancel(merchant, &cancel_url, &auth_token).await {
                tracing::error!(gateway = %self.config.name, error = %c, "net cancel of a forged approval failed");
            } else {
                tracing::warn!(gateway = %self.config.name, tid = %answer.tid, "forged approval cancelled (망취소)");
            }
            return Err(failed(
                PgFailure::AmountMismatch,
                "authSignature does not verify",
            ));
        }
        let amount: Decimal = answer
            .tot_price
            .trim()
            .parse()
            .map_err(|_| failed(PgFailure::AmountMismatch, "unreadable TotPrice"))?;
        let issued_account = if answer.pay_method.eq_ignore_ascii_case("VBank") {
            Some(Self::issued_account(&answer)?)
        } else {
            None
        };
        tracing::info!(gateway = %self.config.name, tid = %answer.tid, method = %answer.pay_method, "payment approved");
        Ok(PgApproval {
            transaction_id: answer.tid,
            order_id: answer.moid,
            amount,
            issued_account,
            cancel_token,
        })
    }

    async fn cancel_approval(
        &self,
        merchant: &Merchant,
        approval: &PgApproval,
    ) -> Result<(), PgError> {
        let get = |name: &str| {
            approval
                .cancel_token
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        self.net_cancel(merchant, &get("netCancelUrl"), &get("authToken"))
            .await
    }
}
