//! Query-string helpers the list routes share: the parsed query, `maxPageSize`, `skip`, and
//! skip-paged lists with their `nextLink`.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::Uri;

use crate::chat::wire::Page;
use crate::error::ApiError;

/// The query parameters, percent-decoded.
pub(crate) fn query(uri: &Uri) -> Result<HashMap<String, String>, ApiError> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|Query(q)| q)
        .map_err(|_| ApiError::bad_request("The query string is malformed."))
}

/// `maxPageSize`: absent → `default`, above `max` → `max`, below 1 → 400.
pub(crate) fn page_size(
    q: &HashMap<String, String>,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match q.get("maxPageSize") {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(u32::try_from(n.min(i64::from(max))).unwrap_or(max)),
            _ => Err(ApiError::bad_request(format!(
                "maxPageSize must be a positive integer, got '{v}'."
            ))
            .with_target("maxPageSize")),
        },
    }
}

/// `skip`: absent → 0.
pub(crate) fn skip(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    match q.get("skip") {
        None => Ok(0),
        Some(v) => v.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!("skip must be a non-negative integer, got '{v}'."))
                .with_target("skip")
        }),
    }
}

/// The request's `api-version`, carried into next links.
pub(crate) fn api_version(q: &HashMap<String, String>) -> String {
    q.get("api-version").cloned().unwrap_or_default()
}

/// A skip-paged list from `limit + 1` fetched items: the first `limit` as the page, and a
/// `nextLink` to `path` at `skip + limit` when the extra item shows there is more.
pub(crate) fn skip_page<T, W: for<'a> From<&'a T>>(
    mut items: Vec<T>,
    path: &str,
    limit: u32,
    skip: u32,
    q: &HashMap<String, String>,
) -> Page<W> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_link = more.then(|| {
        format!(
            "{path}?maxPageSize={limit}&skip={}&api-version={}",
            skip.saturating_add(limit),
            api_version(q)
        )
    });
    Page {
        value: items.iter().map(W::from).collect(),
        next_link,
    }
}
