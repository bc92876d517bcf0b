//! Service configuration: a TOML file, then `MEDIACORE_SERVICE_*` environment variables on top.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::events::subscription::SubscriptionSpec;

/// Prefix of every environment variable the service reads.
pub const ENV_PREFIX: &str = "MEDIACORE_SERVICE_";

/// Everything the service needs to start. Missing keys take the defaults of [`Config::default`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Folder for the database and the generated TLS files.
    pub data_dir: PathBuf,
    /// Address both ports bind to.
    pub listen_address: IpAddr,
    /// HTTPS port; 0 picks a free one.
    pub https_port: u16,
    /// Optional plain-HTTP port (for clients built directly with an `http://` endpoint).
    pub http_port: Option<u16>,
    /// Host name in the printed endpoint and in the server certificate; defaults to the listen address.
    pub public_host: Option<String>,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Region name written into tokens (`resourceLocation`).
    pub resource_location: String,
    /// Access keys; generated and stored on first start when absent.
    pub keys: KeysConfig,
    /// Relay (STUN/TURN) configuration handed out by `/networkTraversal`.
    pub relay: RelayConfig,
    /// The issuer of service-principal bearer tokens (the local stand-in for Entra ID).
    pub entra: EntraConfig,
    /// SMS: the phone numbers this resource owns.
    pub sms: SmsConfig,
    /// Email: the SMTP relay messages are delivered to.
    pub email: EmailConfig,
    /// Events: Event Grid delivery to webhooks.
    pub events: EventsConfig,
}

/// Event Grid delivery: the resource path in `topic`, the retry timing, and the webhook
/// subscriptions defined in the file (`[[events.subscriptions]]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// The Azure subscription id in the topic path.
    pub azure_subscription_id: String,
    /// The resource group in the topic path.
    pub resource_group: String,
    /// The Communication Services resource name in the topic path.
    pub resource_name: String,
    /// First retry delay, ms; doubles per attempt (with jitter) up to `retry_cap_ms`.
    pub retry_base_ms: u64,
    /// Longest retry delay, ms.
    pub retry_cap_ms: u64,
    /// How often the worker looks for due retries even when nothing woke it, ms.
    pub scan_interval_ms: u64,
    /// Longest wait for a webhook's answer (a handshake or a delivery), seconds.
    pub delivery_timeout_seconds: u64,
    /// A PEM CA trusted for webhook endpoints besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Subscriptions kept in step with this list at every start.
    pub subscriptions: Vec<SubscriptionSpec>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            azure_subscription_id: "00000000-0000-0000-0000-000000000000".to_owned(),
            resource_group: "mediacore-local".to_owned(),
            resource_name: "mediacore".to_owned(),
            retry_base_ms: 10_000,
            retry_cap_ms: 3_600_000,
            scan_interval_ms: 1_000,
            delivery_timeout_seconds: 30,
            ca_file: None,
            subscriptions: Vec::new(),
        }
    }
}

impl EventsConfig {
    /// `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Communication/communicationServices/<name>`:
    /// the `topic` of EventGridEvents and the `source` of CloudEvents.
    pub fn topic(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Communication/communicationServices/{}",
            self.azure_subscription_id, self.resource_group, self.resource_name
        )
    }
}

/// How the service talks to the SMTP relay.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RelayTls {
    /// Plain SMTP: a relay on this machine or a trusted network (Postfix, a test sink).
    #[default]
    None,
    /// STARTTLS required (usually port 587).
    Starttls,
    /// Implicit TLS from the first byte (usually port 465).
    Tls,
}

impl std::str::FromStr for RelayTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::Starttls),
            "tls" => Ok(Self::Tls),
            other => Err(format!("'{other}' is not none, starttls or tls")),
        }
    }
}

/// Email delivery settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// SMTP relay host name or address.
    pub relay_host: String,
    /// SMTP relay port.
    pub relay_port: u16,
    /// Plain, STARTTLS or implicit TLS.
    pub relay_tls: RelayTls,
    /// Login at the relay (with `relay_password`).
    pub relay_username: Option<String>,
    /// Password at the relay.
    pub relay_password: Option<String>,
    /// A PEM CA trusted for the relay's certificate besides the public roots.
    pub relay_ca_file: Option<PathBuf>,
    /// How long one SMTP session may take.
    pub relay_timeout_seconds: u64,
    /// `Retry-After` on the 202 and on unfinished statuses: how long the SDK's poller waits.
    pub retry_after_seconds: u64,
    /// Largest message (bodies and decoded attachments); larger ones get 400, as ACS's 10 MB.
    pub max_message_bytes: usize,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            relay_host: "127.0.0.1".to_owned(),
            relay_port: 25,
            relay_tls: RelayTls::None,
            relay_username: None,
            relay_password: None,
            relay_ca_file: None,
            relay_timeout_seconds: 30,
            retry_after_seconds: 1,
            max_message_bytes: 10 * 1024 * 1024,
        }
    }
}

impl EmailConfig {
    /// Largest `POST /emails:send` body: the message in base64 (4/3) plus room for the JSON.
    pub fn max_request_bytes(&self) -> usize {
        self.max_message_bytes
            .saturating_mul(4)
            .div_ceil(3)
            .saturating_add(256 * 1024)
    }
}

/// SMS settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// E.164 numbers this resource owns: SMS may be sent from them, and SMS sent to them is
    /// delivered locally (an `SMSReceived` event) instead of through the gateway. Added to the
    /// stored registry at start (numbers stay registered when removed from the list).
    pub numbers: Vec<String>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            numbers: vec!["+18005550100".to_owned(), "+18005550101".to_owned()],
        }
    }
}

/// Service-principal tokens: HS256 JWTs with `iss` = `issuer`, signed with `key`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EntraConfig {
    /// The `iss` value tokens must carry.
    pub issuer: Option<String>,
    /// The HMAC key (base64) tokens are signed with.
    pub key: Option<String>,
}

/// The two HMAC access keys, base64 as in a connection string.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Primary access key (base64).
    pub primary: Option<String>,
    /// Secondary access key (base64).
    pub secondary: Option<String>,
}

/// STUN/TURN servers and the TURN REST shared secret.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// ICE server URLs handed out, e.g. `stun:127.0.0.1:3478`, `turn:127.0.0.1:3478?transport=udp`.
    pub urls: Vec<String>,
    /// Secret shared with the TURN server (coturn `--static-auth-secret`); generated and stored
    /// on first start when absent.
    pub shared_secret: Option<String>,
    /// Longest credential lifetime; larger requested TTLs are cut to it, as ACS does.
    pub max_ttl_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("mediacore-service-data"),
            listen_address: IpAddr::from([127, 0, 0, 1]),
            https_port: 8443,
            http_port: None,
            public_host: None,
            max_body_bytes: 1024 * 1024,
            resource_location: "local".to_owned(),
            keys: KeysConfig::default(),
            relay: RelayConfig::default(),
            entra: EntraConfig::default(),
            sms: SmsConfig::default(),
            email: EmailConfig::default(),
            events: EventsConfig::default(),
        }
    }
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            urls: vec![
                "stun:127.0.0.1:3478".to_owned(),
                "turn:127.0.0.1:3478?transport=udp".to_owned(),
                "turn:127.0.0.1:3478?transport=tcp".to_owned(),
            ],
            shared_secret: None,
            max_ttl_seconds: 172_800,
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        source: Box<toml::de::Error>,
    },
    /// An environment variable has a value of the wrong kind.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Reads `path` (when given) and applies the environment on top.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// Parses a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Applies `MEDIACORE_SERVICE_*` variables, read through `get` so tests need not touch the
    /// process environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let var = |key: &str| get(&format!("{ENV_PREFIX}{key}")).filter(|v| !v.is_empty());
        if let Some(v) = var("DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("LISTEN_ADDRESS") {
            self.listen_address = parse_env("LISTEN_ADDRESS", &v)?;
        }
        if let Some(v) = var("HTTPS_PORT") {
            self.https_port = parse_env("HTTPS_PORT", &v)?;
        }
        if let Some(v) = var("HTTP_PORT") {
            self.http_port = Some(parse_env("HTTP_PORT", &v)?);
        }
        if let Some(v) = var("PUBLIC_HOST") {
            self.public_host = Some(v);
        }
        if let Some(v) = var("MAX_BODY_BYTES") {
            self.max_body_bytes = parse_env("MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = var("RESOURCE_LOCATION") {
            self.resource_location = v;
        }
        if let Some(v) = var("PRIMARY_KEY") {
            self.keys.primary = Some(v);
        }
        if let Some(v) = var("SECONDARY_KEY") {
            self.keys.secondary = Some(v);
        }
        if let Some(v) = var("RELAY_URLS") {
            self.relay.urls = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("RELAY_SHARED_SECRET") {
            self.relay.shared_secret = Some(v);
        }
        if let Some(v) = var("ENTRA_ISSUER") {
            self.entra.issuer = Some(v);
        }
        if let Some(v) = var("ENTRA_KEY") {
            self.entra.key = Some(v);
        }
        if let Some(v) = var("SMS_NUMBERS") {
            self.sms.numbers = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = var("EMAIL_RELAY_HOST") {
            self.email.relay_host = v;
        }
        if let Some(v) = var("EMAIL_RELAY_PORT") {
            self.email.relay_port = parse_env("EMAIL_RELAY_PORT", &v)?;
        }
        if let Some(v) = var("EMAIL_RELAY_TLS") {
            self.email.relay_tls = parse_env("EMAIL_RELAY_TLS", &v)?;
        }
        if let Some(v) = var("EMAIL_RELAY_USERNAME") {
            self.email.relay_username = Some(v);
        }
        if let Some(v) = var("EMAIL_RELAY_PASSWORD") {
            self.email.relay_password = Some(v);
        }
        if let Some(v) = var("EMAIL_RELAY_CA_FILE") {
            self.email.relay_ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("EMAIL_RELAY_TIMEOUT_SECONDS") {
            self.email.relay_timeout_seconds = parse_env("EMAIL_RELAY_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = var("EMAIL_RETRY_AFTER_SECONDS") {
            self.email.retry_after_seconds = parse_env("EMAIL_RETRY_AFTER_SECONDS", &v)?;
        }
        if let Some(v) = var("EMAIL_MAX_MESSAGE_BYTES") {
            self.email.max_message_bytes = parse_env("EMAIL_MAX_MESSAGE_BYTES", &v)?;
        }
        if let Some(v) = var("EVENTS_AZURE_SUBSCRIPTION_ID") {
            self.events.azure_subscription_id = v;
        }
        if let Some(v) = var("EVENTS_RESOURCE_GROUP") {
            self.events.resource_group = v;
        }
        if let Some(v) = var("EVENTS_RESOURCE_NAME") {
            self.events.resource_name = v;
        }
        if let Some(v) = var("EVENTS_RETRY_BASE_MS") {
            self.events.retry_base_ms = parse_env("EVENTS_RETRY_BASE_MS", &v)?;
        }
        if let Some(v) = var("EVENTS_RETRY_CAP_MS") {
            self.events.retry_cap_ms = parse_env("EVENTS_RETRY_CAP_MS", &v)?;
        }
        if let Some(v) = var("EVENTS_SCAN_INTERVAL_MS") {
            self.events.scan_interval_ms = parse_env("EVENTS_SCAN_INTERVAL_MS", &v)?;
        }
        if let Some(v) = var("EVENTS_DELIVERY_TIMEOUT_SECONDS") {
            self.events.delivery_timeout_seconds =
                parse_env("EVENTS_DELIVERY_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = var("EVENTS_CA_FILE") {
            self.events.ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = var("RELAY_MAX_TTL_SECONDS") {
            self.relay.max_ttl_seconds = parse_env("RELAY_MAX_TTL_SECONDS", &v)?;
        }
        Ok(())
    }

    /// The host clients are told to use: `public_host`, or the listen address.
    pub fn host(&self) -> String {
        match &self.public_host {
            Some(h) => h.clone(),
            None => match self.listen_address {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            },
        }
    }
}

fn parse_env<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| ConfigError::Env {
        name: format!("{ENV_PREFIX}{key}"),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_then_env_override() {
        let mut c = Config::from_toml(
            "https_port = 9443\n[relay]\nurls = [\"turn:a:1\"]\nshared_secret = \"s\"\n",
        )
        .expect("valid");
        assert_eq!(c.https_port, 9443);
        assert_eq!(c.relay.urls, vec!["turn:a:1".to_owned()]);
        c.apply_env(|k| match k {
            "MEDIACORE_SERVICE_HTTPS_PORT" => Some("0".into()),
            "MEDIACORE_SERVICE_RELAY_URLS" => Some("stun:x:1, turn:x:1".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(c.https_port, 0);
        assert_eq!(
            c.relay.urls,
            vec!["stun:x:1".to_owned(), "turn:x:1".to_owned()]
        );
        assert_eq!(c.relay.shared_secret.as_deref(), Some("s"));
    }

    #[test]
    fn email_relay_from_file_and_env() {
        let mut c = Config::from_toml(
            "[email]\nrelay_host = \"mail.example.test\"\nrelay_tls = \"starttls\"\n",
        )
        .expect("valid");
        assert_eq!(
            (c.email.relay_host.as_str(), c.email.relay_tls),
            ("mail.example.test", RelayTls::Starttls)
        );
        c.apply_env(|k| match k {
            "MEDIACORE_SERVICE_EMAIL_RELAY_PORT" => Some("2525".into()),
            "MEDIACORE_SERVICE_EMAIL_RELAY_TLS" => Some("none".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(
            (c.email.relay_port, c.email.relay_tls),
            (2525, RelayTls::None)
        );
        assert!(
            c.apply_env(|k| (k == "MEDIACORE_SERVICE_EMAIL_RELAY_TLS").then(|| "ssl".into()))
                .is_err()
        );
    }

    #[test]
    fn event_subscriptions_from_file() {
        let c = Config::from_toml(
            "[events]\nretry_base_ms = 50\n[[events.subscriptions]]\nname = \"hook\"\n\
             endpoint_url = \"http://127.0.0.1:9/\"\nschema = \"CloudEventSchemaV1_0\"\n\
             included_event_types = [\"Microsoft.Communication.SMSReceived\"]\n",
        )
        .expect("valid");
        assert_eq!(c.events.retry_base_ms, 50);
        let s = &c.events.subscriptions[0];
        assert_eq!(
            (
                s.name.as_str(),
                s.max_delivery_attempts,
                s.event_time_to_live_minutes
            ),
            ("hook", 30, 1440)
        );
        assert!(
            Config::from_toml("[[events.subscriptions]]\nname = \"x\"\nendpoint = \"y\"\n")
                .is_err(),
            "unknown key in a subscription"
        );
        assert!(
            Config::default()
                .events
                .topic()
                .ends_with("/providers/Microsoft.Communication/communicationServices/mediacore")
        );
    }

    #[test]
    fn unknown_key_and_bad_env_are_errors() {
        assert!(Config::from_toml("htps_port = 1").is_err());
        let mut c = Config::default();
        assert!(
            c.apply_env(|k| (k == "MEDIACORE_SERVICE_HTTPS_PORT").then(|| "x".into()))
                .is_err()
        );
    }
}
