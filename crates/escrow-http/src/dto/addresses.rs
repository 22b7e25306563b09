//! The address book's bodies (SPEC §13, seed 004 배송지).

use escrow_domain::address_book::{AddressDraft, SavedAddress};
use escrow_domain::checkout::ShippingAddress;
use escrow_domain::people::PhoneNumber;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{rfc3339, text};
use crate::error::ApiError;

/// `POST /api/v1/addresses`, `PUT /api/v1/addresses/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressRequest {
    /// The member's name for it ("집", "회사").
    #[schema(
        min_length = 1,
        max_length = 30,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub name: String,
    /// Who receives the goods.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub recipient: String,
    /// Their mobile phone (`010-3333-3333` or `01033333333`).
    #[schema(pattern = r"^01[0-9]-?[0-9]{3,4}-?[0-9]{4}$")]
    pub contact: String,
    /// Postcode.
    #[schema(
        min_length = 1,
        max_length = 10,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub postcode: String,
    /// Address.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address: String,
    /// Address detail.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub address_detail: String,
    /// A note for the courier (배송 요청사항).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
    )]
    pub requirement: Option<String>,
    /// `true` makes it the default address (the first address is the default anyway).
    pub prime: Option<bool>,
}

impl AddressRequest {
    /// The draft, every field checked.
    pub fn draft(&self) -> Result<AddressDraft, ApiError> {
        Ok(AddressDraft {
            name: text("name", &self.name, 30)?,
            shipping: ShippingAddress {
                recipient: text("recipient", &self.recipient, 50)?,
                phone: PhoneNumber::new(&self.contact)
                    .map_err(|_| ApiError::invalid("contact", "a mobile number"))?,
                postcode: text("postcode", &self.postcode, 10)?,
                address: text("address", &self.address, 200)?,
                address_detail: text("addressDetail", &self.address_detail, 200)?,
                requirement: self
                    .requirement
                    .as_deref()
                    .map(|r| text("requirement", r, 200))
                    .transpose()?,
            },
            prime: self.prime.unwrap_or(false),
        })
    }
}

/// A saved address.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressView {
    /// Its id.
    pub address_id: i64,
    /// The member's name for it.
    pub name: String,
    /// Who receives the goods.
    pub recipient: String,
    /// Their mobile phone (digits).
    pub contact: String,
    /// Postcode.
    pub postcode: String,
    /// Address.
    pub address: String,
    /// Address detail.
    pub address_detail: String,
    /// A note for the courier.
    pub requirement: Option<String>,
    /// Whether it is the default address.
    pub prime: bool,
    /// When it was saved (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

impl From<&SavedAddress> for AddressView {
    fn from(a: &SavedAddress) -> Self {
        let s = &a.shipping;
        AddressView {
            address_id: a.id,
            name: a.name.clone(),
            recipient: s.recipient.clone(),
            contact: s.phone.expose().to_owned(),
            postcode: s.postcode.clone(),
            address: s.address.clone(),
            address_detail: s.address_detail.clone(),
            requirement: s.requirement.clone(),
            prime: a.prime,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

/// `GET /api/v1/addresses`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressList {
    /// The prime address first, then the most recent first.
    pub addresses: Vec<AddressView>,
}
