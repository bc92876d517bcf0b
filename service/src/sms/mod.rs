//! SMS (acs-wire.md §6): sending with per-recipient results and repeatability, a registry of
//! the resource's own numbers (SMS to one of them is delivered locally as an `SMSReceived`
//! event), a pluggable [`gateway::SmsGateway`] for other numbers, and delivery reports as
//! events. The route is `routes::sms`; the state is in the storage's
//! [`SmsStore`](crate::storage::SmsStore).

pub mod dispatch;
pub mod events;
pub mod gateway;
pub mod wire;

/// Most recipients in one request.
pub const MAX_RECIPIENTS: usize = 100;

/// Longest message, in characters (the SDK's model says 2048 too).
pub const MAX_MESSAGE_CHARS: usize = 2048;

/// Whether `number` is E.164: `+`, then 7 to 15 digits, the first not 0.
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A new outgoing message id.
pub fn new_outgoing_id() -> String {
    format!("Outgoing_{}", uuid::Uuid::new_v4().simple())
}

/// A new incoming message id (the receiving side of a local delivery).
pub fn new_incoming_id() -> String {
    format!("Incoming_{}", uuid::Uuid::new_v4().simple())
}

/// GSM 03.38 basic characters (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension characters (two septets each).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// Number of SMS segments `message` takes: GSM-7 (160 alone, 153 per part) when every
/// character has a GSM encoding, UCS-2 otherwise (70 alone, 67 per part, UTF-16 units).
pub fn segment_count(message: &str) -> u32 {
    let septets: Option<usize> = message.chars().try_fold(0usize, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    });
    let (units, single, part) = match septets {
        Some(n) => (n, 160, 153),
        None => (message.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    u32::try_from(segments).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(is_e164("+14255550101"));
        assert!(is_e164("+4930123"));
        for bad in [
            "14255550101",
            "+1425555010a",
            "+123456",
            "+1234567890123456",
            "+0123456789",
            "+",
            "",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn segments() {
        assert_eq!(segment_count(""), 1);
        assert_eq!(segment_count(&"a".repeat(160)), 1);
        assert_eq!(segment_count(&"a".repeat(161)), 2);
        assert_eq!(segment_count(&"a".repeat(306)), 2);
        assert_eq!(segment_count(&"a".repeat(307)), 3);
        assert_eq!(
            segment_count(&"€".repeat(80)),
            1,
            "extension characters take two septets"
        );
        assert_eq!(segment_count(&"€".repeat(81)), 2);
        assert_eq!(segment_count(&"é".repeat(160)), 1, "é is GSM");
        assert_eq!(segment_count(&"ł".repeat(70)), 1, "UCS-2");
        assert_eq!(segment_count(&"ł".repeat(71)), 2);
        assert_eq!(segment_count(&"😀".repeat(35)), 1, "two UTF-16 units each");
        assert_eq!(segment_count(&"😀".repeat(36)), 2);
    }

    #[test]
    fn ids() {
        assert!(new_outgoing_id().starts_with("Outgoing_"));
        assert_ne!(new_incoming_id(), new_incoming_id());
    }
}
