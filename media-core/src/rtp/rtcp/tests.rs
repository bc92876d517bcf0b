//! Byte-exact and malformation tests of the RTCP module.

use super::*;

fn parse_one(buf: &[u8]) -> RtcpPacket<'_> {
    let (p, len) = RtcpPacket::parse(buf).expect("parses");
    assert_eq!(len, buf.len());
    p
}

fn write(p: &RtcpPacket<'_>) -> Vec<u8> {
    let mut out = vec![0u8; p.encoded_len()];
    let n = p.write_to(&mut out).expect("writes");
    assert_eq!(n, out.len());
    out
}

const SR_BYTES: [u8; 52] = [
    0x81, 200, 0x00, 0x0C, // V=2, RC=1, SR, length 12
    0x11, 0x22, 0x33, 0x44, // sender SSRC
    0xE9, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, // NTP
    0x00, 0x00, 0x03, 0xC0, // RTP timestamp 960
    0x00, 0x00, 0x00, 0x32, // 50 packets
    0x00, 0x00, 0x1F, 0x40, // 8000 octets
    0x55, 0x66, 0x77, 0x88, // report block: SSRC
    0x10, 0xFF, 0xFF, 0xFE, // fraction 16/256, cumulative lost -2
    0x00, 0x01, 0x00, 0x05, // extended highest seq
    0x00, 0x00, 0x00, 0x07, // jitter
    0xAB, 0xCD, 0xEF, 0x01, // LSR
    0x00, 0x00, 0x80, 0x00, // DLSR 0.5 s
];

#[test]
fn sender_report_byte_exact() {
    let block = [ReportBlock {
        ssrc: 0x5566_7788,
        fraction_lost: 16,
        cumulative_lost: -2,
        extended_highest_seq: 0x0001_0005,
        jitter: 7,
        last_sr: 0xABCD_EF01,
        delay_since_last_sr: 0x8000,
    }];
    let sr = RtcpPacket::SenderReport(SenderReport {
        ssrc: 0x1122_3344,
        ntp_time: 0xE900_0001_8000_0000,
        rtp_time: 960,
        packet_count: 50,
        octet_count: 8000,
        reports: List::Items(&block),
        extension: &[],
    });
    assert_eq!(write(&sr), SR_BYTES);
    assert_eq!(parse_one(&SR_BYTES), sr);
}

#[test]
fn compound_sr_sdes_nack_round_trips_and_validates() {
    let items = [SdesItem {
        kind: SDES_CNAME,
        text: b"mediacore@host",
    }];
    let chunks = [SdesChunk {
        ssrc: 0x1122_3344,
        items: SdesItems::Items(&items),
    }];
    let pairs = [NackPair {
        pid: 65534,
        blp: 0b101,
    }];
    let packets = [
        parse_one(&SR_BYTES),
        RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Items(&chunks),
        }),
        RtcpPacket::Nack(Nack {
            sender_ssrc: 1,
            media_ssrc: 2,
            pairs: List::Items(&pairs),
        }),
    ];
    let mut buf = [0u8; 256];
    let n = write_compound(&packets, &mut buf).expect("fits");
    let parsed: Vec<_> = parse_compound(&buf[..n])
        .collect::<Result<_, _>>()
        .expect("valid");
    assert_eq!(parsed, packets);
    assert_eq!(validate_compound(&buf[..n], CompoundMode::Compound), Ok(3));
    let RtcpPacket::Sdes(sdes) = parsed[1] else {
        panic!("SDES expected")
    };
    assert_eq!(
        sdes.chunks
            .iter()
            .next()
            .and_then(|c| c.cname().map(<[u8]>::to_vec)),
        Some(b"mediacore@host".to_vec())
    );
    let RtcpPacket::Nack(nack) = parsed[2] else {
        panic!("NACK expected")
    };
    assert_eq!(nack.lost().collect::<Vec<_>>(), [65534, 65535, 1]);
}

#[test]
fn reduced_size_lone_pli() {
    let pli = [0x81, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(
        parse_one(&pli),
        RtcpPacket::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: 2
        })
    );
    assert_eq!(validate_compound(&pli, CompoundMode::ReducedSize), Ok(1));
    assert_eq!(
        validate_compound(&pli, CompoundMode::Compound),
        Err(CompoundError::FirstNotReport(206))
    );
}

#[test]
fn fir_remb_bye_app_round_trip() {
    let fir_entries = [FirEntry { ssrc: 9, seq: 3 }];
    let ssrcs = [7u32, 8];
    let packets = [
        RtcpPacket::Fir(Fir {
            sender_ssrc: 1,
            entries: List::Items(&fir_entries),
        }),
        RtcpPacket::Remb(Remb {
            sender_ssrc: 1,
            bitrate_bps: 0x3_FFFF << 3,
            ssrcs: List::Items(&ssrcs),
        }),
        RtcpPacket::Bye(Bye {
            ssrcs: List::Items(&ssrcs),
            reason: Some(b"call ended"),
        }),
        RtcpPacket::Bye(Bye {
            ssrcs: List::Items(&ssrcs),
            reason: None,
        }),
        RtcpPacket::App(App {
            subtype: 5,
            ssrc: 1,
            name: *b"MCOR",
            data: &[1, 2, 3, 4],
        }),
        RtcpPacket::Unknown(Unknown {
            pt: 207,
            count: 3,
            body: &[9, 9, 9, 9],
        }),
    ];
    for p in &packets {
        let bytes = write(p);
        assert_eq!(&parse_one(&bytes), p);
    }
}

#[test]
fn remb_known_bytes() {
    // 1.5 Mbit/s: mantissa 187500, exponent 3 → 1_500_000.
    let bytes = [
        0x8F,
        206,
        0x00,
        0x05,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        b'R',
        b'E',
        b'M',
        b'B',
        0x01,
        (3 << 2) | 0x02,
        0xDC,
        0x6C,
        0x00,
        0x00,
        0x00,
        0x07,
    ];
    let RtcpPacket::Remb(remb) = parse_one(&bytes) else {
        panic!("REMB expected")
    };
    assert_eq!(remb.bitrate_bps, 187_500 << 3);
    assert_eq!(remb.exponent_mantissa(), (3, 187_500));
    assert_eq!(remb.ssrcs.iter().collect::<Vec<_>>(), [7]);
    assert_eq!(write(&RtcpPacket::Remb(remb)), bytes);
}

#[test]
fn twcc_hand_assembled() {
    // base 100, 20 packets: a run-length chunk of 8 small deltas, then a 2-bit vector of 7
    // (small, large, not received, small, not received ×3), then a 1-bit vector (5 small).
    let mut bytes = vec![
        0x8F, 205, 0x00, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, // header, length patched below
        0x00, 100, 0x00, 20, 0xFF, 0xFF, 0xFE, 0x09, // base, count, ref time -2, fb count 9
        0x20, 0x08, // RLE: symbol 1 × 8
        0xD8, 0x40, // 2-bit: 01 10 00 01 00 00 00
        0xBE, 0x00, // 1-bit: 1 1 1 1 1 then zeros
    ];
    let small = [4u8, 8, 12, 16, 20, 24, 28, 32];
    bytes.extend_from_slice(&small); // 8 small
    bytes.extend_from_slice(&[1]); // small
    bytes.extend_from_slice(&(-4i16).to_be_bytes()); // large (negative)
    bytes.extend_from_slice(&[2]); // small
    bytes.extend_from_slice(&[3, 3, 3, 3, 3]); // 5 small
    while bytes.len() % 4 != 0 {
        bytes.push(0);
    }
    let words = (bytes.len() / 4 - 1) as u16;
    bytes[2..4].copy_from_slice(&words.to_be_bytes());
    let RtcpPacket::TransportFeedback(fb) = parse_one(&bytes) else {
        panic!("TWCC expected")
    };
    assert_eq!((fb.base_seq, fb.reference_time, fb.fb_count), (100, -2, 9));
    let got: Vec<_> = fb.iter_with_seq().collect();
    assert_eq!(got.len(), 20);
    assert_eq!(got[0], (100, Some(4)));
    assert_eq!(got[8], (108, Some(1)));
    assert_eq!(got[9], (109, Some(-4)));
    assert_eq!(got[10], (110, None));
    assert_eq!(got[11], (111, Some(2)));
    assert_eq!(got[12..15], [(112, None), (113, None), (114, None)]);
    assert_eq!(got[19], (119, Some(3)));
    // Written again (MediaCore's own chunk choice), it parses to the same packet.
    let again = write(&RtcpPacket::TransportFeedback(fb));
    assert_eq!(parse_one(&again), RtcpPacket::TransportFeedback(fb));
}

#[test]
fn twcc_long_runs_and_vectors_round_trip() {
    let mut items: Vec<Option<i16>> = vec![Some(1); 9000]; // longer than one run chunk
    items.extend([None, Some(300), Some(-1), None, Some(5), Some(5)]);
    items.extend(std::iter::repeat_n(None, 20));
    items.extend((0..30).map(|i| if i % 3 == 0 { None } else { Some(i) }));
    let fb = TransportFeedback {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_seq: 65000,
        reference_time: 1234,
        fb_count: 255,
        packets: TwccPackets::Items(&items),
    };
    let bytes = write(&RtcpPacket::TransportFeedback(fb));
    assert_eq!(bytes.len() % 4, 0);
    assert_eq!(parse_one(&bytes), RtcpPacket::TransportFeedback(fb));
}

#[test]
fn malformations_get_typed_errors() {
    let err = |b: &[u8]| RtcpPacket::parse(b).err();
    assert_eq!(
        err(&[0x80, 200]),
        Some(RtcpError::Truncated { needed: 4, len: 2 })
    );
    assert_eq!(err(&[0x40, 200, 0, 0]), Some(RtcpError::BadVersion(1)));
    assert_eq!(
        err(&[0x80, 200, 0, 6, 0, 0, 0, 0]),
        Some(RtcpError::LengthOverflow {
            claimed: 28,
            available: 8
        })
    );
    assert_eq!(
        err(&[0xA0, 201, 0, 1, 0, 0, 0, 0]),
        Some(RtcpError::BadPadding { count: 0, body: 4 })
    );
    assert_eq!(
        err(&[0xA0, 201, 0, 1, 0, 0, 0, 9]),
        Some(RtcpError::BadPadding { count: 9, body: 4 })
    );
    assert_eq!(
        err(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
        Some(RtcpError::CountOverflow {
            pt: 201,
            count: 1,
            body: 4
        })
    );
    assert_eq!(
        err(&[0x81, 200, 0, 1, 0, 0, 0, 1]),
        Some(RtcpError::Truncated { needed: 28, len: 8 })
    );
    // SDES item claims 9 bytes of text with 2 left.
    assert_eq!(
        err(&[0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, b'a', b'b']),
        Some(RtcpError::SdesOverflow)
    );
    // BYE reason longer than the packet.
    assert_eq!(
        err(&[0x81, 203, 0, 2, 0, 0, 0, 1, 5, b'b', b'y', b'e']),
        Some(RtcpError::ByeReasonOverflow)
    );
    assert_eq!(
        err(&[0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]),
        Some(RtcpError::BadFciLength {
            pt: 205,
            fmt: 1,
            len: 0
        })
    );
    assert_eq!(
        err(&[0x81, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]),
        Some(RtcpError::BadFciLength {
            pt: 206,
            fmt: 1,
            len: 4
        })
    );
    assert_eq!(
        err(&[0x84, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]),
        Some(RtcpError::BadFciLength {
            pt: 206,
            fmt: 4,
            len: 4
        })
    );
    // A REMB whose length field claims 20 bytes, cut at 16.
    assert_eq!(
        err(&[
            0x8F, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, b'R', b'E', b'M', b'B'
        ]),
        Some(RtcpError::LengthOverflow {
            claimed: 20,
            available: 16
        })
    );
    // REMB announcing 2 SSRCs but carrying none.
    assert_eq!(
        err(&[
            0x8F, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, b'R', b'E', b'M', b'B', 2, 0, 0, 0
        ]),
        Some(RtcpError::BadFciLength {
            pt: 206,
            fmt: 15,
            len: 8
        })
    );
    // TWCC: 20 statuses announced, one RLE chunk covering 8.
    assert_eq!(
        err(&[
            0x8F, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 20, 0, 0, 0, 0, 0x20, 0x08, 0, 0
        ]),
        Some(RtcpError::TwccStatusOverflow {
            count: 20,
            covered: 8
        })
    );
    // TWCC: 8 small deltas announced, 2 bytes present.
    assert_eq!(
        err(&[
            0x8F, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 8, 0, 0, 0, 0, 0x20, 0x08, 1, 1
        ]),
        Some(RtcpError::TwccDeltasMissing {
            needed: 8,
            available: 2
        })
    );
    // TWCC: reserved symbol 3 in a run.
    assert_eq!(
        err(&[
            0x8F, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0
        ]),
        Some(RtcpError::TwccReservedSymbol)
    );
    // A compound with a bad second packet yields the first, then the error, then ends.
    let mut two = SR_BYTES.to_vec();
    two.extend_from_slice(&[0x40, 200, 0, 0]);
    let got: Vec<_> = parse_compound(&two).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1], Err(RtcpError::BadVersion(1)));
}

#[test]
fn padding_only_on_the_last_packet_of_a_compound() {
    let pli = RtcpPacket::Pli(Pli {
        sender_ssrc: 1,
        media_ssrc: 2,
    });
    let mut buf = SR_BYTES.to_vec();
    buf.extend_from_slice(&write(&pli));
    buf[0] |= 0x20; // the SR claims padding: its last byte (0x00) is an invalid count
    assert!(matches!(
        validate_compound(&buf, CompoundMode::Compound),
        Err(CompoundError::Packet(RtcpError::BadPadding { .. }))
    ));
    // A properly padded first packet is still refused in a compound.
    let mut padded = vec![0xA0, 201, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4];
    padded.extend_from_slice(&write(&pli));
    assert_eq!(
        validate_compound(&padded, CompoundMode::Compound),
        Err(CompoundError::PaddingNotLast(0))
    );
    assert_eq!(
        validate_compound(&[], CompoundMode::ReducedSize),
        Err(CompoundError::Empty)
    );
}

#[test]
fn writers_refuse_bad_arguments() {
    let mut small = [0u8; 8];
    let sr = SenderReport::default();
    assert_eq!(
        sr.write_to(&mut small),
        Err(RtcpError::BufferTooSmall { needed: 28, len: 8 })
    );
    let long = [0u8; 256];
    let items = [SdesItem {
        kind: 1,
        text: &long,
    }];
    let chunks = [SdesChunk {
        ssrc: 1,
        items: SdesItems::Items(&items),
    }];
    let sdes = Sdes {
        chunks: SdesChunks::Items(&chunks),
    };
    assert_eq!(
        sdes.write_to(&mut [0u8; 512]),
        Err(RtcpError::FieldOutOfRange("SDES item length"))
    );
    let blocks = [ReportBlock::default(); 32];
    let rr = ReceiverReport {
        ssrc: 1,
        reports: List::Items(&blocks),
        extension: &[],
    };
    assert_eq!(
        rr.write_to(&mut [0u8; 1024]),
        Err(RtcpError::FieldOutOfRange("count"))
    );
    let app = App {
        data: &[1, 2, 3],
        ..App::default()
    };
    assert_eq!(
        app.write_to(&mut [0u8; 64]),
        Err(RtcpError::FieldOutOfRange("APP data length"))
    );
}
