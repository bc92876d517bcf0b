//! `mc_relay_client`: STUN/TURN servers with short-lived credentials, as an array a call's
//! options take (`mc_call_options.ice_servers`).

use std::ffi::{CString, c_char};
use std::sync::Arc;

use media_core::rest::RelayClient;
use media_core::rest::relay::RouteType;

use super::{Client, client, free, keyed, mc_client_options, register_out, user};
use crate::boundary::{guard, opt_str_arg, out_ptr};
use crate::call::mc_ice_server;
use crate::engine::mc_engine;
use crate::events::c_text;
use crate::handles;
use crate::status::{Error, Result, mc_status};

/// A relay client (opaque).
pub struct mc_relay_client {
    _private: [u8; 0],
}

/// A relay configuration (opaque): ICE servers and when their credentials expire.
pub struct mc_relay_config {
    _private: [u8; 0],
}

/// Which network path the relay takes.
pub type mc_relay_route = u32;
/// The service's choice.
pub const MC_RELAY_ROUTE_DEFAULT: mc_relay_route = 0;
/// Any route.
pub const MC_RELAY_ROUTE_ANY: mc_relay_route = 1;
/// The nearest point of presence.
pub const MC_RELAY_ROUTE_NEAREST: mc_relay_route = 2;

/// The configuration behind a handle: owned strings and the C array pointing into them.
struct RelayConfig {
    _strings: Vec<CString>,
    servers: Vec<mc_ice_server>,
    expires_on: CString,
}

// SAFETY: the pointers in `servers` point into `_strings`, owned by the same object and never
// changed after it is made; sharing them between threads only reads them.
unsafe impl Send for RelayConfig {}
// SAFETY: as for Send: immutable after construction.
unsafe impl Sync for RelayConfig {}

fn relay(handle: *mut mc_relay_client) -> Result<Arc<Client<RelayClient>>> {
    client(handle, "client")
}

/// Makes a relay client with the access key in `connection_string`. `options` NULL means
/// the defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `connection_string` NULL or a NUL-terminated string;
/// `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_client_new(
    engine: *mut mc_engine,
    connection_string: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_relay_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                keyed(
                    engine,
                    connection_string,
                    options,
                    RelayClient::from_connection_string,
                )
            })
        }
    })
}

/// Makes a relay client acting as a user with a `voip` token, at `endpoint`
/// (`https://…/`), so the application need not ship the access key.
///
/// # Safety
/// `engine` must be NULL or a handle; `endpoint` and `user_token` NULL or NUL-terminated
/// strings; `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_client_new_with_token(
    engine: *mut mc_engine,
    endpoint: *const c_char,
    user_token: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_relay_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                user(
                    engine,
                    endpoint,
                    user_token,
                    options,
                    RelayClient::with_user_token,
                )
            })
        }
    })
}

/// Frees a relay client. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_relay_client_new*`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_client_free(client: *mut mc_relay_client) {
    free::<Client<RelayClient>, _>(client, "client");
}

/// Issues a relay configuration, for `user_id` (NULL: none), on `route`
/// (`MC_RELAY_ROUTE_*`), valid `ttl_seconds` (0: the service's default; it may cut it).
/// Blocks until the service answers. Free `config` with `mc_relay_config_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `user_id` NULL or a NUL-terminated string; `config`
/// writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_issue_config(
    client: *mut mc_relay_client,
    user_id: *const c_char,
    route: mc_relay_route,
    ttl_seconds: u32,
    config: *mut *mut mc_relay_config,
) -> mc_status {
    guard(|| {
        let c = relay(client)?;
        // SAFETY: forwarded contract.
        let (user_id, out) =
            unsafe { (opt_str_arg(user_id, "user_id")?, out_ptr(config, "config")?) };
        *out = std::ptr::null_mut();
        let route = match route {
            MC_RELAY_ROUTE_DEFAULT => None,
            MC_RELAY_ROUTE_ANY => Some(RouteType::Any),
            MC_RELAY_ROUTE_NEAREST => Some(RouteType::Nearest),
            other => {
                return Err(Error::invalid(format!(
                    "route {other} is no MC_RELAY_ROUTE_*"
                )));
            }
        };
        let ttl = (ttl_seconds != 0).then_some(ttl_seconds);
        let issued = c.run(c.inner.issue_relay_configuration(user_id, route, ttl))?;
        // One C server per URL: `mc_ice_server` has one URL, the service's entries several.
        let mut strings = Vec::new();
        let mut servers = Vec::new();
        for server in &issued.ice_servers {
            let username = c_text(&server.username);
            let credential = c_text(&server.credential);
            for url in &server.urls {
                let url = c_text(url);
                servers.push(mc_ice_server {
                    // A CString's bytes stay put when the CString is moved into `strings`.
                    url: url.as_ptr(),
                    username: username.as_ptr(),
                    credential: credential.as_ptr(),
                });
                strings.push(url);
            }
            strings.push(username);
            strings.push(credential);
        }
        *out = handles::register(Arc::new(RelayConfig {
            _strings: strings,
            servers,
            expires_on: c_text(&issued.expires_on),
        }));
        Ok(())
    })
}

/// The configuration's ICE servers as an array for `mc_call_options.ice_servers` (and
/// `ice_server_count`), one entry per URL; borrowed from `config` (valid until it is freed,
/// which must wait until the calls using it are made).
///
/// # Safety
/// `config` must be NULL or a handle; `servers` and `count` writable memory for a pointer
/// and a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_config_ice_servers(
    config: *const mc_relay_config,
    servers: *mut *const mc_ice_server,
    count: *mut usize,
) -> mc_status {
    guard(|| {
        let c = handles::get::<RelayConfig, _>(config, "config")?;
        // SAFETY: forwarded contract.
        let (servers, count) = unsafe { (out_ptr(servers, "servers")?, out_ptr(count, "count")?) };
        *servers = c.servers.as_ptr();
        *count = c.servers.len();
        Ok(())
    })
}

/// When the credentials stop working (ISO 8601, UTC), borrowed from `config`.
///
/// # Safety
/// `config` must be NULL or a handle; `expires_on` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_config_expires_on(
    config: *const mc_relay_config,
    expires_on: *mut *const c_char,
) -> mc_status {
    guard(|| {
        let c = handles::get::<RelayConfig, _>(config, "config")?;
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(expires_on, "expires_on") }? = c.expires_on.as_ptr();
        Ok(())
    })
}

/// Frees a relay configuration. NULL is a no-op.
///
/// # Safety
/// `config` must be NULL or a handle from `mc_relay_issue_config`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_relay_config_free(config: *mut mc_relay_config) {
    free::<RelayConfig, _>(config, "config");
}
