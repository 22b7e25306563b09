//! Identifiers of the business's things: partners, members, products, checkouts, trades, events.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random id.
            pub fn random() -> Self {
                $name(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

uuid_id!(
    /// A partner (제휴사).
    PartnerId
);
uuid_id!(
    /// A member (회원) of a partner.
    MemberId
);
uuid_id!(
    /// A product (상품).
    ProductId
);
uuid_id!(
    /// A checkout (결제요청).
    CheckoutId
);
uuid_id!(
    /// A trade (거래).
    TradeId
);
uuid_id!(
    /// A test clock (SPEC §16): a test partner's frozen time its members, checkouts and trades live by.
    TestClockId
);
uuid_id!(
    /// A merchant account (가맹점, MID) at a PG (SPEC §12).
    MerchantId
);
uuid_id!(
    /// An interest-free installment notice (무이자할부 안내, SPEC §12).
    InstallmentNoticeId
);
