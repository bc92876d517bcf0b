//! The HTTP core every client shares: URL building, authentication per attempt, the retry
//! loop, and turning answers into typed values or [`RestError`]s.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::connection_string::{ConnectionString, Endpoint};
use super::credential::Credential;
use super::error::RestError;
use super::hmac_signer::HmacSigner;
use super::retry::{RetryPolicy, is_retryable_failure, is_retryable_status, retry_after};

/// Options shared by every client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// PEM certificates trusted besides the system's roots: the local service's CA
    /// (`RunningService::ca_path`), or a corporate proxy's.
    pub extra_ca_pem: Vec<Vec<u8>>,
    /// Longest time for one attempt of a request, answer included (not for the real-time
    /// stream, which stays open).
    pub timeout: Duration,
    /// Longest time to connect.
    pub connect_timeout: Duration,
    /// When to retry.
    pub retry: RetryPolicy,
    /// `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            extra_ca_pem: Vec::new(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            user_agent: concat!("mediacore-rest/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// One request as the clients describe it; sent again unchanged on a retry (signed anew).
pub(crate) struct Call<'a> {
    /// The call's name in errors, e.g. `chat: send message`.
    pub what: &'a str,
    pub method: Method,
    /// Path and query, percent-encoded as sent (and signed).
    pub path_and_query: String,
    /// JSON body; empty for none.
    pub body: Vec<u8>,
    /// Extra headers, the same on every attempt (repeatability, operation id).
    pub headers: Vec<(&'static str, String)>,
    /// The request carries repeatability headers, so repeating it cannot act twice.
    pub repeatable: bool,
    /// The answer is a stream that stays open: no per-attempt timeout.
    pub streaming: bool,
}

impl<'a> Call<'a> {
    pub fn new(what: &'a str, method: Method, path_and_query: String) -> Self {
        Self {
            what,
            method,
            path_and_query,
            body: Vec::new(),
            headers: Vec::new(),
            repeatable: false,
            streaming: false,
        }
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self, RestError> {
        self.body = serde_json::to_vec(body).map_err(|e| RestError::Protocol {
            what: self.what.to_owned(),
            detail: format!("encoding the request body: {e}"),
        })?;
        Ok(self)
    }

    /// Adds `repeatability-request-id` and `repeatability-first-sent` (fixed for every
    /// attempt), so the service answers a repeated request with the first answer.
    pub fn repeatable(mut self) -> Self {
        self.headers
            .push(("repeatability-request-id", uuid::Uuid::new_v4().to_string()));
        self.headers.push((
            "repeatability-first-sent",
            httpdate::fmt_http_date(SystemTime::now()),
        ));
        self.repeatable = true;
        self
    }
}

/// A successful answer, read whole.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The body as `T`.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, RestError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            RestError::protocol(
                what,
                format!(
                    "{} body is not the expected JSON: {e}: {}",
                    self.status,
                    String::from_utf8_lossy(&self.body)
                ),
            )
        })
    }
}

/// An endpoint, a credential and an HTTP client.
#[derive(Clone)]
pub(crate) struct Pipeline {
    http: reqwest::Client,
    endpoint: Endpoint,
    credential: Credential,
    retry: RetryPolicy,
    timeout: Duration,
}

impl Pipeline {
    pub fn new(
        endpoint: Endpoint,
        credential: Credential,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            // ACS does not redirect; following one would send credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        for pem in &options.extra_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| RestError::Options(format!("extra CA is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(RestError::Options(
                    "extra CA has no certificate in it".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| RestError::Options(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            endpoint,
            credential,
            retry: options.retry.clone(),
            timeout: options.timeout,
        })
    }

    /// A pipeline for the endpoint and access key of `connection_string`.
    pub fn from_connection_string(
        connection_string: &str,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        let cs: ConnectionString = connection_string.parse()?;
        let signer = HmacSigner::new(&cs.access_key)?;
        Self::new(cs.endpoint, Credential::AccessKey(signer), options)
    }

    /// The retry policy (also the reconnect backoff of the notification streams).
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Sends `call`, retrying as the policy says; a success answer is returned unread.
    pub async fn execute(&self, call: &Call<'_>) -> Result<reqwest::Response, RestError> {
        let url = format!("{}{}", self.endpoint.base_url(), call.path_and_query);
        let mut retries = 0;
        loop {
            let request = self.request(call, &url).await?;
            let wait = match request.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let delay = retry_after(resp.headers(), SystemTime::now());
                    // An unreadable error body still leaves the status to report.
                    let body = resp.bytes().await.unwrap_or_default();
                    let error = RestError::from_answer(call.what, status, &body, delay);
                    if retries >= self.retry.max_retries
                        || !is_retryable_status(&call.method, status.as_u16(), delay.is_some())
                    {
                        return Err(error);
                    }
                    log::debug!("{error}; retrying");
                    delay.unwrap_or_else(|| self.retry.backoff(retries + 1))
                }
                Err(source) => {
                    if retries >= self.retry.max_retries
                        || !is_retryable_failure(&call.method, source.is_connect(), call.repeatable)
                    {
                        return Err(RestError::Transport {
                            what: call.what.to_owned(),
                            source,
                        });
                    }
                    log::debug!("{}: transport: {source}; retrying", call.what);
                    self.retry.backoff(retries + 1)
                }
            };
            retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends `call` and reads the whole answer.
    pub async fn send(&self, call: &Call<'_>) -> Result<Answer, RestError> {
        let resp = self.execute(call).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|source| RestError::Transport {
            what: call.what.to_owned(),
            source,
        })?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends `call` and decodes its JSON answer.
    pub async fn send_json<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T, RestError> {
        self.send(call).await?.json(call.what)
    }

    /// One attempt's request: fresh client request id, fresh signature or token.
    async fn request(
        &self,
        call: &Call<'_>,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, RestError> {
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .header("x-ms-client-request-id", uuid::Uuid::new_v4().to_string())
            .header("x-ms-return-client-request-id", "true");
        if !call.streaming {
            req = req.timeout(self.timeout);
        }
        for (name, value) in &call.headers {
            req = req.header(*name, value);
        }
        if !call.body.is_empty() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        req = match &self.credential {
            Credential::AccessKey(signer) => {
                let signed = signer.sign_now(
                    call.method.as_str(),
                    &call.path_and_query,
                    self.endpoint.host(),
                    &call.body,
                );
                req.header("x-ms-date", signed.date)
                    .header("x-ms-content-sha256", signed.content_sha256)
                    .header("Authorization", signed.authorization)
            }
            Credential::UserToken(token) => {
                let token = token.token().await.map_err(|e| match e {
                    RestError::Credential(m) => {
                        RestError::Credential(format!("{}: {m}", call.what))
                    }
                    other => other,
                })?;
                req.bearer_auth(token)
            }
        };
        Ok(req.body(call.body.clone()))
    }

    /// The path and query of a `nextLink` or `Operation-Location` (absolute or a path), with
    /// `api_version` set. An absolute link to another host is refused: the credential is only
    /// ever sent to the configured endpoint.
    pub fn follow_link(
        &self,
        what: &str,
        link: &str,
        api_version: &str,
    ) -> Result<String, RestError> {
        let rest = match link.split_once("://") {
            Some((_, after_scheme)) => {
                let (host, path) = after_scheme
                    .find('/')
                    .map_or((after_scheme, "/"), |i| after_scheme.split_at(i));
                if !host.eq_ignore_ascii_case(self.endpoint.host()) {
                    return Err(RestError::protocol(
                        what,
                        format!("link {link:?} leaves the endpoint {}", self.endpoint.host()),
                    ));
                }
                path
            }
            None if link.starts_with('/') => link,
            None => {
                return Err(RestError::protocol(
                    what,
                    format!("link {link:?} is not a path"),
                ));
            }
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut pairs: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("api-version="))
            .collect();
        let version = format!("api-version={}", encode(api_version));
        pairs.push(&version);
        Ok(format!("{path}?{}", pairs.join("&")))
    }
}

/// The two constructors of a client that signs with the access key (identity, SMS, email):
/// `from_connection_string` and `new`. The client type provides `from_pipeline`.
macro_rules! access_key_constructors {
    ($client:ident) => {
        impl $client {
            /// A client for the resource and key in `connection_string`.
            pub fn from_connection_string(
                connection_string: &str,
                options: &$crate::rest::ClientOptions,
            ) -> Result<Self, $crate::rest::RestError> {
                let pipeline = $crate::rest::pipeline::Pipeline::from_connection_string(
                    connection_string,
                    options,
                )?;
                Ok(Self::from_pipeline(pipeline))
            }

            /// A client for `endpoint` signing with `signer`.
            pub fn new(
                endpoint: $crate::rest::Endpoint,
                signer: $crate::rest::HmacSigner,
                options: &$crate::rest::ClientOptions,
            ) -> Result<Self, $crate::rest::RestError> {
                let credential = $crate::rest::Credential::AccessKey(signer);
                let pipeline =
                    $crate::rest::pipeline::Pipeline::new(endpoint, credential, options)?;
                Ok(Self::from_pipeline(pipeline))
            }
        }
    };
}
pub(crate) use access_key_constructors;

/// Percent-encodes everything but RFC 3986's unreserved characters, for path segments and
/// query values (thread ids `19:…@thread.v2`, user ids `8:acs:…`, times with `:` and `+`).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?api-version=…&name=value…`, the values percent-encoded; `None` values are left out.
pub(crate) fn path_query(
    path: &str,
    api_version: &str,
    params: &[(&str, Option<String>)],
) -> String {
    let mut out = format!("{path}?api-version={}", encode(api_version));
    for (name, value) in params {
        if let Some(value) = value {
            out.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::hmac_signer::HmacSigner;

    fn pipeline() -> Pipeline {
        Pipeline::new(
            Endpoint::parse("https://127.0.0.1:8443/").expect("endpoint"),
            Credential::AccessKey(HmacSigner::new("AAAA").expect("key")),
            &ClientOptions::default(),
        )
        .expect("pipeline")
    }

    #[test]
    fn encodes_ids_and_queries() {
        assert_eq!(encode("19:ab@thread.v2"), "19%3Aab%40thread.v2");
        assert_eq!(
            path_query(
                "/x",
                "2024-03-07",
                &[("a", Some("1 +".into())), ("b", None)]
            ),
            "/x?api-version=2024-03-07&a=1%20%2B"
        );
    }

    #[test]
    fn links_keep_their_query_and_get_our_api_version() {
        let p = pipeline();
        assert_eq!(
            p.follow_link(
                "t",
                "/chat/threads?maxPageSize=2&continuationToken=abc&api-version=2021-03-07",
                "2024-03-07"
            )
            .expect("path link"),
            "/chat/threads?maxPageSize=2&continuationToken=abc&api-version=2024-03-07"
        );
        assert_eq!(
            p.follow_link(
                "t",
                "https://127.0.0.1:8443/emails/operations/x?api-version=2025-09-01",
                "2025-09-01"
            )
            .expect("absolute link"),
            "/emails/operations/x?api-version=2025-09-01"
        );
        assert!(p.follow_link("t", "https://elsewhere.test/x", "v").is_err());
        assert!(p.follow_link("t", "x", "v").is_err());
    }

    #[test]
    fn extra_ca_must_be_pem() {
        let options = ClientOptions {
            extra_ca_pem: vec![b"not a certificate".to_vec()],
            ..ClientOptions::default()
        };
        let result = Pipeline::new(
            Endpoint::parse("https://h/").expect("endpoint"),
            Credential::AccessKey(HmacSigner::new("AAAA").expect("key")),
            &options,
        );
        assert!(matches!(result, Err(RestError::Options(_))));
    }
}
