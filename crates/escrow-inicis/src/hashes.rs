//! Inicis' hashes (SPEC §12): lowercase hex SHA-256 over `key=value` pairs in ASCII key order joined
//! by `&` for the standard payment, the `authSignature` string chosen by the last digit of the
//! approval request's timestamp, and INIAPI's SHA-512 `hashData`.

use sha2::{Digest, Sha256, Sha512};

/// Lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// SHA-256 over `pairs` sorted by key (ASCII order) as `k=v&k=v`.
pub fn pairs_hash(pairs: &[(&str, &str)]) -> String {
    let mut sorted = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let joined: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    sha256_hex(&joined.join("&"))
}

/// The payment form's `signature`: `SHA256("oid=…&price=…&timestamp=…")`.
pub fn form_signature(oid: &str, price: &str, timestamp: &str) -> String {
    pairs_hash(&[("oid", oid), ("price", price), ("timestamp", timestamp)])
}

/// The payment form's `verification`: `SHA256("oid=…&price=…&signKey=…&timestamp=…")`.
pub fn form_verification(oid: &str, price: &str, sign_key: &str, timestamp: &str) -> String {
    pairs_hash(&[
        ("oid", oid),
        ("price", price),
        ("signKey", sign_key),
        ("timestamp", timestamp),
    ])
}

/// `mKey`: `SHA256(signKey)`.
pub fn m_key(sign_key: &str) -> String {
    sha256_hex(sign_key)
}

/// The approval (and net cancel) request's `signature`: `SHA256("authToken=…&timestamp=…")`.
pub fn auth_signature_request(auth_token: &str, timestamp: &str) -> String {
    pairs_hash(&[("authToken", auth_token), ("timestamp", timestamp)])
}

/// The approval request's `verification`: `SHA256("authToken=…&signKey=…&timestamp=…")`.
pub fn auth_verification(auth_token: &str, sign_key: &str, timestamp: &str) -> String {
    pairs_hash(&[
        ("authToken", auth_token),
        ("signKey", sign_key),
        ("timestamp", timestamp),
    ])
}

/// The approval answer's `authSignature`: SHA-256 of the string Inicis' table picks by the last
/// digit of the request's `timestamp` (`tstamp`). `None` when the timestamp does not end in a digit.
pub fn approval_signature(moid: &str, mid: &str, tstamp: &str, tot_price: &str) -> Option<String> {
    let last = tstamp.chars().last()?.to_digit(10)?;
    let text = match last {
        1 => format!("MOID={moid}&mid={mid}&tstamp={tstamp}"),
        2 => format!("MOID={moid}&tstamp={tstamp}&mid={mid}"),
        3 => format!("mid={mid}&MOID={moid}&tstamp={tstamp}"),
        4 => format!("mid={mid}&tstamp={tstamp}&MOID={moid}"),
        5 => format!("tstamp={tstamp}&mid={mid}&MOID={moid}"),
        6 => format!("tstamp={tstamp}&MOID={moid}&mid={mid}"),
        7 => format!("TotPrice={tot_price}&mid={mid}&tstamp={tstamp}"),
        8 => format!("TotPrice={tot_price}&tstamp={tstamp}&mid={mid}"),
        9 => format!("TotPrice={tot_price}&MOID={moid}&tstamp={tstamp}"),
        _ => format!("TotPrice={tot_price}&tstamp={tstamp}&MOID={moid}"),
    };
    Some(sha256_hex(&text))
}

/// INIAPI's `hashData`: lowercase hex `SHA512(INIAPIKey + mid + type + timestamp + json(data))`.
pub fn hash_data(api_key: &str, mid: &str, kind: &str, timestamp: &str, data_json: &str) -> String {
    hex::encode(Sha512::digest(
        format!("{api_key}{mid}{kind}{timestamp}{data_json}").as_bytes(),
    ))
}

/// INIAPI's encryption of a refund account number: base64 of AES-128-CBC (PKCS#7 padding) with
/// the INIAPI key and IV (16 bytes each). `None` when the key or IV is not 16 bytes.
pub fn encrypt_account(api_key: &str, iv: &str, number: &str) -> Option<String> {
    use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
    use base64::Engine;
    let cipher =
        cbc::Encryptor::<aes::Aes128>::new_from_slices(api_key.as_bytes(), iv.as_bytes()).ok()?;
    let sealed = cipher.encrypt_padded_vec_mut::<Pkcs7>(number.as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// The inverse of [`encrypt_account`] (the simulator's side).
pub fn decrypt_account(api_key: &str, iv: &str, sealed: &str) -> Option<String> {
    use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .ok()?;
    let cipher =
        cbc::Decryptor::<aes::Aes128>::new_from_slices(api_key.as_bytes(), iv.as_bytes()).ok()?;
    String::from_utf8(cipher.decrypt_padded_vec_mut::<Pkcs7>(&bytes).ok()?).ok()
}

/// Compares two hex digests without an early exit.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // SPEC §12's test vectors (Inicis' public test MID `INIpayTest`).
    const SIGN_KEY: &str = "SU5JTElURV9UUklQTEVERVNfS0VZU1RS";
    const OID: &str = "INIpayTest_1361252896871";
    const PRICE: &str = "1004";
    const TIMESTAMP: &str = "1361252896871";

    #[test]
    fn m_key_matches_the_spec_vector() {
        assert_eq!(
            m_key(SIGN_KEY),
            "3a9503069192f207491d4b19bd743fc249a761ed94246c8c42fed06c3cd15a33"
        );
    }

    #[test]
    fn signature_matches_the_spec_vector() {
        assert_eq!(
            form_signature(OID, PRICE, TIMESTAMP),
            "422a0e78529b419d9412d6e344c6e138584d9174c691da6cd91d4330240b9192"
        );
    }

    #[test]
    fn verification_matches_the_spec_vector() {
        assert_eq!(
            form_verification(OID, PRICE, SIGN_KEY, TIMESTAMP),
            "05c6b90795860660a8490afc659cc0bee4d5c771f2386e1cb272b90e02250bed"
        );
    }

    #[test]
    fn pairs_are_hashed_in_ascii_key_order_whatever_order_they_come_in() {
        assert_eq!(
            pairs_hash(&[("timestamp", TIMESTAMP), ("price", PRICE), ("oid", OID)]),
            form_signature(OID, PRICE, TIMESTAMP)
        );
        // ASCII order: an upper-case key sorts before lower-case ones.
        assert_eq!(pairs_hash(&[("b", "2"), ("A", "1")]), sha256_hex("A=1&b=2"));
    }

    #[test]
    fn the_auth_signature_string_follows_the_timestamps_last_digit() {
        let (moid, mid, price) = ("order-1", "INIpayTest", "1004");
        let table = [
            (1, "MOID=order-1&mid=INIpayTest&tstamp={t}"),
            (2, "MOID=order-1&tstamp={t}&mid=INIpayTest"),
            (3, "mid=INIpayTest&MOID=order-1&tstamp={t}"),
            (4, "mid=INIpayTest&tstamp={t}&MOID=order-1"),
            (5, "tstamp={t}&mid=INIpayTest&MOID=order-1"),
            (6, "tstamp={t}&MOID=order-1&mid=INIpayTest"),
            (7, "TotPrice=1004&mid=INIpayTest&tstamp={t}"),
            (8, "TotPrice=1004&tstamp={t}&mid=INIpayTest"),
            (9, "TotPrice=1004&MOID=order-1&tstamp={t}"),
            (0, "TotPrice=1004&tstamp={t}&MOID=order-1"),
        ];
        for (digit, template) in table {
            let tstamp = format!("172000000000{digit}");
            let expected = sha256_hex(&template.replace("{t}", &tstamp));
            assert_eq!(
                approval_signature(moid, mid, &tstamp, price).as_deref(),
                Some(expected.as_str()),
                "digit {digit}"
            );
        }
        // Each digit picks a different string: no two digits agree for the same values.
        let all: std::collections::BTreeSet<_> = (0..10)
            .filter_map(|d| approval_signature(moid, mid, &format!("17200000000{d}"), price))
            .collect();
        assert_eq!(all.len(), 10);
        assert_eq!(approval_signature(moid, mid, "17200000000x", price), None);
    }

    #[test]
    fn hash_data_is_sha512_of_the_concatenation() {
        let h = hash_data(
            "key",
            "INIpayTest",
            "Refund",
            "20261204120000",
            r#"{"tid":"t1"}"#,
        );
        assert_eq!(h.len(), 128);
        assert_eq!(
            h,
            hex::encode(Sha512::digest(
                br#"keyINIpayTestRefund20261204120000{"tid":"t1"}"#
            ))
        );
    }

    #[test]
    fn an_account_number_is_sealed_for_iniapi_and_opens_only_with_the_same_key_and_iv() {
        let sealed =
            encrypt_account("0123456789abcdef", "fedcba9876543210", "1234567890123").unwrap();
        assert!(!sealed.contains("1234567890123"));
        assert_eq!(
            decrypt_account("0123456789abcdef", "fedcba9876543210", &sealed).as_deref(),
            Some("1234567890123")
        );
        assert_ne!(
            decrypt_account("0123456789abcdeX", "fedcba9876543210", &sealed).as_deref(),
            Some("1234567890123")
        );
        assert_eq!(encrypt_account("short", "fedcba9876543210", "1"), None);
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same_digest("abc", "abc"));
        assert!(!same_digest("abc", "abd"));
        assert!(!same_digest("abc", "ab"));
    }
}
