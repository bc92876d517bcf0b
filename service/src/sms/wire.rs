//! SMS JSON as azure-communication-sms 1.1.0 (api-version 2021-03-07) names it.

use serde::{Deserialize, Serialize};

/// `SendMessageRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The sender: one of the resource's numbers.
    pub from: Option<String>,
    /// The recipients.
    pub sms_recipients: Option<Vec<Recipient>>,
    /// The text (may be empty).
    pub message: Option<String>,
    /// Delivery report and tag.
    pub sms_send_options: Option<SendOptions>,
}

/// `SmsRecipient`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// E.164 number.
    pub to: Option<String>,
    /// The client's id for this recipient's send; the same id again is not sent again.
    pub repeatability_request_id: Option<String>,
    /// When the client first sent it (RFC 1123).
    pub repeatability_first_sent: Option<String>,
}

/// `SmsSendOptions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOptions {
    /// Whether an `SMSDeliveryReportReceived` event is wanted.
    pub enable_delivery_report: Option<bool>,
    /// Echoed in the delivery report.
    pub tag: Option<String>,
}

/// `SmsSendResponseItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    /// The recipient as given.
    pub to: String,
    /// The message id, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// 202 accepted, 400 bad recipient, 409 repeatability conflict.
    pub http_status_code: u16,
    /// `accepted` or `rejected`, when the recipient carried a repeatability id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeatability_result: Option<&'static str>,
    /// Whether the message was accepted.
    pub successful: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `SmsSendResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct SendResponse {
    /// One result per recipient, in request order.
    pub value: Vec<SendResult>,
}
