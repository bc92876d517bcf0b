//! The resource's two HMAC access keys, and their regeneration without downtime.
//!
//! Either key signs requests. Regenerating one key replaces it at once (requests signed with
//! the old value get 401 from then on) while the other keeps working, so an application can
//! move to the other key, regenerate, and move back — as with a real ACS resource.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// Which of the two keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// The primary key (`primary_key` setting).
    Primary,
    /// The secondary key (`secondary_key` setting).
    Secondary,
}

impl KeyType {
    /// Parses ACS's `keyType` value (`Primary`/`Secondary`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("primary") {
            Some(Self::Primary)
        } else if text.eq_ignore_ascii_case("secondary") {
            Some(Self::Secondary)
        } else {
            None
        }
    }

    /// The name of the stored setting holding this key.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Primary => "primary_key",
            Self::Secondary => "secondary_key",
        }
    }

    /// The configuration key and environment variable that can fix this key.
    pub fn config_names(self) -> &'static str {
        match self {
            Self::Primary => "keys.primary / MEDIACORE_SERVICE_PRIMARY_KEY",
            Self::Secondary => "keys.secondary / MEDIACORE_SERVICE_SECONDARY_KEY",
        }
    }
}

/// One access key: its bytes and its base64 text (as in a connection string).
#[derive(Clone)]
pub struct AccessKey {
    /// The key bytes HMAC is keyed with.
    pub bytes: Vec<u8>,
    /// The key, base64.
    pub base64: String,
    /// Set by the configuration, so it cannot be regenerated (the next start would bring the
    /// configured value back).
    pub configured: bool,
}

impl AccessKey {
    /// A key from its base64 text; `None` if it is not base64 or is empty.
    pub fn from_base64(text: &str, configured: bool) -> Option<Self> {
        let text = text.trim();
        let bytes = B64.decode(text).ok().filter(|b| !b.is_empty())?;
        Some(Self {
            bytes,
            base64: text.to_owned(),
            configured,
        })
    }
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKey(..)")
    }
}

/// The primary and secondary keys at one moment.
#[derive(Debug, Clone)]
pub struct AccessKeys {
    /// The primary key.
    pub primary: AccessKey,
    /// The secondary key.
    pub secondary: AccessKey,
}

impl AccessKeys {
    /// The key of `which`.
    pub fn get(&self, which: KeyType) -> &AccessKey {
        match which {
            KeyType::Primary => &self.primary,
            KeyType::Secondary => &self.secondary,
        }
    }
}

/// The keys requests are checked against, replaceable while the service runs.
#[derive(Debug)]
pub struct KeyRing {
    // An Arc inside so a request takes a reference-count, not a copy of the keys, and the
    // lock is held only for that.
    current: RwLock<Arc<AccessKeys>>,
    updates: tokio::sync::Mutex<()>,
}

impl KeyRing {
    /// A ring holding `keys`.
    pub fn new(keys: AccessKeys) -> Self {
        Self {
            current: RwLock::new(Arc::new(keys)),
            updates: tokio::sync::Mutex::new(()),
        }
    }

    /// Held while a key is stored and replaced, so concurrent regenerations of one key leave
    /// the stored and the in-force key the same.
    pub async fn updating(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.updates.lock().await
    }

    /// The keys now in force.
    pub fn current(&self) -> Arc<AccessKeys> {
        // A poisoned lock still holds a whole Arc (the writer only swaps it), so use it.
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `key` in place of the `which` key; the other key is untouched.
    pub fn replace(&self, which: KeyType, key: AccessKey) -> Arc<AccessKeys> {
        let mut guard = self.current.write().unwrap_or_else(|e| e.into_inner());
        let mut keys = AccessKeys::clone(&guard);
        match which {
            KeyType::Primary => keys.primary = key,
            KeyType::Secondary => keys.secondary = key,
        }
        *guard = Arc::new(keys);
        Arc::clone(&guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> AccessKey {
        AccessKey::from_base64(&B64.encode([b; 32]), false).expect("valid key")
    }

    #[test]
    fn replacing_one_key_keeps_the_other() {
        let ring = KeyRing::new(AccessKeys {
            primary: key(1),
            secondary: key(2),
        });
        let before = ring.current();
        ring.replace(KeyType::Primary, key(3));
        let after = ring.current();
        assert_eq!(after.primary.bytes, vec![3; 32]);
        assert_eq!(after.secondary.bytes, before.secondary.bytes);
        // Readers that took the keys before keep a consistent snapshot.
        assert_eq!(before.primary.bytes, vec![1; 32]);
    }

    #[test]
    fn key_types_and_bad_keys() {
        assert_eq!(KeyType::parse("Primary"), Some(KeyType::Primary));
        assert_eq!(KeyType::parse("SECONDARY"), Some(KeyType::Secondary));
        assert_eq!(KeyType::parse("tertiary"), None);
        assert!(AccessKey::from_base64("not base64!", false).is_none());
        assert!(AccessKey::from_base64("", false).is_none());
    }
}
