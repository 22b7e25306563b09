//! Members and their signup sessions.

use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use escrow_domain::ids::{MemberId, PartnerId, TestClockId};
use escrow_domain::people::{Member, MemberStatus, PhoneNumber};
use escrow_domain::ports::{RepositoryError, SignupCompletion, Stored};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::{corrupt, pool_error, storage_error};
use crate::schema::members;
use async_trait::async_trait;
use escrow_domain::ports::MemberRepository;

use super::Directory;
use diesel_async::AsyncConnection;
use escrow_domain::ports::PartnerEvent;
use escrow_domain::signup::{AgreedTerm, SignupSession, SignupStatus};

use crate::errors::TxError;
use crate::schema::{member_terms_agreements, signup_sessions, trades};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = members, check_for_backend(diesel::pg::Pg))]
struct MemberRow {
    id: Uuid,
    partner_id: Uuid,
    partner_user_id: String,
    status: String,
    member_key_hash: String,
    name: String,
    phone: String,
    birth_date: time::Date,
    created_at: OffsetDateTime,
    withdrawn_at: Option<OffsetDateTime>,
    test_clock_id: Option<Uuid>,
}

impl MemberRow {
    fn from_domain(m: &Member, member_key_hash: impl Into<String>) -> Self {
        MemberRow {
            id: m.id.0,
            partner_id: m.partner_id.0,
            partner_user_id: m.partner_user_id.clone(),
            status: m.status.code().to_owned(),
            member_key_hash: member_key_hash.into(),
            name: m.name.clone(),
            phone: m.phone.expose().to_owned(),
            birth_date: m.birth_date,
            created_at: m.created_at,
            withdrawn_at: m.withdrawn_at,
            test_clock_id: m.test_clock.map(|c| c.0),
        }
    }

    fn into_domain(self) -> Result<(Member, String), RepositoryError> {
        Ok((
            Member {
                id: MemberId(self.id),
                partner_id: PartnerId(self.partner_id),
                partner_user_id: self.partner_user_id,
                status: MemberStatus::from_code(&self.status)
                    .ok_or_else(|| corrupt("member status"))?,
                name: self.name,
                phone: PhoneNumber::new(&self.phone).map_err(|_| corrupt("member phone"))?,
                birth_date: self.birth_date,
                created_at: self.created_at,
                withdrawn_at: self.withdrawn_at,
                test_clock: self.test_clock_id.map(TestClockId),
            },
            self.member_key_hash,
        ))
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = signup_sessions, check_for_backend(diesel::pg::Pg))]
struct SessionRow {
    id: Uuid,
    partner_id: Uuid,
    partner_user_id: String,
    return_url: String,
    status: String,
    refusal_reason: Option<String>,
    member_id: Option<Uuid>,
    expires_at: OffsetDateTime,
    created_at: OffsetDateTime,
    test_clock_id: Option<Uuid>,
}

impl SessionRow {
    fn into_domain(self) -> Result<SignupSession, RepositoryError> {
        Ok(SignupSession {
            id: self.id,
            partner_id: PartnerId(self.partner_id),
            partner_user_id: self.partner_user_id,
            return_url: self.return_url,
            status: SignupStatus::from_code(&self.status)
                .ok_or_else(|| corrupt("signup status"))?,
            refusal_reason: self.refusal_reason,
            member_id: self.member_id.map(MemberId),
            expires_at: self.expires_at,
            created_at: self.created_at,
            test_clock: self.test_clock_id.map(TestClockId),
        })
    }
}

impl Directory {
    /// Stores a new member; `member_key_hash` is the SHA-256 of its member key.
    pub async fn create_member(
        &self,
        m: &Member,
        member_key_hash: &str,
    ) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(members::table)
            .values(MemberRow::from_domain(m, member_key_hash.to_owned()))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// The member `id` of `partner_id`, with its member key hash.
    pub async fn member(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        members::table
            .filter(members::id.eq(id.0))
            .filter(members::partner_id.eq(partner_id.0))
            .select(MemberRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(MemberRow::into_domain)
            .transpose()
    }

    /// The newest member of `partner_id` for its user `partner_user_id`, with its member key hash.
    pub async fn member_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        members::table
            .filter(members::partner_id.eq(partner_id.0))
            .filter(members::partner_user_id.eq(partner_user_id))
            .order(members::created_at.desc())
            .select(MemberRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(MemberRow::into_domain)
            .transpose()
    }
}

/// The domain's "not finished" as SQL inputs: statuses never terminal, and statuses terminal only once
/// the money left (33, 54), which stay open while the withdrawal is 80.
fn unfinished_statuses() -> (Vec<i16>, Vec<i16>) {
    use escrow_domain::trade::{is_terminal, TradeStatus, WithdrawalStatus};
    let open_at = |s: TradeStatus, w: WithdrawalStatus| !is_terminal(s, w);
    let always: Vec<i16> = TradeStatus::ALL
        .into_iter()
        .filter(|s| WithdrawalStatus::ALL.into_iter().all(|w| open_at(*s, w)))
        .map(|s| i16::from(s.code()))
        .collect();
    let until_paid: Vec<i16> = TradeStatus::ALL
        .into_iter()
        .filter(|s| {
            open_at(*s, WithdrawalStatus::NotPaidOut) && !always.contains(&i16::from(s.code()))
        })
        .map(|s| i16::from(s.code()))
        .collect();
    (always, until_paid)
}

/// Why a signup transaction rolled back: an expected refusal, or a storage failure.
enum SignupTx {
    Refused(SignupCompletion),
    Failed(RepositoryError),
}

impl From<diesel::result::Error> for SignupTx {
    fn from(e: diesel::result::Error) -> Self {
        SignupTx::Failed(storage_error(e))
    }
}

impl From<RepositoryError> for SignupTx {
    fn from(e: RepositoryError) -> Self {
        SignupTx::Failed(e)
    }
}

#[async_trait]
impl MemberRepository for Directory {
    async fn get(
        &self,
        partner_id: PartnerId,
        id: MemberId,
    ) -> Result<Option<Member>, RepositoryError> {
        Ok(self.member(partner_id, id).await?.map(|(m, _)| m))
    }

    async fn latest_by_user(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Option<(Member, String)>, RepositoryError> {
        self.member_by_user(partner_id, partner_user_id).await
    }

    async fn withdrawals(
        &self,
        partner_id: PartnerId,
        partner_user_id: &str,
    ) -> Result<Vec<OffsetDateTime>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let rows: Vec<Option<OffsetDateTime>> = members::table
            .filter(members::partner_id.eq(partner_id.0))
            .filter(members::partner_user_id.eq(partner_user_id))
            .filter(members::withdrawn_at.is_not_null())
            .order(members::withdrawn_at.desc())
            .select(members::withdrawn_at)
            .load(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().flatten().collect())
    }

    async fn open_signup(&self, s: &SignupSession) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::insert_into(signup_sessions::table)
            .values((
                signup_sessions::id.eq(s.id),
                signup_sessions::partner_id.eq(s.partner_id.0),
                signup_sessions::partner_user_id.eq(&s.partner_user_id),
                signup_sessions::return_url.eq(&s.return_url),
                signup_sessions::status.eq(s.status.code()),
                signup_sessions::expires_at.eq(s.expires_at),
                signup_sessions::created_at.eq(s.created_at),
                signup_sessions::test_clock_id.eq(s.test_clock.map(|c| c.0)),
            ))
            .execute(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    async fn signup_session(&self, id: Uuid) -> Result<Option<SignupSession>, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        signup_sessions::table
            .filter(signup_sessions::id.eq(id))
            .select(SessionRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(storage_error)?
            .map(SessionRow::into_domain)
            .transpose()
    }

    async fn complete_signup(
        &self,
        session_id: Uuid,
        m: &Member,
        member_key: &str,
        member_key_hash: &str,
        terms: &[AgreedTerm],
        event: &PartnerEvent,
    ) -> Result<SignupCompletion, RepositoryError> {
        let hash = member_key_hash.to_owned();
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let result = conn
            .transaction(async move |conn| -> Result<_, SignupTx> {
                // One live membership per partner user: the unique index refuses a second one.
                match crate::errors::stored(
                    diesel::insert_into(members::table)
                        .values(MemberRow::from_domain(m, hash.clone()))
                        .execute(conn)
                        .await,
                )? {
                    Stored::Created => {}
                    Stored::AlreadyExists => {
                        return Err(SignupTx::Refused(SignupCompletion::AlreadyMember))
                    }
                }
                let completed = diesel::update(
                    signup_sessions::table
                        .filter(signup_sessions::id.eq(session_id))
                        .filter(signup_sessions::status.eq("OPEN"))
                        .filter(signup_sessions::expires_at.gt(m.created_at)),
                )
                .set((
                    signup_sessions::status.eq("COMPLETED"),
                    signup_sessions::member_id.eq(Some(m.id.0)),
                    signup_sessions::member_key.eq(Some(member_key)),
                ))
                .execute(conn)
                .await?;
                if completed != 1 {
                    return Err(SignupTx::Refused(SignupCompletion::SessionNotOpen));
                }
                for t in terms {
                    diesel::insert_into(member_terms_agreements::table)
                        .values((
                            member_terms_agreements::member_id.eq(m.id.0),
                            member_terms_agreements::term_code.eq(&t.code),
                            member_terms_agreements::version.eq(&t.version),
                            member_terms_agreements::agreed_at.eq(t.agreed_at),
                        ))
                        .execute(conn)
                        .await?;
                }
                crate::outbox::insert_partner_event(
                    conn,
                    m.partner_id.0,
                    event,
                    m.created_at,
                    false,
                )
                .await?;
                Ok(())
            })
            .await;
        match result {
            Ok(()) => Ok(SignupCompletion::Completed),
            Err(SignupTx::Refused(outcome)) => Ok(outcome),
            Err(SignupTx::Failed(e)) => Err(e),
        }
    }

    async fn refuse_signup(&self, session_id: Uuid, reason: &str) -> Result<(), RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        diesel::update(
            signup_sessions::table
                .filter(signup_sessions::id.eq(session_id))
                .filter(signup_sessions::status.eq("OPEN")),
        )
        .set((
            signup_sessions::status.eq("REFUSED"),
            signup_sessions::refusal_reason.eq(Some(reason)),
        ))
        .execute(&mut conn)
        .await
        .map_err(storage_error)?;
        Ok(())
    }

    async fn take_member_key(&self, session_id: Uuid) -> Result<Option<String>, RepositoryError> {
        #[derive(diesel::QueryableByName)]
        struct Key {
            #[diesel(sql_type = diesel::sql_types::Text)]
            member_key: String,
        }
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let key: Option<Key> = diesel::sql_query(
            "UPDATE signup_sessions s SET member_key = NULL \
             FROM (SELECT id, member_key FROM signup_sessions WHERE id = $1 FOR UPDATE) old \
             WHERE s.id = old.id AND old.member_key IS NOT NULL RETURNING old.member_key",
        )
        .bind::<diesel::sql_types::Uuid, _>(session_id)
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(storage_error)?;
        Ok(key.map(|k| k.member_key))
    }

    async fn withdraw(
        &self,
        partner_id: PartnerId,
        id: MemberId,
        at: OffsetDateTime,
    ) -> Result<bool, RepositoryError> {
        let mut conn = self.pool.get().await.map_err(pool_error)?;
        let (always, until_paid) = unfinished_statuses();
        conn.transaction(async move |conn| -> Result<_, TxError> {
            // Lock the member first so a checkout cannot slip in between the check and the update.
            let _: Uuid = members::table
                .filter(members::id.eq(id.0))
                .filter(members::partner_id.eq(partner_id.0))
                .select(members::id)
                .for_update()
                .first(conn)
                .await?;
            let open: i64 =
                trades::table
                    .filter(trades::buyer_id.eq(id.0).or(trades::seller_id.eq(id.0)))
                    .filter(
                        trades::status_cd.eq_any(always).or(trades::status_cd
                            .eq_any(until_paid)
                            .and(trades::complete_cd.eq(i16::from(
                                escrow_domain::trade::WithdrawalStatus::NotPaidOut.code(),
                            )))),
                    )
                    .count()
                    .get_result(conn)
                    .await?;
            if open > 0 {
                return Ok(false);
            }
            diesel::update(
                members::table
                    .filter(members::id.eq(id.0))
                    .filter(members::status.ne("WITHDRAWN")),
            )
            .set((
                members::status.eq("WITHDRAWN"),
                members::withdrawn_at.eq(Some(at)),
            ))
            .execute(conn)
            .await?;
            Ok(true)
        })
        .await
        .map_err(|e| e.0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unfinished_statuses_follow_the_domain() {
        let (always, until_paid) = super::unfinished_statuses();
        assert_eq!(always, [13, 31, 32, 34, 51, 52, 53]);
        assert_eq!(until_paid, [33, 54]);
    }
}
