//! Email JSON as azure-communication-email 1.1.0 (api-version 2025-09-01) names it. The request
//! is also what the service stores for the dispatcher, so it serialises back the same way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `EmailMessage`, the body of `POST /emails:send`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// `DoNotReply@<verified domain>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_address: Option<String>,
    /// Subject and bodies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// to, cc, bcc.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Recipients>,
    /// Where replies go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Vec<Address>>,
    /// Files, inline (with `contentId`) or attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Attachment>>,
    /// Extra message headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Kept, without effect: the local service tracks no engagement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_engagement_tracking_disabled: Option<bool>,
}

/// `EmailContent`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// Subject line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Plain-text body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plain_text: Option<String>,
    /// HTML body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// `EmailRecipients`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipients {
    /// To.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Address>,
    /// Cc.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<Address>,
    /// Bcc (in the envelope, never in the headers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bcc: Vec<Address>,
}

/// `EmailAddress`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `local@domain`.
    #[serde(default)]
    pub address: String,
    /// Shown name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `EmailAttachment`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// File name.
    #[serde(default)]
    pub name: String,
    /// MIME type, e.g. `text/plain`.
    #[serde(default)]
    pub content_type: String,
    /// The bytes, base64.
    #[serde(default)]
    pub content_in_base64: String,
    /// Set for an inline attachment (`cid:` in the HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
}

/// `EmailSendResult`: the 202 body and the operation status body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationStatus {
    /// The operation id.
    pub id: String,
    /// `NotStarted`, `Running`, `Succeeded`, `Failed` or `Canceled`.
    pub status: String,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}
