//! The SMS client (acs-wire.md §6, api-version 2021-03-07): one message to several numbers,
//! with a result per recipient. Needs the access key.

use std::time::SystemTime;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::error::RestError;
use super::pipeline::{Call, Pipeline, access_key_constructors, path_query};

/// The SMS api-version.
pub const API_VERSION: &str = "2021-03-07";

/// Options of a send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSendOptions {
    /// Ask for `SMSDeliveryReportReceived` events.
    pub enable_delivery_report: bool,
    /// A tag echoed in delivery reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// The outcome for one recipient (failures stay here, in a 202 answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSendResult {
    /// The recipient.
    pub to: String,
    /// The message id, when accepted.
    #[serde(default)]
    pub message_id: Option<String>,
    /// 202 accepted, 400 refused, …
    pub http_status_code: u16,
    /// Whether this recipient's message was accepted.
    pub successful: bool,
    /// `accepted` or `rejected` for a repeated request.
    #[serde(default)]
    pub repeatability_result: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub error_message: Option<String>,
}

#[derive(Deserialize)]
struct SendResponse {
    value: Vec<SmsSendResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recipient<'a> {
    to: &'a str,
    repeatability_request_id: String,
    repeatability_first_sent: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendRequest<'a> {
    from: &'a str,
    sms_recipients: Vec<Recipient<'a>>,
    message: &'a str,
    sms_send_options: &'a SmsSendOptions,
}

/// Sends SMS.
#[derive(Clone)]
pub struct SmsClient {
    pipeline: Pipeline,
}

access_key_constructors!(SmsClient);

impl SmsClient {
    fn from_pipeline(pipeline: Pipeline) -> Self {
        Self { pipeline }
    }

    /// Sends `message` from `from` (one of the resource's numbers) to each of `to` (E.164);
    /// one result per recipient, in order. Each recipient carries a repeatability id, so a
    /// retried request does not send twice.
    pub async fn send(
        &self,
        from: &str,
        to: &[&str],
        message: &str,
        options: &SmsSendOptions,
    ) -> Result<Vec<SmsSendResult>, RestError> {
        let first_sent = httpdate::fmt_http_date(SystemTime::now());
        let request = SendRequest {
            from,
            sms_recipients: to
                .iter()
                .map(|to| Recipient {
                    to,
                    repeatability_request_id: uuid::Uuid::new_v4().to_string(),
                    repeatability_first_sent: first_sent.clone(),
                })
                .collect(),
            message,
            sms_send_options: options,
        };
        let mut call = Call::new(
            "sms: send",
            Method::POST,
            path_query("/sms", API_VERSION, &[]),
        )
        .json(&request)?;
        // The repeatability ids are in the body, the same on every attempt.
        call.repeatable = true;
        let answer: SendResponse = self.pipeline.send_json(&call).await?;
        Ok(answer.value)
    }
}
