//! `CommunicationIdentifierModel`, the identifier JSON every ACS service uses (acs-wire.md §4).

use serde::{Deserialize, Serialize};

/// An identifier as on the wire: `rawId`, `kind` and the kind's own object.
///
/// Requests may leave `kind` out (the chat SDK does); responses carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommunicationIdentifier {
    /// The raw id: `8:acs:…` for users, `4:+1425…` for phone numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_id: Option<String>,
    /// `communicationUser`, `phoneNumber`, `microsoftTeamsUser`, `microsoftTeamsApp`, `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Set for an ACS user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communication_user: Option<IdModel>,
    /// Set for a phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<PhoneNumberModel>,
}

/// `{"id": …}` of a communication user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdModel {
    /// The user id, `8:acs:<resource>_<uuid>`.
    pub id: String,
}

/// `{"value": …}` of a phone number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberModel {
    /// E.164 number.
    pub value: String,
}

impl CommunicationIdentifier {
    /// An ACS user, `8:acs:…`.
    pub fn user(id: &str) -> Self {
        Self {
            raw_id: Some(id.to_owned()),
            kind: Some("communicationUser".to_owned()),
            communication_user: Some(IdModel { id: id.to_owned() }),
            phone_number: None,
        }
    }

    /// A phone number (E.164).
    pub fn phone_number(number: &str) -> Self {
        Self {
            raw_id: Some(format!("4:{number}")),
            kind: Some("phoneNumber".to_owned()),
            communication_user: None,
            phone_number: Some(PhoneNumberModel {
                value: number.to_owned(),
            }),
        }
    }

    /// The raw id, or the user id when only that was given.
    pub fn id(&self) -> Option<&str> {
        self.raw_id
            .as_deref()
            .or(self.communication_user.as_ref().map(|u| u.id.as_str()))
    }
}
