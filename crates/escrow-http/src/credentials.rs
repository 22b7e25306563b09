//! Credentials this service issues: members' bearer tokens (HS256 JWTs with rotating keys) and the
//! signatures of hosted-page links. Verifying who calls, with them, is `auth`'s job.

use actix_web::http::StatusCode;
use escrow_domain::ids::{MemberId, PartnerId};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::error::ApiError;

/// How long a member token lives.
pub const TOKEN_TTL_SECONDS: i64 = 2 * 60 * 60;

/// A member token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The member.
    pub sub: String,
    /// The member's partner.
    pub pid: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
}

/// One signing key of member tokens.
#[derive(Clone)]
pub struct TokenKey {
    /// Its id (`kid`).
    pub kid: String,
    /// The HS256 secret.
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Issues and checks member tokens: HS256 only, `kid` picks the key, the first key signs, all live
/// keys verify (rotation with two live keys).
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    keys: Vec<TokenKey>,
}

impl TokenIssuer {
    /// With these keys (the first signs). At least one is needed.
    pub fn new(keys: Vec<TokenKey>) -> Self {
        TokenIssuer { keys }
    }

    /// A token for `member` of `partner`, valid two hours from `now`.
    pub fn issue(
        &self,
        partner: PartnerId,
        member: MemberId,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime), ApiError> {
        let key = self.keys.first().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "토큰을 발급할 수 없습니다.",
            )
        })?;
        let exp = now.unix_timestamp() + TOKEN_TTL_SECONDS;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        let claims = Claims {
            sub: member.to_string(),
            pid: partner.to_string(),
            iat: now.unix_timestamp(),
            exp,
        };
        let token =
            encode(&header, &claims, &EncodingKey::from_secret(&key.secret)).map_err(|_| {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "토큰을 발급할 수 없습니다.",
                )
            })?;
        let expires_at = OffsetDateTime::from_unix_timestamp(exp).unwrap_or(now);
        Ok((token, expires_at))
    }

    /// Checks a token at `now`: `TOKEN_EXPIRED` when only its time is over, `TOKEN_INVALID` otherwise.
    pub fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<(PartnerId, MemberId), ApiError> {
        let invalid = || ApiError::unauthorized("TOKEN_INVALID", "인증 토큰이 올바르지 않습니다.");
        let header = decode_header(token).map_err(|_| invalid())?;
        if header.alg != Algorithm::HS256 {
            return Err(invalid());
        }
        let kid = header.kid.ok_or_else(invalid)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(invalid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the service's clock, not the system's.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].iter().map(|s| (*s).to_owned()).collect();
        let data = decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation)
            .map_err(|_| invalid())?;
        if now.unix_timestamp() >= data.claims.exp {
            return Err(ApiError::unauthorized(
                "TOKEN_EXPIRED",
                "인증 토큰이 만료되었습니다.",
            ));
        }
        let partner = data.claims.pid.parse().map_err(|_| invalid())?;
        let member = data.claims.sub.parse().map_err(|_| invalid())?;
        Ok((partner, member))
    }
}

/// Signs and checks hosted-page links, so a link opens only the session or checkout it was made for.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner([REDACTED])")
    }
}

impl LinkSigner {
    /// With this key.
    pub fn new(key: Vec<u8>) -> Self {
        LinkSigner { key }
    }

    fn mac(&self, purpose: &str, id: &str) -> Option<hmac::Hmac<Sha256>> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        Some(mac)
    }

    /// The signature of `purpose:id`.
    pub fn sign(&self, purpose: &str, id: &str) -> String {
        use hmac::Mac;
        self.mac(purpose, id)
            .map(|m| hex::encode(m.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Whether `signature` is that of `purpose:id` (constant-time).
    pub fn verify(&self, purpose: &str, id: &str, signature: &str) -> bool {
        use hmac::Mac;
        match (hex::decode(signature), self.mac(purpose, id)) {
            (Ok(given), Some(mac)) => mac.verify_slice(&given).is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new(vec![
            TokenKey {
                kid: "k2".into(),
                secret: b"second-key-0123456789abcdef".to_vec(),
            },
            TokenKey {
                kid: "k1".into(),
                secret: b"first-key-0123456789abcdefg".to_vec(),
            },
        ])
    }

    #[test]
    fn tokens_verify_until_two_hours_then_expire() {
        let now = datetime!(2025-03-06 10:00 UTC);
        let (p, m) = (PartnerId::random(), MemberId::random());
        let (token, exp) = issuer().issue(p, m, now).unwrap();
        assert_eq!(exp, datetime!(2025-03-06 12:00 UTC));
        assert_eq!(
            issuer()
                .verify(&token, now + time::Duration::minutes(119))
                .unwrap(),
            (p, m)
        );
        assert_eq!(
            issuer()
                .verify(&token, now + time::Duration::minutes(120))
                .unwrap_err()
                .code,
            "TOKEN_EXPIRED"
        );
    }

    #[test]
    fn a_token_of_the_older_key_still_verifies_and_unknown_kids_do_not() {
        let now = datetime!(2025-03-06 10:00 UTC);
        let old = TokenIssuer::new(vec![TokenKey {
            kid: "k1".into(),
            secret: b"first-key-0123456789abcdefg".to_vec(),
        }]);
        let (token, _) = old
            .issue(PartnerId::random(), MemberId::random(), now)
            .unwrap();
        assert!(issuer().verify(&token, now).is_ok());
        let other = TokenIssuer::new(vec![TokenKey {
            kid: "k9".into(),
            secret: b"x".to_vec(),
        }]);
        let (token, _) = other
            .issue(PartnerId::random(), MemberId::random(), now)
            .unwrap();
        assert_eq!(
            issuer().verify(&token, now).unwrap_err().code,
            "TOKEN_INVALID"
        );
    }

    #[test]
    fn alg_none_and_tampered_tokens_are_invalid() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = datetime!(2025-03-06 10:00 UTC);
        let header = b64.encode(br#"{"alg":"none","typ":"JWT","kid":"k2"}"#);
        let claims = b64.encode(format!(
            r#"{{"sub":"{}","pid":"{}","iat":0,"exp":9999999999}}"#,
            MemberId::random(),
            PartnerId::random()
        ));
        assert_eq!(
            issuer()
                .verify(&format!("{header}.{claims}."), now)
                .unwrap_err()
                .code,
            "TOKEN_INVALID"
        );
        let (token, _) = issuer()
            .issue(PartnerId::random(), MemberId::random(), now)
            .unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = claims;
        assert_eq!(
            issuer().verify(&parts.join("."), now).unwrap_err().code,
            "TOKEN_INVALID"
        );
        assert_eq!(
            issuer().verify("garbage", now).unwrap_err().code,
            "TOKEN_INVALID"
        );
    }

    #[test]
    fn links_verify_only_for_their_purpose_and_id() {
        let s = LinkSigner::new(b"link-key".to_vec());
        let sig = s.sign("checkout", "abc");
        assert!(s.verify("checkout", "abc", &sig));
        assert!(!s.verify("signup", "abc", &sig));
        assert!(!s.verify("checkout", "abd", &sig));
        assert!(!s.verify("checkout", "abc", "zz"));
    }
}
