//! `endpoint=https://<host>[:port]/;accesskey=<base64>` (acs-wire.md §1) and the endpoint it
//! names.

use super::error::RestError;

/// Where a resource is: scheme and `host[:port]`.
///
/// Unlike the Python SDKs, which always prepend `https://`, an `http://` endpoint is kept as
/// given, so tests can reach the local service's plain-HTTP port; an endpoint without a scheme
/// is `https`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: &'static str,
    host: String,
}

impl Endpoint {
    /// Parses `https://host[:port][/]` (or `http://…`, or a bare `host[:port]`).
    pub fn parse(text: &str) -> Result<Self, RestError> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => ("https", rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => ("http", rest),
            Some((s, _)) => {
                return Err(RestError::ConnectionString(format!(
                    "endpoint scheme {s:?} is neither https nor http"
                )));
            }
            None => ("https", text),
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() {
            return Err(RestError::ConnectionString(format!(
                "endpoint {text:?} has no host"
            )));
        }
        if host.contains(['/', '?', '#', '@', ' ']) {
            return Err(RestError::ConnectionString(format!(
                "endpoint {text:?} must be scheme://host[:port]/ with no path, query or user"
            )));
        }
        // The Host header leaves out the scheme's default port, and the signature must cover
        // the same `host` the server sees.
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let host = host.strip_suffix(default_port).unwrap_or(host);
        Ok(Self {
            scheme,
            host: host.to_owned(),
        })
    }

    /// `host[:port]`, the value HMAC signing covers.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        self.scheme
    }

    /// `scheme://host[:port]`, without a trailing `/`.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
}

/// A parsed connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// The resource endpoint.
    pub endpoint: Endpoint,
    /// The access key, base64 as written in the string.
    pub access_key: String,
}

impl std::str::FromStr for ConnectionString {
    type Err = RestError;

    /// Keys are case-insensitive and `;`-separated; values keep any `=` (base64 padding).
    fn from_str(text: &str) -> Result<Self, RestError> {
        let mut endpoint = None;
        let mut access_key = None;
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(RestError::ConnectionString(format!(
                    "{part:?} is not key=value"
                )));
            };
            let slot = match key.trim().to_ascii_lowercase().as_str() {
                "endpoint" => &mut endpoint,
                "accesskey" => &mut access_key,
                // Other keys (none today) are ignored, as the SDKs do.
                _ => continue,
            };
            if slot.replace(value.trim().to_owned()).is_some() {
                return Err(RestError::ConnectionString(format!("{key} given twice")));
            }
        }
        let endpoint = endpoint
            .ok_or_else(|| RestError::ConnectionString("no endpoint=…".into()))
            .and_then(|e| Endpoint::parse(&e))?;
        let access_key = access_key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| RestError::ConnectionString("no accesskey=…".into()))?;
        Ok(Self {
            endpoint,
            access_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitive_keys_and_padding() {
        let cs: ConnectionString = "Endpoint=https://acs.example.test:8443/;AccessKey=AAEC=="
            .parse()
            .expect("valid");
        assert_eq!(cs.endpoint.host(), "acs.example.test:8443");
        assert_eq!(cs.endpoint.base_url(), "https://acs.example.test:8443");
        assert_eq!(cs.access_key, "AAEC==");
        let plain: ConnectionString = "endpoint=http://127.0.0.1:8080;accesskey=k"
            .parse()
            .expect("valid");
        assert_eq!(plain.endpoint.scheme(), "http");
        let default_port = Endpoint::parse("https://acs.example.test:443/").expect("valid");
        assert_eq!(default_port.host(), "acs.example.test");
        let bare = Endpoint::parse("[::1]:8443").expect("valid");
        assert_eq!(bare.base_url(), "https://[::1]:8443");
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let cases = [
            ("", "no endpoint"),
            ("accesskey=k", "no endpoint"),
            ("endpoint=https://h/", "no accesskey"),
            ("endpoint=https://h/;accesskey=", "no accesskey"),
            ("endpoint=https://h/;garbage;accesskey=k", "not key=value"),
            ("endpoint=ftp://h/;accesskey=k", "neither https nor http"),
            ("endpoint=https:///;accesskey=k", "has no host"),
            ("endpoint=https://h/path;accesskey=k", "no path"),
            (
                "endpoint=https://h/;endpoint=https://g/;accesskey=k",
                "twice",
            ),
        ];
        for (text, expected) in cases {
            let err = text.parse::<ConnectionString>().expect_err(text);
            assert!(
                err.to_string().contains(expected),
                "{text:?} → {err} (expected {expected:?})"
            );
        }
    }
}
