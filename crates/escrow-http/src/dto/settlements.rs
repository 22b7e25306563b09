//! Partners' settlement reports (SPEC §15): payouts by payout date.

use escrow_domain::ports::SettlementLine;
use escrow_domain::services::SettlementDay;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::rfc3339;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: payout dates, both included, at most 93 days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SettlementQuery {
    /// The first payout date.
    pub from: Option<String>,
    /// The last payout date.
    pub to: Option<String>,
}

/// One trade's payout.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementLineView {
    /// The trade.
    pub trade_id: String,
    /// The partner's own number for it.
    pub partner_trade_no: Option<String>,
    /// The seller (member id).
    pub seller_id: String,
    /// What the buyer paid.
    pub payment_amount: i64,
    /// The escrow fee kept.
    pub escrow_fee: i64,
    /// What the seller is paid (Unicro's `sellerAmt`).
    pub seller_amount: i64,
    /// ISO 4217.
    pub currency: String,
    /// `SCHEDULED`, `INSTRUCTED` or `CANCELLED` (an operator cancelled the trade before its payout).
    pub status: String,
    /// When the payout was instructed (Unicro's `saleCompleteDate`).
    pub instructed_at: Option<String>,
}

/// The payouts of one payout date (Unicro's `saleReservationDate`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementDayView {
    /// The payout date.
    pub payout_date: String,
    /// `SCHEDULED` while any payout of the day is not yet instructed, else `INSTRUCTED`.
    pub status: String,
    /// ISO 4217.
    pub currency: String,
    /// Σ of what buyers paid.
    pub payment_total: i64,
    /// Σ of escrow fees.
    pub fee_total: i64,
    /// Σ of what sellers are paid.
    pub seller_total: i64,
    /// The trades.
    pub trades: Vec<SettlementLineView>,
}

/// The report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementsView {
    /// The first payout date asked for.
    pub from: String,
    /// The last.
    pub to: String,
    /// Payout dates with payouts, in order.
    pub days: Vec<SettlementDayView>,
}

impl From<&SettlementLine> for SettlementLineView {
    fn from(l: &SettlementLine) -> Self {
        SettlementLineView {
            trade_id: l.trade_id.to_string(),
            partner_trade_no: l.partner_trade_no.clone(),
            seller_id: l.seller_id.to_string(),
            payment_amount: l.payment_amount.minor_units(),
            escrow_fee: l.escrow_fee.minor_units(),
            seller_amount: l.seller_amount.minor_units(),
            currency: l.seller_amount.currency().code().to_owned(),
            status: l.status.code().to_owned(),
            instructed_at: l.instructed_at.map(rfc3339),
        }
    }
}

impl From<&SettlementDay> for SettlementDayView {
    fn from(d: &SettlementDay) -> Self {
        SettlementDayView {
            payout_date: d.payout_date.to_string(),
            status: d.status.code().to_owned(),
            currency: d.seller_total.currency().code().to_owned(),
            payment_total: d.payment_total.minor_units(),
            fee_total: d.fee_total.minor_units(),
            seller_total: d.seller_total.minor_units(),
            trades: d.lines.iter().map(SettlementLineView::from).collect(),
        }
    }
}

/// The report as CSV, one line per trade: the columns of [`SettlementLineView`] after the payout date.
pub fn settlements_csv(days: &[SettlementDay]) -> String {
    let mut csv = String::from(
        "payout_date,trade_id,partner_trade_no,seller_id,payment_amount,escrow_fee,seller_amount,currency,status,instructed_at\n",
    );
    for day in days {
        for line in &day.lines {
            let v = SettlementLineView::from(line);
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                day.payout_date,
                v.trade_id,
                csv_field(v.partner_trade_no.as_deref().unwrap_or("")),
                v.seller_id,
                v.payment_amount,
                v.escrow_fee,
                v.seller_amount,
                v.currency,
                v.status,
                v.instructed_at.unwrap_or_default()
            ));
        }
    }
    csv
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so spreadsheets do not run it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn partner_numbers_cannot_break_a_csv_or_run_as_formulas() {
        assert_eq!(csv_field("T-1"), "T-1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
