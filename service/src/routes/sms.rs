//! SMS (acs-wire.md §6): `POST /sms`, per-recipient results, repeatability per recipient.

use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::{json, parse_json, require_api_version};
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;
use crate::sms::wire::{SendRequest, SendResponse, SendResult};
use crate::sms::{self, MAX_MESSAGE_CHARS, MAX_RECIPIENTS, events};
use crate::state::SharedState;
use crate::storage::sms::{NewSms, SmsInsert, SmsRecord, status};

/// The version azure-communication-sms 1.1.0 speaks.
const API_VERSIONS: &[&str] = &["2021-03-07"];

/// Longest repeatability id kept.
const MAX_REQUEST_ID: usize = 256;

pub(super) fn routes() -> Router<SharedState> {
    Router::new().route("/sms", post(send))
}

fn failure(
    to: String,
    status: u16,
    message: &str,
    repeatability: Option<&'static str>,
) -> SendResult {
    SendResult {
        to,
        message_id: None,
        http_status_code: status,
        repeatability_result: repeatability,
        successful: false,
        error_message: Some(message.to_owned()),
    }
}

/// Why one recipient cannot be sent to, if it cannot.
fn recipient_problem(recipient: &sms::wire::Recipient) -> Option<&'static str> {
    let to = recipient.to.as_deref().unwrap_or_default();
    if !sms::is_e164(to) {
        return Some("Invalid To phone number format.");
    }
    if let Some(id) = &recipient.repeatability_request_id
        && (id.is_empty() || id.len() > MAX_REQUEST_ID)
    {
        return Some("Invalid repeatabilityRequestId.");
    }
    if let Some(first) = &recipient.repeatability_first_sent
        && httpdate::parse_http_date(first).is_err()
    {
        return Some("Invalid repeatabilityFirstSent: an RFC 1123 date is expected.");
    }
    None
}

async fn send(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require_access_key()?;
    require_api_version(&uri, API_VERSIONS)?;
    let req: SendRequest = parse_json(&body)?;

    // The request as a whole: sender, recipients, message.
    let from = match req.from {
        Some(f) if sms::is_e164(&f) => f,
        _ => {
            return Err(ApiError::bad_request(
                "from must be a phone number in E.164 format (+ and 7 to 15 digits).",
            )
            .with_target("from"));
        }
    };
    let recipients = match req.sms_recipients {
        Some(r) if !r.is_empty() && r.len() <= MAX_RECIPIENTS => r,
        _ => {
            return Err(ApiError::bad_request(format!(
                "smsRecipients must hold 1 to {MAX_RECIPIENTS} recipients."
            ))
            .with_target("smsRecipients"));
        }
    };
    let Some(message) = req.message else {
        return Err(ApiError::bad_request("message is required.").with_target("message"));
    };
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_request(format!(
            "message is longer than {MAX_MESSAGE_CHARS} characters."
        ))
        .with_target("message"));
    }
    let options = req.sms_send_options.unwrap_or_default();
    let report = options.enable_delivery_report.unwrap_or(false);

    let mut numbers = vec![from.clone()];
    numbers.extend(recipients.iter().filter_map(|r| r.to.clone()));
    let local = state.storage.local_numbers(&numbers).await?;
    if !local.contains(&from) {
        return Err(ApiError::bad_request(format!(
            "{from} is not a phone number of this resource."
        ))
        .with_target("from"));
    }

    // Per recipient: refused ones answer at once; the rest are stored in one transaction.
    let now_ms = clock::now_ms();
    let segments = i64::from(sms::segment_count(&message));
    let mut results: Vec<Option<SendResult>> = Vec::with_capacity(recipients.len());
    let mut batch = Vec::new();
    for r in recipients {
        if let Some(problem) = recipient_problem(&r) {
            results.push(Some(failure(r.to.unwrap_or_default(), 400, problem, None)));
            continue;
        }
        let to = r.to.unwrap_or_default();
        let is_local = local.contains(&to);
        let record = SmsRecord {
            id: sms::new_outgoing_id(),
            from: from.clone(),
            to: to.clone(),
            body: message.clone(),
            segments,
            delivery_report: report,
            tag: options.tag.clone(),
            local: is_local,
            status: if is_local {
                status::DELIVERED
            } else {
                status::QUEUED
            }
            .to_owned(),
            status_details: is_local.then(|| "No error.".to_owned()),
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        let mut outbox = Vec::new();
        if is_local {
            outbox.push(events::received(&record, &sms::new_incoming_id(), now_ms));
            if report {
                outbox.push(events::delivery_report(&record, now_ms, now_ms));
            }
        }
        let hash = B64.encode(Sha256::digest(
            [
                from.as_bytes(),
                b"\0",
                to.as_bytes(),
                b"\0",
                message.as_bytes(),
            ]
            .concat(),
        ));
        batch.push(NewSms {
            repeatability: r.repeatability_request_id.map(|id| (id, hash)),
            record,
            events: outbox,
        });
        results.push(None);
    }

    let stored = batch.clone();
    let inserts = state.storage.store_sms(batch).await?;
    let mut queued = false;
    let mut outcomes = stored.into_iter().zip(inserts);
    for slot in results.iter_mut().filter(|s| s.is_none()) {
        let Some((item, insert)) = outcomes.next() else {
            return Err(ApiError::internal());
        };
        let repeatability = item.repeatability.as_ref().map(|_| "accepted");
        *slot = Some(match insert {
            SmsInsert::Stored => {
                queued |= !item.record.local;
                SendResult {
                    to: item.record.to,
                    message_id: Some(item.record.id),
                    http_status_code: 202,
                    repeatability_result: repeatability,
                    successful: true,
                    error_message: None,
                }
            }
            SmsInsert::Replayed(first) => SendResult {
                to: item.record.to,
                message_id: Some(first),
                http_status_code: 202,
                repeatability_result: repeatability,
                successful: true,
                error_message: None,
            },
            SmsInsert::Conflict => failure(
                item.record.to,
                409,
                "The repeatabilityRequestId was already used for a different message.",
                Some("rejected"),
            ),
        });
    }
    if queued {
        state.sms_wake.notify_one();
    }
    Ok(json(
        StatusCode::ACCEPTED,
        &SendResponse {
            value: results.into_iter().flatten().collect(),
        },
    ))
}
