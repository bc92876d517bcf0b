//! Wakes the engines' notification streams. The notifications themselves are in the storage
//! (buffered per registration, numbered), so this only says "look again": a stream that misses
//! a wake still finds them at its next look (it also looks on a timer, for changes made by
//! another node).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    closed: bool,
    by_user: HashMap<String, Arc<Notify>>,
}

/// The users with open streams.
#[derive(Default)]
pub struct SignalHub {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SignalHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignalHub")
    }
}

impl SignalHub {
    /// What wakes `user`'s streams; `None` once the hub is closed (shutting down).
    pub fn waker(&self, user: &str) -> Option<Arc<Notify>> {
        let mut inner = self.inner.lock().ok()?;
        if inner.closed {
            return None;
        }
        Some(Arc::clone(
            inner.by_user.entry(user.to_owned()).or_default(),
        ))
    }

    /// Wakes the streams of `users`, and forgets users nobody listens to any more.
    pub fn wake<'a>(&self, users: impl IntoIterator<Item = &'a str>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        for user in users {
            if let Some(n) = inner.by_user.get(user) {
                n.notify_waiters();
                if Arc::strong_count(n) == 1 {
                    inner.by_user.remove(user);
                }
            }
        }
    }

    /// Whether the service is shutting down.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().map_or(true, |i| i.closed)
    }

    /// Ends every stream (they see [`is_closed`](Self::is_closed) when woken) and refuses new ones.
    pub fn close(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.closed = true;
            for n in inner.by_user.values() {
                n.notify_waiters();
            }
            inner.by_user.clear();
        }
    }
}
