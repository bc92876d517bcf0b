//! The HTTP side of delivery: the client (rustls trusting the system roots and an optional CA
//! file, no redirects, a timeout) and one POST of a batch to an endpoint.

use std::path::Path;
use std::time::Duration;

use crate::storage::events::AttemptFailure;

/// The client for handshakes and deliveries.
pub fn client(timeout: Duration, ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        // Event Grid does not follow redirects; a webhook that moved must be re-subscribed.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "mediacore-service/",
            env!("CARGO_PKG_VERSION"),
            " (Event Grid delivery)"
        ));
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).map_err(|e| format!("events.ca_file {}: {e}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("events.ca_file {}: {e}", path.display()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| format!("webhook client: {e}"))
}

/// Whether a webhook's status acknowledges the request (Event Grid: 200–204).
pub fn acknowledged(status: u16) -> bool {
    (200..=204).contains(&status)
}

/// A request failure in a few words, with its cause (the connection error, the timeout).
pub fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// One delivery attempt of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// The endpoint.
    pub url: &'a str,
    /// The subscription's name (Event Grid sends it upper-cased in `aeg-subscription-name`).
    pub subscription: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// Its `Content-Type`.
    pub content_type: &'a str,
    /// Earlier attempts of the batch's first event (`aeg-delivery-count`).
    pub delivery_count: u32,
}

/// POSTs a batch; the status on 200–204, else what failed.
pub async fn post(client: &reqwest::Client, post: Post<'_>) -> Result<u16, AttemptFailure> {
    send(
        client
            .post(post.url)
            .header("aeg-event-type", "Notification")
            .header(
                "aeg-subscription-name",
                post.subscription.to_ascii_uppercase(),
            )
            .header("aeg-delivery-count", post.delivery_count.to_string())
            .header("aeg-metadata-version", "1")
            .header("aeg-data-version", "1.0")
            .header(reqwest::header::CONTENT_TYPE, post.content_type)
            .body(post.body.to_vec()),
    )
    .await
}

/// Sends a request built on the delivery client; the status on 200–204, else what failed.
/// Also used for Call Automation callbacks (`crate::calling::callbacks`).
pub async fn send(request: reqwest::RequestBuilder) -> Result<u16, AttemptFailure> {
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            if acknowledged(status.as_u16()) {
                Ok(status.as_u16())
            } else {
                Err(AttemptFailure {
                    status: Some(status.as_u16()),
                    error: format!("the endpoint answered {status}"),
                })
            }
        }
        Err(e) => Err(AttemptFailure {
            status: None,
            error: describe(&e),
        }),
    }
}
