//! The relay client (acs-wire.md §5, api-version 2022-03-01-preview): STUN/TURN servers with
//! short-lived credentials, ready for a call's [`IceServer`] list.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::connection_string::Endpoint;
use super::credential::{Credential, UserTokenCredential};
use super::error::RestError;
use super::pipeline::{Call, ClientOptions, Pipeline, path_query};
use crate::call::udp::IceServer;

/// The network traversal api-version.
pub const API_VERSION: &str = "2022-03-01-preview";

/// Which network path the relay takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RouteType {
    /// Any route.
    Any,
    /// The nearest point of presence.
    Nearest,
}

/// One ICE server as the service gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayIceServer {
    /// The route it serves.
    pub route_type: RouteType,
    /// `stun:` and `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN username.
    pub username: String,
    /// TURN credential.
    pub credential: String,
}

/// `{"expiresOn","iceServers"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayConfiguration {
    /// When the credentials stop working, ISO-8601 UTC.
    pub expires_on: String,
    /// The servers.
    pub ice_servers: Vec<RelayIceServer>,
}

impl RelayConfiguration {
    /// The servers as a call takes them (`CallOptions::ice_servers`).
    pub fn to_ice_servers(&self) -> Vec<IceServer> {
        self.ice_servers.iter().map(IceServer::from).collect()
    }
}

impl From<&RelayIceServer> for IceServer {
    fn from(s: &RelayIceServer) -> Self {
        Self {
            urls: s.urls.clone(),
            username: s.username.clone(),
            credential: s.credential.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelayRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route_type: Option<RouteType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u32>,
}

/// Issues relay configurations, with the access key or a user's `voip` token.
#[derive(Clone)]
pub struct RelayClient {
    pipeline: Pipeline,
}

impl RelayClient {
    /// A client for the resource and key in `connection_string`.
    pub fn from_connection_string(
        connection_string: &str,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        Ok(Self {
            pipeline: Pipeline::from_connection_string(connection_string, options)?,
        })
    }

    /// A client for a user with a `voip` token.
    pub fn with_user_token(
        endpoint: Endpoint,
        token: UserTokenCredential,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        Self::new(endpoint, Credential::UserToken(token), options)
    }

    /// A client for `endpoint` with `credential`.
    pub fn new(
        endpoint: Endpoint,
        credential: Credential,
        options: &ClientOptions,
    ) -> Result<Self, RestError> {
        Ok(Self {
            pipeline: Pipeline::new(endpoint, credential, options)?,
        })
    }

    /// Issues a relay configuration, optionally for `user_id`, a route type and a lifetime in
    /// seconds (the service may cut it).
    pub async fn issue_relay_configuration(
        &self,
        user_id: Option<&str>,
        route_type: Option<RouteType>,
        ttl_seconds: Option<u32>,
    ) -> Result<RelayConfiguration, RestError> {
        let call = Call::new(
            "relay: issue relay configuration",
            Method::POST,
            path_query(
                "/networkTraversal/:issueRelayConfiguration",
                API_VERSION,
                &[],
            ),
        )
        .json(&RelayRequest {
            id: user_id,
            route_type,
            ttl: ttl_seconds,
        })?;
        self.pipeline.send_json(&call).await
    }
}
