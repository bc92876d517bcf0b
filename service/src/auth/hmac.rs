//! HMAC-SHA256 request signing as ACS defines it (acs-wire.md §2).
//!
//! `string_to_sign = VERB \n path_and_query \n <values of SignedHeaders joined by ';'>`, signed
//! with the base64-decoded access key. The clients sign `x-ms-date;host;x-ms-content-sha256`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Largest accepted difference between the request's date and the service clock.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a signed request was refused. Every variant answers the same 401; the variant is for
/// the log and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HmacError {
    /// `Authorization` is not `HMAC-SHA256 SignedHeaders=…&Signature=…`.
    #[error("malformed HMAC authorization header")]
    Malformed,
    /// SignedHeaders omits the date, the host or the content hash, or a signed header is absent.
    #[error("a required header is not signed or not present")]
    MissingHeader,
    /// `x-ms-date`/`Date` is not an RFC 1123 date.
    #[error("unparsable request date")]
    BadDate,
    /// The date is more than five minutes away from now.
    #[error("request date outside the allowed skew")]
    Skewed,
    /// `x-ms-content-sha256` does not match the body received.
    #[error("content hash does not match the body")]
    ContentHash,
    /// No key produces the presented signature.
    #[error("signature mismatch")]
    Signature,
}

/// `base64(SHA-256(body))`, the `x-ms-content-sha256` value.
pub fn content_hash(body: &[u8]) -> String {
    B64.encode(Sha256::digest(body))
}

/// The string a client signs.
pub fn string_to_sign(method: &str, path_and_query: &str, signed_values: &[&str]) -> String {
    format!(
        "{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        signed_values.join(";")
    )
}

/// `base64(HMAC-SHA256(key, string_to_sign))`.
pub fn sign(key: &[u8], string_to_sign: &str) -> String {
    B64.encode(mac(key, string_to_sign).finalize().into_bytes())
}

fn mac(key: &[u8], data: &str) -> HmacSha256 {
    // HMAC takes keys of any length, so this constructor never fails.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(data.as_bytes());
    m
}

/// The `Authorization` value a client sends for `string_to_sign` under `key`, with the
/// standard signed headers.
pub fn authorization(key: &[u8], string_to_sign: &str) -> String {
    format!(
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={}",
        sign(key, string_to_sign)
    )
}

/// The parts of a request that signing covers.
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query exactly as received.
    pub path_and_query: &'a str,
    /// The `Authorization` header value.
    pub authorization: &'a str,
    /// Looks up a request header by lower-case name (`host` included).
    pub header: &'a dyn Fn(&str) -> Option<&'a str>,
    /// The body received.
    pub body: &'a [u8],
}

/// Verifies a signed request against `keys` (primary, secondary) at Unix time `now_secs`.
pub fn verify(req: &SignedRequest<'_>, keys: &[&[u8]], now_secs: i64) -> Result<(), HmacError> {
    let rest = req
        .authorization
        .strip_prefix("HMAC-SHA256 ")
        .ok_or(HmacError::Malformed)?
        .trim();
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split('&') {
        match part.split_once('=') {
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            // The signature is base64 and may itself end in '='; split_once keeps them.
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(HmacError::Malformed),
        }
    }
    let signed_headers = signed_headers.ok_or(HmacError::Malformed)?;
    let presented = B64
        .decode(signature.ok_or(HmacError::Malformed)?)
        .map_err(|_| HmacError::Malformed)?;

    let names: Vec<String> = signed_headers
        .split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    // Date, host and body hash must all be covered, or a signature could be replayed on
    // another host, at another time or with another body.
    if !(has("x-ms-date") || has("date")) || !has("host") || !has("x-ms-content-sha256") {
        return Err(HmacError::MissingHeader);
    }
    let mut values = Vec::with_capacity(names.len());
    for name in &names {
        values.push((req.header)(name).ok_or(HmacError::MissingHeader)?);
    }

    let date = (req.header)("x-ms-date")
        .or_else(|| (req.header)("date"))
        .ok_or(HmacError::MissingHeader)?;
    let date = httpdate::parse_http_date(date).map_err(|_| HmacError::BadDate)?;
    let date_secs = match date.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).map_err(|_| HmacError::BadDate)?,
        Err(_) => return Err(HmacError::BadDate),
    };
    if (date_secs - now_secs).abs() > MAX_SKEW_SECS {
        return Err(HmacError::Skewed);
    }

    let claimed_hash = (req.header)("x-ms-content-sha256").ok_or(HmacError::MissingHeader)?;
    let actual_hash = content_hash(req.body);
    if !bool::from(claimed_hash.as_bytes().ct_eq(actual_hash.as_bytes())) {
        return Err(HmacError::ContentHash);
    }

    let to_sign = string_to_sign(req.method, req.path_and_query, &values);
    // A client built with a trailing '/' on its endpoint signs `host:port/`; accept that too.
    let host_pos = names.iter().position(|n| n == "host");
    let alt = host_pos.map(|i| {
        let mut v: Vec<String> = values.iter().map(|s| (*s).to_owned()).collect();
        if let Some(h) = v.get_mut(i) {
            h.push('/');
        }
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        string_to_sign(req.method, req.path_and_query, &refs)
    });
    let mut ok = false;
    for key in keys {
        // verify_slice compares in constant time.
        ok |= mac(key, &to_sign).verify_slice(&presented).is_ok();
        if let Some(alt) = &alt {
            ok |= mac(key, alt).verify_slice(&presented).is_ok();
        }
    }
    if ok {
        Ok(())
    } else {
        Err(HmacError::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const BODY: &[u8] = br#"{"createTokenWithScopes":["chat","voip"]}"#;
    const DATE: &str = "Tue, 24 Nov 2026 12:00:00 GMT";
    const PATH: &str = "/identities?api-version=2023-10-01";

    // The worked example of acs-wire.md §2.
    #[test]
    fn worked_example() {
        let key = B64.decode(KEY_B64).expect("key");
        let hash = content_hash(BODY);
        assert_eq!(hash, "fYTayOkxDFdoXd25BoJTvoTLLr5+QVfLFXvdJep6oNs=");
        let s = string_to_sign("POST", PATH, &[DATE, "contoso.local:8443", &hash]);
        assert_eq!(
            sign(&key, &s),
            "BaEScIjz2HZxIgww2JXClMGJ88EHpBC09PsYpsqa3o0="
        );
    }

    /// Pins the closure's signature so its answers may outlive the name asked for.
    fn lookup<'a, F: Fn(&str) -> Option<&'a str>>(f: F) -> F {
        f
    }

    fn check<'a>(
        auth: &'a str,
        hash: &'a str,
        body: &'a [u8],
        now: i64,
        keys: &[&[u8]],
    ) -> Result<(), HmacError> {
        let header = lookup(move |name: &str| match name {
            "x-ms-date" => Some(DATE),
            "host" => Some("contoso.local:8443"),
            "x-ms-content-sha256" => Some(hash),
            _ => None,
        });
        let request = SignedRequest {
            method: "POST",
            path_and_query: PATH,
            authorization: auth,
            header: &header,
            body,
        };
        verify(&request, keys, now)
    }

    #[test]
    fn verify_accepts_and_refuses() {
        let key = B64.decode(KEY_B64).expect("key");
        let other = [7u8; 32];
        let now = 1_795_521_600;
        let hash = content_hash(BODY);
        let auth = authorization(
            &key,
            &string_to_sign("POST", PATH, &[DATE, "contoso.local:8443", &hash]),
        );
        assert_eq!(check(&auth, &hash, BODY, now, &[&key]), Ok(()));
        assert_eq!(check(&auth, &hash, BODY, now, &[&other, &key]), Ok(()));
        assert_eq!(
            check(&auth, &hash, BODY, now, &[&other]),
            Err(HmacError::Signature)
        );
        assert_eq!(
            check(&auth, &hash, BODY, now + 301, &[&key]),
            Err(HmacError::Skewed)
        );
        assert_eq!(check(&auth, &hash, BODY, now - 300, &[&key]), Ok(()));
        assert_eq!(
            check(&auth, &hash, b"{}", now, &[&key]),
            Err(HmacError::ContentHash)
        );
        assert_eq!(
            check("HMAC-SHA256 nonsense", &hash, BODY, now, &[&key]),
            Err(HmacError::Malformed)
        );
        let unsigned_host = auth.replace("x-ms-date;host;", "x-ms-date;");
        assert_eq!(
            check(&unsigned_host, &hash, BODY, now, &[&key]),
            Err(HmacError::MissingHeader)
        );
    }
}
