//! `mc_email_client`: an email send, a long-running operation waited for to its end (needs the
//! access key).

use std::ffi::c_char;
use std::sync::Arc;

use media_core::rest::EmailClient;
use media_core::rest::email::{EmailAddress, EmailContent, EmailMessage, EmailRecipients};

use super::{Client, client, free, keyed, mc_client_options, register_out, str_list};
use crate::boundary::{guard, in_ref, opt_str_arg, out_ptr, out_string, str_arg};
use crate::engine::{check_size, mc_engine};
use crate::status::{Error, Result, mc_status};

/// An email client (opaque).
pub struct mc_email_client {
    _private: [u8; 0],
}

/// An email to send. Fill with `mc_email_message_default` first, then set the fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_email_message {
    /// `sizeof(mc_email_message)`, set by `mc_email_message_default`.
    pub struct_size: u32,
    /// The sender, `DoNotReply@<verified domain>` (required).
    pub sender_address: *const c_char,
    /// The subject (required).
    pub subject: *const c_char,
    /// Plain-text body, or NULL.
    pub plain_text: *const c_char,
    /// HTML body, or NULL (at least one body is required).
    pub html: *const c_char,
    /// To addresses (`to_count`, at least one).
    pub to: *const *const c_char,
    /// How many `to`.
    pub to_count: usize,
    /// Cc addresses, or NULL.
    pub cc: *const *const c_char,
    /// How many `cc`.
    pub cc_count: usize,
    /// Bcc addresses, or NULL.
    pub bcc: *const *const c_char,
    /// How many `bcc`.
    pub bcc_count: usize,
    /// An operation id (a UUID) making a repeated send the same operation, or NULL.
    pub operation_id: *const c_char,
}

fn email(handle: *mut mc_email_client) -> Result<Arc<Client<EmailClient>>> {
    client(handle, "client")
}

/// Makes an email client with the access key in `connection_string`. `options` NULL means
/// the defaults.
///
/// # Safety
/// `engine` must be NULL or a handle; `connection_string` NULL or a NUL-terminated string;
/// `options` NULL or an `mc_client_options`; `client` writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_email_client_new(
    engine: *mut mc_engine,
    connection_string: *const c_char,
    options: *const mc_client_options,
    client: *mut *mut mc_email_client,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe {
            register_out(client, || {
                keyed(
                    engine,
                    connection_string,
                    options,
                    EmailClient::from_connection_string,
                )
            })
        }
    })
}

/// Frees an email client. NULL is a no-op.
///
/// # Safety
/// `client` must be NULL or a handle from `mc_email_client_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_email_client_free(client: *mut mc_email_client) {
    free::<Client<EmailClient>, _>(client, "client");
}

/// Fills `message` with an empty message (and its `struct_size`).
///
/// # Safety
/// `message` must be NULL or writable memory for an `mc_email_message`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_email_message_default(message: *mut mc_email_message) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        *unsafe { out_ptr(message, "message") }? = mc_email_message {
            struct_size: size_of::<mc_email_message>() as u32,
            sender_address: std::ptr::null(),
            subject: std::ptr::null(),
            plain_text: std::ptr::null(),
            html: std::ptr::null(),
            to: std::ptr::null(),
            to_count: 0,
            cc: std::ptr::null(),
            cc_count: 0,
            bcc: std::ptr::null(),
            bcc_count: 0,
            operation_id: std::ptr::null(),
        };
        Ok(())
    })
}

fn addresses(list: Vec<&str>) -> Vec<EmailAddress> {
    list.into_iter().map(EmailAddress::new).collect()
}

/// Sends `message` and waits until the operation ends (the service polled as it asks, so
/// this may take seconds). `status` gets the final status (`Succeeded`), freed with
/// `mc_string_free`. An operation that ends `Failed` or `Canceled` is `MC_ERR_SERVICE` with
/// the operation's error in the message.
///
/// # Safety
/// `client` must be NULL or a handle; `message` NULL or an `mc_email_message` whose pointers
/// are valid as documented there; `status` writable memory for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_email_send(
    client: *mut mc_email_client,
    message: *const mc_email_message,
    status: *mut *mut c_char,
) -> mc_status {
    guard(|| {
        let c = email(client)?;
        // SAFETY: forwarded contract.
        let (m, out) = unsafe { (in_ref(message, "message")?, out_ptr(status, "status")?) };
        *out = std::ptr::null_mut();
        check_size(
            m.struct_size,
            size_of::<mc_email_message>(),
            "mc_email_message",
        )?;
        // SAFETY: forwarded contract: every pointer NULL or valid as documented.
        let (sender, subject, plain_text, html, to, cc, bcc, operation_id) = unsafe {
            (
                str_arg(m.sender_address, "message.sender_address")?,
                str_arg(m.subject, "message.subject")?,
                opt_str_arg(m.plain_text, "message.plain_text")?,
                opt_str_arg(m.html, "message.html")?,
                str_list(m.to, m.to_count, "message.to")?,
                str_list(m.cc, m.cc_count, "message.cc")?,
                str_list(m.bcc, m.bcc_count, "message.bcc")?,
                opt_str_arg(m.operation_id, "message.operation_id")?,
            )
        };
        if to.is_empty() {
            return Err(Error::invalid("message.to_count is 0"));
        }
        if plain_text.is_none() && html.is_none() {
            return Err(Error::invalid(
                "message has neither plain_text nor html: one body is required",
            ));
        }
        let rust = EmailMessage {
            sender_address: sender.to_owned(),
            content: EmailContent {
                subject: subject.to_owned(),
                plain_text: plain_text.map(str::to_owned),
                html: html.map(str::to_owned),
            },
            recipients: EmailRecipients {
                to: addresses(to),
                cc: addresses(cc),
                bcc: addresses(bcc),
            },
            ..EmailMessage::default()
        };
        let done = c.run(c.inner.send(&rust, operation_id))?;
        out_string(out, &done.status)
    })
}
