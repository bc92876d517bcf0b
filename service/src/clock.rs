//! Wall-clock helpers: Unix milliseconds and the ISO-8601 form ACS uses in JSON.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// `2026-11-24T12:00:00Z` for a Unix time in seconds.
pub fn iso8601(unix_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// `2026-11-24T12:00:00.123Z` for a Unix time in milliseconds (Event Grid's event times carry
/// fractions of a second).
pub fn iso8601_ms(unix_ms: i64) -> String {
    let secs = iso8601(unix_ms.div_euclid(1000));
    format!(
        "{}.{:03}Z",
        secs.trim_end_matches('Z'),
        unix_ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_is_utc_with_z() {
        assert_eq!(iso8601(1_795_521_600), "2026-11-24T12:00:00Z");
        assert_eq!(iso8601_ms(1_795_521_600_042), "2026-11-24T12:00:00.042Z");
    }
}
