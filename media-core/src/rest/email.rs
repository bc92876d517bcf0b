//! The email client (acs-wire.md §7, api-version 2025-09-01): a send is a long-running
//! operation, begun with `POST /emails:send` and polled at its `Operation-Location` until it
//! ends. Needs the access key.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::error::{AcsError, RestError};
use super::pipeline::{Call, Pipeline, access_key_constructors, encode, path_query};
use super::retry::retry_after;

/// The email api-version.
pub const API_VERSION: &str = "2025-09-01";

/// Poll interval when the service gives no `Retry-After`.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// An address with an optional display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    /// `name@domain`.
    pub address: String,
    /// Shown name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl EmailAddress {
    /// An address without display name.
    pub fn new(address: &str) -> Self {
        Self {
            address: address.to_owned(),
            display_name: None,
        }
    }
}

/// Subject and bodies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailContent {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain_text: Option<String>,
    /// HTML body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// To, cc and bcc.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRecipients {
    /// To.
    pub to: Vec<EmailAddress>,
    /// Cc.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<EmailAddress>,
    /// Bcc.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<EmailAddress>,
}

/// An attachment, its bytes in base64.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAttachment {
    /// File name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// The bytes, base64.
    pub content_in_base64: String,
    /// Content id for inline use (`cid:` in the HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
}

/// The message to send (the `POST /emails:send` body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailMessage {
    /// `DoNotReply@<verified domain>`.
    pub sender_address: String,
    /// Subject and bodies.
    pub content: EmailContent,
    /// Recipients.
    pub recipients: EmailRecipients,
    /// Reply-To addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reply_to: Vec<EmailAddress>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<EmailAttachment>,
    /// Extra message headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Turn engagement tracking off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_engagement_tracking_disabled: Option<bool>,
}

/// The operation's state: `{"id","status","error"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSendStatus {
    /// The operation id.
    pub id: String,
    /// `NotStarted`, `Running`, `Succeeded`, `Failed` or `Canceled`.
    pub status: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AcsError>,
}

impl EmailSendStatus {
    /// Whether the operation has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(self.status.as_str(), "Succeeded" | "Failed" | "Canceled")
    }
}

/// Sends email.
#[derive(Clone)]
pub struct EmailClient {
    pipeline: Pipeline,
    poll_interval: Duration,
}

access_key_constructors!(EmailClient);

impl EmailClient {
    fn from_pipeline(pipeline: Pipeline) -> Self {
        Self {
            pipeline,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }

    /// Sets the poll interval used when the service gives no `Retry-After`.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Begins sending `message`. With `operation_id`, a repeated begin (same id, same body) is
    /// the same operation, so the send is safe to retry.
    pub async fn begin_send(
        &self,
        message: &EmailMessage,
        operation_id: Option<&str>,
    ) -> Result<EmailSendPoller, RestError> {
        const WHAT: &str = "email: begin send";
        let mut call = Call::new(
            WHAT,
            Method::POST,
            path_query("/emails:send", API_VERSION, &[]),
        )
        .json(message)?;
        if let Some(id) = operation_id {
            call.headers.push(("operation-id", id.to_owned()));
            call.repeatable = true;
        }
        let answer = self.pipeline.send(&call).await?;
        let status: EmailSendStatus = answer.json(WHAT)?;
        let location = match answer.headers.get("operation-location").map(|v| v.to_str()) {
            Some(Ok(link)) => self.pipeline.follow_link(WHAT, link, API_VERSION)?,
            Some(Err(_)) => {
                return Err(RestError::protocol(WHAT, "Operation-Location is not text"));
            }
            None => path_query(
                &format!("/emails/operations/{}", encode(&status.id)),
                API_VERSION,
                &[],
            ),
        };
        Ok(EmailSendPoller {
            pipeline: self.pipeline.clone(),
            location,
            wait: retry_after(&answer.headers, SystemTime::now()).unwrap_or(self.poll_interval),
            default_wait: self.poll_interval,
            status,
        })
    }

    /// Sends `message` and waits until the operation ends; `Failed` or `Canceled` is an error.
    pub async fn send(
        &self,
        message: &EmailMessage,
        operation_id: Option<&str>,
    ) -> Result<EmailSendStatus, RestError> {
        self.begin_send(message, operation_id).await?.wait().await
    }
}

/// A send under way: polls `Operation-Location`, waiting as `Retry-After` says.
pub struct EmailSendPoller {
    pipeline: Pipeline,
    location: String,
    wait: Duration,
    default_wait: Duration,
    status: EmailSendStatus,
}

impl EmailSendPoller {
    /// The last status seen.
    pub fn status(&self) -> &EmailSendStatus {
        &self.status
    }

    /// The operation id.
    pub fn operation_id(&self) -> &str {
        &self.status.id
    }

    /// Waits as the service asked, then reads the status once.
    pub async fn poll(&mut self) -> Result<&EmailSendStatus, RestError> {
        const WHAT: &str = "email: poll send operation";
        if self.status.is_terminal() {
            return Ok(&self.status);
        }
        tokio::time::sleep(self.wait).await;
        let answer = self
            .pipeline
            .send(&Call::new(WHAT, Method::GET, self.location.clone()))
            .await?;
        self.wait = retry_after(&answer.headers, SystemTime::now()).unwrap_or(self.default_wait);
        self.status = answer.json(WHAT)?;
        Ok(&self.status)
    }

    /// Polls until the operation ends; `Succeeded` is `Ok`, `Failed`/`Canceled` an
    /// [`RestError::OperationFailed`] with the operation's error.
    pub async fn wait(mut self) -> Result<EmailSendStatus, RestError> {
        while !self.status.is_terminal() {
            self.poll().await?;
        }
        if self.status.status == "Succeeded" {
            return Ok(self.status);
        }
        let error = self.status.error.unwrap_or_default();
        Err(RestError::OperationFailed {
            what: "email: send".to_owned(),
            operation_id: self.status.id,
            status: self.status.status,
            code: error.code,
            message: error.message,
        })
    }
}
