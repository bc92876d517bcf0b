//! A call's audio side — what runs on the real-time audio thread — allocates nothing per
//! 10 ms tick once running: capture pushed, received packets drained into the jitter
//! buffer, playout decoded, statistics handed over, the network side's capture clock
//! stamped.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use std::time::{Duration, Instant};

use counting_alloc::{CountingAllocator, allocations};
use media_core::call::{AudioCallConfig, SrtpKeys, audio_call};
use media_core::srtp::SrtpProfile;

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn audio_side_ticks_allocate_nothing() {
    let keys = SrtpKeys {
        profile: SrtpProfile::AeadAes128Gcm,
        send_key: (1..=16).collect(),
        send_salt: (100..112).collect(),
        receive_key: (17..=32).collect(),
        receive_salt: (200..212).collect(),
    };
    let t0 = Instant::now();
    let unix = Duration::from_secs(1_800_000_000);
    let (mut audio_a, mut net_a) =
        audio_call(AudioCallConfig::new(1, "a", keys.clone()), t0, unix).expect("call a");
    let (mut audio_b, mut net_b) =
        audio_call(AudioCallConfig::new(2, "b", keys.mirrored()), t0, unix).expect("call b");
    // A tone with a slow level change, so the encoder never goes quiet (DTX).
    let tone: Vec<i16> = (0..48_000)
        .map(|n| {
            let t = f64::from(n) / 48_000.0;
            let level = 6_000.0 + 4_000.0 * (std::f64::consts::TAU * 0.5 * t).sin();
            (level * (std::f64::consts::TAU * 220.0 * t).sin()) as i16
        })
        .collect();
    let mut playout = [0i16; 480];
    let mut datagram = [0u8; 1500];
    let mut audio_allocations = 0;
    let mut counted_ticks = 0;
    let mut packets = 0;
    for tick in 0..1_000u32 {
        let now = t0 + Duration::from_millis(10 * u64::from(tick));
        let at = (tick as usize * 480) % (tone.len() - 480);
        // Only the audio sides are counted; the network sides (encoder, SRTP, RTCP) run
        // on another thread in a call.
        let before = allocations();
        audio_a
            .process(now, &tone[at..at + 480], &mut playout)
            .expect("tick a");
        audio_b
            .process(now, &tone[at..at + 480], &mut playout)
            .expect("tick b");
        if tick >= 100 {
            // One second in: buffers, decoder and statistics are warmed up.
            audio_allocations += allocations() - before;
            counted_ticks += 1;
        }
        while let Some(len) = net_a.poll_transmit(now, &mut datagram).expect("a sends") {
            net_b
                .receive(now + Duration::from_millis(5), &mut datagram[..len])
                .expect("b receives");
            packets += 1;
        }
        while let Some(len) = net_b.poll_transmit(now, &mut datagram).expect("b sends") {
            net_a
                .receive(now + Duration::from_millis(5), &mut datagram[..len])
                .expect("a receives");
        }
    }
    let heard = audio_b.jitter_stats();
    assert!(packets > 450, "{packets} packets from a to b");
    assert!(
        heard.packets_received > 450 && heard.concealment_events <= 1,
        "b's jitter buffer saw the stream: {heard:?}"
    );
    assert_eq!(
        audio_allocations, 0,
        "{audio_allocations} allocations in {counted_ticks} audio ticks"
    );
}
