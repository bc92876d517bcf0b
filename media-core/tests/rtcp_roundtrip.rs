//! Property tests: any SR, RR, SDES, BYE, APP, NACK, PLI, FIR, REMB or TWCC packet, written
//! as part of a compound, parses back to itself; arbitrary bytes never panic the parser.

use media_core::rtp::rtcp::*;
use proptest::prelude::*;

/// An SDES chunk's SSRC and its (type, text) items.
type OwnedChunk = (u32, Vec<(u8, Vec<u8>)>);

/// Owned storage for every list a generated packet borrows.
#[derive(Debug, Clone)]
enum Owned {
    Sr(u32, u64, u32, u32, u32, Vec<ReportBlock>),
    Rr(u32, Vec<ReportBlock>),
    Sdes(Vec<OwnedChunk>),
    Bye(Vec<u32>, Option<Vec<u8>>),
    App(u8, u32, [u8; 4], Vec<u8>),
    Nack(u32, u32, Vec<NackPair>),
    Pli(u32, u32),
    Fir(u32, Vec<FirEntry>),
    /// REMB bitrates are generated representable (18-bit mantissa << exponent): the wire
    /// format cannot carry other values exactly.
    Remb(u32, u32, u8, Vec<u32>),
    Twcc(u32, u32, u16, i32, u8, Vec<Option<i16>>),
}

fn block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -(1i32 << 23)..(1 << 23),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, e, j, l, d)| ReportBlock {
                ssrc,
                fraction_lost,
                cumulative_lost,
                extended_highest_seq: e,
                jitter: j,
                last_sr: l,
                delay_since_last_sr: d,
            },
        )
}

fn owned() -> impl Strategy<Value = Owned> {
    let item = (1u8..=8, prop::collection::vec(any::<u8>(), 0..40));
    let chunk = (any::<u32>(), prop::collection::vec(item, 0..4));
    let delta = prop_oneof![
        Just(None),
        any::<i16>().prop_map(Some),
        (0i16..256).prop_map(Some)
    ];
    prop_oneof![
        (
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(block(), 0..5)
        )
            .prop_map(|(a, b, c, d, e, f)| Owned::Sr(a, b, c, d, e, f)),
        (any::<u32>(), prop::collection::vec(block(), 0..5)).prop_map(|(a, b)| Owned::Rr(a, b)),
        prop::collection::vec(chunk, 0..4).prop_map(Owned::Sdes),
        (
            prop::collection::vec(any::<u32>(), 0..5),
            prop::option::of(prop::collection::vec(any::<u8>(), 1..60))
        )
            .prop_map(|(s, r)| Owned::Bye(s, r)),
        (
            0u8..32,
            any::<u32>(),
            any::<[u8; 4]>(),
            prop::collection::vec(any::<[u8; 4]>(), 0..5)
        )
            .prop_map(|(t, s, n, d)| Owned::App(t, s, n, d.concat())),
        (
            any::<u32>(),
            any::<u32>(),
            prop::collection::vec(
                (any::<u16>(), any::<u16>()).prop_map(|(pid, blp)| NackPair { pid, blp }),
                1..6
            )
        )
            .prop_map(|(a, b, c)| Owned::Nack(a, b, c)),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| Owned::Pli(a, b)),
        (
            any::<u32>(),
            prop::collection::vec(
                (any::<u32>(), any::<u8>()).prop_map(|(ssrc, seq)| FirEntry { ssrc, seq }),
                1..4
            )
        )
            .prop_map(|(a, b)| Owned::Fir(a, b)),
        (
            any::<u32>(),
            0u32..(1 << 18),
            0u8..46,
            prop::collection::vec(any::<u32>(), 0..4)
        )
            .prop_map(|(a, m, e, s)| Owned::Remb(a, m, e, s)),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            -(1i32 << 23)..(1 << 23),
            any::<u8>(),
            prop::collection::vec(delta, 0..200)
        )
            .prop_map(|(a, b, c, d, e, f)| Owned::Twcc(a, b, c, d, e, f)),
    ]
}

/// Borrowed SDES pieces built from `Owned::Sdes`, kept alive for the packet.
struct SdesStore<'a> {
    items: Vec<Vec<SdesItem<'a>>>,
}

fn packet<'a>(o: &'a Owned, sdes: &'a [SdesChunk<'a>]) -> RtcpPacket<'a> {
    match o {
        Owned::Sr(ssrc, ntp, rtp, pc, oc, b) => RtcpPacket::SenderReport(SenderReport {
            ssrc: *ssrc,
            ntp_time: *ntp,
            rtp_time: *rtp,
            packet_count: *pc,
            octet_count: *oc,
            reports: List::Items(b),
            extension: &[],
        }),
        Owned::Rr(ssrc, b) => RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: *ssrc,
            reports: List::Items(b),
            extension: &[],
        }),
        Owned::Sdes(_) => RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Items(sdes),
        }),
        Owned::Bye(s, r) => RtcpPacket::Bye(Bye {
            ssrcs: List::Items(s),
            reason: r.as_deref(),
        }),
        Owned::App(t, s, n, d) => RtcpPacket::App(App {
            subtype: *t,
            ssrc: *s,
            name: *n,
            data: d,
        }),
        Owned::Nack(a, b, p) => RtcpPacket::Nack(Nack {
            sender_ssrc: *a,
            media_ssrc: *b,
            pairs: List::Items(p),
        }),
        Owned::Pli(a, b) => RtcpPacket::Pli(Pli {
            sender_ssrc: *a,
            media_ssrc: *b,
        }),
        Owned::Fir(a, e) => RtcpPacket::Fir(Fir {
            sender_ssrc: *a,
            entries: List::Items(e),
        }),
        Owned::Remb(a, m, e, s) => RtcpPacket::Remb(Remb {
            sender_ssrc: *a,
            bitrate_bps: u64::from(*m) << e,
            ssrcs: List::Items(s),
        }),
        Owned::Twcc(a, b, base, r, c, p) => RtcpPacket::TransportFeedback(TransportFeedback {
            sender_ssrc: *a,
            media_ssrc: *b,
            base_seq: *base,
            reference_time: *r,
            fb_count: *c,
            packets: TwccPackets::Items(p),
        }),
    }
}

proptest! {
    #[test]
    fn compound_round_trips(owned in prop::collection::vec(owned(), 1..6)) {
        // SDES chunks borrow items that borrow the owned text: build them in two steps.
        let stores: Vec<SdesStore<'_>> = owned.iter().map(|o| SdesStore {
            items: match o {
                Owned::Sdes(chunks) => chunks
                    .iter()
                    .map(|(_, items)| items.iter().map(|(k, t)| SdesItem { kind: *k, text: t }).collect())
                    .collect(),
                _ => Vec::new(),
            },
        }).collect();
        let chunk_lists: Vec<Vec<SdesChunk<'_>>> = owned.iter().zip(&stores).map(|(o, s)| match o {
            Owned::Sdes(chunks) => chunks
                .iter()
                .zip(&s.items)
                .map(|((ssrc, _), items)| SdesChunk { ssrc: *ssrc, items: SdesItems::Items(items) })
                .collect(),
            _ => Vec::new(),
        }).collect();
        let packets: Vec<RtcpPacket<'_>> =
            owned.iter().zip(&chunk_lists).map(|(o, c)| packet(o, c)).collect();
        let len: usize = packets.iter().map(RtcpPacket::encoded_len).sum();
        let mut buf = vec![0u8; len];
        let n = write_compound(&packets, &mut buf).expect("writes");
        prop_assert_eq!(n, len);
        let parsed: Vec<_> = parse_compound(&buf).collect::<Result<_, _>>().expect("parses");
        prop_assert_eq!(parsed, packets);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for p in parse_compound(&bytes).flatten() {
            let _ = p.encoded_len();
            let mut out = vec![0u8; p.encoded_len()];
            let _ = p.write_to(&mut out);
        }
    }
}
