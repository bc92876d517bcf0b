//! SMTP delivery with lettre: the MIME message built from a stored request, and the relay it
//! goes to (plain SMTP, STARTTLS or implicit TLS with rustls, optional login).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::wire::{Address, SendRequest};
use crate::config::{EmailConfig, RelayTls};

/// Why the relay did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    /// `RelayUnavailable` (no connection, timeout, TLS) or `MessageRejected` (an SMTP refusal).
    pub code: &'static str,
    /// The relay's answer or the connection error.
    pub message: String,
}

/// The configured relay.
#[derive(Clone)]
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpRelay")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl SmtpRelay {
    /// A relay client for `config` (nothing is connected until a message is sent).
    pub fn new(config: &EmailConfig) -> Result<Self, String> {
        let tls = match config.relay_tls {
            RelayTls::None => Tls::None,
            RelayTls::Starttls | RelayTls::Tls => {
                let mut params = TlsParameters::builder(config.relay_host.clone());
                if let Some(path) = &config.relay_ca_file {
                    let pem = std::fs::read(path)
                        .map_err(|e| format!("email.relay_ca_file {}: {e}", path.display()))?;
                    let ca = Certificate::from_pem(&pem)
                        .map_err(|e| format!("email.relay_ca_file {}: {e}", path.display()))?;
                    params = params.add_root_certificate(ca);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| format!("relay TLS: {e}"))?;
                if config.relay_tls == RelayTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.relay_host)
                .port(config.relay_port)
                .tls(tls)
                .timeout(Some(Duration::from_secs(config.relay_timeout_seconds)));
        if let (Some(user), Some(password)) = (&config.relay_username, &config.relay_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            host: config.relay_host.clone(),
        })
    }

    /// The relay's host name (reported as `recipientMailServerHostName`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Hands `message` to the relay; the relay's answer on success.
    pub async fn send(&self, message: &Message) -> Result<String, DeliveryError> {
        match self.transport.send(message.clone()).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(DeliveryError {
                // A permanent or transient SMTP answer means the relay was there and said no.
                code: if e.is_permanent() || e.is_transient() {
                    "MessageRejected"
                } else {
                    "RelayUnavailable"
                },
                message: e.to_string(),
            }),
        }
    }
}

fn mailbox(a: &Address) -> Result<Mailbox, String> {
    let email = a
        .address
        .parse()
        .map_err(|e| format!("address '{}': {e}", a.address))?;
    Ok(Mailbox::new(a.display_name.clone(), email))
}

/// The `Message-ID` of operation `operation_id`'s message (the event's `internetMessageId`).
pub fn internet_message_id(operation_id: &str, sender: &str) -> String {
    let domain = sender
        .rsplit_once('@')
        .map_or("mediacore.local", |(_, d)| d);
    format!("<{operation_id}@{domain}>")
}

/// The MIME message for a validated request: multipart/alternative when both bodies are there,
/// multipart/related around it for inline attachments (`contentId`), multipart/mixed for the
/// others; Bcc only in the envelope.
pub fn build_message(operation_id: &str, req: &SendRequest) -> Result<Message, String> {
    let sender = req.sender_address.as_deref().unwrap_or_default();
    let mut builder = Message::builder()
        .from(mailbox(&Address {
            address: sender.to_owned(),
            display_name: None,
        })?)
        .message_id(Some(internet_message_id(operation_id, sender)))
        .date_now();
    let content = req.content.clone().unwrap_or_default();
    builder = builder.subject(content.subject.unwrap_or_default());
    let recipients = req.recipients.clone().unwrap_or_default();
    for a in &recipients.to {
        builder = builder.to(mailbox(a)?);
    }
    for a in &recipients.cc {
        builder = builder.cc(mailbox(a)?);
    }
    for a in &recipients.bcc {
        builder = builder.bcc(mailbox(a)?);
    }
    for a in req.reply_to.iter().flatten() {
        builder = builder.reply_to(mailbox(a)?);
    }
    for (name, value) in req.headers.iter().flatten() {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|e| format!("header '{name}': {e}"))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }

    let body = match (content.plain_text, content.html) {
        (Some(plain), Some(html)) => Body::Multi(MultiPart::alternative_plain_html(plain, html)),
        (None, Some(html)) => Body::Single(SinglePart::html(html)),
        (plain, None) => Body::Single(SinglePart::plain(plain.unwrap_or_default())),
    };
    let mut inline = Vec::new();
    let mut attached = Vec::new();
    for a in req.attachments.iter().flatten() {
        let bytes = B64
            .decode(a.content_in_base64.trim())
            .map_err(|e| format!("attachment '{}': {e}", a.name))?;
        let content_type = ContentType::parse(&a.content_type)
            .map_err(|e| format!("attachment '{}': {e}", a.name))?;
        match &a.content_id {
            Some(id) => inline.push(
                Attachment::new_inline_with_name(id.clone(), a.name.clone())
                    .body(bytes, content_type),
            ),
            None => attached.push(Attachment::new(a.name.clone()).body(bytes, content_type)),
        }
    }
    let body = if inline.is_empty() {
        body
    } else {
        let related = inline
            .into_iter()
            .fold(body.into_related(), MultiPart::singlepart);
        Body::Multi(related)
    };
    let message = if attached.is_empty() {
        match body {
            Body::Single(part) => builder.singlepart(part),
            Body::Multi(part) => builder.multipart(part),
        }
    } else {
        let mixed = match body {
            Body::Single(part) => MultiPart::mixed().singlepart(part),
            Body::Multi(part) => MultiPart::mixed().multipart(part),
        };
        builder.multipart(attached.into_iter().fold(mixed, MultiPart::singlepart))
    };
    message.map_err(|e| format!("building the message: {e}"))
}

enum Body {
    Single(SinglePart),
    Multi(MultiPart),
}

impl Body {
    fn into_related(self) -> MultiPart {
        match self {
            Body::Single(part) => MultiPart::related().singlepart(part),
            Body::Multi(part) => MultiPart::related().multipart(part),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::wire::{Attachment as WireAttachment, Content, Recipients};

    #[test]
    fn message_has_everything_but_bcc() {
        let req = SendRequest {
            sender_address: Some("DoNotReply@example.test".into()),
            content: Some(Content {
                subject: Some("Quarterly".into()),
                plain_text: Some("plain body".into()),
                html: Some("<p>html body</p>".into()),
            }),
            recipients: Some(Recipients {
                to: vec![Address {
                    address: "a@example.test".into(),
                    display_name: Some("A".into()),
                }],
                cc: vec![Address {
                    address: "c@example.test".into(),
                    display_name: None,
                }],
                bcc: vec![Address {
                    address: "hidden@example.test".into(),
                    display_name: None,
                }],
            }),
            reply_to: Some(vec![Address {
                address: "r@example.test".into(),
                display_name: None,
            }]),
            attachments: Some(vec![WireAttachment {
                name: "report.txt".into(),
                content_type: "text/plain".into(),
                content_in_base64: B64.encode("attached text"),
                content_id: None,
            }]),
            headers: Some([("x-custom".to_owned(), "v1".to_owned())].into()),
            user_engagement_tracking_disabled: None,
        };
        let m = build_message("op-1", &req).expect("message");
        let recipients: Vec<String> = m.envelope().to().iter().map(ToString::to_string).collect();
        assert_eq!(
            recipients,
            ["a@example.test", "c@example.test", "hidden@example.test"]
        );
        let text = String::from_utf8(m.formatted()).expect("utf-8");
        for needle in [
            "Message-ID: <op-1@example.test>",
            "To: A <a@example.test>",
            "Cc: c@example.test",
            "Reply-To: r@example.test",
            "x-custom: v1",
            "Subject: Quarterly",
            "multipart/mixed",
            "multipart/alternative",
            "filename=\"report.txt\"",
        ] {
            assert!(text.contains(needle), "{needle} missing in:\n{text}");
        }
        assert!(!text.contains("hidden@example.test"), "Bcc leaked:\n{text}");
    }
}
