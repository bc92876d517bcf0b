//! The platform clients (`media_core::rest`) through the C ABI: identity, relay, chat, SMS,
//! email and call signaling, each an opaque handle made on an engine.
//!
//! Operations block the calling thread until the service answers (retries included) and
//! run on the engine's runtime meanwhile; call them from a worker thread, not a UI thread.
//! They may be called from the engine's event callback (a plain thread), but no event is
//! delivered while it waits. Results are owned objects with accessors and a `_free`, or
//! strings freed with `mc_string_free`.

pub mod calling;
pub mod chat;
pub mod email;
pub mod identity;
pub mod relay;
pub mod sms;

use std::ffi::{CString, c_char};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use media_core::rest::{ClientOptions, Endpoint, RestError, UserTokenCredential};

use crate::boundary::{guard, in_ref, out_ptr, str_arg};
use crate::engine::{Engine, check_size, mc_engine};
use crate::events::c_text;
use crate::handles;
use crate::status::{Error, Result, mc_status};

/// Options of a platform client. Fill with `mc_client_options_default` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_client_options {
    /// `sizeof(mc_client_options)`, set by `mc_client_options_default`.
    pub struct_size: u32,
    /// A PEM file of certificates trusted besides the system's roots (the local service's
    /// CA, printed at its start); NULL (default): the system's roots only.
    pub ca_file: *const c_char,
    /// Longest time for one attempt of a request, ms (default 30 000).
    pub timeout_ms: u32,
    /// Retries of a throttled or failed request (default 10; 0: none).
    pub max_retries: u32,
}

/// Fills `options` with the defaults (and its `struct_size`).
///
/// # Safety
/// `options` must be NULL or writable memory for an `mc_client_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_client_options_default(options: *mut mc_client_options) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(options, "options") }?;
        let defaults = ClientOptions::default();
        *out = mc_client_options {
            struct_size: size_of::<mc_client_options>() as u32,
            ca_file: std::ptr::null(),
            timeout_ms: u32::try_from(defaults.timeout.as_millis()).unwrap_or(u32::MAX),
            max_retries: defaults.retry.max_retries,
        };
        Ok(())
    })
}

/// The Rust options from the C ones (NULL: the defaults).
///
/// # Safety
/// `options` must be NULL or an `mc_client_options` whose `ca_file` is NULL or a
/// NUL-terminated string.
unsafe fn client_options(options: *const mc_client_options) -> Result<ClientOptions> {
    let mut rust = ClientOptions::default();
    if options.is_null() {
        return Ok(rust);
    }
    // SAFETY: forwarded contract.
    let o = unsafe { in_ref(options, "options") }?;
    check_size(
        o.struct_size,
        size_of::<mc_client_options>(),
        "mc_client_options",
    )?;
    if !o.ca_file.is_null() {
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(o.ca_file, "options.ca_file") }?;
        let pem = std::fs::read(path)
            .map_err(|e| Error::invalid(format!("options.ca_file {path:?}: {e}")))?;
        rust.extra_ca_pem.push(pem);
    }
    if o.timeout_ms == 0 {
        return Err(Error::invalid("options.timeout_ms is 0"));
    }
    rust.timeout = Duration::from_millis(u64::from(o.timeout_ms));
    rust.retry.max_retries = o.max_retries;
    Ok(rust)
}

/// A client behind a handle: the engine whose runtime runs it, and the Rust client. The type
/// parameter keeps each kind of client a distinct handle type.
pub struct Client<T> {
    /// The engine (kept running while the client lives).
    pub engine: Arc<Engine>,
    /// The `media_core::rest` client.
    pub inner: T,
}

impl<T> Client<T> {
    /// Runs a REST operation to completion on the engine's runtime.
    pub fn run<R>(
        &self,
        operation: impl std::future::Future<Output = std::result::Result<R, RestError>>,
    ) -> Result<R> {
        Ok(self.engine.block_on(operation)??)
    }
}

/// Stores the handle of what `make` makes in the out-parameter `out` (NULL on failure).
///
/// # Safety
/// `out` must be NULL or writable memory for a handle.
unsafe fn register_out<T: Send + Sync + 'static, P>(
    out: *mut *mut P,
    make: impl FnOnce() -> Result<T>,
) -> Result<()> {
    // SAFETY: forwarded contract.
    let out = unsafe { out_ptr(out, "client") }?;
    *out = std::ptr::null_mut();
    *out = handles::register(Arc::new(make()?));
    Ok(())
}

/// A client with the access key in `connection_string`.
///
/// # Safety
/// As the `mc_*_client_new` functions that call it document.
unsafe fn keyed<T>(
    engine: *mut mc_engine,
    connection_string: *const c_char,
    options: *const mc_client_options,
    make: impl FnOnce(&str, &ClientOptions) -> std::result::Result<T, RestError>,
) -> Result<Client<T>> {
    let engine = handles::get::<Engine, _>(engine, "engine")?;
    // SAFETY: forwarded contract.
    let (connection_string, options) = unsafe {
        (
            str_arg(connection_string, "connection_string")?,
            client_options(options)?,
        )
    };
    let inner = {
        // The HTTP client is made inside the runtime it will run on.
        let _entered = engine.runtime()?.enter();
        make(connection_string, &options)?
    };
    Ok(Client { engine, inner })
}

/// A client acting as the user whose access token is `user_token`, at `endpoint`.
///
/// # Safety
/// As the `mc_*_client_new` functions that call it document.
unsafe fn user<T>(
    engine: *mut mc_engine,
    endpoint: *const c_char,
    user_token: *const c_char,
    options: *const mc_client_options,
    make: impl FnOnce(
        Endpoint,
        UserTokenCredential,
        &ClientOptions,
    ) -> std::result::Result<T, RestError>,
) -> Result<Client<T>> {
    let engine = handles::get::<Engine, _>(engine, "engine")?;
    // SAFETY: forwarded contract.
    let (endpoint, token, options) = unsafe {
        (
            str_arg(endpoint, "endpoint")?,
            str_arg(user_token, "user_token")?,
            client_options(options)?,
        )
    };
    let endpoint = Endpoint::parse(endpoint)?;
    let credential = UserTokenCredential::new(token)?;
    let inner = {
        let _entered = engine.runtime()?.enter();
        make(endpoint, credential, &options)?
    };
    Ok(Client { engine, inner })
}

/// The client of type `T` behind `handle`.
fn client<T: Send + Sync + 'static, P>(handle: *const P, what: &str) -> Result<Arc<Client<T>>> {
    handles::get::<Client<T>, _>(handle, what)
}

/// Frees a handle of type `T` (NULL: no-op).
fn free<T: Send + Sync + 'static, P>(handle: *const P, what: &str) {
    let _ = guard(|| {
        handles::take::<T, _>(handle, what)?;
        Ok(())
    });
}

/// `count` C strings from `items` (an array the caller owns).
///
/// # Safety
/// `items` must be NULL or point to `count` pointers, each NULL or a NUL-terminated string.
unsafe fn str_list<'a>(
    items: *const *const c_char,
    count: usize,
    what: &str,
) -> Result<Vec<&'a str>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Error::null(what));
    }
    if count > 10_000 {
        return Err(Error::invalid(format!(
            "{what}: {count} items, at most 10 000"
        )));
    }
    // SAFETY: non-NULL, `count` entries per the contract.
    let items = unsafe { std::slice::from_raw_parts(items, count) };
    items
        .iter()
        .enumerate()
        // SAFETY: each entry NULL or NUL-terminated per the contract.
        .map(|(i, s)| unsafe { str_arg(*s, &format!("{what}[{i}]")) })
        .collect()
}

/// A result of rows of optional texts and numbers, read through accessors. `K` marks which
/// result it is, so that handles of different results are different types.
pub struct Rows<K> {
    rows: Vec<Row>,
    _kind: PhantomData<fn() -> K>,
}

/// One row of a [`Rows`].
#[derive(Default)]
pub struct Row {
    texts: Vec<Option<CString>>,
    numbers: Vec<i64>,
}

impl Row {
    /// A row of these texts and numbers (a NUL inside a text cuts it there).
    pub fn new(texts: &[Option<&str>], numbers: &[i64]) -> Self {
        Self {
            texts: texts.iter().map(|t| t.map(c_text)).collect(),
            numbers: numbers.to_vec(),
        }
    }
}

impl<K> Rows<K> {
    /// A result of `rows`.
    pub fn new(rows: Vec<Row>) -> Self {
        Self {
            rows,
            _kind: PhantomData,
        }
    }
}

/// Registers a result and stores its handle in `out`.
fn out_rows<K: 'static, P>(out: &mut *mut P, rows: Vec<Row>) {
    *out = handles::register(Arc::new(Rows::<K>::new(rows)));
}

fn row<K: 'static, P>(handle: *const P, what: &str, index: usize) -> Result<(Arc<Rows<K>>, usize)> {
    let rows = handles::get::<Rows<K>, _>(handle, what)?;
    if index >= rows.rows.len() {
        return Err(Error::invalid(format!(
            "index {index} is past the {} items of {what}",
            rows.rows.len()
        )));
    }
    Ok((rows, index))
}

/// Accessor: the number of rows of the result `handle`.
///
/// # Safety
/// `count` must be NULL or writable memory for a `size_t`.
unsafe fn rows_count<K: 'static, P>(handle: *const P, what: &str, count: *mut usize) -> mc_status {
    guard(|| {
        let rows = handles::get::<Rows<K>, _>(handle, what)?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(count, "count") }? = rows.rows.len();
        Ok(())
    })
}

/// Accessor: text `column` of row `index`, borrowed from the result (valid until it is
/// freed); NULL when the result has none there.
///
/// # Safety
/// `value` must be NULL or writable memory for a pointer.
unsafe fn rows_text<K: 'static, P>(
    handle: *const P,
    what: &str,
    index: usize,
    column: usize,
    value: *mut *const c_char,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(value, "value") }?;
        *out = std::ptr::null();
        let (rows, index) = row::<K, P>(handle, what, index)?;
        // The string lives in the registry's object until the caller frees the result.
        *out = rows.rows[index]
            .texts
            .get(column)
            .and_then(|t| t.as_ref())
            .map_or(std::ptr::null(), |t| t.as_ptr());
        Ok(())
    })
}

/// Accessor: number `column` of row `index`.
fn rows_number<K: 'static, P>(
    handle: *const P,
    what: &str,
    index: usize,
    column: usize,
) -> Result<i64> {
    let (rows, index) = row::<K, P>(handle, what, index)?;
    Ok(rows.rows[index].numbers.get(column).copied().unwrap_or(0))
}

#[cfg(test)]
mod tests;
