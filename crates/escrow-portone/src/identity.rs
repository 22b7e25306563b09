//! PortOne's identity verification (본인인증, `GET /certifications/{imp_uid}`) as the domain's
//! [`IdentityVerifier`]: the person completes PortOne's window, the hosted signup posts the
//! certification's `imp_uid` with what the person typed, and the verifier confirms it with PortOne.
//! The answer is PortOne's (name, birthday, phone, `foreigner`): the membership policy refuses
//! foreigners and under-14s from it, not from what was typed.

use std::sync::Arc;

use async_trait::async_trait;
use escrow_domain::people::PhoneNumber;
use escrow_domain::signup::{
    IdentityClaim, IdentityNotVerified, IdentityVerifier, VerifiedIdentity,
};

use crate::{is_uid, PortOneClient};

/// Verifies identities through PortOne's certifications.
#[derive(Debug, Clone)]
pub struct PortOneIdentityVerifier {
    client: Arc<PortOneClient>,
}

impl PortOneIdentityVerifier {
    /// Over this client.
    pub fn new(client: Arc<PortOneClient>) -> Self {
        PortOneIdentityVerifier { client }
    }
}

fn refused(why: &str) -> IdentityNotVerified {
    IdentityNotVerified(why.to_owned())
}

#[async_trait]
impl IdentityVerifier for PortOneIdentityVerifier {
    fn provider(&self) -> &str {
        "portone"
    }

    async fn verify(&self, claim: &IdentityClaim) -> Result<VerifiedIdentity, IdentityNotVerified> {
        let uid = claim
            .certification
            .as_deref()
            .filter(|u| is_uid(u))
            .ok_or_else(|| refused("no PortOne certification"))?;
        let cert = self
            .client
            .certification(uid)
            .await
            .map_err(|e| IdentityNotVerified(format!("PortOne: {e}")))?
            .ok_or_else(|| refused("PortOne has no such certification"))?;
        if !cert.certified {
            return Err(refused("the certification was not completed"));
        }
        let birth_date = time::Date::parse(
            &cert.birthday,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| refused("PortOne's birthday is unreadable"))?;
        let phone = PhoneNumber::new(&cert.phone)
            .map_err(|_| refused("PortOne's phone is not a mobile number"))?;
        // What was typed must be the certified person's: a certification is not lent to another.
        if claim.name.trim() != cert.name
            || claim.birth_date != birth_date
            || claim.phone.expose() != phone.expose()
        {
            tracing::warn!(target: "security", imp_uid = uid, "a certification was offered for another person's signup");
            return Err(refused("the claim is not the certified person's"));
        }
        Ok(VerifiedIdentity {
            name: cert.name,
            birth_date,
            phone,
            foreigner: cert.foreigner,
        })
    }
}
