//! The C ABI's cost on the audio path: one 20 ms frame (two 10 ms ticks: capture pushed,
//! playout pulled) through `mc_call_process_audio` beside the same two ticks through the Rust
//! API (`AudioSide::process`) of an identical call, in the same run.
//!
//! `cargo bench -p mediacore-benches --bench ffi` ends with `ratio ffi/audio_frame/rust: x.xx`
//! (goal ≤ 1.02). The ABI adds a handle lookup (a registry read lock and a hash probe), the
//! argument checks, the panic guard and a `try_lock` of the call's audio side; the work
//! itself (ring push, jitter-buffer pull with concealment) is the same code.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Instant, SystemTime};

use criterion::{Criterion, criterion_group};
use media_core::call::udp::{Call, CallOptions};
use mediacore::call::{
    mc_call, mc_call_free, mc_call_new, mc_call_options, mc_call_options_default,
    mc_call_process_audio,
};
use mediacore::engine::{mc_engine, mc_engine_free, mc_engine_new};
use mediacore::status::MC_OK;
use mediacore_benches::ratio::{self, Comparison};
use mediacore_benches::speech;

const TICK: usize = 480;

fn bench_ffi(c: &mut Criterion) {
    let speech = speech::voiced(0, TICK * 100);
    let ticks: Vec<&[i16]> = speech.chunks(TICK).collect();
    let mut playout = [0i16; TICK];

    // The Rust API: a call on its own runtime (as an application would hold it).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut options = CallOptions::new(0xbe4c, "bench");
    options.bind = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let (call, mut audio) = runtime.block_on(Call::new(options)).expect("call");

    // The C ABI: an engine and a call with the same options.
    let mut engine: *mut mc_engine = std::ptr::null_mut();
    let mut c_call: *mut mc_call = std::ptr::null_mut();
    // SAFETY: out-parameters are live locals; options are filled by the default first.
    unsafe {
        assert_eq!(mc_engine_new(std::ptr::null(), &mut engine), MC_OK);
        let mut o = std::mem::MaybeUninit::<mc_call_options>::uninit();
        assert_eq!(mc_call_options_default(o.as_mut_ptr()), MC_OK);
        let mut o = o.assume_init();
        o.ssrc = 0xbe4d;
        o.bind_address = c"127.0.0.1".as_ptr();
        assert_eq!(mc_call_new(engine, &o, &mut c_call), MC_OK);
    }

    let mut g = c.benchmark_group("ffi/audio_frame");
    let mut i = 0;
    g.bench_function("rust", |b| {
        b.iter(|| {
            for _ in 0..2 {
                i = (i + 1) % ticks.len();
                black_box(
                    audio
                        .process(Instant::now(), black_box(ticks[i]), &mut playout)
                        .is_ok(),
                );
            }
        })
    });
    g.bench_function("ffi", |b| {
        b.iter(|| {
            for _ in 0..2 {
                i = (i + 1) % ticks.len();
                // SAFETY: a live call handle; `ticks[i]` and `playout` hold TICK samples.
                let status = unsafe {
                    mc_call_process_audio(
                        c_call,
                        black_box(ticks[i]).as_ptr(),
                        TICK,
                        playout.as_mut_ptr(),
                        TICK,
                    )
                };
                black_box(status);
            }
        })
    });
    g.finish();

    // SAFETY: live handles, freed once.
    unsafe {
        mc_call_free(c_call);
        mc_engine_free(engine);
    }
    drop(call);
    drop(audio);
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
