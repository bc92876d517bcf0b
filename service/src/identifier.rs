//! Communication identifiers: the raw ids this service makes (`8:acs:<resourceId>_<uuid>`) and
//! the `CommunicationIdentifierModel` JSON every ACS API uses for them.

use serde::{Deserialize, Serialize};

/// The raw-id prefix of a communication user made by this service.
const USER_PREFIX: &str = "8:acs:";

/// The raw-id prefix of a phone number.
const PHONE_PREFIX: &str = "4:";

/// A new user id for the resource `resource_id`.
pub fn new_user_id(resource_id: &str) -> String {
    format!("{USER_PREFIX}{resource_id}_{}", uuid::Uuid::new_v4())
}

/// Whether `id` is shaped like a user of `resource_id` (so unknown shapes are 404, never a
/// storage lookup of arbitrary text).
pub fn is_user_of(id: &str, resource_id: &str) -> bool {
    id.strip_prefix(USER_PREFIX)
        .and_then(|rest| rest.strip_prefix(resource_id))
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|uuid| uuid::Uuid::try_parse(uuid).is_ok())
}

/// The token's `skypeid` claim: the raw id without its `8:` kind prefix.
pub fn skype_id(user_id: &str) -> &str {
    user_id.strip_prefix("8:").unwrap_or(user_id)
}

/// `{"id": …}` inside a communication-user identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommunicationUserModel {
    /// The raw id.
    pub id: String,
}

/// `{"value": "+1425…"}` inside a phone-number identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberModel {
    /// The E.164 number.
    pub value: String,
}

/// `CommunicationIdentifierModel` as responses carry it: `rawId`, `kind` and the one property
/// that matches the kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierModel {
    /// The raw id, e.g. `8:acs:…` or `4:+1425…`.
    pub raw_id: String,
    /// `communicationUser`, `phoneNumber` or `unknown`.
    pub kind: &'static str,
    /// Set for communication users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication_user: Option<CommunicationUserModel>,
    /// Set for phone numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<PhoneNumberModel>,
}

impl IdentifierModel {
    /// The model of a raw id: users (`8:acs:`), phone numbers (`4:`), anything else unknown.
    pub fn from_raw(raw_id: &str) -> Self {
        if raw_id.starts_with(USER_PREFIX) {
            Self {
                raw_id: raw_id.to_owned(),
                kind: "communicationUser",
                communication_user: Some(CommunicationUserModel {
                    id: raw_id.to_owned(),
                }),
                phone_number: None,
            }
        } else if let Some(number) = raw_id.strip_prefix(PHONE_PREFIX) {
            Self {
                raw_id: raw_id.to_owned(),
                kind: "phoneNumber",
                communication_user: None,
                phone_number: Some(PhoneNumberModel {
                    value: number.to_owned(),
                }),
            }
        } else {
            Self {
                raw_id: raw_id.to_owned(),
                kind: "unknown",
                communication_user: None,
                phone_number: None,
            }
        }
    }
}

/// `CommunicationIdentifierModel` as requests carry it. The SDKs send `rawId` and the kind's
/// property but no `kind`; every field is optional here and [`IdentifierInput::resolve`] decides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentifierInput {
    /// The kind, when the client names it.
    pub kind: Option<String>,
    /// The raw id.
    pub raw_id: Option<String>,
    /// A communication user.
    pub communication_user: Option<CommunicationUserModel>,
    /// A phone number.
    pub phone_number: Option<PhoneNumberModel>,
    /// A Teams user (never a participant of this service's chats).
    pub microsoft_teams_user: Option<serde_json::Value>,
    /// A Teams app (never a participant of this service's chats).
    pub microsoft_teams_app: Option<serde_json::Value>,
}

/// What an [`IdentifierInput`] names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// A communication user's raw id (`8:acs:…`), not yet checked against this resource.
    CommunicationUser(String),
    /// Some other kind of identity; the raw id when there is one.
    Other(String),
}

impl IdentifierInput {
    /// The identity named, or `None` when the model names nothing at all.
    pub fn resolve(&self) -> Option<Identified> {
        if let Some(user) = &self.communication_user {
            return Some(Identified::CommunicationUser(user.id.clone()));
        }
        if let Some(phone) = &self.phone_number {
            return Some(Identified::Other(
                self.raw_id
                    .clone()
                    .unwrap_or_else(|| format!("{PHONE_PREFIX}{}", phone.value)),
            ));
        }
        let other_kind = self.microsoft_teams_user.is_some()
            || self.microsoft_teams_app.is_some()
            || self
                .kind
                .as_deref()
                .is_some_and(|k| !k.eq_ignore_ascii_case("communicationUser"));
        match &self.raw_id {
            Some(raw) if !other_kind && raw.starts_with(USER_PREFIX) => {
                Some(Identified::CommunicationUser(raw.clone()))
            }
            Some(raw) => Some(Identified::Other(raw.clone())),
            None if other_kind => Some(Identified::Other(String::new())),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let r = "5d1f0b9e-0000-4000-8000-000000000001";
        let id = new_user_id(r);
        assert!(is_user_of(&id, r));
        assert!(!is_user_of(&id, "other"));
        assert!(!is_user_of("8:acs:x", r));
        assert!(skype_id(&id).starts_with("acs:"));
    }

    #[test]
    fn models_both_ways() {
        let m = IdentifierModel::from_raw("8:acs:r_1");
        assert_eq!(
            serde_json::to_value(&m).expect("json"),
            serde_json::json!({"rawId":"8:acs:r_1","kind":"communicationUser","communicationUser":{"id":"8:acs:r_1"}})
        );
        let p = IdentifierModel::from_raw("4:+14255550101");
        assert_eq!(p.phone_number.expect("phone").value, "+14255550101");

        let parse = |s: &str| {
            serde_json::from_str::<IdentifierInput>(s)
                .expect("json")
                .resolve()
        };
        // What the Python SDK sends: rawId and the kind's property, no kind.
        assert_eq!(
            parse(r#"{"rawId":"8:acs:a","communicationUser":{"id":"8:acs:a"}}"#),
            Some(Identified::CommunicationUser("8:acs:a".into()))
        );
        assert_eq!(
            parse(r#"{"rawId":"8:acs:a"}"#),
            Some(Identified::CommunicationUser("8:acs:a".into()))
        );
        assert_eq!(
            parse(r#"{"phoneNumber":{"value":"+1"}}"#),
            Some(Identified::Other("4:+1".into()))
        );
        assert_eq!(
            parse(r#"{"rawId":"8:acs:a","kind":"microsoftTeamsUser"}"#),
            Some(Identified::Other("8:acs:a".into()))
        );
        assert_eq!(parse("{}"), None);
    }
}
