//! Interest-free installment notices (무이자할부 안내, SPEC §12): per PG and card company, the months,
//! the minimum amount, the dates they hold (Asia/Seoul), who funds them, partial or not, and the
//! exclusions. The checkout page's popup lists those valid today for the amount; merchant-funded
//! ones become KG Inicis' `nointerest` string and their months its `quotabase`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::calendar::SEOUL;
use crate::ids::InstallmentNoticeId;
use crate::payment::InstallmentTerms;

/// Who pays the interest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Funder {
    /// The card company's own promotion.
    CardCompany,
    /// The merchant (us): sent to the PG as `nointerest`.
    Merchant,
}

/// Inicis' card company codes and names (SPEC §12).
pub const CARD_COMPANIES: [(&str, &str); 9] = [
    ("01", "외환카드"),
    ("03", "롯데카드"),
    ("04", "현대카드"),
    ("06", "KB국민카드"),
    ("11", "BC카드"),
    ("12", "삼성카드"),
    ("14", "신한카드"),
    ("16", "NH농협카드"),
    ("17", "하나카드"),
];

/// The card company named by `code`.
pub fn card_company(code: &str) -> Option<&'static str> {
    CARD_COMPANIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// One notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallmentNotice {
    /// Its id.
    pub id: InstallmentNoticeId,
    /// The PG it holds at (`inicis`).
    pub gateway: String,
    /// The card company's code.
    pub card_code: String,
    /// The card company's name.
    pub card_name: String,
    /// The interest-free months, ascending.
    pub months: Vec<u8>,
    /// The smallest payment it applies to, won.
    pub min_amount: i64,
    /// First day (Asia/Seoul).
    pub valid_from: Date,
    /// Last day (Asia/Seoul), inclusive.
    pub valid_to: Date,
    /// Who pays the interest.
    pub funded_by: Funder,
    /// Partial interest-free (부분무이자): some instalments still carry interest.
    pub partial: bool,
    /// What is excluded (corporate cards, …).
    pub exclusions: String,
}

/// A notice as an operator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoticeDraft {
    /// The PG.
    pub gateway: String,
    /// The card company's code.
    pub card_code: String,
    /// The months.
    pub months: Vec<u8>,
    /// The minimum amount, won.
    pub min_amount: i64,
    /// First day.
    pub valid_from: Date,
    /// Last day, inclusive.
    pub valid_to: Date,
    /// Who pays the interest.
    pub funded_by: Funder,
    /// Partial interest-free.
    #[serde(default)]
    pub partial: bool,
    /// Exclusions.
    #[serde(default)]
    pub exclusions: String,
}

impl NoticeDraft {
    /// Checks the draft: a known card company, 2–36 months, a minimum of 0 or more, from ≤ to,
    /// exclusions up to 500 characters. Answers the field at fault.
    pub fn into_notice(
        self,
        id: InstallmentNoticeId,
    ) -> Result<InstallmentNotice, (&'static str, String)> {
        let card_name = card_company(&self.card_code).ok_or((
            "cardCode",
            format!(
                "one of {:?}",
                CARD_COMPANIES.iter().map(|(c, _)| *c).collect::<Vec<_>>()
            ),
        ))?;
        let months: BTreeSet<u8> = self.months.iter().copied().collect();
        if months.is_empty() || months.iter().any(|m| !(2..=36).contains(m)) {
            return Err(("months", "one or more of 2 to 36".into()));
        }
        if !(0..=1_000_000_000).contains(&self.min_amount) {
            return Err(("minAmount", "0 to 1,000,000,000 won".into()));
        }
        if self.valid_from > self.valid_to {
            return Err(("validTo", "on or after validFrom".into()));
        }
        if self.exclusions.chars().count() > 500 || self.exclusions.chars().any(char::is_control) {
            return Err(("exclusions", "up to 500 characters, one line".into()));
        }
        Ok(InstallmentNotice {
            id,
            gateway: self.gateway,
            card_code: self.card_code,
            card_name: card_name.to_owned(),
            months: months.into_iter().collect(),
            min_amount: self.min_amount,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            funded_by: self.funded_by,
            partial: self.partial,
            exclusions: self.exclusions,
        })
    }
}

impl InstallmentNotice {
    /// Whether it holds on `day` for a payment of `amount` won.
    pub fn holds(&self, day: Date, amount: i64) -> bool {
        self.valid_from <= day && day <= self.valid_to && amount >= self.min_amount
    }
}

/// The day `at` falls on in Asia/Seoul.
pub fn seoul_day(at: OffsetDateTime) -> Date {
    at.to_offset(SEOUL).date()
}

/// KG Inicis' terms from the merchant-funded notices among `notices`: `nointerest`
/// `card-m:m,card-m` and `quotabase` the months of them all.
pub fn inicis_terms(notices: &[InstallmentNotice]) -> InstallmentTerms {
    let funded: Vec<&InstallmentNotice> = notices
        .iter()
        .filter(|n| n.funded_by == Funder::Merchant)
        .collect();
    let join = |months: &[u8]| {
        months
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(":")
    };
    let all: BTreeSet<u8> = funded.iter().flat_map(|n| n.months.clone()).collect();
    InstallmentTerms {
        quotabase: join(&all.into_iter().collect::<Vec<_>>()),
        nointerest: funded
            .iter()
            .map(|n| format!("{}-{}", n.card_code, join(&n.months)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn notice(card: &str, months: &[u8], funded_by: Funder) -> InstallmentNotice {
        NoticeDraft {
            gateway: "inicis".into(),
            card_code: card.into(),
            months: months.to_vec(),
            min_amount: 50_000,
            valid_from: date!(2026 - 12 - 01),
            valid_to: date!(2026 - 12 - 31),
            funded_by,
            partial: false,
            exclusions: String::new(),
        }
        .into_notice(InstallmentNoticeId::random())
        .unwrap()
    }

    #[test]
    fn a_notice_holds_from_its_first_to_its_last_seoul_day_from_its_minimum() {
        let n = notice("11", &[2, 3, 6], Funder::CardCompany);
        assert!(!n.holds(date!(2026 - 11 - 30), 50_000));
        assert!(n.holds(date!(2026 - 12 - 01), 50_000));
        assert!(n.holds(date!(2026 - 12 - 31), 50_000));
        assert!(!n.holds(date!(2027 - 01 - 01), 50_000));
        assert!(!n.holds(date!(2026 - 12 - 15), 49_999));
        // 2026-11-30T15:00Z is already December 1st in Seoul; 14:59:59Z is not.
        assert_eq!(
            seoul_day(datetime!(2026-11-30 15:00 UTC)),
            date!(2026 - 12 - 01)
        );
        assert_eq!(
            seoul_day(datetime!(2026-11-30 14:59:59 UTC)),
            date!(2026 - 11 - 30)
        );
    }

    #[test]
    fn merchant_funded_notices_become_inicis_terms() {
        let terms = inicis_terms(&[
            notice("11", &[6, 2, 3], Funder::Merchant),
            notice("14", &[2, 6], Funder::Merchant),
            notice("04", &[12], Funder::CardCompany),
        ]);
        assert_eq!(terms.nointerest, "11-2:3:6,14-2:6");
        assert_eq!(terms.quotabase, "2:3:6");
        assert_eq!(inicis_terms(&[]), InstallmentTerms::default());
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let draft = || NoticeDraft {
            gateway: "inicis".into(),
            card_code: "11".into(),
            months: vec![2, 3],
            min_amount: 50_000,
            valid_from: date!(2026 - 12 - 01),
            valid_to: date!(2026 - 12 - 31),
            funded_by: Funder::Merchant,
            partial: false,
            exclusions: String::new(),
        };
        let id = InstallmentNoticeId::random();
        let field = |d: NoticeDraft| d.into_notice(id).unwrap_err().0;
        assert_eq!(
            field(NoticeDraft {
                card_code: "99".into(),
                ..draft()
            }),
            "cardCode"
        );
        assert_eq!(
            field(NoticeDraft {
                months: vec![],
                ..draft()
            }),
            "months"
        );
        assert_eq!(
            field(NoticeDraft {
                months: vec![1],
                ..draft()
            }),
            "months"
        );
        assert_eq!(
            field(NoticeDraft {
                min_amount: -1,
                ..draft()
            }),
            "minAmount"
        );
        assert_eq!(
            field(NoticeDraft {
                valid_to: date!(2026 - 11 - 30),
                ..draft()
            }),
            "validTo"
        );
        assert_eq!(
            field(NoticeDraft {
                exclusions: "a\u{0}b".into(),
                ..draft()
            }),
            "exclusions"
        );
    }
}
