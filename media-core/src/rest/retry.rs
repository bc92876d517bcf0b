//! When and how long to wait before trying a request again: azure-core's `RetryPolicy` as
//! acs-wire.md §9 records it.
//!
//! - Retried: 408, 429, 500, 502, 503, 504 and 506–599, and any other error status that carries
//!   a retry delay header.
//! - Never retried: POST or PATCH answered 500, 503 or 504 (the server may have acted), and
//!   success, redirects and the remaining 4xx.
//! - The wait is the server's (`retry-after-ms`, `x-ms-retry-after-ms`, then `Retry-After` in
//!   seconds or as an HTTP date), else an exponential backoff (`factor · 2^(n−1)`, capped).
//! - Attempts are bounded.
//!
//! A POST that may be repeated (SMS, chat message and thread creation) carries repeatability
//! headers, so the retries that remain for it (429, 502, 408, connection failures) cannot send
//! twice.

use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::HeaderMap;

/// Retry settings of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (azure-core: 10).
    pub max_retries: u32,
    /// Backoff of the first retry when the server gives no delay; doubled per retry
    /// (azure-core: 0.8 s).
    pub backoff_factor: Duration,
    /// Longest backoff (azure-core: 120 s). A server-given delay is honoured as given.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 10,
            backoff_factor: Duration::from_millis(800),
            max_backoff: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry `retry` (1 for the first) when the server gave no delay.
    pub fn backoff(&self, retry: u32) -> Duration {
        let doubling = 2u32.saturating_pow(retry.saturating_sub(1));
        self.backoff_factor
            .saturating_mul(doubling)
            .min(self.max_backoff)
    }
}

/// Whether an answer of `status` to `method` is worth another attempt. `has_retry_after`: the
/// answer carried a delay header ([`retry_after`] found one).
pub fn is_retryable_status(method: &Method, status: u16, has_retry_after: bool) -> bool {
    if status < 400 {
        return false;
    }
    let writes = *method == Method::POST || *method == Method::PATCH;
    if writes && matches!(status, 500 | 503 | 504) {
        return false;
    }
    has_retry_after || matches!(status, 408 | 429 | 500 | 502 | 503 | 504) || status >= 506
}

/// Whether a request that got no answer is worth another attempt: a connection that was never
/// made is always safe to retry; otherwise the server may have acted, so only idempotent
/// methods and requests carrying repeatability headers are retried.
pub fn is_retryable_failure(method: &Method, connect_failed: bool, repeatable: bool) -> bool {
    connect_failed || repeatable || !(*method == Method::POST || *method == Method::PATCH)
}

/// The delay the server asked for: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds), or
/// `Retry-After` (seconds, or an HTTP date, counted from `now`), in that order as azure-core
/// reads them. Unparsable values are ignored.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let non_negative =
        |v: f64| (v.is_finite() && v >= 0.0).then(|| Duration::from_secs_f64(v.min(86_400.0)));
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = text(name).and_then(|t| t.parse::<f64>().ok()) {
            if let Some(d) = non_negative(ms / 1000.0) {
                return Some(d);
            }
        }
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return non_negative(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn decision_table() {
        let (get, post, patch, put, delete) = (
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        );
        // (method, status, has Retry-After, retried)
        let table = [
            (&get, 200, false, false),
            (&get, 304, true, false),
            (&get, 400, false, false),
            (&get, 401, false, false),
            (&get, 404, false, false),
            (&get, 400, true, true),
            (&get, 408, false, true),
            (&get, 429, false, true),
            (&post, 429, false, true),
            (&post, 429, true, true),
            (&get, 500, false, true),
            (&delete, 500, false, true),
            (&put, 503, false, true),
            (&post, 500, false, false),
            (&post, 503, true, false),
            (&post, 504, false, false),
            (&patch, 500, false, false),
            (&patch, 503, false, false),
            (&post, 502, false, true),
            (&patch, 502, false, true),
            (&get, 501, false, false),
            (&get, 505, false, false),
            (&get, 506, false, true),
            (&post, 599, false, true),
        ];
        for (method, status, has_retry_after, expected) in table {
            assert_eq!(
                is_retryable_status(method, status, has_retry_after),
                expected,
                "{method} {status} retry-after={has_retry_after}"
            );
        }
    }

    #[test]
    fn failures_without_answer() {
        assert!(is_retryable_failure(&Method::POST, true, false));
        assert!(is_retryable_failure(&Method::POST, false, true));
        assert!(!is_retryable_failure(&Method::POST, false, false));
        assert!(!is_retryable_failure(&Method::PATCH, false, false));
        assert!(is_retryable_failure(&Method::GET, false, false));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs), now);
        assert_eq!(at(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        assert_eq!(at(&[("retry-after", "0")]), Some(Duration::ZERO));
        assert_eq!(
            at(&[("retry-after", "1.5")]),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(at(&[("retry-after", &later)]), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(at(&[("retry-after", &past)]), Some(Duration::ZERO));
        assert_eq!(
            at(&[("retry-after-ms", "250"), ("retry-after", "9")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            at(&[("x-ms-retry-after-ms", "40"), ("retry-after", "9")]),
            Some(Duration::from_millis(40))
        );
        assert_eq!(
            at(&[("retry-after-ms", "junk"), ("retry-after", "2")]),
            Some(Duration::from_secs(2))
        );
        assert_eq!(at(&[("retry-after", "-1")]), None);
        assert_eq!(at(&[("retry-after", "soon")]), None);
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(800));
        assert_eq!(p.backoff(2), Duration::from_millis(1600));
        assert_eq!(p.backoff(4), Duration::from_millis(6400));
        assert_eq!(p.backoff(10), Duration::from_secs(120));
        assert_eq!(p.backoff(100), Duration::from_secs(120));
    }
}
