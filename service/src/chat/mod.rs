//! Chat (acs-wire.md §8): the wire models, paging tokens, the events chat operations write to
//! the outbox, and the hub that pushes real-time notifications to connected users. The routes
//! are in `routes::chat`; the state is in the storage's [`ChatStore`](crate::storage::ChatStore).

pub mod events;
pub mod paging;
pub mod realtime;
pub mod wire;

/// Scopes that may use chat at all.
pub const ANY_CHAT_SCOPE: &[&str] = &["chat", "chat.join", "chat.join.limited"];

/// Scopes that may create, delete and rename threads (`chat.join*` may not, as in ACS).
pub const THREAD_ADMIN_SCOPES: &[&str] = &["chat"];

/// Scopes that may add and remove other participants (`chat.join.limited` may not).
pub const MEMBERSHIP_SCOPES: &[&str] = &["chat", "chat.join"];

/// Largest message content, in bytes (ACS's limit is 28 KB).
pub const MAX_CONTENT_BYTES: usize = 28 * 1024;

/// Page size when the client gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Largest page; larger `maxPageSize` values are cut to it.
pub const MAX_PAGE_SIZE: u32 = 200;

const THREAD_PREFIX: &str = "19:";
const THREAD_SUFFIX: &str = "@thread.v2";

/// A new thread id, `19:<32 hex>@thread.v2` (ACS's form).
pub fn new_thread_id() -> String {
    format!(
        "{THREAD_PREFIX}{}{THREAD_SUFFIX}",
        uuid::Uuid::new_v4().simple()
    )
}

/// Whether `id` is shaped like a thread id of this service (other text is 404 without a lookup).
pub fn is_thread_id(id: &str) -> bool {
    id.strip_prefix(THREAD_PREFIX)
        .and_then(|rest| rest.strip_suffix(THREAD_SUFFIX))
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A message id from a path segment (the creation time in ms, positive).
pub fn parse_message_id(id: &str) -> Option<i64> {
    id.parse::<i64>().ok().filter(|n| *n > 0)
}

/// `2026-11-24T12:00:00Z` for a time in Unix ms (ACS gives seconds).
pub fn iso(ms: i64) -> String {
    crate::clock::iso8601(ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let t = new_thread_id();
        assert!(is_thread_id(&t), "{t}");
        assert!(!is_thread_id("19:abc@thread.v2"));
        assert!(!is_thread_id(&t.replace("@thread.v2", "@thread.v1")));
        assert_eq!(parse_message_id("1700000000000"), Some(1_700_000_000_000));
        assert_eq!(parse_message_id("-1"), None);
        assert_eq!(parse_message_id("x"), None);
        assert_eq!(iso(1_795_521_600_999), "2026-11-24T12:00:00Z");
    }
}
