//! Property tests: parse(serialize(x)) == x for RTP, and parsing arbitrary bytes never
//! panics.

use media_core::rtp::{ExtensionForm, HeaderExtension, RtpHeader, RtpPacket, write_packet};
use proptest::prelude::*;

/// An owned description of a packet, from which a borrowed `RtpHeader` is made.
#[derive(Debug, Clone)]
struct Owned {
    marker: bool,
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    ssrc: u32,
    csrcs: Vec<u32>,
    form: ExtensionForm,
    extensions: Vec<(u8, Vec<u8>)>,
    payload: Vec<u8>,
    padding: u8,
}

fn owned() -> impl Strategy<Value = Owned> {
    let form = prop_oneof![Just(ExtensionForm::OneByte), Just(ExtensionForm::TwoByte)];
    (
        (
            any::<bool>(),
            0u8..128,
            any::<u16>(),
            any::<u32>(),
            any::<u32>(),
        ),
        prop::collection::vec(any::<u32>(), 0..=15),
        form,
        prop::collection::vec(any::<u8>(), 0..300),
        any::<u8>(),
    )
        .prop_flat_map(|(fixed, csrcs, form, payload, padding)| {
            let element = match form {
                ExtensionForm::OneByte => {
                    (1u8..=14, prop::collection::vec(any::<u8>(), 1..=16)).boxed()
                }
                ExtensionForm::TwoByte => {
                    (1u8..=255, prop::collection::vec(any::<u8>(), 0..=40)).boxed()
                }
            };
            prop::collection::vec(element, 0..6).prop_map(move |extensions| Owned {
                marker: fixed.0,
                payload_type: fixed.1,
                sequence_number: fixed.2,
                timestamp: fixed.3,
                ssrc: fixed.4,
                csrcs: csrcs.clone(),
                form,
                extensions,
                payload: payload.clone(),
                padding,
            })
        })
}

proptest! {
    #[test]
    fn parse_of_serialize_is_identity(x in owned()) {
        let ext: Vec<HeaderExtension<'_>> = x
            .extensions
            .iter()
            .map(|(id, data)| HeaderExtension { id: *id, data })
            .collect();
        let header = RtpHeader {
            marker: x.marker,
            payload_type: x.payload_type,
            sequence_number: x.sequence_number,
            timestamp: x.timestamp,
            ssrc: x.ssrc,
            csrcs: &x.csrcs,
            extensions: &ext,
            extension_form: Some(x.form),
        };
        let mut buf = vec![0u8; 2048];
        let n = write_packet(&header, &x.payload, x.padding, &mut buf).expect("fits");
        let p = RtpPacket::parse(&buf[..n]).expect("parses");
        prop_assert_eq!(p.marker(), x.marker);
        prop_assert_eq!(p.payload_type(), x.payload_type);
        prop_assert_eq!(p.sequence_number(), x.sequence_number);
        prop_assert_eq!(p.timestamp(), x.timestamp);
        prop_assert_eq!(p.ssrc(), x.ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), x.csrcs.clone());
        prop_assert_eq!(p.extensions().collect::<Vec<_>>(), ext.clone());
        prop_assert_eq!(p.has_extension(), !ext.is_empty());
        prop_assert_eq!(p.payload(), &x.payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(x.padding));
        prop_assert_eq!(p.header_len(), header.len());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            let _ = (p.payload(), p.csrcs().count(), p.extensions().count(), p.extension_data());
            prop_assert!(p.header_len() + p.padding_len() <= bytes.len());
        }
    }
}
