//! Communication user identifiers: `8:acs:<resourceId>_<uuid>`.

/// The raw-id prefix of a communication user made by this service.
const USER_PREFIX: &str = "8:acs:";

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
}
