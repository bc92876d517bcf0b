//! `Microsoft.Communication.EmailDeliveryReportReceived` (acs-wire.md §10), one per recipient
//! (to, cc and bcc) when the relay took the message (`Delivered`) or did not (`Failed`).
//! Subject as ACS documents it: `sender/{senderAddress}/message/{operationId}`.

use serde_json::json;

use super::wire::SendRequest;
use crate::clock;
use crate::storage::outbox::OutboxEvent;

/// What the relay did with the message, for the reports.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// `Delivered` or `Failed`.
    pub status: &'a str,
    /// The relay's answer or the failure.
    pub status_message: &'a str,
    /// The relay's host.
    pub relay_host: &'a str,
    /// When the SMTP session started, Unix ms.
    pub attempt_ms: i64,
}

/// One report per recipient of `req`, operation `operation_id`.
pub fn delivery_reports(
    operation_id: &str,
    internet_message_id: &str,
    req: &SendRequest,
    attempt: Attempt<'_>,
    now_ms: i64,
) -> Vec<OutboxEvent> {
    let sender = req.sender_address.clone().unwrap_or_default();
    let recipients = req.recipients.clone().unwrap_or_default();
    recipients
        .to
        .iter()
        .chain(&recipients.cc)
        .chain(&recipients.bcc)
        .map(|r| {
            OutboxEvent::new(
                "Microsoft.Communication.EmailDeliveryReportReceived",
                format!("sender/{sender}/message/{operation_id}"),
                json!({
                    "sender": sender,
                    "recipient": r.address,
                    "internetMessageId": internet_message_id,
                    "messageId": operation_id,
                    "status": attempt.status,
                    "deliveryStatusDetails": {
                        "recipientMailServerHostName": attempt.relay_host,
                        "statusMessage": attempt.status_message,
                    },
                    "deliveryAttemptTimestamp": clock::iso8601(attempt.attempt_ms.div_euclid(1000)),
                }),
                now_ms,
            )
        })
        .collect()
}
