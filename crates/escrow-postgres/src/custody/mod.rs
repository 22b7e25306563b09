//! Custody vouchers and delivery requests in PostgreSQL (SPEC §13): reads here, changes in
//! `changes` (each one transaction with its partner callback).

use std::collections::HashMap;

use diesel::{ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use escrow_domain::checkout::ShippingAddress;
use escrow_domain::custody::{
    DeliveryRequest, FeePayment, FeePaymentState, ShippingState, Voucher, VoucherState,
};
use escrow_domain::ids::{MemberId, PartnerId};
use escrow_domain::money::{Currency, Money};
use escrow_domain::people::PhoneNumber;
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::corrupt;
use crate::migrate::DbPool;
use crate::schema::{
    delivery_request_vouchers as drv, delivery_requests as dr, members, vouchers as v,
};

mod changes;

/// Vouchers and delivery requests.
#[derive(Clone)]
pub struct PgCustody {
    pool: DbPool,
}

impl PgCustody {
    /// Over this pool.
    pub fn new(pool: DbPool) -> Self {
        PgCustody { pool }
    }
}

#[derive(diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = v)]
struct VoucherRow {
    id: i64,
    partner_id: Uuid,
    owner_id: Uuid,
    item_name: String,
    image_url: Option<String>,
    state: String,
    created_at: OffsetDateTime,
}

fn voucher(row: VoucherRow, owner_partner_user_id: String) -> Result<Voucher, RepositoryError> {
    Ok(Voucher {
        id: row.id,
        partner_id: PartnerId(row.partner_id),
        owner_id: MemberId(row.owner_id),
        owner_partner_user_id,
        item_name: row.item_name,
        image_url: row.image_url,
        state: VoucherState::from_code(&row.state).ok_or_else(|| corrupt("voucher state"))?,
        created_at: row.created_at,
    })
}

#[derive(diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = dr)]
struct RequestRow {
    id: i64,
    partner_id: Uuid,
    requester_id: Uuid,
    recipient: String,
    contact: String,
    postcode: String,
    address: String,
    address_detail: String,
    requirement: Option<String>,
    shipping_state: String,
    payment_state: String,
    merchant_uid: String,
    imp_uid: Option<String>,
    amount: i64,
    currency: String,
    paid_at: Option<OffsetDateTime>,
    refunded_at: Option<OffsetDateTime>,
    forgery_cancelled_at: Option<OffsetDateTime>,
    shipped_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl RequestRow {
    fn into_domain(
        self,
        partner_user_id: String,
        held: Vec<(i64, String)>,
    ) -> Result<DeliveryRequest, RepositoryError> {
        let currency: Currency = self.currency.parse().map_err(corrupt)?;
        Ok(DeliveryRequest {
            id: self.id,
            partner_id: PartnerId(self.partner_id),
            requester_id: MemberId(self.requester_id),
            requester_partner_user_id: partner_user_id,
            address: ShippingAddress {
                recipient: self.recipient,
                phone: PhoneNumber::new(&self.contact).map_err(|_| corrupt("request contact"))?,
                postcode: self.postcode,
                address: self.address,
                address_detail: self.address_detail,
                requirement: self.requirement,
            },
            shipping: ShippingState::from_code(&self.shipping_state)
                .ok_or_else(|| corrupt("shipping state"))?,
            payment: FeePayment {
                merchant_uid: self.merchant_uid,
                imp_uid: self.imp_uid,
                amount: Money::new(self.amount, currency),
                state: FeePaymentState::from_code(&self.payment_state)
                    .ok_or_else(|| corrupt("payment state"))?,
                paid_at: self.paid_at,
                refunded_at: self.refunded_at,
                forgery_cancelled_at: self.forgery_cancelled_at,
            },
            represent: <[_]>::first(&held).map(|(_, name)| name.clone()),
            voucher_ids: held.into_iter().map(|(id, _)| id).collect(),
            created_at: self.created_at,
            shipped_at: self.shipped_at,
        })
    }
}

/// The vouchers (id, item) each request holds or held, in voucher order.
async fn held_by(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<(i64, String)>>, diesel::result::Error> {
    let rows: Vec<(i64, i64, String)> = drv::table
        .inner_join(v::table.on(v::id.eq(drv::voucher_id)))
        .filter(drv::request_id.eq_any(ids))
        .order((drv::request_id, drv::voucher_id))
        .select((drv::request_id, v::id, v::item_name))
        .load(conn)
        .await?;
    let mut by_request: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (request, voucher, name) in rows {
        by_request.entry(request).or_default().push((voucher, name));
    }
    Ok(by_request)
}

/// Requests by a filter on `delivery_requests` (already narrowed by the caller), with their holders.
async fn load_requests(
    conn: &mut AsyncPgConnection,
    rows: Vec<(RequestRow, String)>,
) -> Result<Vec<DeliveryRequest>, RepositoryError> {
    let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
    let mut held = held_by(conn, &ids)
        .await
        .map_err(crate::errors::storage_error)?;
    rows.into_iter()
        .map(|(row, user)| {
            let vouchers = held.remove(&row.id).unwrap_or_default();
            row.into_domain(user, vouchers)
        })
        .collect()
}

/// One request by id (at a partner, when given).
pub(crate) async fn load_request(
    conn: &mut AsyncPgConnection,
    partner_id: Option<PartnerId>,
    id: i64,
) -> Result<Option<DeliveryRequest>, RepositoryError> {
    let mut query = dr::table
        .inner_join(members::table.on(members::id.eq(dr::requester_id)))
        .filter(dr::id.eq(id))
        .select((RequestRow::as_select(), members::partner_user_id))
        .into_boxed();
    if let Some(p) = partner_id {
        query = query.filter(dr::partner_id.eq(p.0));
    }
    let row: Option<(RequestRow, String)> = query
        .first(conn)
        .await
        .optional()
        .map_err(crate::errors::storage_error)?;
    Ok(load_requests(conn, row.into_iter().collect()).await?.pop())
}

/// The vouchers with these ids, with their owners' partner user ids.
async fn load_vouchers(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<Voucher>, RepositoryError> {
    let rows: Vec<(VoucherRow, String)> = v::table
        .inner_join(members::table.on(members::id.eq(v::owner_id)))
        .filter(v::id.eq_any(ids))
        .order(v::id)
        .select((VoucherRow::as_select(), members::partner_user_id))
        .load(conn)
        .await
        .map_err(crate::errors::storage_error)?;
    rows.into_iter().map(|(r, u)| voucher(r, u)).collect()
}
