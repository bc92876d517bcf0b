//! Handles: what a C caller holds is an opaque number, never an address MediaCore
//! dereferences. Each live object is in a registry under a number that is never reused, so a
//! freed, forged or wrong-type handle is an error (`MC_ERR_INVALID_HANDLE`), not undefined
//! behaviour, and a handle freed on one thread while another uses it stays alive until that
//! use ends (the registry hands out `Arc`s).
//!
//! The lookup is a read lock and a hash probe (tens of nanoseconds) — beside 10 ms of audio
//! (an Opus frame costs tens of microseconds) it is noise; the audio path takes no other
//! lock that another thread could hold for long.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use crate::status::{Error, MC_ERR_INVALID_HANDLE, Result};

type Object = Arc<dyn Any + Send + Sync>;

/// Handle numbers are unique counters, so they need no hashing: the number is the hash.
#[derive(Default)]
struct NumberHasher(u64);

impl Hasher for NumberHasher {
    fn finish(&self) -> u64 {
        // Spread the low bits (numbers step by 16) over the table.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Registry = HashMap<u64, Object, BuildHasherDefault<NumberHasher>>;

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::default()));

/// Numbers start above the first page, so a handle never looks like a small integer or NULL.
static NEXT: AtomicU64 = AtomicU64::new(0x1000);

/// Registers `object`; returns its handle as the opaque pointer type `P` the header declares.
pub fn register<T: Any + Send + Sync, P>(object: Arc<T>) -> *mut P {
    // Steps of 16 keep handles aligned like real pointers (some tools check that).
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, object);
    id as usize as *mut P
}

/// The live object of type `T` behind `handle`.
pub fn get<T: Any + Send + Sync, P>(handle: *const P, what: &str) -> Result<Arc<T>> {
    if handle.is_null() {
        return Err(Error::null(what));
    }
    let id = handle as usize as u64;
    let object = REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
        .ok_or_else(|| stale(what))?;
    object.downcast::<T>().map_err(|_| {
        Error::new(
            MC_ERR_INVALID_HANDLE,
            format!("{what} is a handle of another type"),
        )
    })
}

/// Removes the object of type `T` behind `handle` from the registry and returns it (NULL:
/// `Ok(None)`, so `free(NULL)` is a no-op). Users on other threads keep their `Arc`.
pub fn take<T: Any + Send + Sync, P>(handle: *const P, what: &str) -> Result<Option<Arc<T>>> {
    if handle.is_null() {
        return Ok(None);
    }
    let id = handle as usize as u64;
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    match registry.get(&id) {
        None => Err(stale(what)),
        Some(o) if !o.is::<T>() => Err(Error::new(
            MC_ERR_INVALID_HANDLE,
            format!("{what} is a handle of another type"),
        )),
        Some(_) => Ok(registry.remove(&id).and_then(|o| o.downcast::<T>().ok())),
    }
}

fn stale(what: &str) -> Error {
    Error::new(
        MC_ERR_INVALID_HANDLE,
        format!("{what} is not a live MediaCore object (freed already, or never made)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::MC_ERR_NULL_POINTER;

    struct Opaque;

    #[test]
    fn stale_forged_and_wrong_type_handles_are_errors() {
        let h: *mut Opaque = register(Arc::new(5u32));
        assert_eq!(*get::<u32, _>(h, "h").expect("live"), 5);
        assert_eq!(
            get::<String, _>(h, "h").map(|_| ()).map_err(|e| e.status),
            Err(MC_ERR_INVALID_HANDLE)
        );
        let held = get::<u32, _>(h, "h").expect("live");
        assert!(take::<u32, _>(h, "h").expect("taken").is_some());
        assert_eq!(*held, 5, "a user's Arc outlives the free");
        assert_eq!(
            get::<u32, _>(h, "h").map(|_| ()).map_err(|e| e.status),
            Err(MC_ERR_INVALID_HANDLE)
        );
        assert_eq!(
            take::<u32, _>(h, "h").map(|_| ()).map_err(|e| e.status),
            Err(MC_ERR_INVALID_HANDLE),
            "a double free is reported"
        );
        assert!(matches!(
            take::<u32, Opaque>(std::ptr::null(), "h"),
            Ok(None)
        ));
        assert_eq!(
            get::<u32, Opaque>(std::ptr::null(), "h")
                .map(|_| ())
                .map_err(|e| e.status),
            Err(MC_ERR_NULL_POINTER)
        );
        let forged = 0xdead_beef_usize as *const Opaque;
        assert_eq!(
            get::<u32, _>(forged, "h").map(|_| ()).map_err(|e| e.status),
            Err(MC_ERR_INVALID_HANDLE)
        );
    }
}
