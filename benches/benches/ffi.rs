//! The C ABI's cost on the audio path: one 20 ms frame (two 10 ms ticks: capture pushed,
//! playout pulled) through `mc_call_process_audio` beside the same two ticks through the Rust
//! API (`AudioSide::process`) of an identical call, in the same run. Each side is a call
//! connected over loopback that has heard 0.6 s of speech in real time, so its jitter buffer
//! is playing; the peer then goes quiet and every pull conceals with Opus PLC (decoder work,
//! as in a call — an idle, never-started buffer would make the frame nearly free and the
//! ratio only the ABI's fixed cost).
//!
//! `cargo bench -p mediacore-benches --bench ffi` ends with `ratio ffi/audio_frame/rust: x.xx`
//! (goal ≤ 1.02). The ABI adds a handle lookup (a registry read lock and a hash probe), the
//! argument checks, the panic guard and a `try_lock` of the call's audio side; the work
//! itself (ring push, jitter-buffer pull with concealment) is the same code.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Instant, SystemTime};

use criterion::{Criterion, criterion_group};
use media_core::call::AudioSide;
use media_core::call::session::SessionEvent;
use media_core::call::udp::{Call, CallEvent, CallOptions};
use media_core::net::transport::TransportState;
use mediacore::boundary::mc_string_free;
use mediacore::call::{
    mc_call, mc_call_accept_answer, mc_call_accept_offer, mc_call_add_remote_candidate,
    mc_call_create_offer, mc_call_free, mc_call_new, mc_call_options, mc_call_options_default,
    mc_call_process_audio,
};
use mediacore::engine::{mc_engine, mc_engine_free, mc_engine_new, mc_engine_poll_event};
use mediacore::events::{
    MC_CALL_STATE_CONNECTED, MC_EVENT_CALL_STATE, MC_EVENT_LOCAL_CANDIDATE, mc_event,
};
use mediacore::status::MC_OK;
use mediacore_benches::ratio::{self, Comparison};
use mediacore_benches::speech;

const TICK: usize = 480;

/// Runs both audio sides of a connected pair in real time for `ticks` 10 ms ticks (B hears A's
/// speech), so the receiving jitter buffer is playing when the measurement starts.
fn talk(mut tick: impl FnMut(&[i16]), speech: &[Vec<i16>], ticks: usize) {
    let start = Instant::now();
    for t in 0..ticks {
        let due = start + std::time::Duration::from_millis(10 * t as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        tick(&speech[t % speech.len()]);
    }
}

/// A connected pair of Rust calls and their audio sides.
fn rust_pair(runtime: &tokio::runtime::Runtime) -> ([Call; 2], [AudioSide; 2]) {
    runtime.block_on(async {
        let options = |ssrc| {
            let mut o = CallOptions::new(ssrc, "bench");
            o.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
            o
        };
        let (a, audio_a) = Call::new(options(0xa)).await.expect("call a");
        let (b, audio_b) = Call::new(options(0xb)).await.expect("call b");
        a.wait_gathering_complete().await.expect("a gathered");
        b.wait_gathering_complete().await.expect("b gathered");
        let offer = a.create_offer().await.expect("offer");
        let answer = b.accept_offer(&offer).await.expect("answer");
        a.accept_answer(&answer).await.expect("accept");
        for call in [&a, &b] {
            loop {
                match call.next_event().await {
                    Some(CallEvent::Session(SessionEvent::State(TransportState::Connected))) => {
                        break;
                    }
                    Some(_) => {}
                    None => panic!("a bench call ended before connecting"),
                }
            }
        }
        ([a, b], [audio_a, audio_b])
    })
}

/// A connected pair of calls made through the C ABI on `engine` (polling its events, handing
/// each call's candidates to the other).
fn ffi_pair(engine: *mut mc_engine) -> [*mut mc_call; 2] {
    let mut calls = [std::ptr::null_mut::<mc_call>(); 2];
    // SAFETY: live engine; out-parameters are live locals; strings from MediaCore are freed
    // once; events are read before the next poll.
    unsafe {
        for (i, call) in calls.iter_mut().enumerate() {
            let mut o = std::mem::MaybeUninit::<mc_call_options>::uninit();
            assert_eq!(mc_call_options_default(o.as_mut_ptr()), MC_OK);
            let mut o = o.assume_init();
            o.ssrc = 0xc0 + i as u32;
            o.bind_address = c"127.0.0.1".as_ptr();
            assert_eq!(mc_call_new(engine, &o, call), MC_OK);
        }
        let (mut offer, mut answer) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert_eq!(mc_call_create_offer(calls[0], &mut offer), MC_OK);
        assert_eq!(mc_call_accept_offer(calls[1], offer, &mut answer), MC_OK);
        assert_eq!(mc_call_accept_answer(calls[0], answer), MC_OK);
        mc_string_free(offer);
        mc_string_free(answer);
        let mut connected = 0;
        let mut event = std::mem::MaybeUninit::<mc_event>::uninit();
        while connected < 2 {
            assert_eq!(
                mc_engine_poll_event(engine, event.as_mut_ptr(), 15_000),
                MC_OK
            );
            let e = event.assume_init_ref();
            if e.kind == MC_EVENT_LOCAL_CANDIDATE {
                let peer = if e.call == calls[0] {
                    calls[1]
                } else {
                    calls[0]
                };
                mc_call_add_remote_candidate(peer, e.text);
            } else if e.kind == MC_EVENT_CALL_STATE && e.state == MC_CALL_STATE_CONNECTED {
                connected += 1;
            }
        }
    }
    calls
}

fn bench_ffi(c: &mut Criterion) {
    let speech = speech::voiced(0, TICK * 100);
    let ticks: Vec<Vec<i16>> = speech.chunks(TICK).map(<[i16]>::to_vec).collect();
    let silence = [0i16; TICK];
    let mut playout = [0i16; TICK];
    let mut discard = [0i16; TICK];

    // The Rust API: a connected pair on its own runtime, as an application would hold it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (rust_calls, [mut rust_a, mut rust_b]) = rust_pair(&runtime);
    talk(
        |block| {
            let now = Instant::now();
            let _ = rust_a.process(now, block, &mut discard);
            let _ = rust_b.process(now, &silence, &mut playout);
        },
        &ticks,
        60,
    );

    // The C ABI: the same pair on an engine.
    let mut engine: *mut mc_engine = std::ptr::null_mut();
    // SAFETY: the out-parameter is a live local.
    let status = unsafe { mc_engine_new(std::ptr::null(), &mut engine) };
    assert_eq!(status, MC_OK);
    let [ffi_a, ffi_b] = ffi_pair(engine);
    let tick = |call: *mut mc_call, capture: &[i16], out: &mut [i16]| {
        // SAFETY: a live call handle; both buffers hold TICK samples.
        unsafe { mc_call_process_audio(call, capture.as_ptr(), TICK, out.as_mut_ptr(), TICK) }
    };
    talk(
        |block| {
            tick(ffi_a, block, &mut discard);
            tick(ffi_b, &silence, &mut playout);
        },
        &ticks,
        60,
    );
    assert!(
        playout.iter().any(|&s| s != 0),
        "the ABI pair's receiver plays nothing: not a talking call"
    );

    // A stops talking; B's jitter buffer, playing, conceals each 10 ms with Opus PLC — a
    // decoder's work per tick, as in a call (rather than an idle, never-started buffer).
    let mut g = c.benchmark_group("ffi/audio_frame");
    g.bench_function("rust", |b| {
        b.iter(|| {
            for _ in 0..2 {
                black_box(
                    rust_b
                        .process(Instant::now(), black_box(&silence), &mut playout)
                        .is_ok(),
                );
            }
        })
    });
    g.bench_function("ffi", |b| {
        b.iter(|| {
            for _ in 0..2 {
                black_box(tick(ffi_b, black_box(&silence), &mut playout));
            }
        })
    });
    g.finish();

    // SAFETY: live handles, freed once.
    unsafe {
        mc_call_free(ffi_a);
        mc_call_free(ffi_b);
        mc_engine_free(engine);
    }
    drop(rust_calls);
    runtime.shutdown_background();
}

criterion_group! {
    name = ffi_benches;
    config = mediacore_benches::criterion_config();
    targets = bench_ffi
}

fn main() {
    let started = SystemTime::now();
    ffi_benches();
    Criterion::default().configure_from_args().final_summary();
    let comparisons = [Comparison::new(
        "ffi/audio_frame/ffi",
        "ffi/audio_frame/rust",
        "ffi/audio_frame/rust",
    )];
    ratio::print_report(&ratio::criterion_home(), &comparisons, started);
}
