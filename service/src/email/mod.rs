//! Email (acs-wire.md §7): `POST /emails:send` accepted as a long-running operation, delivered
//! over SMTP to the configured relay by the [`dispatch`] task, its status read at
//! `GET /emails/operations/{id}`, and an `EmailDeliveryReportReceived` event per recipient when
//! the relay took the message or refused it. The route is `routes::email`; the state is in the
//! storage's [`EmailStore`](crate::storage::EmailStore).

pub mod dispatch;
pub mod events;
pub mod smtp;
pub mod wire;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::ApiError;
use wire::{Address, SendRequest};

/// Operation states, as the SDK's poller reads them.
pub mod status {
    /// Accepted, waiting for the relay.
    pub const NOT_STARTED: &str = "NotStarted";
    /// The SMTP session is under way.
    pub const RUNNING: &str = "Running";
    /// The relay accepted the message.
    pub const SUCCEEDED: &str = "Succeeded";
    /// The relay was unreachable or refused the message.
    pub const FAILED: &str = "Failed";
}

/// Most recipients (to, cc and bcc together) in one message, ACS's limit.
pub const MAX_RECIPIENTS: usize = 50;

/// Longest address (RFC 5321: 64 local + `@` + 255 domain, cut to the 254 a path allows).
const MAX_ADDRESS: usize = 254;

/// Headers the service writes itself: a custom header of that name would corrupt the message.
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
];

/// Whether `address` is a mailbox the relay can be given: `local@domain`, dot-atom local part
/// (RFC 5322 atext), a domain of at least two DNS labels (letters, digits, hyphens).
pub fn is_valid_address(address: &str) -> bool {
    if address.len() > MAX_ADDRESS {
        return false;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ATEXT.contains(c))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// Whether `name` is an RFC 5322 field name lettre can write (printable ASCII but `:`, ≤ 76).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

fn address_problem(a: &Address, target: &str) -> Result<(), ApiError> {
    if !is_valid_address(&a.address) {
        return Err(ApiError::bad_request(format!(
            "'{}' is not a valid email address.",
            a.address
        ))
        .with_target(target));
    }
    if a.display_name
        .as_deref()
        .is_some_and(|n| n.contains(['\r', '\n']))
    {
        return Err(
            ApiError::bad_request("A display name cannot contain line breaks.").with_target(target),
        );
    }
    Ok(())
}

/// Checks a send request as ACS does before accepting it: sender, subject and a body,
/// 1 to [`MAX_RECIPIENTS`] valid recipients, valid reply-to addresses, attachments with a name,
/// a MIME type and valid base64, custom headers that can be written, and the message's size
/// (bodies and decoded attachments) within `max_message_bytes`. Returns that size.
pub fn validate(req: &SendRequest, max_message_bytes: usize) -> Result<usize, ApiError> {
    let sender = req.sender_address.as_deref().unwrap_or_default();
    if !is_valid_address(sender) {
        return Err(ApiError::bad_request(format!(
            "senderAddress '{sender}' is not a valid email address."
        ))
        .with_target("senderAddress"));
    }
    let Some(content) = &req.content else {
        return Err(ApiError::bad_request("content is required.").with_target("content"));
    };
    let subject = content.subject.as_deref().unwrap_or_default();
    if subject.trim().is_empty() {
        return Err(
            ApiError::bad_request("content.subject is required.").with_target("content.subject")
        );
    }
    if content.plain_text.is_none() && content.html.is_none() {
        return Err(
            ApiError::bad_request("content needs a plainText or an html body.")
                .with_target("content"),
        );
    }
    let Some(recipients) = &req.recipients else {
        return Err(ApiError::bad_request("recipients is required.").with_target("recipients"));
    };
    let count = recipients.to.len() + recipients.cc.len() + recipients.bcc.len();
    if count == 0 || count > MAX_RECIPIENTS {
        return Err(ApiError::bad_request(format!(
            "recipients must hold 1 to {MAX_RECIPIENTS} addresses (to, cc and bcc together)."
        ))
        .with_target("recipients"));
    }
    for (list, name) in [
        (&recipients.to, "recipients.to"),
        (&recipients.cc, "recipients.cc"),
        (&recipients.bcc, "recipients.bcc"),
    ] {
        for a in list {
            address_problem(a, name)?;
        }
    }
    for a in req.reply_to.iter().flatten() {
        address_problem(a, "replyTo")?;
    }

    let mut size = subject.len()
        + content.plain_text.as_deref().map_or(0, str::len)
        + content.html.as_deref().map_or(0, str::len);
    for a in req.attachments.iter().flatten() {
        if a.name.trim().is_empty() || a.name.contains(['\r', '\n', '"']) {
            return Err(ApiError::bad_request(
                "Every attachment needs a name (no quotes or line breaks).",
            )
            .with_target("attachments.name"));
        }
        if lettre::message::header::ContentType::parse(&a.content_type).is_err() {
            return Err(ApiError::bad_request(format!(
                "Attachment '{}': contentType '{}' is not a MIME type.",
                a.name, a.content_type
            ))
            .with_target("attachments.contentType"));
        }
        let bytes = B64.decode(a.content_in_base64.trim()).map_err(|_| {
            ApiError::bad_request(format!(
                "Attachment '{}': contentInBase64 is not valid base64.",
                a.name
            ))
            .with_target("attachments.contentInBase64")
        })?;
        if a.content_id
            .as_deref()
            .is_some_and(|id| id.is_empty() || id.contains(['<', '>', '\r', '\n']))
        {
            return Err(ApiError::bad_request(format!(
                "Attachment '{}': contentId is not valid.",
                a.name
            ))
            .with_target("attachments.contentId"));
        }
        size += bytes.len();
    }
    if size > max_message_bytes {
        return Err(ApiError::bad_request(format!(
            "The message is {size} bytes; the limit is {max_message_bytes} bytes."
        ))
        .with_target("attachments"));
    }

    for (name, value) in req.headers.iter().flatten() {
        if !is_header_name(name) {
            return Err(
                ApiError::bad_request(format!("'{name}' is not a valid header name."))
                    .with_target("headers"),
            );
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(ApiError::bad_request(format!(
                "The header '{name}' is set by the service and cannot be given."
            ))
            .with_target("headers"));
        }
        if value.contains(['\r', '\n']) {
            return Err(ApiError::bad_request(format!(
                "The value of header '{name}' cannot contain line breaks."
            ))
            .with_target("headers"));
        }
    }
    Ok(size)
}

/// A new operation id (ACS's are uuids).
pub fn new_operation_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::{Attachment, Content, Recipients};

    #[test]
    fn addresses() {
        for good in [
            "a@example.test",
            "first.last+tag@sub.example.com",
            "x_y@a-b.io",
        ] {
            assert!(is_valid_address(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@example.test",
            "a@localhost",
            "a..b@example.test",
            ".a@example.test",
            "a b@example.test",
            "a@-x.test",
            "a@x..test",
            "a@exa mple.test",
            "a@b@example.test",
            "<a@example.test>",
        ] {
            assert!(!is_valid_address(bad), "{bad}");
        }
        assert!(!is_valid_address(&format!(
            "{}@example.test",
            "a".repeat(65)
        )));
    }

    fn request() -> SendRequest {
        SendRequest {
            sender_address: Some("DoNotReply@example.test".into()),
            content: Some(Content {
                subject: Some("hi".into()),
                plain_text: Some("hello".into()),
                html: None,
            }),
            recipients: Some(Recipients {
                to: vec![Address {
                    address: "a@example.test".into(),
                    display_name: None,
                }],
                ..Recipients::default()
            }),
            ..SendRequest::default()
        }
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&request(), 100).expect("valid"), 7);
        let mut r = request();
        r.content = Some(Content {
            subject: Some("hi".into()),
            ..Content::default()
        });
        assert_eq!(
            validate(&r, 100).expect_err("no body").target.as_deref(),
            Some("content")
        );
        let mut r = request();
        r.attachments = Some(vec![Attachment {
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            content_in_base64: B64.encode([0u8; 200]),
            content_id: None,
        }]);
        assert!(validate(&r, 1000).is_ok());
        assert!(validate(&r, 100).is_err(), "decoded size counts");
        r.attachments = Some(vec![Attachment {
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            content_in_base64: "not base64!".into(),
            content_id: None,
        }]);
        assert!(validate(&r, 1000).is_err());
        let mut r = request();
        r.headers = Some([("Subject".to_owned(), "x".to_owned())].into());
        assert!(validate(&r, 100).is_err(), "reserved header");
        r.headers = Some(
            [(
                "x-custom".to_owned(),
                "a\r\nBcc: evil@example.test".to_owned(),
            )]
            .into(),
        );
        assert!(validate(&r, 100).is_err(), "header injection");
        r.headers = Some([("x-custom".to_owned(), "v".to_owned())].into());
        assert!(validate(&r, 100).is_ok());
    }
}
