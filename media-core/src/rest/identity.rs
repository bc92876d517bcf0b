//! The identity client (acs-wire.md §4, api-version 2023-10-01): users and their access
//! tokens. Needs the access key.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::error::RestError;
use super::pipeline::{Call, Pipeline, access_key_constructors, encode, path_query};

/// The identity api-version.
pub const API_VERSION: &str = "2023-10-01";

/// A user access token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenScope {
    /// `chat`
    #[serde(rename = "chat")]
    Chat,
    /// `chat.join`
    #[serde(rename = "chat.join")]
    ChatJoin,
    /// `chat.join.limited`
    #[serde(rename = "chat.join.limited")]
    ChatJoinLimited,
    /// `voip`
    #[serde(rename = "voip")]
    Voip,
    /// `voip.join`
    #[serde(rename = "voip.join")]
    VoipJoin,
}

/// An issued token: `{"token","expiresOn"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// The JWT.
    pub token: String,
    /// Expiry, ISO-8601 UTC.
    pub expires_on: String,
}

/// `{"id": "8:acs:…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationUser {
    /// The user id.
    pub id: String,
}

/// The answer to create user: the user, and a token when scopes were asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAndToken {
    /// The new user.
    pub identity: CommunicationUser,
    /// Its first token, when `createTokenWithScopes` was given.
    #[serde(default)]
    pub access_token: Option<AccessToken>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateUserRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    create_token_with_scopes: Option<&'a [TokenScope]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueTokenRequest<'a> {
    scopes: &'a [TokenScope],
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in_minutes: Option<u32>,
}

/// `/identities/{user_id}{action}?api-version=…`.
fn user_path(user_id: &str, action: &str) -> String {
    path_query(
        &format!("/identities/{}{action}", encode(user_id)),
        API_VERSION,
        &[],
    )
}

/// Creates users, issues and revokes their tokens, deletes them.
#[derive(Clone)]
pub struct IdentityClient {
    pipeline: Pipeline,
}

access_key_constructors!(IdentityClient);

impl IdentityClient {
    fn from_pipeline(pipeline: Pipeline) -> Self {
        Self { pipeline }
    }

    /// Creates a user; with `scopes`, also its first token (`expires_in_minutes` 60–1440,
    /// default 1440).
    pub async fn create_user(
        &self,
        scopes: Option<&[TokenScope]>,
        expires_in_minutes: Option<u32>,
    ) -> Result<UserAndToken, RestError> {
        let call = Call::new(
            "identity: create user",
            Method::POST,
            path_query("/identities", API_VERSION, &[]),
        )
        .json(&CreateUserRequest {
            create_token_with_scopes: scopes,
            expires_in_minutes,
        })?;
        self.pipeline.send_json(&call).await
    }

    /// Issues a token for `user_id`.
    pub async fn issue_token(
        &self,
        user_id: &str,
        scopes: &[TokenScope],
        expires_in_minutes: Option<u32>,
    ) -> Result<AccessToken, RestError> {
        let call = Call::new(
            "identity: issue token",
            Method::POST,
            user_path(user_id, "/:issueAccessToken"),
        )
        .json(&IssueTokenRequest {
            scopes,
            expires_in_minutes,
        })?;
        self.pipeline.send_json(&call).await
    }

    /// Revokes every token of `user_id` issued so far.
    pub async fn revoke_tokens(&self, user_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "identity: revoke tokens",
            Method::POST,
            user_path(user_id, "/:revokeAccessTokens"),
        );
        self.pipeline.send(&call).await.map(drop)
    }

    /// Deletes `user_id` (its tokens stop working).
    pub async fn delete_user(&self, user_id: &str) -> Result<(), RestError> {
        let call = Call::new(
            "identity: delete user",
            Method::DELETE,
            user_path(user_id, ""),
        );
        self.pipeline.send(&call).await.map(drop)
    }
}
