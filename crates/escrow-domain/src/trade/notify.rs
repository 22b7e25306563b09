//! The AlimTalks of a trade: each template's variables filled from the trade, amounts and times as
//! people read them (원 with thousands separators, Seoul time).

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use super::Trade;
use crate::calendar::SEOUL;
use crate::money::{Currency, Money};
use crate::notification::{AlimTalkNotification, AlimTalkTemplate};

fn format_amount(m: Money) -> String {
    match m.currency() {
        Currency::Krw => {
            let digits = m.minor_units().unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            let sign = if m.is_negative() { "-" } else { "" };
            format!("{sign}{out}원")
        }
        Currency::Usd => m.to_string(),
    }
}

fn format_seoul(t: OffsetDateTime) -> String {
    let t = t.to_offset(SEOUL);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

impl Trade {
    /// Builds `template`'s notification, filling exactly the variables the template declares.
    pub(super) fn notification(
        &self,
        template: AlimTalkTemplate,
        reason: Option<&str>,
    ) -> AlimTalkNotification {
        let spec = template.spec();
        let shipment = match template {
            AlimTalkTemplate::SellerReturnShipmentStarted => self.return_shipment.as_ref(),
            _ => self.shipment.as_ref(),
        };
        let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
        let variables = spec
            .variables
            .iter()
            .map(|name| {
                let value = match *name {
                    "tradeId" => self.id.to_string(),
                    "partnerTradeNo" => self.partner_trade_no.clone().unwrap_or_default(),
                    "productName" => self.product_name.clone(),
                    "paymentAmount" => format_amount(self.quote.payment_amount),
                    "sellerPayout" => format_amount(self.quote.seller_payout),
                    "payoutDate" => date(self.deadlines.payout_date),
                    "refundDate" => date(self.deadlines.refund_date),
                    "depositAccount" => self.deposit_account.clone().unwrap_or_default(),
                    "depositDeadline" => self
                        .deadlines
                        .deposit_deadline
                        .map(format_seoul)
                        .unwrap_or_default(),
                    "courierName" => shipment
                        .map(|s| s.courier_name().to_owned())
                        .unwrap_or_default(),
                    "invoiceNumber" => shipment
                        .map(|s| s.invoice_number.clone())
                        .unwrap_or_default(),
                    "autoApprovalDate" => self
                        .deadlines
                        .auto_approval_at
                        .map(|t| t.to_offset(SEOUL).date().to_string())
                        .unwrap_or_default(),
                    "returnAddress" => self
                        .return_address
                        .as_ref()
                        .map(|a| a.as_str().to_owned())
                        .unwrap_or_default(),
                    "reason" => reason
                        .map(str::to_owned)
                        .or_else(|| self.hold_reason.as_ref().map(|r| r.as_str().to_owned()))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                ((*name).to_owned(), value)
            })
            .collect::<BTreeMap<_, _>>();
        AlimTalkNotification {
            template,
            recipient: spec.recipient,
            variables,
        }
    }
}
