//! The SMS events written to the outbox (acs-wire.md §10): `SMSReceived` for a message
//! delivered to one of the resource's numbers, `SMSDeliveryReportReceived` when the sender asked
//! for a report. Subjects are `phonenumber/<digits>` of the resource's number.

use serde_json::json;

use crate::clock;
use crate::storage::outbox::OutboxEvent;
use crate::storage::sms::SmsRecord;

fn iso_ms(ms: i64) -> String {
    clock::iso8601(ms.div_euclid(1000))
}

fn subject(number: &str) -> String {
    format!("phonenumber/{}", number.trim_start_matches('+'))
}

/// `Microsoft.Communication.SMSReceived` at the local number `sms.to`.
pub fn received(sms: &SmsRecord, incoming_id: &str, received_ms: i64) -> OutboxEvent {
    OutboxEvent::new(
        "Microsoft.Communication.SMSReceived",
        subject(&sms.to),
        json!({
            "messageId": incoming_id,
            "from": sms.from,
            "to": sms.to,
            "message": sms.body,
            "receivedTimestamp": iso_ms(received_ms),
            "segmentCount": sms.segments,
        }),
        received_ms,
    )
}

/// `Microsoft.Communication.SMSDeliveryReportReceived` for `sms`, with its final status.
pub fn delivery_report(sms: &SmsRecord, attempt_ms: i64, now_ms: i64) -> OutboxEvent {
    let delivered = sms.status == crate::storage::sms::status::DELIVERED;
    let segments = sms.segments;
    OutboxEvent::new(
        "Microsoft.Communication.SMSDeliveryReportReceived",
        subject(&sms.from),
        json!({
            "messageId": sms.id,
            "from": sms.from,
            "to": sms.to,
            "deliveryStatus": sms.status,
            "deliveryStatusDetails": sms.status_details.clone().unwrap_or_default(),
            "deliveryAttempts": [{
                "timestamp": iso_ms(attempt_ms),
                "segmentsSucceeded": if delivered { segments } else { 0 },
                "segmentsFailed": if delivered { 0 } else { segments },
            }],
            "receivedTimestamp": iso_ms(now_ms),
            "tag": sms.tag.clone().unwrap_or_default(),
        }),
        now_ms,
    )
}
