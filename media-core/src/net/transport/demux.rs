//! Telling apart what arrives on one WebRTC 5-tuple (RFC 7983 §7): STUN, DTLS, TURN channel
//! data and RTP/RTCP share the port and are told apart by their first byte.

/// What a datagram is, by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramKind {
    /// A STUN message (first byte 0–3): ICE checks and their responses.
    Stun,
    /// A DTLS record (20–63).
    Dtls,
    /// TURN ChannelData (64–79).
    TurnChannel,
    /// An RTP packet (128–191, second byte outside the RTCP packet types).
    Rtp,
    /// An RTCP compound (128–191, second byte 192–223: RFC 5761 §4).
    Rtcp,
    /// Anything else (empty, ZRTP, or garbage).
    Unknown,
}

/// Classifies `datagram` by its first byte (and, for RTP/RTCP, its second).
pub fn classify(datagram: &[u8]) -> DatagramKind {
    let Some(&first) = datagram.first() else {
        return DatagramKind::Unknown;
    };
    match first {
        0..=3 => DatagramKind::Stun,
        20..=63 => DatagramKind::Dtls,
        64..=79 => DatagramKind::TurnChannel,
        128..=191 => match datagram.get(1) {
            Some(192..=223) => DatagramKind::Rtcp,
            Some(_) => DatagramKind::Rtp,
            None => DatagramKind::Unknown,
        },
        _ => DatagramKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_byte_ranges_of_rfc_7983() {
        assert_eq!(classify(&[0x00, 0x01]), DatagramKind::Stun);
        assert_eq!(classify(&[0x01, 0x01]), DatagramKind::Stun);
        assert_eq!(classify(&[22, 0xfe, 0xfd]), DatagramKind::Dtls);
        assert_eq!(classify(&[0x40, 0x00]), DatagramKind::TurnChannel);
        assert_eq!(classify(&[0x80, 111]), DatagramKind::Rtp);
        assert_eq!(classify(&[0x80, 0x80 | 111]), DatagramKind::Rtp);
        assert_eq!(classify(&[0x80, 200]), DatagramKind::Rtcp);
        assert_eq!(classify(&[0x81, 201]), DatagramKind::Rtcp);
        assert_eq!(classify(&[]), DatagramKind::Unknown);
        assert_eq!(classify(&[0x80]), DatagramKind::Unknown);
        assert_eq!(classify(&[16]), DatagramKind::Unknown);
        assert_eq!(classify(&[0xff, 0]), DatagramKind::Unknown);
    }
}
