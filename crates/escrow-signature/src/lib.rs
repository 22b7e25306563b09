//! HMAC-SHA256 signatures the service makes and checks.
//!
//! **Request signatures** (Unifi Pay, seed 001, and partner API calls, SPEC §4):
//! `BASE64(HMAC-SHA256(secret, METHOD + URI + API_KEY + TIMESTAMP + BODY))`, where `URI` is the path
//! (with the query string, for partner calls), `TIMESTAMP` is the `X-Timestamp` header exactly as sent
//! (epoch milliseconds) and `BODY` the exact bytes sent (empty for GET). A timestamp more than five
//! minutes from now is refused.
//!
//! Test vectors, computed independently with OpenSSL:
//!
//! ```text
//! printf '%s' 'POST/api/v1/paymentf3248c3e-881c-42bd-abe7-1232023fe8961773017787000{"orderId":"ord-1","storeId":"store-1"}' \
//!   | openssl dgst -sha256 -hmac 'unifi-app-secret' -binary | base64
//! 4cvj8u4TBq9OBgI5LN/Sa98+A9kecq3Wu3mAZBZRyXc=
//!
//! printf '%s' 'GET/api/v1/payment/tx-42f3248c3e-881c-42bd-abe7-1232023fe8961773017787000' \
//!   | openssl dgst -sha256 -hmac 'unifi-app-secret' -binary | base64
//! tZK0ykwlqCpep5TtWYMN+At/v6rLSGkm4gqygxYrk8g=
//! ```
//!
//! ```
//! use escrow_signature::{request_signature, RequestParts};
//! let parts = RequestParts {
//!     method: "GET",
//!     uri: "/api/v1/payment/tx-42",
//!     api_key: "f3248c3e-881c-42bd-abe7-1232023fe896",
//!     timestamp: "1773017787000",
//!     body: b"",
//! };
//! assert_eq!(request_signature(b"unifi-app-secret", &parts), "tZK0ykwlqCpep5TtWYMN+At/v6rLSGkm4gqygxYrk8g=");
//! ```
//!
//! **Callback signatures** (SPEC §9): header `X-Escrow-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret,
//! t + "." + body)>`, with one `v1` per live secret during a rotation.
//!
//! ```text
//! printf '%s' '1773017787.{"eventId":"e1"}' | openssl dgst -sha256 -hmac 'whsec_test'
//! e56d012de33b045c33b6a90e19aafab718b02e0c60df8d8327bb2a14116439f5
//! ```

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from now: five minutes.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What a request signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The path (with the query, for partner calls).
    pub uri: &'a str,
    /// The `X-Api-Key` header.
    pub api_key: &'a str,
    /// The `X-Timestamp` header as sent: epoch milliseconds.
    pub timestamp: &'a str,
    /// The exact body bytes.
    pub body: &'a [u8],
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The timestamp is not a number of milliseconds.
    #[error("the timestamp is not epoch milliseconds")]
    MalformedTimestamp,
    /// The timestamp is more than five minutes from now.
    #[error("the timestamp is {skew_ms} ms from now, more than allowed")]
    Stale {
        /// How far it is, in milliseconds.
        skew_ms: i64,
    },
    /// The signature is not base64 (or hex) of the right length.
    #[error("the signature is malformed")]
    MalformedSignature,
    /// The signature does not match.
    #[error("the signature does not match")]
    Mismatch,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    }
}

fn request_mac(secret: &[u8], parts: &RequestParts<'_>) -> HmacSha256 {
    let mut m = mac(secret);
    m.update(parts.method.as_bytes());
    m.update(parts.uri.as_bytes());
    m.update(parts.api_key.as_bytes());
    m.update(parts.timestamp.as_bytes());
    m.update(parts.body);
    m
}

/// The base64 request signature.
pub fn request_signature(secret: &[u8], parts: &RequestParts<'_>) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(request_mac(secret, parts).finalize().into_bytes())
}

/// Checks the timestamp window, then the signature, in constant time.
pub fn verify_request_signature(
    secret: &[u8],
    parts: &RequestParts<'_>,
    signature: &str,
    now_ms: i64,
) -> Result<(), SignatureError> {
    check_timestamp(parts.timestamp, now_ms)?;
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::MalformedSignature)?;
    request_mac(secret, parts)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

/// Refuses a timestamp (epoch ms) more than [`MAX_CLOCK_SKEW_MS`] from `now_ms`.
pub fn check_timestamp(timestamp: &str, now_ms: i64) -> Result<i64, SignatureError> {
    if timestamp.is_empty()
        || timestamp.len() > 16
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(SignatureError::MalformedTimestamp);
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;
    let skew_ms = now_ms.saturating_sub(ts).saturating_abs();
    if skew_ms > MAX_CLOCK_SKEW_MS {
        return Err(SignatureError::Stale { skew_ms });
    }
    Ok(ts)
}

fn callback_mac(secret: &[u8], t: i64, body: &[u8]) -> HmacSha256 {
    let mut m = mac(secret);
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `X-Escrow-Signature` header value for a callback sent at `t` (unix seconds), one `v1` per secret.
pub fn callback_signature_header(secrets: &[&[u8]], t: i64, body: &[u8]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(
            callback_mac(secret, t, body).finalize().into_bytes(),
        ));
    }
    header
}

/// What a partner runs on a callback: parses the header, refuses a `t` more than `tolerance_secs` from
/// `now` and accepts when any `v1` matches `secret` (constant-time).
pub fn verify_callback_signature(
    header: &str,
    body: &[u8],
    secret: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut candidates = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse().map_err(|_| SignatureError::MalformedTimestamp)?),
            Some(("v1", v)) => {
                candidates.push(hex::decode(v).map_err(|_| SignatureError::MalformedSignature)?)
            }
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::MalformedTimestamp)?;
    let skew = now_unix.saturating_sub(t).saturating_abs();
    if skew > tolerance_secs {
        return Err(SignatureError::Stale {
            skew_ms: skew.saturating_mul(1000),
        });
    }
    if candidates.is_empty() {
        return Err(SignatureError::MalformedSignature);
    }
    let expected = callback_mac(secret, t, body);
    if candidates
        .iter()
        .any(|c| expected.clone().verify_slice(c).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "f3248c3e-881c-42bd-abe7-1232023fe896";
    const TS: &str = "1773017787000";
    const NOW: i64 = 1_773_017_787_000;
    const POST_BODY: &[u8] = br#"{"orderId":"ord-1","storeId":"store-1"}"#;

    fn post() -> RequestParts<'static> {
        RequestParts {
            method: "POST",
            uri: "/api/v1/payment",
            api_key: KEY,
            timestamp: TS,
            body: POST_BODY,
        }
    }

    #[test]
    fn matches_the_openssl_vectors() {
        assert_eq!(
            request_signature(b"unifi-app-secret", &post()),
            "4cvj8u4TBq9OBgI5LN/Sa98+A9kecq3Wu3mAZBZRyXc="
        );
        let get = RequestParts {
            method: "GET",
            uri: "/api/v1/payment/tx-42",
            api_key: KEY,
            timestamp: TS,
            body: b"",
        };
        assert_eq!(
            request_signature(b"unifi-app-secret", &get),
            "tZK0ykwlqCpep5TtWYMN+At/v6rLSGkm4gqygxYrk8g="
        );
        assert_eq!(
            callback_signature_header(&[b"whsec_test"], 1_773_017_787, br#"{"eventId":"e1"}"#),
            "t=1773017787,v1=e56d012de33b045c33b6a90e19aafab718b02e0c60df8d8327bb2a14116439f5"
        );
    }

    #[test]
    fn any_altered_part_is_refused() {
        let secret = b"unifi-app-secret";
        let sig = request_signature(secret, &post());
        assert_eq!(verify_request_signature(secret, &post(), &sig, NOW), Ok(()));
        let mut body = POST_BODY.to_vec();
        body[3] ^= 1;
        let altered = [
            RequestParts {
                body: &body,
                ..post()
            },
            RequestParts {
                uri: "/api/v1/paymenT",
                ..post()
            },
            RequestParts {
                method: "PUT",
                ..post()
            },
            RequestParts {
                api_key: "f3248c3e-881c-42bd-abe7-1232023fe897",
                ..post()
            },
            RequestParts {
                timestamp: "1773017787001",
                ..post()
            },
        ];
        for parts in altered {
            assert_eq!(
                verify_request_signature(secret, &parts, &sig, NOW),
                Err(SignatureError::Mismatch)
            );
        }
        let mut bad = sig.clone().into_bytes();
        bad[0] = if bad[0] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            verify_request_signature(secret, &post(), &bad, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_request_signature(b"other", &post(), &sig, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_request_signature(secret, &post(), "%%%", NOW),
            Err(SignatureError::MalformedSignature)
        );
    }

    #[test]
    fn a_timestamp_301_seconds_old_is_refused_300_is_not() {
        let secret = b"s";
        let sig = request_signature(secret, &post());
        assert_eq!(
            verify_request_signature(secret, &post(), &sig, NOW + 300_000),
            Ok(())
        );
        assert_eq!(
            verify_request_signature(secret, &post(), &sig, NOW + 301_000),
            Err(SignatureError::Stale { skew_ms: 301_000 })
        );
        assert_eq!(
            verify_request_signature(secret, &post(), &sig, NOW - 301_000),
            Err(SignatureError::Stale { skew_ms: 301_000 })
        );
        let parts = RequestParts {
            timestamp: "12ab",
            ..post()
        };
        assert_eq!(
            verify_request_signature(secret, &parts, &sig, NOW),
            Err(SignatureError::MalformedTimestamp)
        );
    }

    #[test]
    fn callback_signatures_verify_during_rotation_and_refuse_tampering() {
        let body = br#"{"eventId":"e1"}"#;
        let header = callback_signature_header(&[b"old", b"new"], 1_000, body);
        assert_eq!(
            verify_callback_signature(&header, body, b"new", 1_010, 300),
            Ok(())
        );
        assert_eq!(
            verify_callback_signature(&header, body, b"old", 1_010, 300),
            Ok(())
        );
        assert_eq!(
            verify_callback_signature(&header, body, b"wrong", 1_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_callback_signature(&header, br#"{"eventId":"e2"}"#, b"new", 1_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            verify_callback_signature(&header, body, b"new", 1_400, 300),
            Err(SignatureError::Stale { .. })
        ));
        assert_eq!(
            verify_callback_signature("v1=00", body, b"new", 1_000, 300),
            Err(SignatureError::MalformedTimestamp)
        );
        assert_eq!(
            verify_callback_signature("t=1000", body, b"new", 1_000, 300),
            Err(SignatureError::MalformedSignature)
        );
    }
}
