//! `mc_identity_client`: users and their access tokens (needs the access key).

use std::ffi::c_char;

use media_core::rest::{IdentityClient, TokenScope};

use super::{
    Client, Row, client, free, keyed, mc_client_options, out_rows, register_out, rows_text,
};
use crate::boundary::{guard, out_ptr, out_string, str_arg};
use crate::engine::mc_engine;
use crate::status::{Error, Result, mc_status};

/// An identity client (opaque).
pub struct mc_identity_client {
    _private: [u8; 0],
}

/// A user made by `mc_identity_create_user` (opaque): its id and, when scopes were asked
/// for, its first token.
pub struct mc_identity_user {
    _private: [u8; 0],
}

/// Token scopes, OR-ed together.
pub type mc_token_scopes = u32;
/// `chat`: chat as the user.
pub const MC_TOKEN_SCOPE_CHAT: mc_token_scopes = 1;
/// `voip`: calls (signaling, relay) as the user.
pub const MC_TOKEN_SCOPE_VOIP: mc_token_scopes = 2;
/// `chat.join`: join threads only.
pub const MC_TOKEN_SCOPE_CHAT_JOIN: mc_token_scopes = 4;
/// `chat.join.limited`: join threads, without adding or removing participants.
pub const MC_TOKEN_SCOPE_CHAT_JOIN_LIMITED: mc_token_scopes = 8;
/// `voip.join`: join calls only.
pub const MC_TOKEN_SCOPE_VOIP_JOIN: mc_token_scopes = 16;

const ALL_SCOPES: [(mc_token_scopes, TokenScope); 5] = [
    (MC_TOKEN_SCOPE_CHAT, TokenScope::Chat),
    (MC_TOKEN_SCOPE_VOIP, TokenScope::Voip),
    (MC_TOKEN_SCOPE_CHAT_JOIN, TokenScope::ChatJoin),
    (
        MC_TOKEN_SCOPE_CHAT_JOIN_LIMITED,
        TokenScope::ChatJoinLimited,
    ),
    (MC_TOKEN_SCOPE_VOIP_JOIN, TokenScope::VoipJoin),
];

fn scopes(bits: mc_token_scopes) -> Result<Vec<TokenScope>> {
    let known = ALL_SCOPES.iter().fold(0, |all, (bit, _)| all | bit);
    if bits & !known != 0 {
        return Err(Error::invalid(format!(
            "scopes 0x{bits:x} has bits that are no MC_TOKEN_SCOPE_*"
        )));
    }
    Ok(ALL_SCOPES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, scope)| *scope)
        .collect())
}

/// 0 means the service's default (24 hours); else 60–1440 minutes.
fn expiry(minutes: u32) -> Result<Option<u32>> {
    match minutes {
        0 => Ok(None),
        60..=1440 => Ok(Some(minutes)),
        _ => Err(Error::invalid(format!(
            "expires_in_minutes is {minutes}, not 0 (default) or 60 to 1440"
        ))),
    }
}

struct UserKind;
const ID: usize = 0;
const TOKEN: usize = 1;
const EXPIRES_ON: usize = 2;

fn identity(handle: *mut mc_identity_client) -> Result<std::sync::Arc<Client<IdentityClient>>> {
    client(handle, "client")
}

/// Makes an identity client for the resource and access key in `connection_string`
/// (`endpoint=https://…/;accesskey=…`). `options` NULL means the defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `connection_string` NULL or a NUL-terminated string;
/// `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_client_new(
    engine: *mut mc_engine,
    connection_string: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_identity_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                keyed(
                    engine,
                    connection_string,
                    options,
                    IdentityClient::from_connection_string,
                )
            })
        }
    })
}

/// Frees an identity client. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_identity_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_client_free(client: *mut mc_identity_client) {
    free::<Client<IdentityClient>, _>(client, "client");
}

/// Creates a user; with `scopes` (`MC_TOKEN_SCOPE_*` OR-ed, 0: no token) also its first
/// token, valid `expires_in_minutes` (60–1440; 0: 24 hours). Blocks until the service
/// answers. Free `user` with `mc_identity_user_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `user` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_create_user(
    client: *mut mc_identity_client,
    scopes: mc_token_scopes,
    expires_in_minutes: u32,
    user: *mut *mut mc_identity_user,
) -> mc_status {
    guard(|| {
        let c = identity(client)?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(user, "user") }?;
        *out = std::ptr::null_mut();
        let scopes = self::scopes(scopes)?;
        let expires = expiry(expires_in_minutes)?;
        let asked = (!scopes.is_empty()).then_some(scopes.as_slice());
        let made = c.run(c.inner.create_user(asked, expires))?;
        let token = made.access_token.as_ref();
        out_rows::<UserKind, _>(
            out,
            vec![Row::new(
                &[
                    Some(&made.identity.id),
                    token.map(|t| t.token.as_str()),
                    token.map(|t| t.expires_on.as_str()),
                ],
                &[],
            )],
        );
        Ok(())
    })
}

/// The user's id (`8:acs:…`), borrowed from `user` (valid until it is freed).
///
/// # Safety
/// `user` must be NULL or a handle; `id` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_user_id(
    user: *const mc_identity_user,
    id: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<UserKind, _>(user, "user", 0, ID, id) }
}

/// The user's access token (a JWT), borrowed from `user`; NULL when no scopes were asked for.
///
/// # Safety
/// `user` must be NULL or a handle; `token` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_user_token(
    user: *const mc_identity_user,
    token: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<UserKind, _>(user, "user", 0, TOKEN, token) }
}

/// When the token expires (ISO 8601, UTC), borrowed from `user`; NULL when there is no token.
///
/// # Safety
/// `user` must be NULL or a handle; `expires_on` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_user_token_expires_on(
    user: *const mc_identity_user,
    expires_on: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<UserKind, _>(user, "user", 0, EXPIRES_ON, expires_on) }
}

/// Frees a user result (the user itself stays at the service). NULL is a no-op.
///
/// # Safety
/// `user` must be NULL or a handle from `mc_identity_create_user`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_user_free(user: *mut mc_identity_user) {
    free::<super::Rows<UserKind>, _>(user, "user");
}

/// Issues a token for `user_id` with `scopes` (at least one), valid `expires_in_minutes`
/// (60–1440; 0: 24 hours). Blocks until the service answers. `token` and `expires_on`
/// (ISO 8601) are freed with `mc_string_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `user_id` NULL or a NUL-terminated string; `token` and
/// `expires_on` writable memory for a pointer each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_issue_token(
    client: *mut mc_identity_client,
    user_id: *const c_char,
    scopes: mc_token_scopes,
    expires_in_minutes: u32,
    token: *mut *mut c_char,
    expires_on: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = identity(client)?;
        // SAFETY: forwarded contract.
        let (user_id, token, expires_on) = unsafe {
            (
                str_arg(user_id, "user_id")?,
                out_ptr(token, "token")?,
                out_ptr(expires_on, "expires_on")?,
            )
        };
        *token = std::ptr::null_mut();
        *expires_on = std::ptr::null_mut();
        let scopes = self::scopes(scopes)?;
        if scopes.is_empty() {
            return Err(Error::invalid("scopes is 0: a token needs at least one"));
        }
        let expires = expiry(expires_in_minutes)?;
        let issued = c.run(c.inner.issue_token(user_id, &scopes, expires))?;
        out_string(token, &issued.token)?;
        if let Err(e) = out_string(expires_on, &issued.expires_on) {
            // SAFETY: made by out_string just above, not handed out yet.
            unsafe { crate::boundary::mc_string_free(*token) };
            *token = std::ptr::null_mut();
            return Err(e);
        }
        Ok(())
    })
}

/// Revokes every token of `user_id` issued so far. Blocks until the service answers.
///
/// # Safety
/// `client` must be NULL or a handle; `user_id` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_revoke_tokens(
    client: *mut mc_identity_client,
    user_id: *const c_char,
) -> mc_status {
    guard(|| {
        let c = identity(client)?;
        // SAFETY: forwarded contract.
        let user_id = unsafe { str_arg(user_id, "user_id") }?;
        c.run(c.inner.revoke_tokens(user_id))
    })
}

/// Deletes `user_id` (its tokens stop working). Blocks until the service answers.
///
/// # Safety
/// `client` must be NULL or a handle; `user_id` NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_identity_delete_user(
    client: *mut mc_identity_client,
    user_id: *const c_char,
) -> mc_status {
    guard(|| {
        let c = identity(client)?;
        // SAFETY: forwarded contract.
        let user_id = unsafe { str_arg(user_id, "user_id") }?;
        c.run(c.inner.delete_user(user_id))
    })
}
