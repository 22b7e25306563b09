//! The `CustodyRepository` implementation: every change is one transaction that checks the state it
//! changes from (a conditional update) and queues its partner callback.

use async_trait::async_trait;
use diesel::{ExpressionMethods, JoinOnDsl, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use escrow_domain::custody::{
    CustodyRepository, DeliveryRequest, DeliveryRequestDetail, FeePaymentState, NewDeliveryRequest,
    NewVoucher, RequestFilter, RequestPage, ShippingState, Verification, Voucher, VoucherRefusal,
    VoucherState, PAGE_SIZE,
};
use escrow_domain::ids::{MemberId, PartnerId};
use escrow_domain::ports::RepositoryError;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    load_request, load_requests, load_vouchers, voucher, PgCustody, RequestRow, VoucherRow,
};
use crate::errors::{pool_error, storage_error, TxError};
use crate::outbox::insert_partner_event;
use crate::schema::{
    delivery_request_vouchers as drv, delivery_requests as dr, members, vouchers as v,
};

/// Queues the callback about the request as it is now (in the caller's transaction).
async fn queue(
    conn: &mut AsyncPgConnection,
    id: i64,
    kind: &'static str,
    now: OffsetDateTime,
) -> Result<Option<DeliveryRequest>, RepositoryError> {
    let Some(r) = load_request(conn, None, id).await? else {
        return Ok(None);
    };
    insert_partner_event(conn, r.partner_id.0, &r.event(kind), now, false).await?;
    Ok(Some(r))
}

/// Returns a request's held vouchers to `available`.
async fn release(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: OffsetDateTime,
) -> Result<(), diesel::result::Error> {
    diesel::update(
        v::table
            .filter(v::open_request_id.eq(id))
            .filter(v::state.eq("shipping")),
    )
    .set((
        v::state.eq(VoucherState::Available.code()),
        v::open_request_id.eq(None::<i64>),
        v::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Checks the vouchers for `open_request` (locked), in the order given.
async fn check_vouchers(
    conn: &mut AsyncPgConnection,
    request: &NewDeliveryRequest,
) -> Result<Option<VoucherRefusal>, diesel::result::Error> {
    let found: Vec<(i64, Uuid, Uuid, String)> = v::table
        .filter(v::id.eq_any(&request.voucher_ids))
        .filter(v::partner_id.eq(request.partner_id.0))
        .select((v::id, v::partner_id, v::owner_id, v::state))
        .for_update()
        .load(conn)
        .await?;
    for id in &request.voucher_ids {
        let Some((_, _, owner, state)) = found.iter().find(|f| f.0 == *id) else {
            return Ok(Some(VoucherRefusal::NotFound(*id)));
        };
        if *owner != request.requester_id.0 {
            return Ok(Some(VoucherRefusal::NotOwned(*id)));
        }
        if state != VoucherState::Available.code() {
            return Ok(Some(VoucherRefusal::NotAvailable(*id)));
        }
    }
    Ok(None)
}

#[async_trait]
impl CustodyRepository for PgCustody {
    async fn grant_voucher(
        &self,
        new: &NewVoucher,
        now: OffsetDateTime,
    ) -> Result<Option<Voucher>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let owner: Option<Uuid> = members::table
            .filter(members::partner_id.eq(new.partner_id.0))
            .filter(members::partner_user_id.eq(&new.owner_partner_user_id))
            .select(members::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        let Some(owner) = owner else {
            return Ok(None);
        };
        let row: VoucherRow = diesel::insert_into(v::table)
            .values((
                v::partner_id.eq(new.partner_id.0),
                v::owner_id.eq(owner),
                v::item_name.eq(&new.item_name),
                v::image_url.eq(new.image_url.as_deref()),
                v::state.eq(VoucherState::Available.code()),
                v::created_at.eq(now),
                v::updated_at.eq(now),
            ))
            .returning(VoucherRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(storage_error)?;
        voucher(row, new.owner_partner_user_id.clone()).map(Some)
    }

    async fn vouchers_of(
        &self,
        partner_id: PartnerId,
        member_id: MemberId,
    ) -> Result<Vec<Voucher>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let ids: Vec<i64> = v::table
            .filter(v::partner_id.eq(partner_id.0))
            .filter(v::owner_id.eq(member_id.0))
            .select(v::id)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let mut all = load_vouchers(&mut conn, &ids).await?;
        all.reverse();
        Ok(all)
    }

    async fn open_request(
        &self,
        request: &NewDeliveryRequest,
        now: OffsetDateTime,
    ) -> Result<Result<DeliveryRequest, VoucherRefusal>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            if let Some(refusal) = check_vouchers(conn, request).await? {
                return Ok(Err(refusal));
            }
            let a = &request.address;
            let id: i64 = diesel::insert_into(dr::table)
                .values((
                    dr::partner_id.eq(request.partner_id.0),
                    dr::requester_id.eq(request.requester_id.0),
                    dr::recipient.eq(&a.recipient),
                    dr::contact.eq(a.phone.expose()),
                    dr::postcode.eq(&a.postcode),
                    dr::address.eq(&a.address),
                    dr::address_detail.eq(&a.address_detail),
                    dr::requirement.eq(a.requirement.as_deref()),
                    dr::shipping_state.eq(ShippingState::Waiting.code()),
                    dr::payment_state.eq(FeePaymentState::Waiting.code()),
                    dr::merchant_uid.eq(&request.merchant_uid),
                    dr::amount.eq(request.fee.minor_units()),
                    dr::currency.eq(request.fee.currency().code()),
                    dr::created_at.eq(now),
                    dr::updated_at.eq(now),
                ))
                .returning(dr::id)
                .get_result(conn)
                .await?;
            let taken = diesel::update(
                v::table
                    .filter(v::id.eq_any(&request.voucher_ids))
                    .filter(v::state.eq(VoucherState::Available.code())),
            )
            .set((
                v::state.eq(VoucherState::Shipping.code()),
                v::open_request_id.eq(id),
                v::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            if taken != request.voucher_ids.len() {
                // Cannot happen under the row locks; refuse rather than hold part of them.
                return Err(TxError(RepositoryError::Conflict));
            }
            let links: Vec<_> = request
                .voucher_ids
                .iter()
                .map(|voucher| (drv::request_id.eq(id), drv::voucher_id.eq(*voucher)))
                .collect();
            diesel::insert_into(drv::table)
                .values(links)
                .execute(conn)
                .await?;
            let opened = queue(conn, id, "delivery_request.created", now)
                .await?
                .ok_or(TxError(RepositoryError::Conflict))?;
            Ok(Ok(opened))
        })
        .await
        .map_err(|e| e.0)
    }

    async fn request(
        &self,
        partner_id: Option<PartnerId>,
        id: i64,
    ) -> Result<Option<DeliveryRequestDetail>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let Some(request) = load_request(&mut conn, partner_id, id).await? else {
            return Ok(None);
        };
        let vouchers = load_vouchers(&mut conn, &request.voucher_ids).await?;
        Ok(Some(DeliveryRequestDetail { request, vouchers }))
    }

    async fn request_by_merchant_uid(
        &self,
        merchant_uid: &str,
    ) -> Result<Option<DeliveryRequest>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let id: Option<i64> = dr::table
            .filter(dr::merchant_uid.eq(merchant_uid))
            .select(dr::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?;
        match id {
            Some(id) => load_request(&mut conn, None, id).await,
            None => Ok(None),
        }
    }

    async fn requests(&self, f: &RequestFilter) -> Result<RequestPage, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let mut query = dr::table
            .inner_join(members::table.on(members::id.eq(dr::requester_id)))
            .filter(dr::partner_id.eq(f.partner_id.0))
            .select((RequestRow::as_select(), members::partner_user_id))
            .order(dr::id.desc())
            .into_boxed();
        if let Some(m) = f.requester {
            query = query.filter(dr::requester_id.eq(m.0));
        }
        if !f.partner_user_ids.is_empty() {
            query = query.filter(members::partner_user_id.eq_any(&f.partner_user_ids));
        }
        if let Some(s) = f.shipping {
            query = query.filter(dr::shipping_state.eq(s.code()));
        }
        if let Some(p) = f.payment {
            query = query.filter(dr::payment_state.eq(p.code()));
        }
        let size = i64::from(PAGE_SIZE);
        let mut rows: Vec<(RequestRow, String)> = query
            .offset(i64::from(f.page) * size)
            .limit(size + 1)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        let has_next_page = rows.len() as i64 > size;
        rows.truncate(PAGE_SIZE as usize);
        Ok(RequestPage {
            requests: load_requests(&mut conn, rows).await?,
            has_next_page,
        })
    }

    async fn delete_request(
        &self,
        expected: &DeliveryRequest,
        now: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let locked: Option<(String, String)> = dr::table
                .filter(dr::id.eq(expected.id))
                .select((dr::shipping_state, dr::payment_state))
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let unchanged = locked.is_some_and(|(s, p)| {
                s == expected.shipping.code() && p == expected.payment.state.code()
            });
            if !unchanged {
                return Ok(false);
            }
            let mut gone = expected.clone();
            gone.shipping = ShippingState::Waiting;
            insert_partner_event(
                conn,
                expected.partner_id.0,
                &gone.event("delivery_request.deleted"),
                now,
                false,
            )
            .await?;
            release(conn, expected.id, now).await?;
            diesel::delete(dr::table.filter(dr::id.eq(expected.id)))
                .execute(conn)
                .await?;
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn record_verification(
        &self,
        id: i64,
        verification: &Verification,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError> {
        let (state, imp_uid, kind) = match verification {
            Verification::Paid { imp_uid } => {
                (FeePaymentState::Paid, imp_uid, "delivery_request.paid")
            }
            Verification::Forged { imp_uid } => (
                FeePaymentState::Forgeried,
                imp_uid,
                "delivery_request.forgeried",
            ),
        };
        let paid_at = (state == FeePaymentState::Paid).then_some(now);
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let changed = diesel::update(
                dr::table
                    .filter(dr::id.eq(id))
                    .filter(dr::payment_state.eq(FeePaymentState::Waiting.code())),
            )
            .set((
                dr::payment_state.eq(state.code()),
                dr::imp_uid.eq(imp_uid),
                dr::paid_at.eq(paid_at),
                dr::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            Ok(queue(conn, id, kind, now).await?)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn forgery_cancelled(&self, id: i64, now: OffsetDateTime) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::update(dr::table.filter(dr::id.eq(id)))
            .set((dr::forgery_cancelled_at.eq(now), dr::updated_at.eq(now)))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn move_payment(
        &self,
        id: i64,
        from: FeePaymentState,
        to: FeePaymentState,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let refunded = to == FeePaymentState::Refunded;
            let changed = diesel::update(
                dr::table
                    .filter(dr::id.eq(id))
                    .filter(dr::payment_state.eq(from.code()))
                    .filter(dr::shipping_state.eq(ShippingState::Waiting.code())),
            )
            .set((
                dr::payment_state.eq(to.code()),
                dr::refunded_at.eq(refunded.then_some(now)),
                dr::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            if refunded {
                release(conn, id, now).await?;
                return Ok(queue(conn, id, "delivery_request.refunded", now).await?);
            }
            Ok(load_request(conn, None, id).await?)
        })
        .await
        .map_err(|e| e.0)
    }

    async fn ship(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> Result<Option<DeliveryRequest>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        conn.transaction(async move |conn| -> Result<_, TxError> {
            let changed = diesel::update(
                dr::table
                    .filter(dr::id.eq(id))
                    .filter(dr::payment_state.eq(FeePaymentState::Paid.code()))
                    .filter(dr::shipping_state.eq(ShippingState::Waiting.code())),
            )
            .set((
                dr::shipping_state.eq(ShippingState::Shipped.code()),
                dr::shipped_at.eq(now),
                dr::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
            if changed == 0 {
                return Ok(None);
            }
            diesel::update(v::table.filter(v::open_request_id.eq(id)))
                .set((
                    v::state.eq(VoucherState::Shipped.code()),
                    v::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(queue(conn, id, "delivery_request.shipped", now).await?)
        })
        .await
        .map_err(|e| e.0)
    }
}
