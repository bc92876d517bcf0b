//! `mc_sms_client`: one SMS to several numbers, a result per recipient (needs the access key).

use std::ffi::c_char;
use std::sync::Arc;

use media_core::rest::{SmsClient, SmsSendOptions};

use super::{
    Client, Row, client, free, keyed, mc_client_options, out_rows, register_out, rows_count,
    rows_number, rows_text, str_list,
};
use crate::boundary::{guard, in_ref, opt_str_arg, out_ptr, str_arg};
use crate::engine::{check_size, mc_engine};
use crate::status::{Error, Result, mc_status};

/// An SMS client (opaque).
pub struct mc_sms_client {
    _private: [u8; 0],
}

/// The per-recipient results of a send (opaque), in the order of the recipients.
pub struct mc_sms_results {
    _private: [u8; 0],
}

/// Options of a send. Fill with `mc_sms_send_options_default` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_sms_send_options {
    /// `sizeof(mc_sms_send_options)`, set by `mc_sms_send_options_default`.
    pub struct_size: u32,
    /// Ask for delivery reports (Event Grid's `SMSDeliveryReportReceived`); default false.
    pub enable_delivery_report: bool,
    /// A tag echoed in delivery reports; NULL (default): none.
    pub tag: *const c_char,
}

fn sms(handle: *mut mc_sms_client) -> Result<Arc<Client<SmsClient>>> {
    client(handle, "client")
}

/// Makes an SMS client with the access key in `connection_string`. `options` NULL means the
/// defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `connection_string` NULL or a NUL-terminated string;
/// `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_client_new(
    engine: *mut mc_engine,
    connection_string: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_sms_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                keyed(
                    engine,
                    connection_string,
                    options,
                    SmsClient::from_connection_string,
                )
            })
        }
    })
}

/// Frees an SMS client. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_sms_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_client_free(client: *mut mc_sms_client) {
    free::<Client<SmsClient>, _>(client, "client");
}

/// Fills `options` with the defaults (and its `struct_size`).
///
/// # Safety
/// `options` must be NULL or writable memory for an `mc_sms_send_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_send_options_default(
    options: *mut mc_sms_send_options,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(options, "options") }? = mc_sms_send_options {
            struct_size: size_of::<mc_sms_send_options>() as u32,
            enable_delivery_report: false,
            tag: std::ptr::null(),
        };
        Ok(())
    })
}

struct ResultsKind;
const TO: usize = 0;
const MESSAGE_ID: usize = 1;
const ERROR_MESSAGE: usize = 2;
const HTTP_STATUS: usize = 0;
const SUCCESSFUL: usize = 1;

/// Sends `message` from `from` (one of the resource's numbers, E.164) to each of `to`
/// (`to_count` E.164 numbers). Blocks until the service answers. A recipient the service
/// refuses is a failed result, not an error. `options` NULL means the defaults. Free
/// `results` with `mc_sms_results_free`.
///
/// # Safety
/// `client` must be NULL or a handle; `from` and `message` NULL or NUL-terminated strings;
/// `to` NULL or `to_count` NUL-terminated strings; `options` NULL or an
/// `mc_sms_send_options`; `results` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_send(
    client: *mut mc_sms_client,
    from: *const c_char,
    to: *const *const c_char,
    to_count: usize,
    message: *const c_char,
    options: *const mc_sms_send_options,
    results: *mut *mut mc_sms_results,
) -> mc_status {
    guard(|| {
        let c = sms(client)?;
        // SAFETY: forwarded contract.
        let (from, to, message, out) = unsafe {
            (
                str_arg(from, "from")?,
                str_list(to, to_count, "to")?,
                str_arg(message, "message")?,
                out_ptr(results, "results")?,
            )
        };
        *out = std::ptr::null_mut();
        if to.is_empty() {
            return Err(Error::invalid("to_count is 0: an SMS needs a recipient"));
        }
        let mut rust = SmsSendOptions::default();
        if !options.is_null() {
            // SAFETY: forwarded contract.
            let o = unsafe { in_ref(options, "options") }?;
            check_size(
                o.struct_size,
                size_of::<mc_sms_send_options>(),
                "mc_sms_send_options",
            )?;
            rust.enable_delivery_report = o.enable_delivery_report;
            // SAFETY: forwarded contract.
            rust.tag = unsafe { opt_str_arg(o.tag, "options.tag") }?.map(str::to_owned);
        }
        let sent = c.run(c.inner.send(from, &to, message, &rust))?;
        let rows = sent
            .iter()
            .map(|r| {
                Row::new(
                    &[
                        Some(&r.to),
                        r.message_id.as_deref(),
                        r.error_message.as_deref(),
                    ],
                    &[i64::from(r.http_status_code), i64::from(r.successful)],
                )
            })
            .collect();
        out_rows::<ResultsKind, _>(out, rows);
        Ok(())
    })
}

/// How many results (one per recipient).
///
/// # Safety
/// `results` must be NULL or a handle; `count` writable memory for a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_count(
    results: *const mc_sms_results,
    count: *mut usize,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_count::<ResultsKind, _>(results, "results", count) }
}

/// Result `index`'s recipient, borrowed from `results` (valid until it is freed).
///
/// # Safety
/// `results` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_to(
    results: *const mc_sms_results,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<ResultsKind, _>(results, "results", index, TO, value) }
}

/// Result `index`'s message id, borrowed from `results`; NULL when it was refused.
///
/// # Safety
/// `results` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_message_id(
    results: *const mc_sms_results,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<ResultsKind, _>(results, "results", index, MESSAGE_ID, value) }
}

/// Why result `index` failed, borrowed from `results`; NULL when it succeeded.
///
/// # Safety
/// `results` must be NULL or a handle; `value` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_error_message(
    results: *const mc_sms_results,
    index: usize,
    value: *mut *const c_char,
) -> mc_status {
    // SAFETY: forwarded contract.
    unsafe { rows_text::<ResultsKind, _>(results, "results", index, ERROR_MESSAGE, value) }
}

/// Whether result `index`'s message was accepted, and its HTTP status (202 accepted, 400
/// refused, …). Either out-parameter may be NULL.
///
/// # Safety
/// `results` must be NULL or a handle; `successful` NULL or writable for a `bool`;
/// `http_status` NULL or writable for a `uint16_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_status(
    results: *const mc_sms_results,
    index: usize,
    successful: *mut bool,
    http_status: *mut u16,
) -> mc_status {
    guard(|| {
        let status = rows_number::<ResultsKind, _>(results, "results", index, HTTP_STATUS)?;
        let ok = rows_number::<ResultsKind, _>(results, "results", index, SUCCESSFUL)?;
        // SAFETY: forwarded contract (NULL allowed).
        if let Some(s) = unsafe { successful.as_mut() } {
            *s = ok != 0;
        }
        // SAFETY: forwarded contract (NULL allowed).
        if let Some(h) = unsafe { http_status.as_mut() } {
            *h = u16::try_from(status).unwrap_or(0);
        }
        Ok(())
    })
}

/// Frees SMS results. NULL is a no-op.
///
/// # Safety
/// `results` must be NULL or a handle from `mc_sms_send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_sms_results_free(results: *mut mc_sms_results) {
    free::<super::Rows<ResultsKind>, _>(results, "results");
}
